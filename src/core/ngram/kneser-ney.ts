// Interpolated modified Kneser-Ney n-gram language model (Chen & Goodman 1998, "An Empirical Study of
// Smoothing Techniques for Language Modeling", §3.5): a count-based model that trains in seconds and serves
// the LSTM's interfaces (LanguageModel for the Predictor, SequenceScorer and ChunkScorer for evaluateText).
//
// Shapes: V vocabulary, N order (1..MAX_ORDER), C context nodes (the root included), F stored n-grams, n ids.
//
// Counting. A training sequence (one file's ids w1..wn) is read as [start, w1..wn], the start token as
// context only, as evaluation reads text: w_i is predicted from the last ≤ N−1 tokens before it, w1 from the
// start token alone. At position i the longest n-gram has m = min(i + 1, N) tokens; when m < N it begins at
// the sequence's start, where nothing precedes it. `<unk>` (id 0) is an ordinary token. Adjusted counts a(g),
// as KenLM: the raw count for N-grams; for a shorter n-gram, the number of distinct tokens seen right before
// it (its continuation count N1+(• g)) plus the number of times it began a sequence (counted as an N-gram is).
//
// Probability. For a history h, with h_n its last n − 1 tokens (h_1 empty):
//   p_n(w | h) = (a(h_n w) − D_n(a(h_n w))) / T_n(h)  +  γ_n(h) · p_{n−1}(w | h),      p_0(w) = 1 / V
//   T_n(h) = Σ_w a(h_n w),   γ_n(h) = (D_n,1 N1(h_n •) + D_n,2 N2(h_n •) + D_n,3+ N3+(h_n •)) / T_n(h)
// the first term being 0 for a word never seen after h_n, and N_k(h_n •) the number of words seen after h_n
// with adjusted count k (3+: at least 3). An order whose context was never seen (T = 0) passes p_{n−1} on.
// Each p_n sums to 1 over the V ids and gives every id p > 0. Discounts per order, from the count-of-counts
// n_k of its adjusted counts: Y = n1/(n1 + 2 n2), D1 = 1 − 2Y n2/n1, D2 = 2 − 3Y n3/n2, D3+ = 3 − 4Y n4/n3.
// On a small corpus some n_k is 0 and these give no number, or a discount of 0 or k: whenever a discount is
// not strictly between 0 and k, the order falls back to D = (0.5, 1, 1.5) (KenLM's --discount_fallback).
// 0 < D_k < k keeps some mass for every seen n-gram and leaves some to the lower order in every context.
//
// Evaluation. With S_n = γ_1 ⋯ γ_n and α_n(w) the first term at order n, p_N(w) = S_N · (1/V + Σ_n α_n(w) / S_n):
// a whole distribution costs a copy of the unigram level (the same for every context, computed once), one
// pass over V and one over the followers of each longer context (`distribution`); one id takes the same
// arithmetic (`logProb`), so both give bit-identical numbers. Computed in float64.
//
// Layout. Contexts form a trie on the reversed history: the child of node c by token t extends c's context
// one token further back (the root is the empty context). Nodes are numbered breadth-first, siblings by
// token, so the children of c are nodes childStart[c] … childStart[c+1]−1 (binary search in nodeToken); c's
// followers (the words seen after its context, ascending, with adjusted counts) are entries followStart[c] …
// followStart[c+1]−1 of followWord / followCount. Training counts into open-addressing hash tables of int
// pairs ((parent, token) → context, (context, word) → n-gram), then sorts both into this layout.
//
// As a LanguageModel the recurrent state is the history: h = [k, id_1 … id_k, 0 …] (length N), the last
// k ≤ N − 1 ids fed, oldest first (ids below 2^24 are exact in float32); no `c`. The initial state, all
// zeros, is the empty history. So the Predictor and LanguageModelScorer work on this model unchanged.
//
// Binary format, little-endian, version 1: "NWKN", u32 version, u32 N, u32 V, u32 C, u32 F, f64 [N, 3]
// discounts (D1, D2, D3+ of orders 1..N), i32 [C − 1] nodeToken of nodes 1…, u32 [C + 1] childStart,
// u32 [C + 1] followStart, i32 [F] followWord, u32 [F] followCount. Totals and γ are recomputed on load.

import type { ChunkScorer, RankedScores, SequenceScorer } from '../scoring/evaluation.js';
import { runSteps, runStepsPaced, type Steps } from '../support/event-loop.js';
import type { LanguageModel, RecurrentState } from '../model/language-model.js';

export interface KneserNeyOptions {
  /** Ids are 0..vocabSize−1 (at most 2^24, so that the state's float32 holds them exactly). */
  vocabSize: number;
  /** n-gram order, 1..MAX_ORDER (default 4): each token is predicted from at most order − 1 tokens before it. */
  order?: number;
  /** The token each sequence is preceded by, as context (see startTokenId in evaluation.ts). */
  startId: number;
}

