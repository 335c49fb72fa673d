// A document cache over any LanguageModel (Kuhn & De Mori's cache model; the unigram form of Grave et
// al.'s continuous cache): the next token's distribution is mixed with the distribution of the word-like
// tokens among the last `window` tokens of the document,
//
//   p(w | history) = (1 − λ) · p_model(w | history) + λ · count_window(w) / |window|,
//
// so that names and terms the file keeps using (rare in the training text, or `<unk>` to it) are predicted
// the way the file uses them. With an empty window (the start of a file) the model's distribution is used
// as is. Only word-like tokens (words, numbers, identifiers; `<unk>` included) enter the window: white space
// and punctuation are what the model already predicts best.
//
// The cache is part of the recurrent state: the wrapper's state carries the base model's state and the
// window, and is never mutated, so the Predictor's context cache, LanguageModelScorer and the completion
// engine work on the mixture unchanged, and perplexity with the cache means what it means without it.
//
// Shapes: V vocabulary, n ids in a call, W window length.

import type { LanguageModel, RecurrentState } from '../model/language-model.js';
import { isWordLike, UNK } from '../text/tokenizer.js';
import type { Vocabulary } from '../text/vocabulary.js';

export interface CacheOptions {
  /** λ, the cache's share of the mixture, in [0, 1). */
  lambda: number;
  /** W, the tokens remembered (word-like ones; at least 1). */
  window: number;
}

/** The mixture's settings used unless told otherwise; tuned on validation text (see the README). */
export const DEFAULT_CACHE: Readonly<CacheOptions> = Object.freeze({ lambda: 0.1, window: 500 });

/** Which ids of `vocab` the cache remembers: the word-like ones and `<unk>`. */
export function cachedIdsOf(vocab: Vocabulary): boolean[] {
  return vocab.toJSON().map((w) => w === UNK || isWordLike(w));
}

/** cachedIdsOf as flags [V] (1: remembered), the form cacheRows and the mixture take. */
export function cachedFlagsOf(vocab: Vocabulary): Uint8Array {
  return Uint8Array.from(cachedIdsOf(vocab), (b) => (b ? 1 : 0));
}

/** The wrapper's state: the base model's, and the window (oldest first). */
export interface CacheState extends RecurrentState {
  readonly base: RecurrentState;
  /** The last ≤ W cached ids, oldest first. */
  readonly window: Int32Array;
}

/** A cache state from the base model's state and a window. */
export function cacheState(base: RecurrentState, window: Int32Array): CacheState {
  // h and c are the base model's, so code that reads a state's size still sees the model's.
  return base.c ? { h: base.h, c: base.c, base, window } : { h: base.h, base, window };
}

/** The parts of a cache state; fails on a state that is not one. */
export function cacheStateParts(state: RecurrentState): CacheState {
  const s = state as Partial<CacheState>;
  if (!s.base || !(s.window instanceof Int32Array)) throw new Error('CacheLanguageModel: a state that is not this model\'s (use its initialState())');
  return s as CacheState;
}

/**
 * The cache's part of the mixture after each of n inputs: row t is the window after inputs[0..t], which
 * predicts the token after inputs[t]. Rows are given over the K words that are in any row's window (they
 * differ by a word or two from one row to the next), so filling them is a copy and two updates per row.
 * What the scoring graph takes (`keep`, `cache_ids`, `cache_weights`, `target_cache`) and what
 * CacheLanguageModel mixes in.
 */
export interface CacheRows {
  /** Words in the rows: the distinct words of every row's window (at least 1; a lone 0 of weight 0 if none). */
  K: number;
  /** [n] 1 − λ, or 1 while the window is empty (or λ = 0). */
  keep: Float32Array;
  /** [K] the words. */
  ids: Int32Array;
  /** [n, K] each word's cache probability λ·count/|window| in row t; 0 where it is not in that window. */
  weights: Float32Array;
  /** [n] the cache probability of targets[t] in row t, when targets were given. */
  targetWeights?: Float32Array;
  /** The window after the last input (for the next state). */
  window: Int32Array;
}

