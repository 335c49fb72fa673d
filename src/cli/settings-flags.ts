// The model and training flags shared by `train` and `bench train`: a preset, then flags over it.

import { DEFAULT_PRESET, PRESETS, type TrainSettings } from '../core/train/presets.js';
import { num, oneOf, UsageError } from './args.js';

/** parseArgs option specs of the settings flags. */
export const SETTINGS_OPTIONS = {
  preset: { type: 'string' },
  tokenizer: { type: 'string' },
  cell: { type: 'string' },
  layers: { type: 'string' },
  hidden: { type: 'string' },
  embed: { type: 'string' },
  vocab: { type: 'string' },
  'min-count': { type: 'string' },
  tie: { type: 'boolean' },
  'no-tie': { type: 'boolean' },
  dropout: { type: 'string' },
  batch: { type: 'string' },
  bptt: { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  clip: { type: 'string' },
  epochs: { type: 'string' },
  patience: { type: 'string' },
  'time-budget': { type: 'string' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  weights: { type: 'string' },
  samples: { type: 'string' },
  'full-softmax-epochs': { type: 'string' },
} as const;

type FlagValues = { [K in keyof typeof SETTINGS_OPTIONS]?: (typeof SETTINGS_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** The preset named by --preset (or `fallback`) with every given flag applied and checked. */
export function settingsFromFlags(values: FlagValues, fallback = DEFAULT_PRESET): { name: string; settings: TrainSettings; threads: number } {
  const name = values.preset ?? fallback;
  const preset = PRESETS[name];
  if (!preset) throw new UsageError(`unknown preset "${name}" (choose ${Object.keys(PRESETS).join(', ')})`);
  const s: TrainSettings = { ...preset };
  s.tokenizer = oneOf(values.tokenizer, 'tokenizer', ['text', 'whitespace'] as const) ?? s.tokenizer;
  s.cell = oneOf(values.cell, 'cell', ['lstm', 'rnn'] as const) ?? s.cell;
  s.layers = num(values.layers, 'layers', { int: true, min: 1, max: 3 }) ?? s.layers;
  s.hidden = num(values.hidden, 'hidden', { int: true, min: 1 }) ?? s.hidden;
  s.embed = num(values.embed, 'embed', { int: true, min: 1 }) ?? s.embed;
  s.vocab = num(values.vocab, 'vocab', { int: true, min: 2 }) ?? s.vocab;
  s.minCount = num(values['min-count'], 'min-count', { int: true, min: 1 }) ?? s.minCount;
  if (values.tie && values['no-tie']) throw new UsageError('--tie and --no-tie contradict each other');
  if (values.tie) s.tied = true;
  if (values['no-tie']) s.tied = false;
  const dropout = num(values.dropout, 'dropout', { min: 0, max: 0.95 });
  if (dropout !== undefined) {
    s.dropout = dropout;
    delete s.smallDropout; // the user's, whatever the size
  }
  s.batch = num(values.batch, 'batch', { int: true, min: 1 }) ?? s.batch;
  s.bptt = num(values.bptt, 'bptt', { int: true, min: 1, max: 400 }) ?? s.bptt;
  s.lr = num(values.lr, 'lr', { min: 1e-9 }) ?? s.lr;
  s.optimizer = oneOf(values.optimizer, 'optimizer', ['sgd', 'adam'] as const) ?? s.optimizer;
  s.clip = num(values.clip, 'clip', { min: 0 }) ?? s.clip;
  s.epochs = num(values.epochs, 'epochs', { int: true, min: 1 }) ?? s.epochs;
  s.patience = num(values.patience, 'patience', { int: true, min: 0 }) ?? s.patience;
  s.timeBudget = num(values['time-budget'], 'time-budget', { min: 0 }) ?? s.timeBudget;
  s.seed = num(values.seed, 'seed', { int: true }) ?? s.seed;
  s.weights = oneOf(values.weights, 'weights', ['float32', 'float16'] as const) ?? s.weights;
  s.samples = num(values.samples, 'samples', { int: true, min: 0 }) ?? s.samples;
  s.fullSoftmaxEpochs = num(values['full-softmax-epochs'], 'full-softmax-epochs', { int: true, min: 0 }) ?? s.fullSoftmaxEpochs;
  const threads = num(values.threads, 'threads', { int: true, min: 0 }) ?? 0;
  if (s.tied && s.embed !== s.hidden) {
    if (values.embed !== undefined && values.hidden !== undefined) throw new UsageError('--tie needs --embed equal to --hidden');
    s.embed = s.hidden; // the preset ties; follow the width the user chose
  }
  return { name, settings: s, threads };
}
