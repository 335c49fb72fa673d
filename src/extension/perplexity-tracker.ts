// The active file's perplexity for the status bar: updated when the active editor changes and, debounced,
// when its text changes. DocumentPerplexity (core/completion) does the work incrementally (an edit re-scores
// from the last checkpoint before it) and equals `nextword eval` on the same text; it runs on the model's
// scoring session, not the predictor's, so it stays off the completion hot path. A newer edit or editor
// switch cancels the update in flight.
//
// The tooltip compares the figure with a baseline on the same tokens: the model's n-gram companion (a
// Kneser-Ney model of the same training text, scored after the model's own figure, which shows first), or,
// without one, the unigram of the training text's word counts.

import * as vscode from 'vscode';
import { DocumentPerplexity } from '../core/scoring/document-perplexity.js';
import type { LoadedModel } from './model-manager.js';
import type { Baseline, FilePerplexity, FileState } from './status.js';
import { thousands } from './format.js';

export interface PerplexityTrackerDeps {
  log: vscode.LogOutputChannel;
  onState: (file: FileState) => void;
  /** Whether the status bar shows perplexity at all (`nextword.statusBar.enable`). */
  enabled: () => boolean;
}

/** Wait after an edit before scoring again. */
const EDIT_DEBOUNCE_MS = 400;
/** Wait after switching editors (several switches in a row score only the last). */
const SWITCH_DEBOUNCE_MS = 50;
/** Longer files are not scored: the first pass over a file is linear in its length. */
export const MAX_SCORED_CHARS = 500_000;
/** Documents whose scores are kept (most recently scored), so switching back costs nothing. */
const KEPT_DOCUMENTS = 8;
const UNIGRAM_SOURCE = "add-one smoothed word frequencies of the model's training text";

