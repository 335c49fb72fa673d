// slicedScorer: a chunk scored in pieces gives the scorer's own scores and final state for the whole chunk,
// with `between` awaited between pieces (the model server answers predictions there); a scorer that returns
// the wrong number of scores is caught.

import assert from 'node:assert/strict';
import test from 'node:test';
import { CacheLanguageModel, cachedIdsOf } from '../../../src/core/predict/cache-model.js';
import { LanguageModelScorer } from '../../../src/core/scoring/language-model-scorer.js';
import type { ChunkScorer, SequenceScorer } from '../../../src/core/scoring/evaluation.js';
import { KneserNey } from '../../../src/core/ngram/kneser-ney.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import { slicedScorer } from '../../../src/core/scoring/sliced-scorer.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';

const V = 40;
const rand = mulberry32(5);
const text = Int32Array.from({ length: 3000 }, () => 1 + Math.floor(rand() * rand() * (V - 1)));
const kn = KneserNey.train([text], { vocabSize: V, order: 4, startId: 1 });
const vocab = Vocabulary.fromJSON(Array.from({ length: V }, (_, i) => (i === 0 ? '<unk>' : `w${i}`)));
// The n-gram model alone, and mixed with the document cache (a state that carries a window).
const scorers: [string, ChunkScorer & SequenceScorer][] = [
  ['Kneser-Ney', kn],
  ['Kneser-Ney with the cache', new LanguageModelScorer(new CacheLanguageModel(kn, cachedIdsOf(vocab), { lambda: 0.2, window: 50 }))],
];

for (const [name, scorer] of scorers) {
  test(`${name}: a chunk scored in pieces of 1, 7, 32 or more targets than it has equals the whole chunk, from any state`, async () => {
    const ids = text.subarray(100, 301); // 200 targets
    const from = (await scorer.scoreChunk(text.subarray(0, 101), scorer.initialState())).state;
    for (const state of [scorer.initialState(), from]) {
      const whole = await scorer.scoreChunk(ids, state);
      for (const piece of [1, 7, 32, 200, 500]) {
        let pauses = 0;
        const sliced = slicedScorer(scorer, piece, async () => {
          pauses++;
          await new Promise((r) => setImmediate(r));
        });
        assert.deepEqual(await sliced.scoreChunk(ids, state), whole, `pieces of ${piece}`);
        assert.equal(pauses, Math.ceil(200 / piece) - 1, `pauses between pieces of ${piece}`);
      }
    }
    const sliced = slicedScorer(scorer, 16, async () => {});
    assert.deepEqual(sliced.initialState(), scorer.initialState());
    assert.deepEqual(await sliced.scoreSequence(ids), await scorer.scoreSequence(ids));
  });
}

test('a scorer that returns the wrong number of scores for a piece fails the chunk; a piece must be a positive integer', async () => {
  const short: ChunkScorer & SequenceScorer = {
    initialState: () => kn.initialState(),
    scoreSequence: (ids) => kn.scoreSequence(ids),
    scoreChunk: async (ids, state) => {
      const out = await kn.scoreChunk(ids, state);
      return { ...out, logp: out.logp.subarray(1), rank: out.rank.subarray(1) };
    },
  };
  await assert.rejects(slicedScorer(short, 10, async () => {}).scoreChunk(text.subarray(0, 51), kn.initialState()), /returned 9 scores and 9 ranks for 10 targets/);
  for (const piece of [0, -1, 1.5, NaN]) assert.throws(() => slicedScorer(kn, piece, async () => {}), /positive integer/);
});
