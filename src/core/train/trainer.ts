// The training loop: epochs of truncated-BPTT windows over B streams, a validation perplexity after every
// epoch, a learning-rate schedule, early stopping (no improvement for `patience` epochs), a time budget,
// cancellation, and the parameters of the best epoch kept as the result. It drives an engine (the ONNX training graph in src/runtime, or anything with the
// same contract) and knows nothing about files, threads or onnxruntime.

import { toStreams, windowCount, windows, type Streams } from './batching.js';
import type { OptimizerType } from '../model/model-config.js';
import { mulberry32 } from '../support/random.js';
import { countIds, SoftmaxSampler } from './softmax-sampler.js';
import type { SampledSoftmax } from './train-step.js';

export interface TrainEngine {
  resetState(B: number): void;
  step(tokens: Int32Array, T: number, lr: number, clip: number, masks?: Float32Array[], sampled?: SampledSoftmax): Promise<{ loss: number; gradNorm: number }>;
  evaluate(data: Int32Array, rows: number, B: number, T: number, signal?: AbortSignal): Promise<{ nll: number; count: number }>;
  flatParams(): Float32Array;
}

/**
 * `plateau`: divide the rate by `factor` whenever validation perplexity fails to improve (pytorch/examples).
 * `decay`: keep the rate for `after` epochs, then multiply it by `factor` every epoch (Zaremba et al. 2014).
 */
export type LrSchedule = { kind: 'plateau'; factor: number } | { kind: 'decay'; after: number; factor: number };

export interface TrainOptions {
  batch: number;
  bptt: number;
  lr: number;
  clip: number;
  optimizer: OptimizerType;
  schedule: LrSchedule;
  /** Dropout probability; masks are drawn per step from the seeded generator. */
  dropout: number;
  /** Widths of the dropout masks (dropoutMaskWidths of the model). */
  maskWidths: number[];
  /** Epochs at most. */
  epochs: number;
  /**
   * Stop once this many epochs in a row have not lowered the best validation perplexity by
   * MIN_IMPROVEMENT (0 or absent: run every epoch).
   */
  patience?: number;
  /** Stop after this many seconds of training (0: no budget); the epoch in progress is validated. */
  timeBudget: number;
  seed: number;
  /** Streams and window length used for validation. */
  evalBatch: number;
  evalBptt: number;
  /**
   * Train on a sampled softmax of `samples` words per step (softmax-sampler.ts) over a vocabulary of
   * `vocab`, except in the last `fullEpochs` epochs, which use the full softmax. Validation is always exact.
   */
  sampled?: { samples: number; vocab: number; fullEpochs: number };
}

export type TrainEvent =
  | {
      kind: 'step';
      epoch: number;
      step: number;
      steps: number;
      /** The step's loss: of the sampled softmax when `sampled` (lower than the full one's). */
      loss: number;
      sampled: boolean;
      ppl: number;
      lr: number;
      tokensPerS: number;
      elapsedS: number;
      etaS: number;
    }
  | {
      kind: 'epoch';
      epoch: number;
      /** From the steps' losses: of the sampled softmax when `sampled`. */
      trainPpl: number;
      sampled: boolean;
      validPpl: number;
      lr: number;
      seconds: number;
      tokensPerS: number;
      best: boolean;
    };

export interface TrainResult {
  /** Parameters after the epoch with the best validation perplexity. */
  params: Float32Array;
  /** The streams trained on: `batch`, or fewer for a short text (streamsFor). */
  batch: number;
  bestValidPpl: number;
  bestEpoch: number;
  epochs: number;
  trainTokens: number;
  seconds: number;
  tokensPerS: number;
  stoppedBy: 'epochs' | 'time-budget' | 'no-improvement';
  history: Extract<TrainEvent, { kind: 'epoch' }>[];
}

export interface TrainHooks {
  onEvent?: (e: TrainEvent) => void;
  signal?: AbortSignal;
  /** Seconds since an arbitrary origin (injectable for tests). */
  now?: () => number;
}

