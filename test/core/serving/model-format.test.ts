import assert from 'node:assert/strict';
import test from 'node:test';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, modelMinConfidence, parseModelMeta, vocabularyOf } from '../../../src/core/serving/model-format.js';

const good = () => ({
  format: MODEL_FORMAT,
  formatVersion: MODEL_FORMAT_VERSION,
  createdAt: '2026-01-01T00:00:00.000Z',
  tokenizer: { mode: 'text' },
  config: { cell: 'lstm', layers: 1, vocab: 3, embed: 4, hidden: 4, tied: true },
  vocabulary: ['<unk>', 'a', ' b'],
});

test('a well-formed model.json is accepted as it is', () => {
  const m = parseModelMeta(good(), 'm');
  assert.deepEqual(m.vocabulary, ['<unk>', 'a', ' b']);
  assert.equal(m.config.hidden, 4);
});

test('another format version fails with a message that says what to do', () => {
  assert.throws(() => parseModelMeta({ ...good(), formatVersion: MODEL_FORMAT_VERSION + 1 }, 'DIR'), /DIR: model format version 2 is not supported .*update Nextword/);
  assert.throws(() => parseModelMeta({ ...good(), formatVersion: 0 }, 'DIR'), /train the model again/);
  assert.throws(() => parseModelMeta({ ...good(), formatVersion: undefined }, 'DIR'), /format version undefined/);
});

test('damaged or foreign metadata is refused with the reason', () => {
  assert.throws(() => parseModelMeta([], 'm'), /not a JSON object/);
  assert.throws(() => parseModelMeta({ ...good(), format: 'other' }, 'm'), /not a Nextword model/);
  assert.throws(() => parseModelMeta({ ...good(), tokenizer: { mode: 'bpe' } }, 'm'), /tokenizer.mode/);
  assert.throws(() => parseModelMeta({ ...good(), config: { ...good().config, layers: 7 } }, 'm'), /layers must be 1, 2 or 3/);
  assert.throws(() => parseModelMeta({ ...good(), config: { ...good().config, embed: 5 } }, 'm'), /tied embeddings need embed = hidden/);
  assert.throws(() => parseModelMeta({ ...good(), vocabulary: ['<unk>', 'a'] }, 'm'), /vocabulary has 2 words but the model expects 3/);
  assert.throws(() => parseModelMeta({ ...good(), vocabulary: ['<unk>', 1, 'b'] }, 'm'), /array of strings/);
});

test('vocabulary counts, when recorded, come back with the vocabulary; malformed ones are refused', () => {
  const v = vocabularyOf(parseModelMeta({ ...good(), vocabularyCounts: [5, 3, 2] }, 'm'));
  assert.deepEqual([v.count(0), v.count(1), v.count(2)], [5, 3, 2]);
  assert.equal(vocabularyOf(parseModelMeta(good(), 'm')).count(1), undefined);
  assert.throws(() => parseModelMeta({ ...good(), vocabularyCounts: [1, 2] }, 'm'), /one count ≥ 0 per vocabulary word/);
});

test('the completion threshold chosen in training is read back and used; a malformed record is refused', () => {
  const completion = { minConfidence: 0.45, targetAcceptRate: 0.5, chars: 100, seconds: 1, trials: [{ minConfidence: 0.45, ksr: 0.3, acceptRate: 0.6, shown: 50, acceptLower: 0.53, files: 5 }] };
  const meta = parseModelMeta({ ...good(), completion }, 'm');
  assert.equal(modelMinConfidence(meta, 0.4), 0.45);
  assert.equal(modelMinConfidence(parseModelMeta(good(), 'm'), 0.4), 0.4, 'none chosen: the fallback');
  assert.throws(() => parseModelMeta({ ...good(), completion: { ...completion, minConfidence: -1 } }, 'm'), /m: completion.minConfidence/);
  assert.throws(() => parseModelMeta({ ...good(), completion: 'high' }, 'm'), /m: completion must be an object/);
});
