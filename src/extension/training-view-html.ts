// The training view's page: pure functions from the runs' records (training-record.ts) and the keystroke
// ledger to HTML and SVG, so that what the user sees is tested outside the editor.
//
// The charts are plain SVG written here, not a charting library: the view draws one line against two
// levels and a row of daily bars; a library (tens to hundreds of KB of script drawing on a canvas) would
// add weight to a package near its size limit, need a script where none is needed to draw, and paint a
// canvas that neither screen readers nor the theme's CSS variables reach. The SVG is built in the extension
// host; the page's one small script swaps it in and passes the buttons' clicks back. The page loads nothing
// (default-src 'none'): its style and script are inline, allowed by a nonce; colours are the theme's.

import type { DaySavings } from '../core/completion/savings.js';
import type { FileSkipReason } from '../core/corpus/file-filters.js';
import { keystrokesSaved } from '../core/completion/savings.js';
import { aboutLeft, compactCount, countOf, duration, exactPerplexity, megabytes, shortPerplexity, thousands, tookWords, wholePercent } from './format.js';
import { learningMessage, learntFrom, preparingMessage, readingMessage, SAVING_MESSAGE } from './training-progress.js';
import type { EpochPoint, ReadFigures, TrainingRun } from './training-record.js';

/** What the page shows. */
export interface TrainingViewModel {
  /** Newest first; a run in progress is the first. */
  history: readonly TrainingRun[];
  /** The run drawn at the top (by id); the newest when absent or unknown. */
  selected?: string;
  savings: { today?: DaySavings; total: DaySavings; /** The last days, oldest first, today last. */ days: readonly { day: string; savings?: DaySavings }[] };
  /** Why Train on Workspace cannot run here (untrusted, no folder), if it cannot. */
  cannotTrain?: string;
  /** Whether the workspace has a model trained on it (the button says "Train Again"). */
  hasWorkspaceModel: boolean;
  /** Local date and time of a run's start (the host's locale). */
  formatTime: (ms: number) => string;
}

/** The actions the page's buttons ask of the extension (data-action). */
export type ViewAction = 'train' | 'cancel' | 'modelInfo' | 'log' | 'select';
export const VIEW_ACTIONS: readonly ViewAction[] = ['train', 'cancel', 'modelInfo', 'log', 'select'];

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text for HTML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => escapes[c]!);
}

const SKIP_WORDS: Record<FileSkipReason, (l: ReadFigures['limits']) => string> = {
  ignored: () => 'ignored (.gitignore, files.exclude, search.exclude, nextword.training.exclude)',
  'excluded-dir': () => 'dependency, build and cache folders',
  'lock-file': () => 'lock files',
  secret: () => 'secrets (.env files, keys, certificates)',
  'binary-extension': () => 'binary by their extension',
  minified: () => 'minified',
  binary: () => 'binary content',
  'not-utf8': () => 'not UTF-8',
  'too-large': (l) => `larger than ${megabytes(l.maxFileBytes)}`,
  empty: () => 'empty',
  symlink: () => 'symbolic links',
  unreadable: () => 'unreadable',
  'file-cap': (l) => `beyond the ${thousands(l.maxFiles)} files taken at most`,
  'byte-cap': (l) => `beyond the ${megabytes(l.maxTotalBytes)} read at most`,
};

/** The whole page, its script and style allowed by `nonce` and nothing else. */
export function trainingViewPage(nonce: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nextword Training</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<main id="root">${body}</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}

/** The page's content for `m` (what the script puts in place on each update). */
export function trainingViewBody(m: TrainingViewModel): string {
  const run = m.history.find((r) => r.id === m.selected) ?? m.history[0];
  const running = m.history.some((r) => r.outcome === 'running');
  const parts = [header(m, run, running)];
  if (!run) {
    parts.push(
      `<p class="lead">Nextword has not trained on this workspace yet. Train on Workspace reads its text files, learns from them for a few minutes on this machine, and draws here how it goes; completions then use the new model.</p>`,
    );
  } else {
    parts.push(headline(run), figures(run), chartSection(run), readSection(run));
  }
  parts.push(savingsSection(m.savings), historySection(m, run));
  return parts.join('\n');
}

