// A hint when the workspace's model has grown stale: trained long ago, or many of the workspace's files
// changed since. Looked at once per model (after it loads, off the startup path), on a bounded sample of
// the workspace's text files; the hint offers to train again and is shown once per model.

import * as vscode from 'vscode';
import { TEXT_FILES } from './first-run.js';
import { staleness } from './model-age.js';

/** Files looked at, at most. */
const SAMPLE = 400;
const SHOWN_KEY = 'nextword.staleHintShownFor';

export type StaleCheck = { kind: 'not-checked' } | { kind: 'fresh' | 'stale'; ageDays: number; changed: number; sampled: number; why?: string };

/** Looks at the workspace's model trained at `createdAt` (ISO); shows the hint once per model when it is stale. */
export async function checkStaleModel(
  createdAt: string,
  deps: { workspaceState: vscode.Memento; log: vscode.LogOutputChannel; retrain: () => void; token?: vscode.CancellationToken },
): Promise<StaleCheck> {
  const trainedAt = Date.parse(createdAt);
  if (!Number.isFinite(trainedAt)) return { kind: 'not-checked' };
  const files = await vscode.workspace.findFiles(TEXT_FILES, undefined, SAMPLE, deps.token);
  let changed = 0;
  // A few at a time: stats cross to the file system provider and back.
  for (let i = 0; i < files.length; i += 20) {
    const stats = await Promise.all(files.slice(i, i + 20).map((uri) => vscode.workspace.fs.stat(uri).then((s) => s.mtime, () => 0)));
    changed += stats.filter((mtime) => mtime > trainedAt).length;
  }
  const figures = { ageDays: (Date.now() - trainedAt) / 86_400_000, changed, sampled: files.length };
  const why = staleness(figures);
  deps.log.debug(`the workspace model: ${why ? `stale, ${why}` : `fresh (${changed} of ${files.length} files changed since it was trained)`}`);
  if (!why) return { kind: 'fresh', ...figures };
  if (deps.workspaceState.get(SHOWN_KEY) !== createdAt) {
    await deps.workspaceState.update(SHOWN_KEY, createdAt);
    void vscode.window.showInformationMessage(`Nextword's model of this workspace may be out of date: ${why}. Train it again?`, 'Train Again', 'Not Now').then((choice) => {
      if (choice === 'Train Again') deps.retrain();
    });
  }
  return { kind: 'stale', ...figures, why };
}
