// Messages between the training job (caller's thread) and the training worker.

import type { ModelConfig } from '../core/model-config.js';
import type { CompanionFigures, CompanionPlan } from '../core/ngram/companion.js';
import type { TrainEvent, TrainOptions, TrainResult } from '../core/trainer.js';

export interface TrainJobInput {
  cfg: ModelConfig;
  options: TrainOptions;
  train: Int32Array;
  valid: Int32Array;
  /** Scored with the best parameters at the end when given. */
  test?: Int32Array;
  /** Starting parameters (flat, layout order); drawn from the seed when absent. */
  initialParams?: Float32Array;
  /** onnxruntime intra-op threads (0: all cores). */
  threads: number;
  /** Train the n-gram companion first (before the LSTM's first step) and post it. */
  ngram?: CompanionPlan;
}

/** The n-gram companion as posted by the worker: its binary (KneserNey.toBytes()) and figures. */
export interface CompanionOutput {
  bytes: Uint8Array;
  figures: CompanionFigures;
}

export type TrainJobOutput = TrainResult & { testPpl?: number };

export type WorkerToParent =
  | { type: 'event'; event: TrainEvent }
  | { type: 'ngram'; ngram: CompanionOutput }
  | { type: 'done'; result: TrainJobOutput }
  | { type: 'error'; message: string; cancelled: boolean };

export type ParentToWorker = { type: 'start'; input: TrainJobInput } | { type: 'cancel' };