function header(m: TrainingViewModel, run: TrainingRun | undefined, running: boolean): string {
  const buttons: string[] = [];
  if (running) buttons.push(button('cancel', 'Cancel Training'));
  else if (!m.cannotTrain) buttons.push(button('train', m.hasWorkspaceModel ? 'Train on Workspace Again' : 'Train on Workspace'));
  buttons.push(button('modelInfo', 'Show Model Info', true), button('log', 'Open Log', true));
  const note = !running && m.cannotTrain ? `<p class="note">${esc(m.cannotTrain)}</p>` : '';
  return `<header><h1>Nextword Training</h1><div class="actions"${running ? ' data-running' : ''}>${buttons.join('')}</div></header>${note}${run && run.id !== m.history[0]?.id ? `<p class="note">Showing the run of ${esc(m.formatTime(run.startedAt))}.</p>` : ''}`;
}

function button(action: ViewAction, label: string, secondary = false, run?: string): string {
  return `<button type="button" class="${secondary ? 'secondary' : 'primary'}" data-action="${action}"${run ? ` data-run="${esc(run)}"` : ''}>${esc(label)}</button>`;
}

/** The run's state in one sentence. */
export function headlineText(run: TrainingRun): string {
  const n = run.read?.files;
  const elapsed = ((run.endedAt ?? run.startedAt) - run.startedAt) / 1000;
  switch (run.outcome) {
    case 'running':
      if (run.phase === 'reading') return readingMessage(run.reading);
      if (run.phase === 'preparing') return preparingMessage(n);
      if (run.phase === 'saving') return SAVING_MESSAGE;
      return learningMessage(n, run.live?.fraction ?? 0, run.live?.etaS);
    case 'done': {
      const ksr = run.result?.ksr;
      const gained =
        ksr !== undefined
          ? ` Typing files it did not learn from, it would have saved ${wholePercent(ksr)} of the keystrokes${run.result?.comparedKsr !== undefined ? ` (the bundled model: ${wholePercent(run.result.comparedKsr)})` : ''}.`
          : '';
      return `Learned from ${learntFrom(n)} in ${tookWords(elapsed)}.${gained}`;
    }
    case 'cancelled':
      return `Cancelled after ${tookWords(elapsed)}; the model in use before stayed in use.`;
    case 'refused':
      return `Not trained: ${run.reason ?? 'refused'}.`;
    case 'failed':
      return `Training failed: ${run.reason ?? 'unknown error'}.`;
    case 'interrupted':
      return 'Interrupted: the window closed while it ran; the model in use before stayed in use.';
  }
}

function headline(run: TrainingRun): string {
  const bar =
    run.outcome === 'running'
      ? `<svg class="progress" viewBox="0 0 100 4" preserveAspectRatio="none" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.floor((run.live?.fraction ?? 0) * 100)}"><rect class="progress-track" width="100" height="4"/><rect class="progress-fill" width="${((run.live?.fraction ?? 0) * 100).toFixed(1)}" height="4"/></svg>`
      : '';
  return `<p class="headline" role="status">${esc(headlineText(run))}</p>${bar}`;
}

function figure(label: string, value: string, detail = ''): string {
  return `<div class="figure"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div>${detail ? `<div class="detail">${esc(detail)}</div>` : ''}</div>`;
}

function figures(run: TrainingRun): string {
  const cells: string[] = [];
  const last = run.epochs.at(-1);
  const best = bestEpoch(run.epochs);
  if (run.plan) {
    const p = run.plan;
    cells.push(figure('Model', `${p.cell.toUpperCase()} ${p.layers}×${p.hidden}`, `${thousands(p.vocab)} words, ${compactCount(p.params)} parameters`));
    cells.push(figure('Text', `${compactCount(p.trainTokens)} tokens`, `${compactCount(p.validTokens)} held for validation`));
  }
  if (run.epochs.length > 0 || run.live?.epoch !== undefined) {
    const epochs = run.outcome === 'running' ? (run.live?.epoch ?? run.epochs.length) : run.epochs.length;
    cells.push(figure('Epoch', String(epochs), run.plan ? `at most ${thousands(run.plan.maxEpochs)}` : ''));
  }
  if (best) cells.push(figure('Validation perplexity', exactPerplexity(best.validPpl), run.ngram ? `n-gram ${exactPerplexity(run.ngram.validPpl)}` : `epoch ${best.epoch}`));
  const speed = run.outcome === 'running' ? (run.live?.tokensPerS ?? last?.tokensPerS) : last?.tokensPerS;
  if (speed !== undefined) cells.push(figure('Speed', `${thousands(speed)} tokens/s`, 'on this machine'));
  if (run.outcome === 'running') {
    if (run.live?.etaS !== undefined) cells.push(figure('Time left', aboutLeft(run.live.etaS), `${Math.floor((run.live.fraction ?? 0) * 100)} % done`));
  } else if (run.endedAt !== undefined) {
    cells.push(figure('Took', duration((run.endedAt - run.startedAt) / 1000), run.result?.stoppedBy ? stoppedWords(run.result.stoppedBy) : ''));
  }
  return cells.length ? `<section class="figures">${cells.join('')}</section>` : '';
}

