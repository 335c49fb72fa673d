import test from 'node:test';
import assert from 'node:assert/strict';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { UNK } from '../../../src/core/text/tokenizer.js';
import { mulberry32 } from '../../../src/core/support/random.js';

const counts = (entries: Record<string, number>): Map<string, number> => new Map(Object.entries(entries));

test('build: most frequent first, ties in string order, <unk> at id 0', () => {
  const v = Vocabulary.build(counts({ b: 3, a: 3, c: 5, d: 1, [UNK]: 2 }), { maxSize: 100, minCount: 1 });
  assert.deepEqual(v.toJSON(), [UNK, 'c', 'a', 'b', 'd']);
  assert.equal(v.size, 5);
  assert.equal(v.id(UNK), 0);
  assert.equal(v.id('c'), 1);
  assert.equal(v.word(3), 'b');
});

test('build: minCount and maxSize (which counts <unk>)', () => {
  const c = counts({ b: 3, a: 3, c: 5, d: 1, [UNK]: 2 });
  assert.deepEqual(Vocabulary.build(c, { maxSize: 100, minCount: 2 }).toJSON(), [UNK, 'c', 'a', 'b']);
  assert.deepEqual(Vocabulary.build(c, { maxSize: 3, minCount: 1 }).toJSON(), [UNK, 'c', 'a']);
  assert.deepEqual(Vocabulary.build(c, { maxSize: 1, minCount: 1 }).toJSON(), [UNK]);
  assert.deepEqual(Vocabulary.build(c, { maxSize: 100, minCount: 6 }).toJSON(), [UNK]);
  assert.deepEqual(Vocabulary.build(new Map(), { maxSize: 10, minCount: 1 }).toJSON(), [UNK]);
});

test('build: ties use code-unit order, not the locale', () => {
  // Code units: 'B' (0x42) < 'a' (0x61) < 'z' < 'é' (0xe9) < '😀' (0xd83d…) < '\uffff'.
  const c = counts({ é: 1, z: 1, a: 1, B: 1, '\uffff': 1, '😀': 1 });
  assert.deepEqual(Vocabulary.build(c, { maxSize: 10, minCount: 1 }).toJSON(), [UNK, 'B', 'a', 'z', 'é', '😀', '\uffff']);
});

test('build: the result does not depend on the insertion order of the counts', () => {
  const rand = mulberry32(5);
  const entries: [string, number][] = [];
  for (let i = 0; i < 300; i++) entries.push([`w${i}`, 1 + Math.floor(rand() * 10)]);
  const shuffled = entries.slice().reverse();
  const a = Vocabulary.build(new Map(entries), { maxSize: 120, minCount: 2 });
  const b = Vocabulary.build(new Map(shuffled), { maxSize: 120, minCount: 2 });
  assert.deepEqual(a.toJSON(), b.toJSON());
  // And it is exactly the sorted, filtered, truncated list.
  const expected = entries
    .filter(([, n]) => n >= 2)
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
    .slice(0, 119)
    .map(([w]) => w);
  assert.deepEqual(a.toJSON(), [UNK, ...expected]);
});

test('build: counts are kept; <unk> counts every token that maps to it', () => {
  const v = Vocabulary.build(counts({ b: 3, a: 3, c: 5, d: 1, [UNK]: 2 }), { maxSize: 3, minCount: 1 });
  assert.equal(v.count(v.id('c')), 5);
  assert.equal(v.count(v.id('a')), 3);
  // 2 literal <unk> + 3 b + 1 d were left out.
  assert.equal(v.count(0), 6);
});

test('build: bad options and counts are rejected', () => {
  const c = counts({ a: 1 });
  assert.throws(() => Vocabulary.build(c, { maxSize: 0, minCount: 1 }), /maxSize must be an integer ≥ 1/);
  assert.throws(() => Vocabulary.build(c, { maxSize: 2.5, minCount: 1 }), /maxSize/);
  assert.throws(() => Vocabulary.build(c, { maxSize: 5, minCount: NaN }), /minCount/);
  assert.throws(() => Vocabulary.build(counts({ a: -1 }), { maxSize: 5, minCount: 1 }), /count of "a"/);
  assert.throws(() => Vocabulary.build(counts({ a: NaN }), { maxSize: 5, minCount: 1 }), /count of "a"/);
  assert.throws(() => Vocabulary.build(counts({ '': 1 }), { maxSize: 5, minCount: 1 }), /non-empty strings/);
});

