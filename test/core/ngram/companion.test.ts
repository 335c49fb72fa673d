// The n-gram companion: trained on a concatenated stream with file sizes, it is the same model as one
// trained on the files one by one, and its validation perplexity is what `nextword eval` (evaluateText)
// reports for the validation files under it. The serving wrapper predicts and scores the cache mixture
// the LSTM is served with.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { LanguageModelScorer } from '../../../src/core/scoring/language-model-scorer.js';
import { CacheLanguageModel, cachedIdsOf } from '../../../src/core/predict/cache-model.js';
import { combineFigures, evaluateText, startTokenId } from '../../../src/core/scoring/evaluation.js';
import { companionOrder, sequencesPerplexity, splitSequences, trainCompanion } from '../../../src/core/ngram/companion.js';
import { KneserNey } from '../../../src/core/ngram/kneser-ney.js';
import { NgramServing } from '../../../src/core/serving/ngram-serving.js';
import { Predictor } from '../../../src/core/predict/predictor.js';
import { tokenize } from '../../../src/core/text/tokenizer.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';

const ALICE = readFileSync(path.join(__dirname, '../../../samples/alice/train.txt'), 'utf8');

/** Alice cut into "files" at chapter-ish boundaries: 8 training texts, 3 validation texts. */
function files(): { train: string[]; valid: string[] } {
  const parts: string[] = [];
  const size = Math.floor(ALICE.length / 11);
  for (let i = 0; i < 11; i++) parts.push(ALICE.slice(i * size, (i + 1) * size));
  return { train: parts.slice(0, 8), valid: parts.slice(8) };
}

function concat(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test('splitSequences: views of the stream by size; sizes that do not add up are refused', () => {
  const stream = Int32Array.from([1, 2, 3, 4, 5]);
  const parts = splitSequences(stream, [2, 0, 3]);
  assert.deepEqual(parts.map((p) => [...p]), [[1, 2], [], [3, 4, 5]]);
  assert.equal(parts[2]!.buffer, stream.buffer, 'views, not copies');
  assert.throws(() => splitSequences(stream, [2, 2]), /add up to 4 tokens, the stream has 5/);
  assert.throws(() => splitSequences(stream, [6, -1]), /integers ≥ 0/);
});

test('trainCompanion: the model of the files one by one; its validation perplexity is evaluateText’s', async () => {
  const { train, valid } = files();
  const trainToks = train.map((t) => tokenize(t, 'text'));
  const validToks = valid.map((t) => tokenize(t, 'text'));
  const vocab = Vocabulary.build(Vocabulary.countTokens(trainToks.flat()), { maxSize: 2000, minCount: 1 });
  const startId = startTokenId(vocab, 'text');
  const trainIds = trainToks.map((t) => vocab.encode(t));
  const validIds = validToks.map((t) => vocab.encode(t));

  const { model, figures } = trainCompanion(concat(trainIds), concat(validIds), {
    vocabSize: vocab.size,
    startId,
    trainSizes: trainIds.map((p) => p.length),
    validSizes: validIds.map((p) => p.length),
  });
  // A small workspace: the longest contexts (companionOrder).
  const direct = KneserNey.train(trainIds, { vocabSize: vocab.size, order: 6, startId });
  assert.deepEqual(model.toBytes(), direct.toBytes(), 'file by file, each read from its start');
  assert.equal(figures.order, 6);
  assert.equal(figures.ngrams, direct.ngramCount);
  assert.ok(figures.seconds >= 0);

  const evaluated = combineFigures(await Promise.all(valid.map((text) => evaluateText(direct, vocab, 'text', text))));
  // evaluateText sums float32 log-probabilities; the companion sums float64.
  assert.ok(Math.abs(figures.validPpl - evaluated.ppl) / evaluated.ppl < 1e-5, `${figures.validPpl} vs ${evaluated.ppl}`);
  // Reading the stream as one file would be a different (and here worse-scoring) model: the sizes matter.
  const oneFile = KneserNey.train([concat(trainIds)], { vocabSize: vocab.size, order: 6, startId });
  assert.notDeepEqual(oneFile.toBytes(), model.toBytes());
  assert.ok(Number.isNaN(sequencesPerplexity(model, [new Int32Array(0)], startId)), 'no tokens: NaN');
});

test('companionOrder: 6-grams up to 1.5 M training tokens, 5-grams up to 4 M, then 4-grams', () => {
  assert.deepEqual([0, 1_500_000, 1_500_001, 4_000_000, 4_000_001, 50_000_000].map(companionOrder), [6, 6, 5, 5, 4, 4]);
});

test('NgramServing: predicts and scores the cache mixture of the n-gram model; refuses a vocabulary of another size', async () => {
  const { train, valid } = files();
  const toks = train.map((t) => tokenize(t, 'text'));
  const vocab = Vocabulary.build(Vocabulary.countTokens(toks.flat()), { maxSize: 1500, minCount: 1 });
  const kn = KneserNey.train(toks.map((t) => vocab.encode(t)), { vocabSize: vocab.size, startId: startTokenId(vocab, 'text') });
  const serving = new NgramServing(kn, vocab, 'text');
  const mixture = new CacheLanguageModel(kn, cachedIdsOf(vocab));

  const text = valid[0]!.slice(0, 3000);
  const served = await evaluateText(serving.scorer, vocab, 'text', text);
  const reference = await evaluateText(new LanguageModelScorer(mixture), vocab, 'text', text);
  assert.equal(served.ppl, reference.ppl);
  const plain = await evaluateText(kn, vocab, 'text', text);
  assert.ok(served.ppl < plain.ppl, `the cache helps on a text that repeats its words (${served.ppl} vs ${plain.ppl})`);

  const predictor = new Predictor(serving.model, vocab, 'text');
  const got = await predictor.continuePhrase('Alice was beginning to get very', { maxWords: 2, minProb: 0, stopAtNewline: true });
  const want = await new Predictor(mixture, vocab, 'text').continuePhrase('Alice was beginning to get very', { maxWords: 2, minProb: 0, stopAtNewline: true });
  assert.deepEqual(got, want);
  assert.ok(got && got.text.length > 0, 'a continuation');

  const off = new NgramServing(kn, vocab, 'text', false);
  assert.equal(off.model, kn);
  assert.equal((await evaluateText(off.scorer, vocab, 'text', text)).ppl, plain.ppl);
  assert.throws(() => new NgramServing(kn, Vocabulary.build(new Map([["a", 1]]), { maxSize: 10, minCount: 1 }), 'text'), /has \d+ ids, the vocabulary 2/);
  await serving.release();
});