function stoppedWords(stoppedBy: string): string {
  return stoppedBy === 'time-budget' ? 'its time budget' : stoppedBy === 'no-improvement' ? 'until validation stopped improving' : 'every epoch';
}

function bestEpoch(epochs: readonly EpochPoint[]): EpochPoint | undefined {
  let best: EpochPoint | undefined;
  for (const e of epochs) if (Number.isFinite(e.validPpl) && (!best || e.validPpl < best.validPpl)) best = e;
  return best;
}

function chartSection(run: TrainingRun): string {
  const chart = perplexityChart(run);
  const legend: string[] = [];
  const best = bestEpoch(run.epochs);
  if (best) legend.push(legendItem('net', 'The network', `best ${exactPerplexity(best.validPpl)}, epoch ${best.epoch}`));
  if (run.ngram && Number.isFinite(run.ngram.validPpl)) legend.push(legendItem('ngram', `Its n-gram companion (Kneser-Ney ${run.ngram.order}-gram, counted first)`, exactPerplexity(run.ngram.validPpl)));
  if (run.result?.servedPpl !== undefined) legend.push(legendItem('served', 'What is served: the two mixed with the document cache', exactPerplexity(run.result.servedPpl)));
  const r = run.result;
  const bundled =
    r?.ksr !== undefined && r.comparedKsr !== undefined
      ? `On the same validation files, typing with this model would have saved ${wholePercent(r.ksr)} of the keystrokes, with the bundled model ${wholePercent(r.comparedKsr)}.`
      : r?.ksr !== undefined
        ? `Typing the validation files with this model would have saved ${wholePercent(r.ksr)} of the keystrokes.`
        : run.outcome === 'running'
          ? 'When training ends, both models type the same validation files, and their keystroke savings are shown here.'
          : '';
  return `<section class="chart-section">
<h2>Validation perplexity by epoch</h2>
<p class="caption">How surprised each model is by the workspace's validation files (files it does not learn from), on a log scale: lower is better. The n-gram companion is counted on the same files with the same words, so the lines compare.</p>
${chart}
${legend.length ? `<ul class="legend">${legend.join('')}</ul>` : ''}
<p class="note">The bundled model is not drawn: it has a vocabulary of its own, so its perplexity counts other words (and every unknown word as one), and the figures would not compare. What compares is typing.${bundled ? ` ${esc(bundled)}` : ''}</p>
</section>`;
}

function legendItem(cls: string, label: string, value: string): string {
  return `<li><svg class="swatch" viewBox="0 0 24 8" aria-hidden="true"><line class="${cls}" x1="0" y1="4" x2="24" y2="4"/></svg>${esc(label)}: <strong>${esc(value)}</strong></li>`;
}

const CHART = { w: 640, h: 240, left: 48, right: 96, top: 12, bottom: 32 } as const;

/** Tick values for a log axis over [lo, hi]: 1-2-5 steps, finer when the range is narrow; 2 to 7 of them. */
export function logTicks(lo: number, hi: number): number[] {
  const within = (mantissas: readonly number[]): number[] => {
    const ticks: number[] = [];
    for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
      for (const m of mantissas) {
        const v = Number((m * 10 ** k).toPrecision(3));
        if (v >= lo && v <= hi) ticks.push(v);
      }
    }
    return ticks;
  };
  for (const mantissas of TICK_SERIES) {
    const ticks = within(mantissas);
    if (ticks.length >= 2 && ticks.length <= 7) return ticks;
  }
  const decades = within([1]);
  if (decades.length > 7) {
    const every = Math.ceil(decades.length / 7);
    return decades.filter((_, i) => i % every === 0);
  }
  // A range too narrow for any series: its ends, rounded inwards to three significant figures.
  const inwards = (v: number, round: (x: number) => number) => {
    const unit = 10 ** (Math.floor(Math.log10(v)) - 2);
    return Number((round(v / unit) * unit).toPrecision(3));
  };
  return [inwards(lo, Math.ceil), inwards(hi, Math.floor)];
}

