// "Show Model Info": the figures taken from model.json's training record and this session, and the page.

import test from 'node:test';
import assert from 'node:assert/strict';

import type { ModelMeta } from '../../src/core/serving/model-format.js';
import { interimModelInfo, modelInfo, modelInfoMarkdown, type SessionFigures } from '../../src/extension/model-info.js';

const meta: ModelMeta = {
  format: 'nextword-model',
  formatVersion: 1,
  createdAt: '2025-01-02T03:04:05.000Z',
  tokenizer: { mode: 'text' },
  config: { cell: 'lstm', layers: 1, vocab: 3, embed: 4, hidden: 4, tied: true },
  vocabulary: ['<unk>', '\n', ' a'],
  training: {
    corpus: { source: 'workspace: demo', files: 12, trainTokens: 45_678, validTokens: 4_321 },
    options: { preset: 'small' },
    validPpl: 87.234,
    epochs: 6,
    bestEpoch: 5,
    seconds: 125,
    tokensPerS: 9_876.4,
    params: 1_234_567,
  },
  onnx: { file: 'model-0123456789abcdef.onnx', bytes: 3 * 1024 * 1024, sha256: '0'.repeat(64) },
};

const session: SessionFigures = {
  loadMs: 212.4,
  latency: { count: 40, p50: 1.234, p99: 8.5, max: 12 },
  outcomes: { shown: 30, superseded: 7, 'mid-word': 3 },
  firstCompletionMs: 1500,
};

test('the object holds the training record\'s figures', () => {
  const info = modelInfo('the workspace model', '/ws/model', meta, session);
  assert.equal(info.vocabularySize, 3);
  assert.equal(info.parameters, 1_234_567);
  assert.equal(info.architecture, 'LSTM, 1 layer × 4, embedding 4, tied embedding and decoder');
  assert.deepEqual(info.training, {
    corpus: 'workspace: demo',
    files: 12,
    trainTokens: 45_678,
    validTokens: 4_321,
    validPpl: 87.234,
    epochs: 6,
    bestEpoch: 5,
    seconds: 125,
    tokensPerS: 9_876.4,
    preset: 'small',
  });
  assert.equal(info.onnxBytes, 3 * 1024 * 1024);
  assert.deepEqual(JSON.parse(JSON.stringify(info)), info, 'JSON-serialisable');
});

test('the page shows vocabulary, parameters, corpus size, validation perplexity, training time and latency', () => {
  const md = modelInfoMarkdown(modelInfo('the workspace model', '/ws/model', meta, session));
  for (const cell of [
    '| Vocabulary | 3 tokens (text tokenizer) |',
    '| Parameters | 1.2 M (1,234,567) |',
    '| Corpus size | 45,678 training tokens, 4,321 validation tokens |',
    '| Validation perplexity | **87.23** (best epoch 5 of 6) |',
    '| Training time | 2:05 at 9,876 tokens/s, preset small |',
    '| Completion latency | p50 1.2 ms, p99 8.5 ms, max 12.0 ms over the last 40 requests |',
    '| Requests | shown 30, superseded 7, mid\\-word 3 |',
    '| ONNX file | 3.0 MB |',
  ]) {
    assert.ok(md.includes(cell), `page has ${cell}\n${md}`);
  }
});

test('a model without a training record says so; the parameter count is derived from the configuration', () => {
  const { training: _t, ...bare } = meta;
  const info = modelInfo('m', '/m', bare, { ...session, latency: { count: 0, p50: NaN, p99: NaN, max: NaN }, outcomes: {} });
  // LSTM, V 3, E = H 4, tied: embedding 12 + layer (4·4·4 + 4·4·4 + 4·4) + decoder bias 3.
  assert.equal(info.parameters, 12 + (64 + 64 + 16) + 3);
  const md = modelInfoMarkdown(info);
  assert.match(md, /no `training` section/);
  assert.match(md, /\| Completion latency \| no requests yet \|/);
});

