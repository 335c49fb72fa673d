// Which model is loaded, and its lifetime. Loading one opens it fully (files checked, sessions created)
// before anything switches to it; then listeners attach what depends on it (the completion engine, the
// perplexity tracker) with pushModelCleanup, and the previous model's cleanup runs: it disposes only what
// belonged to that model, never the extension's own subscriptions (rust-analyzer's client/extension
// cleanup split). A failed load keeps the previous model.
//
// Where a model comes from: the user's choice for this workspace (a folder, or the bundled default),
// remembered in workspaceState; otherwise the model trained on this workspace (under storageUri), else the
// bundled default (`<extension>/models/default`). While Train on Workspace runs, the n-gram model of the
// workspace (trained in seconds) may stand in (`interim`, never remembered, nothing on disk); a cancelled
// or failed run goes back to the saved model with restore(), a finished one switches to its model.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { FailureWindow } from '../core/support/failure-window.js';
import type { CompanionFigures } from '../core/ngram/companion.js';
import type { ServingModel } from '../core/serving/serving-model.js';
import { ModelStoreError } from '../io/model-store.js';
import type { SavedServing } from '../runtime/serving/saved-serving.js';
import { RemoteServing, ServerOpenError } from '../runtime/serving/remote-serving.js';
import { thousands } from './format.js';

/** Where a saved model comes from. */
export type ModelOrigin = 'workspace' | 'default' | 'folder';

/** A model saved on disk, opened (ONNX sessions). */
export interface SavedModel {
  origin: ModelOrigin;
  /** The absolute model folder. */
  dir: string;
  /**
   * Served by a model server process (runtime/serving/remote-serving.ts: `pid` is its id), or, where none could be
   * started, opened in this process (no `pid`).
   */
  session: SavedServing & { readonly pid?: number | undefined };
  /** "the workspace model", "the bundled default model", or "model in <folder>". */
  label: string;
  /** Milliseconds the load took (files, checks, sessions). */
  loadMs: number;
}

/** The n-gram model of the workspace, serving while the workspace's network trains (in memory only). */
export interface InterimModel {
  origin: 'interim';
  dir?: undefined;
  /** Served by the model server (runtime/serving/remote-serving.ts): `pid` is its id. */
  session: ServingModel & { readonly pid?: number | undefined };
  label: string;
  /** Milliseconds from the start of the run until it served. */
  loadMs: number;
  figures: CompanionFigures;
  /** When it started serving (ISO 8601). */
  createdAt: string;
}

export type LoadedModel = SavedModel | InterimModel;

export const INTERIM_LABEL = 'the n-gram model of this workspace';

export type ModelState = { kind: 'loading' } | { kind: 'none'; reason: string } | { kind: 'ready'; model: LoadedModel };

/** What is remembered for the workspace; absent: automatic (workspace model, else the default). */
type ModelChoice = { origin: 'default' } | { origin: 'folder'; dir: string };

const CHOICE_KEY = 'nextword.modelChoice';

export interface ModelManagerDeps {
  log: vscode.LogOutputChannel;
  /** Where this workspace's trained model lives; undefined without a workspace (or on a non-file storage). */
  workspaceModelDir: string | undefined;
  defaultModelDir: string;
  workspaceState: vscode.Memento;
  /** Intra-op threads of the prediction session. */
  threads: number;
  /** Intra-op threads of the scoring session. */
  scoringThreads: number;
}

/**
 * Model servers that may fail to start or die within SERVER_FAILURE_WINDOW_MS before models are opened in
 * the extension host instead (until the failures are that old: then servers are tried again).
 */
const MAX_SERVER_FAILURES = 3;
const SERVER_FAILURE_WINDOW_MS = 10 * 60_000;

