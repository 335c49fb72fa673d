import test from 'node:test';
import assert from 'node:assert/strict';

import { bernoulli, mulberry32, normal } from '../../../src/core/support/random.js';

const draw = (rand: () => number, n: number): number[] => Array.from({ length: n }, rand);

test('mulberry32 is reproducible per seed and differs between seeds', () => {
  assert.deepEqual(draw(mulberry32(42), 100), draw(mulberry32(42), 100));
  const [a, b] = [draw(mulberry32(1), 100), draw(mulberry32(2), 100)];
  assert.ok(a.filter((v, k) => v === b[k]).length < 3);
  // Seeds are taken modulo 2^32, as the state is 32 bits.
  assert.deepEqual(draw(mulberry32(7), 10), draw(mulberry32(7 + 2 ** 32), 10));
  assert.throws(() => mulberry32(NaN), /seed must be a finite number/);
});

test('mulberry32 is the published generator (first draw for seed 1, as other implementations give it)', () => {
  assert.equal(mulberry32(1)(), 0.6270739405881613);
});

test('mulberry32 is uniform on [0, 1)', () => {
  const xs = draw(mulberry32(3), 100_000);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
  // Uniform: mean 1/2 (standard error 0.0009), variance 1/12 ≈ 0.0833.
  assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
  // Ten equal bins each get ~10% (standard error ~0.1%).
  const bins = new Array(10).fill(0);
  for (const x of xs) bins[Math.floor(x * 10)]++;
  for (const count of bins) assert.ok(Math.abs(count / xs.length - 0.1) < 0.005, `bins ${bins}`);
});

test('normal has mean 0 and variance 1, and stays finite', () => {
  const rand = mulberry32(4);
  const xs = Array.from({ length: 100_000 }, () => normal(rand));
  assert.ok(xs.every(Number.isFinite));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.03, `variance ${variance}`);
  // P(|x| < 1) = 0.6827 for a standard normal.
  const within = xs.filter((x) => Math.abs(x) < 1).length / xs.length;
  assert.ok(Math.abs(within - 0.6827) < 0.01, `P(|x| < 1) = ${within}`);
  // A generator that returns 0 must not produce log(0).
  assert.ok(Number.isFinite(normal(() => 0)));
});

test('bernoulli is true with probability p', () => {
  const rand = mulberry32(5);
  const hits = Array.from({ length: 100_000 }, () => bernoulli(rand, 0.3)).filter(Boolean).length;
  assert.ok(Math.abs(hits / 100_000 - 0.3) < 0.01, `rate ${hits / 100_000}`);
  assert.equal(bernoulli(rand, 0), false);
  assert.equal(bernoulli(rand, 1), true);
  assert.throws(() => bernoulli(rand, 1.5), /p must lie in \[0, 1\]/);
  assert.throws(() => bernoulli(rand, NaN), /p must lie in \[0, 1\]/);
});
