// The workspace's own words before any model is trained on it, with the user's consent
// (`nextword.workspaceWords`, set by the walkthrough, the first-run suggestion or the settings): the training
// process reads the workspace as Train on Workspace does and only counts its n-gram model (seconds, in the
// background), and the model server serves that, with the document cache, until a network is trained. In a
// trusted workspace with no model of its own; counted again at each start, so it follows the files.

import * as os from 'node:os';
import * as vscode from 'vscode';
import { Vocabulary } from '../core/text/vocabulary.js';
import { removeHandover } from '../io/handover-file.js';
import { RemoteServing } from '../runtime/serving/remote-serving.js';
import { startTraining, TrainingCancelled, TrainingRefused, type TrainingJob } from '../runtime/training/training-job.js';
import type { CountedOutput } from '../runtime/training/training-protocol.js';
import { scanLimits, type NextwordConfig } from './config.js';
import { duration, exactPerplexity, thousands } from './format.js';
import type { ModelManager } from './model-manager.js';
import { resolveTrainSettings, trainingThreads } from './training-settings.js';
import { workspaceSource } from './workspace-training.js';

export interface WorkspaceWordsDeps {
  log: vscode.LogOutputChannel;
  models: ModelManager;
  readConfig: () => NextwordConfig;
  /** Whether Train on Workspace is running (it serves its own count meanwhile). */
  isTraining: () => boolean;
}

/** What the last count did, for the log and the tests. */
export type WordsState = { kind: 'idle' } | { kind: 'counting' } | { kind: 'serving'; ngrams: number; seconds: number } | { kind: 'skipped'; why: string } | { kind: 'failed'; message: string };

export class WorkspaceWords implements vscode.Disposable {
  private job: TrainingJob<CountedOutput> | undefined;
  /** The count in progress: a second start (the consent's setting change and the command both ask) joins it. */
  private running: Promise<WordsState> | undefined;
  private cancel = new vscode.CancellationTokenSource();
  state: WordsState = { kind: 'idle' };

  constructor(private readonly deps: WorkspaceWordsDeps) {}

  /** Counts and serves the workspace's words when the user agreed and nothing better serves; never throws. */
  start(): Promise<WordsState> {
    this.running ??= this.startOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async startOnce(): Promise<WordsState> {
    const why = await this.reasonNotTo();
    if (why) {
      this.state = { kind: 'skipped', why };
      this.deps.log.debug(`workspace words: not counted: ${why}`);
      return this.state;
    }
    this.state = { kind: 'counting' };
    try {
      this.state = await this.count();
    } catch (e) {
      this.state = e instanceof TrainingCancelled ? { kind: 'skipped', why: 'cancelled' } : { kind: 'failed', message: (e as Error).message };
      if (this.state.kind === 'failed') this.deps.log.warn(`workspace words: ${this.state.message}`);
    }
    return this.state;
  }

  /** Gives the user's consent for this workspace and counts now. */
  async enable(): Promise<WordsState> {
    await vscode.workspace.getConfiguration('nextword').update('workspaceWords', true, vscode.ConfigurationTarget.Workspace);
    return this.start();
  }

  /** Stops a count in progress (Train on Workspace is starting, or the extension stops). */
  stop(): void {
    this.cancel.cancel();
    this.cancel = new vscode.CancellationTokenSource();
    void this.job?.kill();
    this.job = undefined;
  }

  dispose(): void {
    this.stop();
  }

  private async reasonNotTo(): Promise<string | undefined> {
    if (!this.deps.readConfig().workspaceWords) return 'nextword.workspaceWords is off';
    if (!vscode.workspace.isTrusted) return 'the workspace is not trusted';
    if (!vscode.workspace.workspaceFolders?.length) return 'no folder is open';
    if (this.deps.isTraining()) return 'Train on Workspace is running';
    const current = this.deps.models.current?.origin;
    if (current === 'workspace' || current === 'folder' || current === 'interim') return `a ${current} model serves`;
    if (!this.deps.models.workspaceModelDir) return 'no workspace storage';
    return (await this.deps.models.hasWorkspaceModel()) ? 'the workspace has a trained model' : undefined;
  }

  private async count(): Promise<WordsState> {
    const { log, models } = this.deps;
    const config = this.deps.readConfig();
    const { preset, settings } = resolveTrainSettings(config.training);
    const token = this.cancel.token;
    const t0 = performance.now();
    const folders = vscode.workspace.workspaceFolders ?? [];
    const limits = scanLimits(config.training);
    const source = await workspaceSource(folders, limits, token, log, () => undefined);
    if (token.isCancellationRequested) throw new TrainingCancelled();
    const handoverFile = `${models.workspaceModelDir!}.ngram-count.tmp`;
    let vocabulary: Vocabulary | undefined;
    let served: Promise<void> | undefined;
    const job = startTraining(
      {
        source,
        settings,
        preset,
        threads: trainingThreads(config.training.threads, os.availableParallelism()),
        companion: { handoverFile },
        countOnly: true,
        background: true,
      },
      {
        onRead: (read) => log.info(`workspace words: ${read.report}`),
        onPlanned: (p) => (vocabulary = Vocabulary.fromJSON(p.vocab)),
        onNgram: (posted) => {
          if (!('file' in posted)) return;
          // Loaded by the model server from the file, which is then of no further use.
          served = RemoteServing.openNgram(posted.file, vocabulary!, settings.tokenizer)
            .then(async (server) => {
              if (token.isCancellationRequested || this.deps.isTraining()) return server.release();
              await models.useInterim(server, posted.figures, performance.now() - t0);
            })
            .finally(() => removeHandover(posted.file));
        },
      },
      { isolation: 'process' },
    );
    this.job = job;
    try {
      const result = await job.result;
      await served;
      const seconds = (performance.now() - t0) / 1000;
      const f = result.counted;
      log.info(
        `workspace words: Kneser-Ney ${f.order}-gram, ${thousands(f.ngrams)} n-grams, validation perplexity ${exactPerplexity(f.validPpl)}, ` +
          `serving ${duration(seconds)} after the start`,
      );
      return { kind: 'serving', ngrams: f.ngrams, seconds };
    } catch (e) {
      if (e instanceof TrainingRefused) return { kind: 'skipped', why: e.message };
      throw e;
    } finally {
      if (this.job === job) this.job = undefined;
    }
  }
}
