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
  /** `nextword.completion.trigger`: as you type, or only when asked. */
  trigger: 'automatic' | 'onRequest';
  /** `nextword.completion.bundledModelScope`: where the bundled model suggests, until the workspace has a model. */
  bundledModelScope: 'everywhere' | 'prose';
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
  /** `nextword.training.suggest`: suggest training once in a workspace with enough text and no model. */
  suggest: boolean;
}

export interface NextwordConfig {
  completion: CompletionConfig;
  /** The user turned completions off in every language (`nextword.enable: false` in the user settings). */
  disabledEverywhere: boolean;
  /** `nextword.workspaceWords`: the workspace's words before any model is trained on it (the user's consent). */
  workspaceWords: boolean;
  statusBarEnabled: boolean;
  /** The file's perplexity in the status item's text. */
  statusBarPerplexity: boolean;
  /** `nextword.surprisingWords.enable`: highlight the words the model finds surprising. */
  surprisingWords: boolean;
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
      trigger: c.get('completion.trigger') === 'onRequest' ? 'onRequest' : 'automatic',
      bundledModelScope: c.get('completion.bundledModelScope') === 'prose' ? 'prose' : 'everywhere',
    },
    disabledEverywhere: c.inspect<boolean>('enable')?.globalValue === false,
    workspaceWords: c.get('workspaceWords') === true,
    statusBarEnabled: c.get('statusBar.enable') !== false,
    statusBarPerplexity: c.get('statusBar.perplexity') === true,
    surprisingWords: c.get('surprisingWords.enable') === true,
    training: {
      preset: String(c.get('training.preset') ?? 'small'),
      advanced: c.get('training.advanced') ?? {},
      timeBudgetMinutes: num(c.get('training.timeBudgetMinutes'), 10, 0, 7 * 24 * 60),
      threads: int(c.get('training.threads'), 0, 0, 1024),
      maxFiles: int(c.get('training.maxFiles'), 20_000, 1, 10_000_000),
      maxMegabytes: num(c.get('training.maxMegabytes'), 50, 1, 100_000),
      suggest: c.get('training.suggest') !== false,
    },
  };
}

/** What Train on Workspace (and the count of its words) reads at most, from the training settings. */
export function scanLimits(training: TrainingConfig): { maxFiles: number; maxTotalBytes: number } {
  return { maxFiles: training.maxFiles, maxTotalBytes: Math.round(training.maxMegabytes * 1024 * 1024) };
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

/** What a document's language may override: `nextword.enable` and `nextword.completion.scope`. */
export interface LanguageConfig {
  enabled: boolean;
  scope: 'everywhere' | 'prose';
}

/**
 * The language-overridable settings for a document (`"[markdown]": { "nextword.enable": false }`), read
 * with the document as scope (they are resource-scoped too).
 */
export function languageConfigFor(document: { uri?: vscode.Uri; languageId: string }): LanguageConfig {
  const scope = document.uri ? { uri: document.uri, languageId: document.languageId } : { languageId: document.languageId };
  const c = vscode.workspace.getConfiguration('nextword', scope);
  return { enabled: c.get('enable') !== false, scope: c.get('completion.scope') === 'prose' ? 'prose' : 'everywhere' };
}

/**
 * Turns completions on or off for every language: `nextword.enable` in the user settings (a language's own
 * value, and a workspace's, stay as they are). Returns the new value.
 */
export async function toggleEverywhere(): Promise<boolean> {
  const config = vscode.workspace.getConfiguration('nextword');
  const next = config.inspect<boolean>('enable')?.globalValue === false;
  await config.update('enable', next ? undefined : false, vscode.ConfigurationTarget.Global);
  return next;
}

/** Turns the highlight of surprising words on or off in the user settings. Returns the new value. */
export async function toggleSurprisingWords(): Promise<boolean> {
  const config = vscode.workspace.getConfiguration('nextword');
  const next = config.get('surprisingWords.enable') !== true;
  await config.update('surprisingWords.enable', next, vscode.ConfigurationTarget.Global);
  return next;
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
  // The last argument writes the value under "[languageId]". Turned back on where the setting without the
  // language is on, the language's own value goes: it would otherwise outvote a later "off everywhere".
  const unscoped = vscode.workspace.getConfiguration('nextword', uri).get('enable') !== false;
  await config.update('enable', next && unscoped ? undefined : next, target, true);
  return next;
}

/**
 * The glob patterns Train on Workspace leaves out of `folder`, before the built-in rules: `files.exclude`
 * and `search.exclude` (as the folder sees them) and `nextword.training.exclude` (with what is still set
 * under its old name, `nextword.exclude`, until migrateSettings moves it).
 */
export function excludePatternsFor(folder: vscode.WorkspaceFolder): { settings: string[]; nextword: string[] } {
  const files = vscode.workspace.getConfiguration('files', folder.uri).get('exclude');
  const search = vscode.workspace.getConfiguration('search', folder.uri).get('exclude');
  const c = vscode.workspace.getConfiguration('nextword', folder.uri);
  const patterns = (v: unknown) => (Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string' && p.trim() !== '') : []);
  const nextword = [...new Set([...patterns(c.get('training.exclude')), ...patterns(c.get('exclude'))])];
  return { settings: [...enabledPatterns(files), ...enabledPatterns(search)], nextword };
}

/** Settings renamed: the old name, the new one. */
const RENAMED: readonly [string, string][] = [['exclude', 'training.exclude']];

/**
 * Moves values set under a setting's old name to its new one, in every place they are set (user,
 * workspace, each folder), unless the new name is already set there; returns what was moved, for the log.
 */
export async function migrateSettings(folders: readonly vscode.WorkspaceFolder[]): Promise<string[]> {
  const moved: string[] = [];
  const places: { label: string; target: vscode.ConfigurationTarget; uri?: vscode.Uri; key: 'globalValue' | 'workspaceValue' | 'workspaceFolderValue' }[] = [
    { label: 'user settings', target: vscode.ConfigurationTarget.Global, key: 'globalValue' },
    { label: 'workspace settings', target: vscode.ConfigurationTarget.Workspace, key: 'workspaceValue' },
    ...folders.map((f) => ({ label: `folder ${f.name}`, target: vscode.ConfigurationTarget.WorkspaceFolder, uri: f.uri, key: 'workspaceFolderValue' as const })),
  ];
  for (const [from, to] of RENAMED) {
    for (const place of places) {
      const c = vscode.workspace.getConfiguration('nextword', place.uri);
      const old = c.inspect(from)?.[place.key];
      if (old === undefined) continue;
      if (c.inspect(to)?.[place.key] === undefined) await c.update(to, old, place.target);
      await c.update(from, undefined, place.target);
      moved.push(`nextword.${from} → nextword.${to} (${place.label})`);
    }
  }
  return moved;
}

function num(v: unknown, fallback: number, min: number, max: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : fallback;
}

function int(v: unknown, fallback: number, min: number, max: number): number {
  return Math.round(num(v, fallback, min, max));
}
