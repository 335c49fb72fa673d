// Train/validation split by whole file: a file's words all land on one side, so validation measures how
// well the model predicts text it has never seen rather than the other half of a paragraph it trained on.
//
// The rule, exactly: every file gets a 32-bit key, splitKey(relPath, seed) = fmix32(fnv1a32(utf8(relPath))
// xor imul(seed, 0x9e3779b1)); the files are ranked by key (ties: relPath, then input position); the first
// k = validCount(n, fraction) of that ranking are validation, the rest training. The split depends only on
// the relPaths (not on file contents, input order or the machine), and since keys are uniform the valid
// set is roughly "every file whose key falls below fraction · 2^32": adding one file changes k by at most
// one and moves at most one existing file from one side to the other.
//
// relPaths should be forward-slash and relative to the workspace root, as the walkers produce them, so a
// workspace splits the same way on every OS.

import { runSteps, runStepsPaced, type Steps } from '../support/event-loop.js';

/** FNV-1a, 32-bit, over the UTF-8 bytes of `text` (encoded on the fly, as TextEncoder would: a lone surrogate as U+FFFD). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  const add = (byte: number) => {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  };
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      add(c);
      continue;
    }
    if (c < 0x800) {
      add(0xc0 | (c >> 6));
      add(0x80 | (c & 63));
      continue;
    }
    if (c >= 0xd800 && c < 0xe000) {
      const next = text.charCodeAt(i + 1);
      if (c < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        add(0xf0 | (c >> 18));
        add(0x80 | ((c >> 12) & 63));
        add(0x80 | ((c >> 6) & 63));
        add(0x80 | (c & 63));
        continue;
      }
      c = 0xfffd;
    }
    add(0xe0 | (c >> 12));
    add(0x80 | ((c >> 6) & 63));
    add(0x80 | (c & 63));
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: every input bit flips about half the output bits, so ranks look random. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The rank key of one file; see the rule at the top of this file. */
export function splitKey(relPath: string, seed = 0): number {
  checkSeed(seed);
  return fmix32(fnv1a32(relPath) ^ Math.imul(seed >>> 0, 0x9e3779b1));
}

/**
 * How many of n files go to validation: round(fraction · n), but at least 1 when n ≥ 2 and fraction > 0,
 * and at most n − 1 when fraction < 1 (training keeps a file). A single file stays in training unless
 * fraction is 1.
 */
export function validCount(n: number, validFraction: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`file count must be a non-negative integer (got ${n})`);
  checkFraction(validFraction);
  if (n === 0 || validFraction === 0) return 0;
  if (validFraction === 1) return n;
  const k = Math.round(validFraction * n);
  return Math.min(n - 1, Math.max(n >= 2 ? 1 : 0, k));
}

/**
 * Splits files into training and validation by whole file, deterministically from their relPaths.
 * Within each side, files keep their input order.
 */
export function splitByFile<T extends { relPath: string }>(
  files: readonly T[],
  validFraction: number,
  seed = 0,
): { train: T[]; valid: T[] } {
  checkFraction(validFraction);
  checkSeed(seed);
  const k = validCount(files.length, validFraction);
  const ranked = files
    .map((f, index) => ({ key: splitKey(f.relPath, seed), relPath: f.relPath, index }))
    .sort((a, b) => a.key - b.key || compareStrings(a.relPath, b.relPath) || a.index - b.index);
  const isValid = new Uint8Array(files.length);
  for (let r = 0; r < k; r++) isValid[ranked[r]!.index] = 1;
  const train: T[] = [];
  const valid: T[] = [];
  files.forEach((f, i) => (isValid[i] ? valid : train).push(f));
  return { train, valid };
}

/** Code-unit order: the same on every machine, unlike localeCompare. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkFraction(f: number): void {
  if (!(f >= 0 && f <= 1)) throw new RangeError(`validFraction must lie between 0 and 1 (got ${f})`);
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`split seed must be an integer (got ${seed})`);
}

/** The seed of the caps' sample, so that it is independent of the validation (0) and test (1) splits. */
export const SAMPLE_SEED = 2;

