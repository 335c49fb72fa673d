// Entry point. activate() only builds the context object, registers the commands over it and hands off;
// the model loads afterwards, so activation stays fast and completions answer "no model" until it is ready.

import * as vscode from 'vscode';
import { registerCommands } from './commands.js';
import { Ctx } from './ctx.js';

export function activate(context: vscode.ExtensionContext): void {
  const activatedAt = performance.now();
  const log = vscode.window.createOutputChannel('Nextword', { log: true });
  context.subscriptions.push(log);
  try {
    const ctx = new Ctx(context, log, activatedAt);
    context.subscriptions.push(ctx);
    registerCommands(ctx);
    ctx.start();
  } catch (e) {
    log.error(`activation failed: ${(e as Error).stack ?? String(e)}`);
    void vscode.window.showErrorMessage(`Nextword failed to start: ${(e as Error).message}. See the Nextword log.`);
    throw e;
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
