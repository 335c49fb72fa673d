// "Nextword: Train on Workspace": the training pipeline (runtime/training/pipeline.ts) in a training
// process, the same run as `nextword train`, under a cancellable progress notification. This face only says
// what to train on (the workspace's folders on this machine's disk, with their exclude settings, or the
// files of remote and virtual folders read through VS Code here: workspace-corpus.ts), shows the progress
// (training-progress.ts), and switches to the model the process saved under the workspace's storage.
//
// The n-gram companion is counted first (seconds): unless the workspace already has a model trained on it,
// it serves completions and the status bar at once, from the model server, while the network trains.
//
// One run at a time; cancelling (the notification's button, the command, the status menu) goes back to
// the previous model and writes nothing. Refused in an untrusted workspace: training reads every file.

import * as os from 'node:os';
import * as vscode from 'vscode';
import type { ScanLimits } from '../core/corpus/file-filters.js';
import { chosenTrial } from '../core/completion/threshold-calibration.js';
import type { CompanionFigures } from '../core/ngram/companion.js';
import { pacer } from '../core/support/event-loop.js';
import type { TokenizerMode } from '../core/text/tokenizer.js';
import { Vocabulary } from '../core/text/vocabulary.js';
import { removeHandover } from '../io/handover-file.js';
import { scanFigures } from '../io/workspace-files.js';
import { RemoteServing } from '../runtime/serving/remote-serving.js';
import { startTraining, TrainingCancelled, TrainingRefused, type TrainingJob } from '../runtime/training/training-job.js';
import type { FilesSource, ReadingProgress, TrainingSource } from '../runtime/training/training-protocol.js';
import { scanLimits, type NextwordConfig } from './config.js';
import { duration, exactPerplexity, thousands } from './format.js';
import type { ModelManager } from './model-manager.js';
import type { TrainingProgress } from './status.js';
import type { TrainingHistory } from './training-history.js';
import { resolveTrainSettings, trainingThreads, TrainingSettingsError } from './training-settings.js';
import { readingMessage, SHOW_TRAINING_LINK, TrainingProgressReporter, trainedMessage } from './training-progress.js';
import { CorpusCancelled, foldersOnDisk, readWorkspaceCorpus } from './workspace-corpus.js';

export interface WorkspaceTrainerDeps {
  log: vscode.LogOutputChannel;
  models: ModelManager;
  readConfig: () => NextwordConfig;
  /** Where each run is recorded for the training view. */
  history: TrainingHistory;
}

interface Run {
  cancel: vscode.CancellationTokenSource;
  job?: TrainingJob;
  /** The interim n-gram model was put in service: a run that does not finish must restore the saved model. */
  interim?: boolean;
  /** The network is trained: from now on nothing but the new model may be put in service. */
  trained?: boolean;
}

/** How the last Train on Workspace command ended (for the status and the tests). */
export type TrainCommandOutcome = 'done' | 'cancelled' | 'refused' | 'failed' | 'untrusted' | 'no-folder' | 'no-storage' | 'bad-settings';

export class WorkspaceTrainer implements vscode.Disposable {
  private run: Run | undefined;
  /** How the last command ended; undefined before the first. */
  lastOutcome: TrainCommandOutcome | undefined;
  private progressState: TrainingProgress | undefined;
  private readonly changed = new vscode.EventEmitter<TrainingProgress | undefined>();
  /** Training progress, and undefined when a run ends. */
  readonly onDidChangeProgress = this.changed.event;

  constructor(private readonly deps: WorkspaceTrainerDeps) {}

  get progress(): TrainingProgress | undefined {
    return this.progressState;
  }

  get isRunning(): boolean {
    return this.run !== undefined;
  }

  /** Stops the run after the current step; the previous model stays. False when nothing runs. */
  cancel(): boolean {
    if (!this.run) return false;
    this.deps.log.info('training: cancel requested');
    this.run.cancel.cancel();
    return true;
  }

  dispose(): void {
    const run = this.run;
    if (run) {
      run.cancel.cancel();
      void run.job?.kill();
    }
    this.changed.dispose();
  }

