// Every setting Nextword reads, read here and nowhere else, into plain typed objects: the core and the
// rest of the extension never call getConfiguration. Values are clamped to the ranges package.json
// declares, since settings.json can hold anything.

import * as vscode from 'vscode';
import { DEFAULT_COMPLETION_SETTINGS as DEFAULTS } from '../core/completion/completion-engine.js';
import { enabledPatterns } from './exclude-glob.js';

export interface CompletionConfig {
  /** Most words after the word being typed (0: only complete the current word). */
  maxWords: number;
  /** Geometric-mean probability a phrase must keep. */
  minConfidence: number;
  /** Whether the user set minConfidence (in any scope); if not, a trained model's own threshold applies. */
  minConfidenceSet: boolean;
  debounceMs: number;
  /** No completions inside longer lines. */
  maxLineLength: number;
}

export interface TrainingConfig {
  preset: string;
  /** The raw `nextword.training.advanced` object, checked by training-settings.ts. */
  advanced: unknown;
  timeBudgetMinutes: number;
  /** 0: all cores but one. */
  threads: number;
  maxFiles: number;
  maxMegabytes: number;
}

export interface NextwordConfig {
  completion: CompletionConfig;
  statusBarEnabled: boolean;
  training: TrainingConfig;
}

export function readConfig(): NextwordConfig {
  const c = vscode.workspace.getConfiguration('nextword');
  return {
    completion: {
      maxWords: int(c.get('completion.maxWords'), DEFAULTS.maxWords, 0, 12),
      minConfidence: num(c.get('completion.minConfidence'), DEFAULTS.minConfidence, 0, 1),
      minConfidenceSet: isSet(c.inspect('completion.minConfidence')),
      debounceMs: int(c.get('completion.debounceMs'), DEFAULTS.debounceMs, 0, 1000),
      maxLineLength: int(c.get('completion.maxLineLength'), DEFAULTS.maxLineLength, 80, 1_000_000),
    },
    statusBarEnabled: c.get('statusBar.enable') !== false,
    training: {
      preset: String(c.get('training.preset') ?? 'small'),
      advanced: c.get('training.advanced') ?? {},
      timeBudgetMinutes: num(c.get('training.timeBudgetMinutes'), 10, 0, 7 * 24 * 60),
      threads: int(c.get('training.threads'), 0, 0, 1024),
      maxFiles: int(c.get('training.maxFiles'), 20_000, 1, 10_000_000),
      maxMegabytes: num(c.get('training.maxMegabytes'), 50, 1, 100_000),
    },
  };
}

/** Whether any scope (user, workspace, folder, or a language's section of them) sets the value. */
function isSet(i: ReturnType<vscode.WorkspaceConfiguration['inspect']>): boolean {
  if (!i) return false;
  return [i.globalValue, i.workspaceValue, i.workspaceFolderValue, i.globalLanguageValue, i.workspaceLanguageValue, i.workspaceFolderLanguageValue].some((v) => v !== undefined);
}

/** True when a configuration change can affect what readConfig returns. */
export function affectsConfig(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration('nextword');
}

/**
 * `nextword.enable` for a document: language-overridable (`"[markdown]": { "nextword.enable": false }`)
 * and resource-scoped, so it is read with the document as scope.
 */
export function isEnabledFor(document: { uri?: vscode.Uri; languageId: string }): boolean {
  const scope = document.uri ? { uri: document.uri, languageId: document.languageId } : { languageId: document.languageId };
  return vscode.workspace.getConfiguration('nextword', scope).get('enable') !== false;
}

/**
 * Switches `nextword.enable` for one language, in the user settings (a workspace that sets it keeps its
 * own value, so that is written too when present). Returns the new value.
 */
export async function toggleLanguage(languageId: string, uri: vscode.Uri | undefined): Promise<boolean> {
  const scope = { languageId, ...(uri ? { uri } : {}) };
  const config = vscode.workspace.getConfiguration('nextword', scope);
  const enabled = config.get('enable') !== false;
  const next = !enabled;
  const inspected = config.inspect<boolean>('enable');
  const target =
    inspected?.workspaceFolderLanguageValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : inspected?.workspaceLanguageValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  // The last argument writes the value under "[languageId]".
  await config.update('enable', next, target, true);
  return next;
}

/**
 * The glob patterns Train on Workspace leaves out of `folder`, before the built-in rules: `files.exclude`
 * and `search.exclude` (as the folder sees them) and `nextword.exclude`.
 */
export function excludePatternsFor(folder: vscode.WorkspaceFolder): { settings: string[]; nextword: string[] } {
  const files = vscode.workspace.getConfiguration('files', folder.uri).get('exclude');
  const search = vscode.workspace.getConfiguration('search', folder.uri).get('exclude');
  const own = vscode.workspace.getConfiguration('nextword', folder.uri).get('exclude');
  const nextword = Array.isArray(own) ? own.filter((p): p is string => typeof p === 'string' && p.trim() !== '') : [];
  return { settings: [...enabledPatterns(files), ...enabledPatterns(search)], nextword };
}

function num(v: unknown, fallback: number, min: number, max: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : fallback;
}

function int(v: unknown, fallback: number, min: number, max: number): number {
  return Math.round(num(v, fallback, min, max));
}
