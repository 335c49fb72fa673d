// The editor's end of a model served by the model server (model-server.ts): a ServingModel whose model and
// scorer are answered by the server process, so that serving a model (a saved LSTM with its n-gram baseline,
// or the workspace's n-gram model while its network trains) costs the extension host a message per call,
// not the model's memory, onnxruntime, or the work. The server serves every model of the editor, each under
// a number (server-process.ts); release() has it let go of this one. States travel with the calls (they are
// small: an LSTM's [L, H] vectors or the last n − 1 ids, and the cache's window) and, as the interfaces
// require, are never mutated. Its `predictor` is the server's own: a completion request is one message
// (`answer`), its texts sent as what changed since the last one, and the contexts it caches stay in the server.

import type { CompletionPredictor } from '../../core/completion/completion-answer.js';
import type { ChunkScorer, ChunkScores, SequenceScorer } from '../../core/scoring/evaluation.js';
import type { SurprisalRule, SurprisingWords } from '../../core/scoring/surprisal.js';
import type { DecoderPrecision } from '../../core/graphs/inference-graph.js';
import type { LanguageModel, RecurrentState } from '../../core/model/language-model.js';
import { vocabularyOf, type ModelMeta } from '../../core/serving/model-format.js';
import type { ServingModel } from '../../core/serving/serving-model.js';
import type { TokenizerMode } from '../../core/text/tokenizer.js';
import type { Vocabulary } from '../../core/text/vocabulary.js';
import { ModelStoreError } from '../../io/model-store.js';
import type { NgramBaseline } from './saved-serving.js';
import { ServerProcess, type ModelLink } from './server-process.js';
import { textRefFrom, type FromModel, type SavedModelInfo, type ServedModel, type ServingCall, type ServingReplies, type TextRef } from './serving-protocol.js';

/**
 * The threads of a saved model's scoring session in the editor, and `bench score`'s default: one. Two score
 * a file faster on an idle machine, but while the editor draws and the user types, a run on two cores waits
 * for the slower one, and a completion asked for meanwhile waits for the run (docs/speed-and-memory.md).
 */
export const EDITOR_SCORING_THREADS = 1;

/** How long the server may take to load a model before opening fails. */
const OPEN_TIMEOUT_MS = 120_000;

/** Why opening failed: the server could not start or went away (`process`), or the model cannot be served (`model`). */
export class ServerOpenError extends Error {
  constructor(
    readonly reason: 'process' | 'model',
    message: string,
  ) {
    super(message);
    this.name = 'ServerOpenError';
  }
}

type Ready = Extract<FromModel, { type: 'ready' }>;

export class RemoteServing implements ServingModel {
  readonly model: LanguageModel;
  readonly scorer: ChunkScorer & SequenceScorer;
  readonly predictor: Required<CompletionPredictor>;
  private readonly pending = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  /** The last text sent to the server's predictor: the next one is sent relative to it. */
  private lastText = '';
  private ended: Error | undefined;
  private released = false;
  private readonly exitListeners: ((reason: Error) => void)[] = [];
  /** Milliseconds the server took to read and load the model. */
  readonly loadMs: number;
  private readonly link: ModelLink;

  protected constructor(
    { link, ready, route }: Started,
    readonly vocab: Vocabulary,
    readonly mode: TokenizerMode,
  ) {
    this.link = link;
    this.loadMs = ready.loadMs;
    const initial = ready.initialState;
    const initialState = () => initial;
    this.model = {
      vocabSize: vocab.size,
      initialState,
      run: (ids, state) => this.call<'run'>({ op: 'run', ids, state }),
      advance: (ids, state) => this.call<'advance'>({ op: 'advance', ids, state }),
    };
    this.scorer = this.scorerOf(initialState, false);
    const withText = <K extends ServingCall['op']>(text: string, c: (ref: TextRef) => Extract<ServingCall, { op: K }>, signal?: AbortSignal) =>
      this.ended ? Promise.reject(this.ended) : this.call<K>(c(this.textRef(text)), signal);
    this.predictor = {
      // Aborted, the answer is not waited for (the server still computes it: it warms the contexts the next
      // keystroke extends).
      answer: ({ textBefore, ...query }, signal) => withText<'answer'>(textBefore, (text) => ({ op: 'answer', text, query }), signal),
      contextState: (t) => withText<'contextState'>(t, (text) => ({ op: 'contextState', text })),
      topK: (t, k, opts = {}) => withText<'topK'>(t, (text) => ({ op: 'topK', text, k, opts })),
      continuePhrase: (t, opts) => withText<'continuePhrase'>(t, (text) => ({ op: 'continuePhrase', text, opts })),
    };
    route({ message: (m) => this.receive(m), gone: (e) => this.end(e) });
  }

