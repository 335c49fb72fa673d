// Figures as the status bar, the notification and the log write them.
import assert from 'node:assert/strict';
import test from 'node:test';
import { thousands } from '../../src/extension/format.js';

test('thousands groups digits as en-US toLocaleString does, rounding, and says "—" for no figure', () => {
  const values = [0, 7, 999, 1000, 1001, 12_345, 999_999, 1_000_000, 1_234_567, 98_765_432_109, -1, -1234, -1_234_567, 12.4, 12.6, 999.5, 1e15];
  for (let i = 0; i < 2000; i++) values.push(Math.floor(Math.random() * 10 ** (1 + (i % 13))));
  for (const n of values) assert.equal(thousands(n), Math.round(n).toLocaleString('en-US'), String(n));
  assert.equal(thousands(Number.NaN), '—');
  assert.equal(thousands(Number.POSITIVE_INFINITY), '—');
});
