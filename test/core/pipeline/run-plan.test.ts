import assert from 'node:assert/strict';
import test from 'node:test';
import { splitByFile } from '../../../src/core/corpus/file-split.js';
import { networkBudget, planRun, splitProject, TEST_SPLIT_SEED, TrainingRefused } from '../../../src/core/pipeline/run-plan.js';
import { PRESETS, trainingPlan } from '../../../src/core/train/presets.js';

const files = (n: number) => Array.from({ length: n }, (_, i) => ({ relPath: `docs/f${i}.md` }));
const where = { where: '/w', report: 'took 3 files; nothing skipped' };

test('a project is split by whole file: a test share first (its own seed), then validation, every file on one side', () => {
  const all = files(40);
  const { train, valid, heldOut } = splitProject(all, { validFraction: 0.1, testFraction: 0.2, ...where });
  assert.deepEqual(heldOut, splitByFile(all, 0.2, TEST_SPLIT_SEED).valid);
  const rest = splitByFile(all, 0.2, TEST_SPLIT_SEED).train;
  assert.deepEqual({ train, valid }, splitByFile(rest, 0.1));
  assert.equal(train.length + valid.length + heldOut.length, 40);
  assert.equal(new Set([...train, ...valid, ...heldOut].map((f) => f.relPath)).size, 40);
  // Without a test share nothing is held out, and the split is splitByFile's.
  const plain = splitProject(all, { validFraction: 0.1, ...where });
  assert.deepEqual(plain, { ...splitByFile(all, 0.1), heldOut: [] });
});

test('a project with nothing, or too few files, to learn from is refused, saying why and what was read', () => {
  assert.throws(() => splitProject([], { validFraction: 0.1, ...where }), (e: Error) => e instanceof TrainingRefused && /no text files to train on in \/w\ntook 3 files/.test(e.message));
  assert.throws(() => splitProject(files(1), { validFraction: 0.1, ...where }), (e: Error) => e instanceof TrainingRefused && /only 1 usable file in \/w: at least 2 are needed/.test(e.message));
  assert.throws(() => splitProject(files(2), { validFraction: 0.1, testFraction: 0.3, ...where }), (e: Error) => e instanceof TrainingRefused && /at least 3 are needed.*one more to test it/.test(e.message));
  assert.doesNotThrow(() => splitProject(files(2), { validFraction: 0.1, ...where }));
});

test('the plan is the settings\' model and options for the texts\' counts; too little text is refused', () => {
  const s = { ...PRESETS.small!, timeBudget: 0 };
  const plan = planRun(s, { vocabSize: 500, trainTokens: 100_000, validTokens: 5_000 });
  assert.deepEqual({ cfg: plan.cfg, options: plan.options }, trainingPlan(s, 500, 100_000));
  assert.ok(plan.params > 0);
  assert.throws(() => planRun(s, { vocabSize: 50, trainTokens: s.batch * 2 - 1, validTokens: 100 }), TrainingRefused);
  assert.throws(() => planRun(s, { vocabSize: 50, trainTokens: 100_000, validTokens: 1 }), TrainingRefused);
});

test('with a whole-run budget the network gets what is left of it; otherwise the budget is the network\'s own', () => {
  const s = { ...PRESETS.small!, timeBudget: 600 };
  const counts = { vocabSize: 500, trainTokens: 100_000, validTokens: 150_000 };
  assert.equal(planRun(s, counts).options.timeBudget, 600);
  assert.equal(planRun(s, counts, { spentS: 20 }).options.timeBudget, networkBudget(600, 20, 150_000));
  assert.equal(planRun({ ...s, timeBudget: 0 }, counts, { spentS: 20 }).options.timeBudget, 0, 'no budget stays none');
});

test('the network trains for what is left of the whole run\'s budget, less the end\'s fit, threshold and save; at least a tenth of it', () => {
  // 600 s, 20 s spent reading: 5 s to save, 30 s to choose the threshold and 150,000 / 15,000 = 10 s to fit come off too.
  assert.equal(networkBudget(600, 20, 150_000), 600 - 20 - 45);
  // The fit reads at most MIXTURE_FIT_TOKENS validation tokens: 200,000 / 15,000 s.
  assert.ok(Math.abs(networkBudget(600, 0, 5_000_000) - (600 - 35 - 200_000 / 15_000)) < 1e-9);
  // A run whose reading took nearly all of it still trains a tenth of the budget.
  assert.equal(networkBudget(600, 590, 1000), 60);
});
