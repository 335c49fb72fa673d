// Train on Workspace's settings: the two presets, raw overrides with the `nextword train` flag names, the
// time budget, and every invalid value named in one error.

import test from 'node:test';
import assert from 'node:assert/strict';

import { parameterCount } from '../../src/core/model/model-config.js';
import { trainingPlan } from '../../src/core/train/presets.js';
import { resolveTrainSettings, TRAINING_PRESETS, trainingThreads, TrainingSettingsError } from '../../src/extension/training-settings.js';

test('the presets are the documented sizes: small 1×256 vocabulary 10k, medium 2×384 vocabulary 20k, Adam, sampled softmax', () => {
  const small = resolveTrainSettings({ preset: 'small', advanced: {}, timeBudgetMinutes: 0 }).settings;
  const medium = resolveTrainSettings({ preset: 'medium', advanced: {}, timeBudgetMinutes: 0 }).settings;
  assert.deepEqual([small.layers, small.hidden, small.embed, small.vocab, small.tied], [1, 256, 256, 10_000, true]);
  assert.deepEqual([medium.layers, medium.hidden, medium.embed, medium.vocab, medium.tied], [2, 384, 384, 20_000, true]);
  for (const s of [small, medium]) {
    assert.deepEqual([s.optimizer, s.lr, s.clip, s.dropout, s.bptt, s.batch, s.tokenizer], ['adam', 0.002, 1, 0.2, 35, 40, 'text']);
  }
  // About a tenth of the vocabulary per step (README, "Training faster").
  assert.deepEqual([small.samples, medium.samples], [1024, 2048]);
  // package.json's enumDescriptions promise "trains in minutes" for small: it is the smaller model.
  const size = (s: typeof small) => parameterCount({ cell: s.cell, layers: s.layers, vocab: s.vocab, embed: s.embed, hidden: s.hidden, tied: s.tied });
  assert.ok(size(small) < size(medium));
});

test('the time budget is given in minutes and used in seconds; 0 means none', () => {
  assert.equal(resolveTrainSettings({ preset: 'small', advanced: {}, timeBudgetMinutes: 2.5 }).settings.timeBudget, 150);
  assert.equal(resolveTrainSettings({ preset: 'small', advanced: {}, timeBudgetMinutes: 0 }).settings.timeBudget, 0);
});

test('advanced values override the preset, and the preset itself is left unchanged', () => {
  const { settings } = resolveTrainSettings({
    preset: 'small',
    advanced: { epochs: 3, lr: 0.01, optimizer: 'sgd', minCount: 1, dropout: 0, cell: 'rnn', seed: 7 },
    timeBudgetMinutes: 1,
  });
  assert.deepEqual(
    [settings.epochs, settings.lr, settings.optimizer, settings.minCount, settings.dropout, settings.cell, settings.seed],
    [3, 0.01, 'sgd', 1, 0, 'rnn', 7],
  );
  assert.equal(settings.hidden, 256, 'what is not overridden comes from the preset');
  assert.equal(TRAINING_PRESETS.small.lr, 0.002);
  assert.equal(TRAINING_PRESETS.small.optimizer, 'adam');
});

test('the preset\'s dropout follows the workspace\'s size, unless the user set one', () => {
  const { settings } = resolveTrainSettings({ preset: 'small', advanced: {}, timeBudgetMinutes: 10 });
  assert.equal(trainingPlan(settings, 5000, 299_999).options.dropout, 0.4);
  assert.equal(trainingPlan(settings, 5000, 300_000).options.dropout, 0.2);
  assert.equal(trainingPlan(settings, 5000).options.dropout, 0.2, 'size unknown: the preset\'s');
  const own = resolveTrainSettings({ preset: 'small', advanced: { dropout: 0.1 }, timeBudgetMinutes: 10 }).settings;
  assert.equal(trainingPlan(own, 5000, 1000).options.dropout, 0.1);
});

test('with tied weights, a width set on one side is followed by the other', () => {
  const hidden = resolveTrainSettings({ preset: 'small', advanced: { hidden: 128 }, timeBudgetMinutes: 0 }).settings;
  assert.deepEqual([hidden.hidden, hidden.embed], [128, 128]);
  const embed = resolveTrainSettings({ preset: 'medium', advanced: { embed: 200 }, timeBudgetMinutes: 0 }).settings;
  assert.deepEqual([embed.hidden, embed.embed], [200, 200]);
  const untied = resolveTrainSettings({ preset: 'small', advanced: { tied: false, embed: 64 }, timeBudgetMinutes: 0 }).settings;
  assert.deepEqual([untied.hidden, untied.embed, untied.tied], [256, 64, false]);
});

test('tied weights with two different widths set explicitly is refused with a hint', () => {
  assert.throws(
    () => resolveTrainSettings({ preset: 'small', advanced: { hidden: 128, embed: 64 }, timeBudgetMinutes: 0 }),
    (e: unknown) => e instanceof TrainingSettingsError && /tied weights need embed equal to hidden/.test(e.message) && /"tied": false/.test(e.message),
  );
});

test('every invalid setting is named in one error', () => {
  let error: TrainingSettingsError | undefined;
  try {
    resolveTrainSettings({
      preset: 'huge',
      advanced: { layers: 4, lr: 'fast', optimizer: 'rmsprop', batch: 2.5, tied: 'yes', colour: 'blue' },
      timeBudgetMinutes: -1,
    });
  } catch (e) {
    error = e as TrainingSettingsError;
  }
  assert.ok(error instanceof TrainingSettingsError, 'throws a TrainingSettingsError');
  const expected = [
    /nextword\.training\.preset must be "small" or "medium" \(got "huge"\)/,
    /advanced\.layers must be at most 3 \(got 4\)/,
    /advanced\.lr must be a number \(got "fast"\)/,
    /advanced\.optimizer must be one of "sgd", "adam" \(got "rmsprop"\)/,
    /advanced\.batch must be a whole number \(got 2\.5\)/,
    /advanced\.tied must be true or false/,
    /advanced\.colour is not a known setting/,
    /timeBudgetMinutes must be a number ≥ 0/,
  ];
  assert.equal(error.problems.length, expected.length, error.problems.join('\n'));
  for (const re of expected) assert.match(error.message, re);
});

test('advanced must be an object; null and absent mean no overrides', () => {
  assert.throws(() => resolveTrainSettings({ preset: 'small', advanced: [1, 2], timeBudgetMinutes: 0 }), /advanced must be an object \(got a list\)/);
  assert.equal(resolveTrainSettings({ preset: 'small', advanced: null, timeBudgetMinutes: 0 }).settings.epochs, TRAINING_PRESETS.small.epochs);
  assert.equal(resolveTrainSettings({ preset: 'small', advanced: undefined, timeBudgetMinutes: 0 }).settings.epochs, TRAINING_PRESETS.small.epochs);
});

test('inherited object keys are not settings', () => {
  assert.throws(() => resolveTrainSettings({ preset: 'toString', advanced: {}, timeBudgetMinutes: 0 }), /preset must be/);
  assert.throws(() => resolveTrainSettings({ preset: 'small', advanced: { constructor: 1 }, timeBudgetMinutes: 0 }), /constructor is not a known setting/);
});

test('training threads: the setting, or all cores but one (at least one)', () => {
  assert.equal(trainingThreads(3, 8), 3);
  assert.equal(trainingThreads(0, 8), 7);
  assert.equal(trainingThreads(0, 2), 1);
  assert.equal(trainingThreads(0, 1), 1);
});