test('countTokens counts, and adds to an existing map', () => {
  const m = Vocabulary.countTokens(['a', ' b', 'a', UNK]);
  assert.deepEqual(Object.fromEntries(m), { a: 2, ' b': 1, [UNK]: 1 });
  Vocabulary.countTokens(new Set(['a', 'z']), m);
  assert.equal(m.get('a'), 3);
  assert.equal(m.get('z'), 1);
});

test('unknown tokens map to <unk>; encode and decode', () => {
  const v = Vocabulary.fromJSON([UNK, 'the', ' cat', '__proto__']);
  assert.equal(v.id('never seen'), 0);
  assert.equal(v.id('constructor'), 0, 'no prototype keys leak in');
  assert.equal(v.id('__proto__'), 3);
  assert.equal(v.has('the'), true);
  assert.equal(v.has('dog'), false);
  const ids = v.encode(['the', ' cat', ' dog', UNK]);
  assert.ok(ids instanceof Int32Array);
  assert.deepEqual(Array.from(ids), [1, 2, 0, 0]);
  assert.deepEqual(v.decode(ids), ['the', ' cat', UNK, UNK]);
  assert.deepEqual(v.decode([2, 1]), [' cat', 'the']);
  assert.throws(() => v.word(4), RangeError);
  assert.throws(() => v.word(-1), RangeError);
  assert.throws(() => v.word(1.5), RangeError);
  assert.throws(() => v.decode([0, 9]), /id 9 is out of range \(size 4\)/);
  assert.equal(v.count(1), undefined, 'no counts when loaded from a word list');
});

test('toJSON / fromJSON round trip, with and without counts', () => {
  const v = Vocabulary.build(counts({ x: 4, y: 2, z: 1 }), { maxSize: 3, minCount: 1 });
  const words = JSON.parse(JSON.stringify(v));
  assert.deepEqual(words, [UNK, 'x', 'y']);
  assert.deepEqual(Vocabulary.fromJSON(words).toJSON(), words);
  const withCounts = JSON.parse(JSON.stringify(v.toJSONWithCounts()));
  assert.deepEqual(withCounts, { words: [UNK, 'x', 'y'], counts: [1, 4, 2] });
  const back = Vocabulary.fromJSON(withCounts);
  assert.deepEqual(back.toJSON(), words);
  assert.equal(back.count(1), 4);
  assert.equal(back.count(0), 1);
  assert.deepEqual(Vocabulary.fromJSON({ words }).toJSONWithCounts(), { words });
});

test('fromJSON explains what is wrong', () => {
  const bad: [unknown, RegExp][] = [
    ['the', /expected an array of words, got "the"/],
    [null, /expected an array of words, got null/],
    [{}, /"words" array/],
    [[], /empty/],
    [['the', UNK], /first word \(id 0\) must be "<unk>", not "the"/],
    [[UNK, 'a', 7], /word 2 is number 7, not a string/],
    [[UNK, 'a', 'b', 'a'], /"a" appears twice \(ids 1 and 3\)/],
    [[UNK, ''], /word 1 is the empty string/],
    [{ words: [UNK, 'a'], counts: [1] }, /"counts" has 1 entries but there are 2 words/],
    [{ words: [UNK, 'a'], counts: [1, -2] }, /count 1 must be a finite number ≥ 0/],
    [{ words: [UNK, 'a'], counts: 'many' }, /"counts" must be an array/],
  ];
  for (const [json, message] of bad) {
    assert.throws(() => Vocabulary.fromJSON(json), (e: Error) => /^invalid vocabulary: /.test(e.message) && message.test(e.message), JSON.stringify(json));
  }
});

// --- prefix queries ------------------------------------------------------------------------------------

