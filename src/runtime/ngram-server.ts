// The n-gram server: a child process of the editor that serves the workspace's n-gram model while the
// network trains (core/ngram/ngram-serving.ts: the Kneser-Ney model mixed with the document cache), and a
// saved model's n-gram companion, the status bar's baseline (the Kneser-Ney model alone, checked against
// model.json's length and sha256). It loads the model from its file (the training process's hand-over
// file, io/handover-file.ts, or the model folder's) and answers the calls the completion engine and the
// perplexity tracker make on it (remote-ngram.ts is the editor's end). Completions are predicted here too: the
// server keeps the predictor (its cached contexts) and answers a whole request in one message, so that a
// keystroke costs the editor one round trip and none of the model's distributions.
//
// Why a process: in the extension host the model's arrival (60 MB for a 50 MB workspace) set off garbage
// collections of 100–160 ms, and every prediction and file score ran on the host's thread. Here a call's
// work blocks nobody but the next call. Predictions come first: scoring a file (the status bar's
// perplexity: seconds of work for a long file) runs in slices of a few milliseconds with the thread left
// idle as long between them (about half a core), and waits while predictions are being asked for, so that
// the few calls of one keystroke's prediction never queue behind it. It runs at nice 5 (SERVING_NICE):
// below the editor, above training. The process ends when the editor closes the channel or goes away.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CACHE } from '../core/cache-model.js';
import { answerQuery } from '../core/completion/completion-answer.js';
import { breathe } from '../core/event-loop.js';
import { KneserNey } from '../core/ngram/kneser-ney.js';
import { NgramServing } from '../core/ngram/ngram-serving.js';
import { EDITOR_CONTEXT_CACHE, Predictor } from '../core/predictor.js';
import { Vocabulary } from '../core/vocabulary.js';
import { lowerOwnProcessPriority, SERVING_NICE } from '../io/thread-priority.js';
import { PREDICTION_OPS, type FromNgramServer, type NgramCall, type TextRef, type ToNgramServer } from './ngram-protocol.js';
import { workerPort } from './worker-channel.js';

const port = workerPort<FromNgramServer, ToNgramServer>();
lowerOwnProcessPriority(SERVING_NICE);
let serving: NgramServing | undefined;
/** Over `serving`, made at the first predictor call (a saved model's baseline is only scored with). */
let predictor: Predictor | undefined;
/** The last text a predictor call gave (TextRefs are relative to it). */
let lastText = '';

/** Scoring's slices: the longest a prediction that arrives during one waits. */
const SCORING_SLICE_MS = 4;
/** Scoring pauses until predictions have not been asked for during this long (one keystroke's calls come in a burst). */
const PREDICTION_QUIET_MS = 40;
let lastPredictionAt = -Infinity;

/** Between two slices of scoring: idle as long as a slice, and longer while predictions are asked for. */
async function betweenScoringSlices(): Promise<void> {
  await breathe(SCORING_SLICE_MS);
  for (let quiet = performance.now() - lastPredictionAt; quiet < PREDICTION_QUIET_MS; quiet = performance.now() - lastPredictionAt) {
    await breathe(PREDICTION_QUIET_MS - quiet);
  }
}

function open(m: Extract<ToNgramServer, { type: 'open' }>): void {
  const t0 = performance.now();
  try {
    const vocab = Vocabulary.fromJSON(m.words);
    const bytes = readFileSync(m.file);
    const name = path.basename(m.file);
    if (m.expect && bytes.length !== m.expect.bytes) throw new Error(`${name} holds ${bytes.length} bytes, model.json expects ${m.expect.bytes}`);
    if (m.expect && createHash('sha256').update(bytes).digest('hex') !== m.expect.sha256) throw new Error(`the sha256 of ${name} does not match model.json`);
    const ngram = KneserNey.fromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    serving = new NgramServing(ngram, vocab, m.mode, m.cache ?? DEFAULT_CACHE, { between: betweenScoringSlices, sliceMs: SCORING_SLICE_MS });
    port.postMessage({ type: 'ready', order: ngram.order, initialState: serving.model.initialState(), loadMs: performance.now() - t0 });
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message });
    port.close();
  }
}

function predictorOver(s: NgramServing): Predictor {
  return (predictor ??= new Predictor(s.model, s.vocab, s.mode, { cacheSize: EDITOR_CONTEXT_CACHE }));
}

/** The text `ref` gives; it becomes the one the next TextRef is relative to. */
function resolveText(ref: TextRef): string {
  if (!(Number.isInteger(ref.keep) && ref.keep >= 0 && ref.keep <= lastText.length) || typeof ref.add !== 'string') {
    throw new Error(`a text reference keeps ${ref.keep} characters of a text of ${lastText.length}`);
  }
  lastText = lastText.slice(0, ref.keep) + ref.add;
  return lastText;
}

/** Starts call `c`; a TextRef is resolved at once, in the order the calls arrive. */
function call(s: NgramServing, c: NgramCall): Promise<unknown> {
  switch (c.op) {
    case 'answer':
      return answerQuery(predictorOver(s), { ...c.query, textBefore: resolveText(c.text) });
    case 'contextState':
      return predictorOver(s).contextState(resolveText(c.text));
    case 'topK':
      return predictorOver(s).topK(resolveText(c.text), c.k, c.opts);
    case 'continuePhrase':
      return predictorOver(s).continuePhrase(resolveText(c.text), c.opts);
    case 'run':
      return s.model.run(c.ids, c.state);
    case 'advance':
      return s.model.advance ? s.model.advance(c.ids, c.state) : s.model.run(c.ids, c.state).then((r) => r.state);
    case 'scoreChunk':
      return s.scorer.scoreChunk(c.ids, c.state);
    case 'scoreSequence':
      return s.scorer.scoreSequence(c.ids);
  }
}

port.onMessage((m) => {
  if (m.type === 'open') return open(m);
  if (PREDICTION_OPS.has(m.op)) lastPredictionAt = performance.now();
  const s = serving;
  if (!s) {
    port.postMessage({ type: 'failed', id: m.id, message: 'the n-gram model is not open' });
    return;
  }
  let started: Promise<unknown>;
  try {
    started = call(s, m);
  } catch (e) {
    started = Promise.reject(e);
  }
  started.then(
    (result) => port.postMessage({ type: 'reply', id: m.id, result } as FromNgramServer),
    (e: unknown) => port.postMessage({ type: 'failed', id: m.id, message: e instanceof Error ? e.message : String(e) }),
  );
});
