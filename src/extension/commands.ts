// Every command, in one table registered in one loop (rust-analyzer's createCommands). A command that
// needs a model says so, and the loop gives all of them the same "no model yet" answer.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { ModelStoreError } from '../io/model-store.js';
import { filesByPerplexity } from './files-by-perplexity.js';
import { toggleEverywhere as toggleEverywhereSetting, toggleLanguage, toggleSurprisingWords as toggleSurprisingWordsSetting } from './config.js';
import type { Ctx } from './ctx.js';
import { interimModelInfo, modelInfo, modelInfoMarkdown, type ModelInfo } from './model-info.js';
import type { LoadedModel } from './model-manager.js';

interface Command {
  /** Runs only with a model loaded; without one the user gets the common "no model" message. */
  needsModel?: boolean;
  run(ctx: Ctx, model: LoadedModel | undefined, ...args: unknown[]): unknown;
}

/**
 * Internal command (not in the palette): the tests read the extension's figures through it; with
 * `{ reset: true }` the completion and event-loop figures start afresh after being read, so that a series
 * of calls covers consecutive windows with no gap.
 */
export const STATS_COMMAND = 'nextword._stats';

/** The walkthrough (package.json's contributes.walkthroughs), as VS Code names it: publisher.name#id. */
export const WALKTHROUGH = 'nextword.nextword#start';

export function createCommands(): Record<string, Command> {
  return {
    'nextword.trainWorkspace': {
      run: async (ctx) => {
        // Training serves its own count meanwhile; a run that leaves no model gives the workspace's words back.
        ctx.words.stop();
        await ctx.trainer.train();
        void ctx.words.start();
      },
    },
    'nextword.useWorkspaceWords': { run: (ctx) => useWorkspaceWords(ctx) },
    'nextword.showTraining': { run: (ctx) => ctx.trainingView.show() },
    'nextword.cancelTraining': {
      run: (ctx) => {
        if (!ctx.trainer.cancel()) void vscode.window.showInformationMessage('Nextword is not training.');
      },
    },
    'nextword.loadModel': { run: (ctx, _model, dir) => loadModelFromFolder(ctx, typeof dir === 'string' ? dir : undefined) },
    'nextword.useDefaultModel': { run: (ctx) => useDefaultModel(ctx) },
    'nextword.showModelInfo': { needsModel: true, run: (ctx, model, ...args) => showModelInfo(ctx, model!, args[0] === 'silent') },
    'nextword.snooze': { run: (ctx, _model, arg) => snooze(ctx, arg) },
    'nextword.toggle': { run: (ctx) => toggleEverywhere(ctx) },
    'nextword.toggleSurprisingWords': { run: (ctx) => toggleSurprisingWords(ctx) },
    'nextword.toggleLanguage': { run: (ctx, _model, languageId) => toggleForLanguage(ctx, typeof languageId === 'string' ? languageId : undefined) },
    'nextword.deleteWorkspaceModel': { run: (ctx, _model, arg) => deleteWorkspaceModel(ctx, arg === 'confirmed') },
    'nextword.revealModelFolder': { needsModel: true, run: (_ctx, model) => revealModelFolder(model!) },
    'nextword.filesByPerplexity': { needsModel: true, run: (ctx, _model, arg) => filesByPerplexity({ models: ctx.models, log: ctx.log }, arg === 'silent') },
    'nextword.showLog': { run: (ctx) => ctx.log.show() },
    'nextword.openWalkthrough': { run: () => vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH, false) },
    'nextword.statusMenu': { run: (ctx) => statusMenu(ctx) },
    [STATS_COMMAND]: {
      run: async (ctx, _model, options) => {
        const figures = ctx.stats();
        const o = options as { reset?: unknown; server?: unknown } | undefined;
        if (o?.reset === true) ctx.resetStats();
        return o?.server === true ? { ...figures, server: await ctx.serverCensus() } : figures;
      },
    },
  };
}

