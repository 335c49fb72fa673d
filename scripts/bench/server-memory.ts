// The memory of Nextword's processes beside the editor, measured without an editor: a model server started
// as the extension starts it (by the process launcher, over the same channel), the model loaded, then a
// file scored as the status bar scores it, a completion asked for in the middle of a long text (the
// predictor's cold start) and a text typed as the completion provider asks. For the server
// and the launcher: resident set (VmRSS) and proportional set (Pss: pages shared between the two, such as
// Node.js's own code, counted half in each), after loading and after the work; medians over the rounds.
// A fresh launcher and server each round. `bench:editor-memory` measures the same inside a real VS Code.
//
//   node --import tsx scripts/bench/server-memory.ts [--model models/default] [--rounds 3] [--score FILE] [--chars 400] [--json]
// Scored by default: corpora/gutenberg/valid/frankenstein.txt (the first 200,000 characters).

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CompletionEngine, DEFAULT_COMPLETION_SETTINGS } from '../../src/core/completion/completion-engine.js';
import { encodeTexts } from '../../src/core/text-encoding.js';
import { EDITOR_SCORING_THREADS, RemoteServing } from '../../src/runtime/remote-serving.js';
import { typeThrough } from './type-through.js';

const ROOT = path.join(__dirname, '..', '..');

interface Mem {
  rss: number;
  pss: number;
}

/** VmRSS and Pss of `pid`, in MB. */
function memoryOf(pid: number): Mem {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (re: RegExp, s: string) => Number(re.exec(s)?.[1] ?? NaN) / 1024;
  return { rss: kb(/VmRSS:\s+(\d+) kB/, status), pss: kb(/^Pss:\s+(\d+) kB/m, rollup) };
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, rounds: { type: 'string' }, score: { type: 'string' }, chars: { type: 'string' }, json: { type: 'boolean' } } });
  const dir = path.resolve(values.model ?? path.join(ROOT, 'models', 'default'));
  const rounds = Number(values.rounds ?? 3);
  const scored = readFileSync(values.score ?? path.join(ROOT, 'corpora', 'gutenberg', 'valid', 'frankenstein.txt'), 'utf8').slice(0, 200_000);
  const typed = readFileSync(path.join(ROOT, 'corpora', 'gutenberg', 'valid', 'frankenstein.txt'), 'utf8');
  const from = typed.indexOf('\n', Math.floor(typed.length / 2)) + 1;
  const text = typed.slice(from, from + Number(values.chars ?? 400));
  const samples: Record<string, number[]> = {};
  const add = (k: string, v: number) => (samples[k] ??= []).push(v);
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    const session = await RemoteServing.openSaved(dir, { threads: 1, scoringThreads: EDITOR_SCORING_THREADS });
    add('openMs', performance.now() - t0);
    try {
      const server = session.pid!;
      const launcher = parentOf(server);
      const record = (when: string) => {
        const s = memoryOf(server);
        const l = memoryOf(launcher);
        add(`${when}.server.rss`, s.rss);
        add(`${when}.server.pss`, s.pss);
        add(`${when}.launcher.rss`, l.rss);
        add(`${when}.launcher.pss`, l.pss);
        add(`${when}.total.rss`, s.rss + l.rss);
        add(`${when}.total.pss`, s.pss + l.pss);
      };
      await new Promise((r) => setTimeout(r, 500));
      record('loaded');
      // As the status bar scores a file: chunks of 256 tokens from the start.
      const { ids } = await encodeTexts([scored], session.vocab, { mode: session.mode });
      let state = session.scorer.initialState();
      for (let at = 0; at + 1 < ids.length; at += 256) state = (await session.scorer.scoreChunk(ids.subarray(at, at + 257), state)).state;
      // A completion in the middle of a long text (a cold start: the predictor advances its whole context
      // window), then a text typed key by key.
      const engine = new CompletionEngine({ getPredictor: () => session.predictor! });
      const long = typed.slice(0, from);
      await engine.complete({ docKey: 'long', textBefore: long, lineSuffix: '', character: long.length - (long.lastIndexOf('\n') + 1), explicit: false, settings: DEFAULT_COMPLETION_SETTINGS }, new AbortController().signal);
      await typeThrough(session.predictor!, text);
      await new Promise((r) => setTimeout(r, 500));
      record('worked');
    } finally {
      await session.release();
    }
  }
  const out = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.round(median(v) * 10) / 10]));
  if (values.json) {
    console.log(JSON.stringify({ model: dir, rounds, ...out }));
    return;
  }
  console.log(`model ${dir}; ${rounds} rounds (medians, MB); opened in ${out.openMs} ms`);
  for (const when of ['loaded', 'worked']) {
    console.log(
      `${when === 'loaded' ? 'model loaded' : 'file scored, a cold start and text typed'}: server RSS ${out[`${when}.server.rss`]} (PSS ${out[`${when}.server.pss`]}), ` +
        `launcher RSS ${out[`${when}.launcher.rss`]} (PSS ${out[`${when}.launcher.pss`]}); together RSS ${out[`${when}.total.rss`]}, PSS ${out[`${when}.total.pss`]}`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