const TICK_SERIES: readonly (readonly number[])[] = [
  [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9],
  [1, 1.5, 2, 3, 5, 7],
  [1, 2, 5],
  [1],
];

/** The validation perplexity chart of a run: the network's line per epoch, the companion's and the served levels. */
export function perplexityChart(run: TrainingRun): string {
  const { w, h, left, right, top, bottom } = CHART;
  const points = run.epochs.filter((e) => Number.isFinite(e.validPpl) && e.validPpl > 0);
  const levels: { cls: string; label: string; value: number }[] = [];
  if (run.ngram && Number.isFinite(run.ngram.validPpl) && run.ngram.validPpl > 0) levels.push({ cls: 'ngram', label: 'n-gram', value: run.ngram.validPpl });
  if (run.result?.servedPpl !== undefined && Number.isFinite(run.result.servedPpl)) levels.push({ cls: 'served', label: 'served', value: run.result.servedPpl });
  const values = [...points.map((p) => p.validPpl), ...levels.map((l) => l.value)];
  if (values.length === 0) {
    return `<p class="empty">${run.outcome === 'running' ? 'The chart starts once the n-gram companion is counted and the first epoch ends.' : 'This run ended before anything was measured.'}</p>`;
  }
  // The log scale's domain, padded; at least a factor of 1.25 high.
  let a = Math.log(Math.min(...values));
  let b = Math.log(Math.max(...values));
  const minSpan = Math.log(1.25);
  if (b - a < minSpan) {
    const mid = (a + b) / 2;
    a = mid - minSpan / 2;
    b = mid + minSpan / 2;
  }
  const pad = (b - a) * 0.08;
  a -= pad;
  b += pad;
  const plotH = h - top - bottom;
  const plotW = w - left - right;
  const y = (v: number) => top + ((b - Math.log(v)) / (b - a)) * plotH;
  const lastEpoch = points.at(-1)?.epoch ?? 0;
  const liveEpoch = run.outcome === 'running' && run.live?.epoch !== undefined ? run.live.epoch : undefined;
  const xMax = Math.max(1, run.outcome === 'running' ? Math.max(lastEpoch + 1, liveEpoch ?? 0) : lastEpoch);
  const x = (epoch: number) => left + (epoch / xMax) * plotW;
  const f = (n: number) => n.toFixed(1);
  const out: string[] = [];
  const desc = [
    points.length ? `The network: ${points.map((p) => `epoch ${p.epoch} ${exactPerplexity(p.validPpl)}`).join(', ')}.` : 'No epoch has ended yet.',
    ...levels.map((l) => `${l.label}: ${exactPerplexity(l.value)}.`),
  ].join(' ');
  out.push(
    `<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-labelledby="chart-title chart-desc"><title id="chart-title">Validation perplexity by epoch</title><desc id="chart-desc">${esc(desc)}</desc>`,
  );
  // Axes and grid.
  for (const t of logTicks(Math.exp(a), Math.exp(b))) {
    out.push(`<line class="grid" x1="${left}" x2="${w - right}" y1="${f(y(t))}" y2="${f(y(t))}"/><text class="tick" x="${left - 6}" y="${f(y(t) + 4)}" text-anchor="end">${esc(shortPerplexity(t))}</text>`);
  }
  const step = Math.max(1, Math.ceil(xMax / 10));
  for (let e = 0; e <= xMax; e += step) out.push(`<text class="tick" x="${f(x(e))}" y="${h - bottom + 16}" text-anchor="middle">${e}</text>`);
  out.push(`<line class="axis" x1="${left}" x2="${w - right}" y1="${top + plotH}" y2="${top + plotH}"/><text class="tick" x="${f(left + plotW / 2)}" y="${h - 4}" text-anchor="middle">epoch</text>`);
  if (liveEpoch !== undefined && run.phase === 'training') {
    const at = Math.min(xMax, liveEpoch - 1 + (run.live?.epochFraction ?? 0));
    out.push(`<line class="now" x1="${f(x(at))}" x2="${f(x(at))}" y1="${top}" y2="${top + plotH}"><title>now: epoch ${liveEpoch}</title></line>`);
  }
  // The levels, then the network's line on top; labels at the right, pushed apart where they would overlap.
  const labels: { cls: string; text: string; y: number }[] = [];
  for (const l of levels) {
    out.push(`<line class="level ${l.cls}" x1="${left}" x2="${w - right}" y1="${f(y(l.value))}" y2="${f(y(l.value))}"><title>${esc(`${l.label}: ${exactPerplexity(l.value)}`)}</title></line>`);
    labels.push({ cls: l.cls, text: `${l.label} ${shortPerplexity(l.value)}`, y: y(l.value) });
  }
  if (points.length > 1) out.push(`<polyline class="net" points="${points.map((p) => `${f(x(p.epoch))},${f(y(p.validPpl))}`).join(' ')}"/>`);
  // A dot per epoch (small when there are many, so that the line shows), the best epoch's marked.
  const best = bestEpoch(points);
  const r = points.length > 30 ? 1.5 : 3.5;
  for (const p of points) {
    const isBest = p === best;
    out.push(`<circle class="net-point${isBest ? ' best' : ''}" cx="${f(x(p.epoch))}" cy="${f(y(p.validPpl))}" r="${isBest ? r + 1.5 : r}"><title>${esc(`epoch ${p.epoch}: ${exactPerplexity(p.validPpl)}${isBest ? ' (the best)' : ''}`)}</title></circle>`);
  }
  const lastPoint = points.at(-1);
  if (lastPoint) labels.push({ cls: 'net', text: `network ${shortPerplexity(lastPoint.validPpl)}`, y: y(lastPoint.validPpl) });
  labels.sort((p, q) => p.y - q.y);
  for (let i = 1; i < labels.length; i++) labels[i]!.y = Math.max(labels[i]!.y, labels[i - 1]!.y + 13);
  for (const l of labels) out.push(`<text class="label ${l.cls}" x="${w - right + 6}" y="${f(l.y + 4)}">${esc(l.text)}</text>`);
  out.push('</svg>');
  return out.join('');
}

