// The type-through cache on its own: which items survive typing, and when an entry does not answer.

import test from 'node:test';
import assert from 'node:assert/strict';

import { TypeThroughCache, type ShownSuggestion } from '../../../src/core/completion/type-through-cache.js';

const source = {};
// "the qu║" with two alternatives over the columns of "qu" (4..6).
const shown: ShownSuggestion = {
  source,
  textBefore: 'x\nthe qu',
  lineSuffix: ')',
  character: 6,
  explicit: true,
  items: [
    { insertText: 'quick brown', startCharacter: 4, endCharacter: 6, confidence: 0.5 },
    { insertText: 'quiet', startCharacter: 4, endCharacter: 6, confidence: 0.2 },
  ],
};
const typed = (text: string, extra: Partial<{ lineSuffix: string; character: number; explicit: boolean }> = {}) => ({
  textBefore: 'x\nthe ' + text,
  lineSuffix: ')',
  character: 4 + text.length,
  explicit: false,
  ...extra,
});

test('typing on keeps the items whose ghost text begins with what was typed, up to the new cursor', () => {
  const cache = new TypeThroughCache();
  cache.set('doc', shown);
  assert.deepEqual(cache.lookup('doc', typed('qui'), source)?.map((i) => [i.insertText, i.startCharacter, i.endCharacter]), [
    ['quick brown', 4, 7],
    ['quiet', 4, 7],
  ]);
  assert.deepEqual(cache.lookup('doc', typed('quick b'), source)?.map((i) => i.insertText), ['quick brown']);
  assert.equal(cache.lookup('doc', typed('quiet'), source), undefined, 'all of it typed: nothing left to show');
  assert.equal(cache.lookup('doc', typed('qux'), source), undefined, 'typed something else');
  assert.equal(cache.lookup('doc', typed('qu'), source), undefined, 'nothing typed');
  assert.equal(cache.lookup('doc', typed('q'), source), undefined, 'deleted');
});

test('an entry does not answer for another document, model, line suffix or column', () => {
  const cache = new TypeThroughCache();
  cache.set('doc', shown);
  assert.equal(cache.lookup('other', typed('qui'), source), undefined);
  assert.equal(cache.lookup('doc', typed('qui'), {}), undefined, 'another model');
  assert.equal(cache.lookup('doc', typed('qui', { lineSuffix: '' }), source), undefined);
  assert.equal(cache.lookup('doc', typed('qui', { character: 9 }), source), undefined);
  assert.ok(cache.lookup('doc', typed('qui', { explicit: true }), source), 'an explicit entry answers explicit requests');
  cache.set('doc', { ...shown, explicit: false });
  assert.equal(cache.lookup('doc', typed('qui', { explicit: true }), source), undefined, 'an implicit one does not');
  cache.delete('doc');
  assert.equal(cache.size, 0);
});