/** The highest order a model may have (the companion's deepest is 6: companion.ts). */
export const MAX_ORDER = 7;
const DEFAULT_ORDER = 4;
const MAX_VOCAB = 1 << 24;
const FALLBACK_DISCOUNTS = [0.5, 1, 1.5];
const MAGIC = 'NWKN';
const FORMAT_VERSION = 1;
const HEADER_BYTES = 24;
const MAX_COUNT = 0x7fffffff;
/** Whether typed arrays are little-endian here (as the binary format is). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class KneserNey implements LanguageModel, SequenceScorer, ChunkScorer {
  private readonly total: Float64Array; //     [C] T: the sum of a node's follower counts
  private readonly gammaMass: Float64Array; // [C] γ · T: the discounted mass
  private readonly unigram: Float64Array; //   [V] 1/V + α_1 / S_1: every query's start (S_1 = unigramScale)
  private readonly unigramScale: number;
  private readonly path: Int32Array; //        [N] scratch: context nodes of one history, root first
  private readonly prob: Float64Array; //      [V] scratch: one distribution

  private constructor(
    readonly order: number,
    readonly vocabSize: number,
    private readonly discounts: Float64Array, //  [N, 3]
    private readonly nodeToken: Int32Array, //    [C] (the root's is unused)
    private readonly childStart: Uint32Array, //  [C + 1]
    private readonly followStart: Uint32Array, // [C + 1]
    private readonly followWord: Int32Array, //   [F]
    private readonly followCount: Int32Array, //  [F] adjusted counts
    sums: NodeSums,
  ) {
    this.total = sums.total;
    this.gammaMass = sums.gammaMass;
    this.unigram = new Float64Array(vocabSize).fill(1 / vocabSize);
    this.unigramScale = this.addOrder(this.unigram, 0, 0, 1);
    this.path = new Int32Array(order);
    this.prob = new Float64Array(vocabSize);
  }

  /** Counts the n-grams of `sequences` (each read after `startId`) and estimates the model. */
  static train(sequences: Iterable<Int32Array>, opts: KneserNeyOptions): KneserNey {
    const V = opts.vocabSize;
    const N = opts.order ?? DEFAULT_ORDER;
    const startId = opts.startId;
    if (!Number.isInteger(V) || V < 1 || V > MAX_VOCAB) throw new Error(`KneserNey.train: vocabSize must be an integer in [1, 2^24] (got ${V})`);
    if (!Number.isInteger(N) || N < 1 || N > MAX_ORDER) throw new Error(`KneserNey.train: order must be an integer in [1, ${MAX_ORDER}] (got ${N})`);
    if (!Number.isInteger(startId) || startId < 0 || startId >= V) throw new Error(`KneserNey.train: startId ${startId} is outside the vocabulary [0, ${V})`);

    const contexts = new PairTable(); // (parent node, token) → node − 1 (node 0 is the root)
    const grams = new PairTable(); //    (context node, word) → n-gram index
    let counts: Int32Array = new Int32Array(1024); // adjusted count of each n-gram
    const ctx = new Int32Array(N); //    ctx[k]: the node of the last k tokens of the history
    let s = 0;
    for (const seq of sequences) {
      if (!(seq instanceof Int32Array)) throw new Error(`KneserNey.train: sequence ${s} is not an Int32Array`);
      for (let i = 1; i <= seq.length; i++) {
        // Position i of [start, seq…] holds seq[i − 1]; position 0 is the start token.
        const w = seq[i - 1]!;
        if (w < 0 || w >= V) throw new Error(`KneserNey.train: sequence ${s} holds id ${w}, outside the vocabulary [0, ${V})`);
        const m = Math.min(i + 1, N);
        for (let k = 1; k < m; k++) ctx[k] = contexts.getOrAdd(ctx[k - 1]!, i === k ? startId : seq[i - k - 1]!) + 1;
        // The longest n-gram here counts once (raw count, or a sequence's beginning). A shorter one gains one
        // continuation count when the n-gram one token longer was new; once an n-gram was seen before, the
        // shorter ones were counted then.
        for (let n = m; n >= 1; n--) {
          const before = grams.size;
          const e = grams.getOrAdd(ctx[n - 1]!, w);
          if (e === counts.length) counts = grown(counts);
          counts[e]!++;
          if (grams.size === before) break;
        }
      }
      s++;
    }
    return KneserNey.build(N, V, contexts, grams, counts);
  }

  /** Sorts the counted tables into the query layout and estimates the discounts. */
  private static build(N: number, V: number, contexts: PairTable, grams: PairTable, counts: Int32Array): KneserNey {
    // Contexts: old ids are insertion order (node = entry + 1); new ids breadth-first, siblings by token.
    const C = contexts.size + 1;
    const oldNode = new Int32Array(C - 1);
    for (let e = 0; e < C - 1; e++) oldNode[e] = e + 1;
    const siblings = sortPairs(C - 1, contexts.a, C, contexts.b, V, oldNode);
    const newId = new Int32Array(C);
    const oldId = new Int32Array(C);
    const nodeToken = new Int32Array(C);
    const childStart = new Uint32Array(C + 1);
    let next = 1;
    for (let q = 0; q < C; q++) {
      const old = oldId[q]!;
      childStart[q] = next;
      for (let j = siblings.start[old]!; j < siblings.start[old + 1]!; j++) {
        oldId[next] = siblings.payload[j]!;
        newId[siblings.payload[j]!] = next;
        nodeToken[next++] = siblings.minor[j]!;
      }
    }
    childStart[C] = C;

    // Followers: grouped by (new) context node, words ascending.
    const F = grams.size;
    const gramNode = new Int32Array(F);
    for (let e = 0; e < F; e++) gramNode[e] = newId[grams.a[e]!]!;
    const { start: followStart, minor: followWord, payload: followCount } = sortPairs(F, gramNode, C, grams.b, V, counts);

    // Count-of-counts n1..n4 per order (a node at depth d holds the n-grams of order d + 1).
    const depth = nodeDepths(childStart, C);
    const coc = new Float64Array(N * 4);
    for (let c = 0; c < C; c++) {
      for (let f = followStart[c]!; f < followStart[c + 1]!; f++) if (followCount[f]! <= 4) coc[depth[c]! * 4 + followCount[f]! - 1]!++;
    }
    const discounts = new Float64Array(N * 3);
    for (let n = 0; n < N; n++) discounts.set(estimateDiscounts(coc.subarray(n * 4, n * 4 + 4)), n * 3);
    return new KneserNey(N, V, discounts, nodeToken, childStart, followStart, followWord, followCount, runSteps(nodeSums(discounts, childStart, followStart, followCount)));
  }

  // ------------------------------------------------------------------------------------------------
  // Queries.

  /** ln p(next | context): the last ≤ order − 1 ids of `context` are used. */
  logProb(context: ArrayLike<number>, next: number): number {
    this.checkIds(context, 'logProb');
    this.checkId(next, 'logProb');
    return Math.log(this.probOf(this.walk(context, context.length), next));
  }

  /** Writes ln p(id | context) of every id into `out` [V]. O(V + the followers of the context's nodes). */
  distribution(context: ArrayLike<number>, out: Float32Array | Float64Array): void {
    this.checkIds(context, 'distribution');
    if (out.length !== this.vocabSize) throw new Error(`KneserNey.distribution: out holds ${out.length} numbers, expected the vocabulary size ${this.vocabSize}`);
    const p = this.fill(this.walk(context, context.length));
    for (let v = 0; v < this.vocabSize; v++) out[v] = Math.log(p[v]!);
  }

  /**
   * Σ ln p(ids[t] | ids[0..t−1]) over t ≥ 1: the log-likelihood of a scoring sequence (ids[0], the start
   * token, is context only), one id at a time without whole distributions: O(n · order · log fan-out).
   */
  logLikelihood(ids: Int32Array): number {
    this.checkIds(ids, 'logLikelihood');
    let sum = 0;
    for (let t = 1; t < ids.length; t++) sum += Math.log(this.probOf(this.walk(ids, t), ids[t]!));
    return sum;
  }

  /**
   * The context the model predicts from after history[0, end) (unchecked ids: the caller's own): `levels`,
   * how many orders matched (1: none, only the unigram level; at most `order`), and `total`, the adjusted
   * counts seen after the deepest matched context (how much evidence it has). What an interpolation with
   * other models can weigh the n-gram model by (mixture-model.ts).
   */
  context(history: ArrayLike<number>, end: number): { levels: number; total: number } {
    const levels = this.walk(history, end);
    return { levels, total: this.total[this.path[levels - 1]!]! };
  }

  /** p(next | history[0, end)), unchecked: logProb's number without the log. */
  probAfter(history: ArrayLike<number>, end: number, next: number): number {
    return this.probOf(this.walk(history, end), next);
  }

  /** p of every id after history[0, end), unchecked, in a scratch vector valid until the next call. */
  probabilitiesAfter(history: ArrayLike<number>, end: number): Float64Array {
    return this.fill(this.walk(history, end));
  }

  /** Stored n-grams of every order. */
  get ngramCount(): number {
    return this.followWord.length;
  }

  // ------------------------------------------------------------------------------------------------
  // LanguageModel, ChunkScorer, SequenceScorer.

  initialState(): RecurrentState {
    return { h: new Float32Array(this.order) };
  }

  async run(ids: Int32Array, state: RecurrentState): Promise<{ logProbs: Float32Array; state: RecurrentState }> {
    if (ids.length < 1) throw new Error('KneserNey.run: needs at least one id');
    const history = this.extend(state, ids, 'run');
    const V = this.vocabSize;
    const logProbs = new Float32Array(ids.length * V); //                         [n, V]
    const before = history.length - ids.length;
    for (let t = 0; t < ids.length; t++) {
      const p = this.fill(this.walk(history, before + t + 1));
      for (let v = 0; v < V; v++) logProbs[t * V + v] = Math.log(p[v]!);
    }
    return { logProbs, state: this.stateOf(history) };
  }

  async advance(ids: Int32Array, state: RecurrentState): Promise<RecurrentState> {
    return this.stateOf(this.extend(state, ids, 'advance'));
  }

  async scoreChunk(ids: Int32Array, state: RecurrentState): Promise<RankedScores> {
    if (!(ids instanceof Int32Array) || ids.length < 1) throw new Error('KneserNey.scoreChunk: needs at least one id (an Int32Array)');
    const history = this.extend(state, ids, 'scoreChunk');
    const m = ids.length - 1;
    const before = history.length - ids.length;
    const logp = new Float32Array(m); // [m]
    const rank = new Int32Array(m); //   [m]
    for (let t = 0; t < m; t++) {
      const p = this.fill(this.walk(history, before + t + 1));
      const target = p[ids[t + 1]!]!;
      logp[t] = Math.log(target);
      rank[t] = countHigher(p, target);
    }
    return { logp, rank, state: this.stateOf(history.subarray(0, history.length - 1)) };
  }

  async scoreSequence(ids: Int32Array): Promise<{ logp: Float32Array; rank: Int32Array }> {
    const { logp, rank } = await this.scoreChunk(ids, this.initialState());
    return { logp, rank };
  }

  // ------------------------------------------------------------------------------------------------
  // Serialization.

  toBytes(): Uint8Array {
    const N = this.order;
    const C = this.nodeToken.length;
    const F = this.followWord.length;
    const bytes = new Uint8Array(byteLength(N, C, F));
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < 4; i++) bytes[i] = MAGIC.charCodeAt(i);
    [FORMAT_VERSION, N, this.vocabSize, C, F].forEach((v, i) => view.setUint32(4 + 4 * i, v, true));
    let o = HEADER_BYTES;
    const sections: [ArrayLike<number>, number, 'setFloat64' | 'setInt32' | 'setUint32'][] = [
      [this.discounts, 0, 'setFloat64'],
      [this.nodeToken, 1, 'setInt32'],
      [this.childStart, 0, 'setUint32'],
      [this.followStart, 0, 'setUint32'],
      [this.followWord, 0, 'setInt32'],
      [this.followCount, 0, 'setUint32'],
    ];
    for (const [values, from, set] of sections) {
      for (let i = from; i < values.length; i++, o += set === 'setFloat64' ? 8 : 4) view[set](o, values[i]!, true);
    }
    return bytes;
  }

  /**
   * Reads `toBytes()` output, checking every size, index and count, so damaged bytes fail with a message.
   * The model keeps views of `bytes` where it can (its largest arrays, when aligned): they must not change
   * afterwards.
   */
  static fromBytes(bytes: Uint8Array): KneserNey {
    return runSteps(KneserNey.parse(bytes));
  }

  /**
   * fromBytes, awaiting `pause` between pieces of the work (each a few milliseconds for any size): what
   * a thread that must stay responsive (the editor's extension host) loads a large model with.
   */
  static fromBytesAsync(bytes: Uint8Array, pause: () => Promise<void>): Promise<KneserNey> {
    return runStepsPaced(KneserNey.parse(bytes), pause);
  }

  /** fromBytes as a sequence of steps: it yields between pieces of work and returns the model. */
  private static *parse(bytes: Uint8Array): Steps<KneserNey> {
    const fail = (msg: string): never => {
      throw new Error(`KneserNey.fromBytes: ${msg}`);
    };
    if (!(bytes instanceof Uint8Array)) fail('expected a Uint8Array');
    if (bytes.length < HEADER_BYTES) fail(`truncated: ${bytes.length} bytes, the header alone takes ${HEADER_BYTES}`);
    const magic = String.fromCharCode(...bytes.subarray(0, 4));
    if (magic !== MAGIC) fail(`not a Kneser-Ney model (magic ${JSON.stringify(magic)}, expected "${MAGIC}")`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const [version, N, V, C, F] = [0, 1, 2, 3, 4].map((i) => view.getUint32(4 + 4 * i, true)) as [number, number, number, number, number];
    if (version !== FORMAT_VERSION) {
      fail(`format version ${version} is not supported (this Nextword reads version ${FORMAT_VERSION}); ${version > FORMAT_VERSION ? 'update Nextword to read it' : 'train the model again'}`);
    }
    if (N < 1 || N > MAX_ORDER) fail(`order ${N} is outside [1, ${MAX_ORDER}]`);
    if (V < 1 || V > MAX_VOCAB) fail(`vocabulary size ${V} is outside [1, 2^24]`);
    if (C < 1) fail('there must be at least one context (the root)');
    const expected = byteLength(N, C, F);
    if (bytes.length < expected) fail(`truncated: ${bytes.length} bytes, expected ${expected} for ${C} contexts and ${F} n-grams`);
    if (bytes.length > expected) fail(`${bytes.length - expected} unexpected bytes after the model (${expected} bytes for ${C} contexts and ${F} n-grams)`);

    let o = HEADER_BYTES;
    /**
     * Fills out[from…] from the file, STEP_ENTRIES + 1 entries between two yields (the largest sections are
     * tens of megabytes); or, when the section can be used as it lies (the machine's byte order, aligned,
     * nothing before it), returns a view of `bytes` instead: no copy, and no allocation of the model's size
     * (which brings on a long garbage collection).
     */
    function* read<T extends Float64Array | Int32Array | Uint32Array>(out: T, from: number, get: (at: number) => number, size: number): Steps<T> {
      const Typed = out.constructor as { new (b: ArrayBufferLike, offset?: number, length?: number): T };
      if (LITTLE_ENDIAN && from === 0 && (bytes.byteOffset + o) % size === 0) {
        const view = new Typed(bytes.buffer, bytes.byteOffset + o, out.length);
        o += out.length * size;
        return view;
      }
      const piece = STEP_ENTRIES + 1;
      for (let i = from; i < out.length; i += piece) {
        const n = Math.min(piece, out.length - i);
        if (LITTLE_ENDIAN) {
          // The file's byte order is the machine's: a copy instead of n reads, straight from the bytes when
          // they are aligned for the type, else through an aligned copy of the piece. (Uint8Array's own
          // slice: a Node Buffer's slice would be a view into a shared pool.)
          const at = bytes.byteOffset + o;
          out.set(at % size === 0 ? new Typed(bytes.buffer, at, n) : new Typed(Uint8Array.prototype.slice.call(bytes, o, o + n * size).buffer), i);
          o += n * size;
        } else for (let j = i; j < i + n; j++, o += size) out[j] = get(o);
        yield;
      }
      return out;
    }
    const discounts = yield* read(new Float64Array(N * 3), 0, (at) => view.getFloat64(at, true), 8);
    const nodeToken = yield* read(new Int32Array(C), 1, (at) => view.getInt32(at, true), 4);
    const childStart = yield* read(new Uint32Array(C + 1), 0, (at) => view.getUint32(at, true), 4);
    const followStart = yield* read(new Uint32Array(C + 1), 0, (at) => view.getUint32(at, true), 4);
    const followWord = yield* read(new Int32Array(F), 0, (at) => view.getInt32(at, true), 4);
    const counts = yield* read(new Uint32Array(F), 0, (at) => view.getUint32(at, true), 4);
    for (let f = 0; f < F; f += STEP_ENTRIES + 1) {
      const bad = firstBadCount(counts, f, Math.min(F, f + STEP_ENTRIES + 1));
      if (bad >= 0) fail(`n-gram ${bad} has count ${counts[bad]}, outside [1, 2^31)`);
      yield;
    }
    const followCount = new Int32Array(counts.buffer, counts.byteOffset, counts.length);

    yield;
    discounts.forEach((d, i) => {
      if (!(d > 0 && d < (i % 3) + 1)) fail(`discount D${(i % 3) + 1} of order ${Math.floor(i / 3) + 1} is ${d}, not in (0, ${(i % 3) + 1})`);
    });
    // Breadth-first numbering: the children of c follow c and the ranges tile nodes 1..C−1 in order.
    if (childStart[0] !== 1 || childStart[C] !== C) fail(`the context trie's child ranges must run from node 1 to ${C} (got ${childStart[0]} to ${childStart[C]})`);
    if (followStart[0] !== 0 || followStart[C] !== F) fail(`the follower ranges must run from 0 to ${F} (got ${followStart[0]} to ${followStart[C]})`);
    for (let c = 0; c < C; c += STEP_ENTRIES + 1) {
      const bad = firstBadRange(childStart, followStart, c, Math.min(C, c + STEP_ENTRIES + 1));
      if (bad >= 0 && (childStart[bad]! <= bad || childStart[bad + 1]! < childStart[bad]!)) {
        fail(`context ${bad} has children from ${childStart[bad]} to ${childStart[bad + 1]}: not a breadth-first trie`);
      }
      if (bad >= 0) fail(`context ${bad} has followers from ${followStart[bad]} to ${followStart[bad + 1]}: ranges must not decrease`);
      yield;
    }
    // Only now are the ranges known to lie within the arrays.
    for (let c = 0; c < C; ) {
      c = checkOrder(nodeToken, childStart, followWord, followStart, V, c, STEP_ENTRIES, fail);
      yield;
    }
    const depth = yield* nodeDepthSteps(childStart, C);
    for (let c = 0; c < C; c++) if (depth[c]! >= N) fail(`context ${c} is ${depth[c]} tokens long; an order-${N} model has at most ${N - 1}`);
    yield;
    const sums = yield* nodeSums(discounts, childStart, followStart, followCount);
    return new KneserNey(N, V, discounts, nodeToken, childStart, followStart, followWord, followCount, sums);
  }

  // ------------------------------------------------------------------------------------------------
  // Internals.

  /** D(a) at the order whose contexts are `depth` tokens long. */
  private discount(depth: number, a: number): number {
    return this.discounts[depth * 3 + (a >= 3 ? 2 : a - 1)]!;
  }

  /** Fills this.path with the context nodes of history[0, end) (root first, as deep as the trie goes); returns how many. */
  private walk(history: ArrayLike<number>, end: number): number {
    const path = this.path;
    path[0] = 0;
    let levels = 1;
    for (let i = end - 1; i >= 0 && levels < this.order; i--) {
      const child = search(this.nodeToken, this.childStart[path[levels - 1]!]!, this.childStart[path[levels - 1]! + 1]!, history[i]!);
      if (child < 0) break;
      path[levels++] = child;
    }
    return levels;
  }

  /** p(w) for the contexts in this.path[0, levels): the arithmetic of `fill`, for one id. */
  private probOf(levels: number, w: number): number {
    let q = this.unigram[w]!;
    let scale = this.unigramScale;
    for (let k = 1; k < levels; k++) {
      const node = this.path[k]!;
      const total = this.total[node]!;
      if (total === 0) continue;
      scale *= this.gammaMass[node]! / total;
      const f = search(this.followWord, this.followStart[node]!, this.followStart[node + 1]!, w);
      if (f >= 0) q += (this.followCount[f]! - this.discount(k, this.followCount[f]!)) / (total * scale);
    }
    return q * scale;
  }

  /** p of every id for the contexts in this.path[0, levels), into the scratch vector (valid until the next call). */
  private fill(levels: number): Float64Array {
    const p = this.prob;
    p.set(this.unigram);
    let scale = this.unigramScale;
    for (let k = 1; k < levels; k++) scale = this.addOrder(p, k, this.path[k]!, scale);
    for (let v = 0; v < p.length; v++) p[v] *= scale;
    return p;
  }

  /** Adds α_{k+1}(w) / S_{k+1} of the followers of `node` (at depth k) into q; returns S_{k+1}, given S_k. */
  private addOrder(q: Float64Array, k: number, node: number, scale: number): number {
    const total = this.total[node]!;
    if (total === 0) return scale;
    scale *= this.gammaMass[node]! / total;
    for (let f = this.followStart[node]!; f < this.followStart[node + 1]!; f++) {
      q[this.followWord[f]!] += (this.followCount[f]! - this.discount(k, this.followCount[f]!)) / (total * scale);
    }
    return scale;
  }

  /** The history in `state` followed by `ids`, checked. */
  private extend(state: RecurrentState, ids: Int32Array, caller: string): Int32Array {
    const h = state.h;
    const k = h[0]!;
    if (h.length !== this.order || !(Number.isInteger(k) && k >= 0 && k < this.order)) {
      throw new Error(`KneserNey.${caller}: the state is not the history of an order-${this.order} model (h = [${Array.from(h.subarray(0, 6)).join(', ')}…])`);
    }
    const history = new Int32Array(k + ids.length);
    for (let i = 0; i < k; i++) history[i] = h[1 + i]!;
    history.set(ids, k);
    this.checkIds(history, caller);
    return history;
  }

  private stateOf(history: Int32Array): RecurrentState {
    const k = Math.min(this.order - 1, history.length);
    const h = new Float32Array(this.order);
    h[0] = k;
    h.set(history.subarray(history.length - k), 1);
    return { h };
  }

  private checkIds(ids: ArrayLike<number>, caller: string): void {
    for (let i = 0; i < ids.length; i++) this.checkId(ids[i]!, caller);
  }

  private checkId(id: number, caller: string): void {
    if (!(Number.isInteger(id) && id >= 0 && id < this.vocabSize)) throw new Error(`KneserNey.${caller}: id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
  }
}

// --------------------------------------------------------------------------------------------------
// Helpers.

/**
 * Chen & Goodman's D1, D2, D3+ from the count-of-counts n1..n4 of one order; (0.5, 1, 1.5) when any of them
 * is not strictly between 0 and k (some n_k is 0 on a small corpus, or the estimate leaves the range).
 */
function estimateDiscounts(coc: Float64Array): number[] {
  const [n1, n2, n3, n4] = coc as unknown as [number, number, number, number];
  const y = n1 / (n1 + 2 * n2);
  const d = [1 - (2 * y * n2) / n1, 2 - (3 * y * n3) / n2, 3 - (4 * y * n4) / n3];
  return d.every((x, i) => x > 0 && x < i + 1) ? d : FALLBACK_DISCOUNTS;
}

/** How many entries of p are strictly above `target`, deciding near-ties by ln p as logProb reports it. */
export function countHigher(p: Float64Array, target: number): number {
  // Beyond a relative 1e-10 the logs differ by far more than their rounding error.
  const clear = target * (1 + 1e-10);
  const logTarget = Math.log(target);
  let n = 0;
  for (let v = 0; v < p.length; v++) {
    const x = p[v]!;
    if (x > clear || (x > target && Math.log(x) > logTarget)) n++;
  }
  return n;
}

/** Index of `key` in the ascending keys[from, to), or −1. */
function search(keys: Int32Array, from: number, to: number, key: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid]!;
    if (k === key) return mid;
    if (k < key) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/** Nodes between two yields of a plain loop over the trie, minus one (a power of two minus one: a mask). */
const STEP_NODES = (1 << 16) - 1;
/**
 * Entries (n-grams, children, bytes of a section / 4) between two yields of the loading steps, minus one:
 * a few milliseconds of work. Counted in entries, not contexts: some contexts have thousands of followers.
 */
const STEP_ENTRIES = (1 << 18) - 1;

/** Per context: T, the sum of its followers' adjusted counts, and γ·T, their discounted mass. */
interface NodeSums {
  total: Float64Array; //     [C]
  gammaMass: Float64Array; // [C]
}

/** The NodeSums of a trie, yielding after about every STEP_ENTRIES followers. */
function* nodeSums(discounts: Float64Array, childStart: Uint32Array, followStart: Uint32Array, followCount: Int32Array): Steps<NodeSums> {
  const C = childStart.length - 1;
  const depth = yield* nodeDepthSteps(childStart, C);
  const sums: NodeSums = { total: new Float64Array(C), gammaMass: new Float64Array(C) };
  for (let c = 0; c < C; ) {
    c = nodeSumsFrom(sums, depth, discounts, followStart, followCount, c, STEP_ENTRIES);
    yield;
  }
  return sums;
}

/** Depth of every node of a breadth-first trie (children of c: childStart[c] … childStart[c+1]−1, all > c). */
function nodeDepths(childStart: Uint32Array, C: number): Uint8Array {
  return runSteps(nodeDepthSteps(childStart, C));
}

/** nodeDepths, yielding every STEP_NODES + 1 nodes. */
function* nodeDepthSteps(childStart: Uint32Array, C: number): Steps<Uint8Array> {
  const depth = new Uint8Array(C);
  for (let c = 0; c < C; c += STEP_NODES + 1) {
    depthsOf(depth, childStart, c, Math.min(C, c + STEP_NODES + 1));
    yield;
  }
  return depth;
}

// The loops of the loading steps are plain functions over a range, called between two yields: V8 does not
// optimise a generator's loop while it runs (no on-stack replacement into a resumed generator), so a first
// load would run such loops interpreted.

/** Sets the depth of the children of nodes from…to−1 (their own depths known). */
function depthsOf(depth: Uint8Array, childStart: Uint32Array, from: number, to: number): void {
  for (let c = from; c < to; c++) {
    const d = Math.min(255, depth[c]! + 1);
    for (let j = childStart[c]!; j < childStart[c + 1]!; j++) depth[j] = d;
  }
}

/** NodeSums of the contexts from `from` on until about `budget` followers are summed; returns where it stopped. */
function nodeSumsFrom(sums: NodeSums, depth: Uint8Array, discounts: Float64Array, followStart: Uint32Array, followCount: Int32Array, from: number, budget: number): number {
  const C = followStart.length - 1;
  let work = 0;
  let c = from;
  for (; c < C && work <= budget; c++) {
    const row = depth[c]! * 3;
    let t = 0;
    let mass = 0;
    for (let f = followStart[c]!; f < followStart[c + 1]!; f++) {
      const a = followCount[f]!;
      t += a;
      mass += discounts[row + (a >= 3 ? 2 : a - 1)]!;
    }
    sums.total[c] = t;
    sums.gammaMass[c] = mass;
    work += 1 + followStart[c + 1]! - followStart[c]!;
  }
  return c;
}

/** The first n-gram in from…to−1 whose count is outside [1, MAX_COUNT]; −1 when none. */
function firstBadCount(counts: Uint32Array, from: number, to: number): number {
  for (let f = from; f < to; f++) if (counts[f]! < 1 || counts[f]! > MAX_COUNT) return f;
  return -1;
}

/** The first context in from…to−1 whose child range is not after it or decreases, or whose follower range decreases; −1 when none. */
function firstBadRange(childStart: Uint32Array, followStart: Uint32Array, from: number, to: number): number {
  for (let c = from; c < to; c++) {
    if (childStart[c]! <= c || childStart[c + 1]! < childStart[c]! || followStart[c + 1]! < followStart[c]!) return c;
  }
  return -1;
}

/**
 * Checks that the children and the followers of each context from `from` on are in range and ascending,
 * until about `budget` entries are looked at (a context may have one follower or a vocabulary's worth);
 * returns where it stopped.
 */
function checkOrder(
  nodeToken: Int32Array,
  childStart: Uint32Array,
  followWord: Int32Array,
  followStart: Uint32Array,
  V: number,
  from: number,
  budget: number,
  fail: (msg: string) => never,
): number {
  const C = childStart.length - 1;
  let work = 0;
  let c = from;
  for (; c < C && work <= budget; c++) {
    const child = firstUnordered(nodeToken, childStart[c]!, childStart[c + 1]!, V);
    if (child >= 0) unordered(nodeToken, child, V, `the children of context ${c}`, fail);
    const follower = firstUnordered(followWord, followStart[c]!, followStart[c + 1]!, V);
    if (follower >= 0) unordered(followWord, follower, V, `the followers of context ${c}`, fail);
    work += 1 + childStart[c + 1]! - childStart[c]! + followStart[c + 1]! - followStart[c]!;
  }
  return c;
}

/** The first position in [from, to) whose key is outside [0, V) or not above the one before it; −1 when none. */
function firstUnordered(keys: Int32Array, from: number, to: number, V: number): number {
  for (let i = from; i < to; i++) {
    const k = keys[i]!;
    if (k < 0 || k >= V || (i > from && k <= keys[i - 1]!)) return i;
  }
  return -1;
}

/** Fails with what is wrong at position i (found by firstUnordered). */
function unordered(keys: Int32Array, i: number, V: number, what: string, fail: (msg: string) => never): never {
  const k = keys[i]!;
  if (k < 0 || k >= V) fail(`${what} include id ${k}, outside the vocabulary [0, ${V})`);
  return fail(`${what} are not in strictly ascending order (${keys[i - 1]} then ${k})`);
}

function byteLength(N: number, C: number, F: number): number {
  return HEADER_BYTES + 24 * N + 4 * (C - 1) + 8 * (C + 1) + 8 * F;
}

/**
 * Entries 0..n−1 sorted by (major, minor) with two stable counting passes that carry minor and payload along
 * (sequential reads, one scattered write each): entries of major k are start[k] … start[k+1]−1.
 */
function sortPairs(n: number, major: Int32Array, majorRange: number, minor: Int32Array, minorRange: number, payload: Int32Array) {
  const next = bucketStarts(minor, n, minorRange);
  const major1 = new Int32Array(n);
  const minor1 = new Int32Array(n);
  const payload1 = new Int32Array(n);
  for (let e = 0; e < n; e++) {
    const j = next[minor[e]!]!++;
    major1[j] = major[e]!;
    minor1[j] = minor[e]!;
    payload1[j] = payload[e]!;
  }
  const start = bucketStarts(major1, n, majorRange);
  const cursor = start.slice(0, majorRange);
  const sortedMinor = new Int32Array(n);
  const sortedPayload = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const k = cursor[major1[j]!]!++;
    sortedMinor[k] = minor1[j]!;
    sortedPayload[k] = payload1[j]!;
  }
  return { start, minor: sortedMinor, payload: sortedPayload };
}

/** [range + 1] where each key's bucket starts when keys[0, n) are grouped by key. */
function bucketStarts(keys: Int32Array, n: number, range: number): Uint32Array {
  const start = new Uint32Array(range + 1);
  for (let i = 0; i < n; i++) start[keys[i]! + 1]!++;
  for (let k = 0; k < range; k++) start[k + 1]! += start[k]!;
  return start;
}

function grown(a: Int32Array): Int32Array {
  const out = new Int32Array(a.length * 2);
  out.set(a);
  return out;
}

/**
 * Open-addressing hash table from pairs of int32 (a, b) to dense indices 0, 1, 2, … in insertion order; the
 * pairs are also kept in a[i], b[i]. Linear probing, at most half full; each slot holds a, b, index + 1 side
 * by side (0: empty), so a lookup touches one cache line.
 */
class PairTable {
  a: Int32Array = new Int32Array(1024);
  b: Int32Array = new Int32Array(1024);
  size = 0;
  private slots = new Int32Array(3 * 2048);
  private mask = 2047;

  getOrAdd(a: number, b: number): number {
    const slots = this.slots;
    let s = hashPair(a, b) & this.mask;
    for (let e = slots[3 * s + 2]!; e !== 0; e = slots[3 * s + 2]!) {
      if (slots[3 * s] === a && slots[3 * s + 1] === b) return e - 1;
      s = (s + 1) & this.mask;
    }
    const e = this.size++;
    if (e === this.a.length) {
      this.a = grown(this.a);
      this.b = grown(this.b);
    }
    this.a[e] = a;
    this.b[e] = b;
    slots[3 * s] = a;
    slots[3 * s + 1] = b;
    slots[3 * s + 2] = e + 1;
    if (6 * this.size > slots.length) this.rehash();
    return e;
  }

  private rehash(): void {
    const capacity = 2 * (this.mask + 1);
    const slots = new Int32Array(3 * capacity);
    this.mask = capacity - 1;
    for (let e = 0; e < this.size; e++) {
      const a = this.a[e]!;
      const b = this.b[e]!;
      let s = hashPair(a, b) & this.mask;
      while (slots[3 * s + 2] !== 0) s = (s + 1) & this.mask;
      slots[3 * s] = a;
      slots[3 * s + 1] = b;
      slots[3 * s + 2] = e + 1;
    }
    this.slots = slots;
  }
}

function hashPair(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b ^ 0x5bd1e995, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}
