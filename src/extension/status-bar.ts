// The status bar item: one place gathers the extension's state into a Status (status.ts), one function
// draws it. Everything that changes the picture (model, training, the active file's perplexity, snooze,
// settings) just calls refresh().

import * as path from 'node:path';
import * as vscode from 'vscode';
import { parameterCount } from '../core/model/model-config.js';
import type { DaySavings } from '../core/completion/savings.js';
import { servedValidPpl } from '../core/serving/model-format.js';
import type { ModelManager, LoadedModel } from './model-manager.js';
import type { Snooze } from './snooze.js';
import { compactCount } from './format.js';
import { renderStatus, type FileState, type ModelSummary, type Quiet, type Status, type StatusView } from './status.js';
import type { WorkspaceTrainer } from './workspace-training.js';

export interface StatusBarDeps {
  models: ModelManager;
  trainer: WorkspaceTrainer;
  snooze: Snooze;
  /** Whether `nextword.statusBar.enable` is on. */
  statusBarEnabled: () => boolean;
  /** The active editor's language when completions are switched off for it. */
  disabledLanguage: () => string | undefined;
  /** `nextword.statusBar.perplexity`: the file's perplexity in the item's text. */
  showPerplexity: () => boolean;
  /** Whether completions are turned off in every language. */
  disabledEverywhere: () => boolean;
  /** What accepted ghost text saved, today and in all. */
  savings: () => { today?: DaySavings; total: DaySavings };
}

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private file: FileState = { kind: 'none' };
  private lastView: StatusView | undefined;

  constructor(private readonly deps: StatusBarDeps) {
    this.item = vscode.window.createStatusBarItem('nextword.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Nextword';
    this.item.command = 'nextword.statusMenu';
    this.refresh();
  }

  /** The active file's perplexity state (from the perplexity tracker). */
  setFile(file: FileState): void {
    this.file = file;
    this.refresh();
  }

  /** What the item shows now (for the tests' `nextword._stats`). */
  get view(): StatusView | undefined {
    return this.lastView;
  }

  refresh(): void {
    const status = this.status();
    if (!status) {
      this.lastView = undefined;
      this.item.hide();
      return;
    }
    this.lastView = renderStatus(status, Date.now(), { perplexity: this.deps.showPerplexity(), savings: this.deps.savings() });
    drawStatusBarItem(this.item, this.lastView);
  }

  dispose(): void {
    this.item.dispose();
  }

  /** The one status, or undefined when the item is switched off (it still shows training). */
  private status(): Status | undefined {
    const { models, trainer } = this.deps;
    const state = models.modelState;
    const model = models.current ? summarize(models.current) : undefined;
    if (trainer.progress) return { kind: 'training', progress: trainer.progress, ...(model ? { model } : {}), file: this.file };
    if (!this.deps.statusBarEnabled()) return undefined;
    switch (state.kind) {
      case 'loading':
        return { kind: 'loading' };
      case 'none':
        return { kind: 'no-model', reason: state.reason };
      case 'ready': {
        const quiet = this.quiet();
        return { kind: 'ready', model: summarize(state.model), file: this.file, ...(quiet ? { quiet } : {}) };
      }
    }
  }

  private quiet(): Quiet | undefined {
    if (this.deps.disabledEverywhere()) return { kind: 'disabled' };
    const until = this.deps.snooze.snoozedUntil;
    if (until !== undefined) return { kind: 'snoozed', until };
    const languageId = this.deps.disabledLanguage();
    return languageId ? { kind: 'language-disabled', languageId } : undefined;
  }
}

export function summarize(model: LoadedModel): ModelSummary {
  if (model.origin === 'interim') {
    const f = model.figures;
    return {
      label: model.label,
      name: 'Workspace n-gram model',
      vocabSize: model.session.vocab.size,
      validPpl: f.validPpl,
      detail: `Kneser-Ney ${f.order}-gram, ${compactCount(f.ngrams)} n-grams`,
      interim: true,
    };
  }
  const { meta } = model.session;
  return {
    label: model.label,
    name: model.origin === 'workspace' ? 'Workspace model' : model.origin === 'default' ? 'Bundled model' : `Model: ${path.basename(model.dir)}`,
    vocabSize: meta.config.vocab,
    ...(servedValidPpl(meta) !== undefined ? { validPpl: servedValidPpl(meta) } : {}),
    params: meta.training?.params ?? parameterCount(meta.config),
  };
}

/** Copies a rendered status onto the item. */
export function drawStatusBarItem(item: vscode.StatusBarItem, view: StatusView): void {
  item.text = view.text;
  const tooltip = new vscode.MarkdownString(view.tooltip, true);
  tooltip.isTrusted = false;
  item.tooltip = tooltip;
  item.accessibilityInformation = { label: view.ariaLabel, role: 'button' };
  item.backgroundColor = view.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  item.show();
}
