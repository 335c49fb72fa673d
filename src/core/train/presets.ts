// Named training configurations. `ptb-small` is the classic small LSTM of Zaremba et al. (2014) on Penn
// Treebank; `workspace` is the default for a user's own files; `default-model` builds the model the
// extension ships; `tiny` trains in seconds (quick start, tests).

import { dropoutMaskWidths, type CellType, type ModelConfig, type OptimizerType } from '../model/model-config.js';
import type { TokenizerMode } from '../text/tokenizer.js';
import type { LrSchedule, TrainOptions } from './trainer.js';

export interface TrainSettings {
  tokenizer: TokenizerMode;
  cell: CellType;
  layers: number;
  hidden: number;
  embed: number;
  /** Maximum vocabulary size, `<unk>` included. */
  vocab: number;
  /** Words seen fewer times than this become `<unk>`. */
  minCount: number;
  tied: boolean;
  dropout: number;
  batch: number;
  bptt: number;
  lr: number;
  optimizer: OptimizerType;
  clip: number;
  schedule: LrSchedule;
  /** Epochs at most. */
  epochs: number;
  /** Stop after this many epochs in a row without progress on validation (0: run every epoch). */
  patience: number;
  /** Seconds; 0 for none. */
  timeBudget: number;
  seed: number;
  evalBatch: number;
  evalBptt: number;
  /** Share of a folder's files held out for validation (by whole file). */
  validFraction: number;
  /** Uniform initialisation range of the weights. */
  initScale: number;
  /** Precision of the exported model's stored weights (float16 halves the file). */
  weights: 'float32' | 'float16';
  /** Words of the sampled softmax per training step; 0 trains on the full softmax. */
  samples: number;
  /** With a sampled softmax, the last epochs that still use the full one. */
  fullSoftmaxEpochs: number;
  /**
   * On fewer training tokens than `belowTokens`, this dropout instead of `dropout`: a small workspace
   * overfits sooner (set by the extension's presets; a dropout the user gives applies whatever the size).
   */
  smallDropout?: { belowTokens: number; dropout: number };
}

const base: TrainSettings = {
  tokenizer: 'text',
  cell: 'lstm',
  layers: 2,
  hidden: 256,
  embed: 256,
  vocab: 10000,
  minCount: 2,
  tied: true,
  dropout: 0.2,
  batch: 20,
  bptt: 35,
  lr: 20,
  optimizer: 'sgd',
  clip: 0.25,
  schedule: { kind: 'plateau', factor: 4 },
  epochs: 10,
  patience: 0,
  timeBudget: 0,
  seed: 1111,
  evalBatch: 10,
  evalBptt: 64,
  validFraction: 0.1,
  initScale: 0.1,
  weights: 'float32',
  samples: 0,
  fullSoftmaxEpochs: 0,
};

/** What the extension's presets share. */
const extension: TrainSettings = {
  ...base,
  tokenizer: 'text',
  cell: 'lstm',
  tied: true,
  minCount: 2,
  dropout: 0.2,
  batch: 20,
  bptt: 35,
  optimizer: 'adam',
  lr: 0.002,
  clip: 1,
  schedule: { kind: 'plateau', factor: 4 },
  // Until validation stops improving (3 epochs without progress), within the extension's default budget.
  epochs: 100,
  patience: 3,
  timeBudget: 10 * 60,
};

/**
 * The streams that go with a sampled softmax (about a tenth of the vocabulary per step, set per preset):
 * 40 of them give 2.6 times the tokens per second of the full softmax at 20 streams, and on Penn Treebank a
 * lower validation perplexity after the same 5 minutes (128 against 144; README, "Training faster").
 */
const SAMPLED_BATCH = { batch: 40 } as const;

/**
 * Dropout 0.4 instead of 0.2 below 300,000 training tokens: chosen on the validation files of two small
 * projects (docs/quality.md, "Dropout on a small workspace").
 */
const SMALL_DROPOUT = { belowTokens: 300_000, dropout: 0.4 } as const;

