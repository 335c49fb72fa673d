// The perplexity of one document under the current model, kept up to date as the document changes: the
// status bar's figure. It equals `nextword eval` on the same text (evaluation.ts: the same tokenizer, the
// start token before the first token, `<unk>` predicted like any other token, the same sums in the same
// order), so the number in the editor and the number on the command line agree.
//
// Shapes: n tokens of the document, ids [n]; the scorer sees the sequence [start, ids 0..n−1] in pieces:
// scoring targets [s, e) takes the ids at positions s..e of that sequence (e − s inputs, then the last
// target) and the recurrent state after the inputs before s. K tokens between checkpoints.
//
// Incremental, because a keystroke must not re-score a long file:
//   - the text is tokenized in blocks that end at line breaks (tokens never span one, so the blocks'
//     tokens concatenate to the whole text's); an edit re-tokenizes from the block holding its first
//     changed character;
//   - per-token log p and rank are kept, with the state every K tokens (a checkpoint); an edit re-scores
//     from the last checkpoint at or before the first changed token. An edit near the end costs at most K
//     tokens plus the new ones; the tokens before it are never run again;
//   - the figures are summed afresh over the per-token arrays (cheap), exactly as evaluateText sums them.
// Work yields to the event loop between chunks and blocks, and a newer update() or an aborted signal stops
// an older one at the next chunk, keeping what it has scored.

import { startTokenId, type ChunkScorer, type EvalFigures } from './evaluation.js';
import { yieldToEventLoop } from '../support/event-loop.js';
import type { RecurrentState } from '../model/language-model.js';
import { tokenize, type TokenizerMode } from '../text/tokenizer.js';
import type { Vocabulary } from '../text/vocabulary.js';

/** The figures of `nextword eval` for one text (see EvalFigures), and a baseline. */
export interface PerplexityFigures extends EvalFigures {
  /** Share of the tokens outside the vocabulary. */
  oovShare: number;
  /**
   * Perplexity of an add-one smoothed unigram model of the training corpus on the same tokens: what the
   * model's figure should beat. Undefined when the vocabulary was loaded without its counts.
   */
  unigramPpl: number | undefined;
}

export type PerplexityUpdate =
  /** rescoredFrom: the first token scored by this update; tokensScored: how many it scored. */
  | { status: 'scored'; figures: PerplexityFigures; rescoredFrom: number; tokensScored: number }
  /** A newer update() started, the signal aborted, or dispose() was called; the work done is kept. */
  | { status: 'cancelled' }
  /** The text is over maxChars: not scored. */
  | { status: 'too-large'; chars: number; maxChars: number };

export interface DocumentPerplexityOptions {
  /** K: tokens between checkpoints, and per scorer call. Default 256. */
  checkpointEvery?: number;
  /** Longer texts are not scored (scoring is linear in the text, and the first pass is the whole text). Default 2^20. */
  maxChars?: number;
  /** Tokenization block, in characters (a block ends at the first line break after it; an edit tokenizes its block again). Default 4096. */
  blockChars?: number;
  /** Lets other work run between chunks. Default: setImmediate. */
  yieldToEventLoop?: () => Promise<void>;
}

/**
 * Characters tokenized between two yields: a completion asked for meanwhile waits for at most that much
 * tokenizing.
 */
const YIELD_CHARS = 1 << 13;

export class DocumentPerplexity {
  private readonly K: number;
  private readonly maxChars: number;
  private readonly blockChars: number;
  private readonly yieldNow: () => Promise<void>;
  private readonly startId: number;
  private readonly unigramLogp: Float64Array | undefined; //                           [V]

  // The text of the last update that got past tokenization, and what is known of it.
  private text = '';
  private ids: Int32Array = new Int32Array(0); //                                        [n]
  /** Tokenization blocks: block b starts at character blockChar[b] and token blockToken[b]. */
  private blockChar: number[] = [];
  private blockToken: number[] = [];
  private logp: Float32Array = new Float32Array(0); //                                   [n], valid below `scored`
  private rank: Int32Array = new Int32Array(0); //                                       [n], valid below `scored`
  private scored = 0;
  /** states[j]: the state after the inputs of targets [0, j·K). */
  private states: RecurrentState[];
  private last: PerplexityFigures | undefined;

  private generation = 0;
  private running: Promise<void> = Promise.resolve();
  private disposed = false;

