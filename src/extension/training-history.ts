// The runs of Train on Workspace as the training view draws them: the run under way, filled in from the
// training run's reports (WorkspaceTrainer calls these methods), and the earlier ones, kept in the
// workspace's state (training-record.ts says what a record holds). Written when a run begins, after each
// epoch and when it ends, so that a window closed mid-run leaves an `interrupted` run, not nothing.

import * as vscode from 'vscode';
import type { CompanionFigures } from '../core/ngram/companion.js';
import type { TrainEvent } from '../core/train/trainer.js';
import type { ScanFigures } from '../io/workspace-files.js';
import type { PlannedRun, ReadingProgress } from '../runtime/training/training-protocol.js';
import type { TrainingProgress } from './status.js';
import { endRun, epochPoint, historyFrom, newRun, readFigures, withRun, type ResultFigures, type RunOutcome, type TrainingRun } from './training-record.js';

const HISTORY_KEY = 'nextword.trainingHistory';
/** Steps come tens or hundreds of times a second: the view draws a few a second. */
const STEP_EVERY_MS = 250;

/** What changed: a run began (the view shows it), or anything else. */
export type HistoryChange = 'begun' | 'updated';

export class TrainingHistory implements vscode.Disposable {
  private history: TrainingRun[];
  private current: TrainingRun | undefined;
  private lastStepAt = 0;
  private readonly changed = new vscode.EventEmitter<HistoryChange>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly workspaceState: vscode.Memento,
    private readonly log: Pick<vscode.LogOutputChannel, 'warn'>,
  ) {
    this.history = historyFrom(workspaceState.get(HISTORY_KEY));
  }

  /** Newest first; the run under way, if any, first. */
  get runs(): readonly TrainingRun[] {
    return this.history;
  }

  begin(): void {
    this.current = newRun(Date.now());
    this.commit(true, 'begun');
  }

  reading(p: ReadingProgress): void {
    this.update((r) => ({ ...r, reading: { files: p.taken, skipped: p.skipped, bytes: p.totalBytes } }));
  }

  read(scan: ScanFigures | undefined): void {
    this.update((r) => ({ ...r, phase: 'preparing', ...(scan ? { read: readFigures(scan) } : {}) }));
  }

  planned(p: PlannedRun, preset: string, timeBudgetS: number): void {
    this.update((r) => ({
      ...r,
      phase: 'training',
      plan: {
        preset,
        cell: p.cfg.cell,
        layers: p.cfg.layers,
        hidden: p.cfg.hidden,
        vocab: p.cfg.vocab,
        params: p.params,
        trainTokens: p.trainTokens,
        validTokens: p.validTokens,
        maxEpochs: p.options.epochs,
        timeBudgetS,
      },
    }));
  }

  ngram(f: CompanionFigures): void {
    this.update((r) => ({ ...r, ngram: { order: f.order, ngrams: f.ngrams, validPpl: f.validPpl, seconds: f.seconds } }));
  }

  event(e: TrainEvent): void {
    if (e.kind === 'epoch') {
      this.update((r) => ({ ...r, epochs: [...r.epochs, epochPoint(e)] }), true);
      return;
    }
    const now = performance.now();
    if (now - this.lastStepAt < STEP_EVERY_MS && e.step !== e.steps) return;
    this.lastStepAt = now;
    this.update((r) => ({ ...r, live: { ...r.live, fraction: r.live?.fraction ?? 0, epoch: e.epoch, epochFraction: e.step / e.steps, tokensPerS: e.tokensPerS, etaS: e.etaS } }));
  }

  /** The status item's progress (the share of the whole run). */
  progress(p: TrainingProgress): void {
    if (p.fraction === undefined) return;
    this.update((r) => ({ ...r, live: { ...r.live, fraction: p.fraction!, ...(p.etaS !== undefined ? { etaS: p.etaS } : {}) } }));
  }

  saving(): void {
    this.update((r) => ({ ...r, phase: 'saving' }));
  }

  finished(result: ResultFigures): void {
    this.update((r) => ({ ...r, result }));
  }

  end(outcome: Exclude<RunOutcome, 'running'>, reason?: string): void {
    if (!this.current) return;
    this.current = endRun(this.current, outcome, Date.now(), reason);
    this.commit(true);
    this.current = undefined;
  }

  private update(f: (r: TrainingRun) => TrainingRun, persist = false): void {
    if (!this.current) return;
    this.current = f(this.current);
    this.commit(persist);
  }

  private commit(persist: boolean, change: HistoryChange = 'updated'): void {
    this.history = withRun(this.history, this.current!);
    if (persist) void this.workspaceState.update(HISTORY_KEY, this.history).then(undefined, (e: unknown) => this.log.warn(`saving the training history failed: ${String(e)}`));
    this.changed.fire(change);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