export function registerCommands(ctx: Ctx): void {
  for (const [id, command] of Object.entries(createCommands())) {
    ctx.pushExtCleanup(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        const model = ctx.models.current;
        if (command.needsModel && !model) return ctx.explainNoModel();
        try {
          return await command.run(ctx, model, ...args);
        } catch (e) {
          ctx.log.error(`${id} failed: ${(e as Error).stack ?? String(e)}`);
          void vscode.window.showErrorMessage(`Nextword: ${(e as Error).message ?? String(e)}`);
          return undefined;
        }
      }),
    );
  }
}

async function loadModelFromFolder(ctx: Ctx, given: string | undefined): Promise<void> {
  let dir = given;
  if (!dir) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      openLabel: 'Use This Model',
      title: 'Nextword: choose a model folder (it holds model.json)',
    });
    if (!picked?.[0]) return;
    if (picked[0].scheme !== 'file') {
      void vscode.window.showErrorMessage('Nextword: a model must be in a folder on this machine’s disk.');
      return;
    }
    dir = picked[0].fsPath;
  }
  try {
    const model = await ctx.models.useFolder(dir);
    void vscode.window.showInformationMessage(`Nextword now uses the model in ${path.basename(model.dir)} (vocabulary ${model.session.meta.config.vocab}).`);
  } catch (e) {
    ctx.log.warn(`could not load the model in ${dir}: ${(e as Error).message}`);
    const why =
      e instanceof ModelStoreError && e.code === 'no-model'
        ? `${dir} holds no Nextword model (a model folder has a model.json and its .onnx file)`
        : `Nextword could not load the model in ${dir}: ${(e as Error).message}`;
    void vscode.window.showErrorMessage(`${why}. The previous model stays in use.`);
  }
}

async function useDefaultModel(ctx: Ctx): Promise<void> {
  try {
    await ctx.models.useDefault();
    void vscode.window.showInformationMessage('Nextword now uses the bundled default model.');
  } catch (e) {
    ctx.log.warn(`could not load the bundled default model: ${(e as Error).message}`);
    const why =
      e instanceof ModelStoreError && e.code === 'no-model'
        ? 'the bundled default model is missing from this installation (models/default)'
        : `could not load the bundled default model: ${(e as Error).message}`;
    void vscode.window.showErrorMessage(`Nextword: ${why}. The previous model stays in use.`);
  }
}

/** Opens the info as a Markdown preview (a read-only virtual document); returns it as an object too. */
async function showModelInfo(ctx: Ctx, model: LoadedModel, silent: boolean): Promise<ModelInfo> {
  const figures = ctx.sessionFigures(model);
  const info =
    model.origin === 'interim'
      ? interimModelInfo(model.label, model.figures, model.session.vocab.size, model.session.mode, model.createdAt, figures)
      : modelInfo(model.label, model.dir, model.session.meta, figures, model.session.ngramProblem !== undefined ? { problem: model.session.ngramProblem } : undefined);
  if (silent) return info;
  const uri = ctx.modelInfoDocument.publish(modelInfoMarkdown(info));
  try {
    await vscode.commands.executeCommand('markdown.showPreview', uri);
  } catch {
    // No Markdown preview (the built-in extension disabled): show the source.
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
  }
  return info;
}

const SNOOZE_CHOICES: { what: string; value: number | 'restart' }[] = [
  { what: 'for 5 minutes', value: 5 },
  { what: 'for 15 minutes', value: 15 },
  { what: 'for an hour', value: 60 },
  { what: 'until VS Code restarts', value: 'restart' },
];

