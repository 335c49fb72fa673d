// A bigram language model for tests: the next-token distribution depends only on the last id fed, and is
// written out by hand, so every probability a test expects comes from the table, not from the code under
// test. Running ids in one call or several gives bit-identical results. Every run is recorded, so a test
// can count the tokens the model was asked to run.
//
// Shapes: V vocabulary, n ids in a run.

import assert from 'node:assert/strict';

import type { LanguageModel, RecurrentState } from '../../src/core/model/language-model.js';
import type { Vocabulary } from '../../src/core/text/vocabulary.js';

/** `table[prev][next]` = p(next | prev); the rest of a row's mass is spread evenly over the other tokens. */
export type BigramTable = Record<string, Record<string, number>>;

export class BigramModel implements LanguageModel {
  readonly vocabSize: number;
  /** The ids of every run, in order. */
  readonly calls: number[][] = [];
  /** Set to make run() wait for it (to hold a request in flight). */
  gate: Promise<void> | undefined;
  /** Set to make run() fail. */
  failure: Error | undefined;
  private readonly rows: Float32Array[]; //                                          V × [V]

  constructor(
    readonly vocab: Vocabulary,
    table: BigramTable,
  ) {
    this.vocabSize = vocab.size;
    const fallback = this.row({});
    this.rows = vocab.toJSON().map((w) => (table[w] ? this.row(table[w]!) : fallback));
  }

  /** p(next | prev) as the model holds it (exp of its float32 log). */
  prob(prev: string, next: string): number {
    return Math.exp(this.rows[this.vocab.id(prev)]![this.vocab.id(next)]!);
  }

  /** Tokens run so far, over every call. */
  get tokensRun(): number {
    return this.calls.reduce((n, c) => n + c.length, 0);
  }

  initialState(): RecurrentState {
    return { h: Float32Array.of(-1) };
  }

  async run(ids: Int32Array, state: RecurrentState): Promise<{ logProbs: Float32Array; state: RecurrentState }> {
    assert.equal(state.h.length, 1);
    this.calls.push(Array.from(ids));
    if (this.gate) await this.gate;
    if (this.failure) throw this.failure;
    const V = this.vocabSize;
    const logProbs = new Float32Array(ids.length * V);
    ids.forEach((id, t) => logProbs.set(this.rows[id]!, t * V));
    return { logProbs, state: { h: Float32Array.of(ids[ids.length - 1]!) } };
  }

  private row(spec: Record<string, number>): Float32Array {
    const V = this.vocabSize;
    const p = new Float64Array(V);
    let given = 0;
    for (const [w, q] of Object.entries(spec)) {
      assert.ok(this.vocab.has(w), `table word ${JSON.stringify(w)} is not in the vocabulary`);
      p[this.vocab.id(w)] = q;
      given += q;
    }
    const rest = V - Object.keys(spec).length;
    for (let v = 0; v < V; v++) if (!(this.vocab.word(v) in spec)) p[v] = (1 - given) / rest;
    return Float32Array.from(p, Math.log);
  }
}
