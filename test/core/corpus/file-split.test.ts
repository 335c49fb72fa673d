import test from 'node:test';
import assert from 'node:assert/strict';
import { fnv1a32, orderByKeys, orderByKeysPaced, splitByFile, splitKey, validCount } from '../../../src/core/corpus/file-split.js';
import { mulberry32 } from '../../../src/core/support/random.js';

const files = (n: number, prefix = 'src/file') => Array.from({ length: n }, (_, i) => ({ relPath: `${prefix}${i}.ts`, i }));

test('fnv1a32 matches the published FNV-1a test vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('validCount: round(fraction · n), at least one, training keeps one', () => {
  assert.equal(validCount(10, 0.1), 1);
  assert.equal(validCount(100, 0.1), 10);
  assert.equal(validCount(25, 0.1), 3); // 2.5 rounds up
  assert.equal(validCount(3, 0.1), 1); // round gives 0, at least 1
  assert.equal(validCount(2, 0.9), 1); // round gives 2, training keeps 1
  assert.equal(validCount(1, 0.5), 0); // a single file stays in training
  assert.equal(validCount(0, 0.5), 0);
  assert.equal(validCount(10, 0), 0);
  assert.equal(validCount(10, 1), 10);
  assert.throws(() => validCount(10, 1.5), /validFraction must lie between 0 and 1/);
  assert.throws(() => validCount(10, -0.1), /validFraction/);
  assert.throws(() => validCount(10, Number.NaN), /validFraction/);
  assert.throws(() => validCount(-1, 0.1), /file count/);
});

test('splitByFile: a partition of the input, each side in input order', () => {
  const input = files(50);
  const { train, valid } = splitByFile(input, 0.2);
  assert.equal(valid.length, 10);
  assert.equal(train.length, 40);
  const all = [...train, ...valid].map((f) => f.i).sort((a, b) => a - b);
  assert.deepEqual(all, input.map((f) => f.i));
  const increasing = (xs: { i: number }[]) => xs.every((f, k) => k === 0 || xs[k - 1]!.i < f.i);
  assert.ok(increasing(train));
  assert.ok(increasing(valid));
});

test('splitByFile: validation is the files with the smallest keys', () => {
  const input = files(40);
  const { valid } = splitByFile(input, 0.25, 7);
  const byKey = [...input].sort((a, b) => splitKey(a.relPath, 7) - splitKey(b.relPath, 7));
  const expected = new Set(byKey.slice(0, 10).map((f) => f.relPath));
  assert.deepEqual(new Set(valid.map((f) => f.relPath)), expected);
});

test('splitByFile: depends on the paths only, not on input order or contents', () => {
  const input = files(30).map((f) => ({ ...f, text: `contents ${f.i}` }));
  const shuffled = [...input].reverse().map((f) => ({ ...f, text: 'different' }));
  const a = splitByFile(input, 0.3, 3).valid.map((f) => f.relPath).sort();
  const b = splitByFile(shuffled, 0.3, 3).valid.map((f) => f.relPath).sort();
  assert.deepEqual(a, b);
  assert.deepEqual(splitByFile(input, 0.3, 3), splitByFile(input, 0.3, 3));
});

test('splitByFile: the seed changes which files are held out', () => {
  const input = files(100);
  const v0 = new Set(splitByFile(input, 0.2, 0).valid.map((f) => f.relPath));
  const v1 = new Set(splitByFile(input, 0.2, 1).valid.map((f) => f.relPath));
  const shared = [...v0].filter((p) => v1.has(p)).length;
  // Two independent 20-of-100 draws share 4 files on average; identical sets would mean the seed is unused.
  assert.ok(shared < 15, `${shared} of 20 validation files shared between seeds`);
  assert.throws(() => splitByFile(input, 0.2, 1.5), /seed must be an integer/);
});

test('splitByFile: adding a file moves at most one existing file across', () => {
  const pool = files(300, 'pkg/mod');
  for (const fraction of [0.1, 0.25, 0.5]) {
    let previous = splitByFile(pool.slice(0, 1), fraction);
    for (let n = 2; n <= pool.length; n++) {
      const current = splitByFile(pool.slice(0, n), fraction);
      const wasValid = new Set(previous.valid.map((f) => f.relPath));
      const moved = pool.slice(0, n - 1).filter((f) => wasValid.has(f.relPath) !== current.valid.some((v) => v.relPath === f.relPath));
      assert.ok(moved.length <= 1, `fraction ${fraction}, n ${n}: ${moved.length} files changed sides`);
      previous = current;
    }
  }
});

