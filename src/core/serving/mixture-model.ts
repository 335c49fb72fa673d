// The model Nextword serves after training: a linear interpolation of the network, its Kneser-Ney companion
// (trained on the same tokens) and the document cache (cache-model.ts),
//
//   p(w | h) = λ_net(b) · p_net(w | h) + λ_ngram(b) · p_KN(w | h) + λ_cache(b) · p_cache(w | document),
//
// with weights that depend on a bucket b of the context (Mikolov et al. 2011's RNN + KN interpolation; the
// weights conditioned on the n-gram model's context as in Neubig & Dyer 2016): how many orders of the n-gram
// model matched the history, how often that deepest context was seen in training (a count class), and
// whether the document's window is still empty. Where counting has seen the context often it knows the
// exact phrase (a code listing repeated across chapters, an API's call pattern); where it has not, the
// network generalises. Each row of weights sums to 1, so p is a distribution over the vocabulary; the cache
// gives mass only to the window's words. The weights are fitted on validation tokens by EM (fitMixture),
// each bucket drawn towards the weights of all tokens by a prior worth PRIOR_TOKENS tokens, so that a bucket
// with few validation tokens is not over-fitted.
//
// The state carries the network's state, the last order − 1 ids (the n-gram history) and the cache window;
// it is never mutated, so the Predictor's context cache and DocumentPerplexity work on the mixture as on
// any LanguageModel. Scoring (MixtureScorer) needs only the target's probability from each part: the
// network's scoring graph gives its log p(target), the n-gram model one id's probability, the cache its
// window share; the target's rank (for top-1 accuracy) takes whole distributions and is computed on request.
//
// Shapes: V vocabulary, n ids in a call, m targets, B buckets, C = 3 components, T validation tokens.

import { cacheRows } from '../predict/cache-model.js';
import type { ChunkScorer, ChunkScores, SequenceScorer } from '../scoring/evaluation.js';
import type { LanguageModel, RecurrentState } from '../model/language-model.js';
import { countHigher, MAX_ORDER, type KneserNey } from '../ngram/kneser-ney.js';
import { scoreInPieces } from '../scoring/sliced-scorer.js';

/** The parts, in the order of each row of weights. */
export const MIXTURE_COMPONENTS = ['network', 'ngram', 'cache'] as const;
export type MixtureComponent = (typeof MIXTURE_COMPONENTS)[number];
const C = MIXTURE_COMPONENTS.length;

/** Targets per piece of a mixture's scoring. */
const SCORING_PIECE = 256;

/** The count classes' upper bounds: totals below 4, below 32, and the rest. */
export const COUNT_EDGES: readonly number[] = [4, 32];

/** Validation tokens a fit reads at most (whole files, in order): EM needs far fewer than validation has. */
export const MIXTURE_FIT_TOKENS = 200_000;

/** Validation tokens the prior on a bucket's weights is worth (MAP-EM towards the weights of all tokens). */
export const PRIOR_TOKENS = 20;

/** What model.json records of the mixture, and all that serving it needs besides its parts. */
export interface MixtureSpec {
  /** The parts, in the order of each row of `weights` (MIXTURE_COMPONENTS). */
  components: MixtureComponent[];
  /** The n-gram model's order (its history is order − 1 ids). */
  order: number;
  /** Upper bounds of the count classes of the deepest matched context's total, ascending. */
  countEdges: number[];
  /** The cache window: the document's last `window` word-like tokens. */
  window: number;
  /** [B][C] weights, each row summing to 1: B = bucketCount(order, countEdges). */
  weights: number[][];
}

/** Buckets: (window empty or not) × matched orders 1..order × count classes. */
export function bucketCount(order: number, countEdges: readonly number[]): number {
  return 2 * order * (countEdges.length + 1);
}

/** The bucket of a context: `levels` orders matched (1..order), `total` counts after it, the window empty or not. */
export function bucketOf(spec: Pick<MixtureSpec, 'order' | 'countEdges'>, levels: number, total: number, windowEmpty: boolean): number {
  const edges = spec.countEdges;
  let cls = 0;
  while (cls < edges.length && total >= edges[cls]!) cls++;
  return ((windowEmpty ? spec.order : 0) + levels - 1) * (edges.length + 1) + cls;
}

