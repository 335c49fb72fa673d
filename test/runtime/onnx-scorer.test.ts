// File scoring (eval, the status bar) and the predictor must agree: the same perplexity for the same
// text and model, whichever path computes it.

import assert from 'node:assert/strict';
import test from 'node:test';
import { combineFigures, evaluateText } from '../../src/core/evaluation.js';
import { inferenceGraph, parametersFromModel } from '../../src/core/graphs/inference-graph.js';
import { initialParameters, type ModelConfig } from '../../src/core/model-config.js';
import { Predictor } from '../../src/core/predictor.js';
import { mulberry32 } from '../../src/core/random.js';
import { tokenize } from '../../src/core/tokenizer.js';
import { Vocabulary } from '../../src/core/vocabulary.js';
import { OnnxLanguageModel } from '../../src/runtime/onnx-language-model.js';
import { OnnxScorer } from '../../src/runtime/onnx-scorer.js';

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