/** Builds CacheRows for `inputs` from `window`; `cached[id]` says whether id enters the window. */
export function cacheRows(inputs: Int32Array, window: Int32Array, cached: Uint8Array, opts: CacheOptions, targets?: Int32Array): CacheRows {
  const n = inputs.length;
  const W = opts.window;
  // The words: the window's, then each cached input's, numbered in order of appearance.
  const slotOf = new Map<number, number>();
  const words: number[] = [];
  const slot = (id: number) => {
    let s = slotOf.get(id);
    if (s === undefined) {
      s = words.length;
      slotOf.set(id, s);
      words.push(id);
    }
    return s;
  };
  // The window as a queue of slots (oldest first), at most W + n long.
  const queue = new Int32Array(window.length + n);
  let head = 0;
  let tail = 0;
  for (const id of window) queue[tail++] = slot(id);
  for (const id of inputs) if (cached[id]) slot(id);
  const K = Math.max(1, words.length);
  const counts = new Float32Array(K); //                                                [K]
  for (let i = head; i < tail; i++) counts[queue[i]!]!++;
  const keep = new Float32Array(n); //                                                  [n]
  const weights = new Float32Array(n * K); //                                           [n, K]
  const targetWeights = targets ? new Float32Array(n) : undefined; //                    [n]
  for (let t = 0; t < n; t++) {
    const id = inputs[t]!;
    if (cached[id]) {
      const s = slotOf.get(id)!;
      queue[tail++] = s;
      counts[s]!++;
      if (tail - head > W) counts[queue[head++]!]!--;
    }
    const size = tail - head;
    if (size === 0 || opts.lambda === 0) {
      keep[t] = 1;
      continue;
    }
    keep[t] = 1 - opts.lambda;
    const scale = opts.lambda / size;
    const row = t * K;
    for (let k = 0; k < K; k++) weights[row + k] = counts[k]! * scale;
    if (targetWeights) {
      const s = slotOf.get(targets![t]!);
      if (s !== undefined) targetWeights[t] = weights[row + s]!;
    }
  }
  const ids = words.length ? Int32Array.from(words) : new Int32Array(1);
  const last = new Int32Array(tail - head);
  for (let i = head; i < tail; i++) last[i - head] = words[queue[i]!]!;
  return { K, keep, ids, weights, ...(targetWeights ? { targetWeights } : {}), window: last };
}

export class CacheLanguageModel implements LanguageModel {
  readonly vocabSize: number;
  private readonly opts: CacheOptions;
  /** Which ids enter the window. */
  readonly cached: Uint8Array; //                                                        [V]

  constructor(
    private readonly base: LanguageModel,
    /** Whether each id is word-like (vocabulary order); only those are cached. */
    cachedIds: ArrayLike<boolean>,
    opts: CacheOptions = DEFAULT_CACHE,
  ) {
    const { lambda, window } = opts;
    if (!(lambda >= 0 && lambda < 1)) throw new Error(`CacheLanguageModel: lambda must lie in [0, 1) (got ${lambda})`);
    if (!Number.isInteger(window) || window < 1) throw new Error(`CacheLanguageModel: window must be a positive integer (got ${window})`);
    if (cachedIds.length !== base.vocabSize) throw new Error(`CacheLanguageModel: ${cachedIds.length} flags for a vocabulary of ${base.vocabSize}`);
    this.vocabSize = base.vocabSize;
    this.opts = { lambda, window };
    this.cached = Uint8Array.from({ length: base.vocabSize }, (_, i) => (cachedIds[i] ? 1 : 0));
  }

  initialState(): RecurrentState {
    return cacheState(this.base.initialState(), new Int32Array(0));
  }

  async run(ids: Int32Array, state: RecurrentState): Promise<{ logProbs: Float32Array; state: RecurrentState }> {
    const s = cacheStateParts(state);
    const out = await this.base.run(ids, s.base);
    const V = this.vocabSize;
    const logProbs = out.logProbs; // [n, V], the base model's own buffer: mixed in place
    const rows = cacheRows(ids, s.window, this.cached, this.opts);
    const { K } = rows;
    for (let t = 0; t < ids.length; t++) {
      if (rows.keep[t] === 1) continue;
      // log(keep·p + c): only the window's words get cache mass; every other word gets log keep.
      const row = t * V;
      const logKeep = Math.log(rows.keep[t]!);
      for (let v = 0; v < V; v++) logProbs[row + v] += logKeep;
      for (let k = 0; k < K; k++) {
        const c = rows.weights[t * K + k]!;
        if (c === 0) continue;
        const w = rows.ids[k]!;
        logProbs[row + w] = Math.log(Math.exp(logProbs[row + w]!) + c);
      }
    }
    return { logProbs, state: cacheState(out.state, rows.window) };
  }

  async advance(ids: Int32Array, state: RecurrentState): Promise<RecurrentState> {
    const s = cacheStateParts(state);
    const base = this.base.advance ? await this.base.advance(ids, s.base) : (await this.base.run(ids, s.base)).state;
    // The window after `ids`: the last W cached ids of the old window and the new ones.
    const joined = Int32Array.from([...s.window, ...ids.filter((id) => this.cached[id])]);
    return cacheState(base, joined.slice(Math.max(0, joined.length - this.opts.window)));
  }
}