  /** The command: one run at a time, reported to the user (messages, notification, status bar, log). */
  async train(): Promise<void> {
    if (this.run) {
      const choice = await vscode.window.showInformationMessage('Nextword is already training a model on this workspace.', 'Cancel Training');
      if (choice === 'Cancel Training') this.cancel();
      return;
    }
    if (!vscode.workspace.isTrusted) {
      // Nothing is read. The command returns at once; the message waits for the user on its own.
      this.lastOutcome = 'untrusted';
      this.deps.log.info('training: refused, the workspace is not trusted');
      void vscode.window
        .showWarningMessage(
          'Nextword does not train in an untrusted workspace: training reads every file of the workspace. ' +
            'Completions and perplexity from the current model keep working. Trust the workspace to train on it.',
          'Manage Workspace Trust',
        )
        .then((choice) => {
          if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
        });
      return;
    }
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) {
      this.lastOutcome = 'no-folder';
      void vscode.window.showWarningMessage('Nextword: open a folder or workspace first; Train on Workspace learns from its files.');
      return;
    }
    const outDir = this.deps.models.workspaceModelDir;
    if (!outDir) {
      this.lastOutcome = 'no-storage';
      void vscode.window.showWarningMessage('Nextword: this window has no local storage for a trained model, so it cannot train here.');
      return;
    }
    const config = this.deps.readConfig();
    let resolved: ReturnType<typeof resolveTrainSettings>;
    try {
      resolved = resolveTrainSettings(config.training);
    } catch (e) {
      if (!(e instanceof TrainingSettingsError)) throw e;
      this.lastOutcome = 'bad-settings';
      this.deps.log.error(e.message);
      const choice = await vscode.window.showErrorMessage(e.message, 'Open Settings');
      if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'nextword.training');
      return;
    }

    const run: Run = { cancel: new vscode.CancellationTokenSource() };
    this.run = run;
    this.deps.history.begin();
    this.setProgress({ phase: 'reading' });
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Nextword: Training on the workspace', cancellable: true },
        async (notification, token) => {
          // This run's own source: a late event from this notification must not cancel a later run.
          token.onCancellationRequested(() => {
            this.deps.log.info('training: cancel requested');
            run.cancel.cancel();
          });
          await this.runTraining(run, folders, outDir, config, resolved, notification);
        },
      );
      this.lastOutcome = 'done';
      this.deps.history.end('done');
    } catch (e) {
      this.lastOutcome = e instanceof TrainingCancelled || e instanceof CorpusCancelled ? 'cancelled' : e instanceof TrainingRefused ? 'refused' : 'failed';
      this.deps.history.end(this.lastOutcome, this.lastOutcome === 'refused' || this.lastOutcome === 'failed' ? ((e as Error).message ?? String(e)) : undefined);
      if (e instanceof TrainingCancelled || e instanceof CorpusCancelled) {
        this.deps.log.info('training cancelled; the previous model is still in use');
        void vscode.window.showInformationMessage('Nextword: training cancelled. The previous model is still in use.');
      } else if (e instanceof TrainingRefused) {
        this.deps.log.warn(`training: ${e.message}`);
        void vscode.window.showWarningMessage(`Nextword: ${e.message}`);
      } else {
        const message = (e as Error).message ?? String(e);
        this.deps.log.error(`training failed: ${(e as Error).stack ?? message}`);
        void vscode.window.showErrorMessage(`Nextword: training failed: ${message}`, 'Open Log').then((c) => {
          if (c) this.deps.log.show();
        });
      }
    } finally {
      run.cancel.dispose();
      this.run = undefined;
      if (run.interim && this.deps.models.current?.origin === 'interim') {
        this.deps.log.info('training: back to the saved model');
        await this.deps.models.restore();
      }
      this.setProgress(undefined);
    }
  }

  private async runTraining(
    run: Run,
    folders: readonly vscode.WorkspaceFolder[],
    outDir: string,
    config: NextwordConfig,
    { preset, settings: s }: ReturnType<typeof resolveTrainSettings>,
    notification: vscode.Progress<{ message?: string; increment?: number }>,
  ): Promise<void> {
    const { log } = this.deps;
    const token = run.cancel.token;
    const t0 = performance.now();
    notification.report({ message: `${readingMessage()} · ${SHOW_TRAINING_LINK}` });
    const limits = scanLimits(config.training);
    const progress = new TrainingProgressReporter(s, notification, (p) => this.setProgress(p), log);
    const reading = (p: ReadingProgress) => {
      progress.reading(p);
      this.deps.history.reading(p);
    };
    const source = await workspaceSource(folders, limits, token, log, reading);
    if (token.isCancellationRequested) throw new TrainingCancelled();

    let fileCount = 0;
    /** The vocabulary the worker built, once it has (the n-gram server needs its words). */
    let vocabulary: Vocabulary | undefined;
    // The n-gram model serves meanwhile unless the workspace already has a model of its own (a network
    // trained on it beats a few seconds of counting).
    const serveInterim = this.deps.models.current?.origin !== 'workspace';
    const threads = trainingThreads(config.training.threads, os.availableParallelism());
    // The editor comes first: on a busy machine training takes the cores it leaves; and in a process of its
    // own, its large allocations never make the extension host's thread wait (worker-channel.ts).
    const job = startTraining(
      {
        source,
        settings: s,
        preset,
        threads,
        // The budget is the whole run's: what reading took, and what fitting the mixture and saving will take
        // after the network's training, come out of the network's share.
        wholeRun: { spentS: (performance.now() - t0) / 1000 },
        // Next to the model's folder in the workspace's storage: the n-gram server loads it and the save copies
        // it, never this thread (io/handover-file.ts).
        companion: { handoverFile: `${outDir}.ngram-handover.tmp` },
        // The worker saves the model itself: its weights and n-gram model never come through this thread.
        save: { dir: outDir, source: `workspace: ${folders.map((f) => f.name).join(', ')}` },
        background: true,
        // What the run gained, in keystrokes, over the model it replaces for most users.
        compareWith: this.deps.models.defaultModelDir,
      },
      {
        onReading: reading,
        onRead: (read) => {
          fileCount = read.scan?.files.length ?? 0;
          log.info(`training: ${read.report}`);
          progress.vocabulary(fileCount);
          this.deps.history.read(read.scan);
        },
        onPlanned: (planned) => {
          vocabulary = Vocabulary.fromJSON(planned.vocab);
          const { cfg, params } = planned;
          log.info(
            `training: ${preset} preset, ${cfg.cell} ${cfg.layers}×${cfg.hidden}, vocabulary ${cfg.vocab}, ${thousands(params)} parameters; ` +
              `${thousands(planned.trainTokens)} training and ${thousands(planned.validTokens)} validation tokens; ${s.optimizer} lr ${s.lr}, ` +
              `${s.patience > 0 ? `until ${s.patience} epochs bring no progress (at most ${s.epochs})` : `${s.epochs} epochs`}${s.timeBudget ? `, time budget ${duration(s.timeBudget)}` : ''}, ${threads} ${threads === 1 ? 'thread' : 'threads'}`,
          );
          progress.starting(planned);
          this.deps.history.planned(planned, preset, s.timeBudget);
        },
        onNgram: (posted) => {
          const { figures } = posted;
          this.deps.history.ngram(figures);
          log.info(
            `training: n-gram companion ready in ${figures.seconds.toFixed(1)} s: Kneser-Ney ${figures.order}-gram, ${thousands(figures.ngrams)} n-grams, ` +
              `validation perplexity ${exactPerplexity(figures.validPpl)}`,
          );
          if (serveInterim && !token.isCancellationRequested && 'file' in posted) this.serveInterim(run, posted.file, vocabulary!, s.tokenizer, figures, t0);
        },
        onEvent: (e) => {
          progress.event(e);
          this.deps.history.event(e);
        },
        onSaving: () => {
          // Cancelling still works until the save commits (the previous model stays); after that the new
          // model is on disk, and it is the one used.
          run.trained = true;
          progress.saving();
          this.deps.history.saving();
        },
      },
      { isolation: 'process' },
    );
    run.job = job;
    const stop = token.onCancellationRequested(() => job.cancel());
    let result;
    try {
      result = await job.result;
    } finally {
      stop.dispose();
    }
    // The n-gram model's hand-over file: saved from there by the worker, then removed.
    if (result.ngram && 'file' in result.ngram) await removeHandover(result.ngram.file);
    if (!('saved' in result)) throw new Error('the training worker finished without saving the model');
    log.info(`training: model written to ${result.saved.dir}`);
    if (result.mixtureProblem) log.warn(`training: the mixture could not be fitted (${result.mixtureProblem}); the network is served with the document cache`);
    else if (result.mixture) log.info(`training: served as the mixture of the network, its n-gram companion and the document cache: validation perplexity ${exactPerplexity(result.mixture.fit.ppl.model)} (the network with the cache ${exactPerplexity(result.mixture.fit.ppl.networkCache)})`);
    if (result.completion) log.info(`training: completion threshold ${result.completion.minConfidence}, chosen by typing ${result.completion.chars} characters of the validation files (${result.completion.seconds.toFixed(1)} s)`);
    else if (result.completionProblem) log.info(`training: no completion threshold was chosen (${result.completionProblem}); the default applies`);
    if (token.isCancellationRequested) log.info('training: the cancel came after the model was saved; the new model is used');
    await this.deps.models.useWorkspaceModel();
    const total = (performance.now() - t0) / 1000;
    log.info(`training: done in ${duration(total)}; completions now use the workspace model`);
    const ksr = result.completion ? chosenTrial(result.completion)?.ksr : undefined;
    this.deps.history.finished({
      stoppedBy: result.stoppedBy,
      ...(result.mixture ? { servedPpl: result.mixture.fit.ppl.model } : {}),
      ...(ksr !== undefined ? { ksr } : {}),
      ...(result.comparedKsr !== undefined ? { comparedKsr: result.comparedKsr } : {}),
    });
    log.info(
      `training: ${result.stoppedBy === 'time-budget' ? 'the time budget was reached' : result.stoppedBy === 'no-improvement' ? 'stopped once validation stopped improving' : 'ran every epoch'}; ` +
        `validation perplexity ${exactPerplexity(result.mixture?.fit.ppl.model ?? result.bestValidPpl)}` +
        (ksr !== undefined ? `; keystroke savings on the validation pieces ${(ksr * 100).toFixed(1)} %${result.comparedKsr !== undefined ? ` (the bundled model ${(result.comparedKsr * 100).toFixed(1)} %)` : ''}` : ''),
    );
    void vscode.window
      .showInformationMessage(
        trainedMessage({ files: fileCount, seconds: total, ...(ksr !== undefined ? { ksr } : {}), ...(result.comparedKsr !== undefined ? { comparedKsr: result.comparedKsr } : {}) }),
        'Show Training',
        'Show Model Info',
      )
      .then((c) => {
        if (c) void vscode.commands.executeCommand(c === 'Show Training' ? 'nextword.showTraining' : 'nextword.showModelInfo');
      });
  }

  /**
   * Serves the workspace's n-gram model while the network trains, from the model server, loaded from its
   * hand-over file: its memory and the work of predicting with it stay out of the extension host.
   */
  private serveInterim(run: Run, file: string, vocabulary: Vocabulary, mode: TokenizerMode, figures: CompanionFigures, t0: number): void {
    const { log } = this.deps;
    const token = run.cancel.token;
    void RemoteServing.openNgram(file, vocabulary, mode)
      .then((server) => {
        if (token.isCancellationRequested || this.run !== run || run.trained) return server.release();
        log.info(`training: the n-gram server loaded the model in ${duration(server.loadMs / 1000)}`);
        run.interim = true;
        return this.deps.models.useInterim(server, figures, performance.now() - t0).then(() => undefined);
      })
      .catch((e: unknown) => {
        if (!token.isCancellationRequested && this.run === run && !run.trained) log.warn(`training: the n-gram model could not serve: ${(e as Error).message}`);
      });
  }

  private setProgress(p: TrainingProgress | undefined): void {
    this.progressState = p;
    if (p) this.deps.history.progress(p);
    this.changed.fire(p);
  }
}