test('splitByFile: keys spread evenly, so similar names do not cluster', () => {
  // Names that differ in one character; a weak hash would put them next to each other.
  const input = files(2000, 'notes/day-');
  const { valid } = splitByFile(input, 0.5);
  // Of the first 1000 names, a fair split puts about half in validation (binomial sd ≈ 16).
  const firstHalf = valid.filter((f) => f.i < 1000).length;
  assert.ok(Math.abs(firstHalf - 500) < 80, `${firstHalf} of the validation files are among the first 1000 names`);
});

test('splitByFile: small inputs', () => {
  assert.deepEqual(splitByFile([], 0.1), { train: [], valid: [] });
  const one = [{ relPath: 'a.md' }];
  assert.deepEqual(splitByFile(one, 0.1), { train: one, valid: [] });
  const two = [{ relPath: 'a.md' }, { relPath: 'b.md' }];
  const split = splitByFile(two, 0.1);
  assert.equal(split.valid.length, 1);
  assert.equal(split.train.length, 1);
  assert.deepEqual(splitByFile(two, 0), { train: two, valid: [] });
  // Duplicate paths are tolerated; the split stays a partition.
  const dup = [{ relPath: 'x', n: 1 }, { relPath: 'x', n: 2 }, { relPath: 'y', n: 3 }];
  const d = splitByFile(dup, 0.34);
  assert.equal(d.train.length + d.valid.length, 3);
});

test('fnv1a32 hashes the UTF-8 bytes TextEncoder gives, for any string (astral, lone surrogates included)', () => {
  const reference = (text: string) => {
    let h = 0x811c9dc5;
    for (const b of new TextEncoder().encode(text)) h = Math.imul(h ^ b, 0x01000193);
    return h >>> 0;
  };
  const rand = mulberry32(3);
  const samples = ['', 'a', 'src/main.ts', 'ü/ß.md', '日本/語.txt', '🌊/🔦.md', '\ud800x', 'x\udc00', '\udbff\udfff'];
  for (let i = 0; i < 500; i++) {
    let s = '';
    for (let k = Math.floor(rand() * 20); k > 0; k--) s += String.fromCharCode(Math.floor(rand() * 0x10000));
    samples.push(s);
  }
  for (const s of samples) assert.equal(fnv1a32(s), reference(s), JSON.stringify(s));
});

test('orderByKeys: ascending keys, equal keys in path order, then position (as a plain comparator sort)', () => {
  const rand = mulberry32(8);
  for (let round = 0; round < 30; round++) {
    const n = Math.floor(rand() * 400);
    const paths = Array.from({ length: n }, () => `d${Math.floor(rand() * 5)}/f${Math.floor(rand() * 50)}.md`);
    const keys = Uint32Array.from({ length: n }, () => (rand() < 0.3 ? 7 : Math.floor(rand() * 2 ** 32))); // many equal keys
    const expected = paths.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]! || (paths[a]! < paths[b]! ? -1 : paths[a]! > paths[b]! ? 1 : a - b));
    assert.deepEqual(orderByKeys(paths, keys), expected);
  }
});

test('orderByKeysPaced: the same order, pausing between pieces', async () => {
  const rand = mulberry32(9);
  const n = 5000;
  const paths = Array.from({ length: n }, () => `d${Math.floor(rand() * 9)}/f${Math.floor(rand() * 900)}.md`);
  const keys = Uint32Array.from({ length: n }, () => (rand() < 0.1 ? 2 ** 31 + 5 : Math.floor(rand() * 2 ** 32)));
  let pauses = 0;
  const paced = await orderByKeysPaced(paths, keys, async () => void pauses++);
  assert.deepEqual(paced, orderByKeys(paths, keys));
  assert.deepEqual(paced, paths.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]! || (paths[a]! < paths[b]! ? -1 : paths[a]! > paths[b]! ? 1 : a - b)));
  assert.ok(pauses >= 100, `${pauses} pauses`);
});
