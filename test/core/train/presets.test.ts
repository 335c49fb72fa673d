// Presets to trainer options: the sampled softmax is asked for only where it samples fewer words than the
// vocabulary has (a small workspace trains on the full softmax), and every preset gives valid options.

import assert from 'node:assert/strict';
import test from 'node:test';
import { dropoutFor, PRESETS, trainingPlan } from '../../../src/core/train/presets.js';
import { settingsFromFlags } from '../../../src/cli/settings-flags.js';
import { validateTrainOptions } from '../../../src/core/train/trainer.js';

test('the sampled softmax applies only when K is below the vocabulary size', () => {
  const small = PRESETS.small!;
  assert.ok(small.samples > 0);
  const big = trainingPlan(small, 10_000).options;
  assert.deepEqual(big.sampled, { samples: small.samples, vocab: 10_000, fullEpochs: small.fullSoftmaxEpochs });
  assert.equal(trainingPlan(small, small.samples).options.sampled, undefined, 'K = V: the full softmax');
  assert.equal(trainingPlan(small, 300).options.sampled, undefined, 'a vocabulary smaller than K');
  assert.equal(trainingPlan(PRESETS.workspace!, 10_000).options.sampled, undefined, 'samples 0: the full softmax');
});

test('every preset makes valid trainer options', () => {
  for (const [name, s] of Object.entries(PRESETS)) {
    assert.doesNotThrow(() => validateTrainOptions(trainingPlan(s, 5000).options), name);
  }
});

test('dropoutFor: a preset\'s small-data dropout below its size, and a --dropout given applies at any size', () => {
  const s = { dropout: 0.2, smallDropout: { belowTokens: 100, dropout: 0.5 } };
  assert.equal(dropoutFor(s, 99), 0.5);
  assert.equal(dropoutFor(s, 100), 0.2);
  assert.equal(dropoutFor(s), 0.2);
  assert.equal(dropoutFor({ dropout: 0.3 }, 1), 0.3);
  assert.equal(dropoutFor(settingsFromFlags({ preset: 'small' }).settings, 1000), 0.4);
  assert.equal(dropoutFor(settingsFromFlags({ preset: 'small', dropout: '0.25' }).settings, 1000), 0.25);
});
