import assert from 'node:assert/strict';
import test from 'node:test';
import { commonPrefixLength } from '../../../src/core/support/common-prefix.js';
import { mulberry32 } from '../../../src/core/support/random.js';

function naive(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

test('edge cases: empty, equal, one the prefix of the other, a difference at the first or last character', () => {
  const cases: [string, string, number][] = [
    ['', '', 0], ['', 'abc', 0], ['abc', '', 0], ['abc', 'abc', 3], ['ab', 'abc', 2], ['abc', 'ab', 2],
    ['xbc', 'abc', 0], ['abx', 'aby', 2], ['a😀b', 'a😀c', 3], ['a😀', 'a😁', 2],
  ];
  for (const [a, b, n] of cases) assert.equal(commonPrefixLength(a, b), n, `${JSON.stringify(a)} ${JSON.stringify(b)}`);
});

test('differences at and around block boundaries, in long texts', () => {
  const base = 'lorem ipsum dolor sit amet, '.repeat(2000); // 56,000 characters: many 4,096-character blocks
  for (const at of [0, 1, 4095, 4096, 4097, 8191, 8192, 40_000, base.length - 1]) {
    const other = base.slice(0, at) + (base[at] === 'x' ? 'y' : 'x') + base.slice(at + 1);
    assert.equal(commonPrefixLength(base, other), at, `difference at ${at}`);
    assert.equal(commonPrefixLength(other, base), at, `difference at ${at}, swapped`);
    assert.equal(commonPrefixLength(base, base.slice(0, at)), at, `a prefix of ${at}`);
  }
});

test('agrees with a character-by-character walk on random pairs that share a random prefix', () => {
  const rand = mulberry32(11);
  const int = (n: number) => Math.floor(rand() * n);
  const alphabet = ['a', 'b', ' ', '\n', 'é', '😀', '中'];
  const text = (n: number) => Array.from({ length: n }, () => alphabet[int(alphabet.length)]).join('');
  for (let i = 0; i < 500; i++) {
    const shared = text(int(i % 5 === 0 ? 20_000 : 200));
    const a = shared + text(int(50));
    const b = shared + text(int(50));
    assert.equal(commonPrefixLength(a, b), naive(a, b), `case ${i}`);
  }
});
