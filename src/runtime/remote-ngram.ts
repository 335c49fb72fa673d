// The editor's end of the n-gram server (ngram-server.ts): a ServingModel whose model and scorer are
// answered by the server process, so that serving an n-gram model (the workspace's while its network
// trains, a saved model's baseline) costs the extension host a message per call (a prediction's few
// distributions, a file's scores), not the model's memory or the work. States travel with the calls (they
// are small: the last n − 1 ids and the cache's window) and, as the interfaces require, are never mutated.
// Its `predictor` is the server's own: a completion request is one message (`answer`), its texts sent as
// what changed since the last one, and the contexts it caches stay in the server.

import type { CompletionPredictor } from '../core/completion/completion-answer.js';
import type { ChunkScorer, ChunkScores, SequenceScorer } from '../core/evaluation.js';
import type { LanguageModel, RecurrentState } from '../core/language-model.js';
import type { ServingModel } from '../core/serving-model.js';
import type { TokenizerMode } from '../core/tokenizer.js';
import type { Vocabulary } from '../core/vocabulary.js';
import type { FromNgramServer, NgramCall, NgramReplies, TextRef, ToNgramServer } from './ngram-protocol.js';
import { SERVING_NICE } from '../io/thread-priority.js';
import { bundledScriptPath, openWorker, type WorkerChannel } from './worker-channel.js';

/** How long the server may take to load a model before opening fails. */
const OPEN_TIMEOUT_MS = 120_000;

export class RemoteNgramServing implements ServingModel {
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

  private constructor(
    private readonly channel: WorkerChannel<ToNgramServer, FromNgramServer>,
    readonly vocab: Vocabulary,
    readonly mode: TokenizerMode,
    /** The model's order (n of the n-grams). */
    readonly order: number,
    /** Milliseconds the server took to read and load the model. */
    readonly loadMs: number,
    initial: RecurrentState,
  ) {
    const call = <K extends NgramCall['op']>(c: Extract<NgramCall, { op: K }>) => this.call<K>(c);
    const initialState = () => initial;
    this.model = {
      vocabSize: vocab.size,
      initialState,
      run: (ids, state) => call<'run'>({ op: 'run', ids, state }),
      advance: (ids, state) => call<'advance'>({ op: 'advance', ids, state }),
    };
    this.scorer = {
      initialState,
      scoreChunk: (ids, state): Promise<ChunkScores> => call<'scoreChunk'>({ op: 'scoreChunk', ids, state }),
      scoreSequence: (ids) => call<'scoreSequence'>({ op: 'scoreSequence', ids }),
    };
    const withText = <K extends NgramCall['op']>(text: string, c: (ref: TextRef) => Extract<NgramCall, { op: K }>, signal?: AbortSignal) =>
      this.ended ? Promise.reject(this.ended) : this.call<K>(c(this.textRef(text)), signal);
    this.predictor = {
      // Aborted, the answer is not waited for (the server still computes it: it warms the contexts the next
      // keystroke extends).
      answer: ({ textBefore, ...query }, signal) => withText<'answer'>(textBefore, (text) => ({ op: 'answer', text, query }), signal),
      contextState: (t) => withText<'contextState'>(t, (text) => ({ op: 'contextState', text })),
      topK: (t, k, opts = {}) => withText<'topK'>(t, (text) => ({ op: 'topK', text, k, opts })),
      continuePhrase: (t, opts) => withText<'continuePhrase'>(t, (text) => ({ op: 'continuePhrase', text, opts })),
    };
  }

  /**
   * Starts a server on the model in `file` (KneserNey.toBytes(), for `vocab`); resolves once it is loaded,
   * rejects with the reason it cannot be (the server is then gone). `file` may be removed once this resolves.
   */
  static open(
    file: string,
    vocab: Vocabulary,
    mode: TokenizerMode,
    /** `cache: false`: the model alone; `expect`: the file's length and sha256 to check first. */
    opts: { cache?: false; expect?: { bytes: number; sha256: string } } = {},
    script = bundledScriptPath('ngram-server.js'),
  ): Promise<RemoteNgramServing> {
    const channel = openWorker<ToNgramServer, FromNgramServer>(script, 'process', { nice: SERVING_NICE });
    return new Promise<RemoteNgramServing>((resolve, reject) => {
      let server: RemoteNgramServing | undefined;
      const timer = setTimeout(() => fail(new Error(`the n-gram server did not load the model within ${OPEN_TIMEOUT_MS / 1000} s`)), OPEN_TIMEOUT_MS);
      const fail = (e: Error) => {
        clearTimeout(timer);
        channel.terminate();
        reject(e);
      };
      channel.onMessage((m) => {
        if (server) return server.receive(m);
        clearTimeout(timer);
        if (m.type === 'ready') {
          resolve((server = new RemoteNgramServing(channel, vocab, mode, m.order, m.loadMs, m.initialState)));
        } else if (m.type === 'error') fail(new Error(`the n-gram model could not be loaded: ${m.message}`));
        else fail(new Error(`the n-gram server answered before it was ready (${m.type})`));
      });
      channel.onError((e) => (server ? server.end(e) : fail(e)));
      channel.onExit((code) => {
        const e = new Error(`the n-gram server exited (code ${code})`);
        if (server) server.end(e);
        else fail(e);
      });
      void channel.send({ type: 'open', file, words: vocab.toJSON(), mode, ...opts });
    });
  }

  /** The server process's id. */
  get pid(): number | undefined {
    return this.channel.pid;
  }

  /** Called once if the server goes away before release() (its calls in flight have failed with `reason`). */
  onExit(f: (reason: Error) => void): void {
    if (this.ended && !this.released) f(this.ended);
    else this.exitListeners.push(f);
  }

  /** Ends the server; calls in flight fail, later ones too. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.end(new Error('the n-gram model was released'));
    this.channel.terminate();
  }

  private call<K extends NgramCall['op']>(c: Extract<NgramCall, { op: K }>, signal?: AbortSignal): Promise<NgramReplies[K]> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise<NgramReplies[K]>((resolve, reject) => {
      const abort = () => {
        if (this.pending.delete(id)) reject(new Error('the n-gram call was aborted'));
      };
      this.pending.set(id, {
        resolve: (v: never) => (signal?.removeEventListener('abort', abort), (resolve as (v: never) => void)(v)),
        reject: (e: Error) => (signal?.removeEventListener('abort', abort), reject(e)),
      });
      // Sent even when already aborted: a TextRef was made for it, which the server must see.
      void this.channel.send({ type: 'call', id, ...c } as ToNgramServer);
      if (signal?.aborted) abort();
      else signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /**
   * `text` relative to the last one sent: typing on sends what was typed, a backspace nothing but a length,
   * anything else the whole text. Called in the order the calls are sent (their messages keep it).
   */
  private textRef(text: string): TextRef {
    const last = this.lastText;
    this.lastText = text;
    if (text.startsWith(last)) return { keep: last.length, add: text.slice(last.length) };
    if (last.startsWith(text)) return { keep: text.length, add: '' };
    return { keep: 0, add: text };
  }

  private receive(m: FromNgramServer): void {
    if (m.type !== 'reply' && m.type !== 'failed') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'reply') p.resolve(m.result as never);
    else p.reject(new Error(m.message));
  }

  private end(reason: Error): void {
    if (this.ended) return;
    this.ended = reason;
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
    if (!this.released) for (const f of this.exitListeners.splice(0)) f(reason);
  }
}

