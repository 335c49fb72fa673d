// What the in-host suites share: the extension's figures (through its internal `nextword._stats`
// command), polling with a deadline, the fixture workspace, typing into an editor, and `nextword eval`
// as the independent reference for perplexity.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RenderedReport } from '../../src/extension/training-view.js';

export const EXTENSION_ID = 'nextword.nextword';
/** The fixture's made-up word (test/fixtures/e2e-workspace): only a model trained there knows it. */
export const WORKSPACE_WORD = 'zorbulent';
/** The word of the fixture's git-ignored file: no model may learn it. */
export const IGNORED_WORD = 'vantraxic';
/** The word of the multi-root workspace's second folder (test/fixtures/e2e-second-folder). */
export const SECOND_FOLDER_WORD = 'quillamber';
/**
 * Words no model may learn, of the second folder's git-ignored file, its `.env` secret, and files its own
 * settings exclude (.vscode/settings.json: files.exclude, search.exclude, and nextword.exclude, the old name 9-controls.test.ts sees moved to nextword.training.exclude).
 */
export const SECOND_FOLDER_EXCLUDED_WORDS = ['morvatic', 'plumbodyne', 'glimbrosk', 'trevannic', 'sulvareth'];
/** In the fixture this phrase is always followed by the workspace word. */
export const WORD_PROMPT = 'At dawn the tide was ';

export function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not loaded`);
  return ext;
}

/** The repository (the development extension's folder). */
export function repoRoot(): string {
  return extension().extensionPath;
}

export function hasDefaultModel(): boolean {
  return existsSync(path.join(repoRoot(), 'models', 'default', 'model.json'));
}

export function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the tests need the fixture workspace open (test/fixtures/e2e-workspace)');
  return folder.uri.fsPath;
}

export function workspaceUri(relPath: string): vscode.Uri {
  return vscode.Uri.file(path.join(workspaceRoot(), relPath));
}

export interface FilePerplexityFigures {
  fileName: string;
  ppl: number;
  tokens: number;
  oov: number;
}

/** The subset of `nextword._stats` the suites read. */
export interface ExtensionStats {
  model: { state: string; origin?: string; label?: string; dir?: string; vocabSize?: number; loadMs?: number; reason?: string; validPpl?: number | null; baseline?: string | null; servedByPid?: number | null; baselineServedByPid?: number | null; serverModel?: number | null };
  completions: { requests: number; shown: number; waitedForModel: number; prepared: number; skipped: Record<string, number> };
  perplexity: { kind: string; fileName?: string; figures?: FilePerplexityFigures };
  training: unknown;
  /** What accepted ghost text saved, today and in all. */
  savings: { today?: { accepts: number; chars: number }; total: { accepts: number; chars: number } };
  /** What the status bar item shows, or null before it is drawn. */
  statusBar: { text: string; tooltip: string; ariaLabel: string } | null;
  /** Since activation or the last reset, in ms. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** The completion threshold in use and where it comes from. */
  completionThreshold: { value: number; from: 'setting' | 'model' | 'default' };
  /** What the model server holds (asked with `server: true`; null when it does not run). */
  server?: { pid: number; models: number[]; children: number[]; rssBytes: number } | null;
  /** The training view: whether it is open, what it posted and what its page reported it drew (training-view.ts). */
  trainingView: {
    open: boolean;
    visible: boolean;
    posted: number;
    rendered: RenderedReport | null;
    renderedRunning: boolean;
    history: { outcome: string; epochs: number; files: number | null; ngramPpl: number | null; servedPpl: number | null; ksr: number | null; comparedKsr: number | null }[];
  };
}

/** Makes Train on Workspace take exactly `epochs` epochs, whatever validation does (undefined: the settings' default). */
export async function setEpochs(epochs: number | undefined): Promise<void> {
  await vscode.workspace.getConfiguration('nextword').update('training.advanced', epochs === undefined ? undefined : { epochs, patience: 0 }, vscode.ConfigurationTarget.Global);
}

/**
 * The extension's figures; `reset` starts its completion and event-loop figures afresh after reading them
 * (consecutive windows); `server` asks the model server what it holds.
 */
export async function stats(options: { reset?: boolean; server?: boolean } = {}): Promise<ExtensionStats> {
  const s = await vscode.commands.executeCommand<ExtensionStats | undefined>('nextword._stats', options);
  if (!s) throw new Error('nextword._stats returned nothing');
  return s;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns something other than undefined; fails naming `what` and the last value seen. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Waits until the extension has a model loaded (or has settled on having none). */
export async function settledModel(): Promise<ExtensionStats['model']> {
  return waitFor('the model to load', async () => {
    const m = (await stats()).model;
    return m.state === 'loading' ? undefined : m;
  }, 30_000);
}

/** Opens a workspace file in an editor, with the cursor at its end. */
export async function openAtEnd(relPath: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(workspaceUri(relPath));
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  const end = doc.lineAt(doc.lineCount - 1).range.end;
  editor.selection = new vscode.Selection(end, end);
  return editor;
}

/** Starts a new paragraph at the end of the editor's document with `text`, the cursor after it. */
export async function appendParagraph(editor: vscode.TextEditor, text: string): Promise<vscode.Position> {
  const doc = editor.document;
  const end = doc.lineAt(doc.lineCount - 1).range.end;
  const ok = await editor.edit((b) => b.insert(end, `\n\n${text}`));
  if (!ok) throw new Error('the edit was not applied');
  const last = doc.lineAt(doc.lineCount - 1).range.end;
  editor.selection = new vscode.Selection(last, last);
  return last;
}

/**
 * Asks for an inline completion at the cursor and accepts it, as Tab would; returns the text inserted
 * after `prompt` on the cursor's line. Retries until the suggestion has arrived (the first prediction
 * of a freshly loaded model can take a moment).
 */
export async function acceptInlineCompletion(editor: vscode.TextEditor, prompt: string, timeoutMs = 15_000): Promise<string> {
  const line = editor.selection.active.line;
  const before = editor.document.lineAt(line).text;
  if (!before.endsWith(prompt)) throw new Error(`the cursor's line should end with "${prompt}", it is "${before}"`);
  try {
    return await waitFor(`an inline completion after "${prompt}" to be accepted`, async () => {
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await sleep(300);
      await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
      const now = editor.document.lineAt(line).text;
      return now.length > before.length && now.startsWith(before) ? now.slice(before.length) : undefined;
    }, timeoutMs, 0);
  } catch (e) {
    // What the extension saw meanwhile: its model and its completion requests (asked? answered? skipped why?).
    const s = await stats().catch(() => undefined);
    throw new Error(`${(e as Error).message}; the extension: ${JSON.stringify({ model: s?.model, completions: s?.completions })}`, { cause: e });
  }
}

