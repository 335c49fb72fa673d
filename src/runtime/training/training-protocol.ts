// Messages between the training job (the caller's thread) and the training worker: one request, then
// what the run did, phase by phase.

import type { ThresholdCalibration } from '../../core/completion/threshold-calibration.js';
import type { CompanionFigures } from '../../core/ngram/companion.js';
import type { RunPlan } from '../../core/pipeline/run-plan.js';
import type { MixtureFit, MixtureSpec } from '../../core/serving/mixture-model.js';
import type { VocabularyJSON } from '../../core/text/vocabulary.js';
import type { TrainSettings } from '../../core/train/presets.js';
import type { TrainEvent, TrainResult } from '../../core/train/trainer.js';
import type { CorpusDirSource, FoldersSource, TrainingTexts } from '../../io/corpus-reader.js';
import type { ScanFigures } from '../../io/workspace-files.js';

/**
 * Files the caller read itself (the editor, through VS Code, for folders not on this machine's disk): their
 * UTF-8 bytes packed in one buffer (transferred to a thread, not copied; a child process gets a copy, in
 * pieces), with each file's length and path, and the scan that found them. The worker splits them.
 */
export interface FilesSource {
  kind: 'files';
  bytes: Uint8Array;
  lengths: number[];
  relPaths: string[];
  scan: ScanFigures;
}

/** What a run trains on: folders or a corpus folder the worker reads, or files read by the caller. */
export type TrainingSource = FoldersSource | CorpusDirSource | FilesSource;

/**
 * A training run, whole: the worker reads the source, builds the vocabulary, plans, trains, fits what is
 * served and saves (runtime/training/pipeline.ts). Each face (the CLI, the editor) only says what.
 */
export interface TrainingRequest {
  source: TrainingSource;
  /** The resolved settings (a preset and its overrides: core/train/presets.ts), and the preset's name for the record. */
  settings: TrainSettings;
  preset: string;
  /** onnxruntime intra-op threads (0: all cores). */
  threads: number;
  /** Project folders: a share of whole files held out before the split, handed back ('read') to test on. */
  testFraction?: number;
  /** The time budget bounds the whole run, `spentS` of it gone before the request (run-plan.ts's planRun). */
  wholeRun?: { spentS: number };
  /**
   * Count the n-gram companion first (before the network's first step) and post it: its bytes, or written to
   * `handoverFile` (io/handover-file.ts); then fit the served mixture and choose its completion threshold.
   */
  companion?: { handoverFile?: string };
  /**
   * Save the model in `dir` (io/export-model.ts's exportTrainedModel, atomic: the folder's previous model
   * stays until the commit; a 'cancel' before the commit keeps it), its corpus named `source` in the record.
   * None of the model's bytes then pass through the caller. Without it the parameters come back.
   */
  save?: { dir: string; source: string };
  /** Lower the worker's scheduling priority (io/thread-priority.ts): the editor's threads come first. */
  background?: boolean;
  /**
   * A saved model (the bundled one) to type the same validation pieces with at the end, so that the run can
   * say what it gained over it in keystrokes (TrainJobOutput.comparedKsr).
   */
  compareWith?: string;
  /**
   * Only count the n-gram companion (with `companion`), and end: no network, no save. What the editor serves
   * before a workspace has a model of its own (the result is a CountedOutput).
   */
  countOnly?: boolean;
}

/** Reading progress, a few times a second. */
export interface ReadingProgress {
  taken: number;
  skipped: number;
  totalBytes: number;
}

/** What was read: the report, a project's scan, and the held-out files' texts (TrainingRequest.testFraction). */
export type ReadReport = Pick<TrainingTexts, 'kind' | 'report' | 'scan' | 'heldOut'>;

/** What the worker made of the texts, and the run it planned on them (run-plan.ts). */
export interface PlannedRun extends RunPlan {
  /** The vocabulary with its counts (Vocabulary.toJSONWithCounts). */
  vocab: VocabularyJSON;
  trainTokens: number;
  validTokens: number;
  testTokens?: number;
}

/** The n-gram companion as posted by the worker: its binary (KneserNey.toBytes()) and figures. */
export interface CompanionOutput {
  bytes: Uint8Array;
  figures: CompanionFigures;
}

/** The n-gram companion as written to its hand-over file by the worker (TrainingRequest.companion). */
export interface CompanionHandover {
  file: string;
  figures: CompanionFigures;
}

export type TrainJobOutput = TrainResult & {
  testPpl?: number;
  /** The mixture fitted on the validation files (with the companion). */
  mixture?: MixtureSpec & { fit: MixtureFit };
  /** Why the mixture asked for could not be fitted (the network is served with the cache instead). */
  mixtureProblem?: string;
  /**
   * With the mixture: the companion counted again on the training and validation files
   * (recountCompanion), to save instead of the one posted at the start: its bytes, or its hand-over file
   * (the same file, rewritten).
   */
  recounted?: CompanionOutput | CompanionHandover;
  /** The completion threshold chosen for the mixture. */
  completion?: ThresholdCalibration;
  /** Why no threshold was chosen (too few validation files or suggestions, or a failure): the default then applies. */
  completionProblem?: string;
  /** Keystroke savings of TrainingRequest.compareWith on the pieces the threshold was chosen on, at its own threshold. */
  comparedKsr?: number;
};

/** A run the worker saved (TrainingRequest.save): its figures and where it is, not its parameters. */
export type SavedRunOutput = Omit<TrainJobOutput, 'params' | 'recounted'> & {
  /** The folder, and the figures of the companion saved in it (counted again with the validation files, after a fit). */
  saved: { dir: string; companion?: CompanionFigures };
};

/** A run that only counted the companion (TrainingRequest.countOnly): its figures; the companion came as 'ngram'. */
export interface CountedOutput {
  counted: CompanionFigures;
}

/** What a run that succeeds gives: its parameters and figures, where it saved them, or what it counted. */
export type RunOutput = TrainJobOutput | SavedRunOutput | CountedOutput;

export type WorkerToParent =
  | { type: 'reading'; progress: ReadingProgress }
  | { type: 'read'; read: ReadReport }
  | { type: 'planned'; planned: PlannedRun }
  | { type: 'event'; event: TrainEvent }
  | { type: 'ngram'; ngram: CompanionOutput | CompanionHandover }
  /** Trained: the worker is saving the model (TrainingRequest.save). */
  | { type: 'saving' }
  | { type: 'done'; result: RunOutput }
  /** `refused`: the input had too little to learn from (TrainingRefused), not a failure. */
  | { type: 'error'; message: string; cancelled: boolean; refused: boolean };

export type ParentToWorker = { type: 'start'; request: TrainingRequest } | { type: 'cancel' };
