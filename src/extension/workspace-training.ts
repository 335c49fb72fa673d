// "Nextword: Train on Workspace": a training process (runtime/training/training-job.ts) reads the workspace (its
// folders on this machine's disk, with the exclude settings they have here: io/workspace-files.ts; other
// folders are read through VS Code on this thread, workspace-corpus.ts, and their bytes handed over),
// builds the vocabulary and trains, under a cancellable progress notification; it writes the model
// atomically under the workspace's storage, and the editor switches to it. The CLI's `nextword train` is
// the same flow (src/cli/train-command.ts); only where the reading and the vocabulary run (the CLI has no
// event loop to keep free) and the progress display differ.
//
// The worker first trains the n-gram companion (core/ngram/companion.ts; seconds): unless the workspace
// already has a model trained on it, that n-gram model serves completions and the status bar at once, from
// a process of its own (runtime/main/model-server.ts), while the network trains; the finished model replaces it,
// and it is saved with the model as its baseline.
//
// One run at a time; cancelling (the notification's button, the command, the status menu) goes back to
// the previous model and writes nothing. Refused in an untrusted workspace: training reads every file.

import * as os from 'node:os';
import * as vscode from 'vscode';
import { startTokenId } from '../core/scoring/evaluation.js';
import { pacer } from '../core/support/event-loop.js';
import { splitByFile } from '../core/corpus/file-split.js';
import { parameterCount } from '../core/model/model-config.js';
import { epochLabel, trainingPlan } from '../core/train/presets.js';
import { MAX_VALID_TOKENS } from '../core/text/text-encoding.js';
import type { TrainEvent } from '../core/train/trainer.js';
import { Vocabulary } from '../core/text/vocabulary.js';
import { removeHandover } from '../io/handover-file.js';
import type { ScanLimits } from '../core/corpus/file-filters.js';
import { formatScanReport, scanFigures, type FolderToRead, type ScanFigures } from '../io/workspace-files.js';
import { startTrainingOnFolders, startTrainingOnTexts, TrainingCancelled, type TrainingJob } from '../runtime/training/training-job.js';
import { RemoteServing } from '../runtime/serving/remote-serving.js';
import type { CompanionHandover, CompanionOutput, PreparedTexts, ReadingProgress, SavedRunOutput, TextsInput, TrainJobOutput, TrainPlan } from '../runtime/training/training-protocol.js';
import type { NextwordConfig } from './config.js';
import { duration, exactPerplexity, megabytes, thousands } from './format.js';
import type { ModelManager } from './model-manager.js';
import type { TrainingProgress } from './status.js';
import { networkBudget, resolveTrainSettings, trainingThreads, TrainingSettingsError } from './training-settings.js';
import { CorpusCancelled, foldersOnDisk, readWorkspaceCorpus, type CorpusFile } from './workspace-corpus.js';

export interface WorkspaceTrainerDeps {
  log: vscode.LogOutputChannel;
  models: ModelManager;
  readConfig: () => NextwordConfig;
}

interface Run {
  cancel: vscode.CancellationTokenSource;
  job?: TrainingJob<TrainJobOutput | SavedRunOutput>;
  /** The interim n-gram model was put in service: a run that does not finish must restore the saved model. */
  interim?: boolean;
  /** The network is trained: from now on nothing but the new model may be put in service. */
  trained?: boolean;
}