export class ModelManager implements vscode.Disposable {
  private state: ModelState = { kind: 'loading' };
  /** Model servers that could not start or died while serving, lately. */
  private readonly serverFailures = new FailureWindow(MAX_SERVER_FAILURES, SERVER_FAILURE_WINDOW_MS);
  private modelCleanup: vscode.Disposable[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private readonly changed = new vscode.EventEmitter<ModelState>();
  /** Fires after every change of model (or to no model), once the new model is ready. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly deps: ModelManagerDeps) {}

  get modelState(): ModelState {
    return this.state;
  }

  get current(): LoadedModel | undefined {
    return this.state.kind === 'ready' ? this.state.model : undefined;
  }

  get workspaceModelDir(): string | undefined {
    return this.deps.workspaceModelDir;
  }

  /** The bundled default model's folder. */
  get defaultModelDir(): string {
    return this.deps.defaultModelDir;
  }

  /** Registers something that lives as long as the current model (disposed when it is replaced). */
  pushModelCleanup(d: vscode.Disposable): void {
    if (this.disposed) d.dispose();
    else this.modelCleanup.push(d);
  }

  /**
   * Serves `session` (the n-gram model of the workspace) until a saved model replaces it: the end of the
   * training run (useWorkspaceModel), or restore() when the run is cancelled or fails, or its model server dies.
   */
  useInterim(session: InterimModel['session'], figures: CompanionFigures, sinceStartMs: number): Promise<InterimModel> {
    return this.enqueue(async () => {
      if (this.disposed) throw new Error('Nextword is shutting down');
      const model: InterimModel = { origin: 'interim', session, label: INTERIM_LABEL, loadMs: sinceStartMs, figures, createdAt: new Date().toISOString() };
      this.deps.log.info(
        `serving ${INTERIM_LABEL}: Kneser-Ney ${figures.order}-gram, ${thousands(figures.ngrams)} n-grams, ` +
          `validation perplexity ${figures.validPpl.toFixed(2)}`,
      );
      if (session instanceof RemoteServing) {
        session.onExit((reason) => {
          if (this.current !== model) return;
          this.deps.log.warn(`${reason.message}; back to the saved model`);
          void this.restore();
        });
      }
      this.swap({ kind: 'ready', model }, { dispose: () => void session.release() });
      return model;
    });
  }

  /** Back to the saved model (after an interim one): as on activation. Never throws. */
  restore(): Promise<void> {
    return this.loadInitial();
  }

  /** On activation: the remembered choice, else the workspace's model, else the bundled default. Never throws. */
  loadInitial(): Promise<void> {
    return this.enqueue(async () => {
      const choice = this.deps.workspaceState.get<ModelChoice>(CHOICE_KEY);
      if (choice?.origin === 'folder' && typeof choice.dir === 'string') {
        if (await this.tryLoad('folder', choice.dir, false)) return;
        this.deps.log.warn(`the model chosen for this workspace (${choice.dir}) could not be loaded; falling back`);
      }
      if (choice?.origin !== 'default' && this.deps.workspaceModelDir && (await this.tryLoad('workspace', this.deps.workspaceModelDir, true))) return;
      if (await this.tryLoad('default', this.deps.defaultModelDir, false)) return;
      this.setNone(
        this.deps.workspaceModelDir
          ? 'no model has been trained on this workspace, and the bundled default model is missing'
          : 'no folder is open to train on, and the bundled default model is missing',
      );
    });
  }

  /** Switches to the model in `dir` (a folder the user picked) and remembers the choice. Throws with the reason when it cannot be loaded. */
  useFolder(dir: string): Promise<SavedModel> {
    return this.enqueue(async () => {
      const model = await this.load('folder', dir);
      await this.deps.workspaceState.update(CHOICE_KEY, { origin: 'folder', dir: model.dir } satisfies ModelChoice);
      return model;
    });
  }

  /** Switches to the bundled default model and remembers the choice. */
  useDefault(): Promise<SavedModel> {
    return this.enqueue(async () => {
      const model = await this.load('default', this.deps.defaultModelDir);
      await this.deps.workspaceState.update(CHOICE_KEY, { origin: 'default' } satisfies ModelChoice);
      return model;
    });
  }

  /** Switches to the model just trained on this workspace and forgets any other choice. */
  useWorkspaceModel(): Promise<SavedModel> {
    return this.enqueue(async () => {
      const dir = this.deps.workspaceModelDir;
      if (!dir) throw new Error('this window has no workspace storage to keep a model in');
      const model = await this.load('workspace', dir);
      await this.deps.workspaceState.update(CHOICE_KEY, undefined);
      return model;
    });
  }

  /** Whether a model trained on this workspace is saved in its storage (whichever model serves now). */
  async hasWorkspaceModel(): Promise<boolean> {
    const dir = this.deps.workspaceModelDir;
    if (!dir) return false;
    return vscode.workspace.fs.stat(vscode.Uri.file(path.join(dir, 'model.json'))).then(
      () => true,
      () => false,
    );
  }

  /**
   * Deletes the model trained on this workspace: the bundled default serves first (the workspace model's
   * sessions let go of), then its folder goes. A choice made for this workspace stays unless it was this
   * model. Throws when there is no such model or it cannot be deleted.
   */
  deleteWorkspaceModel(): Promise<void> {
    return this.enqueue(async () => {
      const dir = this.deps.workspaceModelDir;
      if (!dir) throw new Error('this window has no workspace storage, so no model was trained here');
      if (!(await this.hasWorkspaceModel())) throw new Error('no model has been trained on this workspace');
      if (this.current?.origin === 'workspace') await this.load('default', this.deps.defaultModelDir);
      await vscode.workspace.fs.delete(vscode.Uri.file(dir), { recursive: true, useTrash: false });
      this.deps.log.info(`deleted the workspace model (${dir})`);
    });
  }

  dispose(): void {
    this.disposed = true;
    disposeAll(this.modelCleanup);
    this.modelCleanup = [];
    this.changed.dispose();
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Loads without throwing; a missing model is quiet (`quietWhenMissing`), anything else is logged. */
  private async tryLoad(origin: ModelOrigin, dir: string, quietWhenMissing: boolean): Promise<boolean> {
    try {
      await this.load(origin, dir);
      return true;
    } catch (e) {
      if (e instanceof ModelStoreError && e.code === 'no-model' && quietWhenMissing) this.deps.log.info(`no model has been trained on this workspace yet (${dir})`);
      else this.deps.log.warn(`could not load ${labelFor(origin, dir)}: ${(e as Error).message}`);
      return false;
    }
  }

  private async load(origin: ModelOrigin, dir: string): Promise<SavedModel> {
    if (this.disposed) throw new Error('Nextword is shutting down');
    const t0 = performance.now();
    const session = await this.open(dir);
    if (this.disposed) {
      await session.release();
      throw new Error('Nextword is shutting down');
    }
    const model: SavedModel = { origin, dir: session.dir, session, label: labelFor(origin, session.dir), loadMs: performance.now() - t0 };
    const { config } = session.meta;
    const where = session.pid !== undefined ? `served by process ${session.pid}` : 'in the extension host';
    this.deps.log.info(
      `loaded ${model.label} from ${model.dir} in ${Math.round(model.loadMs)} ms (${where}): ${config.cell} ${config.layers}×${config.hidden}, vocabulary ${config.vocab}` +
        (session.baseline ? `, with its n-gram baseline (${session.baseline.order}-gram)` : ''),
    );
    if (session.ngramProblem) this.deps.log.warn(`the n-gram baseline of ${model.label} is not used: ${session.ngramProblem}`);
    if (session instanceof RemoteServing) {
      session.onExit((reason) => {
        if (this.current !== model) return;
        // Loaded again (by a new server) as on activation; servers that keep failing are not restarted.
        this.serverFailures.record();
        this.deps.log.warn(`${reason.message}; loading ${model.label} again`);
        void this.loadInitial();
      });
    }
    this.swap({ kind: 'ready', model }, { dispose: () => void session.release().catch((e) => this.deps.log.warn(`releasing a model failed: ${(e as Error).message}`)) });
    return model;
  }

  /**
   * The model in `dir`, served by a model server process: neither onnxruntime nor the model enters the
   * extension host, and while it loads the previous model goes on answering from its own. Where no server
   * can be started (or servers keep dying: three failures within ten minutes), the model is opened in this
   * process instead.
   */
  private async open(dir: string): Promise<SavedModel['session']> {
    const opts = { threads: this.deps.threads, scoringThreads: this.deps.scoringThreads };
    if (!this.serverFailures.tripped) {
      try {
        return await RemoteServing.openSaved(dir, opts);
      } catch (e) {
        if (!(e instanceof ServerOpenError && e.reason === 'process')) throw e;
        this.serverFailures.record();
        this.deps.log.warn(`the model server could not serve ${dir}: ${e.message}; opening the model in the extension host`);
      }
    }
    // Imported only then: onnxruntime is not loaded into the extension host otherwise.
    const { ModelSession } = await import('../runtime/serving/model-session.js');
    return ModelSession.open(dir, { ...opts, companion: 'server' });
  }

  private setNone(reason: string): void {
    this.deps.log.warn(`no model: ${reason}`);
    this.swap({ kind: 'none', reason });
  }

  /** The new state's listeners attach first; then the previous model's cleanup runs. */
  private swap(next: ModelState, release?: vscode.Disposable): void {
    const previous = this.modelCleanup;
    this.modelCleanup = release ? [release] : [];
    this.state = next;
    try {
      this.changed.fire(next);
    } finally {
      disposeAll(previous);
    }
  }
}

function labelFor(origin: ModelOrigin, dir: string): string {
  switch (origin) {
    case 'workspace':
      return 'the workspace model';
    case 'default':
      return 'the bundled default model';
    case 'folder':
      return `the model in ${path.basename(dir)}`;
  }
}

/** Disposes in reverse order of registration (dependents before what they depend on). */
function disposeAll(list: vscode.Disposable[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    try {
      list[i]!.dispose();
    } catch {
      // One failing cleanup must not keep the others from running.
    }
  }
}
