// Draws the words of a sampled softmax (train-step.ts, SampledSoftmax) for each training step: K distinct
// words from the proposal q(w) ∝ (count(w) + 1)^0.75 of the training text (word2vec's smoothed unigram;
// the +1 gives every word of the vocabulary a chance, so none keeps its initial logit for ever), drawn with
// replacement until K are distinct. A word's probability of being among them after `tries` draws is
// Q(w) = 1 − (1 − q(w))^tries, which the loss corrects for. Frequent words are nearly always drawn
// (Q ≈ 1): the head of the distribution is computed exactly and only the tail is estimated.
//
// Draws use Vose's alias method (O(1) each) from the trainer's seeded generator, so a run is reproducible.
//
// Shapes: V vocabulary, K samples.

import type { Uniform } from '../support/random.js';
import type { SampledSoftmax } from './train-step.js';

/** The proposal's exponent on the counts. */
export const SAMPLER_POWER = 0.75;

export class SoftmaxSampler {
  readonly V: number;
  /** [V] proposal probabilities. */
  readonly q: Float64Array;
  private readonly prob: Float64Array; //                                                 [V] alias acceptance
  private readonly alias: Int32Array; //                                                  [V]
  private readonly seen: Uint8Array; //                                                   [V] scratch, all 0 between draws

  constructor(
    /** [V] occurrences of each word in the training text. */
    counts: ArrayLike<number>,
    /** Samples per step; at least V means the whole vocabulary every step (the full softmax). */
    readonly K: number,
    private readonly rand: Uniform,
  ) {
    const V = counts.length;
    if (V < 2) throw new Error(`SoftmaxSampler: a vocabulary of ${V} words`);
    if (!Number.isInteger(K) || K < 1) throw new Error(`SoftmaxSampler: K must be a positive integer (got ${K})`);
    this.V = V;
    const weights = Float64Array.from({ length: V }, (_, v) => {
      const c = counts[v]!;
      if (!(c >= 0)) throw new Error(`SoftmaxSampler: count ${c} for word ${v}`);
      return (c + 1) ** SAMPLER_POWER;
    });
    const total = weights.reduce((a, b) => a + b, 0);
    this.q = weights.map((w) => w / total);
    ({ prob: this.prob, alias: this.alias } = aliasTable(this.q));
    this.seen = new Uint8Array(V);
  }

  /** The next step's samples: K distinct ids (in the order drawn) and their log Q. */
  draw(): SampledSoftmax {
    const { V, K } = this;
    if (K >= V) return { ids: Int32Array.from({ length: V }, (_, v) => v), logQ: new Float32Array(V) };
    const ids = new Int32Array(K);
    let n = 0;
    let tries = 0;
    while (n < K) {
      const v = this.next();
      tries++;
      if (!this.seen[v]) {
        this.seen[v] = 1;
        ids[n++] = v;
      }
    }
    const logQ = new Float32Array(K);
    for (let k = 0; k < K; k++) {
      const v = ids[k]!;
      this.seen[v] = 0;
      // log(1 − (1 − q)^tries), computed without cancellation for small q and without log(0) for q ≈ 1
      logQ[k] = Math.log(-Math.expm1(tries * Math.log1p(-this.q[v]!)));
    }
    return { ids, logQ };
  }

  private next(): number {
    const u = this.rand() * this.V;
    const i = Math.min(this.V - 1, Math.floor(u));
    return u - i < this.prob[i]! ? i : this.alias[i]!;
  }
}

/** [V] occurrences of each id in `ids` (ids outside [0, V) are ignored): what the sampler is built from. */
export function countIds(ids: Int32Array, V: number): Float64Array {
  const counts = new Float64Array(V);
  for (const id of ids) if (id >= 0 && id < V) counts[id]!++;
  return counts;
}

/** Vose's alias method: bucket i keeps i with probability prob[i], else gives alias[i]. */
function aliasTable(q: Float64Array): { prob: Float64Array; alias: Int32Array } {
  const V = q.length;
  const prob = new Float64Array(V);
  const alias = new Int32Array(V);
  const scaled = Float64Array.from(q, (p) => p * V);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
  while (small.length && large.length) {
    const s = small.pop()!;
    const l = large.pop()!;
    prob[s] = scaled[s]!;
    alias[s] = l;
    scaled[l] = scaled[l]! + scaled[s]! - 1;
    (scaled[l]! < 1 ? small : large).push(l);
  }
  for (const i of [...small, ...large]) {
    prob[i] = 1;
    alias[i] = i;
  }
  return { prob, alias };
}