/** Checks a spec (from model.json); the message says what is wrong. */
export function validateMixtureSpec(spec: unknown): MixtureSpec {
  const fail = (m: string): never => {
    throw new Error(`mixture: ${m}`);
  };
  if (typeof spec !== 'object' || spec === null) fail('is not an object');
  const s = spec as Partial<MixtureSpec>;
  if (!Array.isArray(s.components) || s.components.join() !== MIXTURE_COMPONENTS.join()) fail(`components must be ${JSON.stringify(MIXTURE_COMPONENTS)}`);
  if (!Number.isInteger(s.order) || s.order! < 1 || s.order! > MAX_ORDER) fail(`order must be an integer in [1, ${MAX_ORDER}] (got ${s.order})`);
  if (!Array.isArray(s.countEdges) || !s.countEdges.every((e, i) => Number.isFinite(e) && e > 0 && (i === 0 || e > s.countEdges![i - 1]!))) fail('countEdges must be ascending positive numbers');
  if (!Number.isInteger(s.window) || s.window! < 1) fail(`window must be a positive integer (got ${s.window})`);
  const B = bucketCount(s.order!, s.countEdges!);
  if (!Array.isArray(s.weights) || s.weights.length !== B) fail(`weights must hold ${B} rows`);
  for (const row of s.weights!) {
    if (!Array.isArray(row) || row.length !== C || !row.every((w) => Number.isFinite(w) && w >= 0)) fail(`each row of weights must hold ${C} numbers ≥ 0`);
    const sum = row.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-6) fail(`a row of weights sums to ${sum}, not 1`);
  }
  return s as MixtureSpec;
}

// ------------------------------------------------------------------------------------------------------
// Fitting.

/** Each validation token's probability under each part, and its bucket. */
export interface MixtureSamples {
  /** [C][T] p of the token under each part (the cache's 0 where its window lacks it). */
  p: Float64Array[];
  /** [T] */
  bucket: Int32Array;
}

/**
 * EM for interpolation weights: the weights of all tokens first, then each bucket's, drawn towards those by
 * a prior worth `prior` tokens (a Dirichlet prior, MAP-EM). Each step can only raise the (penalised)
 * likelihood; `iterations` steps are plenty for three parts.
 */
export function fitMixture(samples: MixtureSamples, buckets: number, opts: { iterations?: number; prior?: number } = {}): { weights: number[][]; global: number[] } {
  const iterations = opts.iterations ?? 100;
  const prior = opts.prior ?? PRIOR_TOKENS;
  const T = samples.bucket.length;
  if (samples.p.length !== C || samples.p.some((p) => p.length !== T)) throw new Error(`fitMixture: expected ${C} rows of ${T} probabilities`);
  const step = (lambda: Float64Array[], towards: (b: number) => Float64Array | undefined, single: boolean) => {
    const resp = Array.from({ length: single ? 1 : buckets }, () => new Float64Array(C));
    const count = new Float64Array(single ? 1 : buckets);
    for (let t = 0; t < T; t++) {
      const b = single ? 0 : samples.bucket[t]!;
      const l = lambda[b]!;
      let mix = 0;
      for (let c = 0; c < C; c++) mix += l[c]! * samples.p[c]![t]!;
      if (!(mix > 0)) continue;
      for (let c = 0; c < C; c++) resp[b]![c] += (l[c]! * samples.p[c]![t]!) / mix;
      count[b]++;
    }
    for (let b = 0; b < lambda.length; b++) {
      const pri = towards(b);
      const denom = count[b]! + (pri ? prior : 0);
      if (denom === 0) continue;
      for (let c = 0; c < C; c++) lambda[b]![c] = (resp[b]![c]! + (pri ? prior * pri[c]! : 0)) / denom;
    }
  };
  const global = [Float64Array.from([0.5, 0.4, 0.1])];
  for (let i = 0; i < iterations; i++) step(global, () => undefined, true);
  const weights = Array.from({ length: buckets }, () => Float64Array.from(global[0]!));
  for (let i = 0; i < iterations; i++) step(weights, () => global[0], false);
  const rows = weights.map((w) => {
    const sum = w.reduce((a, b) => a + b, 0);
    return Array.from(w, (x) => x / sum);
  });
  return { weights: rows, global: Array.from(global[0]!) };
}

