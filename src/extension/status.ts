// What the status bar item says: one union of everything the extension can be doing, and one pure
// function that turns it into the item's text, Markdown tooltip and accessible label. The text says in
// words which model serves, that it is learning, snoozed or off; the file's perplexity joins it only when
// asked (`nextword.statusBar.perplexity`), while the tooltip explains it and the label always carries it
// (the end-to-end test reads it). status-bar.ts only copies the result onto the VS Code item.

import { keystrokesSaved, type DaySavings } from '../core/completion/savings.js';
import { compactCount, duration, escapeMarkdown, exactPerplexity, percent, shortPerplexity, thousands } from './format.js';

/** The loaded model, as the status bar describes it. */
export interface ModelSummary {
  /** "the workspace model", "the bundled default model", or the folder's name. */
  label: string;
  /** What the item's text calls it: "Workspace model", "Bundled model", "Model: <folder>". */
  name: string;
  /** Validation perplexity recorded at training time, when known. */
  validPpl?: number;
  vocabSize: number;
  params?: number;
  /** What the model is when it is not a network ("Kneser-Ney 4-gram, 1.2M n-grams"); shown instead of params. */
  detail?: string;
  /** The n-gram model of the workspace, serving while its network trains. */
  interim?: boolean;
}

/** What the file's perplexity is compared with in the tooltip. */
export interface Baseline {
  /** `ngram`: the model's Kneser-Ney companion (same training text); `unigram`: word frequencies. */
  kind: 'ngram' | 'unigram';
  /** Undefined while it is being computed. */
  ppl?: number;
  /** What it was estimated from (e.g. "4-gram of the model's training text"). */
  source: string;
}

/** The active file's perplexity under the loaded model (the figures `nextword eval` prints). */
export interface FilePerplexity {
  fileName: string;
  ppl: number;
  /** Tokens scored. */
  tokens: number;
  /** Tokens outside the vocabulary. */
  oov: number;
  /** A baseline's perplexity on the same tokens, when there is one. */
  baseline?: Baseline;
}

export type FileState =
  /** No text editor is active. */
  | { kind: 'none' }
  | { kind: 'computing'; fileName: string; previous?: FilePerplexity }
  | { kind: 'done'; figures: FilePerplexity }
  /** The file has no tokens. */
  | { kind: 'empty'; fileName: string }
  /** Not scored, with the reason (too large, failed…). */
  | { kind: 'skipped'; fileName: string; reason: string };

export type TrainingPhase = 'reading' | 'vocabulary' | 'training' | 'saving';

export interface TrainingProgress {
  phase: TrainingPhase;
  /** 0..1 of the whole run, when known. */
  fraction?: number;
  /** Seconds left, when known. */
  etaS?: number;
  /** Files read so far (reading phase). */
  files?: number;
  epoch?: number;
  validPpl?: number;
  tokensPerS?: number;
}

/** Why completions are currently not offered although a model is loaded. */
export type Quiet = { kind: 'disabled' } | { kind: 'snoozed'; until: number | 'restart' } | { kind: 'language-disabled'; languageId: string };

export type Status =
  | { kind: 'loading' }
  | { kind: 'no-model'; reason: string }
  /** `file`: the active file's perplexity under the model serving meanwhile (the interim n-gram model, say). */
  | { kind: 'training'; progress: TrainingProgress; model?: ModelSummary; file?: FileState }
  | { kind: 'ready'; model: ModelSummary; file: FileState; quiet?: Quiet };

export interface StatusView {
  text: string;
  /** Markdown. */
  tooltip: string;
  /** Plain text for screen readers (and the end-to-end test). */
  ariaLabel: string;
  /** Draw with the warning background (no model to work with). */
  warning: boolean;
}

const CLICK_HINT = 'Click for the Nextword menu.';

/**
 * `perplexity`: the file's perplexity in the text too (`nextword.statusBar.perplexity`). `savings`: what
 * accepted ghost text saved today and in all (core/completion/savings.ts), told in the tooltip.
 */
export function renderStatus(status: Status, nowMs: number, opts: { perplexity?: boolean; savings?: { today?: DaySavings; total: DaySavings } } = {}): StatusView {
  const v = renderParts(status, nowMs);
  const saved = opts.savings && opts.savings.total.accepts > 0 ? `\n\n${savingsLine(opts.savings.today, opts.savings.total)}` : '';
  return { ...v, tooltip: v.tooltip + saved, text: opts.perplexity && v.perplexity ? `${v.text} · ${v.perplexity}` : v.text };
}

/** "Ghost text saved you 120 keystrokes today (3,400 in all, 21,000 characters accepted)." */
export function savingsLine(today: DaySavings | undefined, total: DaySavings): string {
  const keys = (d: DaySavings) => thousands(keystrokesSaved(d));
  const todayPart = today && today.accepts > 0 ? `**${keys(today)}** keystroke${keystrokesSaved(today) === 1 ? '' : 's'} today` : 'none today';
  return `Ghost text saved you ${todayPart} (${keys(total)} in all, ${thousands(total.chars)} characters accepted; counted on this machine only).`;
}