function readSection(run: TrainingRun): string {
  const r = run.read;
  if (!r) return '';
  const skipped = r.skipped.reduce((n, s) => n + s.count, 0);
  const rows = r.skipped
    .map((s) => {
      const examples = s.examples.length ? `<details><summary>${esc(SKIP_WORDS[s.reason]?.(r.limits) ?? s.reason)}</summary><ul>${s.examples.map((e) => `<li><code>${esc(e)}</code></li>`).join('')}</ul></details>` : esc(SKIP_WORDS[s.reason]?.(r.limits) ?? s.reason);
      return `<tr><td>${examples}</td><td class="num">${thousands(s.count)}</td><td class="num">${s.bytes > 0 ? megabytes(s.bytes) : ''}</td></tr>`;
    })
    .join('');
  return `<section class="read">
<h2>What it read</h2>
<p>${esc(`${countOf(r.files, 'file')} (${megabytes(r.bytes)}) of text; ${skipped === 0 ? 'nothing left out.' : `${thousands(skipped)} left out (a left-out folder counts once):`}`)}</p>
${rows ? `<table><thead><tr><th>Left out</th><th class="num">Files</th><th class="num">Size</th></tr></thead><tbody>${rows}</tbody></table>` : ''}
</section>`;
}

function savingsSection(s: TrainingViewModel['savings']): string {
  const today = s.today ? keystrokesSaved(s.today) : 0;
  const total = keystrokesSaved(s.total);
  const text =
    s.total.accepts === 0
      ? 'No ghost text accepted yet. Each word or phrase you take with Tab or Ctrl+Right is counted here, on this machine only.'
      : `${thousands(today)} keystrokes today, ${thousands(total)} in all (${thousands(s.total.chars)} characters accepted in ${thousands(s.total.accepts)} accepts; each accept's own key is not counted as saved). Counted on this machine only; never sent anywhere.`;
  return `<section class="savings"><h2>What ghost text saved you</h2><p>${esc(text)}</p>${s.total.accepts > 0 ? savingsChart(s.days) : ''}</section>`;
}

