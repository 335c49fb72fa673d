// A saved model opened for use in a long-running host (the editor) and by the CLI: its metadata and
// vocabulary, the inference session, and what predicts and scores with it. A model trained with its
// mixture (model.json's `mixture`: core/serving/mixture-model.ts) is served as that: the network, its n-gram
// companion and the document cache interpolated with the fitted weights; `scorer` scores the same mixture
// from the network's scoring graph (the target's log p), the n-gram model and the cache. Otherwise the
// network is mixed with the document cache alone (core/predict/cache-model.ts): `model` predicts with the
// mixture and `scorer` scores the same mixture in the scoring graph (built on first use; the window's words
// and their weights go in with each run, and two numbers per token come back). Without the cache, `model`
// is the network itself. The editor and `nextword eval` both take these, so the status bar and eval agree
// by construction. One release() frees
// every session, after the runs in flight, so a model can be swapped while requests are running.
//
// The decoder runs in int8 by default (graphs/inference-graph.ts): both sessions are built at load time
// from the saved weights, which stay float on disk. The weights are decoded and quantised once, for both
// graphs, each step (tens of milliseconds of JavaScript) yielding to the event loop before the next.
//
// The model's n-gram companion (core/ngram/companion.ts), when saved with it, is loaded too (`baseline`):
// the baseline the status bar compares a file's perplexity with, in this process (`ngram`), or served by a
// model server process of its own (`companion: 'server'`). A damaged companion does not stop the model
// from loading; `ngramProblem` says why it is missing.
//
// The CLI opens models here, in its own process; the editor has a model server process open it
// (model-server.ts, remote-serving.ts), so that neither onnxruntime nor the model enters the extension host,
// and opens it here only when no server can be started.
//
// Both sessions get few threads: the editor shares the machine, and one token step of a small model is
// too little work to spread over many cores (the editor scores on one: EDITOR_SCORING_THREADS,
// remote-serving.ts).
//

import { CacheLanguageModel, cachedFlagsOf, cachedIdsOf, DEFAULT_CACHE, type CacheOptions } from '../../core/predict/cache-model.js';
import type { ChunkScorer, SequenceScorer } from '../../core/scoring/evaluation.js';
import { pacer, yieldToEventLoop } from '../../core/support/event-loop.js';
import type { LanguageModel } from '../../core/model/language-model.js';
import { inferenceGraph, parametersFromModelPaced, quantizeDecoderPaced, type DecoderPrecision, type Int8Decoder } from '../../core/graphs/inference-graph.js';
import { modelMinConfidence, parseModelMeta, vocabularyOf, type ModelMeta } from '../../core/serving/model-format.js';
import { DEFAULT_COMPLETION_SETTINGS } from '../../core/completion/completion-engine.js';
import type { TokenizerMode } from '../../core/text/tokenizer.js';
import type { Vocabulary } from '../../core/text/vocabulary.js';
import { KneserNey } from '../../core/ngram/kneser-ney.js';
import { MixtureLanguageModel, MixtureScorer, type MixtureSpec } from '../../core/serving/mixture-model.js';
import { loadModelFiles, type ModelFiles } from '../../io/model-store.js';
import { OnnxLanguageModel } from '../onnx/onnx-language-model.js';
import { OnnxScorer } from '../onnx/onnx-scorer.js';
import { RemoteServing } from './remote-serving.js';
import type { NgramBaseline, SavedServing } from './saved-serving.js';

export interface ModelSessionOptions {
  /** Intra-op threads of the prediction session (default 1). */
  threads?: number;
  /** Intra-op threads of the scoring session (default: `threads`). */
  scoringThreads?: number;
  /** The document cache's settings, or false for the network alone (default DEFAULT_CACHE). */
  cache?: CacheOptions | false;
  /** How the decoder multiplies (default DEFAULT_DECODER). */
  decoder?: DecoderPrecision;
  /**
   * Where the n-gram companion is loaded: in this process (default), or served by a model server process
   * (as the baseline; a model served as a mixture needs its companion here, and loads it here).
   */
  companion?: 'in-process' | 'server';
  /** false: the network with the cache even where model.json has a mixture (what `eval --compare` calls `network`). */
  mixture?: false;
  /** Scores come with ranks (top-1 accuracy): a mixture's take whole distributions (`nextword eval`). */
  ranks?: boolean;
}

/** What ModelSession.served means, for reports. */
export const SERVED: Readonly<Record<ModelSession['served'], string>> = {
  mixture: 'the mixture of the network, its n-gram companion and the document cache',
  'network+cache': 'the network with the document cache',
  network: 'the network alone',
};

/** The decoder's precision unless told otherwise: int8 keeps perplexity within 1 % (see the README). */
export const DEFAULT_DECODER: DecoderPrecision = 'int8';

/** Every decoder precision, for options that choose one. */
export const DECODERS: readonly DecoderPrecision[] = ['int8', 'float32'];

