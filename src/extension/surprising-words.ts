// Surprising words: in the visible text, the words the served model finds far less likely than the file's
// usual word, and unknown words one letter from a word it expected (likely typos): core/scoring/surprisal.ts.
// Off unless the user turns it on (`nextword.surprisingWords.enable`). The model server scores a bounded
// window, the visible lines and some text before them for context, after typing pauses and on scroll, never
// on the typing path (between its predictions); a result is kept per document version, so going back to a
// view costs nothing. A hover says why a word stands out and what the model expected; a quick fix replaces it.

import * as vscode from 'vscode';
import { DEFAULT_SURPRISAL_RULE, isLikelyTypo, surprisingWords, type SurprisingWords as Scored, type TokenSurprisal } from '../core/scoring/surprisal.js';
import { yieldToEventLoop } from '../core/support/event-loop.js';
import { isWordLike } from '../core/text/tokenizer.js';
import { escapeMarkdown, thousands } from './format.js';
import type { ModelManager } from './model-manager.js';

/** Characters scored before the first visible line, for context (the recurrent state, the cache, the median). */
const CONTEXT_CHARS = 4000;
/** The most characters scored at once, whatever is visible. */
const MAX_WINDOW_CHARS = 40_000;
/** Waits after an edit, and after a scroll or an editor switch, before scoring. */
const EDIT_DEBOUNCE_MS = 800;
const VIEW_DEBOUNCE_MS = 150;
/** The words the model expected, shown in a hover. */
const ALTERNATIVES = 5;
/** Documents whose results are kept. */
const KEPT_DOCUMENTS = 8;

interface Flagged {
  /** The word, without the space before it. */
  range: vscode.Range;
  word: string;
  t: TokenSurprisal;
  median: number;
  typo: boolean;
}

interface Result {
  version: number;
  /** The document characters scored: [start, end). */
  start: number;
  end: number;
  flagged: Flagged[];
}

export interface SurprisingWordsDeps {
  log: vscode.LogOutputChannel;
  models: ModelManager;
  /** `nextword.surprisingWords.enable`. */
  enabled: () => boolean;
  /** The documents Nextword works in (its completions' selector): hovers and quick fixes are offered there. */
  selector: vscode.DocumentSelector;
  /** Whether a document is one Nextword works in (the selector, and its language's `nextword.enable`). */
  applies: (doc: vscode.TextDocument) => boolean;
}

export class SurprisingWords implements vscode.Disposable {
  private readonly unlikely = dottedUnderline('editorInfo.foreground', 'editorOverviewRuler.infoForeground');
  private readonly typos = dottedUnderline('editorWarning.foreground', 'editorOverviewRuler.warningForeground');
  private readonly results = new Map<string, Result>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** One scoring at a time (the server cannot drop one it has begun): a view asked for meanwhile waits for it. */
  private busy = false;
  private again = false;
  /** Bumped when the highlight is turned off: what was being scored then is dropped. */
  private generation = 0;
  /** For `nextword._stats`: scorings done, the last one's figures, the last failure. */
  private readonly figures: { runs: number; last?: { words: number; flagged: number; ms: number; chars: number }; lastError?: string } = { runs: 0 };

