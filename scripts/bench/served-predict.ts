// Completions from a saved model, as the editor asks for them, where the model is: in this process (a
// ModelSession and a Predictor over it: the editor before the model server, and still where no server can
// be started) or served by a model server process (remote-serving.ts: one message per request). A
// CompletionEngine types a held-out text a character at a time with the default settings; the two ways
// alternate in rounds in one session. `--busy N` runs N busy loops meanwhile, started as the training process
// is (a scheduling group of their own at nice 10).
// `--score` has the server score a long text meanwhile, as the status bar does for a large file (predictions
// come first); `--pause MS` waits that long between keys (a typist: scoring resumes between them). Figures per request that reached the model (type-through-cache hits excluded): the predict
// latency's p50/p90/p99/max (the first 100 of each round left out); how long opening the model took (for the
// server: starting it, loading and warming the model) and each round's first request.
//
//   node --import tsx scripts/bench/served-predict.ts [--model models/default] [--busy 2] [--rounds 4] [--chars 2000] [--score] [--pause 0]
// Typed text: corpora/gutenberg/valid/frankenstein.txt from its middle.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { CompletionPredictor } from '../../src/core/completion/completion-engine.js';
import { EDITOR_CONTEXT_CACHE, Predictor } from '../../src/core/predict/predictor.js';
import type { ServingModel } from '../../src/core/serving/serving-model.js';
import { encodeTexts } from '../../src/core/text/text-encoding.js';
import { ModelSession } from '../../src/runtime/serving/model-session.js';
import { BACKGROUND_NICE } from '../../src/io/thread-priority.js';
import { EDITOR_SCORING_THREADS, RemoteServing } from '../../src/runtime/serving/remote-serving.js';
import { openWorker } from '../../src/runtime/training/worker-channel.js';
import { typeThrough } from './type-through.js';

const ROOT = path.join(__dirname, '..', '..');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, busy: { type: 'string' }, rounds: { type: 'string' }, chars: { type: 'string' }, score: { type: 'boolean' }, pause: { type: 'string' } } });
  const dir = path.resolve(values.model ?? path.join(ROOT, 'models', 'default'));
  const busy = Number(values.busy ?? 0);
  const rounds = Number(values.rounds ?? 4);
  const chars = Number(values.chars ?? 2000);
  const typed = readFileSync(path.join(ROOT, 'corpora', 'gutenberg', 'valid', 'frankenstein.txt'), 'utf8');
  const start = typed.indexOf('\n', Math.floor(typed.length / 2)) + 1;
  const text = typed.slice(start, start + chars);
  console.log(`model: ${dir}; typing ${text.length} characters; ${busy} busy loop(s) at nice 10${values.score ? '; a long text scored meanwhile' : ''}`);

  // Started as the training process is: by the model server, in a session (scheduling group) of its
  // own at nice 10, so that the loops compete with the server as training does.
  const loopScript = path.join(mkdtempSync(path.join(os.tmpdir(), 'nextword-busy-')), 'busy.js');
  writeFileSync(loopScript, 'for (;;) {}');
  const loops = Array.from({ length: busy }, () => openWorker<never, never>(loopScript, 'process', { nice: BACKGROUND_NICE }));
  const opts = { threads: 1, scoringThreads: EDITOR_SCORING_THREADS };
  const results: Record<string, number[]> = { here: [], served: [] };
  const first: Record<string, number[]> = { here: [], served: [] };
  const opened: Record<string, number[]> = { here: [], served: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const way of round % 2 === 0 ? ['here', 'served'] : ['served', 'here']) {
        const t0 = performance.now();
        const session: ServingModel = way === 'here' ? await ModelSession.open(dir, opts) : await RemoteServing.openSaved(dir, opts);
        opened[way]!.push(performance.now() - t0);
        try {
          const predictor: CompletionPredictor = session.predictor ?? new Predictor(session.model, session.vocab, session.mode, { cacheSize: EDITOR_CONTEXT_CACHE });
          let scoring = true;
          const scored = values.score ? scoreMeanwhile(session, typed, () => scoring) : Promise.resolve();
          const r = await typeThrough(predictor, text, Number(values.pause ?? 0));
          scoring = false;
          await scored;
          // The first 100 requests warm up (compilation in both processes).
          results[way]!.push(...r.predict.slice(100));
          first[way]!.push(r.predict[0]!);
        } finally {
          await session.release();
        }
      }
    }
  } finally {
    for (const l of loops) l.terminate();
    rmSync(path.dirname(loopScript), { recursive: true, force: true });
  }
  for (const [way, predict] of Object.entries(results)) {
    const s = predict.sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(2);
    console.log(
      `${way}: ${s.length} requests predicted; predict ms p50 ${q(0.5)}, p90 ${q(0.9)}, p99 ${q(0.99)}, max ${s.at(-1)!.toFixed(2)}; ` +
        `opened in ${opened[way]!.map((ms) => ms.toFixed(0)).join(', ')} ms, its first request ${first[way]!.map((ms) => ms.toFixed(1)).join(', ')} ms`,
    );
  }
}

/** Scores `text` chunk by chunk (256 tokens, as the status bar does), over and over while `go()`, yielding between chunks. */
async function scoreMeanwhile(session: ServingModel, text: string, go: () => boolean): Promise<void> {
  const { ids } = await encodeTexts([text.slice(0, 200_000)], session.vocab, { mode: session.mode });
  let state = session.scorer.initialState();
  for (let at = 0; go(); at += 256) {
    if (at + 257 > ids.length) {
      at = 0;
      state = session.scorer.initialState();
    }
    state = (await session.scorer.scoreChunk(ids.subarray(at, at + 257), state)).state;
    await new Promise((r) => setImmediate(r));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