/** Perplexity of `samples` under per-token weights `weightOf(t)` ([C]). */
export function samplesPerplexity(samples: MixtureSamples, weightOf: (t: number) => ArrayLike<number>): number {
  const T = samples.bucket.length;
  let nll = 0;
  for (let t = 0; t < T; t++) {
    const w = weightOf(t);
    let p = 0;
    for (let c = 0; c < C; c++) p += w[c]! * samples.p[c]![t]!;
    nll -= Math.log(p);
  }
  return Math.exp(nll / T);
}

/**
 * The samples of validation sequences (each [start, w1..wn], read from its start as evaluation reads a
 * file): the network's log p of each target from `networkScorer`, the n-gram model's and the cache's.
 */
export async function mixtureSamples(
  sequences: readonly Int32Array[],
  networkScorer: SequenceScorer,
  ngram: KneserNey,
  cached: Uint8Array,
  spec: Pick<MixtureSpec, 'order' | 'countEdges' | 'window'>,
  between: () => Promise<void> = async () => {},
): Promise<MixtureSamples> {
  const T = sequences.reduce((s, q) => s + Math.max(0, q.length - 1), 0);
  const p = Array.from({ length: C }, () => new Float64Array(T));
  const bucket = new Int32Array(T);
  let at = 0;
  for (const seq of sequences) {
    const m = seq.length - 1;
    if (m < 1) continue;
    const { logp } = await networkScorer.scoreSequence(seq);
    const rows = cacheRows(seq.subarray(0, m), new Int32Array(0), cached, { lambda: 1, window: spec.window }, seq.subarray(1));
    for (let t = 0; t < m; t++) {
      const target = seq[t + 1]!;
      const ctx = ngram.context(seq, t + 1);
      p[0]![at] = Math.exp(logp[t]!);
      p[1]![at] = ngram.probAfter(seq, t + 1, target);
      p[2]![at] = rows.targetWeights![t]!;
      bucket[at] = bucketOf(spec, ctx.levels, ctx.total, rows.keep[t] === 1);
      at++;
    }
    await between();
  }
  return { p, bucket };
}

/** Validation perplexities of the parts and of the mixture, as model.json records them. */
export interface MixtureFit {
  tokens: number;
  ppl: { network: number; ngram: number; networkCache: number; ngramCache: number; model: number };
}

/**
 * Fits the mixture's weights on `samples` and says how each part and the old fixed mixtures (a part with
 * the cache at DEFAULT_CACHE's λ, `cacheLambda`) do on them.
 */
export function fitMixtureSpec(samples: MixtureSamples, spec: Omit<MixtureSpec, 'weights' | 'components'>, cacheLambda: number): { spec: MixtureSpec; fit: MixtureFit } {
  const B = bucketCount(spec.order, spec.countEdges);
  const { weights } = fitMixture(samples, B);
  const full: MixtureSpec = { components: [...MIXTURE_COMPONENTS], ...spec, weights };
  const windowEmpty = (t: number) => Math.floor(samples.bucket[t]! / (spec.countEdges.length + 1)) >= spec.order;
  const withCache = (c: 0 | 1) => (t: number) => {
    const w = [0, 0, 0];
    const l = windowEmpty(t) ? 0 : cacheLambda;
    w[c] = 1 - l;
    w[2] = l;
    return w;
  };
  const alone = (c: 0 | 1) => () => (c === 0 ? [1, 0, 0] : [0, 1, 0]);
  return {
    spec: full,
    fit: {
      tokens: samples.bucket.length,
      ppl: {
        network: samplesPerplexity(samples, alone(0)),
        ngram: samplesPerplexity(samples, alone(1)),
        networkCache: samplesPerplexity(samples, withCache(0)),
        ngramCache: samplesPerplexity(samples, withCache(1)),
        model: samplesPerplexity(samples, (t) => weights[samples.bucket[t]!]!),
      },
    },
  };
}

// ------------------------------------------------------------------------------------------------------
// Serving.

