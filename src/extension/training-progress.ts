// What Train on Workspace shows while it runs: the progress notification's message and bar, the status
// item's state (TrainingProgress), and the log's line per epoch, from the training run's phases.

import type * as vscode from 'vscode';
import { epochLabel, type TrainSettings } from '../core/train/presets.js';
import type { TrainEvent } from '../core/train/trainer.js';
import type { PlannedRun, ReadingProgress } from '../runtime/training/training-protocol.js';
import { duration, exactPerplexity, megabytes, thousands } from './format.js';
import type { TrainingProgress } from './status.js';

/** A small model steps hundreds of times a second: a few updates a second are enough to read. */
const STEP_UPDATE_MS = 250;

export class TrainingProgressReporter {
  private reported = 0; // percent already reported to the notification
  private lastShown = 0; // performance.now() of the last step shown
  private lastEpoch: Extract<TrainEvent, { kind: 'epoch' }> | undefined;

  constructor(
    private readonly s: Pick<TrainSettings, 'epochs' | 'patience' | 'timeBudget'>,
    private readonly notification: vscode.Progress<{ message?: string; increment?: number }>,
    private readonly setProgress: (p: TrainingProgress) => void,
    private readonly log: Pick<vscode.LogOutputChannel, 'info'>,
  ) {}

  reading(p: ReadingProgress): void {
    this.notification.report({ message: `Reading the workspace: ${thousands(p.taken)} files (${megabytes(p.totalBytes)})` });
    this.setProgress({ phase: 'reading', files: p.taken });
  }

  vocabulary(files: number): void {
    this.setProgress({ phase: 'vocabulary' });
    this.notification.report({ message: `Building the vocabulary from ${thousands(files)} files…` });
  }

  starting(planned: PlannedRun): void {
    this.setProgress({ phase: 'training', fraction: 0 });
    this.notification.report({ message: `Starting: ${thousands(planned.trainTokens)} tokens, ${thousands(planned.params)} parameters…` });
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
    const parts = [
      `E${epochLabel(e.epoch, s).slice(1)}`,
      `${pct}%`,
      `${thousands(e.tokensPerS)} tokens/s`,
      ...(last ? [`validation perplexity ${exactPerplexity(last.validPpl)}`] : []),
      `${duration(e.etaS)} left`,
    ];
    this.notification.report({ message: parts.join(' · '), increment: Math.max(0, pct - this.reported) });
    this.reported = Math.max(this.reported, pct);
    this.setProgress({ phase: 'training', fraction, etaS: e.etaS, epoch: e.epoch, tokensPerS: e.tokensPerS, ...(last ? { validPpl: last.validPpl } : {}) });
  }

  saving(): void {
    this.setProgress({ phase: 'saving' });
    this.notification.report({ message: 'Saving the model…' });
  }
}