/**
 * The order in which files are taken until a cap (file count, total bytes) is reached: by splitKey with
 * SAMPLE_SEED, i.e. a deterministic pseudo-random sample of the workspace, the same on every run and
 * machine, instead of whatever comes first in path order (one folder's worth of a large repository).
 * Returns the indices of `relPaths` in taking order.
 */
export function sampleOrder(relPaths: readonly string[]): number[] {
  return orderByKeys(relPaths, Uint32Array.from(relPaths, (p) => splitKey(p, SAMPLE_SEED)));
}

/** Indices of `relPaths` by ascending key (ties: path, then position): sampleOrder with its keys computed elsewhere. */
export function orderByKeys(relPaths: readonly string[], keys: Uint32Array): number[] {
  return runSteps(orderSteps(relPaths, keys));
}

/**
 * orderByKeys in pieces, awaiting `pause` between them (a large workspace's paths at once would hold the
 * editor's thread too long); a piece is one of 256 buckets.
 */
export function orderByKeysPaced(relPaths: readonly string[], keys: Uint32Array, pause: () => Promise<void>): Promise<number[]> {
  return runStepsPaced(orderSteps(relPaths, keys), pause);
}

/**
 * Buckets by a key's top 8 bits (a counting pass, stable), then each bucket sorted on its own, yielding
 * after each. Within a bucket, key · 2^21 + index is exact in a double: one native numeric sort (far faster
 * than a comparator), then the rare runs of equal keys put in path order.
 */
function* orderSteps(relPaths: readonly string[], keys: Uint32Array): Steps<number[]> {
  const n = relPaths.length;
  const byPath = (a: number, b: number) => (relPaths[a]! < relPaths[b]! ? -1 : relPaths[a]! > relPaths[b]! ? 1 : a - b);
  const starts = new Uint32Array(BUCKETS + 1);
  for (let i = 0; i < n; i++) starts[(keys[i]! >>> BUCKET_SHIFT) + 1]!++;
  for (let b = 0; b < BUCKETS; b++) starts[b + 1]! += starts[b]!;
  const fill = starts.slice(0, BUCKETS);
  const byBucket = new Uint32Array(n);
  for (let i = 0; i < n; i++) byBucket[fill[keys[i]! >>> BUCKET_SHIFT]!++] = i;
  const order: number[] = new Array<number>(n);
  for (let b = 0; b < BUCKETS; b++) {
    const from = starts[b]!;
    const to = starts[b + 1]!;
    if (to - from > 1) {
      const members = byBucket.subarray(from, to);
      let sorted: ArrayLike<number>;
      if (n < INDEX_RANGE) {
        const packed = Float64Array.from(members, (i) => keys[i]! * INDEX_RANGE + i).sort();
        sorted = Array.from(packed, (v) => v % INDEX_RANGE);
      } else sorted = Array.from(members).sort((x, y) => keys[x]! - keys[y]! || byPath(x, y));
      for (let a = 0; a < sorted.length; ) {
        let z = a + 1;
        while (z < sorted.length && keys[sorted[z]!] === keys[sorted[a]!]) z++;
        if (z - a > 1) {
          const run = Array.prototype.slice.call(sorted, a, z).sort(byPath);
          for (let j = a; j < z; j++) order[from + j] = run[j - a]!;
        } else order[from + a] = sorted[a]!;
        a = z;
      }
    } else if (to > from) order[from] = byBucket[from]!;
    yield;
  }
  return order;
}

const BUCKET_SHIFT = 24;
const BUCKETS = 2 ** (32 - BUCKET_SHIFT);

/** 2^21: orderByKeys packs an index below this next to a 32-bit key. */
const INDEX_RANGE = 2 ** 21;