/** Thrown inside a run to end it with a message to the user (not a failure of Nextword). */
class Refusal extends Error {}

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
    } catch (e) {
      this.lastOutcome = e instanceof TrainingCancelled || e instanceof CorpusCancelled ? 'cancelled' : e instanceof Refusal ? 'refused' : 'failed';
      if (e instanceof TrainingCancelled || e instanceof CorpusCancelled) {
        this.deps.log.info('training cancelled; the previous model is still in use');
        void vscode.window.showInformationMessage('Nextword: training cancelled. The previous model is still in use.');
      } else if (e instanceof Refusal) {
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

    // 1. Read: folders on this machine's disk by the training process itself (from the listing on, nothing
    // of it runs on this thread: findFiles started `rg` from it and its replies made collections here);
    // others (remote, virtual) through VS Code here, their bytes then handed to the training process.
    notification.report({ message: 'Reading the workspace…' });
    const limits = { maxFiles: config.training.maxFiles, maxTotalBytes: Math.round(config.training.maxMegabytes * 1024 * 1024) };
    let report = '';
    let fileCount = 0;
    const onReading = (p: ReadingProgress) => {
      notification.report({ message: `Reading the workspace: ${thousands(p.taken)} files (${megabytes(p.totalBytes)})` });
      this.setProgress({ phase: 'reading', files: p.taken });
    };
    /** What was read: logged; refused below two files; then the vocabulary (in the worker). */
    const onRead = (scan: ScanFigures) => {
      report = formatScanReport(scan);
      fileCount = scan.files.length;
      log.info(`training: ${report}`);
      if (fileCount < 2) {
        throw new Refusal(
          `found ${fileCount === 0 ? 'no text files' : 'only one text file'} to train on; at least two are needed (one is held out to measure the model). ${report}`,
        );
      }
      // 2. Vocabulary, then ids, in the training worker (core/text/text-encoding.ts's two passes: 4 bytes a
      // token, never a string each).
      this.setProgress({ phase: 'vocabulary' });
      notification.report({ message: `Building the vocabulary from ${thousands(fileCount)} files…` });
    };
    const onDisk = foldersOnDisk(folders);
    for (const f of onDisk ?? []) log.debug(`training: ${f.root}: excluded by the settings: ${f.exclude?.join(', ') || 'nothing'}`);
    const source: { folders: FolderToRead[] } | { texts: Pick<TextsInput, 'bytes' | 'trainLengths' | 'validLengths'> } = onDisk
      ? { folders: onDisk }
      : { texts: await readThroughEditor(folders, limits, s.validFraction, token, log, onReading, onRead) };
    const threads = trainingThreads(config.training.threads, os.availableParallelism());
    if (token.isCancellationRequested) throw new TrainingCancelled();

    // 3. Train.
    let reported = 0; // percent already reported to the notification
    let lastShown = 0; // performance.now() of the last progress shown
    let lastEpoch: Extract<TrainEvent, { kind: 'epoch' }> | undefined;
    const onEvent = (e: TrainEvent) => {
      if (e.kind === 'epoch') {
        lastEpoch = e;
        lastShown = 0;
        log.info(
          `training: epoch ${e.epoch} | ${duration(e.seconds)} | ${thousands(e.tokensPerS)} tok/s | train ppl ${exactPerplexity(e.trainPpl)}${e.sampled ? ' (sampled softmax)' : ''} | ` +
            `valid ppl ${exactPerplexity(e.validPpl)} | lr ${e.lr}${e.best ? ' *' : ''}`,
        );
        return;
      }
      // A small model steps hundreds of times a second: a few updates a second are enough to read.
      const now = performance.now();
      if (now - lastShown < 250 && e.step !== e.steps) return;
      lastShown = now;
      // With patience the epochs are only a cap: the budget measures the way (and the ETA is the budget's).
      const byEpochs = s.patience > 0 && s.timeBudget > 0 ? 0 : (e.epoch - 1 + e.step / e.steps) / s.epochs;
      const byTime = s.timeBudget > 0 ? e.elapsedS / s.timeBudget : 0;
      const fraction = Math.min(1, Math.max(byEpochs, byTime));
      const pct = Math.floor(fraction * 100);
      const parts = [
        `E${epochLabel(e.epoch, s).slice(1)}`,
        `${pct}%`,
        `${thousands(e.tokensPerS)} tokens/s`,
        ...(lastEpoch ? [`validation perplexity ${exactPerplexity(lastEpoch.validPpl)}`] : []),
        `${duration(e.etaS)} left`,
      ];
      notification.report({ message: parts.join(' · '), increment: Math.max(0, pct - reported) });
      reported = Math.max(reported, pct);
      this.setProgress({
        phase: 'training',
        fraction,
        etaS: e.etaS,
        epoch: e.epoch,
        tokensPerS: e.tokensPerS,
        ...(lastEpoch ? { validPpl: lastEpoch.validPpl } : {}),
      });
    };
    // What to train, decided once the worker has the vocabulary and the token counts.
    // The vocabulary the worker built, once it has (the n-gram server needs its words).
    let vocabulary: Vocabulary | undefined;
    const onPrepared = (prepared: PreparedTexts): TrainPlan => {
      const vocab = Vocabulary.fromJSON(prepared.vocab);
      const { cfg, options } = trainingPlan(s, vocab.size, prepared.trainTokens);
      // The budget is the whole run's: what reading took, and what fitting the mixture and saving will take
      // after the network's training, come out of the network's share.
      if (s.timeBudget > 0) options.timeBudget = networkBudget(s.timeBudget, (performance.now() - t0) / 1000, prepared.validTokens);
      const params = parameterCount(cfg);
      const counts = { trainTokens: prepared.trainTokens, validTokens: prepared.validTokens };
      if (counts.trainTokens < s.batch * 2 || counts.validTokens < 2) {
        throw new Refusal(
          `the workspace has too little text to train on (${thousands(counts.trainTokens)} training and ${thousands(counts.validTokens)} validation tokens). ${report}`,
        );
      }
      log.info(
        `training: ${preset} preset, ${cfg.cell} ${cfg.layers}×${cfg.hidden}, vocabulary ${vocab.size}, ${thousands(params)} parameters; ` +
          `${thousands(counts.trainTokens)} training and ${thousands(counts.validTokens)} validation tokens; ${s.optimizer} lr ${s.lr}, ` +
          `${s.patience > 0 ? `until ${s.patience} epochs bring no progress (at most ${s.epochs})` : `${s.epochs} epochs`}${s.timeBudget ? `, time budget ${duration(s.timeBudget)}` : ''}, ${threads} ${threads === 1 ? 'thread' : 'threads'}`,
      );
      vocabulary = vocab;
      this.setProgress({ phase: 'training', fraction: 0 });
      notification.report({ message: `Starting: ${thousands(counts.trainTokens)} tokens, ${thousands(params)} parameters…` });
      return {
        cfg,
        options,
        threads,
        // Next to the model's folder in the workspace's storage: the n-gram server loads it and the save copies
        // it, never this thread (io/handover-file.ts).
        ngram: { vocabSize: vocab.size, startId: startTokenId(vocab, s.tokenizer), handoverFile: `${outDir}.ngram-handover.tmp` },
        // The worker saves the model itself: its weights and n-gram model never come through this thread.
        save: {
          dir: outDir,
          tokenizer: s.tokenizer,
          precision: s.weights,
          about: { corpus: { source: `workspace: ${folders.map((f) => f.name).join(', ')}`, files: fileCount, ...counts }, options: { preset, ...s, dropout: options.dropout, threads }, params },
        },
      };
    };
    // The n-gram model serves meanwhile unless the workspace already has a model of its own (a network
    // trained on it beats a few seconds of counting).
    const serveInterim = this.deps.models.current?.origin !== 'workspace';
    const onNgram = (posted: CompanionOutput | CompanionHandover) => {
      const { figures } = posted;
      log.info(
        `training: n-gram companion ready in ${figures.seconds.toFixed(1)} s: Kneser-Ney ${figures.order}-gram, ${thousands(figures.ngrams)} n-grams, ` +
          `validation perplexity ${exactPerplexity(figures.validPpl)}`,
      );
      if (!serveInterim || token.isCancellationRequested || !('file' in posted)) return;
      // Served by a process of its own, loaded from the hand-over file: its 60 MB (for a 50 MB workspace) and
      // the work of predicting with it stay out of the extension host (runtime/main/model-server.ts).
      void RemoteServing.openNgram(posted.file, vocabulary!, s.tokenizer)
        .then((server) => {
          if (token.isCancellationRequested || this.run !== run || run.trained) return server.release();
          log.info(`training: the n-gram server loaded the model in ${duration(server.loadMs / 1000)}`);
          server.onExit((reason) => {
            if (this.deps.models.current?.session !== server) return;
            log.warn(`training: ${reason.message}; back to the saved model while the network trains`);
            void this.deps.models.restore();
          });
          run.interim = true;
          return this.deps.models.useInterim(server, figures, performance.now() - t0).then(() => undefined);
        })
        .catch((e: unknown) => {
          if (!token.isCancellationRequested && this.run === run && !run.trained) log.warn(`training: the n-gram model could not serve: ${(e as Error).message}`);
        });
    };
    const onSaving = () => {
      // 4. Save (in the worker). Cancelling still works until the save commits (the previous model
      // stays); after that the new model is on disk, and it is the one used.
      run.trained = true;
      this.setProgress({ phase: 'saving' });
      notification.report({ message: 'Saving the model…' });
    };
    const prepare = { tokenizer: s.tokenizer, vocab: { maxSize: s.vocab, minCount: s.minCount }, maxValidTokens: MAX_VALID_TOKENS };
    // The editor comes first: on a busy machine training takes the cores it leaves; and in a process of its
    // own, its large allocations never make the extension host's thread wait (worker-channel.ts).
    const job =
      'folders' in source
        ? startTrainingOnFolders(
            { ...prepare, folders: source.folders, limits, validFraction: s.validFraction },
            { onReading, onRead, onPrepared, onEvent, onNgram, onSaving },
            { background: true },
          )
        : startTrainingOnTexts({ ...source.texts, ...prepare }, onPrepared, onEvent, onNgram, { background: true, isolation: 'process', onSaving });
    run.job = job;
    const stop = token.onCancellationRequested(() => job.cancel());
    let result;
    try {
      result = await job.result;
    } finally {
      stop.dispose();
    }
    // The n-gram model's hand-over file, when it came as one: saved from there by the worker, then removed.
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
    void vscode.window
      .showInformationMessage(
        `Nextword trained on ${thousands(fileCount)} files in ${duration(total)}` +
          `${result.stoppedBy === 'time-budget' ? ' (time budget reached)' : ''}${result.stoppedBy === 'no-improvement' ? ' (until validation stopped improving)' : ''}: validation perplexity ${exactPerplexity(result.mixture?.fit.ppl.model ?? result.bestValidPpl)}. ` +
          'Completions now use the new model.',
        'Show Model Info',
      )
      .then((c) => {
        if (c) void vscode.commands.executeCommand('nextword.showModelInfo');
      });
  }

  private setProgress(p: TrainingProgress | undefined): void {
    this.progressState = p;
    this.changed.fire(p);
  }
}

