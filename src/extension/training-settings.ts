// The model that "Train on Workspace" trains: a preset from the settings (`nextword.training.preset`),
// raw overrides from `nextword.training.advanced` (named like the `nextword train` flags), and the time
// budget. Pure: the caller reads the settings (config.ts) and passes plain values.
//
// Both presets (core/train/presets.ts) use Adam at a small rate: unlike the CLI's SGD-at-20 recipe for long runs,
// it gets a usable model out of a few minutes of training on a few hundred thousand tokens.

import type { CellType, OptimizerType } from '../core/model/model-config.js';
import { PRESETS, type TrainSettings } from '../core/train/presets.js';

export type PresetName = 'small' | 'medium';

/** The presets live in core (so `nextword train --preset small` trains what the extension trains). */
export const TRAINING_PRESETS: Readonly<Record<PresetName, Readonly<TrainSettings>>> = {
  small: PRESETS.small!,
  medium: PRESETS.medium!,
};

/** The keys of `nextword.training.advanced`, with the value each must have. */
const ADVANCED_KEYS = {
  cell: { kind: 'enum', values: ['lstm', 'rnn'] },
  layers: { kind: 'int', min: 1, max: 3 },
  hidden: { kind: 'int', min: 8, max: 4096 },
  embed: { kind: 'int', min: 8, max: 4096 },
  vocab: { kind: 'int', min: 100, max: 1_000_000 },
  minCount: { kind: 'int', min: 1 },
  tied: { kind: 'bool' },
  dropout: { kind: 'number', min: 0, max: 0.9 },
  batch: { kind: 'int', min: 1, max: 1024 },
  bptt: { kind: 'int', min: 1, max: 400 },
  lr: { kind: 'number', min: 1e-9, max: 100 },
  optimizer: { kind: 'enum', values: ['sgd', 'adam'] },
  clip: { kind: 'number', min: 0 },
  epochs: { kind: 'int', min: 1, max: 1000 },
  patience: { kind: 'int', min: 0, max: 1000 },
  seed: { kind: 'int' },
  samples: { kind: 'int', min: 0 },
  fullSoftmaxEpochs: { kind: 'int', min: 0 },
} as const satisfies Record<string, Rule>;

type Rule =
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'int' | 'number'; min?: number; max?: number }
  | { kind: 'bool' };

export interface AdvancedOverrides {
  cell?: CellType;
  layers?: number;
  hidden?: number;
  embed?: number;
  vocab?: number;
  minCount?: number;
  tied?: boolean;
  dropout?: number;
  batch?: number;
  bptt?: number;
  lr?: number;
  optimizer?: OptimizerType;
  clip?: number;
  epochs?: number;
  patience?: number;
  seed?: number;
  samples?: number;
  fullSoftmaxEpochs?: number;
}

/** Bad training settings; the message names every offending setting. */
export class TrainingSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Nextword training settings are invalid: ${problems.join('; ')}`);
    this.name = 'TrainingSettingsError';
  }
}

export interface TrainingSettingsInput {
  preset: string;
  /** The raw value of `nextword.training.advanced` (anything the user wrote). */
  advanced: unknown;
  /** 0: no budget (train until validation stops improving, or for the epochs). */
  timeBudgetMinutes: number;
}

/**
 * The settings a training run uses: the preset, then each advanced override. Throws
 * TrainingSettingsError listing every problem (unknown preset, unknown key, value of the wrong type or
 * out of range, tied weights with different embedding and hidden widths).
 */
export function resolveTrainSettings(input: TrainingSettingsInput): { preset: PresetName; settings: TrainSettings } {
  const problems: string[] = [];
  const preset = input.preset as PresetName;
  const base = Object.hasOwn(TRAINING_PRESETS, preset) ? TRAINING_PRESETS[preset] : undefined;
  if (!base) problems.push(`nextword.training.preset must be ${Object.keys(TRAINING_PRESETS).map((p) => `"${p}"`).join(' or ')} (got ${JSON.stringify(input.preset)})`);
  const overrides = parseAdvanced(input.advanced, problems);
  const minutes = input.timeBudgetMinutes;
  if (!(typeof minutes === 'number' && Number.isFinite(minutes) && minutes >= 0)) {
    problems.push(`nextword.training.timeBudgetMinutes must be a number ≥ 0 (got ${JSON.stringify(minutes)})`);
  }
  if (problems.length > 0 || !base) throw new TrainingSettingsError(problems);

  const s: TrainSettings = { ...base, ...overrides, timeBudget: minutes * 60 };
  if (overrides.dropout !== undefined) delete s.smallDropout; // the user's, whatever the size
  if (s.tied && s.embed !== s.hidden) {
    // As the CLI does: a preset that ties follows the width the user chose, unless both were set.
    if (overrides.embed !== undefined && overrides.hidden !== undefined) {
      throw new TrainingSettingsError([
        `nextword.training.advanced: tied weights need embed equal to hidden (got embed ${s.embed}, hidden ${s.hidden}); set "tied": false or make them equal`,
      ]);
    }
    if (overrides.embed !== undefined) s.hidden = s.embed;
    else s.embed = s.hidden;
  }
  return { preset, settings: s };
}

function parseAdvanced(raw: unknown, problems: string[]): AdvancedOverrides {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`nextword.training.advanced must be an object (got ${describe(raw)})`);
    return {};
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const where = `nextword.training.advanced.${key}`;
    const rule: Rule | undefined = Object.hasOwn(ADVANCED_KEYS, key) ? ADVANCED_KEYS[key as keyof typeof ADVANCED_KEYS] : undefined;
    if (!rule) {
      problems.push(`${where} is not a known setting (known: ${Object.keys(ADVANCED_KEYS).join(', ')})`);
      continue;
    }
    const problem = check(rule, value);
    if (problem) problems.push(`${where} ${problem}`);
    else out[key] = value;
  }
  return out as AdvancedOverrides;
}

/** What is wrong with `value` under `rule`, or undefined when it is fine. */
function check(rule: Rule, value: unknown): string | undefined {
  switch (rule.kind) {
    case 'enum':
      return typeof value === 'string' && rule.values.includes(value) ? undefined : `must be one of ${rule.values.map((v) => `"${v}"`).join(', ')} (got ${describe(value)})`;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `must be true or false (got ${describe(value)})`;
    case 'int':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return `must be a number (got ${describe(value)})`;
      if (rule.kind === 'int' && !Number.isInteger(value)) return `must be a whole number (got ${value})`;
      if (rule.min !== undefined && value < rule.min) return `must be at least ${rule.min} (got ${value})`;
      if (rule.max !== undefined && value > rule.max) return `must be at most ${rule.max} (got ${value})`;
      return undefined;
    }
  }
}

/** Threads for training: the setting, or with 0 all cores but one (at least one). */
export function trainingThreads(setting: number, cores: number): number {
  if (Number.isInteger(setting) && setting > 0) return setting;
  return Math.max(1, Math.floor(cores) - 1);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}
