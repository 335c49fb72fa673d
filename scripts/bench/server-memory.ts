// The memory of Nextword's process beside the editor, measured without an editor: the model server started
// as the extension starts it (over the same channel), the model loaded, then a file scored as the status bar
// scores it, a completion asked for in the middle of a long text (the predictor's cold start) and a text
// typed as the completion provider asks; then the model opened again beside itself and the first copy
// released, as a newly trained model replaces the one serving. The server's resident set (VmRSS) and
// proportional set (Pss) after loading, after the work and after the swap; medians over the rounds. A fresh
// server each round. `bench:editor-memory` measures the same inside a real VS Code.
//
//   node --import tsx scripts/bench/server-memory.ts [--model models/default] [--rounds 3] [--score FILE] [--chars 400] [--json]
// Scored by default: corpora/gutenberg/valid/frankenstein.txt (the first 200,000 characters).

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CompletionEngine, DEFAULT_COMPLETION_SETTINGS } from '../../src/core/completion/completion-engine.js';
import { encodeTexts } from '../../src/core/text/text-encoding.js';
import { EDITOR_SCORING_THREADS, RemoteServing } from '../../src/runtime/serving/remote-serving.js';
import { ServerProcess } from '../../src/runtime/serving/server-process.js';
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
    const opts = { threads: 1, scoringThreads: EDITOR_SCORING_THREADS };
    let session = await RemoteServing.openSaved(dir, opts);
    add('openMs', performance.now() - t0);
    const server = session.pid!;
    try {
      const record = (when: string) => {
        const m = memoryOf(server);
        add(`${when}.rss`, m.rss);
        add(`${when}.pss`, m.pss);
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
      // A new model opened beside the one serving, which is then released (as after Train on Workspace).
      const next = await RemoteServing.openSaved(dir, opts);
      await session.release();
      session = next;
      await typeThrough(session.predictor!, text);
      await new Promise((r) => setTimeout(r, 500));
      record('swapped');
    } finally {
      await session.release();
      ServerProcess.for().kill(); // the next round's server is a fresh one
      while (ServerProcess.runningPid() === server) await new Promise((r) => setTimeout(r, 10));
    }
  }
  const out = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.round(median(v) * 10) / 10]));
  if (values.json) {
    console.log(JSON.stringify({ model: dir, rounds, ...out }));
    return;
  }
  console.log(`model ${dir}; ${rounds} rounds (medians, MB); opened in ${out.openMs} ms`);
  const label = { loaded: 'model loaded', worked: 'file scored, a cold start and text typed', swapped: 'then opened again and the first copy released' };
  for (const when of ['loaded', 'worked', 'swapped'] as const) console.log(`${label[when]}: server RSS ${out[`${when}.rss`]} (PSS ${out[`${when}.pss`]})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