  constructor(
    private readonly scorer: ChunkScorer,
    private readonly vocab: Vocabulary,
    private readonly mode: TokenizerMode,
    opts: DocumentPerplexityOptions = {},
  ) {
    if (mode !== 'text' && mode !== 'whitespace') throw new Error(`DocumentPerplexity: unknown tokenizer mode "${String(mode)}" (expected "text" or "whitespace")`);
    this.K = positiveInteger(opts.checkpointEvery ?? 256, 'checkpointEvery');
    this.maxChars = positiveInteger(opts.maxChars ?? 1 << 20, 'maxChars');
    this.blockChars = positiveInteger(opts.blockChars ?? 4096, 'blockChars');
    this.yieldNow = opts.yieldToEventLoop ?? yieldToEventLoop;
    this.startId = startTokenId(vocab, mode);
    this.unigramLogp = unigramLogProbs(vocab);
    this.states = [scorer.initialState()];
  }

  /** The figures of the last update that finished, if any. */
  get figures(): PerplexityFigures | undefined {
    return this.last;
  }

  /**
   * Brings the figures up to date with `text` (the whole document). Resolves 'cancelled' when a newer
   * update() starts or the signal aborts before it is done; rejects only when the scorer fails.
   */
  async update(text: string, signal?: AbortSignal): Promise<PerplexityUpdate> {
    if (typeof text !== 'string') throw new TypeError(`DocumentPerplexity.update: text must be a string (got ${typeof text})`);
    const generation = ++this.generation;
    const previous = this.running;
    let done!: () => void;
    this.running = new Promise((resolve) => (done = resolve));
    try {
      await previous; // an older update stops at its next chunk: it sees a newer generation
      const stale = () => this.disposed || generation !== this.generation || signal?.aborted === true;
      if (stale()) return CANCELLED;
      if (text.length > this.maxChars) return { status: 'too-large', chars: text.length, maxChars: this.maxChars };
      if (text !== this.text || this.ids.length === 0) {
        if (!(await this.retokenize(text, stale))) return CANCELLED;
      }
      return await this.score(stale);
    } finally {
      done();
    }
  }

  /** Stops any update in flight and frees the states. */
  dispose(): void {
    this.disposed = true;
    this.generation++;
    this.states = [];
    this.ids = new Int32Array(0);
    this.logp = new Float32Array(0);
    this.rank = new Int32Array(0);
    this.scored = 0;
  }

  // ------------------------------------------------------------------------------------------------

  /** Tokenizes the changed part of `text` and keeps the scores and checkpoints that still hold. False when stale. */
  private async retokenize(text: string, stale: () => boolean): Promise<boolean> {
    const old = this.text;
    // The first changed character, then the last block that starts before it: everything before that
    // block is unchanged, and its start is a line start in both texts (the characters around it are).
    const limit = Math.min(old.length, text.length);
    let a = 0;
    while (a < limit && old.charCodeAt(a) === text.charCodeAt(a)) a++;
    let b = this.blockChar.length - 1;
    while (b > 0 && this.blockChar[b]! >= a) b--;
    if (b < 0) b = 0;
    const keepTokens = this.blockChar.length > 0 ? this.blockToken[b]! : 0;
    const blockChar = this.blockChar.slice(0, b);
    const blockToken = this.blockToken.slice(0, b);
    const parts: Int32Array[] = [this.ids.subarray(0, keepTokens)];
    let pos = this.blockChar.length > 0 ? this.blockChar[b]! : 0;
    let count = keepTokens;
    let sinceYield = 0;
    while (pos < text.length) {
      const end = blockEnd(text, pos, this.blockChars);
      blockChar.push(pos);
      blockToken.push(count);
      const ids = this.vocab.encode(tokenize(text.slice(pos, end), this.mode));
      parts.push(ids);
      count += ids.length;
      sinceYield += end - pos;
      pos = end;
      if (sinceYield >= YIELD_CHARS && pos < text.length) {
        sinceYield = 0;
        await this.yieldNow();
        if (stale()) return false;
      }
    }
    const ids = concat(parts, count);

    // Targets before the first changed token keep their scores; checkpoints at or before it keep their state.
    let p = keepTokens;
    const oldIds = this.ids;
    const common = Math.min(oldIds.length, ids.length);
    while (p < common && oldIds[p] === ids[p]) p++;
    const resume = Math.floor(Math.min(p, this.scored) / this.K) * this.K;
    const logp = new Float32Array(ids.length);
    const rank = new Int32Array(ids.length);
    logp.set(this.logp.subarray(0, resume));
    rank.set(this.rank.subarray(0, resume));
    this.text = text;
    this.ids = ids;
    this.blockChar = blockChar;
    this.blockToken = blockToken;
    this.logp = logp;
    this.rank = rank;
    this.scored = resume;
    this.states.length = resume / this.K + 1;
    return true;
  }

