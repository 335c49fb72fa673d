// The decisions of a training run that the CLI and the editor share (runtime/training/pipeline.ts runs
// them): which files train, validate and test, whether there is enough to learn from, and the model and
// options its settings give for the vocabulary and tokens the texts came to, within its time budget.

import { splitByFile } from '../corpus/file-split.js';
import { parameterCount, type ModelConfig } from '../model/model-config.js';
import { MIXTURE_FIT_TOKENS } from '../serving/mixture-model.js';
import { trainingPlan, type TrainSettings } from '../train/presets.js';
import type { TrainOptions } from '../train/trainer.js';

/** A run ended because its input has nothing, or too little, to learn from: the user's to fix, not a failure. */
export class TrainingRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingRefused';
  }
}

/** The seed of the held-out (test) split, so it differs from the validation split's (seed 0). */
export const TEST_SPLIT_SEED = 1;

/**
 * A project's files split by whole file: with `testFraction`, a deterministic share held out first (seed
 * TEST_SPLIT_SEED), then the rest into training and validation. Refused below the files that needs;
 * `where` and `report` (what was read and skipped) go into the message.
 */
export function splitProject<T extends { relPath: string }>(
  files: readonly T[],
  opts: { validFraction: number; testFraction?: number; where: string; report: string },
): { train: T[]; valid: T[]; heldOut: T[] } {
  const testFraction = opts.testFraction ?? 0;
  if (files.length === 0) throw new TrainingRefused(`no text files to train on in ${opts.where}\n${opts.report}`);
  const needed = testFraction > 0 ? 3 : 2;
  if (files.length < needed) {
    throw new TrainingRefused(
      `only ${files.length} usable file${files.length === 1 ? '' : 's'} in ${opts.where}: at least ${needed} are needed ` +
        `(one is held out to measure the model${testFraction > 0 ? ', one more to test it' : ''})\n${opts.report}`,
    );
  }
  const { train: rest, valid: heldOut } = testFraction > 0 ? splitByFile(files, testFraction, TEST_SPLIT_SEED) : { train: [...files], valid: [] };
  if (rest.length < 2) throw new TrainingRefused(`holding out ${testFraction} of the files for the test leaves ${rest.length} to train and validate on; at least two are needed`);
  return { ...splitByFile(rest, opts.validFraction), heldOut };
}

/** Validation tokens a second the end of a run scores to fit the mixture (the network's scoring graph, the n-gram model, EM). */
const FIT_TOKENS_PER_S = 15_000;

/**
 * Seconds that checking the completion threshold may take: typing the validation pieces
 * (calibrationPieces) once, or a few times when it walks up (docs/quality.md, "Each model's threshold").
 */
const CALIBRATION_SECONDS = 30;

/**
 * Seconds the network may train so that the whole run, `spent` seconds in, ends within `budget`: less what
 * fitting the mixture on the validation tokens (at most MIXTURE_FIT_TOKENS), choosing the completion
 * threshold and saving take; at least a tenth of the budget.
 */
export function networkBudget(budget: number, spent: number, validTokens: number): number {
  const after = 5 + CALIBRATION_SECONDS + Math.min(validTokens, MIXTURE_FIT_TOKENS) / FIT_TOKENS_PER_S;
  return Math.max(budget / 10, budget - spent - after);
}

/** What the texts came to, once encoded. */
export interface TextCounts {
  vocabSize: number;
  trainTokens: number;
  validTokens: number;
}

export interface RunPlan {
  cfg: ModelConfig;
  options: TrainOptions;
  params: number;
}

/**
 * The model and trainer options of settings `s` for the texts' counts. `wholeRun`: the time budget bounds
 * the whole run, `spentS` seconds of it gone (the editor's), rather than the network's training alone (the
 * CLI's). Refused when the texts cannot fill two batches or leave nothing to validate on.
 */
export function planRun(s: TrainSettings, counts: TextCounts, wholeRun?: { spentS: number }): RunPlan {
  if (counts.trainTokens < s.batch * 2 || counts.validTokens < 2) {
    throw new TrainingRefused(
      `too little text to train on: ${counts.trainTokens} training and ${counts.validTokens} validation tokens ` +
        `(at least ${s.batch * 2} and 2 are needed)`,
    );
  }
  const { cfg, options } = trainingPlan(s, counts.vocabSize, counts.trainTokens);
  if (wholeRun && s.timeBudget > 0) options.timeBudget = networkBudget(s.timeBudget, wholeRun.spentS, counts.validTokens);
  return { cfg, options, params: parameterCount(cfg) };
}
