// The extension's one context object (rust-analyzer's Ctx): it builds every part with its dependencies
// passed explicitly, wires the events between them, and owns the two lifetimes: the extension's
// (pushExtCleanup: commands, providers, listeners) and the loaded model's (ModelManager.pushModelCleanup:
// the predictor and what caches its results), so switching models disposes only the second.

import * as path from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { CompletionEngine, type CompletionOutcome, type CompletionPredictor, type CompletionSettings } from '../core/completion/completion-engine.js';
import { EDITOR_CONTEXT_CACHE, Predictor } from '../core/predict/predictor.js';
import { servedValidPpl } from '../core/serving/model-format.js';
import type { ServingModel } from '../core/serving/serving-model.js';
import { EDITOR_SCORING_THREADS } from '../runtime/serving/remote-serving.js';
import { ServerProcess } from '../runtime/serving/server-process.js';
import { affectsConfig, languageConfigFor, migrateSettings, readConfig, type LanguageConfig, type NextwordConfig } from './config.js';
import { ContextWarmer } from './context-warmer.js';
import { InlineProvider } from './inline-provider.js';
import type { SessionFigures } from './model-info.js';
import { ModelInfoDocument } from './model-info-document.js';
import { ModelManager, type LoadedModel } from './model-manager.js';
import { PerplexityTracker } from './perplexity-tracker.js';
import { FirstRunSuggestion } from './first-run.js';
import { WorkspaceWords } from './workspace-words.js';
import { checkStaleModel, type StaleCheck } from './stale-model.js';
import { Snooze } from './snooze.js';
import { StatusBar } from './status-bar.js';
import { SurprisingWords } from './surprising-words.js';
import { SavingsTracker } from './savings-tracker.js';
import { TrainingHistory } from './training-history.js';
import { TrainingView } from './training-view.js';
import { WorkspaceTrainer } from './workspace-training.js';

/** Intra-op threads of the prediction session: one token step is too little work to share, and the editor shares the machine. */
const INFERENCE_THREADS = 1;

/** Period of the event-loop delay sampler; each sample is the period plus the delay. */
const EVENT_LOOP_SAMPLE_MS = 10;
/** Text of the warm-up prediction: a few common words, a line break, a word being typed after it. */
const WARM_UP_TEXT = 'The first line of the text.\nIt was the best of times, it was ';
/** Requests between two latency summaries in the log. */
const LATENCY_LOG_EVERY = 200;
/** The documents completions are offered in: every file, and untitled documents. */
const COMPLETION_SELECTOR: vscode.DocumentSelector = [{ pattern: '**' }, { scheme: 'untitled' }];

/** The suggestion to train is considered this long after activation, once the editor has settled. */
const FIRST_RUN_AFTER_MS = 10_000;
/** A workspace model's age is looked at this long after it loads. */
const STALE_CHECK_AFTER_MS = 15_000;
/** Renamed settings are moved this long after activation, off the path of the first completion. */
const MIGRATE_AFTER_MS = 5_000;

export class Ctx implements vscode.Disposable {
  readonly models: ModelManager;
  readonly trainer: WorkspaceTrainer;
  readonly snooze = new Snooze();
  readonly firstRun: FirstRunSuggestion;
  readonly words: WorkspaceWords;
  /** The workspace model whose age was looked at (its createdAt), and what was found. */
  private staleCheckedFor: string | undefined;
  private staleCheck: StaleCheck = { kind: 'not-checked' };
  readonly engine: CompletionEngine;
  private readonly contextWarmer: ContextWarmer;
  readonly statusBar: StatusBar;
  readonly perplexity: PerplexityTracker;
  readonly surprising: SurprisingWords;
  readonly savings: SavingsTracker;
  readonly trainingHistory: TrainingHistory;
  readonly trainingView: TrainingView;
  readonly modelInfoDocument = new ModelInfoDocument();