/** Keystrokes saved per day, one bar a day. */
export function savingsChart(days: TrainingViewModel['savings']['days']): string {
  const w = 640;
  const h = 72;
  const base = h - 14;
  const saved = days.map((d) => (d.savings ? keystrokesSaved(d.savings) : 0));
  const max = Math.max(1, ...saved);
  const slot = w / Math.max(1, days.length);
  const bars = days
    .map((d, i) => {
      const height = (saved[i]! / max) * (base - 4);
      return `<rect class="day" x="${(i * slot + 1).toFixed(1)}" y="${(base - height).toFixed(1)}" width="${Math.max(1, slot - 2).toFixed(1)}" height="${height.toFixed(1)}"><title>${esc(`${d.day}: ${thousands(saved[i]!)} keystrokes saved`)}</title></rect>`;
    })
    .join('');
  const first = days[0]?.day ?? '';
  return `<svg class="days" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(`Keystrokes saved per day over the last ${days.length} days; most in a day: ${thousands(max)}`)}">${bars}<line class="axis" x1="0" x2="${w}" y1="${base}" y2="${base}"/><text class="tick" x="0" y="${h - 2}">${esc(first)}</text><text class="tick" x="${w}" y="${h - 2}" text-anchor="end">today</text></svg>`;
}

const OUTCOME_WORDS: Record<TrainingRun['outcome'], string> = {
  running: 'Training',
  done: 'Learned',
  cancelled: 'Cancelled',
  refused: 'Not trained',
  failed: 'Failed',
  interrupted: 'Interrupted',
};

function historySection(m: TrainingViewModel, shown: TrainingRun | undefined): string {
  if (m.history.length === 0) return '';
  const cell = (v: number | undefined, fmt: (n: number) => string) => (v === undefined || !Number.isFinite(v) ? '' : fmt(v));
  const rows = m.history
    .map((r) => {
      const best = bestEpoch(r.epochs);
      const seconds = r.endedAt !== undefined ? (r.endedAt - r.startedAt) / 1000 : undefined;
      const outcome = r.outcome === 'refused' || r.outcome === 'failed' ? `${OUTCOME_WORDS[r.outcome]}: ${r.reason ?? ''}` : OUTCOME_WORDS[r.outcome];
      return `<tr${r.id === shown?.id ? ' class="selected" aria-current="true"' : ''}><td>${button('select', m.formatTime(r.startedAt), true, r.id).replace('class="secondary"', 'class="link"')}</td><td>${esc(outcome)}</td><td class="num">${cell(r.read?.files, thousands)}</td><td class="num">${cell(seconds, duration)}</td><td class="num">${r.epochs.length || ''}</td><td class="num">${cell(best?.validPpl, exactPerplexity)}</td><td class="num">${cell(r.ngram?.validPpl, exactPerplexity)}</td><td class="num">${cell(r.result?.servedPpl, exactPerplexity)}</td><td class="num">${cell(r.result?.ksr, wholePercent)}</td><td class="num">${cell(r.result?.comparedKsr, wholePercent)}</td></tr>`;
    })
    .join('');
  return `<section class="history">
<h2>Runs on this workspace</h2>
<table><thead><tr><th>Started</th><th>Result</th><th class="num">Files</th><th class="num">Took</th><th class="num">Epochs</th><th class="num" title="the network's best validation perplexity">Network</th><th class="num" title="the n-gram companion's validation perplexity">N-gram</th><th class="num" title="what is served: the mixture with the document cache">Served</th><th class="num" title="keystrokes saved typing the validation files">Saved</th><th class="num" title="the bundled model's keystroke savings on the same files">Bundled</th></tr></thead><tbody>${rows}</tbody></table>
</section>`;
}

