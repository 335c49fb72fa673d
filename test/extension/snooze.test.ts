// Snoozing completions: for some minutes on a clock, until restart, resumed; listeners hear every change,
// the end of a timed snooze included.

import test from 'node:test';
import assert from 'node:assert/strict';

import { Snooze } from '../../src/extension/snooze.js';

test('a timed snooze lasts its minutes on the given clock', () => {
  let now = 1_000;
  const s = new Snooze(() => now);
  try {
    assert.equal(s.isSnoozed, false);
    s.snoozeFor(5);
    assert.equal(s.snoozedUntil, 1_000 + 5 * 60_000);
    now += 5 * 60_000 - 1;
    assert.equal(s.isSnoozed, true);
    now += 1;
    assert.equal(s.isSnoozed, false);
    assert.equal(s.snoozedUntil, undefined);
  } finally {
    s.dispose();
  }
});

test('until restart has no end; resume ends any snooze', () => {
  const s = new Snooze(() => 0);
  try {
    s.snoozeUntilRestart();
    assert.equal(s.snoozedUntil, 'restart');
    s.resume();
    assert.equal(s.isSnoozed, false);
  } finally {
    s.dispose();
  }
});

test('listeners hear snooze, resume, and the end of a timed snooze', async () => {
  const s = new Snooze(); // the real clock: the end is announced by a timer
  const heard: boolean[] = [];
  s.onDidChange(() => heard.push(s.isSnoozed));
  try {
    s.snoozeUntilRestart();
    s.resume();
    s.snoozeFor(0.03 / 60); // 30 ms
    assert.deepEqual(heard, [true, false, true]);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(heard, [true, false, true, false]);
  } finally {
    s.dispose();
  }
});

test('a disposed listener hears nothing; bad durations are refused', () => {
  const s = new Snooze(() => 0);
  let calls = 0;
  const sub = s.onDidChange(() => calls++);
  sub.dispose();
  s.snoozeFor(1);
  assert.equal(calls, 0);
  assert.throws(() => s.snoozeFor(0), /positive number/);
  assert.throws(() => s.snoozeFor(Number.NaN), /positive number/);
  s.dispose();
});