  surprising(text: string, rule: SurprisalRule, alternatives: number): Promise<SurprisingWords> {
    return this.call<'surprising'>({ op: 'surprising', text, rule, alternatives });
  }

  /** The served model's scorer, or its baseline's (a saved model's companion). */
  protected scorerOf(initialState: () => RecurrentState, baseline: boolean): ChunkScorer & SequenceScorer {
    const flag = baseline ? ({ baseline: true } as const) : {};
    return {
      initialState,
      scoreChunk: (ids, state): Promise<ChunkScores> => this.call<'scoreChunk'>({ op: 'scoreChunk', ids, state, ...flag }),
      scoreSequence: (ids) => this.call<'scoreSequence'>({ op: 'scoreSequence', ids, ...flag }),
    };
  }

  /**
   * Has the model server serve the n-gram model in `file` (KneserNey.toBytes(), for `vocab`); resolves once it
   * is loaded, rejects with the reason it cannot be. `file` may be removed once this resolves.
   */
  static async openNgram(
    file: string,
    vocab: Vocabulary,
    mode: TokenizerMode,
    /** `cache: false`: the model alone; `expect`: the file's length and sha256 to check first. */
    opts: { cache?: false; expect?: { bytes: number; sha256: string } } = {},
    script?: string,
  ): Promise<RemoteNgramServing> {
    const started = await start(script, { kind: 'ngram', file, words: vocab.toJSON(), mode, ...opts });
    const { ngram } = started.ready;
    if (!ngram) {
      started.link.close();
      throw new ServerOpenError('process', 'the model server answered for another kind of model');
    }
    return new RemoteNgramServing(started, vocab, mode, ngram.order);
  }

  /**
   * Has the model server serve the saved model in `dir`; resolves once it is loaded (its sessions created). A
   * model that cannot be served fails as ModelSession.open would (a ModelStoreError with its code for a
   * missing or corrupt model; a ServerOpenError 'model' else); a server that could not start or died, with a
   * ServerOpenError 'process'. `script`: another server than the bundled one (tests).
   */
  static async openSaved(
    dir: string,
    opts: { threads: number; scoringThreads: number; decoder?: DecoderPrecision },
    script?: string,
  ): Promise<RemoteSavedModel> {
    const started = await start(script, { kind: 'saved', dir, ...opts });
    const info = started.ready.saved;
    try {
      if (!info) throw new ServerOpenError('process', 'the model server answered for another kind of model');
      return new RemoteSavedModel(started, vocabularyOf(info.meta), info);
    } catch (e) {
      started.link.close();
      throw e;
    }
  }

  /** The server process's id. */
  get pid(): number | undefined {
    return this.link.pid;
  }

  /** The model's number in the server (its census lists it until it is released). */
  get serverModel(): number {
    return this.link.model;
  }

  /** Called once if the server goes away before release() (its calls in flight have failed with `reason`). */
  onExit(f: (reason: Error) => void): void {
    if (this.ended && !this.released) f(this.ended);
    else this.exitListeners.push(f);
  }

  /** Has the server let go of the model; calls in flight fail, later ones too. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.end(new Error('the model was released'));
    this.link.close();
  }

  private call<K extends ServingCall['op']>(c: Extract<ServingCall, { op: K }>, signal?: AbortSignal): Promise<ServingReplies[K]> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise<ServingReplies[K]>((resolve, reject) => {
      const abort = () => {
        if (this.pending.delete(id)) reject(new Error('the call was aborted'));
      };
      this.pending.set(id, {
        resolve: (v: never) => (signal?.removeEventListener('abort', abort), (resolve as (v: never) => void)(v)),
        reject: (e: Error) => (signal?.removeEventListener('abort', abort), reject(e)),
      });
      // Sent even when already aborted: a TextRef was made for it, which the server must see.
      this.link.call({ id, ...c } as { id: number } & ServingCall);
      if (signal?.aborted) abort();
      else signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /**
   * `text` relative to the last one sent (textRefFrom): typing on sends what was typed, a backspace nothing
   * but a length, an edit earlier on the line what follows it. Called in the order the calls are sent
   * (their messages keep it).
   */
  private textRef(text: string): TextRef {
    const ref = textRefFrom(this.lastText, text);
    this.lastText = text;
    return ref;
  }

