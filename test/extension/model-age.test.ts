import assert from 'node:assert/strict';
import test from 'node:test';
import { MIN_CHANGED, STALE_DAYS, staleness } from '../../src/extension/model-age.js';

test('a model is stale when trained long ago, or when a good share of the files changed since', () => {
  assert.equal(staleness({ ageDays: 2, changed: 3, sampled: 400 }), undefined, 'fresh');
  assert.equal(staleness({ ageDays: STALE_DAYS + 0.5, changed: 0, sampled: 400 }), `it was trained ${STALE_DAYS} days ago`);
  assert.equal(staleness({ ageDays: 3.2, changed: 120, sampled: 400 }), '120 of the 400 files looked at changed since it was trained 3 days ago');
  assert.equal(staleness({ ageDays: 0.1, changed: 30, sampled: 100 }), '30 of the 100 files looked at changed since it was trained');
  assert.equal(staleness({ ageDays: 1, changed: MIN_CHANGED - 1, sampled: MIN_CHANGED }), undefined, 'a small workspace needs at least MIN_CHANGED changed files');
  assert.equal(staleness({ ageDays: 1, changed: 90, sampled: 400 }), undefined, 'under a quarter changed');
});