/** `arg`: minutes, 'restart' or 'resume'; without it, the user picks. */
async function snooze(ctx: Ctx, arg: unknown): Promise<void> {
  let choice: number | 'restart' | 'resume' | undefined =
    typeof arg === 'number' || arg === 'restart' || arg === 'resume' ? arg : undefined;
  if (choice === undefined) {
    const items = [
      ...(ctx.snooze.isSnoozed ? [{ label: '$(bell) Resume completions now', value: 'resume' as const }] : []),
      ...SNOOZE_CHOICES.map((c) => ({ label: `$(bell-slash) ${c.what[0]!.toUpperCase()}${c.what.slice(1)}`, value: c.value })),
    ];
    choice = (await vscode.window.showQuickPick(items, { title: 'Nextword: snooze completions', placeHolder: 'No inline completions for…' }))?.value;
    if (choice === undefined) return;
  }
  if (choice === 'resume') ctx.snooze.resume();
  else if (choice === 'restart') ctx.snooze.snoozeUntilRestart();
  else if (choice > 0 && Number.isFinite(choice)) ctx.snooze.snoozeFor(choice);
  else throw new Error(`snooze takes minutes (> 0), "restart" or "resume" (got ${JSON.stringify(arg)})`);
  ctx.log.info(choice === 'resume' ? 'completions resumed' : `completions snoozed ${choice === 'restart' ? 'until restart' : `for ${choice} minutes`}`);
}

async function toggleForLanguage(ctx: Ctx, given: string | undefined): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const languageId = given ?? editor?.document.languageId;
  if (!languageId) {
    void vscode.window.showInformationMessage('Nextword: open a file first; completions are switched on or off for its language.');
    return;
  }
  const uri = editor && editor.document.languageId === languageId ? editor.document.uri : undefined;
  const enabled = await toggleLanguage(languageId, uri);
  ctx.log.info(`completions ${enabled ? 'enabled' : 'disabled'} for ${languageId}`);
  ctx.statusBar.refresh();
}

async function useWorkspaceWords(ctx: Ctx): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('Nextword does not read an untrusted workspace. Trust it to use its words.');
    return;
  }
  const state = await ctx.words.enable();
  if (state.kind === 'serving') void vscode.window.showInformationMessage("Nextword: completions now use this workspace's words, until you train a model on it.");
  else if (state.kind === 'skipped' && /model/.test(state.why)) void vscode.window.showInformationMessage(`Nextword: ${state.why}; it already knows this workspace.`);
  else if (state.kind === 'failed' || state.kind === 'skipped') void vscode.window.showWarningMessage(`Nextword could not use this workspace's words: ${state.kind === 'failed' ? state.message : state.why}.`);
}

async function toggleEverywhere(ctx: Ctx): Promise<void> {
  const on = await toggleEverywhereSetting();
  ctx.log.info(`completions turned ${on ? 'on' : 'off'} for every language`);
  ctx.statusBar.refresh();
  void vscode.window.showInformationMessage(
    on ? 'Nextword: completions are on.' : 'Nextword: completions are off in every language. Nextword: Turn Completions On or Off turns them back on.',
  );
}

/** Turns the highlight of surprising words on or off (the user's `nextword.surprisingWords.enable`). */
async function toggleSurprisingWords(ctx: Ctx): Promise<void> {
  const on = await toggleSurprisingWordsSetting();
  ctx.log.info(`surprising words ${on ? 'highlighted' : 'no longer highlighted'}`);
  if (on) {
    void vscode.window.showInformationMessage(
      'Nextword underlines the words it finds surprising in the text you see: dotted in yellow, a likely typo; in blue, a word far less likely than the file\u2019s usual one. Hover one for what it expected.',
    );
  }
}

/** `confirmed` (the command's argument 'confirmed', for keybindings and scripts): no question asked. */
async function deleteWorkspaceModel(ctx: Ctx, confirmed: boolean): Promise<void> {
  if (ctx.trainer.isRunning) {
    void vscode.window.showWarningMessage('Nextword is training on this workspace: cancel the training first.');
    return;
  }
  if (!confirmed) {
    const choice = await vscode.window.showWarningMessage(
      'Delete the model Nextword trained on this workspace?',
      { modal: true, detail: 'Completions go back to the bundled default model. Train on Workspace makes a new one.' },
      'Delete',
    );
    if (choice !== 'Delete') return;
  }
  try {
    await ctx.models.deleteWorkspaceModel();
  } catch (e) {
    void vscode.window.showInformationMessage(`Nextword: ${(e as Error).message}.`);
    return;
  }
  void vscode.window.showInformationMessage('Nextword: the workspace model is deleted; the bundled default model is in use.');
}