export class PerplexityTracker implements vscode.Disposable {
  private model: LoadedModel | undefined;
  private current: FileState = { kind: 'none' };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: AbortController | undefined;
  /** Per document (uri), most recently used last: its incremental scorers and the figures of a version. */
  private readonly documents = new Map<string, DocumentEntry>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly deps: PerplexityTrackerDeps) {
    this.subscriptions = [
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule(SWITCH_DEBOUNCE_MS)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0 && e.document === vscode.window.activeTextEditor?.document) this.schedule(EDIT_DEBOUNCE_MS);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => this.forget(doc.uri.toString())),
    ];
  }

  get state(): FileState {
    return this.current;
  }

  /** Scores under `model` from now on; the returned disposable ends that (the model's lifetime). */
  attach(model: LoadedModel): vscode.Disposable {
    this.forgetAll();
    this.model = model;
    this.schedule(0);
    return {
      dispose: () => {
        if (this.model !== model) return;
        this.model = undefined;
        this.cancelRun();
        this.forgetAll();
      },
    };
  }

  /** Scores the active file again soon (settings changed). */
  refresh(): void {
    this.schedule(0);
  }

  dispose(): void {
    this.cancelRun();
    if (this.timer) clearTimeout(this.timer);
    this.forgetAll();
    for (const s of this.subscriptions) s.dispose();
  }

  private forget(key: string): void {
    const d = this.documents.get(key);
    d?.perplexity.dispose();
    d?.baseline?.dispose();
    this.documents.delete(key);
  }

  private forgetAll(): void {
    for (const key of [...this.documents.keys()]) this.forget(key);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.update();
    }, delayMs);
  }

  private cancelRun(): void {
    this.running?.abort();
    this.running = undefined;
  }

  private setState(state: FileState): void {
    this.current = state;
    this.deps.onState(state);
  }

  private async update(): Promise<void> {
    this.cancelRun();
    const model = this.model;
    const doc = vscode.window.activeTextEditor?.document;
    if (!model || !doc || !this.deps.enabled()) return this.setState({ kind: 'none' });
    const key = doc.uri.toString();
    const fileName = displayName(doc);
    const version = doc.version;
    let entry = this.documents.get(key);
    if (entry) this.documents.delete(key); // re-inserted below as the most recent
    else entry = newEntry(model);
    this.documents.set(key, entry);
    for (const [k] of this.documents) {
      if (this.documents.size <= KEPT_DOCUMENTS) break;
      this.forget(k);
    }
    if (entry.figures && entry.version === version) return this.setState({ kind: 'done', figures: entry.figures });
    const previous = entry.figures ?? (this.current.kind === 'done' ? this.current.figures : undefined);
    this.setState({ kind: 'computing', fileName, ...(previous && previous.fileName === fileName ? { previous } : {}) });

    const run = new AbortController();
    this.running = run;
    const t0 = performance.now();
    try {
      const text = doc.getText();
      const result = await entry.perplexity.update(text, run.signal);
      if (run.signal.aborted || this.model !== model) return;
      if (result.status === 'cancelled') return; // a newer update of the same document took over
      if (result.status === 'too-large') {
        return this.setState({
          kind: 'skipped',
          fileName,
          reason: `it is too long to score while editing (${thousands(result.chars)} characters; the limit is ${thousands(result.maxChars)})`,
        });
      }
      const fig = result.figures;
      if (fig.tokens === 0) return this.setState({ kind: 'empty', fileName });
      const baseline: Baseline | undefined = entry.baseline
        ? { kind: 'ngram', source: `a ${entry.baselineOrder}-gram of the model's training text` }
        : fig.unigramPpl !== undefined
          ? { kind: 'unigram', ppl: fig.unigramPpl, source: UNIGRAM_SOURCE }
          : undefined;
      let figures: FilePerplexity = { fileName, ppl: fig.ppl, tokens: fig.tokens, oov: fig.oov, ...(baseline ? { baseline } : {}) };
      this.deps.log.debug(
        `perplexity of ${fileName}: ${fig.ppl.toFixed(2)} over ${fig.tokens} tokens (re-scored ${result.tokensScored} from token ${result.rescoredFrom}) ` +
          `in ${(performance.now() - t0).toFixed(0)} ms`,
      );
      // The model's own figure first; then the n-gram baseline's (kept incrementally too).
      this.setState({ kind: 'done', figures });
      if (entry.baseline && baseline) {
        const b = await entry.baseline.update(text, run.signal);
        if (run.signal.aborted || this.model !== model || b.status !== 'scored') return;
        figures = { ...figures, baseline: { ...baseline, ppl: b.figures.ppl } };
        this.setState({ kind: 'done', figures });
      }
      // Kept for this version only once complete: an update cancelled halfway is resumed next time.
      entry.version = version;
      entry.figures = figures;
    } catch (e) {
      if (run.signal.aborted || this.model !== model) return;
      this.deps.log.warn(`scoring ${fileName} failed: ${(e as Error).message}`);
      this.setState({ kind: 'skipped', fileName, reason: `scoring failed (${(e as Error).message})` });
    } finally {
      if (this.running === run) this.running = undefined;
    }
  }
}

interface DocumentEntry {
  perplexity: DocumentPerplexity;
  /** The n-gram companion's scorer over the same text, when the model has one. */
  baseline?: DocumentPerplexity;
  baselineOrder?: number;
  version?: number;
  figures?: FilePerplexity;
}

function newEntry(model: LoadedModel): DocumentEntry {
  const { session } = model;
  const opts = { maxChars: MAX_SCORED_CHARS };
  const perplexity = new DocumentPerplexity(session.scorer, session.vocab, session.mode, opts);
  const companion = model.origin === 'interim' ? undefined : model.session.baseline;
  // The n-gram baseline is scored by its server process (model-session.ts), in chunks of 64 tokens.
  const baselineOpts = { ...opts, checkpointEvery: 64 };
  return companion
    ? { perplexity, baseline: new DocumentPerplexity(companion.scorer, session.vocab, session.mode, baselineOpts), baselineOrder: companion.order }
    : { perplexity };
}

function displayName(doc: vscode.TextDocument): string {
  return doc.isUntitled ? doc.uri.path : vscode.workspace.asRelativePath(doc.uri, false);
}
