// Scores token sequences with the scoring graph (graphs/inference-graph.ts): per-token log p(target)
// and the target's rank, computed inside onnxruntime so that only two numbers per token come back.
// `nextword eval` (a whole text from the start) and the editor's status bar (chunks from checkpointed
// states) both score through here, so their figures agree.
//
// Shapes: m inputs per run (m + 1 ids: the inputs, then the last target), L layers, H hidden, V vocabulary.
// The graph takes tokens [m + 1, 1] and h0/c0 [L, 1, H]; it returns logp [m], rank [m], hT/cT [L, 1, H].
// With a document cache the states are CacheLanguageModel's (the window rides along) and each run also
// feeds the window's words (core/predict/cache-model.ts, cacheRows): K words, [m, K] weights.
//
// A run holds several [m, V] float tensors (logits, log-probabilities, comparisons), and onnxruntime's arena
// keeps the largest it has needed, so every call is split into runs of at most `chunk` targets: small runs
// hold far less memory at the same speed (docs/design-figures.md).

import { cacheRows, cacheState, cacheStateParts, type CacheOptions } from '../../core/predict/cache-model.js';
import type { ChunkScorer, RankedScores, SequenceScorer } from '../../core/scoring/evaluation.js';
import { scoreGraph, type DecoderPrecision, type Int8Decoder } from '../../core/graphs/inference-graph.js';
import type { RecurrentState } from '../../core/model/language-model.js';
import { scoreInPieces } from '../../core/scoring/sliced-scorer.js';
import type { ModelConfig } from '../../core/model/model-config.js';
import { createSession, floatData, floatTensor, idsTensor, int32Tensor, type ort } from './ort-session.js';

/** Targets per run unless told otherwise. */
const DEFAULT_CHUNK = 64;

export interface OnnxScorerOptions {
  threads?: number;
  /** Most targets per run (default 64). */
  chunk?: number;
  decoder?: DecoderPrecision;
  /** The int8 decoder already quantised from `params` (not recomputed). */
  quantized?: Int8Decoder;
  /** Score the model mixed with this document cache; `cached[id]` says which ids enter its window. */
  cache?: { options: CacheOptions; cached: Uint8Array };
}

export class OnnxScorer implements SequenceScorer, ChunkScorer {
  private constructor(
    private readonly cfg: ModelConfig,
    private readonly session: ort.InferenceSession,
    /** Most targets per run: the graph holds [m, V] tensors (see the top of the file). */
    private readonly chunk: number,
    private readonly cache: OnnxScorerOptions['cache'],
  ) {}

  static async create(cfg: ModelConfig, params: Float32Array, opts: OnnxScorerOptions = {}): Promise<OnnxScorer> {
    return OnnxScorer.fromGraph(cfg, scoreGraph(cfg, params, { decoder: opts.decoder, cache: !!opts.cache, ...(opts.quantized ? { quantized: opts.quantized } : {}) }), opts);
  }

  /** A scorer on a scoring graph of `cfg` built already (its bytes or its file), with the document cache's inputs exactly when `opts.cache` is given. */
  static async fromGraph(cfg: ModelConfig, graph: Uint8Array | string, opts: Pick<OnnxScorerOptions, 'threads' | 'chunk' | 'cache'> = {}): Promise<OnnxScorer> {
    if (opts.cache && opts.cache.cached.length !== cfg.vocab) {
      throw new Error(`OnnxScorer: ${opts.cache.cached.length} cache flags for a vocabulary of ${cfg.vocab}`);
    }
    const session = await createSession(graph, { threads: opts.threads });
    const expected = opts.cache ? ['cache_ids', 'cache_weights', 'h0', 'keep', 'target_cache', 'tokens'] : ['h0', 'tokens'];
    const missing = expected.filter((name) => !session.inputNames.includes(name));
    if (missing.length > 0) {
      await session.release();
      throw new Error(`OnnxScorer: the scoring graph has no input ${missing.join(', ')}`);
    }
    return new OnnxScorer(cfg, session, opts.chunk ?? DEFAULT_CHUNK, opts.cache);
  }

  initialState(): RecurrentState {
    const n = this.cfg.layers * this.cfg.hidden;
    const base = this.cfg.cell === 'lstm' ? { h: new Float32Array(n), c: new Float32Array(n) } : { h: new Float32Array(n) };
    return this.cache ? cacheState(base, new Int32Array(0)) : base;
  }

  async scoreChunk(ids: Int32Array, state: RecurrentState): Promise<RankedScores> {
    const { vocab: V } = this.cfg;
    const m = ids.length - 1;
    if (m < 1) throw new Error('scoring needs at least two ids (an input and a target)');
    for (let k = 0; k < ids.length; k++) {
      if (!(ids[k]! >= 0 && ids[k]! < V)) throw new Error(`ids[${k}] = ${ids[k]} is outside the vocabulary [0, ${V})`);
    }
    return scoreInPieces(ids, state, this.chunk, (piece, at) => this.run(piece, at));
  }

  async scoreSequence(ids: Int32Array): Promise<{ logp: Float32Array; rank: Int32Array }> {
    if (ids.length < 2) return { logp: new Float32Array(0), rank: new Int32Array(0) };
    const { logp, rank } = await this.scoreChunk(ids, this.initialState());
    return { logp, rank };
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  /** One run of the graph: ids holds m + 1 ≤ chunk + 1 checked ids. */
  private async run(ids: Int32Array, state: RecurrentState): Promise<RankedScores> {
    const { layers: L, hidden: H, cell } = this.cfg;
    const m = ids.length - 1;
    const parts = this.cache ? cacheStateParts(state) : undefined;
    const base = parts ? parts.base : state;
    const feeds: Record<string, ort.Tensor> = { tokens: idsTensor(ids, [m + 1, 1]), h0: floatTensor(base.h, [L, 1, H]) };
    if (cell === 'lstm') feeds.c0 = floatTensor(base.c!, [L, 1, H]);
    let window: Int32Array | undefined;
    if (this.cache && parts) {
      const rows = cacheRows(ids.subarray(0, m), parts.window, this.cache.cached, this.cache.options, ids.subarray(1));
      feeds.keep = floatTensor(rows.keep, [m, 1]);
      feeds.cache_ids = int32Tensor(rows.ids, [rows.K]);
      feeds.cache_weights = floatTensor(rows.weights, [m, rows.K]);
      feeds.target_cache = floatTensor(rows.targetWeights!, [m, 1]);
      window = rows.window;
    }
    const out = await this.session.run(feeds);
    const logp = floatData(out.logp, 'logp'); //                                      [m]
    const ranks = out.rank?.data;
    if (logp.length !== m || !(ranks instanceof BigInt64Array) || ranks.length !== m) {
      throw new Error(`the scoring graph returned ${logp.length} scores for ${m} targets`);
    }
    const rank = new Int32Array(m); //                                               [m]
    for (let i = 0; i < m; i++) rank[i] = Number(ranks[i]);
    const h = floatData(out.hT, 'hT'); //                                             [L, 1, H]
    const next: RecurrentState = cell === 'lstm' ? { h, c: floatData(out.cT, 'cT') } : { h };
    return { logp, rank, state: window ? cacheState(next, window) : next };
  }
}
