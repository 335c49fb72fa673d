// Figures as the CLI, the status bar, the notification and the log write them.
import assert from 'node:assert/strict';
import test from 'node:test';
import { duration, thousands } from '../../../src/core/support/figures.js';

test('thousands groups digits as en-US toLocaleString does, rounding, and says "—" for no figure', () => {
  const values = [0, 7, 999, 1000, 1001, 12_345, 999_999, 1_000_000, 1_234_567, 98_765_432_109, -1, -1234, -1_234_567, 12.4, 12.6, 999.5, 1e15];
  for (let i = 0; i < 2000; i++) values.push(Math.floor(Math.random() * 10 ** (1 + (i % 13))));
  for (const n of values) assert.equal(thousands(n), Math.round(n).toLocaleString('en-US'), String(n));
  assert.equal(thousands(Number.NaN), '—');
  assert.equal(thousands(Number.POSITIVE_INFINITY), '—');
});

test('duration writes minutes and seconds, hours once there are any, and "--:--" for no figure', () => {
  const cases: [number, string][] = [
    [0, '0:00'], [0.4, '0:00'], [9, '0:09'], [59.6, '1:00'], [61, '1:01'], [600, '10:00'], [3599, '59:59'],
    [3600, '1:00:00'], [3723, '1:02:03'], [36_000 + 5, '10:00:05'], [-5, '0:00'],
  ];
  for (const [s, text] of cases) assert.equal(duration(s), text, String(s));
  assert.equal(duration(Number.NaN), '--:--');
  assert.equal(duration(Number.POSITIVE_INFINITY), '--:--');
});
