import assert from 'node:assert/strict';
import test from 'node:test';
import { FailureWindow } from '../../../src/core/support/failure-window.js';

test('trips at the limit of failures within the window, and forgets failures older than the window', () => {
  let t = 0;
  const w = new FailureWindow(3, 600_000, () => t);
  assert.equal(w.tripped, false);
  w.record();
  t = 100_000;
  w.record();
  assert.deepEqual([w.recent, w.tripped], [2, false]);
  t = 599_999;
  w.record();
  assert.deepEqual([w.recent, w.tripped], [3, true], 'three within ten minutes');
  t = 600_000;
  assert.deepEqual([w.recent, w.tripped], [2, false], 'the first is ten minutes old: forgotten');
  t = 699_999;
  assert.equal(w.recent, 2);
  t = 700_000;
  assert.equal(w.recent, 1);
  t = 1_199_998;
  assert.equal(w.recent, 1);
  t = 1_199_999;
  assert.equal(w.recent, 0, 'a failure exactly the window old is forgotten');
});

test('failures spread out never trip it, however many', () => {
  let t = 0;
  const w = new FailureWindow(3, 1000, () => t);
  for (let i = 0; i < 100; i++) {
    w.record();
    assert.equal(w.tripped, false, `failure ${i + 1}`);
    t += 501;
  }
});

test('a limit of one trips at the first failure', () => {
  const w = new FailureWindow(1, 10, () => 5);
  w.record();
  assert.equal(w.tripped, true);
});

test('refuses a limit below one or a window that is not positive', () => {
  assert.throws(() => new FailureWindow(0, 10), RangeError);
  assert.throws(() => new FailureWindow(1.5, 10), RangeError);
  assert.throws(() => new FailureWindow(2, 0), RangeError);
  assert.throws(() => new FailureWindow(2, Number.NaN), RangeError);
});