async function revealModelFolder(model: LoadedModel): Promise<void> {
  if (model.origin === 'interim') {
    void vscode.window.showInformationMessage('Nextword: the model in use is counted while training runs and has no folder yet.');
    return;
  }
  await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(model.dir, 'model.json')));
}

interface MenuItem extends vscode.QuickPickItem {
  run?: () => unknown;
}

async function statusMenu(ctx: Ctx): Promise<void> {
  const exec = (id: string, ...args: unknown[]) => () => vscode.commands.executeCommand(id, ...args);
  const languageId = vscode.window.activeTextEditor?.document.languageId;
  const languageEnabled = languageId ? ctx.isEnabledForLanguage(languageId) : undefined;
  const items: MenuItem[] = [];
  if (ctx.trainer.isRunning) items.push({ label: '$(debug-stop) Cancel Training', description: 'keep the current model', run: exec('nextword.cancelTraining') });
  else if (ctx.models.current?.origin === 'workspace') items.push({ label: '$(mortar-board) Train on Workspace Again', description: 'learn from its files as they are now', run: exec('nextword.trainWorkspace') });
  else items.push({ label: '$(mortar-board) Train on Workspace', description: 'learn from this workspace’s files', run: exec('nextword.trainWorkspace') });
  items.push({
    label: '$(graph-line) Show Training',
    description: ctx.trainer.isRunning ? 'how the run goes, live' : 'past runs and what ghost text saved you',
    run: exec('nextword.showTraining'),
  });

  items.push({ label: 'Completions', kind: vscode.QuickPickItemKind.Separator });
  items.push(
    ctx.isDisabledEverywhere()
      ? { label: '$(check) Turn Completions On', run: exec('nextword.toggle') }
      : { label: '$(circle-slash) Turn Completions Off', description: 'in every language', run: exec('nextword.toggle') },
  );
  if (ctx.snooze.isSnoozed) items.push({ label: '$(bell) Resume Completions', run: exec('nextword.snooze', 'resume') });
  for (const c of SNOOZE_CHOICES) items.push({ label: `$(bell-slash) Snooze ${c.what}`, run: exec('nextword.snooze', c.value) });
  if (languageId) {
    items.push({
      label: languageEnabled ? `$(circle-slash) Disable for ${languageId}` : `$(check) Enable for ${languageId}`,
      description: 'the nextword.enable setting of this language',
      run: exec('nextword.toggleLanguage', languageId),
    });
  }

  items.push(
    ctx.surprisingWordsOn()
      ? { label: '$(eye-closed) Stop Highlighting Surprising Words', run: exec('nextword.toggleSurprisingWords') }
      : { label: '$(eye) Highlight Surprising Words', description: 'likely typos and misplaced words', run: exec('nextword.toggleSurprisingWords') },
  );

  items.push({ label: 'Model', kind: vscode.QuickPickItemKind.Separator });
  items.push({ label: '$(info) Show Model Info', run: exec('nextword.showModelInfo') });
  items.push({ label: '$(list-ordered) Show Files by Perplexity', description: 'the files that read least like the rest', run: exec('nextword.filesByPerplexity') });
  items.push({ label: '$(folder-opened) Load Model from Folder…', run: exec('nextword.loadModel') });
  items.push({ label: '$(package) Use the Bundled Default Model', run: exec('nextword.useDefaultModel') });
  if (ctx.models.current && ctx.models.current.origin !== 'interim') items.push({ label: '$(file-directory) Reveal Model Folder', run: exec('nextword.revealModelFolder') });
  if (ctx.models.current?.origin === 'workspace') items.push({ label: '$(trash) Delete This Workspace\u2019s Model', run: exec('nextword.deleteWorkspaceModel') });
  items.push({ label: '$(output) Open Log', run: exec('nextword.showLog') });

  const picked = await vscode.window.showQuickPick(items, { title: 'Nextword' });
  await picked?.run?.();
}
