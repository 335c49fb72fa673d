// Nearest-rank percentiles over a sliding window of samples.

import test from 'node:test';
import assert from 'node:assert/strict';

import { LatencyStats } from '../../../src/core/completion/latency-stats.js';

test('nearest-rank percentiles: p50 of 1..4 is 2, p99 of 1..100 is 99, of 1..1000 is 990', () => {
  const s = new LatencyStats();
  assert.deepEqual(s.percentiles(), { count: 0, p50: NaN, p99: NaN, max: NaN });
  for (const x of [4, 1, 3, 2]) s.add(x);
  assert.deepEqual(s.percentiles(), { count: 4, p50: 2, p99: 4, max: 4 });
  const hundred = new LatencyStats();
  for (let x = 100; x >= 1; x--) hundred.add(x); // order does not matter
  assert.deepEqual(hundred.percentiles(), { count: 100, p50: 50, p99: 99, max: 100 });
  const thousand = new LatencyStats();
  for (let x = 1; x <= 1000; x++) thousand.add(x);
  assert.deepEqual(thousand.percentiles(), { count: 1000, p50: 500, p99: 990, max: 1000 });
  const one = new LatencyStats();
  one.add(7.5);
  assert.deepEqual(one.percentiles(), { count: 1, p50: 7.5, p99: 7.5, max: 7.5 });
});

test('only the last `window` samples count; clear() empties; bad samples are refused', () => {
  const s = new LatencyStats(3);
  for (const x of [100, 200, 1, 2, 3]) s.add(x);
  assert.deepEqual(s.percentiles(), { count: 3, p50: 2, p99: 3, max: 3 });
  s.clear();
  assert.equal(s.percentiles().count, 0);
  assert.throws(() => s.add(-1), /finite number ≥ 0/);
  assert.throws(() => s.add(NaN), /finite number ≥ 0/);
  assert.throws(() => new LatencyStats(0), /positive integer/);
});
