// What the training view draws: one record per Train on Workspace run, filled in as the run reports its
// phases (what was read and skipped, the plan, the n-gram companion, each epoch, the end) and kept, the
// last RUNS_KEPT of them, in the workspace's state as plain JSON. Pure: the editor's side is
// training-history.ts.

import type { FileSkipReason } from '../core/corpus/file-filters.js';
import type { SkipTally } from '../core/corpus/scan-ledger.js';
import type { TrainEvent } from '../core/train/trainer.js';

/** Runs kept in the history (the newest). */
export const RUNS_KEPT = 20;

/** How a run ended; `interrupted`: the window closed (or the editor stopped) while it ran. */
export type RunOutcome = 'running' | 'done' | 'cancelled' | 'refused' | 'failed' | 'interrupted';

export type RunPhase = 'reading' | 'preparing' | 'training' | 'saving' | 'ended';

/** One epoch as the view draws it. */
export interface EpochPoint {
  epoch: number;
  validPpl: number;
  /** Of the sampled softmax when `sampled` (then lower than the full softmax's). */
  trainPpl: number;
  sampled: boolean;
  tokensPerS: number;
  seconds: number;
  best: boolean;
}

export interface SkippedFigures {
  reason: FileSkipReason;
  count: number;
  bytes: number;
  examples: string[];
}

/** What a run read and left out, by reason. */
export interface ReadFigures {
  files: number;
  bytes: number;
  skipped: SkippedFigures[];
  limits: { maxFiles: number; maxTotalBytes: number; maxFileBytes: number };
}

export interface PlanFigures {
  preset: string;
  cell: string;
  layers: number;
  hidden: number;
  vocab: number;
  params: number;
  trainTokens: number;
  validTokens: number;
  /** The most epochs the run may take. */
  maxEpochs: number;
  /** The whole run's budget in seconds (0: none). */
  timeBudgetS: number;
}

export interface NgramFigures {
  order: number;
  ngrams: number;
  /** On the validation files, with the network's vocabulary: the network's line compares with it. */
  validPpl: number;
  seconds: number;
}

/** While the network trains (the status item's figures). */
export interface LiveFigures {
  fraction: number;
  etaS?: number;
  tokensPerS?: number;
  /** The epoch under way, and how much of it is done (0..1). */
  epoch?: number;
  epochFraction?: number;
}

export interface ResultFigures {
  /** What is served (the network, its n-gram companion and the document cache mixed) on the validation files. */
  servedPpl?: number;
  /** Keystrokes saved typing the validation pieces, and the bundled model's on the same pieces. */
  ksr?: number;
  comparedKsr?: number;
  stoppedBy?: string;
}

export interface TrainingRun {
  /** Unique within a workspace's history: the start, in ms since the epoch, in base 36. */
  id: string;
  startedAt: number;
  endedAt?: number;
  outcome: RunOutcome;
  phase: RunPhase;
  /** Why a run was refused or failed. */
  reason?: string;
  /** Reading, as it goes. */
  reading?: { files: number; skipped: number; bytes: number };
  read?: ReadFigures;
  plan?: PlanFigures;
  ngram?: NgramFigures;
  epochs: EpochPoint[];
  live?: LiveFigures;
  result?: ResultFigures;
}

export function newRun(now: number): TrainingRun {
  return { id: now.toString(36), startedAt: now, outcome: 'running', phase: 'reading', epochs: [] };
}

/** A scan's figures (its skipped reasons are a Map, which plain JSON does not keep). */
export function readFigures(scan: {
  files: { readonly length: number };
  totalBytes: number;
  skipped: ReadonlyMap<FileSkipReason, SkipTally>;
  limits: { maxFiles: number; maxTotalBytes: number; maxFileBytes: number };
}): ReadFigures {
  return {
    files: scan.files.length,
    bytes: scan.totalBytes,
    skipped: [...scan.skipped].filter(([, t]) => t.count > 0).map(([reason, t]) => ({ reason, count: t.count, bytes: t.bytes, examples: [...t.examples] })),
    limits: { maxFiles: scan.limits.maxFiles, maxTotalBytes: scan.limits.maxTotalBytes, maxFileBytes: scan.limits.maxFileBytes },
  };
}

export function epochPoint(e: Extract<TrainEvent, { kind: 'epoch' }>): EpochPoint {
  return { epoch: e.epoch, validPpl: e.validPpl, trainPpl: e.trainPpl, sampled: e.sampled, tokensPerS: e.tokensPerS, seconds: e.seconds, best: e.best };
}

/** The run ended: no live figures any more. */
export function endRun(run: TrainingRun, outcome: Exclude<RunOutcome, 'running'>, now: number, reason?: string): TrainingRun {
  const { live: _live, ...rest } = run;
  return { ...rest, outcome, phase: 'ended', endedAt: now, ...(reason !== undefined ? { reason } : {}) };
}

/** The history with `run` in it (replacing its earlier state), newest first, the last RUNS_KEPT. */
export function withRun(history: readonly TrainingRun[], run: TrainingRun): TrainingRun[] {
  return [run, ...history.filter((r) => r.id !== run.id)].sort((a, b) => b.startedAt - a.startedAt).slice(0, RUNS_KEPT);
}

/**
 * A history read back from the workspace's state: anything that is not a run is dropped, and a run stored
 * as still running (the window closed during it; none runs at activation) is `interrupted`.
 */
export function historyFrom(value: unknown): TrainingRun[] {
  if (!Array.isArray(value)) return [];
  const runs: TrainingRun[] = [];
  for (const v of value as Partial<TrainingRun>[]) {
    if (!v || typeof v !== 'object' || typeof v.id !== 'string' || !Number.isFinite(v.startedAt) || !Array.isArray(v.epochs)) continue;
    if (!v.epochs.every((e) => e && Number.isFinite(e.epoch) && typeof e.validPpl === 'number')) continue;
    const run = v as TrainingRun;
    runs.push(run.outcome === 'running' ? endRun(run, 'interrupted', run.endedAt ?? run.startedAt) : run);
  }
  return runs.sort((a, b) => b.startedAt - a.startedAt).slice(0, RUNS_KEPT);
}
