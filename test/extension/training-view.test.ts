// The training view's page (training-view-html.ts) and the run records it draws (training-record.ts),
// outside the editor: what the chart plots, what the page says, and that it stays within its content
// security policy (no inline style or handler attributes, nothing loaded, text escaped).
import assert from 'node:assert/strict';
import test from 'node:test';
import type { FileSkipReason } from '../../src/core/corpus/file-filters.js';
import type { SkipTally } from '../../src/core/corpus/scan-ledger.js';
import { esc, headlineText, logTicks, perplexityChart, savingsChart, trainingViewBody, trainingViewPage, type TrainingViewModel } from '../../src/extension/training-view-html.js';
import { endRun, historyFrom, newRun, readFigures, RUNS_KEPT, withRun, type EpochPoint, type TrainingRun } from '../../src/extension/training-record.js';

const epoch = (n: number, validPpl: number, best = false): EpochPoint => ({ epoch: n, validPpl, trainPpl: validPpl * 0.8, sampled: false, tokensPerS: 12_000, seconds: 20, best });

function finishedRun(): TrainingRun {
  const run: TrainingRun = {
    ...newRun(Date.UTC(2026, 11, 7, 9, 0)),
    read: {
      files: 239,
      bytes: 2_800_000,
      skipped: [
        { reason: 'ignored', count: 12, bytes: 0, examples: ['dist/', 'out/'] },
        { reason: 'secret', count: 1, bytes: 120, examples: ['.env'] },
      ],
      limits: { maxFiles: 20_000, maxTotalBytes: 50 * 1024 * 1024, maxFileBytes: 1024 * 1024 },
    },
    plan: { preset: 'small', cell: 'lstm', layers: 1, hidden: 256, vocab: 12_000, params: 6_400_000, trainTokens: 600_000, validTokens: 60_000, maxEpochs: 40, timeBudgetS: 180 },
    ngram: { order: 5, ngrams: 900_000, validPpl: 60, seconds: 3 },
    epochs: [epoch(1, 240, true), epoch(2, 120, true), epoch(3, 80, true), epoch(4, 85)],
    result: { servedPpl: 42, ksr: 0.41, comparedKsr: 0.25, stoppedBy: 'time-budget' },
  };
  return endRun(run, 'done', run.startedAt + 190_000);
}

function model(history: TrainingRun[], extra: Partial<TrainingViewModel> = {}): TrainingViewModel {
  return {
    history,
    savings: { total: { accepts: 0, chars: 0 }, days: [] },
    hasWorkspaceModel: true,
    formatTime: (ms) => new Date(ms).toISOString(),
    ...extra,
  };
}

/** The y coordinate of each element of `cls` in the chart, in document order. */
function ys(svg: string, pattern: RegExp): number[] {
  return [...svg.matchAll(pattern)].map((m) => Number(m[1]));
}

test('the chart draws a point per epoch, higher perplexity higher up, on a log scale, with the companion\'s and the served levels', () => {
  const svg = perplexityChart(finishedRun());
  const points = ys(svg, /<circle class="net-point[^"]*" cx="[\d.]+" cy="([\d.]+)"/g);
  assert.equal(points.length, 4);
  // 240 > 120 > 80 < 85: in SVG, y grows downwards.
  assert.ok(points[0]! < points[1]! && points[1]! < points[2]! && points[3]! < points[2]!, `y: ${points.join(', ')}`);
  // Log scale: 240 → 120 and 120 → 60 (the n-gram's level) are the same distance.
  const ngram = ys(svg, /<line class="level ngram" x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)"/g);
  assert.equal(ngram.length, 1);
  assert.ok(Math.abs(points[1]! - points[0]! - (ngram[0]! - points[1]!)) < 0.2, `halving is one step: ${points[0]}, ${points[1]}, ${ngram[0]}`);
  const served = ys(svg, /<line class="level served" x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)"/g);
  assert.equal(served.length, 1);
  assert.ok(served[0]! > ngram[0]!, 'the served model (42) is drawn below the n-gram (60)');
  // The best epoch (3) is marked; the figures are in the chart's description for screen readers.
  assert.deepEqual([...svg.matchAll(/class="net-point best"[^>]*><title>([^<]*)</g)].map((m) => m[1]), ['epoch 3: 80.00 (the best)']);
  assert.match(svg, /<desc id="chart-desc">The network: epoch 1 240\.00, epoch 2 120\.00, epoch 3 80\.00, epoch 4 85\.00\. n-gram: 60\.00\. served: 42\.00\.<\/desc>/);
});