/** A view whose text leaves the perplexity apart, for renderStatus to add when asked. */
type Parts = StatusView & { perplexity?: string };

function renderParts(status: Status, nowMs: number): Parts {
  switch (status.kind) {
    case 'loading':
      return view('$(loading~spin) Nextword', '**Nextword** is loading its model…', 'Nextword: loading the model');
    case 'no-model':
      return warn(
        '$(circle-slash) Nextword',
        `**Nextword** has no model: ${escapeMarkdown(status.reason)}\n\nRun **Nextword: Train on Workspace** or **Load Model from Folder…**. ${CLICK_HINT}`,
        `Nextword: no model. ${status.reason}`,
      );
    case 'training':
      return renderTraining(status.progress, status.model, status.file);
    case 'ready':
      return renderReady(status.model, status.file, status.quiet, nowMs);
  }
}

function view(text: string, tooltip: string, ariaLabel: string): StatusView {
  return { text, tooltip, ariaLabel, warning: false };
}

function warn(text: string, tooltip: string, ariaLabel: string): StatusView {
  return { text, tooltip, ariaLabel, warning: true };
}

function renderTraining(p: TrainingProgress, model: ModelSummary | undefined, file: FileState | undefined): Parts {
  const pct = p.fraction !== undefined ? `${Math.floor(Math.min(1, Math.max(0, p.fraction)) * 100)}%` : '';
  const left = p.etaS !== undefined && Number.isFinite(p.etaS) ? ` · ${duration(p.etaS)} left` : '';
  let text: string;
  let what: string;
  switch (p.phase) {
    case 'reading':
      text = `$(sync~spin) Reading workspace${p.files ? ` · ${thousands(p.files)} files` : ''}`;
      what = `reading the workspace${p.files ? ` (${thousands(p.files)} files so far)` : ''}`;
      break;
    case 'vocabulary':
      text = '$(sync~spin) Learning · preparing';
      what = 'building the vocabulary';
      break;
    case 'training':
      text = `$(sync~spin) Learning ${pct}${left}`.trimEnd();
      what = `training${pct ? `, ${pct} done` : ''}${left ? `, ${duration(p.etaS!)} left` : ''}`;
      break;
    case 'saving':
      text = '$(sync~spin) Learning · saving';
      what = 'saving the model';
      break;
  }
  const rows: string[] = [];
  if (p.epoch !== undefined) rows.push(`| Epoch | ${p.epoch} |`);
  if (p.tokensPerS !== undefined) rows.push(`| Speed | ${thousands(p.tokensPerS)} tokens/s |`);
  if (p.validPpl !== undefined) rows.push(`| Validation perplexity | ${exactPerplexity(p.validPpl)} |`);
  const table = rows.length ? `\n\n| | |\n|---|---:|\n${rows.join('\n')}` : '';
  const figures = file?.kind === 'done' ? file.figures : file?.kind === 'computing' ? file.previous : undefined;
  const meanwhile = model?.interim
    ? `Meanwhile, completions and the file's perplexity come from ${escapeMarkdown(model.label)}` +
      `${model.detail ? ` (${escapeMarkdown(model.detail)}${model.validPpl !== undefined ? `, validation perplexity ${exactPerplexity(model.validPpl)}` : ''})` : ''}, ` +
      'trained in seconds on the same files; the network replaces it when it is ready.'
    : 'Completions keep using the current model until the new one is ready.';
  const fileLine = figures
    ? `\n\nPerplexity of ${escapeMarkdown(figures.fileName)} under ${model ? escapeMarkdown(model.label) : 'the current model'}: **${exactPerplexity(figures.ppl)}** (${thousands(figures.tokens)} tokens).`
    : '';
  return {
    ...view(
      text,
      `**Nextword** is ${what}.${table}\n\n${meanwhile}${fileLine} ${CLICK_HINT}`,
      `Nextword: ${what}${figures ? `. Perplexity ${exactPerplexity(figures.ppl)} for ${figures.fileName}` : ''}`,
    ),
    ...(figures ? { perplexity: `PPL ${shortPerplexity(figures.ppl)}` } : {}),
  };
}