/**
 * What a run on the workspace reads: its folders, walked by the training process itself when they are on
 * this machine's disk (from the listing on, nothing of it runs on this thread); others (remote, virtual)
 * read through VS Code here, their bytes then handed over.
 */
export async function workspaceSource(
  folders: readonly vscode.WorkspaceFolder[],
  limits: Pick<ScanLimits, 'maxFiles' | 'maxTotalBytes'>,
  token: vscode.CancellationToken,
  log: vscode.LogOutputChannel,
  onReading: (p: ReadingProgress) => void,
): Promise<TrainingSource> {
  const onDisk = foldersOnDisk(folders);
  for (const f of onDisk ?? []) log.debug(`training: ${f.root}: excluded by the settings: ${f.exclude?.join(', ') || 'nothing'}`);
  return onDisk ? { kind: 'folders', folders: onDisk, limits } : readThroughEditor(folders, limits, token, log, onReading);
}

/**
 * A workspace whose folders are not all on this machine's disk (remote, virtual): read through VS Code here
 * (workspace-corpus.ts) and packed into one buffer for the training process, which splits the files.
 */
async function readThroughEditor(
  folders: readonly vscode.WorkspaceFolder[],
  limits: Pick<ScanLimits, 'maxFiles' | 'maxTotalBytes'>,
  token: vscode.CancellationToken,
  log: vscode.LogOutputChannel,
  onReading: (p: ReadingProgress) => void,
): Promise<FilesSource> {
  const corpus = await readWorkspaceCorpus(folders, {
    limits,
    token,
    log: (line) => log.info(`training: ${line}`),
    debug: (line) => log.debug(`training: ${line}`),
    onProgress: onReading,
  });
  const files = corpus.files;
  const bytes = new Uint8Array(files.reduce((n, f) => n + f.data.length, 0));
  // A piece at a time between turns of the event loop.
  const pace = pacer();
  await pace(true);
  let at = 0;
  for (const f of files) {
    bytes.set(f.data, at);
    at += f.data.length;
    await pace();
    if (token.isCancellationRequested) throw new TrainingCancelled();
  }
  const source: FilesSource = { kind: 'files', bytes, lengths: files.map((f) => f.data.length), relPaths: files.map((f) => f.relPath), scan: scanFigures(corpus) };
  // The files are not needed any more: let them go before the long part.
  files.length = 0;
  return source;
}
