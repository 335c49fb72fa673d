// The sampled softmax's sampler: the proposal is the smoothed unigram (count + 1)^0.75 (checked against
// frequencies of draws and against log Q of single draws), every draw holds K distinct words, frequent
// words are nearly always among them (Q → 1), K ≥ V is the whole vocabulary, and a seed reproduces a run.

import assert from 'node:assert/strict';
import test from 'node:test';
import { mulberry32 } from '../../../src/core/support/random.js';
import { SoftmaxSampler } from '../../../src/core/train/softmax-sampler.js';

const counts = [0, 1, 3, 10, 40, 200, 1000, 5];
const proposal = (() => {
  const w = counts.map((c) => (c + 1) ** 0.75);
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
})();

test('one sample per step: drawn with the proposal’s frequencies, and log Q = log q', () => {
  const sampler = new SoftmaxSampler(counts, 1, mulberry32(3));
  const seen = new Array(counts.length).fill(0);
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const { ids, logQ } = sampler.draw();
    assert.equal(ids.length, 1);
    seen[ids[0]!]++;
    if (i < 50) assert.ok(Math.abs(logQ[0]! - Math.log(proposal[ids[0]!]!)) < 1e-6, `log Q of ${ids[0]}`);
  }
  for (let v = 0; v < counts.length; v++) {
    const sd = Math.sqrt((proposal[v]! * (1 - proposal[v]!)) / n);
    assert.ok(Math.abs(seen[v] / n - proposal[v]!) < 5 * sd, `word ${v}: ${seen[v] / n} vs ${proposal[v]}`);
  }
});

test('K distinct words per step; the most frequent is nearly always drawn; rare words are less likely', () => {
  const sampler = new SoftmaxSampler(counts, 4, mulberry32(5));
  const included = new Array(counts.length).fill(0);
  for (let i = 0; i < 5000; i++) {
    const { ids, logQ } = sampler.draw();
    assert.equal(new Set(ids).size, 4);
    for (let k = 0; k < 4; k++) {
      assert.ok(logQ[k]! <= 0 && Number.isFinite(logQ[k]!));
      included[ids[k]!]++;
    }
  }
  assert.ok(included[6] > 0.95 * 5000, `the most frequent word was drawn ${included[6]} times of 5000`);
  assert.ok(included[0] < included[3] && included[3] < included[5]);
});

test('K ≥ V is the whole vocabulary with Q = 1 (the full softmax); a seed reproduces the draws', () => {
  const all = new SoftmaxSampler(counts, 8, mulberry32(1)).draw();
  assert.deepEqual([...all.ids], [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.ok(all.logQ.every((q) => q === 0));
  const a = new SoftmaxSampler(counts, 3, mulberry32(9));
  const b = new SoftmaxSampler(counts, 3, mulberry32(9));
  for (let i = 0; i < 20; i++) assert.deepEqual(a.draw(), b.draw());
  assert.throws(() => new SoftmaxSampler(counts, 0, mulberry32(1)), /K must be a positive integer/);
  assert.throws(() => new SoftmaxSampler([1, -1], 1, mulberry32(1)), /count -1/);
});
