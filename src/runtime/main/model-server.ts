// The model server: the one child process the extension host starts itself (server-process.ts is the
// editor's end). It serves the editor's models, each under the number the editor gave it (remote-serving.ts
// is the editor's end of one): a saved model, the LSTM mixed with its companion and the document cache as
// runtime/serving/model-session.ts opens it (onnxruntime's sessions and its setup live here), its n-gram companion
// as the status bar's baseline; or an n-gram model alone (core/serving/ngram-serving.ts): the workspace's while
// its network trains, loaded from the training process's hand-over file (io/handover-file.ts). It answers
// the calls the completion engine and the perplexity tracker make. Completions are predicted here too: each
// model keeps its predictor (its cached contexts) and answers a whole request in one message, so that a
// keystroke costs the editor one round trip and none of the model's distributions. And it starts the
// editor's other child processes (the training process), whose channels go straight to the editor.
//
// Why a process: in the extension host, onnxruntime's setup, a session's creation and a model's arrival
// held the thread for long stretches, and every prediction and file score ran on it. Why one: a Node.js
// process costs tens of megabytes before it holds anything (docs/ARCHITECTURE.md). A new model opens beside
// the one serving, its loading paced so that the old one goes on answering, and replaces it once ready.
//
// Predictions come first: scoring a file (the status bar's perplexity: seconds of work for a long file)
// runs in slices of a few milliseconds, and waits while predictions are being asked for, so that the few
// calls of one keystroke's prediction never queue behind it. An n-gram model's slices also leave the
// thread idle as long between them (about half a core: it serves while the network trains on the other).
// It runs at nice 5 (SERVING_NICE): below the editor, above training. The process ends when the editor
// closes the channel or goes away; the children it started end by themselves then (their channels close).

import { DEFAULT_CACHE } from '../../core/predict/cache-model.js';
import { answerQuery } from '../../core/completion/completion-answer.js';
import { startTokenId, type ChunkScorer, type SequenceScorer } from '../../core/scoring/evaluation.js';
import { breathe, yieldToEventLoop } from '../../core/support/event-loop.js';
import { KneserNey } from '../../core/ngram/kneser-ney.js';
import { NgramServing } from '../../core/serving/ngram-serving.js';
import { EDITOR_CONTEXT_CACHE, Predictor } from '../../core/predict/predictor.js';
import type { ServingModel } from '../../core/serving/serving-model.js';
import { slicedScorer } from '../../core/scoring/sliced-scorer.js';
import { surprisingWords } from '../../core/scoring/surprisal.js';
import { Vocabulary } from '../../core/text/vocabulary.js';
import { readCompanionFile } from '../../io/model-store.js';
import { lowerOwnProcessPriority, SERVING_NICE } from '../../io/thread-priority.js';
import type { ChildProcess } from 'node:child_process';
import { CHANNEL_FD_ENV, forkScript } from '../process/child-processes.js';
import { MessageAssembler, splitMessage } from '../process/message-pieces.js';
import { SERVER_MALLOC_ENV } from '../serving/server-process.js';
import {
  PREDICTION_OPS,
  resolveTextRef,
  type FromServer,
  type SavedModelInfo,
  type ServedModel,
  type ServingCall,
  type TextRef,
  type ToSpawner,
  type ToServer,
} from '../serving/serving-protocol.js';

lowerOwnProcessPriority(SERVING_NICE);
// Read by malloc at this process's start; not for the processes it starts (server-process.ts).
for (const k of Object.keys(SERVER_MALLOC_ENV)) delete process.env[k];

interface Served {
  serving: ServingModel;
  /** The saved model's companion (scored alone), sliced as `serving`'s scorer is. */
  baseline?: ChunkScorer & SequenceScorer;
}

/** A model the editor asked for, under its number. */
interface Model {
  /** Once loaded and warmed up (then released by close()). */
  served?: Served;
  /** Over `served.serving`, made at the first predictor call (a baseline is only scored with). */
  predictor?: Predictor;
  /** The last text a predictor call gave (TextRefs are relative to it). */
  lastText: string;
  /** Closed by the editor (while loading: released once loaded). */
  closed: boolean;
}
const models = new Map<number, Model>();

