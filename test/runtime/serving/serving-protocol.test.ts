import assert from 'node:assert/strict';
import test from 'node:test';
import { mulberry32 } from '../../../src/core/support/random.js';
import { resolveTextRef, textRefFrom } from '../../../src/runtime/serving/serving-protocol.js';

test('a text sent relative to the last one carries only what follows the first change, and resolves to the text', () => {
  const doc = 'It was the best of times, it was the worst of times.\n'.repeat(2000); // ~106,000 characters
  const cases: [string, string, string][] = [
    // [what, last, text]
    ['typing on', doc, `${doc}I`],
    ['a backspace', `${doc}I`, doc],
    ['the same text', doc, doc],
    ['a typo fixed earlier on the last line', `${doc}It was teh age of wisdom`, `${doc}It was the age of wisdom`],
    ['another document', doc, 'Call me Ishmael. '],
    ['from nothing', '', doc],
    ['to nothing', doc, ''],
  ];
  for (const [what, last, text] of cases) {
    const ref = textRefFrom(last, text);
    assert.equal(resolveTextRef(last, ref), text, what);
    let shared = 0;
    while (shared < last.length && shared < text.length && last[shared] === text[shared]) shared++;
    assert.deepEqual([ref.keep, ref.add.length], [shared, text.length - shared], what);
  }
  assert.equal(textRefFrom(`${doc}It was teh age`, `${doc}It was the age`).add, 'he age', 'a fix sends the rest of the line, not the document');
});

test('random edits round-trip: insertions, deletions and replacements anywhere, astral characters included', () => {
  const rand = mulberry32(5);
  const int = (n: number) => Math.floor(rand() * n);
  const pieces = ['a', 'the ', '\n', 'é', '😀', '中文', ' '];
  let last = '';
  for (let i = 0; i < 2000; i++) {
    const at = int(last.length + 1);
    const cut = int(Math.min(4, last.length - at) + 1);
    const text = last.slice(0, at) + (rand() < 0.7 ? pieces[int(pieces.length)] : '') + last.slice(at + cut);
    const ref = textRefFrom(last, text);
    assert.equal(resolveTextRef(last, ref), text, `edit ${i}`);
    assert.ok(ref.add.length <= text.length - Math.min(at, text.length) + 2, `edit ${i} sends from the edit on (${ref.add.length} characters)`);
    last = text;
  }
});

test('a reference that does not fit the last text is refused', () => {
  assert.throws(() => resolveTextRef('abc', { keep: 4, add: '' }), /keeps 4 characters of a text of 3/);
  assert.throws(() => resolveTextRef('abc', { keep: -1, add: '' }), /keeps -1/);
  assert.throws(() => resolveTextRef('abc', { keep: 1.5, add: '' }), /keeps 1.5/);
  assert.throws(() => resolveTextRef('abc', { keep: 1, add: 7 as unknown as string }), /text reference/);
});