export function validateTrainOptions(o: TrainOptions): void {
  const fail = (m: string): never => {
    throw new Error(`invalid training option: ${m}`);
  };
  const posInt = (k: keyof TrainOptions) => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(`${k} must be a positive integer (got ${String(v)})`);
  };
  posInt('batch');
  posInt('bptt');
  posInt('epochs');
  posInt('evalBatch');
  posInt('evalBptt');
  if (!(o.lr > 0)) fail(`lr must be positive (got ${o.lr})`);
  if (!(o.clip > 0)) fail(`clip must be positive (got ${o.clip}); use Infinity for no clipping`);
  if (!(o.dropout >= 0 && o.dropout < 1)) fail(`dropout must be in [0, 1) (got ${o.dropout})`);
  if (!(o.timeBudget >= 0)) fail(`time budget must be ≥ 0 seconds (got ${o.timeBudget})`);
  if (o.patience !== undefined && !(Number.isInteger(o.patience) && o.patience >= 0)) fail(`patience must be an integer ≥ 0 (got ${o.patience})`);
  if (!(o.schedule.factor > 0)) fail('schedule factor must be positive');
  if (o.sampled) {
    const { samples, vocab, fullEpochs } = o.sampled;
    if (!Number.isInteger(samples) || samples < 1) fail(`samples must be a positive integer (got ${samples})`);
    if (!Number.isInteger(vocab) || vocab < 2) fail(`the sampled softmax needs the vocabulary size (got ${vocab})`);
    if (!Number.isInteger(fullEpochs) || fullEpochs < 0) fail(`fullEpochs must be an integer ≥ 0 (got ${fullEpochs})`);
  }
}

/**
 * The relative fall of the best validation perplexity that counts as progress for `patience`: smaller
 * gains (a plateau schedule's last, tiny steps) do not keep a run going, although the best epoch is kept.
 */
export const MIN_IMPROVEMENT = 0.002;

/** Windows each stream holds at least, where the text allows: see streamsFor. */
export const MIN_WINDOWS_PER_STREAM = 4;

/**
 * The streams to train on: `batch`, or fewer when the text is too short for each stream to hold
 * MIN_WINDOWS_PER_STREAM windows. A small workspace then still gets several updates per epoch instead of
 * one or two very wide ones (a few thousand tokens at 40 streams would be two steps an epoch).
 */
export function streamsFor(tokens: number, batch: number, bptt: number): number {
  return Math.max(1, Math.min(batch, Math.floor(tokens / (bptt * MIN_WINDOWS_PER_STREAM))));
}

/** Perplexity of a corpus given as ids, with the engine's current parameters. */
export async function perplexity(engine: TrainEngine, ids: Int32Array, B: number, T: number, signal?: AbortSignal): Promise<number> {
  const s = toStreams(ids, Math.max(1, Math.min(B, Math.floor(ids.length / 2))));
  const { nll, count } = await engine.evaluate(s.data, s.rows, s.B, T, signal);
  if (count === 0) throw new Error('too little text to measure perplexity');
  return Math.exp(nll / count);
}

