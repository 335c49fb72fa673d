// What ghost text saved: accepts recognised from document edits (whole, word by word, not typing through),
// and the ledger of characters and keystrokes per day and in all.

import test from 'node:test';
import assert from 'node:assert/strict';

import { acceptedChars, emptyLedger, keystrokesSaved, KEPT_DAYS, ledgerFrom, localDay, recordAccept, type Offered } from '../../../src/core/completion/savings.js';

// The user typed "The mod" (line 3); the suggestion starts at the word: "model server answers".
const offered: Offered = { line: 3, start: 4, text: 'model server answers' };

test('a whole accept (Tab) replaces the typed start of the word with the suggestion', () => {
  assert.equal(acceptedChars(offered, { line: 3, character: 4, removed: 3, inserted: 'model server answers' }), 17);
  // Or inserts the rest at the cursor.
  assert.equal(acceptedChars(offered, { line: 3, character: 7, removed: 0, inserted: 'el server answers' }), 17);
});

test('word by word (Ctrl+Right): each inserted piece of the suggestion, where it belongs', () => {
  assert.equal(acceptedChars(offered, { line: 3, character: 7, removed: 0, inserted: 'el' }), 2);
  assert.equal(acceptedChars(offered, { line: 3, character: 9, removed: 0, inserted: ' server' }), 7);
});

test('typing is not an accept: one character at a time, text that is not the suggestion, another line, a new line', () => {
  assert.equal(acceptedChars(offered, { line: 3, character: 7, removed: 0, inserted: 'e' }), 0, 'typing through the ghost text');
  assert.equal(acceptedChars(offered, { line: 3, character: 7, removed: 0, inserted: 'al' }), 0, 'not the suggestion');
  assert.equal(acceptedChars(offered, { line: 3, character: 8, removed: 0, inserted: 'el' }), 0, 'the suggestion, but not where it belongs');
  assert.equal(acceptedChars(offered, { line: 4, character: 7, removed: 0, inserted: 'el server' }), 0);
  assert.equal(acceptedChars(offered, { line: 3, character: 7, removed: 0, inserted: 'el\nserver' }), 0);
  assert.equal(acceptedChars(offered, { line: 3, character: 2, removed: 0, inserted: 'model' }), 0, 'before the suggestion');
  assert.equal(acceptedChars(undefined, { line: 3, character: 7, removed: 0, inserted: 'el server' }), 0, 'nothing was shown');
  // Replacing the typed start with itself plus one character gains one: typing, not counted.
  assert.equal(acceptedChars(offered, { line: 3, character: 4, removed: 3, inserted: 'mode' }), 0);
});

test('the ledger: per day and in all; keystrokes saved are characters less one key per accept; old days dropped', () => {
  let l = emptyLedger();
  l = recordAccept(l, '2026-12-06', 17);
  l = recordAccept(l, '2026-12-07', 2);
  l = recordAccept(l, '2026-12-07', 7);
  assert.deepEqual(l.days['2026-12-07'], { accepts: 2, chars: 9 });
  assert.deepEqual(l.total, { accepts: 3, chars: 26 });
  assert.equal(keystrokesSaved(l.days['2026-12-07']!), 7);
  assert.equal(keystrokesSaved(l.total), 23);
  for (let d = 1; d <= KEPT_DAYS + 5; d++) l = recordAccept(l, `2027-${String(Math.ceil(d / 28)).padStart(2, '0')}-${String(((d - 1) % 28) + 1).padStart(2, '0')}`, 3);
  assert.equal(Object.keys(l.days).length, KEPT_DAYS);
  assert.ok(!('2026-12-06' in l.days), 'the oldest days go');
  assert.equal(l.total.accepts, 3 + KEPT_DAYS + 5, 'the total keeps them');
});

test('a stored ledger is read back, anything else is an empty one', () => {
  const l = recordAccept(emptyLedger(), '2026-12-07', 5);
  assert.deepEqual(ledgerFrom(JSON.parse(JSON.stringify(l))), l);
  assert.deepEqual(ledgerFrom(undefined), emptyLedger());
  assert.deepEqual(ledgerFrom({ total: { accepts: 'x' } }), emptyLedger());
  assert.deepEqual(ledgerFrom({ total: { accepts: 1, chars: 5 }, days: { nonsense: { accepts: 1, chars: 5 }, '2026-12-07': { accepts: 1, chars: 5 } } }).days, {
    '2026-12-07': { accepts: 1, chars: 5 },
  });
  assert.equal(localDay(new Date(2026, 0, 5, 23, 59)), '2026-01-05');
});
