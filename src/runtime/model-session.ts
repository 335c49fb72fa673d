// A saved model opened for use in a long-running host (the editor) and by the CLI: its metadata and
// vocabulary, the inference session, and what predicts and scores with it. By default the model is mixed
// with the document cache (core/cache-model.ts): `model` predicts with the mixture and `scorer` scores the
// same mixture in the scoring graph (built on first use; the window's words and their weights go in with
// each run, and two numbers per token come back). Without the cache, `model` is the network itself. The editor and
// `nextword eval` both take these, so the status bar and eval agree by construction. One release() frees
// every session, after the runs in flight, so a model can be swapped while requests are running.
//
// The decoder runs in int8 by default (graphs/inference-graph.ts): both sessions are built at load time
// from the saved weights, which stay float on disk. The weights are decoded and quantised once, for both
// graphs, and each of those steps (tens of milliseconds of JavaScript) yields to the event loop before the
// next, so that the editor's extension host never stalls for the whole load.
//
// Both sessions get few threads: the editor shares the machine, and one token step of a small model is
// too little work to spread over many cores.
//

import { CacheLanguageModel, cachedIdsOf, DEFAULT_CACHE, type CacheOptions } from '../core/cache-model.js';
import type { ChunkScorer, SequenceScorer } from '../core/evaluation.js';
import type { LanguageModel } from '../core/language-model.js';
import { inferenceGraph, parametersFromModel, quantizeDecoder, type DecoderPrecision, type Int8Decoder } from '../core/graphs/inference-graph.js';
import { parseModelMeta, vocabularyOf, type ModelMeta } from '../core/model-format.js';
import type { TokenizerMode } from '../core/tokenizer.js';
import type { Vocabulary } from '../core/vocabulary.js';
import { loadModelFiles, type ModelFiles } from '../io/model-store.js';
import { OnnxLanguageModel } from './onnx-language-model.js';
import { OnnxScorer } from './onnx-scorer.js';

export interface ModelSessionOptions {
  /** Intra-op threads of each session (default 1). */
  threads?: number;
  /** The document cache's settings, or false for the network alone (default DEFAULT_CACHE). */
  cache?: CacheOptions | false;
  /** How the decoder multiplies (default DEFAULT_DECODER). */
  decoder?: DecoderPrecision;
}

/** The decoder's precision unless told otherwise: int8 keeps perplexity within 1 % (see the README). */
export const DEFAULT_DECODER: DecoderPrecision = 'int8';

/** Every decoder precision, for options that choose one. */
export const DECODERS: readonly DecoderPrecision[] = ['int8', 'float32'];

/** The weights as decoded for the inference graph, and their int8 decoder. */
interface Prepared {
  params: Float32Array;
  quantized: Int8Decoder;
}

/** Lets pending events run between long synchronous steps. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class ModelSession {
  private scoringSession: Promise<OnnxScorer> | undefined;
  private readonly scoring = new Set<Promise<unknown>>();
  private released = false;

  /** What predicts: the network mixed with the document cache, or the network alone. */
  readonly model: LanguageModel;
  private readonly cache: { options: CacheOptions; cached: Uint8Array } | undefined;

  private constructor(
    /** The absolute model folder. */
    readonly dir: string,
    readonly meta: ModelMeta,
    /** With corpus counts when model.json has them (the unigram baseline needs them). */
    readonly vocab: Vocabulary,
    /** The network alone (its inference session). */
    readonly lm: OnnxLanguageModel,
    private readonly onnx: Uint8Array,
    private readonly threads: number,
    cache: CacheOptions | false,
    /** How both sessions' decoders multiply. */
    readonly decoder: DecoderPrecision,
    /** The decoded (and quantised) weights, kept until the scoring graph is built from them. */
    private prepared: Prepared | undefined,
  ) {
    if (cache === false) {
      this.model = lm;
    } else {
      const model = new CacheLanguageModel(lm, cachedIdsOf(vocab), cache);
      this.model = model;
      this.cache = { options: { ...cache }, cached: model.cached };
    }
  }

  /** Opens the model in `dir`; fails with ModelStoreError (`no-model`, `corrupt`) or a format error that names the folder. */
  static async open(dir: string, opts: ModelSessionOptions = {}): Promise<ModelSession> {
    return ModelSession.fromFiles(await loadModelFiles(dir), opts);
  }

  static async fromFiles(files: ModelFiles, opts: ModelSessionOptions = {}): Promise<ModelSession> {
    const threads = opts.threads ?? 1;
    const meta = parseModelMeta(files.meta, files.dir);
    const vocab = vocabularyOf(meta);
    const decoder = opts.decoder ?? DEFAULT_DECODER;
    let onnx = files.onnx;
    let prepared: Prepared | undefined;
    if (decoder === 'int8') {
      // The inference graph is rebuilt around a quantised decoder from the saved weights.
      const params = parametersFromModel(meta.config, files.onnx);
      await yieldToEventLoop();
      const quantized = quantizeDecoder(meta.config, params);
      await yieldToEventLoop();
      onnx = inferenceGraph(meta.config, params, { decoder, quantized });
      prepared = { params, quantized };
      await yieldToEventLoop();
    }
    const lm = await OnnxLanguageModel.create(onnx, meta.config, { threads });
    return new ModelSession(files.dir, meta, vocab, lm, files.onnx, threads, opts.cache ?? DEFAULT_CACHE, decoder, prepared);
  }

  get mode(): TokenizerMode {
    return this.meta.tokenizer.mode;
  }

  /**
   * Scores `model` (what `nextword eval` and the status bar use), from any state (DocumentPerplexity's
   * checkpoints) or from the start (evaluateText). Runs are tracked so that release() waits for them.
   */
  readonly scorer: ChunkScorer & SequenceScorer = {
    initialState: () => this.model.initialState(),
    scoreChunk: (ids, state) => this.track(this.onnxScorer().then((s) => s.scoreChunk(ids, state))),
    scoreSequence: (ids) => this.track(this.onnxScorer().then((s) => s.scoreSequence(ids))),
  };

  /** Frees both sessions once their runs in flight are done. Later runs fail; calling it twice is harmless. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await Promise.allSettled([...this.scoring]);
    const scoring = this.scoringSession;
    this.scoringSession = undefined;
    await Promise.allSettled([this.lm.release(), scoring?.then((s) => s.release())]);
  }

  private track<T>(run: Promise<T>): Promise<T> {
    this.scoring.add(run);
    const forget = () => this.scoring.delete(run);
    run.then(forget, forget);
    return run;
  }

  private onnxScorer(): Promise<OnnxScorer> {
    if (this.released) return Promise.reject(new Error('ModelSession: scoring after release()'));
    if (!this.scoringSession) {
      const { config } = this.meta;
      const prepared = this.prepared;
      const created = (async () => {
        const params = prepared?.params ?? parametersFromModel(config, this.onnx);
        await yieldToEventLoop();
        const scorer = await OnnxScorer.create(config, params, {
          threads: this.threads,
          decoder: this.decoder,
          cache: this.cache,
          ...(prepared ? { quantized: prepared.quantized } : {}),
        });
        this.prepared = undefined; // the sessions hold their own copies now
        return scorer;
      })();
      this.scoringSession = created;
      // A failed build is not kept: the next call tries again.
      created.catch(() => {
        if (this.scoringSession === created) this.scoringSession = undefined;
      });
    }
    return this.scoringSession;
  }
}