/** An n-gram model's scoring slices: the longest a prediction that arrives during one waits. */
const NGRAM_SLICE_MS = 4;
/**
 * Targets per slice of the network's scoring (or the mixture's): one run of its scoring graph, which a
 * completion asked for during the slice waits for.
 */
const NETWORK_SLICE = 32;
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
  const ngram = KneserNey.fromBytes(readCompanionFile(m.file, m.expect));
  const serving = new NgramServing(ngram, vocab, m.mode, m.cache ?? DEFAULT_CACHE, { between: betweenNgramSlices, sliceMs: NGRAM_SLICE_MS });
  // With the cache, NgramServing scores in slices itself; the model alone scores a chunk in one piece.
  const scorer = m.cache === false ? slicedScorer(serving.scorer, BASELINE_SLICE, betweenNgramSlices) : serving.scorer;
  return { order: ngram.order, serving: { model: serving.model, scorer, vocab, mode: m.mode, release: () => serving.release() } };
}

async function openSaved(m: Extract<ServedModel, { kind: 'saved' }>): Promise<Served & { info: SavedModelInfo }> {
  // Imported here: a server of an n-gram model never loads onnxruntime.
  const { ModelSession } = await import('../serving/model-session.js');
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
 * compiled, so that the user's first completion does not pay for them.
 */
async function warmUp(m: Model, s: Served): Promise<void> {
  const { serving } = s;
  const start = startTokenId(serving.vocab, serving.mode);
  const pair = Int32Array.of(start, start);
  await serving.scorer.scoreChunk(pair, serving.scorer.initialState());
  if (s.baseline) await s.baseline.scoreChunk(pair, s.baseline.initialState());
  const text = 'The ';
  await answerQuery(predictorOver(m, serving), { textBefore: text, character: text.length, explicit: true, maxWords: 3, minConfidence: 0 });
}

async function open(id: number, serve: ServedModel): Promise<void> {
  const model: Model = { lastText: '', closed: false };
  models.set(id, model);
  const t0 = performance.now();
  let opened: Served | undefined;
  try {
    /** What the editor learns of the model beyond its initial state: an n-gram model's order, or the saved model's info. */
    let about: { ngram: { order: number } } | { saved: SavedModelInfo };
    if (serve.kind === 'ngram') {
      const { order, ...rest } = openNgram(serve);
      [opened, about] = [rest, { ngram: { order } }];
    } else {
      const { info, ...rest } = await openSaved(serve);
      [opened, about] = [rest, { saved: info }];
    }
    if (!model.closed) await warmUp(model, opened);
    if (model.closed) return void (await opened.serving.release());
    model.served = opened;
    send({ type: 'ready', model: id, initialState: opened.serving.model.initialState(), loadMs: performance.now() - t0, ...about });
  } catch (e) {
    models.delete(id);
    await opened?.serving.release().catch(() => undefined);
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as Error & { code?: unknown }).code;
    if (!model.closed) send({ type: 'error', model: id, message: err.message, name: err.name, ...(typeof code === 'string' ? { code } : {}) });
  }
}

/** Releases model `id`: at once when it is loaded (its runs in flight finish first), else once it is. */
function close(id: number): void {
  const model = models.get(id);
  if (!model) return;
  models.delete(id);
  model.closed = true;
  void model.served?.serving.release();
}

function predictorOver(m: Model, s: ServingModel): Predictor {
  return (m.predictor ??= new Predictor(s.model, s.vocab, s.mode, { cacheSize: EDITOR_CONTEXT_CACHE }));
}

function scorerFor(s: Served, baseline: true | undefined): ChunkScorer & SequenceScorer {
  if (!baseline) return s.serving.scorer;
  if (!s.baseline) throw new Error('this model has no n-gram baseline');
  return s.baseline;
}