/** The mixture's state: the network's (its h and c too, so code that reads a state's size sees the network's). */
export interface MixtureState extends RecurrentState {
  readonly net: RecurrentState;
  /** The last ≤ order − 1 ids: the n-gram model's history. */
  readonly history: Int32Array;
  /** The cache window: the last ≤ W cached ids, oldest first. */
  readonly window: Int32Array;
}

function mixtureState(net: RecurrentState, history: Int32Array, window: Int32Array): MixtureState {
  return net.c ? { h: net.h, c: net.c, net, history, window } : { h: net.h, net, history, window };
}

function partsOf(state: RecurrentState): MixtureState {
  const s = state as Partial<MixtureState>;
  if (!s.net || !(s.history instanceof Int32Array) || !(s.window instanceof Int32Array)) throw new Error('MixtureLanguageModel: a state that is not this model\'s (use its initialState())');
  return s as MixtureState;
}

/** `history` followed by `ids`. */
function joined(history: Int32Array, ids: Int32Array): Int32Array {
  const all = new Int32Array(history.length + ids.length);
  all.set(history);
  all.set(ids, history.length);
  return all;
}

/** A copy of the last ≤ n ids of `a`. */
function lastIds(a: Int32Array, n: number): Int32Array {
  return a.slice(Math.max(0, a.length - n));
}

/** The weights [network, ngram, cache] after history[0, end): its bucket's row. */
function weightsAfter(spec: MixtureSpec, ngram: KneserNey, history: Int32Array, end: number, windowEmpty: boolean): [number, number, number] {
  const { levels, total } = ngram.context(history, end);
  return spec.weights[bucketOf(spec, levels, total, windowEmpty)]! as [number, number, number];
}

/** The parts a mixture is made of. */
export interface MixtureParts {
  /** The network alone (no cache). */
  network: LanguageModel;
  ngram: KneserNey;
  /** [V] 1 for the ids the cache remembers (cachedIdsOf). */
  cached: Uint8Array;
  spec: MixtureSpec;
}

export class MixtureLanguageModel implements LanguageModel {
  readonly vocabSize: number;

  constructor(private readonly parts: MixtureParts) {
    const { network, ngram, cached, spec } = parts;
    validateMixtureSpec(spec);
    if (ngram.vocabSize !== network.vocabSize) throw new Error(`MixtureLanguageModel: the n-gram model has ${ngram.vocabSize} ids, the network ${network.vocabSize}`);
    if (ngram.order !== spec.order) throw new Error(`MixtureLanguageModel: the mixture was fitted for an order-${spec.order} n-gram model, not order ${ngram.order}`);
    if (cached.length !== network.vocabSize) throw new Error(`MixtureLanguageModel: ${cached.length} cache flags for a vocabulary of ${network.vocabSize}`);
    this.vocabSize = network.vocabSize;
  }

  initialState(): RecurrentState {
    return mixtureState(this.parts.network.initialState(), new Int32Array(0), new Int32Array(0));
  }

  async run(ids: Int32Array, state: RecurrentState): Promise<{ logProbs: Float32Array; state: RecurrentState }> {
    const s = partsOf(state);
    const { network, ngram, cached, spec } = this.parts;
    const out = await network.run(ids, s.net);
    const logProbs = out.logProbs; //                                                  [n, V], mixed in place
    const history = joined(s.history, ids);
    const rows = cacheRows(ids, s.window, cached, { lambda: 1, window: spec.window });
    const V = this.vocabSize;
    for (let t = 0; t < ids.length; t++) {
      const end = s.history.length + t + 1;
      const empty = rows.keep[t] === 1;
      const [wn, wk, wc] = weightsAfter(spec, ngram, history, end, empty);
      const pk = ngram.probabilitiesAfter(history, end);
      const row = t * V;
      for (let v = 0; v < V; v++) logProbs[row + v] = Math.log(wn * Math.exp(logProbs[row + v]!) + wk * pk[v]!);
      if (empty || wc === 0) continue;
      for (let k = 0; k < rows.K; k++) {
        const c = rows.weights[t * rows.K + k]!;
        if (c === 0) continue;
        const w = rows.ids[k]!;
        logProbs[row + w] = Math.log(Math.exp(logProbs[row + w]!) + wc * c);
      }
    }
    return { logProbs, state: mixtureState(out.state, lastIds(history, spec.order - 1), rows.window) };
  }

