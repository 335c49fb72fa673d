// Texts to ids in two passes: the same vocabulary counts and ids as tokenising each text whole, each
// text's size, and `between` after every piece (where the extension yields and checks for cancellation).

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { capTokens, countTextTokens, encodeTexts, TOKENIZE_BLOCK_CHARS } from '../../../src/core/text/text-encoding.js';
import { lineBlocks, tokenize } from '../../../src/core/text/tokenizer.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';

const ALICE = readFileSync(path.join(__dirname, '../../../samples/alice/train.txt'), 'utf8');

test('countTextTokens and encodeTexts equal tokenising each text whole, in both modes', async () => {
  const texts = [ALICE.slice(0, 100_000), '', 'one line without a break', ALICE.slice(100_000, 140_000).replace(/\n/g, '\r\n')];
  for (const mode of ['text', 'whitespace'] as const) {
    const whole = texts.map((t) => tokenize(t, mode));
    const counts = await countTextTokens(texts, { mode });
    assert.deepEqual(counts, Vocabulary.countTokens(whole.flat()), mode);
    const vocab = Vocabulary.build(counts, { maxSize: 500, minCount: 1 });
    const { ids, sizes } = await encodeTexts(texts, vocab, { mode });
    assert.deepEqual(sizes, whole.map((t) => t.length), `${mode}: one size per text`);
    assert.deepEqual([...ids], [...vocab.encode(whole.flat())], `${mode}: the ids`);
  }
});

test('between runs after every piece, and what it throws ends the pass', async () => {
  let calls = 0;
  const long = ALICE.slice(0, 10 * TOKENIZE_BLOCK_CHARS);
  await countTextTokens([long, 'short'], { mode: 'text', between: () => void calls++ });
  const pieces = [...lineBlocks(long, TOKENIZE_BLOCK_CHARS)].length;
  assert.ok(pieces > 5, `the long text is cut (${pieces} pieces)`);
  assert.equal(calls, pieces + 1);
  const vocab = Vocabulary.build(new Map([['a', 1]]), { maxSize: 10, minCount: 1 });
  let n = 0;
  await assert.rejects(
    encodeTexts([ALICE], vocab, {
      mode: 'text',
      between: () => {
        if (++n === 3) throw new Error('cancelled');
      },
    }),
    /cancelled/,
  );
  assert.equal(n, 3);
});

test('capTokens keeps whole texts while they fit, cuts the first if it alone is too long, and leaves a short stream as it is', () => {
  const stream = { ids: Int32Array.from({ length: 10 }, (_, i) => i), sizes: [3, 4, 3] };
  assert.equal(capTokens(stream, 10), stream);
  const capped = capTokens(stream, 8);
  assert.deepEqual(capped.sizes, [3, 4]);
  assert.deepEqual([...capped.ids], [0, 1, 2, 3, 4, 5, 6]);
  const cut = capTokens({ ids: Int32Array.from({ length: 10 }, (_, i) => i), sizes: [10] }, 4);
  assert.deepEqual(cut.sizes, [4]);
  assert.deepEqual([...cut.ids], [0, 1, 2, 3]);
});
