// Messages between the training job (caller's thread) and the training worker.

import type { WeightPrecision } from '../../core/graphs/inference-graph.js';
import type { ModelConfig } from '../../core/model/model-config.js';
import type { CalibrationPiece, ThresholdCalibration } from '../../core/completion/threshold-calibration.js';
import type { MixtureFit, MixtureSpec } from '../../core/serving/mixture-model.js';
import type { TrainingRecord } from '../../core/serving/model-format.js';
import type { CompanionFigures, CompanionPlan } from '../../core/ngram/companion.js';
import type { TokenizerMode } from '../../core/text/tokenizer.js';
import type { TrainEvent, TrainOptions, TrainResult } from '../../core/train/trainer.js';
import type { VocabularyBuildOptions, VocabularyJSON } from '../../core/text/vocabulary.js';
import type { ScanLimits } from '../../core/corpus/file-filters.js';
import type { FolderToRead, ScanFigures } from '../../io/workspace-files.js';

/**
 * Texts to prepare in the worker, instead of ids: the files' UTF-8 bytes packed in one buffer (it is
 * transferred, not copied), tokenised, counted into a vocabulary and encoded there, so that none of that
 * runs on the caller's thread (the editor's extension host). The worker then posts `prepared` and waits for
 * the caller's plan (model and options for that vocabulary) before it trains.
 */
export interface TextsInput {
  bytes: Uint8Array;
  /** Byte length of each training file, then of each validation file, packed in that order. */
  trainLengths: number[];
  validLengths: number[];
  tokenizer: TokenizerMode;
  vocab: VocabularyBuildOptions;
  /** Validation tokens kept at most, in whole files (capTokens). */
  maxValidTokens: number;
}

/**
 * Workspace folders for the worker to read itself (a child process; io/workspace-files.ts's walk with the
 * folders' exclude globs), then prepare as TextsInput: none of the listing, reading or decoding runs on the
 * caller's thread. The files are split into training and validation files there (splitByFile).
 */
export interface FoldersInput extends Omit<TextsInput, 'bytes' | 'trainLengths' | 'validLengths'> {
  folders: FolderToRead[];
  limits: Pick<ScanLimits, 'maxFiles' | 'maxTotalBytes'>;
  /** Files held out for validation (splitByFile). */
  validFraction: number;
}

/** Reading progress, a few times a second. */
export interface ReadingProgress {
  taken: number;
  skipped: number;
  totalBytes: number;
}

/** What the worker made of the texts. */
export interface PreparedTexts {
  vocab: VocabularyJSON;
  trainTokens: number;
  validTokens: number;
}

/** The caller's answer to `prepared`: what to train on the prepared ids. */
export type TrainPlan = Pick<TrainJobInput, 'cfg' | 'options' | 'threads'> & {
  /** Train the n-gram companion first (its sizes are the prepared files'). */
  ngram?: Omit<CompanionPlan, 'trainSizes' | 'validSizes'> & Handover;
  /** Save the trained model there (the result is then a SavedRunOutput). */
  save?: SavePlan;
};

/**
 * The worker saves the model it trained, with the vocabulary it built (io/export-model.ts's
 * exportTrainedModel, atomic: the folder's previous model stays until the commit; a 'cancel' before the
 * commit keeps it). None of the model's bytes (its weights, its n-gram companion) then pass through the
 * caller, the editor's extension host.
 */
export interface SavePlan {
  dir: string;
  tokenizer: TokenizerMode;
  /** How the saved ONNX file stores its weights. */
  precision: WeightPrecision;
  /** The training record's facts the caller knows (the run's figures are the worker's). */
  about: Pick<TrainingRecord, 'corpus' | 'options' | 'params'>;
}

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
  ngram?: CompanionPlan & Handover;
  /**
   * With `ngram`: after training, fit the served mixture of the network, the companion and the document
   * cache on the validation files (core/serving/mixture-model.ts); `cached` [V] flags the ids the cache remembers.
   * (A run prepared from texts or folders fits it without being told, from the vocabulary it built.)
   */
  mixture?: { cached: Uint8Array };
  /**
   * With `mixture`: once it is fitted, type these pieces of the validation files (calibrationPieces) through the
   * extension's completion code with it, to choose its completion threshold
   * (core/completion/threshold-calibration.ts); `vocab` (its words, Vocabulary.toJSON) and `mode` read them. (A run prepared from texts or
   * folders does it without being told, with its own.)
   */
  calibration?: { pieces: CalibrationPiece[]; vocab: string[]; mode: TokenizerMode };
}

/** Where the worker writes the n-gram model for the parent instead of posting its bytes (io/handover-file.ts). */
export interface Handover {
  handoverFile?: string;
}

/** How the worker runs, whatever it is given. */
export interface WorkerOptions {
  /** Lower the worker's scheduling priority (io/thread-priority.ts): the editor's threads come first. */
  background?: boolean;
}

/** The n-gram companion as posted by the worker: its binary (KneserNey.toBytes()) and figures. */
export interface CompanionOutput {
  bytes: Uint8Array;
  figures: CompanionFigures;
}

/** The n-gram companion as written to its hand-over file by the worker (Handover). */
export interface CompanionHandover {
  file: string;
  figures: CompanionFigures;
}

export type TrainJobOutput = TrainResult & {
  testPpl?: number;
  /** The mixture fitted on the validation files, when asked for (TrainJobInput.mixture). */
  mixture?: MixtureSpec & { fit: MixtureFit };
  /** Why the mixture asked for could not be fitted (the network is served with the cache instead). */
  mixtureProblem?: string;
  /**
   * With the mixture: the companion counted again on the training and validation files
   * (recountCompanion), to save instead of the one posted at the start: its bytes, or its hand-over file
   * (the same file, rewritten).
   */
  recounted?: CompanionOutput | CompanionHandover;
  /** The completion threshold chosen for the mixture (TrainJobInput.calibration). */
  completion?: ThresholdCalibration;
  /** Why no threshold was chosen (too few validation files or suggestions, or a failure): the default then applies. */
  completionProblem?: string;
};

/** A run the worker saved (TrainPlan.save): its figures and where it is, not its parameters. */
export type SavedRunOutput = Omit<TrainJobOutput, 'params' | 'recounted'> & {
  saved: { dir: string };
};

export type WorkerToParent =
  | { type: 'reading'; progress: ReadingProgress }
  /** The folders are read (FoldersInput); the vocabulary comes next. */
  | { type: 'read'; scan: ScanFigures }
  | { type: 'prepared'; prepared: PreparedTexts }
  | { type: 'event'; event: TrainEvent }
  | { type: 'ngram'; ngram: CompanionOutput | CompanionHandover }
  /** Trained: the worker is saving the model (TrainPlan.save). */
  | { type: 'saving' }
  | { type: 'done'; result: TrainJobOutput | SavedRunOutput }
  | { type: 'error'; message: string; cancelled: boolean };

export type ParentToWorker =
  | { type: 'start'; input: TrainJobInput; options?: WorkerOptions }
  | { type: 'prepare'; texts: TextsInput; options?: WorkerOptions }
  | { type: 'read'; folders: FoldersInput; options?: WorkerOptions }
  | { type: 'plan'; plan: TrainPlan }
  | { type: 'cancel' };