test('a model saved with its n-gram companion shows the baseline; a damaged one says why; the interim model shows its n-grams', () => {
  const ngram = { order: 4, ngrams: 1_234_567, validPpl: 95.5, seconds: 1.25 };
  const withCompanion = { ...meta, training: { ...meta.training!, ngram } };
  const info = modelInfo('the workspace model', '/ws/model', withCompanion, session);
  assert.deepEqual(info.ngram, ngram);
  assert.ok(modelInfoMarkdown(info).includes('| N-gram baseline | Kneser-Ney 4-gram of the same training text, 1.2 M n-grams, validation perplexity 95.50 (trained in 1.3 s) |'));
  const damaged = modelInfo('the workspace model', '/ws/model', withCompanion, session, { problem: 'ngram-0123456789abcdef.bin is missing' });
  assert.deepEqual(damaged.ngram, { problem: 'ngram-0123456789abcdef.bin is missing' });
  assert.ok(modelInfoMarkdown(damaged).replace(/\\(.)/g, '$1').includes('| N-gram baseline | not used: ngram-0123456789abcdef.bin is missing |'));
  assert.equal(modelInfo('the workspace model', '/ws/model', meta, session).ngram, undefined, 'no companion, no row');

  const interim = interimModelInfo('the n-gram model of this workspace', ngram, 5000, 'text', '2026-11-27T00:00:00.000Z', session);
  assert.equal(interim.dir, undefined);
  assert.equal(interim.parameters, 1_234_567);
  const md = modelInfoMarkdown(interim);
  for (const cell of ['| Folder | none (in memory while the network trains) |', '| N-grams | 1.2 M (1,234,567) |', '| Validation perplexity | **95.50** (trained in 1.3 s) |']) {
    assert.ok(md.includes(cell), `page has ${cell}\n${md}`);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(interim)), interim, 'JSON-serialisable');
});

/** A fitted mixture of order 4 (2 · 4 · 3 buckets) as model.json holds it. */
const mixture = {
  components: ['network', 'ngram', 'cache'] as ('network' | 'ngram' | 'cache')[],
  order: 4, countEdges: [4, 32], window: 500,
  weights: Array.from({ length: 2 * 4 * 3 }, () => [0.5, 0.4, 0.1]),
  fit: { tokens: 4_321, ppl: { network: 87.234, ngram: 95.5, networkCache: 80.1, ngramCache: 90.2, model: 61.75 } },
};

test('a model served as its mixture says so, with how each part did on validation; its companion missing, it does not', () => {
  const withMixture = { ...meta, mixture, ngram: { file: 'ngram-0123456789abcdef.bin', bytes: 10, sha256: '0'.repeat(64) } };
  const md = modelInfoMarkdown(modelInfo('the workspace model', '/ws/model', withMixture, session));
  assert.match(md, /\| Served \| the network, its n-gram companion and the document cache mixed, with weights fitted on 4,321 validation tokens: validation perplexity \*\*61\.75\*\* \(the network alone 87\.23, with the cache 80\.10; the n-gram model alone 95\.50, with the cache 90\.20\) \|/);
  assert.match(md, /\| Validation perplexity \| the network: \*\*87\.23\*\*/);
  // The companion did not load: the network with the cache is served, and the page says nothing of a mixture.
  const without = modelInfoMarkdown(modelInfo('the workspace model', '/ws/model', withMixture, session, { problem: 'ngram-0123456789abcdef.bin is missing' }));
  assert.doesNotMatch(without, /Served/);
  assert.match(without, /not used: ngram\\-0123456789abcdef\\\.bin is missing/, 'escaped for Markdown');
});

test('a trained model shows the completion threshold chosen for it and its companion counted with the validation files', () => {
  const completion = {
    minConfidence: 0.45, targetAcceptRate: 0.5, chars: 24_000, seconds: 12.5,
    trials: [
      { minConfidence: 0.4, ksr: 0.41, acceptRate: 0.49, shown: 1200, acceptLower: 0.476, files: 12 },
      { minConfidence: 0.45, ksr: 0.4, acceptRate: 0.532, shown: 1100, acceptLower: 0.517, files: 12 },
    ],
  };
  const ngram = { order: 4, ngrams: 1_234_567, validPpl: 95.5, seconds: 1.25, withValidation: true };
  const trained = { ...meta, training: { ...meta.training!, ngram }, mixture, completion, ngram: { file: 'ngram-0123456789abcdef.bin', bytes: 10, sha256: '0'.repeat(64) } };
  const md = modelInfoMarkdown(modelInfo('the workspace model', '/ws/model', trained, session)).replace(/\\(.)/g, '$1');
  assert.ok(
    md.includes('| Completion threshold | **0.45**, chosen on 24,000 characters of the validation files: the default, or the lowest step above it at which at least 50 % of the suggestions are taken (with 84 % confidence) (53.2 % of 1,100 taken in 12 files, keystroke savings 40.0 %); `nextword.completion.minConfidence`, when set, applies instead |'),
    md,
  );
  assert.ok(md.includes('| N-gram baseline | Kneser-Ney 4-gram of the same training text and the validation files, 1.2 M n-grams; validation perplexity 95.50 before it counted them (trained in 1.3 s) |'), md);
  // Its companion missing, the mixture is not served, and neither is its threshold shown.
  assert.doesNotMatch(modelInfoMarkdown(modelInfo('m', '/ws/model', trained, session, { problem: 'gone' })), /Completion threshold/);
});
