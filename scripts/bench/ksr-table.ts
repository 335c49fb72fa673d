// The Markdown table of docs/quality.md from the runs of scripts/bench/ksr-projects.sh: for each project,
// what the extension serves after training (the mixture) beside the network with the cache, the companion
// with the cache (served while training), the Kneser-Ney 4-gram baseline and word frequency, on the held-out files;
// then the goals of issue 20 as ratios, the bundled default model's perplexity on the same files, and the
// completion threshold chosen for the model on its validation files (the held-out files are typed with it).
//
// Usage: node --import tsx scripts/bench/ksr-table.ts OUT project…

import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { TARGET_ACCEPT_RATE } from '../../src/core/completion/threshold-calibration.js';

interface Figures {
  ppl: number;
  top1?: number;
  ksr: number;
  accept_rate: number;
  tokens: number;
  oov: number;
  chars: number;
  latency_p99_ms: number;
}

interface Trial {
  minConfidence: number;
  ksr: number;
  acceptRate: number;
}

/**
 * The threshold the model gets (threshold-calibration.ts), from the trials train recorded (it walks up from
 * the default; a run of an earlier policy walked further, and its first trial that holds now is the one),
 * with its figures on the validation files; the default when the run chose none.
 */
function threshold(fin: Record<string, unknown>): string {
  const c = fin.completion as { min_confidence: number; trials: (Trial & { acceptLower: number })[] } | undefined;
  if (!c) return 'none: 0.4';
  const start = c.trials[0]!;
  const t = start.minConfidence === 0.4 ? (c.trials.find((x) => x.acceptLower >= TARGET_ACCEPT_RATE) ?? c.trials.at(-1)!) : c.trials.find((x) => x.minConfidence === c.min_confidence)!;
  return `${t.minConfidence} (${pct(t.acceptRate)}, ${pct(t.ksr)})`;
}

const [out, ...projects] = process.argv.slice(2);
if (!out || projects.length === 0) throw new Error('usage: ksr-table.ts OUT project…');
const pct = (x: number | undefined) => (x === undefined ? '–' : `${(x * 100).toFixed(1)} %`);
const rows = ['| project (held-out files, characters typed; training) | served | perplexity | top-1 | keystroke savings | accepted | p99 ms |', '|---|---|---|---|---|---|---|'];
const goals = ['| project | KSR model / companion (≥ 1.05) | KSR model / word frequency (≥ 1.8) | ppl model / KN 4-gram (≤ 0.85) | ppl: model, bundled default model (oov: model, bundled) | accept rate (≥ 50 %) | threshold chosen (validation: accepted, KSR) |', '|---|---|---|---|---|---|---|'];
for (const p of projects) {
  const dir = path.join(out, p);
  const e = JSON.parse(readFileSync(path.join(dir, 'eval.json'), 'utf8')) as Record<string, Figures>;
  const train = readFileSync(path.join(dir, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const fin = train.at(-1)!;
  const start = train[0]!;
  const heldOut = fin.heldout as { files: number };
  const label = `${p} (${heldOut.files}, ${e.model!.chars.toLocaleString('en')}; ${Number(start.trainTokens).toLocaleString('en')} tokens, ${fin.epochs} epochs in ${Math.round(Number(fin.seconds))} s, stopped by ${fin.stopped_by})`;
  const order = train.find((l) => l.event === 'ngram')?.order ?? 4;
  const names: [string, string][] = [['model', 'the mixture (served after training)'], ['network', 'the network + cache'], ['companion', `the companion, KN ${order}-gram + cache (served while training)`], ['ngram', 'KN 4-gram'], ['wordfreq', 'word frequency']];
  names.forEach(([k, what], i) => {
    const f = e[k]!;
    rows.push(`| ${i === 0 ? label : ''} | ${what} | ${f.ppl.toFixed(1)} | ${pct(f.top1)} | ${pct(f.ksr)} | ${pct(f.accept_rate)} | ${f.latency_p99_ms.toFixed(2)} |`);
  });
  const defaultFile = path.join(dir, 'eval-default.json');
  const d = existsSync(defaultFile) ? (JSON.parse(readFileSync(defaultFile, 'utf8')) as Figures) : undefined;
  const m = e.model!;
  goals.push(
    `| ${p} | ${(m.ksr / e.companion!.ksr).toFixed(2)} | ${(m.ksr / e.wordfreq!.ksr).toFixed(2)} | ${(m.ppl / e.ngram!.ppl).toFixed(2)} | ` +
      `${m.ppl.toFixed(1)}, ${d ? d.ppl.toFixed(1) : '–'} (${pct(m.oov / m.tokens)}, ${d ? pct(d.oov / d.tokens) : '–'}) | ${pct(m.accept_rate)} | ${threshold(fin)} |`,
  );
}
console.log(rows.join('\n') + '\n\n' + goals.join('\n'));