/**
 * A workspace whose folders are not all on this machine's disk (remote, virtual): read through VS Code here
 * (workspace-corpus.ts), split, and packed into one buffer for the training process.
 */
async function readThroughEditor(
  folders: readonly vscode.WorkspaceFolder[],
  limits: Pick<ScanLimits, 'maxFiles' | 'maxTotalBytes'>,
  validFraction: number,
  token: vscode.CancellationToken,
  log: vscode.LogOutputChannel,
  onReading: (p: ReadingProgress) => void,
  onRead: (scan: ScanFigures) => void,
): Promise<Pick<TextsInput, 'bytes' | 'trainLengths' | 'validLengths'>> {
  const corpus = await readWorkspaceCorpus(folders, {
    limits,
    token,
    log: (line) => log.info(`training: ${line}`),
    debug: (line) => log.debug(`training: ${line}`),
    onProgress: onReading,
  });
  onRead(scanFigures(corpus));
  const { train, valid } = splitByFile(corpus.files, validFraction);
  const texts = await packTexts(train, valid, token);
  // The files are not needed any more: let them go before the long part.
  corpus.files.length = train.length = valid.length = 0;
  return texts;
}

/**
 * The training and validation files' bytes in one buffer for the worker (transferred, not copied), with
 * their lengths; a piece at a time between turns of the event loop.
 */
async function packTexts(
  train: readonly CorpusFile[],
  valid: readonly CorpusFile[],
  token: vscode.CancellationToken,
): Promise<Pick<TextsInput, 'bytes' | 'trainLengths' | 'validLengths'>> {
  const files = [...train, ...valid];
  const bytes = new Uint8Array(files.reduce((n, f) => n + f.data.length, 0));
  const pace = pacer();
  await pace(true); // what ran before (the split, the report) had its stretch
  let at = 0;
  for (const f of files) {
    bytes.set(f.data, at);
    at += f.data.length;
    await pace();
    if (token.isCancellationRequested) throw new TrainingCancelled();
  }
  return { bytes, trainLengths: train.map((f) => f.data.length), validLengths: valid.map((f) => f.data.length) };
}

