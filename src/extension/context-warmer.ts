// Reads the context at a cursor the user moved to (a file opened, a click, a jump), shortly after the move,
// so that the first key typed there is answered as fast as the next ones: the engine's prepare() has the
// model read the window before the cursor, as the first request there would (a cold context costs several
// times a request that extends a read one: docs/speed-and-memory.md). Only where a completion could be
// asked for: the active editor, one empty selection, a document Nextword completes in.

import * as vscode from 'vscode';
import type { CompletionEngine } from '../core/completion/completion-engine.js';
import { textBeforeCursor } from './inline-provider.js';

/** Quiet time after a move before the context is read: a burst of moves (an arrow key held, typing) reads once. */
const SETTLE_MS = 150;

export class ContextWarmer implements vscode.Disposable {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly engine: CompletionEngine,
    /** Whether completions are asked for in `document` (its language, the settings, the editor's schemes). */
    private readonly completesIn: (document: vscode.TextDocument) => boolean,
  ) {
    this.subscriptions = [
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule()),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor) this.schedule();
      }),
    ];
  }

  /** Reads the active editor's context once moves have settled (also when a model was loaded). */
  schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.read(), SETTLE_MS);
  }

  private read(): void {
    this.timer = undefined;
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.selections.length !== 1 || !editor.selection.isEmpty || !this.completesIn(editor.document)) return;
    void this.engine.prepare(textBeforeCursor(editor.document, editor.selection.active));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subscriptions) s.dispose();
  }
}