/** Starts call `c` of model `m`; a TextRef is resolved at once, in the order the calls arrive. */
function call(m: Model, s: Served, c: ServingCall): Promise<unknown> {
  const { serving } = s;
  /** The text `ref` gives; it becomes the one the next TextRef is relative to. */
  const text = (ref: TextRef) => (m.lastText = resolveTextRef(m.lastText, ref));
  switch (c.op) {
    case 'answer':
      return answerQuery(predictorOver(m, serving), { ...c.query, textBefore: text(c.text) });
    case 'contextState':
      return predictorOver(m, serving).contextState(text(c.text));
    case 'topK':
      return predictorOver(m, serving).topK(text(c.text), c.k, c.opts);
    case 'continuePhrase':
      return predictorOver(m, serving).continuePhrase(text(c.text), c.opts);
    case 'run':
      return serving.model.run(c.ids, c.state);
    case 'advance':
      return serving.model.advance ? serving.model.advance(c.ids, c.state) : serving.model.run(c.ids, c.state).then((r) => r.state);
    case 'scoreChunk':
      return scorerFor(s, c.baseline).scoreChunk(c.ids, c.state);
    case 'scoreSequence':
      return scorerFor(s, c.baseline).scoreSequence(c.ids);
    case 'surprising':
      // Background work on the predicting model: in slices, each after predictions have gone quiet.
      return surprisingWords(serving.model, serving.vocab, serving.mode, c.text, {
        rule: c.rule,
        alternatives: c.alternatives,
        chunk: NETWORK_SLICE,
        between: async () => {
          await breathe();
          await predictionsQuiet();
        },
      });
  }
}

function answer(c: Extract<ToServer, { type: 'call' }>): void {
  if (PREDICTION_OPS.has(c.op)) lastPredictionAt = performance.now();
  const m = models.get(c.model);
  const s = m?.served;
  if (!m || !s) return send({ type: 'failed', model: c.model, id: c.id, message: m ? 'the model is not loaded yet' : 'the model is not open' });
  let started: Promise<unknown>;
  try {
    started = call(m, s, c);
  } catch (e) {
    started = Promise.reject(e);
  }
  started.then(
    (result) => send({ type: 'reply', model: c.model, id: c.id, result } as FromServer),
    (e: unknown) => send({ type: 'failed', model: c.model, id: c.id, message: e instanceof Error ? e.message : String(e) }),
  );
}

/** The children started for the editor, by the editor's number. */
const children = new Map<number, ChildProcess>();

/** Starts a child for the editor: a socket pair as its fd 3, whose other end goes to the editor. */
function spawn(m: Extract<ToSpawner, { type: 'spawn' }>): void {
  let child: ChildProcess;
  try {
    child = forkScript(m.script, {
      execArgv: m.execArgv,
      // fd 3: the channel to the editor; the IPC channel to this process (fd 4) is unused, and the child
      // lets go of it.
      stdio: ['ignore', 'inherit', 'inherit', 'pipe', 'ipc'],
      env: { [CHANNEL_FD_ENV]: '3' },
      nice: m.nice,
    });
  } catch (e) {
    return send({ type: 'spawnFailed', id: m.id, message: `could not start ${m.script}: ${(e as Error).message}` });
  }
  children.set(m.id, child);
  child.once('spawn', () => send({ type: 'spawned', id: m.id, pid: child.pid! }, child.stdio[3]));
  child.once('error', (e) => {
    if (child.pid === undefined) send({ type: 'spawnFailed', id: m.id, message: `could not start ${m.script}: ${e.message}` });
  });
  child.once('exit', (code, signal) => {
    children.delete(m.id);
    send({ type: 'exit', id: m.id, code, signal });
  });
}

/** Sends `m` to the editor (large arrays ahead in pieces; `handle` with it, a socket). */
function send(m: FromServer, handle?: unknown): void {
  const { message, pieces } = splitMessage(m);
  for (const p of pieces) process.send?.(p, undefined, {}, () => undefined);
  process.send?.(message, handle as never, {}, () => undefined);
}

const assembler = new MessageAssembler();
process.on(
  'message',
  assembler.listener((m: ToServer) => {
    switch (m.type) {
      case 'open':
        return void open(m.model, m.serve);
      case 'close':
        return close(m.model);
      case 'call':
        return answer(m);
      case 'spawn':
        return spawn(m);
      case 'kill':
        return void children.get(m.id)?.kill('SIGKILL');
      case 'census':
        return send({ type: 'census', id: m.id, models: [...models.keys()], children: [...children.values()].map((c) => c.pid!), rssBytes: process.memoryUsage.rss() });
    }
  }),
);

// The editor is gone: so is the reason to be. The children's channels to it have closed: they end too.
process.on('disconnect', () => process.exit(0));
