// The model server: a child process of the editor that serves it a model (remote-serving.ts is the editor's
// end). Either a saved model: the LSTM mixed with the document cache, as runtime/model-session.ts opens it
// (onnxruntime's sessions and its setup live here), with its n-gram companion as the status bar's baseline;
// or an n-gram model alone (core/ngram/ngram-serving.ts): the workspace's while its network trains, loaded
// from the training process's hand-over file (io/handover-file.ts). It answers the calls the completion engine
// and the perplexity tracker make. Completions are predicted here too: the server keeps the predictor (its
// cached contexts) and answers a whole request in one message, so that a keystroke costs the editor one
// round trip and none of the model's distributions.
//
// Why a process: in the extension host, onnxruntime's setup and the first session's creation held the
// thread 150–210 ms at startup; creating a newly trained model's sessions, and the n-gram model's arrival
// (60 MB for a 50 MB workspace), set off long page-fault bursts and collections; and every prediction and
// file score ran on the host's thread. Here a call's work blocks nobody but the next call, and while a new
// model loads in its own server the previous one goes on answering.
//
// Predictions come first: scoring a file (the status bar's perplexity: seconds of work for a long file)
// runs in slices of a few milliseconds, and waits while predictions are being asked for, so that the few
// calls of one keystroke's prediction never queue behind it. An n-gram model's slices also leave the
// thread idle as long between them (about half a core: it serves while the network trains on the other).
// It runs at nice 5 (SERVING_NICE): below the editor, above training. The process ends when the editor
// closes the channel or goes away.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CACHE } from '../core/cache-model.js';
import { answerQuery } from '../core/completion/completion-answer.js';
import { startTokenId, type ChunkScorer, type SequenceScorer } from '../core/evaluation.js';
import { breathe, yieldToEventLoop } from '../core/event-loop.js';
import { KneserNey } from '../core/ngram/kneser-ney.js';
import { NgramServing } from '../core/ngram/ngram-serving.js';
import { EDITOR_CONTEXT_CACHE, Predictor } from '../core/predictor.js';
import type { ServingModel } from '../core/serving-model.js';
import { slicedScorer } from '../core/sliced-scorer.js';
import { Vocabulary } from '../core/vocabulary.js';
import { lowerOwnProcessPriority, SERVING_NICE } from '../io/thread-priority.js';
import { PREDICTION_OPS, resolveTextRef, type FromServer, type SavedModelInfo, type ServedModel, type ServingCall, type TextRef, type ToServer } from './serving-protocol.js';
import { workerPort } from './worker-channel.js';

const port = workerPort<FromServer, ToServer>();
lowerOwnProcessPriority(SERVING_NICE);

interface Served {
  serving: ServingModel;
  /** The saved model's companion (scored alone), sliced as `serving`'s scorer is. */
  baseline?: ChunkScorer & SequenceScorer;
}
let served: Served | undefined;
/** Over `served.serving`, made at the first predictor call (a baseline is only scored with). */
let predictor: Predictor | undefined;
/** The last text a predictor call gave (TextRefs are relative to it). */
let lastText = '';

/** An n-gram model's scoring slices: the longest a prediction that arrives during one waits. */
const NGRAM_SLICE_MS = 4;
/**
 * Targets per slice of the network's scoring: its scoring graph's own run (onnx-scorer.ts), a few
 * milliseconds of the default model.
 */
const NETWORK_SLICE = 64;
/** The baseline's targets per slice: a Kneser-Ney distribution is ~0.1 ms a token at V = 10,000. */
const BASELINE_SLICE = 32;
/** Scoring pauses until predictions have not been asked for during this long (one keystroke's calls come in a burst). */
const PREDICTION_QUIET_MS = 40;
let lastPredictionAt = -Infinity;

/** Until predictions have been quiet for PREDICTION_QUIET_MS (at least a turn of the event loop, for the messages waiting). */
async function predictionsQuiet(): Promise<void> {
  await yieldToEventLoop();
  for (let quiet = performance.now() - lastPredictionAt; quiet < PREDICTION_QUIET_MS; quiet = performance.now() - lastPredictionAt) {
    await breathe(PREDICTION_QUIET_MS - quiet);
  }
}

/** Between two slices of an n-gram model's scoring: idle as long as a slice, then as predictionsQuiet. */
async function betweenNgramSlices(): Promise<void> {
  await breathe(NGRAM_SLICE_MS);
  await predictionsQuiet();
}

function openNgram(m: Extract<ServedModel, { kind: 'ngram' }>): Served & { order: number } {
  const vocab = Vocabulary.fromJSON(m.words);
  const bytes = readFileSync(m.file);
  const name = path.basename(m.file);
  if (m.expect && bytes.length !== m.expect.bytes) throw new Error(`${name} holds ${bytes.length} bytes, model.json expects ${m.expect.bytes}`);
  if (m.expect && createHash('sha256').update(bytes).digest('hex') !== m.expect.sha256) throw new Error(`the sha256 of ${name} does not match model.json`);
  const ngram = KneserNey.fromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const serving = new NgramServing(ngram, vocab, m.mode, m.cache ?? DEFAULT_CACHE, { between: betweenNgramSlices, sliceMs: NGRAM_SLICE_MS });
  // With the cache, NgramServing scores in slices itself; the model alone scores a chunk in one piece.
  const scorer = m.cache === false ? slicedScorer(serving.scorer, BASELINE_SLICE, betweenNgramSlices) : serving.scorer;
  return { order: ngram.order, serving: { model: serving.model, scorer, vocab, mode: m.mode, release: () => serving.release() } };
}