  async advance(ids: Int32Array, state: RecurrentState): Promise<RecurrentState> {
    const s = partsOf(state);
    const { network, cached, spec } = this.parts;
    const net = network.advance ? await network.advance(ids, s.net) : (await network.run(ids, s.net)).state;
    const history = joined(s.history, ids);
    const window = joined(s.window, ids.filter((id) => cached[id]));
    return mixtureState(net, lastIds(history, spec.order - 1), lastIds(window, spec.window));
  }
}

/**
 * Scores the mixture from the parts' scores: `networkScorer` (the network alone; its states are the
 * network's) gives log p_net(target). Ranks (top-1 accuracy) need whole distributions: with `ranked`,
 * the network's distributions come from `ranked.network` and each target's rank is counted over the whole
 * mixed distribution; without, `rank` is left out.
 */
export class MixtureScorer implements ChunkScorer, SequenceScorer {
  constructor(
    private readonly parts: Omit<MixtureParts, 'network'> & { networkScorer: ChunkScorer },
    private readonly ranked?: { network: LanguageModel },
  ) {}

  initialState(): RecurrentState {
    return mixtureState(this.parts.networkScorer.initialState(), new Int32Array(0), new Int32Array(0));
  }

  /** In pieces of at most SCORING_PIECE targets: the ranks' whole distributions are [piece, V]. */
  scoreChunk(ids: Int32Array, state: RecurrentState): Promise<ChunkScores> {
    if (ids.length < 2) return Promise.reject(new Error('MixtureScorer.scoreChunk: needs at least two ids (an input and a target)'));
    return scoreInPieces(ids, state, SCORING_PIECE, (piece, at) => this.scorePiece(piece, at));
  }

  private async scorePiece(ids: Int32Array, state: RecurrentState): Promise<ChunkScores> {
    const s = partsOf(state);
    const { networkScorer, ngram, cached, spec } = this.parts;
    const m = ids.length - 1;
    const inputs = ids.subarray(0, m);
    const net = await networkScorer.scoreChunk(ids, s.net);
    const full = this.ranked ? (await this.ranked.network.run(inputs, s.net)).logProbs : undefined; // [m, V]
    const history = joined(s.history, inputs);
    const rows = cacheRows(inputs, s.window, cached, { lambda: 1, window: spec.window }, ids.subarray(1));
    const logp = new Float32Array(m); //                                                 [m]
    const rank = full ? new Int32Array(m) : undefined; //                                [m]
    const V = ngram.vocabSize;
    const mixed = full ? new Float64Array(V) : undefined;
    for (let t = 0; t < m; t++) {
      const end = s.history.length + t + 1;
      const target = ids[t + 1]!;
      const empty = rows.keep[t] === 1;
      const [wn, wk, wc] = weightsAfter(spec, ngram, history, end, empty);
      const pc = empty ? 0 : rows.targetWeights![t]!;
      const p = wn * Math.exp(net.logp[t]!) + wk * ngram.probAfter(history, end, target) + wc * pc;
      logp[t] = Math.log(p);
      if (full && mixed && rank) {
        const pk = ngram.probabilitiesAfter(history, end);
        const row = t * V;
        for (let v = 0; v < V; v++) mixed[v] = wn * Math.exp(full[row + v]!) + wk * pk[v]!;
        if (!empty && wc > 0) for (let k = 0; k < rows.K; k++) mixed[rows.ids[k]!] += wc * rows.weights[t * rows.K + k]!;
        rank[t] = countHigher(mixed, mixed[target]!);
      }
    }
    return {
      logp,
      ...(rank ? { rank } : {}),
      state: mixtureState(net.state, lastIds(history, spec.order - 1), rows.window),
    };
  }

  async scoreSequence(ids: Int32Array): Promise<{ logp: Float32Array; rank?: Int32Array }> {
    if (ids.length < 2) return { logp: new Float32Array(0), ...(this.ranked ? { rank: new Int32Array(0) } : {}) };
    const { logp, rank } = await this.scoreChunk(ids, this.initialState());
    return { logp, ...(rank ? { rank } : {}) };
  }
}
