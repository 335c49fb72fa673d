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

import type { LanguageModel, RecurrentState } from './language-model.js';
import { isWordLike, UNK } from './tokenizer.js';
import type { Vocabulary } from './vocabulary.js';

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

/** The wrapper's state: the base model's, and the window (oldest first). */
interface CacheState extends RecurrentState {
  readonly base: RecurrentState;
  /** The last ≤ W cached ids, oldest first. */
  readonly window: Int32Array;
}

export class CacheLanguageModel implements LanguageModel {
  readonly vocabSize: number;
  private readonly lambda: number;
  private readonly W: number;
  /** Which ids enter the window. */
  private readonly cached: Uint8Array; //                                                [V]

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
    this.lambda = lambda;
    this.W = window;
    this.cached = Uint8Array.from({ length: base.vocabSize }, (_, i) => (cachedIds[i] ? 1 : 0));
  }

  initialState(): RecurrentState {
    const base = this.base.initialState();
    return this.wrap(base, new Int32Array(0));
  }

  async run(ids: Int32Array, state: RecurrentState): Promise<{ logProbs: Float32Array; state: RecurrentState }> {
    const s = this.unwrap(state);
    const out = await this.base.run(ids, s.base);
    const V = this.vocabSize;
    const logProbs = out.logProbs; // [n, V], the base model's own buffer: mixed in place
    const window = new Window(s.window, this.W);
    const keep = Math.log1p(-this.lambda);
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t]!;
      if (this.cached[id]) window.push(id);
      if (window.size === 0 || this.lambda === 0) continue;
      // log((1 − λ)·p + λ·c/size): only the window's words get cache mass; every other word gets log(1 − λ).
      const row = t * V;
      for (let v = 0; v < V; v++) logProbs[row + v] += keep;
      const scale = this.lambda / window.size;
      for (const [w, count] of window.counts) {
        const lp = logProbs[row + w]!; // already + log(1 − λ)
        logProbs[row + w] = Math.log(Math.exp(lp) + scale * count);
      }
    }
    return { logProbs, state: this.wrap(out.state, window.toArray()) };
  }

  async advance(ids: Int32Array, state: RecurrentState): Promise<RecurrentState> {
    const s = this.unwrap(state);
    const base = this.base.advance ? await this.base.advance(ids, s.base) : (await this.base.run(ids, s.base)).state;
    const window = new Window(s.window, this.W);
    for (const id of ids) if (this.cached[id]) window.push(id);
    return this.wrap(base, window.toArray());
  }

  private wrap(base: RecurrentState, window: Int32Array): CacheState {
    // h and c are the base model's, so code that reads a state's size still sees the model's.
    return base.c ? { h: base.h, c: base.c, base, window } : { h: base.h, base, window };
  }

  private unwrap(state: RecurrentState): CacheState {
    const s = state as Partial<CacheState>;
    if (!s.base || !(s.window instanceof Int32Array)) throw new Error('CacheLanguageModel: a state that is not this model\'s (use its initialState())');
    return s as CacheState;
  }
}

/** The last W cached ids with their counts; built from a state's window, which it never changes. */
class Window {
  readonly counts = new Map<number, number>();
  private readonly ids: number[];
  private start = 0;

  constructor(
    initial: Int32Array,
    private readonly W: number,
  ) {
    this.ids = Array.from(initial);
    for (const id of initial) this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }

  get size(): number {
    return this.ids.length - this.start;
  }

  push(id: number): void {
    this.ids.push(id);
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    if (this.size > this.W) {
      const old = this.ids[this.start++]!;
      const n = this.counts.get(old)! - 1;
      if (n === 0) this.counts.delete(old);
      else this.counts.set(old, n);
    }
  }

  toArray(): Int32Array {
    return Int32Array.from(this.ids.slice(this.start));
  }
}