/** Where the scoring session comes from, on first use; or, never used, what to let go of at release. */
interface ScorerSource {
  make(): Promise<OnnxScorer>;
  discard(): Promise<void>;
}

export class ModelSession implements SavedServing {
  private scoringSession: Promise<OnnxScorer> | undefined;
  private readonly scoring = new Set<Promise<unknown>>();
  private released = false;

  /** What predicts: the mixture, the network mixed with the document cache, or the network alone. */
  readonly model: LanguageModel;
  /** What is served (Show Model Info, eval): the fitted mixture, the network with the cache, or the network alone. */
  readonly served: 'mixture' | 'network+cache' | 'network';
  private readonly mixtureScorer: MixtureScorer | undefined;
  private readonly cache: { options: CacheOptions; cached: Uint8Array } | undefined;

  private constructor(
    /** The absolute model folder. */
    readonly dir: string,
    readonly meta: ModelMeta,
    /** With corpus counts when model.json has them (the unigram baseline needs them). */
    readonly vocab: Vocabulary,
    /** The network alone (its inference session). */
    readonly lm: OnnxLanguageModel,
    cache: CacheOptions | false,
    /** How both sessions' decoders multiply. */
    readonly decoder: DecoderPrecision,
    /** Makes the scoring session (given the document cache's flags when there is a cache). */
    scorerSource: (cache: ModelSession['cache']) => ScorerSource,
    /** The n-gram companion trained with the model, when it was saved with one and loads (in this process). */
    readonly ngram: KneserNey | undefined,
    /** The companion as the status bar's baseline, in this process or served (companion: 'server'). */
    readonly baseline: NgramBaseline | undefined,
    /** Why a companion model.json names could not be used. */
    readonly ngramProblem: string | undefined,
    private readonly releaseNgramBaseline: () => Promise<void> = async () => {},
    /** The mixture to serve, with its n-gram model (in this process); `ranks` as ModelSessionOptions. */
    mixture?: { spec: MixtureSpec; ngram: KneserNey; ranks: boolean },
  ) {
    if (cache === false) {
      this.model = lm;
      this.served = 'network';
    } else if (mixture) {
      const parts = { ngram: mixture.ngram, cached: cachedFlagsOf(vocab), spec: mixture.spec };
      this.model = new MixtureLanguageModel({ network: lm, ...parts });
      // The network's own scores come from the scoring graph without the cache (this.cache stays unset).
      const networkScorer: ChunkScorer = { initialState: () => lm.initialState(), scoreChunk: (ids, state) => this.onnxScorer().then((s) => s.scoreChunk(ids, state)) };
      this.mixtureScorer = new MixtureScorer({ networkScorer, ...parts }, mixture.ranks ? { network: lm } : undefined);
      this.served = 'mixture';
    } else {
      this.served = 'network+cache';
      const model = new CacheLanguageModel(lm, cachedIdsOf(vocab), cache);
      this.model = model;
      this.cache = { options: { ...cache }, cached: model.cached };
    }
    this.scorerSource = scorerSource(this.cache);
  }

  private readonly scorerSource: ScorerSource;

  /** Opens the model in `dir`; fails with ModelStoreError (`no-model`, `corrupt`) or a format error that names the folder. */
  static async open(dir: string, opts: ModelSessionOptions = {}): Promise<ModelSession> {
    return ModelSession.fromFiles(await loadModelFiles(dir, { companion: opts.companion === 'server' ? 'file' : 'bytes' }), opts);
  }