  /** Scores from the last valid checkpoint to the end, K targets per call, then sums. */
  private async score(stale: () => boolean): Promise<PerplexityUpdate> {
    const ids = this.ids;
    const n = ids.length;
    const K = this.K;
    const from = this.scored;
    while (this.scored < n) {
      const s = this.scored;
      const e = Math.min(n, s + K);
      const seq = new Int32Array(e - s + 1); // inputs at s..e−1, then the last target
      seq[0] = s === 0 ? this.startId : ids[s - 1]!;
      seq.set(ids.subarray(s, e), 1);
      const out = await this.scorer.scoreChunk(seq, this.states[s / K]!);
      if (this.disposed) return CANCELLED;
      if (out.logp.length !== e - s || (out.rank && out.rank.length !== e - s)) {
        throw new Error(`DocumentPerplexity: the scorer returned ${out.logp.length} scores and ${out.rank?.length ?? 'no'} ranks for ${e - s} targets`);
      }
      this.logp.set(out.logp, s);
      // A scorer that does not rank (a mixture's: mixture-model.ts) leaves top-1 and top-3 unknown.
      if (out.rank) this.rank.set(out.rank, s);
      else this.rank.fill(-1, s, e);
      this.scored = e;
      if (e % K === 0) this.states[e / K] = out.state;
      if (stale()) return CANCELLED;
      if (e < n) {
        await this.yieldNow();
        if (stale()) return CANCELLED;
      }
    }
    this.last = this.sum();
    return { status: 'scored', figures: this.last, rescoredFrom: from, tokensScored: n - from };
  }

  /** evaluateText's sums, in its order, over the per-token scores. */
  private sum(): PerplexityFigures {
    const { ids, logp, rank } = this;
    const n = ids.length;
    if (n === 0) return { tokens: 0, nll: 0, ppl: NaN, top1: NaN, top3: NaN, oov: 0, oovShare: NaN, unigramPpl: this.unigramLogp ? NaN : undefined };
    let nll = 0;
    let top1 = 0;
    let top3 = 0;
    let unranked = 0;
    let oov = 0;
    let unigramNll = 0;
    const uni = this.unigramLogp;
    for (let t = 0; t < n; t++) {
      nll -= logp[t]!;
      if (rank[t]! < 0) unranked++;
      else if (rank[t]! < 1) top1++;
      if (rank[t]! >= 0 && rank[t]! < 3) top3++;
      if (ids[t] === 0) oov++;
      if (uni) unigramNll -= uni[ids[t]!]!;
    }
    return {
      tokens: n,
      nll,
      ppl: Math.exp(nll / n),
      top1: unranked ? NaN : top1 / n,
      top3: unranked ? NaN : top3 / n,
      oov,
      oovShare: oov / n,
      unigramPpl: uni ? Math.exp(unigramNll / n) : undefined,
    };
  }
}

const CANCELLED: PerplexityUpdate = { status: 'cancelled' };

/**
 * ln p(id) under the unigram model of the training corpus with add-one smoothing over the vocabulary:
 * (count + 1) / (total + V), `<unk>` counting every out-of-vocabulary corpus token. Undefined without counts.
 */
export function unigramLogProbs(vocab: Vocabulary): Float64Array | undefined {
  const V = vocab.size;
  const counts = new Float64Array(V);
  let total = 0;
  for (let id = 0; id < V; id++) {
    const c = vocab.count(id);
    if (c === undefined) return undefined;
    counts[id] = c;
    total += c;
  }
  const logDenominator = Math.log(total + V);
  return counts.map((c) => Math.log(c + 1) - logDenominator);
}

/**
 * The end of the block that starts at `pos`: the first line start at or after pos + size (after "\n", or
 * after "\r" not followed by "\n", the line breaks both tokenizer modes agree on), or the end of the text.
 */
function blockEnd(text: string, pos: number, size: number): number {
  for (let j = pos + size; j < text.length; j++) {
    const c = text.charCodeAt(j - 1);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(j) !== 0x0a)) return j;
  }
  return text.length;
}

function concat(parts: Int32Array[], total: number): Int32Array {
  const out = new Int32Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function positiveInteger(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`DocumentPerplexity: ${name} must be a positive integer (got ${v})`);
  return v;
}
