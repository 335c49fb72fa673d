// What Train on Workspace shows while it runs: the progress notification's message and bar, the status
// item's state (TrainingProgress), and the log's line per epoch, from the training run's phases.

import type * as vscode from 'vscode';
import type { TrainSettings } from '../core/train/presets.js';
import type { TrainEvent } from '../core/train/trainer.js';
import type { PlannedRun, ReadingProgress } from '../runtime/training/training-protocol.js';
import { aboutLeft, countOf, duration, exactPerplexity, megabytes, thousands, tookWords, wholePercent } from './format.js';
import type { TrainingProgress } from './status.js';

/** A small model steps hundreds of times a second: a few updates a second are enough to read. */
const STEP_UPDATE_MS = 250;

/** What a run is learning from: "1,234 files", or "the workspace" before the files are counted. */
export function learntFrom(files: number | undefined): string {
  return files === undefined ? 'the workspace' : countOf(files, 'file');
}

// A run's state in words, as the notification and the training view say it.
export function readingMessage(read?: { files: number; bytes: number }): string {
  return read ? `Reading the workspace: ${countOf(read.files, 'file')} (${megabytes(read.bytes)})` : 'Reading the workspace…';
}
export function preparingMessage(files: number | undefined): string {
  return `Preparing ${learntFrom(files)}…`;
}
export function learningMessage(files: number | undefined, fraction: number, etaS?: number): string {
  return `Learning from ${learntFrom(files)} · ${Math.floor(fraction * 100)}%${etaS !== undefined ? ` · ${aboutLeft(etaS)} left` : ''}`;
}
export const SAVING_MESSAGE = 'Saving the model…';

/** After each message: a link to the training view (VS Code renders command links in notifications). */
export const SHOW_TRAINING_LINK = '[Show Training](command:nextword.showTraining)';

export class TrainingProgressReporter {
  private reported = 0; // percent already reported to the notification
  private lastShown = 0; // performance.now() of the last step shown
  private lastEpoch: Extract<TrainEvent, { kind: 'epoch' }> | undefined;
  /** Files the run learns from, once read. */
  private files: number | undefined;
  /** The message shown: the same one again is not sent (each message redraws the notification, link and all). */
  private shown: string | undefined;

  constructor(
    private readonly s: Pick<TrainSettings, 'epochs' | 'patience' | 'timeBudget'>,
    private readonly notification: vscode.Progress<{ message?: string; increment?: number }>,
    private readonly setProgress: (p: TrainingProgress) => void,
    private readonly log: Pick<vscode.LogOutputChannel, 'info'>,
  ) {}

  reading(p: ReadingProgress): void {
    this.report(readingMessage({ files: p.taken, bytes: p.totalBytes }));
    this.setProgress({ phase: 'reading', files: p.taken });
  }

  vocabulary(files: number): void {
    this.files = files;
    this.setProgress({ phase: 'vocabulary' });
    this.report(preparingMessage(this.files));
  }

  starting(_planned: PlannedRun): void {
    this.setProgress({ phase: 'training', fraction: 0 });
    this.report(`Learning from ${learntFrom(this.files)}…`);
  }

  event(e: TrainEvent): void {
    const s = this.s;
    if (e.kind === 'epoch') {
      this.lastEpoch = e;
      this.lastShown = 0;
      this.log.info(
        `training: epoch ${e.epoch} | ${duration(e.seconds)} | ${thousands(e.tokensPerS)} tok/s | train ppl ${exactPerplexity(e.trainPpl)}${e.sampled ? ' (sampled softmax)' : ''} | ` +
          `valid ppl ${exactPerplexity(e.validPpl)} | lr ${e.lr}${e.best ? ' *' : ''}`,
      );
      return;
    }
    const now = performance.now();
    if (now - this.lastShown < STEP_UPDATE_MS && e.step !== e.steps) return;
    this.lastShown = now;
    // With patience the epochs are only a cap: the budget measures the way (and the ETA is the budget's).
    const byEpochs = s.patience > 0 && s.timeBudget > 0 ? 0 : (e.epoch - 1 + e.step / e.steps) / s.epochs;
    const byTime = s.timeBudget > 0 ? e.elapsedS / s.timeBudget : 0;
    const fraction = Math.min(1, Math.max(byEpochs, byTime));
    const pct = Math.floor(fraction * 100);
    const last = this.lastEpoch;
    // Words a user reads; the figures an engineer wants (epoch, speed, perplexity) are in the log and the status item's tooltip.
    this.report(learningMessage(this.files, fraction, e.etaS), Math.max(0, pct - this.reported));
    this.reported = Math.max(this.reported, pct);
    this.setProgress({ phase: 'training', fraction, etaS: e.etaS, epoch: e.epoch, tokensPerS: e.tokensPerS, ...(last ? { validPpl: last.validPpl } : {}) });
  }

  saving(): void {
    this.setProgress({ phase: 'saving' });
    this.report(SAVING_MESSAGE);
  }

  private report(message: string, increment = 0): void {
    if (message === this.shown && increment === 0) return;
    this.shown = message;
    this.notification.report({ message: `${message} · ${SHOW_TRAINING_LINK}`, ...(increment > 0 ? { increment } : {}) });
  }
}

/**
 * What a finished run tells the user: what it learned from and, when the run measured it, the share of
 * keystrokes the new model saves typing the workspace's validation files, beside the bundled model's on
 * the same text.
 */
export function trainedMessage(r: { files: number; seconds: number; ksr?: number; comparedKsr?: number }): string {
  const learned = `Nextword learned from ${countOf(r.files, 'file')} in ${tookWords(r.seconds)}.`;
  if (r.ksr === undefined) return `${learned} Completions now use the new model.`;
  const before = r.comparedKsr !== undefined ? ` (the bundled model: ${wholePercent(r.comparedKsr)})` : '';
  return `${learned} Typing files it did not learn from, it would have saved ${wholePercent(r.ksr)} of your keystrokes${before}. Completions now use it.`;
}