  /** Attached once the server is ready. */
  protected receive(m: FromModel): void {
    if (m.type !== 'reply' && m.type !== 'failed') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'reply') p.resolve(m.result as never);
    else p.reject(new Error(m.message));
  }

  protected end(reason: Error): void {
    if (this.ended) return;
    this.ended = reason;
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
    if (!this.released) for (const f of this.exitListeners.splice(0)) f(reason);
  }
}

/** An n-gram model served by a model server. */
export class RemoteNgramServing extends RemoteServing {
  constructor(
    started: Started,
    vocab: Vocabulary,
    mode: TokenizerMode,
    /** The model's order (n of the n-grams). */
    readonly order: number,
  ) {
    super(started, vocab, mode);
  }
}

/** A saved model served by a model server: what ModelSession holds, but in the server's process. */
export class RemoteSavedModel extends RemoteServing {
  readonly dir: string;
  readonly meta: ModelMeta;
  readonly decoder: DecoderPrecision;
  /** Its n-gram companion as the baseline, scored by the same server. */
  readonly baseline: NgramBaseline | undefined;
  readonly ngramProblem: string | undefined;

  constructor(started: Started, vocab: Vocabulary, info: SavedModelInfo) {
    super(started, vocab, info.meta.tokenizer.mode);
    this.dir = info.dir;
    this.meta = info.meta;
    this.decoder = info.decoder;
    this.ngramProblem = info.ngramProblem;
    const b = info.baseline;
    this.baseline = b ? { order: b.order, scorer: this.scorerOf(() => b.initialState, true), pid: started.link.pid } : undefined;
  }
}

/** Where a model's messages after `ready`, and the news of the server's end, go. */
type Route = (to: { message: (m: FromModel) => void; gone: (e: Error) => void }) => void;

interface Started {
  link: ModelLink;
  ready: Ready;
  route: Route;
}

/** Asks the model server (started if need be) to open `serve`; resolves once it is ready. */
function start(script: string | undefined, serve: ServedModel): Promise<Started> {
  let server: ServerProcess;
  try {
    server = ServerProcess.for(script);
  } catch (e) {
    return Promise.reject(new ServerOpenError('process', (e as Error).message));
  }
  return new Promise((resolve, reject) => {
    let to: Parameters<Route>[0] | undefined;
    let early: Error | undefined;
    const route: Route = (t) => {
      to = t;
      if (early) t.gone(early);
    };
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      link.close();
      reject(e);
    };
    const link = server.openModel(serve, {
      message: (m) => {
        if (settled) return to?.message(m);
        if (m.type === 'ready') {
          settled = true;
          clearTimeout(timer);
          resolve({ link, ready: m, route });
        } else if (m.type === 'error') {
          fail(
            m.name === 'ModelStoreError' && (m.code === 'no-model' || m.code === 'corrupt')
              ? new ModelStoreError(m.code, m.message)
              : new ServerOpenError('model', `the model could not be loaded: ${m.message}`),
          );
        } else fail(new ServerOpenError('process', `the model server answered before the model was ready (${m.type})`));
      },
      gone: (e) => {
        if (!settled) return fail(new ServerOpenError('process', e.message));
        if (to) to.gone(e);
        else early ??= e;
      },
    });
    // A load this long has hung the server's thread: every model it serves is stuck, so it is ended (they
    // are opened again by a new one).
    const timer = setTimeout(() => {
      fail(new ServerOpenError('process', `the model server did not load the model within ${OPEN_TIMEOUT_MS / 1000} s`));
      server.kill();
    }, OPEN_TIMEOUT_MS);
  });
}