async function openSaved(m: Extract<ServedModel, { kind: 'saved' }>): Promise<Served & { info: SavedModelInfo }> {
  // Imported here: a server of an n-gram model never loads onnxruntime.
  const { ModelSession } = await import('./model-session.js');
  const session = await ModelSession.open(m.dir, { threads: m.threads, scoringThreads: m.scoringThreads, companion: 'in-process', ...(m.decoder ? { decoder: m.decoder } : {}) });
  const info: SavedModelInfo = {
    dir: session.dir,
    meta: session.meta,
    decoder: session.decoder,
    ...(session.baseline ? { baseline: { order: session.baseline.order, initialState: session.baseline.scorer.initialState() } } : {}),
    ...(session.ngramProblem !== undefined ? { ngramProblem: session.ngramProblem } : {}),
  };
  return {
    info,
    serving: { model: session.model, scorer: slicedScorer(session.scorer, NETWORK_SLICE, predictionsQuiet), vocab: session.vocab, mode: session.mode, release: () => session.release() },
    ...(session.baseline ? { baseline: slicedScorer(session.baseline.scorer, BASELINE_SLICE, predictionsQuiet) } : {}),
  };
}

/**
 * Runs what the first calls would run for the first time, before the model is announced: the scoring
 * session is created (on first use otherwise) and every session runs once, and the predictor's code is
 * compiled. The first completion request (3–4 alternatives) took 450 ms in a fresh server without it.
 */
async function warmUp(s: Served): Promise<void> {
  const { serving } = s;
  const start = startTokenId(serving.vocab, serving.mode);
  const pair = Int32Array.of(start, start);
  await serving.scorer.scoreChunk(pair, serving.scorer.initialState());
  if (s.baseline) await s.baseline.scoreChunk(pair, s.baseline.initialState());
  const text = 'The ';
  await answerQuery(predictorOver(serving), { textBefore: text, character: text.length, explicit: true, maxWords: 3, minConfidence: 0 });
}

async function open(serve: ServedModel): Promise<void> {
  const t0 = performance.now();
  try {
    if (serve.kind === 'ngram') {
      const { order, ...rest } = openNgram(serve);
      await warmUp(rest);
      served = rest;
      port.postMessage({ type: 'ready', initialState: rest.serving.model.initialState(), loadMs: performance.now() - t0, ngram: { order } });
    } else {
      const { info, ...rest } = await openSaved(serve);
      await warmUp(rest);
      served = rest;
      port.postMessage({ type: 'ready', initialState: rest.serving.model.initialState(), loadMs: performance.now() - t0, saved: info });
    }
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as Error & { code?: unknown }).code;
    port.postMessage({ type: 'error', message: err.message, name: err.name, ...(typeof code === 'string' ? { code } : {}) });
    port.close();
  }
}

function predictorOver(s: ServingModel): Predictor {
  return (predictor ??= new Predictor(s.model, s.vocab, s.mode, { cacheSize: EDITOR_CONTEXT_CACHE }));
}

/** The text `ref` gives; it becomes the one the next TextRef is relative to. */
function resolveText(ref: TextRef): string {
  lastText = resolveTextRef(lastText, ref);
  return lastText;
}

function scorerFor(s: Served, baseline: true | undefined): ChunkScorer & SequenceScorer {
  if (!baseline) return s.serving.scorer;
  if (!s.baseline) throw new Error('this model has no n-gram baseline');
  return s.baseline;
}

/** Starts call `c`; a TextRef is resolved at once, in the order the calls arrive. */
function call(s: Served, c: ServingCall): Promise<unknown> {
  const { serving } = s;
  switch (c.op) {
    case 'answer':
      return answerQuery(predictorOver(serving), { ...c.query, textBefore: resolveText(c.text) });
    case 'contextState':
      return predictorOver(serving).contextState(resolveText(c.text));
    case 'topK':
      return predictorOver(serving).topK(resolveText(c.text), c.k, c.opts);
    case 'continuePhrase':
      return predictorOver(serving).continuePhrase(resolveText(c.text), c.opts);
    case 'run':
      return serving.model.run(c.ids, c.state);
    case 'advance':
      return serving.model.advance ? serving.model.advance(c.ids, c.state) : serving.model.run(c.ids, c.state).then((r) => r.state);
    case 'scoreChunk':
      return scorerFor(s, c.baseline).scoreChunk(c.ids, c.state);
    case 'scoreSequence':
      return scorerFor(s, c.baseline).scoreSequence(c.ids);
  }
}

port.onMessage((m) => {
  if (m.type === 'open') return void open(m.serve);
  if (PREDICTION_OPS.has(m.op)) lastPredictionAt = performance.now();
  const s = served;
  if (!s) {
    port.postMessage({ type: 'failed', id: m.id, message: 'the model is not open' });
    return;
  }
  let started: Promise<unknown>;
  try {
    started = call(s, m);
  } catch (e) {
    started = Promise.reject(e);
  }
  started.then(
    (result) => port.postMessage({ type: 'reply', id: m.id, result } as FromServer),
    (e: unknown) => port.postMessage({ type: 'failed', id: m.id, message: e instanceof Error ? e.message : String(e) }),
  );
});