export async function train(
  engine: TrainEngine,
  data: { train: Int32Array; valid: Int32Array },
  o: TrainOptions,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  validateTrainOptions(o);
  const now = hooks.now ?? (() => performance.now() / 1000);
  const batch = streamsFor(data.train.length, o.batch, o.bptt);
  const streams: Streams = toStreams(data.train, batch);
  const steps = windowCount(streams, o.bptt);
  if (steps === 0) throw new Error(`the training text is too short: ${data.train.length} tokens for ${batch} streams`);
  if (data.valid.length < 2) throw new Error('the validation text is too short (needs at least 2 tokens)');
  const rand = mulberry32(o.seed ^ 0x5eed);
  const sampler = o.sampled ? new SoftmaxSampler(countIds(data.train, o.sampled.vocab), o.sampled.samples, mulberry32(o.seed ^ 0x5a3b1e)) : undefined;
  const keep = 1 - o.dropout;
  const t0 = now();
  let lr = o.lr;
  let best = Infinity;
  let bestEpoch = 0;
  /** The best perplexity that counted as progress, and the epochs since. */
  let progress = Infinity;
  let stale = 0;
  let bestParams = engine.flatParams();
  let trainTokens = 0;
  let stoppedBy: TrainResult['stoppedBy'] = 'epochs';
  const history: TrainResult['history'] = [];
  const totalSteps = steps * o.epochs;
  let stepsDone = 0;

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    engine.resetState(batch);
    const sampling = sampler && epoch <= o.epochs - o.sampled!.fullEpochs ? sampler : undefined;
    const e0 = now();
    let lossSum = 0;
    let lossCount = 0;
    let epochTokens = 0;
    let step = 0;
    for (const w of windows(streams, o.bptt)) {
      hooks.signal?.throwIfAborted();
      const masks = o.dropout > 0 ? o.maskWidths.map((width) => dropoutMask(w.T * batch * width, keep, rand)) : undefined;
      const r = await engine.step(w.tokens, w.T, lr, o.clip, masks, sampling?.draw());
      if (!Number.isFinite(r.loss)) throw new Error(`training diverged at epoch ${epoch}, step ${step + 1} (loss ${r.loss}); try a lower learning rate`);
      const n = w.T * batch;
      lossSum += r.loss * n;
      lossCount += n;
      epochTokens += n;
      trainTokens += n;
      step++;
      stepsDone++;
      const elapsed = now() - t0;
      const tokensPerS = epochTokens / Math.max(1e-9, now() - e0);
      let eta = ((totalSteps - stepsDone) * elapsed) / stepsDone;
      if (o.timeBudget > 0) eta = Math.min(eta, Math.max(0, o.timeBudget - elapsed));
      hooks.onEvent?.({
        kind: 'step', epoch, step, steps, loss: r.loss, sampled: !!sampling, ppl: Math.exp(lossSum / lossCount), lr, tokensPerS, elapsedS: elapsed, etaS: eta,
      });
      if (o.timeBudget > 0 && elapsed >= o.timeBudget) {
        stoppedBy = 'time-budget';
        break;
      }
    }
    const seconds = now() - e0;
    const validPpl = await perplexity(engine, data.valid, o.evalBatch, o.evalBptt, hooks.signal);
    const improved = validPpl < best;
    if (improved) {
      best = validPpl;
      bestEpoch = epoch;
      bestParams = engine.flatParams();
    }
    const ev = { kind: 'epoch' as const, epoch, trainPpl: Math.exp(lossSum / lossCount), sampled: !!sampling, validPpl, lr, seconds, tokensPerS: epochTokens / seconds, best: improved };
    history.push(ev);
    hooks.onEvent?.(ev);
    if (stoppedBy === 'time-budget') break;
    if (validPpl < progress * (1 - MIN_IMPROVEMENT)) {
      progress = validPpl;
      stale = 0;
    } else if (o.patience && ++stale >= o.patience && epoch < o.epochs) {
      stoppedBy = 'no-improvement';
      break;
    }
    if (o.schedule.kind === 'plateau') {
      if (!improved) lr /= o.schedule.factor;
    } else if (epoch >= o.schedule.after) {
      lr *= o.schedule.factor;
    }
  }
  const seconds = now() - t0;
  return {
    params: bestParams,
    batch,
    bestValidPpl: best,
    bestEpoch,
    epochs: history.length,
    trainTokens,
    seconds,
    tokensPerS: trainTokens / history.reduce((s, h) => s + h.seconds, 0),
    stoppedBy,
    history,
  };
}

/** Inverted dropout: each entry is 0 with probability 1 − keep, else 1 / keep. */
function dropoutMask(n: number, keep: number, rand: () => number): Float32Array {
  const m = new Float32Array(n);
  const scale = 1 / keep;
  for (let i = 0; i < n; i++) m[i] = rand() < keep ? scale : 0;
  return m;
}
