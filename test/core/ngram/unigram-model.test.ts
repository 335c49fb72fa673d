// The unigram baseline: after any token, each word's add-one smoothed frequency, from hand-counted words.

import test from 'node:test';
import assert from 'node:assert/strict';

import { UnigramModel } from '../../../src/core/ngram/unigram-model.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';

test('the same add-one distribution after every token; the state passes through', async () => {
  // Counts: <unk> 1, a 5, b 2 → total 8, V 3: p = (c + 1) / 11.
  const vocab = Vocabulary.fromJSON({ words: ['<unk>', 'a', 'b'], counts: [1, 5, 2] });
  const lm = new UnigramModel(vocab);
  const state = lm.initialState();
  const { logProbs, state: after } = await lm.run(Int32Array.of(1, 2), state);
  assert.equal(logProbs.length, 6);
  const expected = [2 / 11, 6 / 11, 3 / 11];
  for (let t = 0; t < 2; t++) expected.forEach((p, v) => assert.ok(Math.abs(Math.exp(logProbs[t * 3 + v]!) - p) < 1e-6, `row ${t}, id ${v}`));
  assert.equal(after, state);
  assert.throws(() => new UnigramModel(Vocabulary.fromJSON(['<unk>', 'a'])), /counts/);
});
