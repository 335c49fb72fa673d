// File scoring (eval, the status bar) and the predictor must agree: the same perplexity for the same
// text and model, whichever path computes it.

import assert from 'node:assert/strict';
import test from 'node:test';
import { combineFigures, evaluateText } from '../../../src/core/scoring/evaluation.js';
import { inferenceGraph, parametersFromModel } from '../../../src/core/graphs/inference-graph.js';
import { initialParameters, type ModelConfig } from '../../../src/core/model/model-config.js';
import { Predictor } from '../../../src/core/predict/predictor.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import { tokenize } from '../../../src/core/text/tokenizer.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { OnnxLanguageModel } from '../../../src/runtime/onnx/onnx-language-model.js';
import { OnnxScorer } from '../../../src/runtime/onnx/onnx-scorer.js';

const TEXT = 'the cat sat on the mat.\nthe dog sat on the log, and the cat ran.\n'.repeat(30) + 'a zebra!\n';

test('eval figures equal the predictor’s perplexity and the model’s own ranking', async () => {
  const counts = Vocabulary.countTokens(tokenize(TEXT, 'text'));
  const vocab = Vocabulary.build(counts, { maxSize: 14, minCount: 1 }); // small: some words become <unk>
  const cfg: ModelConfig = { cell: 'lstm', layers: 2, vocab: vocab.size, embed: 8, hidden: 8, tied: true };
  const params = initialParameters(cfg, mulberry32(4), 0.8);
  const onnx = inferenceGraph(cfg, params);
  // The scorer is built from the weights read back out of the exported model.
  assert.deepEqual(parametersFromModel(cfg, onnx), params);
  const scorer = await OnnxScorer.create(cfg, parametersFromModel(cfg, onnx), { chunk: 37 }); // chunks cross the text
  const lm = await OnnxLanguageModel.create(onnx, cfg);
  const predictor = new Predictor(lm, vocab, 'text');

  const figures = await evaluateText(scorer, vocab, 'text', TEXT);
  const score = await predictor.score(TEXT);
  assert.equal(figures.tokens, score.tokens);
  assert.equal(figures.oov, score.oov);
  assert.ok(figures.oov > 0);
  assert.ok(Math.abs(figures.ppl - score.perplexity) / score.perplexity < 1e-5, `${figures.ppl} vs ${score.perplexity}`);

  // rank 0 (a top-1 hit) exactly when the target is the argmax of the predictor's distribution.
  const ids = vocab.encode(tokenize(TEXT, 'text'));
  const tokens = tokenize(TEXT, 'text');
  for (let t = 5; t < 60; t += 7) {
    const prefix = tokens.slice(0, t).join('');
    const full = await predictor.contextState(prefix);
    let best = 0;
    for (let i = 1; i < vocab.size; i++) if (full.logProbs[i]! > full.logProbs[best]!) best = i;
    const seq = new Int32Array(t + 2);
    seq[0] = vocab.id('\n');
    seq.set(ids.subarray(0, t + 1), 1);
    const { rank } = await scorer.scoreSequence(seq);
    assert.equal(rank[t] === 0, best === ids[t], `token ${t}: rank ${rank[t]}, argmax ${best}, target ${ids[t]}`);
  }
  const both = combineFigures([figures, figures]);
  assert.ok(Math.abs(both.ppl - figures.ppl) < 1e-9 && both.tokens === 2 * figures.tokens);
  await scorer.release();
  await lm.release();
});

test('a chunk longer than a run is split into runs that give what one run gives, state included', async () => {
  const cfg: ModelConfig = { cell: 'lstm', layers: 2, vocab: 30, embed: 6, hidden: 5, tied: false };
  const params = initialParameters(cfg, mulberry32(9), 0.8);
  const split = await OnnxScorer.create(cfg, params, { chunk: 7 });
  const whole = await OnnxScorer.create(cfg, params, { chunk: 1000 });
  const rng = mulberry32(2);
  const ids = Int32Array.from({ length: 51 }, () => Math.floor(rng() * cfg.vocab)); // 50 targets: 7 runs, the last short
  const from = split.initialState();
  from.h.fill(0.1);
  from.c!.fill(-0.2);
  const a = await split.scoreChunk(ids, from);
  const b = await whole.scoreChunk(ids, from);
  assert.equal(a.logp.length, 50);
  for (let t = 0; t < 50; t++) assert.ok(Math.abs(a.logp[t]! - b.logp[t]!) < 1e-5, `logp[${t}]: ${a.logp[t]} vs ${b.logp[t]}`);
  assert.deepEqual([...a.rank], [...b.rank]);
  for (let i = 0; i < a.state.h.length; i++) {
    assert.ok(Math.abs(a.state.h[i]! - b.state.h[i]!) < 1e-5 && Math.abs(a.state.c![i]! - b.state.c![i]!) < 1e-5, `state[${i}]`);
  }
  assert.deepEqual([...from.h], new Array(from.h.length).fill(Math.fround(0.1)), 'the given state is not mutated');
  await split.release();
  await whole.release();
});

test('with the document cache, the scoring graph gives the cached language model’s log p and ranks', async () => {
  const { CacheLanguageModel } = await import('../../../src/core/predict/cache-model.js');
  const { LanguageModelScorer } = await import('../../../src/core/scoring/language-model-scorer.js');
  const cfg: ModelConfig = { cell: 'lstm', layers: 1, vocab: 40, embed: 8, hidden: 8, tied: true };
  const params = initialParameters(cfg, mulberry32(21), 1.5);
  const cached = Uint8Array.from({ length: cfg.vocab }, (_, i) => (i % 3 === 0 ? 0 : 1)); // a third never cached
  const options = { lambda: 0.3, window: 6 }; // a window shorter than a run: words leave it
  const reference = new LanguageModelScorer(new CacheLanguageModel(await OnnxLanguageModel.create(inferenceGraph(cfg, params), cfg), [...cached].map(Boolean), options), {
    chunk: 1000,
  });
  const graph = await OnnxScorer.create(cfg, params, { chunk: 9, cache: { options, cached } });
  const rng = mulberry32(5);
  // Few distinct words, often repeated, so that the cache matters and reorders the model's ranking.
  const ids = Int32Array.from({ length: 80 }, () => Math.floor(rng() * 12) * 3 + 1 + Math.floor(rng() * 2));
  const a = await graph.scoreSequence(ids);
  const b = await reference.scoreSequence(ids);
  let moved = 0;
  const plain = await (await OnnxScorer.create(cfg, params)).scoreSequence(ids);
  for (let t = 0; t < ids.length - 1; t++) {
    assert.ok(Math.abs(a.logp[t]! - b.logp[t]!) < 1e-4, `logp[${t}]: ${a.logp[t]} vs ${b.logp[t]}`);
    if (plain.rank[t] !== b.rank[t]) moved++;
  }
  assert.deepEqual([...a.rank], [...b.rank]);
  assert.ok(moved > 10, `the cache changed ${moved} ranks`);
  // From a state in the middle (chunks from a checkpoint), as the status bar scores.
  const head = await graph.scoreChunk(ids.subarray(0, 31), graph.initialState());
  const tail = await graph.scoreChunk(ids.subarray(30), head.state);
  assert.deepEqual([...head.rank, ...tail.rank], [...a.rank]);
  for (let t = 0; t < tail.logp.length; t++) assert.ok(Math.abs(tail.logp[t]! - a.logp[30 + t]!) < 1e-5, `tail logp[${t}]`);
  await graph.release();
});
