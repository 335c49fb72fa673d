import assert from 'node:assert/strict';
import test from 'node:test';
import { aboutLeft } from '../../src/extension/format.js';
import { trainedMessage } from '../../src/extension/training-progress.js';

test('time left reads in words', () => {
  assert.equal(aboutLeft(12), 'less than a minute');
  assert.equal(aboutLeft(89), 'about 1 minute');
  assert.equal(aboutLeft(6 * 60 + 20), 'about 6 minutes');
  assert.equal(aboutLeft(80 * 60), 'about 1 hour 20 minutes');
  assert.equal(aboutLeft(120 * 60), 'about 2 hours');
  assert.equal(aboutLeft(Number.NaN), 'a while');
});

test('the message of a finished run says what it learned from and what it saves, beside the bundled model', () => {
  assert.equal(
    trainedMessage({ files: 1234, seconds: 372, ksr: 0.337, comparedKsr: 0.181 }),
    'Nextword learned from 1,234 files in 6 minutes. Typing files it did not learn from, it would have saved 34 % of your keystrokes (the bundled model: 18 %). Completions now use it.',
  );
  assert.equal(trainedMessage({ files: 1, seconds: 30, ksr: 0.2 }), 'Nextword learned from 1 file in less than a minute. Typing files it did not learn from, it would have saved 20 % of your keystrokes. Completions now use it.');
  assert.equal(trainedMessage({ files: 12, seconds: 95 }), 'Nextword learned from 12 files in 2 minutes. Completions now use the new model.');
});