  constructor(private readonly deps: SurprisingWordsDeps) {
    this.disposables.push(
      this.unlikely,
      this.typos,
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule(VIEW_DEBOUNCE_MS)),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => e.textEditor === vscode.window.activeTextEditor && this.schedule(VIEW_DEBOUNCE_MS)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document !== vscode.window.activeTextEditor?.document || !e.contentChanges.length) return;
        // The old marks would sit on the wrong words: gone until the new ones come.
        this.clear(vscode.window.activeTextEditor);
        this.schedule(EDIT_DEBOUNCE_MS);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => this.results.delete(doc.uri.toString())),
      deps.models.onDidChange(() => {
        this.results.clear();
        this.schedule(VIEW_DEBOUNCE_MS);
      }),
      vscode.languages.registerHoverProvider(deps.selector, { provideHover: (doc, pos) => this.hover(doc, pos) }),
      vscode.languages.registerCodeActionsProvider(deps.selector, { provideCodeActions: (doc, range) => this.codeActions(doc, range) }, {
        providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
      }),
    );
  }

  /** After the setting changed: scores the active editor, or takes every mark away. */
  refresh(): void {
    if (!this.deps.enabled()) {
      this.generation++;
      clearTimeout(this.timer);
      this.results.clear();
      for (const editor of vscode.window.visibleTextEditors) this.clear(editor);
      return;
    }
    this.schedule(0);
  }

  /** What it has done, for `nextword._stats`. */
  stats(): Record<string, unknown> {
    return { enabled: this.deps.enabled(), busy: this.busy, ...this.figures };
  }

  /** The flagged words of a document's current version. */
  private flaggedIn(doc: vscode.TextDocument): readonly Flagged[] {
    const r = this.results.get(doc.uri.toString());
    return r && r.version === doc.version ? r.flagged : [];
  }

  private schedule(ms: number): void {
    if (!this.deps.enabled()) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), ms);
  }

  private async update(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      await this.updateOnce();
    } finally {
      this.busy = false;
      if (this.again) {
        this.again = false;
        this.schedule(0);
      }
    }
  }

  private async updateOnce(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const served = this.deps.models.current;
    if (!editor || !served || !this.deps.enabled() || !this.deps.applies(editor.document)) return;
    const doc = editor.document;
    const { start, end } = windowOf(editor);
    const key = doc.uri.toString();
    const known = this.results.get(key);
    if (known && known.version === doc.version && known.start <= start && known.end >= end) return this.show(editor, known);
    const generation = this.generation;
    const text = doc.getText(new vscode.Range(doc.positionAt(start), doc.positionAt(end)));
    const version = doc.version;
    const session = served.session;
    const t0 = performance.now();
    let scored: Scored;
    try {
      scored = session.surprising
        ? await session.surprising(text, DEFAULT_SURPRISAL_RULE, ALTERNATIVES)
        : // A model opened in this thread (no model server): in slices, yielding between them.
          await surprisingWords(session.model, session.vocab, session.mode, text, {
            rule: DEFAULT_SURPRISAL_RULE,
            alternatives: ALTERNATIVES,
            chunk: 32,
            between: async () => {
              await yieldToEventLoop();
              if (generation !== this.generation || doc.version !== version) throw new Error('superseded');
            },
          });
    } catch (e) {
      if (generation === this.generation && doc.version === version) {
        this.figures.lastError = (e as Error).message;
        this.deps.log.warn(`surprising words: ${(e as Error).message}`);
      }
      return;
    }
    this.figures.runs++;
    this.figures.last = { words: scored.words, flagged: scored.flagged.length, ms: Math.round(performance.now() - t0), chars: text.length };
    // Stale: turned off, the text changed or the model did while this was scored (the next view asks again).
    if (generation !== this.generation || doc.version !== version || this.deps.models.current !== served) return;
    const result: Result = { version: doc.version, start, end, flagged: scored.flagged.map((t) => flaggedOf(doc, start, t, scored.median)) };
    this.remember(key, result);
    this.deps.log.debug(`surprising words: ${result.flagged.length} of ${scored.words} words in ${doc.uri.fsPath || doc.uri.toString()} [${start}, ${end}) in ${(performance.now() - t0).toFixed(0)} ms`);
    if (vscode.window.activeTextEditor === editor) this.show(editor, result);
  }

  private show(editor: vscode.TextEditor, r: Result): void {
    editor.setDecorations(this.typos, r.flagged.filter((f) => f.typo).map((f) => f.range));
    editor.setDecorations(this.unlikely, r.flagged.filter((f) => !f.typo).map((f) => f.range));
  }

  private clear(editor: vscode.TextEditor | undefined): void {
    editor?.setDecorations(this.typos, []);
    editor?.setDecorations(this.unlikely, []);
  }

  private remember(key: string, r: Result): void {
    this.results.delete(key);
    this.results.set(key, r);
    while (this.results.size > KEPT_DOCUMENTS) this.results.delete(this.results.keys().next().value!);
  }

  private at(doc: vscode.TextDocument, pos: vscode.Position | vscode.Range): Flagged | undefined {
    return this.flaggedIn(doc).find((f) => f.range.contains(pos));
  }

  private hover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const f = this.at(doc, pos);
    return f ? new vscode.Hover(hoverText(f), f.range) : undefined;
  }

  private codeActions(doc: vscode.TextDocument, range: vscode.Range): vscode.CodeAction[] {
    const f = this.at(doc, range);
    if (!f) return [];
    return replacementsOf(f).map((word, i) => {
      const action = new vscode.CodeAction(`Replace “${f.word}” with “${word}” (Nextword)`, vscode.CodeActionKind.QuickFix);
      action.edit = new vscode.WorkspaceEdit();
      action.edit.replace(doc.uri, f.range, word);
      action.isPreferred = i === 0 && f.typo;
      return action;
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.generation++;
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** A dotted underline in a theme colour, with a mark of the same kind in the overview ruler. */
function dottedUnderline(colour: string, rulerColour: string): vscode.TextEditorDecorationType {
  return vscode.window.createTextEditorDecorationType({
    borderStyle: 'dotted',
    borderWidth: '0 0 2px 0',
    borderColor: new vscode.ThemeColor(colour),
    overviewRulerColor: new vscode.ThemeColor(rulerColour),
    overviewRulerLane: vscode.OverviewRulerLane.Right,
  });
}

/** The characters to score: the visible lines, and up to CONTEXT_CHARS before them, from a line start. */
function windowOf(editor: vscode.TextEditor): { start: number; end: number } {
  const doc = editor.document;
  const visible = editor.visibleRanges;
  const first = visible.length ? visible[0]!.start.line : 0;
  const last = visible.length ? visible[visible.length - 1]!.end.line : Math.min(doc.lineCount - 1, 100);
  const visibleStart = doc.offsetAt(new vscode.Position(first, 0));
  const end = doc.offsetAt(doc.lineAt(last).range.end);
  let start = doc.offsetAt(doc.positionAt(Math.max(0, visibleStart - CONTEXT_CHARS)).with({ character: 0 }));
  // A very long visible stretch (or very long lines): the window keeps its end and is cut at the start.
  if (end - start > MAX_WINDOW_CHARS) start = end - MAX_WINDOW_CHARS;
  return { start, end };
}

function flaggedOf(doc: vscode.TextDocument, windowStart: number, t: TokenSurprisal, median: number): Flagged {
  // The word without the space the tokenizer keeps in front of it.
  const lead = t.token.length - t.token.trimStart().length;
  const from = windowStart + t.start + lead;
  const to = windowStart + t.end;
  return { range: new vscode.Range(doc.positionAt(from), doc.positionAt(to)), word: t.token.slice(lead), t, median, typo: isLikelyTypo(t, DEFAULT_SURPRISAL_RULE.nearMissMinP) };
}

/** What the word could be replaced with: the near miss, then the model's expectations, as the word is spaced. */
function replacementsOf(f: Pick<Flagged, 't' | 'word'>): string[] {
  const lead = f.t.token.slice(0, f.t.token.length - f.word.length);
  const out: string[] = [];
  for (const a of [...(f.t.nearMiss ? [f.t.nearMiss] : []), ...f.t.alternatives]) {
    // Only words spaced as this one is (" model" for " modle"), and not the word itself.
    if (!a.word.startsWith(lead) || !isWordLike(a.word) || (lead === '' && a.word.startsWith(' '))) continue;
    const word = a.word.slice(lead.length);
    if (word && word !== f.word && !out.includes(word)) out.push(word);
  }
  return out.slice(0, 3);
}

/** A probability, whole percents from 10 % up. */
function chance(p: number): string {
  return p >= 0.1 ? `${Math.round(p * 100)} %` : `${(p * 100).toFixed(1)} %`;
}

function hoverText(f: Flagged): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  const above = f.t.bits - f.median;
  if (f.typo) {
    md.appendMarkdown(`**Nextword**: “${escapeMarkdown(f.word)}” is not a word the model knows; did you mean **${escapeMarkdown(f.t.nearMiss!.word.trim())}** (${chance(f.t.nearMiss!.p)} here)?\n\n`);
  } else {
    const times = 2 ** above;
    md.appendMarkdown(
      `**Nextword**: “${escapeMarkdown(f.word)}” is unexpected here: about ${times >= 1e6 ? 'over a million' : thousands(times)} times less likely than this file's usual word ` +
        `(${f.t.bits.toFixed(1)} bits; ${thousands(f.t.rank)} words were likelier).\n\n`,
    );
  }
  const expected = f.t.alternatives.filter((a) => a.word.trim() !== '').map((a) => `${escapeMarkdown(a.word.trim())} ${chance(a.p)}`);
  if (expected.length) md.appendMarkdown(`Expected: ${expected.join(' · ')}`);
  return md;
}