export const PRESETS: Record<string, TrainSettings> = {
  /** Zaremba et al. 2014, small, without dropout: lr 1 on the per-window summed loss = 20 on the mean. */
  'ptb-small': {
    ...base,
    tokenizer: 'whitespace',
    layers: 2,
    hidden: 200,
    embed: 200,
    vocab: 10000,
    minCount: 1,
    tied: false,
    dropout: 0,
    batch: 20,
    bptt: 20,
    lr: 20,
    clip: 0.25,
    schedule: { kind: 'decay', after: 4, factor: 0.5 },
    epochs: 13,
    // Validation and test as one continuous stream, the literature's protocol (and `nextword eval`'s).
    evalBatch: 1,
    evalBptt: 256,
  },
  /**
   * Penn Treebank in 30 minutes on 2 cores: a tied 2 × 256 LSTM with dropout 0.3 on the sampled softmax,
   * Adam, stopped by the time budget; scored as one stream like ptb-small (README, "Benchmarks").
   */
  'ptb-30min': {
    ...extension,
    tokenizer: 'whitespace',
    layers: 2,
    hidden: 256,
    embed: 256,
    vocab: 10000,
    minCount: 1,
    dropout: 0.3,
    ...SAMPLED_BATCH,
    samples: 1024,
    epochs: 100,
    patience: 0,
    timeBudget: 30 * 60,
    evalBatch: 1,
    evalBptt: 256,
  },
  workspace: { ...base },
  /**
   * The extension's "Train on Workspace" presets (`nextword.training.preset`): Adam at a small rate, which
   * unlike the SGD-at-20 recipe gets a usable model out of a few minutes of training on a few hundred
   * thousand tokens. `nextword train --preset small` trains what the extension trains.
   */
  small: { ...extension, layers: 1, hidden: 256, embed: 256, vocab: 10_000, ...SAMPLED_BATCH, samples: 1024, smallDropout: SMALL_DROPOUT },
  medium: { ...extension, layers: 2, hidden: 384, embed: 384, vocab: 20_000, ...SAMPLED_BATCH, samples: 2048, smallDropout: SMALL_DROPOUT },
  /**
   * The bundled model (`npm run train:default-model`: the books and the code and documentation of
   * scripts/default-model/sources.json): one tied 256-unit layer and 10,000 words in float16 keep it small
   * enough to ship and to answer in a millisecond; a sampled softmax (with its streams)
   * covers more of the text in its 55 minutes.
   */
  'default-model': {
    ...base,
    layers: 1,
    hidden: 256,
    embed: 256,
    vocab: 10000,
    minCount: 3,
    tied: true,
    dropout: 0.1,
    ...SAMPLED_BATCH,
    samples: 1024,
    bptt: 35,
    optimizer: 'adam',
    lr: 0.002,
    clip: 1,
    epochs: 8,
    patience: 0,
    timeBudget: 55 * 60,
    evalBatch: 1,
    evalBptt: 256,
    weights: 'float16',
  },
  tiny: {
    ...base,
    layers: 1,
    hidden: 64,
    embed: 64,
    vocab: 2000,
    dropout: 0,
    bptt: 20,
    optimizer: 'adam',
    lr: 0.01,
    clip: 1,
    epochs: 3,
  },
};

/** What `nextword train` trains unless told otherwise: what Train on Workspace trains. */
export const DEFAULT_PRESET = 'small';

/** "epoch 3/10", or "epoch 3" where the run ends when validation stops improving (its epochs a mere cap). */
export function epochLabel(epoch: number, s: Pick<TrainSettings, 'epochs' | 'patience'>): string {
  return s.patience > 0 ? `epoch ${epoch}` : `epoch ${epoch}/${s.epochs}`;
}

/** The model configuration and trainer options that `s` describes, for a vocabulary of `vocabSize` words. */
/** The dropout a run of `s` on `trainTokens` tokens uses (smallDropout below its size, when known). */
export function dropoutFor(s: Pick<TrainSettings, 'dropout' | 'smallDropout'>, trainTokens?: number): number {
  return s.smallDropout && trainTokens !== undefined && trainTokens < s.smallDropout.belowTokens ? s.smallDropout.dropout : s.dropout;
}

/** The model and training options of `s` for a vocabulary of `vocabSize` (and `trainTokens` training tokens, when known). */
export function trainingPlan(s: TrainSettings, vocabSize: number, trainTokens?: number): { cfg: ModelConfig; options: TrainOptions } {
  const cfg: ModelConfig = { cell: s.cell, layers: s.layers, vocab: vocabSize, embed: s.embed, hidden: s.hidden, tied: s.tied };
  const options: TrainOptions = {
    batch: s.batch,
    bptt: s.bptt,
    lr: s.lr,
    clip: s.clip > 0 ? s.clip : Infinity,
    optimizer: s.optimizer,
    schedule: s.schedule,
    dropout: dropoutFor(s, trainTokens),
    maskWidths: dropoutMaskWidths(cfg),
    epochs: s.epochs,
    ...(s.patience > 0 ? { patience: s.patience } : {}),
    timeBudget: s.timeBudget,
    seed: s.seed,
    evalBatch: s.evalBatch,
    evalBptt: s.evalBptt,
    ...(s.samples > 0 && s.samples < vocabSize ? { sampled: { samples: s.samples, vocab: vocabSize, fullEpochs: s.fullSoftmaxEpochs } } : {}),
  };
  return { cfg, options };
}