/** `nextword eval --json` on one file with the repository's CLI: the reference figures. */
export function evalWithCli(modelDir: string, file: string): { ppl: number; tokens: number; oov: number } {
  // In desktop VS Code the extension host is Electron: ELECTRON_RUN_AS_NODE makes it plain Node.
  const r = spawnSync(process.execPath, [path.join(repoRoot(), 'bin', 'nextword.js'), 'eval', '--model', modelDir, file, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  if (r.status !== 0) throw new Error(`nextword eval failed (${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { ppl: number; tokens: number; oov: number };
  return { ppl: out.ppl, tokens: out.tokens, oov: out.oov };
}

/**
 * Waits until the extension's perplexity of `relPath` equals what `nextword eval` computes with the model
 * in `modelDir` (earlier figures, of another file or model, may show first); fails with the last figures seen.
 */
export async function expectPerplexityAsEval(relPath: string, modelDir: string): Promise<FilePerplexityFigures> {
  const expected = evalWithCli(modelDir, path.join(workspaceRoot(), relPath));
  let seen: unknown;
  try {
    return await waitFor('the perplexity', async () => {
      const s = await stats();
      seen = { model: s.model.dir, perplexity: s.perplexity };
      const f = s.perplexity.kind === 'done' ? s.perplexity.figures : undefined;
      // eval prints three decimals.
      const same = f && s.model.dir === modelDir && f.fileName.endsWith(path.basename(relPath)) && Math.abs(f.ppl - expected.ppl) <= 0.0006 && f.tokens === expected.tokens && f.oov === expected.oov;
      return same ? f : undefined;
    }, 30_000);
  } catch {
    throw new Error(`the extension's perplexity of ${relPath} never matched nextword eval's ${JSON.stringify(expected)} with ${modelDir}; last seen ${JSON.stringify(seen)}`);
  }
}

/** Prefix of the lines run-in-host.ts collects into out/in-host/metrics.json (same string there). */
export const METRICS_TAG = 'nextword-in-host-metrics ';

/** Records measured figures: printed with the report, and kept by the runner as an artefact. */
export function recordMetrics(name: string, figures: Record<string, unknown>): void {
  console.log(`${METRICS_TAG}${JSON.stringify({ name, ...figures })}`);
}