  static async fromFiles(files: ModelFiles, opts: ModelSessionOptions = {}): Promise<ModelSession> {
    const threads = opts.threads ?? 1;
    const meta = parseModelMeta(files.meta, files.dir);
    // What follows reads the files' contents: a failure says which folder and which part.
    const vocab = inFolder(files.dir, 'model.json', () => vocabularyOf(meta));
    const decoder = opts.decoder ?? DEFAULT_DECODER;
    let onnx = files.onnx;
    let prepared: { params: Float32Array; quantized: Int8Decoder } | undefined;
    if (decoder === 'int8') {
      // The inference graph is rebuilt around a quantised decoder from the saved weights.
      let params: Float32Array;
      try {
        params = await parametersFromModelPaced(meta.config, files.onnx, pacer());
      } catch (e) {
        throw new Error(`${files.dir}: the ONNX file cannot be read as this model: ${(e as Error).message}`, { cause: e });
      }
      const quantized = await quantizeDecoderPaced(meta.config, params, pacer());
      await yieldToEventLoop();
      onnx = inferenceGraph(meta.config, params, { decoder, quantized, optionalLogProbs: true });
      prepared = { params, quantized };
      await yieldToEventLoop();
    }
    const companion = await loadCompanion(files, vocab, meta.tokenizer.mode);
    const mixture =
      meta.mixture && companion.ngram && opts.mixture !== false && opts.cache !== false ? { spec: meta.mixture, ngram: companion.ngram, ranks: !!opts.ranks } : undefined;
    let lm: OnnxLanguageModel;
    try {
      lm = await OnnxLanguageModel.create(onnx, meta.config, { threads });
    } catch (e) {
      await companion.release?.(); // its server, if it started one
      throw new Error(`${files.dir}: onnxruntime cannot load the ONNX file: ${(e as Error).message}`, { cause: e });
    }
    const scoringThreads = opts.scoringThreads ?? threads;
    // The saved weights, until the scoring session holds its own copy (then only the sessions need them).
    let saved: Uint8Array | undefined = files.onnx;
    return new ModelSession(
      files.dir,
      meta,
      vocab,
      lm,
      opts.cache ?? DEFAULT_CACHE,
      decoder,
      (cache) => ({
        // From the decoded (and quantised) weights, kept until then, or decoded again from the saved bytes.
        make: async () => {
          if (!prepared && !saved) throw new Error('ModelSession: the scoring session was released');
          const params = prepared?.params ?? (await parametersFromModelPaced(meta.config, saved!, pacer()));
          await yieldToEventLoop();
          const scorer = await OnnxScorer.create(meta.config, params, {
            threads: scoringThreads,
            decoder,
            ...(cache ? { cache } : {}),
            ...(prepared ? { quantized: prepared.quantized } : {}),
          });
          // The sessions hold their own copies now.
          prepared = undefined;
          saved = undefined;
          return scorer;
        },
        discard: async () => {
          prepared = undefined;
          saved = undefined;
        },
      }),
      companion.ngram,
      companion.baseline,
      companion.problem,
      companion.release,
      mixture,
    );
  }

  /**
   * The completion threshold for what is served: for the mixture, the one chosen for it in training
   * (model.json's `completion`), else the editor's default.
   */
  get minConfidence(): number {
    return this.served === 'mixture' ? modelMinConfidence(this.meta, DEFAULT_COMPLETION_SETTINGS.minConfidence) : DEFAULT_COMPLETION_SETTINGS.minConfidence;
  }

  /** The tokenizer the model reads text with. */
  get mode(): TokenizerMode {
    return this.meta.tokenizer.mode;
  }

  /**
   * Scores `model` (what `nextword eval` and the status bar use), from any state (DocumentPerplexity's
   * checkpoints) or from the start (evaluateText). Runs are tracked so that release() waits for them.
   */
  readonly scorer: ChunkScorer & SequenceScorer = {
    initialState: () => this.model.initialState(),
    scoreChunk: (ids, state) => this.track(this.mixtureScorer ? this.mixtureScorer.scoreChunk(ids, state) : this.onnxScorer().then((s) => s.scoreChunk(ids, state))),
    scoreSequence: (ids) => this.track(this.mixtureScorer ? this.mixtureScorer.scoreSequence(ids) : this.onnxScorer().then((s) => s.scoreSequence(ids))),
  };

  /** Frees both sessions once their runs in flight are done. Later runs fail; calling it twice is harmless. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await Promise.allSettled([...this.scoring]);
    const scoring = this.scoringSession;
    this.scoringSession = undefined;
    await Promise.allSettled([this.lm.release(), scoring ? scoring.then((s) => s.release()) : this.scorerSource.discard(), this.releaseNgramBaseline()]);
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
      const created = this.scorerSource.make();
      this.scoringSession = created;
      // A failed build is not kept: the next call tries again.
      created.catch(() => {
        if (this.scoringSession === created) this.scoringSession = undefined;
      });
    }
    return this.scoringSession;
  }
}

/** `step()`, its error prefixed with the model's folder and the part being read. */
function inFolder<T>(dir: string, what: string, step: () => T): T {
  try {
    return step();
  } catch (e) {
    throw new Error(`${dir}: ${what}: ${(e as Error).message}`, { cause: e });
  }
}

/** The n-gram companion of a model's files, or why it cannot be used; never throws. */
async function loadCompanion(
  files: Omit<ModelFiles, 'onnx'>,
  vocab: Vocabulary,
  mode: TokenizerMode,
): Promise<{ ngram?: KneserNey; baseline?: NgramBaseline; problem?: string; release?: () => Promise<void> }> {
  if (files.ngramProblem !== undefined) return { problem: files.ngramProblem };
  try {
    if (files.ngramFile) {
      const { path: file, bytes, sha256 } = files.ngramFile;
      const server = await RemoteServing.openNgram(file, vocab, mode, { cache: false, expect: { bytes, sha256 } });
      return { baseline: { order: server.order, scorer: server.scorer, pid: server.pid }, release: () => server.release() };
    }
    if (!files.ngram) return {};
    const ngram = await KneserNey.fromBytesAsync(files.ngram, pacer());
    if (ngram.vocabSize !== vocab.size) return { problem: `the n-gram model has ${ngram.vocabSize} ids, the model's vocabulary ${vocab.size}` };
    return { ngram, baseline: { order: ngram.order, scorer: ngram } };
  } catch (e) {
    return { problem: (e as Error).message };
  }
}