const STYLE = `
body { color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0 20px 24px; max-width: 760px; }
header { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 8px; }
h1 { font-size: 1.5em; font-weight: 600; margin: 16px 0 8px; }
h2 { font-size: 1.1em; font-weight: 600; margin: 24px 0 6px; }
.actions { display: flex; gap: 6px; flex-wrap: wrap; }
button { font: inherit; border: 1px solid var(--vscode-button-border, transparent); border-radius: 2px; padding: 4px 12px; cursor: pointer; }
button.primary { color: var(--vscode-button-foreground); background: var(--vscode-button-background); }
button.primary:hover { background: var(--vscode-button-hoverBackground); }
button.secondary { color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); }
button.secondary:hover { background: var(--vscode-button-secondaryHoverBackground); }
button.link { color: var(--vscode-textLink-foreground); background: none; border: none; padding: 0; text-align: left; }
button.link:hover { text-decoration: underline; }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px; }
.headline { font-size: 1.1em; margin: 8px 0; }
.lead, .caption, .note, .empty, .detail, .tick, .label.detail { color: var(--vscode-descriptionForeground); }
.caption, .note { font-size: 0.92em; }
svg.progress { width: 100%; height: 4px; display: block; }
.progress-track { fill: var(--vscode-editorWidget-border, var(--vscode-panel-border)); }
.progress-fill { fill: var(--vscode-progressBar-background); }
.figures { display: flex; flex-wrap: wrap; gap: 10px 28px; margin: 14px 0 4px; }
.figure .label { color: var(--vscode-descriptionForeground); font-size: 0.85em; }
.figure .value { font-size: 1.35em; font-variant-numeric: tabular-nums; }
.figure .detail { font-size: 0.85em; }
svg.chart, svg.days { width: 100%; height: auto; display: block; overflow: visible; }
svg text { fill: var(--vscode-descriptionForeground); font-size: 11px; font-family: var(--vscode-font-family); }
.grid { stroke: var(--vscode-editorWidget-border, var(--vscode-panel-border)); stroke-opacity: 0.6; }
.axis { stroke: var(--vscode-descriptionForeground); stroke-opacity: 0.6; }
.now { stroke: var(--vscode-descriptionForeground); stroke-dasharray: 2 3; }
.net { stroke: var(--vscode-charts-blue); stroke-width: 2; fill: none; }
.net-point { fill: var(--vscode-charts-blue); }
.net-point.best { stroke: var(--vscode-editor-background); stroke-width: 1.5; }
.ngram { stroke: var(--vscode-charts-yellow); stroke-width: 2; stroke-dasharray: 6 4; }
.served { stroke: var(--vscode-charts-green); stroke-width: 2; stroke-dasharray: 2 3; }
svg text.label.net { fill: var(--vscode-charts-blue); }
svg text.label.ngram { fill: var(--vscode-charts-yellow); }
svg text.label.served { fill: var(--vscode-charts-green); }
svg text.label { stroke: none; }
.day { fill: var(--vscode-charts-purple); }
.swatch { width: 24px; height: 8px; margin-right: 6px; vertical-align: middle; }
.legend { list-style: none; padding: 0; margin: 6px 0; }
.legend li { margin: 2px 0; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th { text-align: left; font-weight: 600; color: var(--vscode-descriptionForeground); }
th, td { padding: 3px 8px 3px 0; border-bottom: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border)); vertical-align: top; }
.num { text-align: right; }
tr.selected td { background: var(--vscode-list-inactiveSelectionBackground); }
details summary { cursor: pointer; }
details ul { margin: 4px 0; padding-left: 18px; }
code { font-family: var(--vscode-editor-font-family); }
`;

// Swaps in the content the extension posts, passes the buttons' clicks back, and tells the extension what
// it drew (the tests read it), including any content security policy violation.
const SCRIPT = `
(function () {
  const vscode = acquireVsCodeApi();
  const root = document.getElementById('root');
  let violations = 0;
  document.addEventListener('securitypolicyviolation', function () { violations++; });
  function rendered(version) {
    const text = function (sel) { const e = root.querySelector(sel); return e ? e.textContent : null; };
    vscode.postMessage({
      type: 'rendered', version: version, violations: violations,
      points: root.querySelectorAll('svg.chart .net-point').length,
      levels: Array.prototype.map.call(root.querySelectorAll('svg.chart line.level'), function (l) { return l.classList[1]; }),
      running: !!root.querySelector('[data-running]'),
      headline: text('.headline'),
      historyRows: root.querySelectorAll('.history tbody tr').length,
      skippedRows: root.querySelectorAll('.read tbody tr').length,
      savings: text('.savings p')
    });
  }
  window.addEventListener('message', function (event) {
    const m = event.data;
    if (!m || m.type !== 'render' || typeof m.html !== 'string') return;
    root.innerHTML = m.html;
    // The next frame: any violation of what was just put in place has been reported by then.
    requestAnimationFrame(function () { setTimeout(function () { rendered(m.version); }, 0); });
  });
  root.addEventListener('click', function (event) {
    const b = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
    if (b) vscode.postMessage({ type: 'action', action: b.getAttribute('data-action'), run: b.getAttribute('data-run') });
  });
  vscode.postMessage({ type: 'ready' });
  requestAnimationFrame(function () { setTimeout(function () { rendered(0); }, 0); });
})();
`;
