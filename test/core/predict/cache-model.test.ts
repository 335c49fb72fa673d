// The document cache: the mixture is exactly (1 − λ)·p_model + λ·count/|window| (checked against a direct
// computation from the bigram table), it is a distribution, the window keeps the last W word-like tokens,
// and running ids in one call or several gives the same numbers from never-mutated states.

import assert from 'node:assert/strict';
import test from 'node:test';
import { CacheLanguageModel } from '../../../src/core/predict/cache-model.js';
import { isWordLike } from '../../../src/core/text/tokenizer.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { BigramModel } from '../../support/bigram-model.js';

const words = ['<unk>', '\n', 'The', ' cat', ' sat', ' on', ' the', ' mat', '.', ' '];
const table = { '\n': { The: 0.9 }, The: { ' cat': 0.5 }, ' cat': { ' sat': 0.9 }, ' sat': { ' on': 0.8 }, ' on': { ' the': 0.7 }, ' the': { ' mat': 0.6 } };
const vocab = Vocabulary.fromJSON(words);
const flags = words.map((w) => w === '<unk>' || isWordLike(w));
const ids = (...ws: string[]) => Int32Array.from(ws.map((w) => vocab.id(w)));

test('the mixture is (1 − λ)·p_model + λ·count/|window|, over word-like tokens only', async () => {
  const base = new BigramModel(vocab, table);
  const lm = new CacheLanguageModel(base, flags, { lambda: 0.25, window: 10 });
  const seq = ids('The', ' cat', '.', ' cat', ' ', ' sat');
  const { logProbs } = await lm.run(seq, lm.initialState());
  const V = vocab.size;
  const window: string[] = [];
  for (let t = 0; t < seq.length; t++) {
    const w = vocab.word(seq[t]!);
    if (flags[seq[t]!]) window.push(w);
    let sum = 0;
    for (let v = 0; v < V; v++) {
      const model = base.prob(w, vocab.word(v));
      const count = window.filter((x) => x === vocab.word(v)).length;
      const expected = 0.75 * model + 0.25 * (count / window.length);
      const got = Math.exp(logProbs[t * V + v]!);
      assert.ok(Math.abs(got - expected) < 1e-6, `t=${t} ${JSON.stringify(vocab.word(v))}: ${got} vs ${expected}`);
      sum += got;
    }
    assert.ok(Math.abs(sum - 1) < 1e-5, `row ${t} sums to ${sum}`);
  }
  assert.deepEqual(window, ['The', ' cat', ' cat', ' sat'], '"." and " " are not cached');
});

test('the window keeps the last W cached tokens', async () => {
  const base = new BigramModel(vocab, table);
  const lm = new CacheLanguageModel(base, flags, { lambda: 0.5, window: 2 });
  const { logProbs } = await lm.run(ids('The', ' cat', ' sat', ' on'), lm.initialState());
  const V = vocab.size;
  const last = 3 * V;
  // Window [" sat", " on"]: " cat" and "The" have left it.
  const p = (w: string) => Math.exp(logProbs[last + vocab.id(w)]!);
  assert.ok(Math.abs(p(' cat') - 0.5 * base.prob(' on', ' cat')) < 1e-6);
  assert.ok(Math.abs(p(' sat') - (0.5 * base.prob(' on', ' sat') + 0.25)) < 1e-6);
  assert.ok(Math.abs(p(' on') - (0.5 * base.prob(' on', ' on') + 0.25)) < 1e-6);
});

test('one call or several give the same numbers, and states are never mutated', async () => {
  const base = new BigramModel(vocab, table);
  const lm = new CacheLanguageModel(base, flags, { lambda: 0.3, window: 3 });
  const seq = ids('The', ' cat', ' sat', ' on', ' the', ' mat', '.', '\n', 'The', ' cat');
  const whole = await lm.run(seq, lm.initialState());
  const V = vocab.size;
  let state = lm.initialState();
  const parts: Float32Array[] = [];
  for (const [a, b] of [[0, 4], [4, 5], [5, 10]] as const) {
    const before = JSON.stringify(state, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int32Array) : v));
    const r = await lm.run(seq.subarray(a, b), state);
    assert.equal(JSON.stringify(state, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int32Array) : v)), before, 'the given state is unchanged');
    parts.push(r.logProbs);
    state = r.state;
  }
  const joined = new Float32Array(seq.length * V);
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length;
  }
  assert.deepEqual(Array.from(joined), Array.from(whole.logProbs));
  // advance() reaches the state run() does.
  const advanced = await lm.advance(seq, lm.initialState());
  const next = ids(' sat');
  assert.deepEqual(Array.from((await lm.run(next, advanced)).logProbs), Array.from((await lm.run(next, whole.state)).logProbs));
});

test('λ = 0 is the model itself; bad settings are refused', async () => {
  const base = new BigramModel(vocab, table);
  const lm = new CacheLanguageModel(base, flags, { lambda: 0, window: 5 });
  const seq = ids('The', ' cat', ' cat');
  assert.deepEqual(Array.from((await lm.run(seq, lm.initialState())).logProbs), Array.from((await base.run(seq, base.initialState())).logProbs));
  assert.throws(() => new CacheLanguageModel(base, flags, { lambda: 1, window: 5 }), /lambda/);
  assert.throws(() => new CacheLanguageModel(base, flags, { lambda: 0.1, window: 0 }), /window/);
  assert.throws(() => new CacheLanguageModel(base, flags.slice(1), { lambda: 0.1, window: 5 }), /flags/);
  await assert.rejects(lm.run(seq, base.initialState()), /not this model's/);
});