function randomVocabulary(seed: number, size: number): Vocabulary {
  const rand = mulberry32(seed);
  const alphabet = ['a', 'b', 'c', 'A', 'B', ' ', '_', 'é', 'É', '😀', '\uffff', '1'];
  const words = new Set<string>();
  while (words.size < size) {
    let w = '';
    const len = 1 + Math.floor(rand() * 5);
    for (let i = 0; i < len; i++) w += alphabet[Math.floor(rand() * alphabet.length)];
    if (w !== UNK) words.add(w);
  }
  return Vocabulary.fromJSON([UNK, ...words]);
}

function prefixesToTry(v: Vocabulary, seed: number): string[] {
  const rand = mulberry32(seed);
  const prefixes = ['', ' ', 'a', 'ab', 'zzz', '<', UNK, 'É', '\uffff', '\ud83d', 'A b'];
  for (let i = 0; i < 200; i++) {
    const w = v.word(Math.floor(rand() * v.size));
    prefixes.push(w.slice(0, Math.floor(rand() * (w.length + 1))));
  }
  return prefixes;
}

test('idsWithPrefix matches a brute-force filter', () => {
  const v = randomVocabulary(11, 3000);
  const all = v.toJSON();
  for (const prefix of prefixesToTry(v, 12)) {
    const expected = all.flatMap((w, id) => (w.startsWith(prefix) ? [id] : []));
    const got = Array.from(v.idsWithPrefix(prefix));
    assert.deepEqual(got.slice().sort((a, b) => a - b), expected, JSON.stringify(prefix));
    // In ascending word order.
    for (let i = 1; i < got.length; i++) assert.ok(all[got[i - 1]] < all[got[i]], JSON.stringify(prefix));
  }
  assert.equal(v.idsWithPrefix('').length, v.size);
});

test('idsWithPrefixIgnoringCase matches a brute-force filter', () => {
  const v = randomVocabulary(21, 3000);
  const all = v.toJSON();
  for (const prefix of prefixesToTry(v, 22)) {
    const expected = all.flatMap((w, id) => (w.toLowerCase().startsWith(prefix.toLowerCase()) ? [id] : []));
    const got = Array.from(v.idsWithPrefixIgnoringCase(prefix)).sort((a, b) => a - b);
    assert.deepEqual(got, expected, JSON.stringify(prefix));
  }
  const small = Vocabulary.fromJSON([UNK, 'Hello', 'help', 'HELD', 'world']);
  assert.deepEqual(Array.from(small.idsWithPrefixIgnoringCase('hel')).sort(), [1, 2, 3]);
  assert.deepEqual(Array.from(small.idsWithPrefix('hel')), [2]);
});

test('idsWithPrefix returns a copy the caller may modify', () => {
  const v = Vocabulary.fromJSON([UNK, 'ab', 'abc', 'b']);
  const first = v.idsWithPrefix('ab');
  assert.deepEqual(Array.from(first), [1, 2]);
  first.fill(3);
  assert.deepEqual(Array.from(v.idsWithPrefix('ab')), [1, 2]);
});

test('build: with many more tokens than places, the same vocabulary as sorting every token (ties at the cut included)', () => {
  const rand = mulberry32(9);
  for (let round = 0; round < 20; round++) {
    const counts = new Map<string, number>();
    const n = 200 + Math.floor(rand() * 2000);
    for (let i = 0; i < n; i++) counts.set(`w${Math.floor(rand() * 1e6).toString(36)}`, 1 + Math.floor(rand() ** 3 * 12)); // many ties
    const maxSize = 2 + Math.floor(rand() * 300);
    // The rule written out: every token, most frequent first, ties in code-unit order, then cut.
    const expected = [...counts].filter(([, c]) => c >= 1).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, maxSize - 1).map(([w]) => w);
    const v = Vocabulary.build(counts, { maxSize, minCount: 1 });
    assert.deepEqual(Array.from({ length: v.size - 1 }, (_, i) => v.word(i + 1)), expected, `round ${round}: ${n} tokens, maxSize ${maxSize}`);
  }
});
