// Writes a trained model: the standard ONNX inference model plus model.json (and the n-gram companion
// when given), atomically.

import { inferenceGraph, type WeightPrecision } from '../core/graphs/inference-graph.js';
import type { ModelConfig } from '../core/model/model-config.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelMeta, type TrainingRecord } from '../core/serving/model-format.js';
import type { TokenizerMode } from '../core/text/tokenizer.js';
import type { Vocabulary } from '../core/text/vocabulary.js';
import { saveModel } from './model-store.js';

export interface ExportInput {
  cfg: ModelConfig;
  params: Float32Array;
  vocab: Vocabulary;
  tokenizer: TokenizerMode;
  training?: TrainingRecord;
  /** Stored weight precision (float16 halves the file; computation stays float32). */
  precision?: WeightPrecision;
  /** The n-gram companion trained on the same tokens (KneserNey.toBytes(), or a file of it), saved with the model. */
  ngram?: Uint8Array | { file: string };
  /** The served mixture of the network, the companion and the cache (with `ngram` only). */
  mixture?: ModelMeta['mixture'];
  /** The mixture's completion threshold, chosen on the validation files (with `mixture` only). */
  completion?: ModelMeta['completion'];
}

/** What a finished training run hands over (runtime/training/pipeline.ts's output, structurally). */
export interface TrainedRun {
  params: Float32Array;
  bestValidPpl: number;
  testPpl?: number;
  epochs: number;
  bestEpoch: number;
  seconds: number;
  tokensPerS: number;
  /** Its bytes, or the file the worker handed it over in (copied into the model's folder, not read into memory). */
  ngram?: ({ bytes: Uint8Array } | { file: string }) & { figures: NonNullable<TrainingRecord['ngram']> };
  /** The mixture fitted at the end of the run (saved only with the companion). */
  mixture?: ModelMeta['mixture'];
  /** Its completion threshold, chosen at the end of the run (saved only with the mixture). */
  completion?: ModelMeta['completion'];
}

/**
 * Writes the model of a finished run with its training record (the figures of the run, the corpus and the
 * options it was given) and its n-gram companion when it has one: what `nextword train` and Train on
 * Workspace both save.
 */
export function exportTrainedModel(
  dir: string,
  model: Pick<ExportInput, 'cfg' | 'vocab' | 'tokenizer' | 'precision'>,
  run: TrainedRun,
  about: Pick<TrainingRecord, 'corpus' | 'options' | 'params'>,
  opts: { signal?: AbortSignal } = {},
): Promise<{ dir: string }> {
  const training: TrainingRecord = {
    ...about,
    validPpl: run.bestValidPpl,
    ...(run.testPpl !== undefined ? { testPpl: run.testPpl } : {}),
    epochs: run.epochs,
    bestEpoch: run.bestEpoch,
    seconds: run.seconds,
    tokensPerS: run.tokensPerS,
    ...(run.ngram ? { ngram: run.ngram.figures } : {}),
  };
  return exportModel(
    dir,
    {
      ...model,
      params: run.params,
      training,
      ...(run.ngram
        ? { ngram: 'bytes' in run.ngram ? run.ngram.bytes : { file: run.ngram.file }, ...(run.mixture ? { mixture: run.mixture, ...(run.completion ? { completion: run.completion } : {}) } : {}) }
        : {}),
    },
    opts,
  );
}

export function modelMeta(input: ExportInput): ModelMeta {
  const counts = input.vocab.toJSONWithCounts().counts;
  return {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    tokenizer: { mode: input.tokenizer },
    config: input.cfg,
    vocabulary: input.vocab.toJSON(),
    ...(counts ? { vocabularyCounts: counts } : {}),
    ...(input.training ? { training: input.training } : {}),
    ...(input.ngram && input.mixture ? { mixture: input.mixture, ...(input.completion ? { completion: input.completion } : {}) } : {}),
  };
}

/**
 * The standard ONNX inference model of `params` as a saved model holds it. Encoding a 10,000-word model is
 * tens of milliseconds of one synchronous call: Train on Workspace has the training worker save the model
 * (TrainingRequest.save), never the editor's thread.
 */
export function exportedGraph(cfg: ModelConfig, params: Float32Array, precision: WeightPrecision = 'float32'): Uint8Array {
  return inferenceGraph(cfg, params, { docString: `Nextword ${cfg.cell} ${cfg.layers}×${cfg.hidden} language model, vocabulary ${cfg.vocab}`, precision });
}

/** `signal` cancels up to the save's commit (model-store.ts): the previous model then stays. */
export async function exportModel(dir: string, input: ExportInput, opts: { signal?: AbortSignal } = {}): Promise<{ dir: string }> {
  const onnx = exportedGraph(input.cfg, input.params, input.precision);
  opts.signal?.throwIfAborted();
  await saveModel(dir, { onnx, meta: modelMeta(input) as unknown as Record<string, unknown>, ...(input.ngram ? { ngram: input.ngram } : {}) }, opts.signal ? { signal: opts.signal } : {});
  return { dir };
}