  private config: NextwordConfig = readConfig();
  private predictor: CompletionPredictor | undefined;
  private readonly extCleanup: vscode.Disposable[] = [];
  /** The language-overridable settings by language and folder; cleared when the settings change. */
  private readonly languageCache = new Map<string, LanguageConfig>();
  /** The first completion shown: when (ms after activation) and how long its request took. */
  private firstCompletion: { sinceActivationMs: number; latencyMs: number } | undefined;
  private activationMs: number | undefined;
  /** The extension host's RSS when activated and once the first model is loaded: the model's share. */
  private readonly startupRss: { atActivation?: number; modelLoaded?: number } = {};
  /**
   * The extension host's event-loop delay (a native sampler, no work on the loop): how long any callback,
   * ours or another extension's, kept the loop from answering. Read by the tests through `nextword._stats`.
   */
  private readonly eventLoop: IntervalHistogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS });

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    /** performance.now() when activate() was called. */
    private readonly activatedAt: number,
  ) {
    this.pushExtCleanup(this.modelInfoDocument, { dispose: () => this.eventLoop.disable() });
    this.eventLoop.enable();
    this.models = new ModelManager({
      log,
      workspaceModelDir: context.storageUri?.scheme === 'file' ? path.join(context.storageUri.fsPath, 'model') : undefined,
      defaultModelDir: path.join(context.extensionUri.fsPath, 'models', 'default'),
      workspaceState: context.workspaceState,
      threads: INFERENCE_THREADS,
      // The status bar's scoring, on one thread (remote-serving.ts).
      scoringThreads: EDITOR_SCORING_THREADS,
    });
    this.trainingHistory = new TrainingHistory(context.workspaceState, log);
    this.trainer = new WorkspaceTrainer({ log, models: this.models, readConfig: () => this.config, history: this.trainingHistory });
    // Read afresh: a count may start right after the user gave consent, before the change event came.
    this.words = new WorkspaceWords({ log, models: this.models, readConfig, isTraining: () => this.trainer.isRunning });
    this.firstRun = new FirstRunSuggestion({
      workspaceState: context.workspaceState,
      globalState: context.globalState,
      log,
      enabled: () => this.config.training.suggest,
      hasWorkspaceModel: () => this.hasWorkspaceModel(),
      train: () => void vscode.commands.executeCommand('nextword.trainWorkspace'),
      useWords: () => void vscode.commands.executeCommand('nextword.useWorkspaceWords'),
    });
    this.engine = new CompletionEngine({ getPredictor: () => this.predictor, waitForPredictor: (signal) => this.waitForPredictor(signal) });
    this.contextWarmer = new ContextWarmer(this.engine, (doc) => vscode.languages.match(COMPLETION_SELECTOR, doc) > 0 && this.isEnabledFor(doc));
    this.savings = new SavingsTracker(context.globalState, log);
    this.statusBar = new StatusBar({
      models: this.models,
      trainer: this.trainer,
      snooze: this.snooze,
      statusBarEnabled: () => this.config.statusBarEnabled,
      disabledLanguage: () => {
        const doc = vscode.window.activeTextEditor?.document;
        return doc && !this.isEnabledFor(doc) ? doc.languageId : undefined;
      },
      disabledEverywhere: () => this.isDisabledEverywhere(),
      showPerplexity: () => this.config.statusBarPerplexity,
      savings: () => this.savings.figures(),
    });
    this.perplexity = new PerplexityTracker({
      log,
      onState: (file) => this.statusBar.setFile(file),
      enabled: () => this.config.statusBarEnabled,
    });
    this.trainingView = new TrainingView({
      extensionUri: context.extensionUri,
      history: this.trainingHistory,
      savings: this.savings,
      hasWorkspaceModel: () => this.models.current?.origin === 'workspace',
      cannotTrain: () =>
        !vscode.workspace.isTrusted
          ? 'Training is off in an untrusted workspace: it reads every file. Trust the workspace to train on it.'
          : !vscode.workspace.workspaceFolders?.length
            ? 'Open a folder to train on its files.'
            : !this.models.workspaceModelDir
              ? 'This window has no local storage for a trained model.'
              : undefined,
      log,
    });
    this.surprising = new SurprisingWords({
      log,
      models: this.models,
      enabled: () => this.config.surprisingWords,
      selector: COMPLETION_SELECTOR,
      applies: (doc) => vscode.languages.match(COMPLETION_SELECTOR, doc) > 0 && this.isEnabledFor(doc),
    });
    // Disposed in reverse: the trainer (kills a run) and the models go last, after what uses them.
    this.pushExtCleanup(this.models, this.trainingHistory, this.trainer, this.statusBar, this.perplexity, this.snooze, this.firstRun, this.words, this.surprising, this.savings, this.trainingView);

    const provider = new InlineProvider({
      engine: this.engine,
      log,
      settingsFor: (document) => this.completionSettings(document),
      onOutcome: (outcome) => this.noteOutcome(outcome),
      onOffered: (doc, offer) => this.savings.offered(doc, offer),
    });
    this.pushExtCleanup(
      vscode.languages.registerInlineCompletionItemProvider(COMPLETION_SELECTOR, provider),
      this.contextWarmer,
      this.models.onDidChange((state) => {
        if (state.kind === 'ready') this.attachModel(state.model);
        if (state.kind === 'ready' && state.model.origin === 'workspace') this.scheduleStaleCheck(state.model.session.meta.createdAt);
        this.statusBar.refresh();
      }),
      this.trainer.onDidChangeProgress(() => this.statusBar.refresh()),
      this.savings.onDidChange(() => this.statusBar.refresh()),
      this.snooze.onDidChange(() => {
        this.syncSnooze();
        this.statusBar.refresh();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!affectsConfig(e)) return;
        this.config = readConfig();
        this.languageCache.clear();
        if (e.affectsConfiguration('nextword.workspaceWords')) void this.wordsSettingChanged();
        this.perplexity.refresh();
        this.surprising.refresh();
        this.statusBar.refresh();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.statusBar.refresh()),
      vscode.workspace.onDidCloseTextDocument((doc) => this.engine.forget(doc.uri.toString())),
      vscode.workspace.onDidGrantWorkspaceTrust(() => log.info('the workspace is trusted now: Train on Workspace is available')),
    );
  }

  /** Starts loading the model; activation does not wait for it (requests answer 'no-model' meanwhile). */
  start(): void {
    this.activationMs = performance.now() - this.activatedAt;
    this.log.info(`activated in ${this.activationMs.toFixed(0)} ms; loading the model`);
    this.startupRss.atActivation = process.memoryUsage.rss();
    void this.models
      .loadInitial()
      .then(() => {
        this.startupRss.modelLoaded = process.memoryUsage.rss();
        // With the user's consent, the workspace's own words before any training (workspace-words.ts).
        void this.words.start();
      })
      .catch((e) => this.log.error(`loading the model failed: ${(e as Error).stack ?? String(e)}`));
    // Settings renamed since an earlier version: their values move to the new names (after the model, off the startup path).
    this.firstRun.schedule(FIRST_RUN_AFTER_MS);
    const migrate = setTimeout(() => {
      migrateSettings(vscode.workspace.workspaceFolders ?? []).then(
        (moved) => moved.forEach((m) => this.log.info(`setting renamed: ${m}`)),
        (e: unknown) => this.log.warn(`moving renamed settings failed: ${(e as Error).message}`),
      );
    }, MIGRATE_AFTER_MS);
    this.pushExtCleanup({ dispose: () => clearTimeout(migrate) });
  }

  /** `nextword.surprisingWords.enable`. */
  surprisingWordsOn(): boolean {
    return this.config.surprisingWords;
  }

  pushExtCleanup(...disposables: vscode.Disposable[]): void {
    this.extCleanup.push(...disposables);
  }

  dispose(): void {
    for (let i = this.extCleanup.length - 1; i >= 0; i--) {
      try {
        this.extCleanup[i]!.dispose();
      } catch (e) {
        this.log.warn(`cleanup failed: ${(e as Error).message}`);
      }
    }
    this.extCleanup.length = 0;
  }

  /** The one answer every model-dependent command gives while no model is loaded. */
  async explainNoModel(): Promise<undefined> {
    const state = this.models.modelState;
    if (state.kind === 'loading') {
      void vscode.window.showInformationMessage('Nextword is still loading its model; try again in a moment.');
      return undefined;
    }
    const reason = state.kind === 'none' ? state.reason : 'no model is loaded';
    const choice = await vscode.window.showWarningMessage(`Nextword has no model: ${reason}.`, 'Train on Workspace', 'Load Model from Folder…');
    if (choice === 'Train on Workspace') void vscode.commands.executeCommand('nextword.trainWorkspace');
    else if (choice) void vscode.commands.executeCommand('nextword.loadModel');
    return undefined;
  }

  /** `nextword.workspaceWords` turned on: count now; turned off: back to the saved model if the count serves. */
  private async wordsSettingChanged(): Promise<void> {
    if (this.config.workspaceWords) {
      await this.words.start();
      return;
    }
    this.words.stop();
    if (!this.trainer.isRunning && this.models.current?.origin === 'interim') await this.models.restore();
  }

  /** Looks, once per model and off the startup path, whether the workspace's model has grown stale (stale-model.ts). */
  private scheduleStaleCheck(createdAt: string): void {
    if (this.staleCheckedFor === createdAt) return;
    this.staleCheckedFor = createdAt;
    const timer = setTimeout(() => {
      checkStaleModel(createdAt, { workspaceState: this.context.workspaceState, log: this.log, retrain: () => void vscode.commands.executeCommand('nextword.trainWorkspace') }).then(
        (check) => (this.staleCheck = check),
        (e: unknown) => this.log.warn(`checking the model's age failed: ${(e as Error).message}`),
      );
    }, STALE_CHECK_AFTER_MS);
    this.pushExtCleanup({ dispose: () => clearTimeout(timer) });
  }

  /** Whether this workspace has a model trained on it, or one is training. */
  private async hasWorkspaceModel(): Promise<boolean> {
    return this.trainer.isRunning || this.models.current?.origin === 'workspace' || this.models.hasWorkspaceModel();
  }

  /** Whether completions are turned off for every language (the user's `nextword.enable`). */
  isDisabledEverywhere(): boolean {
    return this.config.disabledEverywhere;
  }

  isEnabledForLanguage(languageId: string): boolean {
    const doc = vscode.window.activeTextEditor?.document;
    return this.isEnabledFor(doc && doc.languageId === languageId ? doc : { uri: undefined, languageId });
  }

  /** This session's figures for "Show Model Info". */
  sessionFigures(model: LoadedModel): SessionFigures {
    const s = this.engine.stats();
    return {
      loadMs: model.loadMs,
      latency: { count: s.latency.count, p50: s.latency.p50, p99: s.latency.p99, max: s.latency.max },
      outcomes: { shown: s.shown, ...s.skipped },
      ...(this.firstCompletion !== undefined ? { firstCompletionMs: this.firstCompletion.sinceActivationMs } : {}),
    };
  }

  /** Starts the completion figures afresh (`nextword._stats` with `{ reset: true }`): a measurement of its own. */
  resetStats(): void {
    this.engine.resetStats();
    this.eventLoop.reset();
  }

  /** What the model server holds (`nextword._stats` with `{ server: true }`); null when it does not run. */
  async serverCensus(): Promise<Record<string, unknown> | null> {
    const pid = ServerProcess.runningPid();
    if (pid === undefined) return null;
    try {
      const { models, children, rssBytes } = await ServerProcess.for().census();
      return { pid, models, children, rssBytes };
    } catch {
      return null;
    }
  }

  /** Everything the tests (and curious users) may want to read: `nextword._stats`. JSON-serialisable. */
  stats(): Record<string, unknown> {
    const state = this.models.modelState;
    const model = this.models.current;
    const memory = process.memoryUsage();
    return {
      model:
        state.kind === 'ready' && model
          ? {
              state: 'ready',
              origin: model.origin,
              label: model.label,
              dir: model.dir,
              vocabSize: model.session.vocab.size,
              validPpl: (model.origin === 'interim' ? model.figures.validPpl : servedValidPpl(model.session.meta)) ?? null,
              loadMs: model.loadMs,
              // The process that serves it: the model server (this one where none could be started).
              servedByPid: model.session.pid ?? process.pid,
              // Its number in the model server (the server's census lists it while it is open).
              serverModel: (model.session as { serverModel?: number }).serverModel ?? null,
              // The process that serves the n-gram baseline (a saved model's companion), when there is one.
              baselineServedByPid: model.origin !== 'interim' ? (model.session.baseline?.pid ?? null) : null,
              // The n-gram model the status bar compares the file with (the interim model has none).
              baseline: model.origin !== 'interim' && model.session.baseline ? `ngram-${model.session.baseline.order}` : model.session.vocab.count(0) !== undefined ? 'unigram' : null,
            }
          : { state: state.kind, ...(state.kind === 'none' ? { reason: state.reason } : {}) },
      completions: jsonSafe(this.engine.stats()),
      activationMs: this.activationMs ?? null,
      /** Now, in ms after activate() was called. */
      sinceActivationMs: performance.now() - this.activatedAt,
      firstCompletion: this.firstCompletion ?? null,
      statusBar: this.statusBar.view ?? null,
      savings: this.savings.figures(),
      surprisingWords: this.surprising.stats(),
      trainingView: this.trainingView.stats(),
      perplexity: jsonSafe(this.perplexity.state),
      training: this.trainer.progress ?? null,
      lastTraining: this.trainer.lastOutcome ?? null,
      /** Where Train on Workspace writes its model (null: this window has no local storage). */
      workspaceModelDir: this.models.workspaceModelDir ?? null,
      snoozedUntil: this.snooze.snoozedUntil ?? null,
      trainingSuggestion: this.firstRun.state,
      workspaceWords: this.words.state,
      staleCheck: this.staleCheck,
      completionThreshold: this.completionThreshold(),
      // Since activation or the last reset, in ms.
      eventLoopDelayMs: {
        p50: this.loopDelay(this.eventLoop.percentile(50)),
        p99: this.loopDelay(this.eventLoop.percentile(99)),
        max: this.loopDelay(this.eventLoop.max),
      },
      memory: {
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        external: memory.external,
        arrayBuffers: memory.arrayBuffers,
        rssAtActivation: this.startupRss.atActivation ?? null,
        rssModelLoaded: this.startupRss.modelLoaded ?? null,
      },
    };
  }

  // ------------------------------------------------------------------------------------------------

  /** A sample of the event-loop sampler (ns, its period included) as the delay in ms. */
  private loopDelay(sampleNs: number): number {
    return Math.max(0, sampleNs / 1e6 - EVENT_LOOP_SAMPLE_MS);
  }

  /**
   * The predictor once the model that is loading is ready (undefined when loading ends without one), or
   * the current one at once; early when `signal` aborts. ctx's own listener attaches the model first (it
   * was registered before any request could wait).
   */
  private waitForPredictor(signal: AbortSignal): Promise<CompletionPredictor | undefined> {
    if (this.predictor || this.models.modelState.kind !== 'loading' || signal.aborted) return Promise.resolve(this.predictor);
    return new Promise((resolve) => {
      const done = () => {
        changed.dispose();
        signal.removeEventListener('abort', done);
        resolve(this.predictor);
      };
      const changed = this.models.onDidChange((state) => {
        if (state.kind !== 'loading') done();
      });
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** A new model is loaded: a predictor over it, and the perplexity of the active file under it. */
  private attachModel(model: LoadedModel): void {
    const { session } = model;
    const predictor = (session as ServingModel).predictor ?? new Predictor(session.model, session.vocab, session.mode, { cacheSize: EDITOR_CONTEXT_CACHE });
    this.predictor = predictor;
    this.engine.reset();
    this.models.pushModelCleanup({
      dispose: () => {
        if (this.predictor === predictor) this.predictor = undefined;
      },
    });
    this.models.pushModelCleanup(this.perplexity.attach(model));
    void this.warmUp(predictor).then(() => this.contextWarmer.schedule());
  }

  /**
   * One throwaway prediction right after a model loads, so that the user's first request does not pay for
   * what happens only once: onnxruntime's first runs of a session (allocations) and the first calls of the
   * predictor's code (compilation). Its context is the least recently used of the predictor's cache, the
   * first to go.
   */
  private async warmUp(predictor: CompletionPredictor): Promise<void> {
    const t0 = performance.now();
    try {
      await predictor.continuePhrase(WARM_UP_TEXT, { maxWords: 3, minProb: 0, stopAtNewline: true });
      await predictor.continuePhrase(`${WARM_UP_TEXT}on`, { maxWords: 3, minProb: 0, stopAtNewline: true });
      this.log.debug(`warmed up the predictor in ${(performance.now() - t0).toFixed(1)} ms`);
    } catch (e) {
      // A released model (switched away at once) or a failing session: the real requests will say so.
      this.log.debug(`warming up the predictor failed: ${(e as Error).message}`);
    }
  }

  private completionSettings(document: vscode.TextDocument): CompletionSettings {
    const { minConfidenceSet: _set, bundledModelScope, ...completion } = this.config.completion;
    const { enabled, scope } = this.languageConfig(document);
    // The bundled model knows no workspace: where it is weak (code), the user may keep it to prose.
    const bundled = this.models.current?.origin === 'default';
    return { ...completion, minConfidence: this.completionThreshold().value, enabled, scope: bundled && bundledModelScope === 'prose' ? 'prose' : scope };
  }

  /** The completion threshold in use: the user's setting, else the one chosen for a trained model in training, else the default. */
  private completionThreshold(): { value: number; from: 'setting' | 'model' | 'default' } {
    const { minConfidence, minConfidenceSet } = this.config.completion;
    if (minConfidenceSet) return { value: minConfidence, from: 'setting' };
    const model = this.models.current;
    const chosen = model && model.origin !== 'interim' ? model.session.meta.completion?.minConfidence : undefined;
    return chosen !== undefined ? { value: chosen, from: 'model' } : { value: minConfidence, from: 'default' };
  }

  private isEnabledFor(doc: { uri: vscode.Uri | undefined; languageId: string }): boolean {
    return this.languageConfig(doc).enabled;
  }

  private languageConfig(doc: { uri: vscode.Uri | undefined; languageId: string }): LanguageConfig {
    const folder = doc.uri ? vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.toString() : undefined;
    const key = `${doc.languageId}\u0000${folder ?? ''}`;
    let found = this.languageCache.get(key);
    if (!found) {
      found = languageConfigFor(doc.uri ? { uri: doc.uri, languageId: doc.languageId } : { languageId: doc.languageId });
      this.languageCache.set(key, found);
    }
    return found;
  }

  private noteOutcome(outcome: CompletionOutcome): void {
    if (outcome.kind === 'items' && this.firstCompletion === undefined) {
      this.firstCompletion = { sinceActivationMs: performance.now() - this.activatedAt, latencyMs: outcome.latencyMs };
      this.log.info(
        `first completion shown ${this.firstCompletion.sinceActivationMs.toFixed(0)} ms after activation (its request took ${outcome.latencyMs.toFixed(1)} ms)`,
      );
    }
    const s = this.engine.stats();
    if (s.requests % LATENCY_LOG_EVERY === 0) {
      const { latency: l, predict: p } = s;
      this.log.debug(
        `completions: ${s.requests} requests, ${s.shown} shown (${s.cached} from the cache); latency of shown p50 ${l.p50.toFixed(1)} ms, ` +
          `p99 ${l.p99.toFixed(1)} ms; prediction p50 ${p.p50.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms (last ${l.count})`,
      );
    }
  }

  /** The engine skips with 'snoozed' on its own clock; the Snooze (which also knows "until restart") leads. */
  private syncSnooze(): void {
    const until = this.snooze.snoozedUntil;
    if (until === undefined) this.engine.unsnooze();
    else if (until === 'restart') this.engine.snoozeFor(Number.MAX_SAFE_INTEGER);
    else this.engine.snoozeFor(Math.max(0, until - Date.now()));
  }
}

/** NaN and Infinity become null, as JSON would write them, so the command's result reads the same everywhere. */
function jsonSafe<T>(value: T): unknown {
  return JSON.parse(JSON.stringify(value ?? null));
}