function renderReady(model: ModelSummary, file: FileState, quiet: Quiet | undefined, nowMs: number): Parts {
  const quietNote = quiet ? describeQuiet(quiet, nowMs) : undefined;
  const what = model.detail ? `, ${escapeMarkdown(model.detail)}` : model.params ? `, ${compactCount(model.params)} parameters` : '';
  const modelLine = `Model: ${escapeMarkdown(model.label)} (vocabulary ${thousands(model.vocabSize)}${what}).`;
  const footer = `${quietNote ? `\n\n$(bell-slash) ${escapeMarkdown(quietNote)}` : ''}\n\n${modelLine} ${CLICK_HINT}`;
  const ariaQuiet = quietNote ? ` ${quietNote}` : '';
  const text = readyText(model, quiet);
  const at = (v: StatusView, perplexity: string): Parts => ({ ...v, perplexity });

  switch (file.kind) {
    case 'none':
      return at(view(text, `**Nextword** serves ${escapeMarkdown(model.label)}; the active file's perplexity shows here.${footer}`, `Nextword: ${model.label}, no file to score.${ariaQuiet}`), 'PPL —');
    case 'empty':
      return at(
        view(text, `**Nextword**: ${escapeMarkdown(file.fileName)} has no tokens to score.${footer}`, `Nextword: ${file.fileName} is empty.${ariaQuiet}`),
        'PPL —',
      );
    case 'skipped':
      return at(
        view(
          text,
          `**Nextword** did not score ${escapeMarkdown(file.fileName)}: ${escapeMarkdown(file.reason)}${footer}`,
          `Nextword: ${file.fileName} not scored, ${file.reason}.${ariaQuiet}`,
        ),
        'PPL —',
      );
    case 'computing':
      if (file.previous && file.previous.fileName === file.fileName) {
        const v = renderFigures(file.previous, model, footer, ariaQuiet, text);
        return { ...v, tooltip: v.tooltip.replace('**Nextword**', '**Nextword** (updating)') };
      }
      return at(view(text, `**Nextword** is scoring ${escapeMarkdown(file.fileName)}…${footer}`, `Nextword: scoring ${file.fileName}.${ariaQuiet}`), 'PPL …');
    case 'done':
      return renderFigures(file.figures, model, footer, ariaQuiet, text);
  }
}

/** The item's words: which model serves, or why nothing is suggested. */
function readyText(model: ModelSummary, quiet: Quiet | undefined): string {
  if (!quiet) return `$(pencil) ${model.name}`;
  if (quiet.kind === 'snoozed') return '$(bell-slash) Nextword snoozed';
  if (quiet.kind === 'disabled') return '$(circle-slash) Nextword off';
  return `$(circle-slash) Nextword off for ${quiet.languageId}`;
}

function renderFigures(f: FilePerplexity, model: ModelSummary, footer: string, ariaQuiet: string, text: string): Parts {
  const rows = [
    `| Perplexity | **${exactPerplexity(f.ppl)}** |`,
    `| Tokens scored | ${thousands(f.tokens)} |`,
    `| Out of vocabulary | ${f.tokens ? percent(f.oov / f.tokens) : '—'} |`,
    `| Model's validation perplexity | ${model.validPpl !== undefined ? exactPerplexity(model.validPpl) : 'not recorded'} |`,
    `| ${baselineName(f.baseline)} on this file | ${f.baseline ? (f.baseline.ppl !== undefined ? exactPerplexity(f.baseline.ppl) : 'computing…') : 'not available'} |`,
  ];
  const b = f.baseline;
  const baseline = !b
    ? ''
    : b.kind === 'ngram'
      ? ` The Kneser-Ney baseline counts the n-grams of the same text (${escapeMarkdown(b.source)}): the further the model's number is below it, the more the model gains over counting.`
      : ` The unigram baseline ignores context (${escapeMarkdown(b.source)}): the further the model's number is below it, the more the model uses what came before.`;
  const tooltip =
    `**Nextword** · ${escapeMarkdown(model.label)} · perplexity of ${escapeMarkdown(f.fileName)}\n\n| | |\n|---|---:|\n${rows.join('\n')}\n\n` +
    `Perplexity is how many tokens the model hesitates between, on average, before each token of the file: lower means ` +
    `the file reads the way the model expects. It equals what \`nextword eval\` reports for this file.${baseline}${footer}`;
  const ariaLabel =
    `Nextword perplexity ${exactPerplexity(f.ppl)} for ${f.fileName}: ${thousands(f.tokens)} tokens, ` +
    `${f.tokens ? percent(f.oov / f.tokens) : '—'} out of vocabulary` +
    (b?.ppl !== undefined ? `, ${baselineName(b).toLowerCase()} ${exactPerplexity(b.ppl)}` : '') +
    (model.validPpl !== undefined ? `, model validation perplexity ${exactPerplexity(model.validPpl)}` : '') +
    `.${ariaQuiet}`;
  return { ...view(text, tooltip, ariaLabel), perplexity: `PPL ${shortPerplexity(f.ppl)}` };
}

function baselineName(b: Baseline | undefined): string {
  return b?.kind === 'ngram' ? 'Kneser-Ney baseline' : 'Unigram baseline';
}

function describeQuiet(q: Quiet, nowMs: number): string {
  if (q.kind === 'disabled') return 'Completions are turned off (Nextword: Turn Completions On or Off).';
  if (q.kind === 'language-disabled') return `Completions are off for ${q.languageId}.`;
  if (q.until === 'restart') return 'Completions are snoozed until VS Code restarts.';
  const minutes = Math.max(1, Math.ceil((q.until - nowMs) / 60_000));
  return `Completions are snoozed for ${minutes} more minute${minutes === 1 ? '' : 's'}.`;
}
