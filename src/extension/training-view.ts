// "Nextword: Show Training": a webview panel that draws the run under way as it goes (its validation
// perplexity per epoch beside its n-gram companion's, speed, time left, what was read and left out) and,
// afterwards, the workspace's earlier runs and what ghost text saved the user. The page is built by
// training-view-html.ts; here it is opened, kept current (at most a few updates a second, and only while
// it can be seen) and its buttons are run.

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { trainingViewBody, trainingViewPage, VIEW_ACTIONS, type TrainingViewModel, type ViewAction } from './training-view-html.js';
import type { TrainingHistory } from './training-history.js';
import type { SavingsTracker } from './savings-tracker.js';

export const TRAINING_VIEW_TYPE = 'nextword.training';

/** At most this often an update while a run reports (a small model steps hundreds of times a second). */
const UPDATE_EVERY_MS = 250;
/** Days of the keystroke ledger drawn. */
const SAVINGS_DAYS = 30;

/** What the page reported it drew, after each update (the tests read it through `nextword._stats`). */
export interface RenderedReport {
  version: number;
  violations: number;
  points: number;
  levels: string[];
  running: boolean;
  headline: string | null;
  historyRows: number;
  skippedRows: number;
  savings: string | null;
}

export interface TrainingViewDeps {
  extensionUri: vscode.Uri;
  history: TrainingHistory;
  savings: SavingsTracker;
  hasWorkspaceModel: () => boolean;
  /** Why training cannot run in this window, if it cannot. */
  cannotTrain: () => string | undefined;
  log: vscode.LogOutputChannel;
}

export class TrainingView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelCleanup: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  /** The run drawn at the top, when the user picked one from the history. */
  private selected: string | undefined;
  private version = 0;
  private timer: NodeJS.Timeout | undefined;
  /** An update came while the panel could not be seen: drawn when it can. */
  private stale = false;
  private lastPosted = 0;
  lastRendered: RenderedReport | undefined;
  /** Whether the page has drawn a run under way (the tests' proof that it is live). */
  renderedRunning = false;

  constructor(private readonly deps: TrainingViewDeps) {
    this.disposables.push(
      deps.history.onDidChange((change) => {
        if (change === 'begun') this.selected = undefined;
        this.schedule();
      }),
      deps.savings.onDidChange(() => this.schedule()),
      vscode.window.registerWebviewPanelSerializer(TRAINING_VIEW_TYPE, {
        // A panel left open when the window closed comes back with it.
        deserializeWebviewPanel: async (panel) => this.attach(panel),
      }),
    );
  }

  /** Opens the view, or brings it to the front. */
  show(): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(TRAINING_VIEW_TYPE, 'Nextword Training', vscode.ViewColumn.Active, {
      enableScripts: true,
      // It loads nothing: no local file, no remote one (the page's policy says so too).
      localResourceRoots: [],
      enableFindWidget: true,
    });
    this.attach(panel);
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    this.panel = panel;
    panel.iconPath = vscode.Uri.joinPath(this.deps.extensionUri, 'media', 'icon.png');
    panel.webview.options = { enableScripts: true, localResourceRoots: [] };
    this.panelCleanup = [
      panel.onDidDispose(() => {
        if (this.panel !== panel) return;
        this.panel = undefined;
        for (const d of this.panelCleanup.splice(0)) d.dispose();
      }),
      panel.onDidChangeViewState(() => {
        if (panel.visible && this.stale) this.post();
      }),
      panel.webview.onDidReceiveMessage((m: unknown) => this.received(m)),
    ];
    // The whole page once, with the content of now; updates replace the content only.
    panel.webview.html = trainingViewPage(randomBytes(16).toString('base64'), trainingViewBody(this.model()));
  }

  private received(m: unknown): void {
    const msg = m as { type?: unknown; action?: unknown; run?: unknown } & Partial<RenderedReport>;
    if (msg?.type === 'ready') this.post();
    else if (msg?.type === 'rendered' && typeof msg.version === 'number') {
      this.lastRendered = msg as RenderedReport;
      if (msg.running) this.renderedRunning = true;
      if (msg.violations) this.deps.log.warn(`training view: ${msg.violations} content security policy violation(s)`);
    } else if (msg?.type === 'action' && VIEW_ACTIONS.includes(msg.action as ViewAction)) this.act(msg.action as ViewAction, typeof msg.run === 'string' ? msg.run : undefined);
  }

  private act(action: ViewAction, run: string | undefined): void {
    const exec = (command: string) => void vscode.commands.executeCommand(command);
    switch (action) {
      case 'train':
        return exec('nextword.trainWorkspace');
      case 'cancel':
        return exec('nextword.cancelTraining');
      case 'modelInfo':
        return exec('nextword.showModelInfo');
      case 'log':
        return exec('nextword.showLog');
      case 'select':
        this.selected = run;
        return this.post();
    }
  }

  /** An update soon: at once if the last was long enough ago, else at the end of the interval. */
  private schedule(): void {
    if (!this.panel || this.timer) return;
    const wait = Math.max(0, this.lastPosted + UPDATE_EVERY_MS - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.post();
    }, wait);
  }

  private post(): void {
    const panel = this.panel;
    if (!panel) return;
    if (!panel.visible) {
      this.stale = true;
      return;
    }
    this.stale = false;
    this.lastPosted = performance.now();
    const version = ++this.version;
    void panel.webview.postMessage({ type: 'render', version, html: trainingViewBody(this.model()) });
  }

  private model(): TrainingViewModel {
    const { today, total } = this.deps.savings.figures();
    const cannotTrain = this.deps.cannotTrain();
    return {
      history: this.deps.history.runs,
      ...(this.selected !== undefined ? { selected: this.selected } : {}),
      savings: { ...(today ? { today } : {}), total, days: this.deps.savings.recentDays(SAVINGS_DAYS) },
      ...(cannotTrain ? { cannotTrain } : {}),
      hasWorkspaceModel: this.deps.hasWorkspaceModel(),
      formatTime: (ms) => new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }),
    };
  }

  /** For `nextword._stats`. */
  stats(): Record<string, unknown> {
    return {
      open: this.panel !== undefined,
      visible: this.panel?.visible ?? false,
      posted: this.version,
      rendered: this.lastRendered ?? null,
      renderedRunning: this.renderedRunning,
      history: this.deps.history.runs.map((r) => ({ outcome: r.outcome, epochs: r.epochs.length, files: r.read?.files ?? null, ngramPpl: r.ngram?.validPpl ?? null, servedPpl: r.result?.servedPpl ?? null, ksr: r.result?.ksr ?? null, comparedKsr: r.result?.comparedKsr ?? null })),
    };
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
