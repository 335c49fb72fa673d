// Errors injected on purpose: each kind changes what it says, records where, and leaves the rest alone.

import test from 'node:test';
import assert from 'node:assert/strict';

import { injectErrors } from '../../../src/core/scoring/error-injection.js';
import { mulberry32 } from '../../../src/core/support/random.js';

const TEXT = [
  'The model reads every file of the workspace before training starts.',
  'It keeps the best weights, and writes them when training stops.',
  'x = compute(value_1, 42);',
].join('\n');

/** Splices the errors back: the corrupted text with each error's original in place is the text. */
function undo(corrupted: string, errors: { start: number; end: number; original: string }[]): string {
  let out = corrupted;
  for (const e of [...errors].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.original + out.slice(e.end);
  return out;
}

test('typo: one letter edit in words of four letters or more; the rest of the text unchanged', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const { text, errors } = injectErrors(TEXT, 'typo', { rand: mulberry32(seed), every: 5 });
    assert.ok(errors.length >= 2, `seed ${seed}: ${errors.length} errors`);
    assert.equal(undo(text, errors), TEXT, `seed ${seed}`);
    for (const e of errors) {
      assert.equal(text.slice(e.start, e.end), e.replacement);
      assert.notEqual(e.replacement, e.original);
      assert.match(e.original, /^ ?\p{L}{4,}$/u);
      // One edit: lengths differ by at most one.
      assert.ok(Math.abs(e.replacement.length - e.original.length) <= 1, `${e.original} → ${e.replacement}`);
    }
    // The code line has no word of letters only with four letters or more but "compute" (a word token).
    assert.ok(!errors.some((e) => /value_1|42/.test(e.original)));
  }
});

test('swap: two adjacent different words on a line, exchanged with their spacing', () => {
  const { text, errors } = injectErrors('the cat sat on the mat', 'swap', { rand: mulberry32(3), every: 100 });
  assert.equal(errors.length, 1);
  const [e] = errors;
  assert.equal(undo(text, errors), 'the cat sat on the mat');
  const [a, b] = e!.original.trim().split(' ');
  assert.equal(e!.replacement.trim(), `${b} ${a}`);
  assert.equal(text.split(' ').length, 6);
  // Never across a line break.
  for (let seed = 1; seed <= 20; seed++) {
    const r = injectErrors('alpha\nbeta gamma', 'swap', { rand: mulberry32(seed) });
    assert.deepEqual(r.errors.map((x) => x.original), ['beta gamma'], `seed ${seed}`);
  }
});

test('real-word: a word replaced by a different frequent word; deterministic for a seed', () => {
  const frequentWords = ['which', 'the', 'model', 'of'];
  const a = injectErrors(TEXT, 'real-word', { rand: mulberry32(9), every: 4, frequentWords });
  const b = injectErrors(TEXT, 'real-word', { rand: mulberry32(9), every: 4, frequentWords });
  assert.deepEqual(a, b);
  assert.ok(a.errors.length >= 3);
  for (const e of a.errors) {
    assert.ok(frequentWords.includes(e.replacement.trim()), e.replacement);
    assert.notEqual(e.replacement.trim(), e.original.trim());
    assert.equal(e.replacement.startsWith(' '), e.original.startsWith(' '), 'the spacing is kept');
  }
  assert.equal(undo(a.text, a.errors), TEXT);
  assert.throws(() => injectErrors(TEXT, 'real-word', { rand: mulberry32(1), frequentWords: ['x1'] }), /frequent/);
});

test('no eligible word: no errors, the text as it was', () => {
  assert.deepEqual(injectErrors('x = 1;\n', 'typo', { rand: mulberry32(1) }), { text: 'x = 1;\n', errors: [] });
  assert.deepEqual(injectErrors('one', 'swap', { rand: mulberry32(1) }), { text: 'one', errors: [] });
});
