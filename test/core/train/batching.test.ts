import assert from 'node:assert/strict';
import test from 'node:test';
import { toStreams, windowCount, windows } from '../../../src/core/train/batching.js';

test('streams are read top to bottom: stream b holds the b-th contiguous slice of the text', () => {
  const ids = Int32Array.from({ length: 23 }, (_, i) => i);
  const s = toStreams(ids, 4);
  assert.equal(s.rows, 5); // ⌊23 / 4⌋, the last 3 tokens dropped
  for (let b = 0; b < 4; b++) {
    const stream: number[] = Array.from({ length: s.rows }, (_, r) => s.data[r * 4 + b]!);
    assert.deepEqual(stream, [0, 1, 2, 3, 4].map((r) => b * 5 + r));
  }
});

test('windows overlap by one row (targets are the inputs shifted) and cover every target once', () => {
  const ids = Int32Array.from({ length: 40 }, (_, i) => i);
  const s = toStreams(ids, 2); // rows 20
  const ws = [...windows(s, 6)];
  assert.equal(ws.length, windowCount(s, 6));
  assert.deepEqual(ws.map((w) => w.T), [6, 6, 6, 1]); // 19 targets per stream
  // Each window's first row is the previous window's last row: the state carries across the boundary.
  for (let i = 1; i < ws.length; i++) {
    const prev = ws[i - 1]!;
    assert.deepEqual([...ws[i]!.tokens.subarray(0, 2)], [...prev.tokens.subarray(prev.T * 2, prev.T * 2 + 2)]);
  }
  const targets = ws.flatMap((w) => [...w.tokens.subarray(2)]);
  assert.deepEqual(targets.sort((a, b) => a - b), [...Array(40).keys()].filter((i) => i % 20 !== 0));
});

test('too little text gives no window; bad sizes are refused', () => {
  assert.equal(windowCount(toStreams(Int32Array.of(1, 2, 3), 2), 5), 0);
  assert.deepEqual([...windows(toStreams(Int32Array.of(1, 2, 3), 2), 5)], []);
  assert.throws(() => toStreams(Int32Array.of(1), 0), /batch size/);
  assert.throws(() => [...windows(toStreams(Int32Array.of(1, 2), 1), 0)], /window length/);
});
