// LanguageModelScorer against a bigram model whose probabilities are written out by hand: log p and rank
// of each target come from the table, whatever the chunking.

import test from 'node:test';
import assert from 'node:assert/strict';

import { LanguageModelScorer } from '../../../src/core/scoring/language-model-scorer.js';
import type { LanguageModel, RecurrentState } from '../../../src/core/model/language-model.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { BigramModel } from '../../support/bigram-model.js';

const words = ['<unk>', 'a', 'b', 'c', 'd', 'e'];
const vocab = Vocabulary.fromJSON(words);
// After a: b .5, c .2, d .2 → <unk> and e share .1 (.05 each). After b: a .7 → the 4 others .075 each.
const model = new BigramModel(vocab, { a: { b: 0.5, c: 0.2, d: 0.2 }, b: { a: 0.7 } });
const id = (w: string) => words.indexOf(w);

test('log p of each target and how many tokens score strictly higher', async () => {
  // Inputs a, b, a, then the last target; targets b, a, c, then e.
  const ids = Int32Array.from(['a', 'b', 'a', 'c', 'e'].map(id));
  for (const chunk of [1, 2, 100]) {
    const scorer = new LanguageModelScorer(model, { chunk });
    const { logp, rank, state } = await scorer.scoreChunk(ids, scorer.initialState());
    const expected = [
      [0.5, 0], //   b after a: the best
      [0.7, 0], //   a after b
      [0.2, 1], //   c after a: b is higher; d ties with c, which does not count
      [1 / 6, 0], // e after c: c has no row, every token has 1/6, so nothing is strictly higher
    ];
    assert.equal(logp.length, 4);
    expected.forEach(([p, r], t) => {
      assert.ok(Math.abs(logp[t]! - Math.log(p!)) < 1e-6, `chunk ${chunk}, target ${t}: log p ${logp[t]} ≠ ln ${p}`);
      assert.equal(rank[t], r, `chunk ${chunk}, target ${t}: rank`);
    });
    // The state is the one after the inputs (the bigram model keeps the last input id): "c", not "e".
    assert.deepEqual(Array.from(state.h), [id('c')]);
  }
});

test('a chunk carries on from the state it is given; scoreSequence starts from the initial state', async () => {
  const scorer = new LanguageModelScorer(model);
  const whole = await scorer.scoreSequence(Int32Array.from(['b', 'a', 'b', 'a'].map(id)));
  const first = await scorer.scoreChunk(Int32Array.from(['b', 'a'].map(id)), scorer.initialState());
  const second = await scorer.scoreChunk(Int32Array.from(['a', 'b', 'a'].map(id)), first.state);
  assert.deepEqual([...first.logp, ...second.logp], [...whole.logp]);
  assert.deepEqual([...first.rank, ...second.rank], [...whole.rank]);
  const none = await scorer.scoreChunk(Int32Array.of(id('a')), scorer.initialState());
  assert.equal(none.logp.length, 0);
  await assert.rejects(scorer.scoreChunk(new Int32Array(0), scorer.initialState()), /at least one id/);
  assert.throws(() => new LanguageModelScorer(model, { chunk: 0 }), /positive integer/);
});

test('yieldBetween is awaited between two runs, never before the first or after the last; the scores are unchanged', async () => {
  const ids = Int32Array.from(['a', 'b', 'a', 'c', 'e', 'a', 'b'].map(id)); // 6 targets
  const plain = await new LanguageModelScorer(model, { chunk: 4 }).scoreChunk(ids, model.initialState());
  for (const [chunk, yields] of [[1, 5], [2, 2], [4, 1], [6, 0], [100, 0]] as const) {
    const log: string[] = [];
    const counting: typeof model = Object.create(model);
    counting.run = (inputs, state) => {
      log.push(`run ${inputs.length}`);
      return model.run(inputs, state);
    };
    const scorer = new LanguageModelScorer(counting, { chunk, yieldBetween: async () => void log.push('yield') });
    const got = await scorer.scoreChunk(ids, model.initialState());
    assert.equal(log.filter((l) => l === 'yield').length, yields, `chunk ${chunk}: ${log.join(', ')}`);
    assert.ok(log[0]!.startsWith('run') && log.at(-1)!.startsWith('run'), `chunk ${chunk}: ${log.join(', ')}`);
    assert.deepEqual([...got.logp], [...plain.logp]);
    assert.deepEqual([...got.rank], [...plain.rank]);
  }
});

test('sliceMs sizes the runs by the model\'s pace (a slow model runs a token at a time, a fast one whole chunks); the scores are unchanged', async () => {
  const rand = (() => {
    let x = 7;
    return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  })();
  const ids = Int32Array.from({ length: 200 }, () => 1 + Math.floor(rand() * 5));
  const runs = (delayMs: number) => {
    const sizes: number[] = [];
    const timed: LanguageModel = {
      vocabSize: model.vocabSize,
      initialState: () => model.initialState(),
      run: async (input: Int32Array, state: RecurrentState) => {
        sizes.push(input.length);
        const until = performance.now() + delayMs * input.length;
        while (performance.now() < until); // a model that computes in this thread for delayMs a token
        return model.run(input, state);
      },
    };
    return { sizes, scorer: new LanguageModelScorer(timed, { chunk: 32, sliceMs: 4, yieldBetween: async () => {} }) };
  };
  const slow = runs(2);
  const fast = runs(0);
  const a = await slow.scorer.scoreSequence(ids);
  const b = await fast.scorer.scoreSequence(ids);
  const plain = await new LanguageModelScorer(model, { chunk: 7 }).scoreSequence(ids);
  assert.deepEqual([a.logp, a.rank], [plain.logp, plain.rank]);
  assert.deepEqual([b.logp, b.rank], [plain.logp, plain.rank]);
  assert.ok(Math.max(...slow.sizes.slice(1)) <= 2, `2 ms a token in a 4 ms slice: runs of ${slow.sizes.join(',')}`);
  assert.ok(Math.max(...fast.sizes) === 32, `a fast model reaches whole chunks: ${fast.sizes.join(',')}`);
});
