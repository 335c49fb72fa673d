// Files by perplexity: the workspace's text files scored by the served model, highest perplexity first, the
// files that read least like the rest (generated, vendored, another author's or another language's). The
// files are chosen as Train on Workspace chooses them (workspace-corpus.ts: ignore rules, excludes, secrets,
// binaries, size caps), the scores are `nextword eval`'s, computed as the status bar's (DocumentPerplexity:
// the model's scorer, in the model server, between predictions). A cancellable notification shows the progress; a quick pick lists the result and opens a file.

import * as vscode from 'vscode';
import { DocumentPerplexity } from '../core/scoring/document-perplexity.js';
import type { ModelManager } from './model-manager.js';
import { CorpusCancelled, readWorkspaceCorpus } from './workspace-corpus.js';
import { exactPerplexity, percent, thousands } from './format.js';

/** What is scored at most: a workspace past these is sampled, as training samples it. */
export const MAX_FILES = 3000;
export const MAX_BYTES = 16 * 1024 * 1024;

export interface FileScore {
  relPath: string;
  ppl: number;
  tokens: number;
  /** Share of the tokens outside the vocabulary. */
  oovShare: number;
}

export interface FilesByPerplexityDeps {
  models: ModelManager;
  log: vscode.LogOutputChannel;
}

/** Scores the workspace's files; `silent`: no quick pick, the list is returned (tests, scripts). */
export async function filesByPerplexity(deps: FilesByPerplexityDeps, silent: boolean): Promise<FileScore[] | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (!folders.length) {
    void vscode.window.showInformationMessage('Nextword: open a folder to list its files by perplexity.');
    return undefined;
  }
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showInformationMessage('Nextword reads the workspace\u2019s files only in a trusted workspace.');
    return undefined;
  }
  const model = deps.models.current;
  if (!model) return undefined;
  const { session } = model;
  const started = performance.now();
  const scores = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Nextword: scoring the workspace\u2019s files', cancellable: true },
    async (progress, token) => {
      let corpus;
      try {
        corpus = await readWorkspaceCorpus(folders, { limits: { maxFiles: MAX_FILES, maxTotalBytes: MAX_BYTES }, token });
      } catch (e) {
        if (e instanceof CorpusCancelled) return undefined;
        throw e;
      }
      const decoder = new TextDecoder('utf-8');
      const out: FileScore[] = [];
      const cancelled = new AbortController();
      const cancel = token.onCancellationRequested(() => cancelled.abort());
      try {
        for (const [i, f] of corpus.files.entries()) {
          progress.report({ message: `${thousands(i)} of ${thousands(corpus.files.length)} files`, increment: 100 / corpus.files.length });
          // As the status bar scores a file: tokenized a block at a time between turns of the event loop.
          const scored = await new DocumentPerplexity(session.scorer, session.vocab, session.mode, { maxChars: MAX_BYTES }).update(decoder.decode(f.data), cancelled.signal);
          if (scored.status === 'cancelled') return undefined;
          const e = scored.status === 'scored' ? scored.figures : undefined;
          if (e && e.tokens > 0) out.push({ relPath: f.relPath, ppl: e.ppl, tokens: e.tokens, oovShare: e.oovShare });
        }
      } finally {
        cancel.dispose();
      }
      return out.sort((a, b) => b.ppl - a.ppl || a.relPath.localeCompare(b.relPath));
    },
  );
  if (!scores) return undefined;
  deps.log.info(`files by perplexity: ${scores.length} files under ${model.label} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (silent) return scores;
  if (!scores.length) {
    void vscode.window.showInformationMessage('Nextword found no text files to score in this workspace.');
    return scores;
  }
  const picked = await vscode.window.showQuickPick(
    scores.map((s) => ({
      label: s.relPath,
      description: `perplexity ${exactPerplexity(s.ppl)}`,
      detail: `${thousands(s.tokens)} tokens, ${percent(s.oovShare)} unknown to the model`,
      score: s,
    })),
    {
      title: `Files by perplexity under ${model.label}: the highest read least like what the model knows`,
      placeHolder: 'Open a file',
      matchOnDescription: false,
    },
  );
  if (picked) await openRelPath(picked.score.relPath, folders);
  return scores;
}

/** Opens a file named as the corpus names it (with the folder's name first in a multi-root workspace). */
async function openRelPath(relPath: string, folders: readonly vscode.WorkspaceFolder[]): Promise<void> {
  const folder = folders.length > 1 ? folders.find((f) => relPath.startsWith(`${f.name}/`)) : folders[0];
  if (!folder) return;
  const inFolder = folders.length > 1 ? relPath.slice(folder.name.length + 1) : relPath;
  await vscode.window.showTextDocument(vscode.Uri.joinPath(folder.uri, ...inFolder.split('/')));
}
