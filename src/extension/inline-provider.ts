// The inline completion provider: converts VS Code's types to the engine's and back, and nothing else
// (debounce, cache, "latest request wins" and every reason to show nothing live in
// core/completion/completion-engine.ts). The CancellationToken becomes an AbortSignal once; each request's
// outcome is logged, with its reason when nothing is shown.

import * as vscode from 'vscode';
import type { CompletionEngine, CompletionOutcome, CompletionRequest, CompletionSettings } from '../core/completion/completion-engine.js';
import { windowStartLine } from '../core/completion/request-window.js';
import type { Offered } from '../core/completion/savings.js';

export interface InlineProviderDeps {
  engine: CompletionEngine;
  log: vscode.LogOutputChannel;
  /** The completion settings for a document (its language's `nextword.enable` included). */
  settingsFor: (document: vscode.TextDocument) => CompletionSettings;
  /** Called with every outcome (first completion time, tests). */
  onOutcome?: (outcome: CompletionOutcome) => void;
  /** The suggestion a request shows (its first item), or undefined when it shows none. */
  onOffered?: (document: vscode.TextDocument, offer: Offered | undefined) => void;
}

export class InlineProvider implements vscode.InlineCompletionItemProvider {
  constructor(private readonly deps: InlineProviderDeps) {}

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[]> {
    const range = context.selectedCompletionInfo?.range;
    if (range && (range.start.line !== position.line || range.end.line !== position.line)) {
      // An item must stay on the cursor's line, so it cannot extend a suggestion that spans lines.
      this.deps.log.debug(`completion not shown (selection-mismatch): the suggest widget's item spans lines`);
      return [];
    }
    const request = toRequest(document, position, context, this.deps.settingsFor(document));
    const controller = new AbortController();
    const subscription = token.onCancellationRequested(() => controller.abort());
    if (token.isCancellationRequested) controller.abort();
    let outcome: CompletionOutcome;
    try {
      outcome = await this.deps.engine.complete(request, controller.signal);
    } finally {
      subscription.dispose();
    }
    this.deps.onOutcome?.(outcome);
    this.logOutcome(document, position, request, outcome);
    if (outcome.kind === 'skip') {
      this.deps.onOffered?.(document, undefined);
      return [];
    }
    const line = position.line;
    const first = outcome.items[0];
    this.deps.onOffered?.(document, first && { line, start: first.startCharacter, text: first.insertText });
    return outcome.items.map((item) => new vscode.InlineCompletionItem(item.insertText, new vscode.Range(line, item.startCharacter, line, item.endCharacter)));
  }

  private logOutcome(document: vscode.TextDocument, position: vscode.Position, request: CompletionRequest, outcome: CompletionOutcome): void {
    const { log } = this.deps;
    // Trace is off by default: build the line only when someone reads it.
    const level = log.logLevel;
    if (level === vscode.LogLevel.Off || level > vscode.LogLevel.Debug) return;
    const where = `${vscode.workspace.asRelativePath(document.uri, false)}:${position.line + 1}:${position.character + 1}`;
    const ms = outcome.latencyMs.toFixed(1);
    const how = request.explicit ? 'explicit' : 'automatic';
    if (outcome.kind === 'items') {
      log.trace(
        `completion ${how} ${where} in ${ms} ms${outcome.cached ? ' (cached)' : ''}: ` +
          outcome.items.map((i) => `${JSON.stringify(i.insertText)} p=${i.confidence.toFixed(2)}`).join(' | '),
      );
      return;
    }
    const line = `completion ${how} ${where} not shown (${outcome.reason})${outcome.detail ? `: ${outcome.detail}` : ''} in ${ms} ms`;
    // Every keystroke supersedes the previous request: those are trace, the rest debug.
    if (outcome.reason === 'superseded' || outcome.reason === 'cancelled') log.trace(line);
    else if (outcome.reason === 'error' || outcome.reason === 'invalid-request') log.warn(line);
    else log.debug(line);
  }
}

/** The engine's request for a position: the text before the cursor (its window), the rest of its line, the widget's selection. */
export function toRequest(
  document: vscode.TextDocument,
  position: vscode.Position,
  context: vscode.InlineCompletionContext,
  settings: CompletionSettings,
): CompletionRequest {
  const lineText = document.lineAt(position.line).text;
  const selected = context.selectedCompletionInfo;
  const request: CompletionRequest = {
    docKey: document.uri.toString(),
    textBefore: textBeforeCursor(document, position),
    lineSuffix: lineText.slice(position.character),
    character: position.character,
    explicit: context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke,
    languageId: document.languageId,
    settings,
  };
  if (selected) request.selected = { startCharacter: selected.range.start.character, endCharacter: selected.range.end.character, text: selected.text };
  return request;
}

/** The text a request at `position` carries: from a line that stays put while the user types, not the document's start (request-window.ts). */
export function textBeforeCursor(document: vscode.TextDocument, position: vscode.Position): string {
  const lines = (from: number, to: number) => document.offsetAt(new vscode.Position(to, 0)) - document.offsetAt(new vscode.Position(from, 0));
  return document.getText(new vscode.Range(windowStartLine(position.line, lines), 0, position.line, position.character));
}