test('while the network trains, the chart leaves room for the epoch under way and marks where it is', () => {
  const run: TrainingRun = { ...newRun(1), phase: 'training', ngram: { order: 4, ngrams: 10, validPpl: 90, seconds: 1 }, epochs: [epoch(1, 200, true)], live: { fraction: 0.3, epoch: 2, epochFraction: 0.5 } };
  const svg = perplexityChart(run);
  const xs = [...svg.matchAll(/<text class="tick" x="([\d.]+)" y="[\d.]+" text-anchor="middle">(\d+)<\/text>/g)].map((m) => Number(m[2]));
  assert.deepEqual(xs, [0, 1, 2], 'epochs 0 to 2 on the axis');
  const now = /<line class="now" x1="([\d.]+)"/.exec(svg);
  const first = /<circle class="net-point best" cx="([\d.]+)"/.exec(svg);
  assert.ok(now && first && Number(now[1]) > Number(first[1]), 'the "now" line is past epoch 1');
  // Before anything is measured: a sentence, no empty chart.
  assert.match(perplexityChart(newRun(1)), /<p class="empty">The chart starts/);
});

test('many epochs: small dots, so that the line shows, and one best', () => {
  const run: TrainingRun = { ...newRun(1), epochs: Array.from({ length: 60 }, (_, i) => epoch(i + 1, 200 / (1 + i / 10), true)) };
  const svg = perplexityChart(endRun(run, 'done', 2));
  const radii = [...svg.matchAll(/<circle class="net-point( best)?" cx="[\d.]+" cy="[\d.]+" r="([\d.]+)"/g)].map((m) => `${m[1] ? 'best ' : ''}${m[2]}`);
  assert.equal(radii.length, 60);
  assert.deepEqual(radii.filter((r) => r !== '1.5'), ['best 3']);
  assert.match(svg, /<polyline class="net" points="([\d.]+,[\d.]+ ){59}[\d.]+,[\d.]+"\/>/);
});

test('log ticks fall within the range, 2 to 7 of them, at round values', () => {
  for (const [lo, hi] of [[50, 260], [1.1, 1.5], [3, 30_000], [101, 126], [1, 1e12], [80, 85]] as const) {
    const ticks = logTicks(lo, hi);
    assert.ok(ticks.length >= 2 && ticks.length <= 7, `${lo}..${hi}: ${ticks.join(', ')}`);
    for (const t of ticks) assert.ok(t >= lo && t <= hi, `${t} within ${lo}..${hi}`);
    assert.deepEqual([...ticks].sort((a, b) => a - b), ticks);
  }
  assert.deepEqual(logTicks(50, 260), [50, 70, 100, 150, 200]);
});

test('the page says what the run read, left out by reason, and what it gained over the bundled model, which it does not plot', () => {
  const body = trainingViewBody(model([finishedRun()]));
  assert.match(body, /Learned from 239 files in 3 minutes\. Typing files it did not learn from, it would have saved 41 % of the keystrokes \(the bundled model: 25 %\)\./);
  assert.match(body, /239 files \(2\.7 MB\) of text; 13 left out/);
  assert.match(body, /ignored \(\.gitignore, files\.exclude, search\.exclude, nextword\.training\.exclude\)<\/summary><ul><li><code>dist\/<\/code><\/li>/);
  assert.match(body, /secrets \(\.env files, keys, certificates\)/);
  assert.match(body, /The bundled model is not drawn: it has a vocabulary of its own/);
  assert.match(body, /typing with this model would have saved 41 % of the keystrokes, with the bundled model 25 %/);
  assert.match(body, /data-action="train">Train on Workspace Again</);
  assert.doesNotMatch(body, /data-action="cancel"/);
});

test('a run under way shows its progress, a Cancel button, and its figures', () => {
  const run: TrainingRun = {
    ...newRun(Date.now()),
    phase: 'training',
    read: { files: 12, bytes: 40_000, skipped: [], limits: { maxFiles: 1, maxTotalBytes: 1, maxFileBytes: 1 } },
    epochs: [epoch(1, 300, true)],
    live: { fraction: 0.42, etaS: 130, tokensPerS: 9_876, epoch: 2, epochFraction: 0.1 },
  };
  const body = trainingViewBody(model([run, finishedRun()]));
  assert.equal(headlineText(run), 'Learning from 12 files · 42% · about 2 minutes left');
  assert.match(body, /data-running/);
  assert.match(body, /data-action="cancel">Cancel Training</);
  assert.match(body, /<rect class="progress-fill" width="42\.0"/);
  assert.match(body, /9,876 tokens\/s/);
  assert.match(body, /12 files \(39 KB\) of text; nothing left out\./);
  assert.match(body, /both models type the same validation files/);
  // The history lists both runs, the one under way first and selected.
  const rows = body.match(/<tr[^>]*><td><button type="button" class="link" data-action="select"/g) ?? [];
  assert.equal(rows.length, 2);
  assert.match(body, /<tr class="selected" aria-current="true"><td><button type="button" class="link" data-action="select" data-run="[^"]+">[^<]+<\/button><\/td><td>Training</);
});

test('a run picked from the history is drawn, and every outcome reads in words', () => {
  const old = finishedRun();
  const failed = endRun({ ...newRun(old.startedAt + 1e6) }, 'failed', old.startedAt + 1e6 + 5000, 'out of memory');
  const body = trainingViewBody(model([failed, old], { selected: old.id }));
  assert.match(body, /Showing the run of /);
  assert.match(body, /<p class="headline" role="status">Learned from 239 files/);
  assert.match(body, /Failed: out of memory/);
  assert.equal(headlineText(endRun(newRun(0), 'cancelled', 65_000)), 'Cancelled after 1 minute; the model in use before stayed in use.');
  assert.match(headlineText(endRun(newRun(0), 'refused', 1, 'too little text to train on')), /^Not trained: too little text to train on\.$/);
  assert.match(headlineText(endRun(newRun(0), 'interrupted', 1)), /^Interrupted: the window closed/);
  // Nothing trained yet: it says what training does; no chart.
  const empty = trainingViewBody(model([], { hasWorkspaceModel: false, cannotTrain: 'Open a folder to train on its files.' }));
  assert.match(empty, /has not trained on this workspace yet/);
  assert.match(empty, /Open a folder to train on its files\./);
  assert.doesNotMatch(empty, /data-action="train"/);
});

test('what ghost text saved: today, in all, and a bar per day', () => {
  const days = [{ day: '2026-12-05', savings: { accepts: 10, chars: 110 } }, { day: '2026-12-06' }, { day: '2026-12-07', savings: { accepts: 2, chars: 52 } }];
  const body = trainingViewBody(model([], { savings: { today: { accepts: 2, chars: 52 }, total: { accepts: 12, chars: 162 }, days } }));
  assert.match(body, /50 keystrokes today, 150 in all \(162 characters accepted in 12 accepts/);
  const svg = savingsChart(days);
  const heights = [...svg.matchAll(/<rect class="day" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(heights.length, 3);
  assert.ok(heights[0]! > heights[2]! && heights[2]! > 0 && heights[1] === 0, `100, 0 and 50 saved: ${heights.join(', ')}`);
  assert.match(trainingViewBody(model([])), /No ghost text accepted yet/);
});

test('the page keeps to its policy: nonce-only script and style, no inline style or handler attributes, nothing loaded, text escaped', () => {
  const run = finishedRun();
  run.read!.skipped.push({ reason: 'binary', count: 1, bytes: 10, examples: ['<img src=x onerror=alert(1)>.bin'] });
  const hostile = endRun(newRun(run.startedAt + 1), 'failed', run.startedAt + 2, '<script>alert("x")</script>');
  const body = trainingViewBody(model([hostile, run], { selected: run.id }));
  const page = trainingViewPage('NONCE123', body);
  assert.match(page, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-NONCE123'; script-src 'nonce-NONCE123';">/);
  assert.equal((page.match(/<script/g) ?? []).length, 1, 'one script, the page\'s own');
  assert.match(page, /<script nonce="NONCE123">/);
  assert.match(page, /<style nonce="NONCE123">/);
  // Inside tags (escaped text has no "<"):
  assert.doesNotMatch(body, /<[^>]*\sstyle=/, 'a style attribute would break the policy');
  assert.doesNotMatch(body, /<[^>]*\son[a-z]+=/i, 'no event handler attributes');
  assert.doesNotMatch(page, /<[^>]*\s(src|href)=/, 'nothing loaded');
  assert.doesNotMatch(page, /https?:\/\//, 'nothing remote');
  assert.match(body, /&lt;img src=x onerror=alert\(1\)&gt;\.bin/);
  assert.match(body, /Failed: &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
  assert.equal(esc(`a<b>&"'`), 'a&lt;b&gt;&amp;&quot;&#39;');
});

test('runs are kept as plain JSON, newest first, at most RUNS_KEPT; one stored while running comes back interrupted', () => {
  const skipped = new Map<FileSkipReason, SkipTally>([
    ['ignored', { count: 3, bytes: 0, examples: ['a/'] }],
    ['empty', { count: 0, bytes: 0, examples: [] }],
  ]);
  const read = readFigures({ files: { length: 7 }, totalBytes: 900, skipped, limits: { maxFiles: 10, maxTotalBytes: 20, maxFileBytes: 30 } });
  assert.deepEqual(read, { files: 7, bytes: 900, skipped: [{ reason: 'ignored', count: 3, bytes: 0, examples: ['a/'] }], limits: { maxFiles: 10, maxTotalBytes: 20, maxFileBytes: 30 } });
  let history: TrainingRun[] = [];
  for (let i = 0; i < RUNS_KEPT + 5; i++) history = withRun(history, endRun(newRun(1000 + i), 'done', 2000 + i));
  assert.equal(history.length, RUNS_KEPT);
  assert.equal(history[0]!.startedAt, 1000 + RUNS_KEPT + 4, 'newest first');
  const running = { ...newRun(5000), live: { fraction: 0.5 }, epochs: [epoch(1, 100)] };
  // Through JSON, as the workspace state keeps it.
  const stored = JSON.parse(JSON.stringify(withRun(history, running))) as unknown;
  const back = historyFrom(stored);
  assert.equal(back[0]!.outcome, 'interrupted');
  assert.equal(back[0]!.live, undefined);
  assert.equal(back[0]!.epochs.length, 1);
  assert.deepEqual(historyFrom('nonsense'), []);
  assert.deepEqual(historyFrom([{ id: 'x' }, null, 3, { id: 'y', startedAt: 1, epochs: [{ epoch: 'a' }] }]), []);
});
