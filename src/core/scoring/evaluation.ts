// Evaluation of a model on text: perplexity = exp(mean cross-entropy), and top-1 / top-3 next-word
// accuracy, every token predicted from the tokens before it and the first from the start token (the
// predictor's convention, so the figures match what the editor shows).
//
// Shapes: n tokens of a text; the scorer sees n + 1 ids (start token, then the tokens).

import type { RecurrentState } from '../model/language-model.js';
import { EOS, tokenize, type TokenizerMode } from '../text/tokenizer.js';
import type { Vocabulary } from '../text/vocabulary.js';

export interface ChunkScores {
  /** [m] log p(target t | inputs up to t). */
  logp: Float32Array;
  /**
   * [m] how many tokens score strictly higher than target t (0: the model's first guess). Left out by a
   * scorer that was not asked for ranks (a mixture's take whole distributions: mixture-model.ts).
   */
  rank?: Int32Array;
  /** The state after the m inputs (not after the last target): the state to score the next chunk from. */
  state: RecurrentState;
}

/** Scores with every target's rank: what a scorer that always ranks returns. */
export type RankedScores = ChunkScores & { rank: Int32Array };

/**
 * Scores from a given recurrent state. `ids` holds m + 1 ids: the m inputs, then the last target (so
 * targets are ids[1..m]). Must not mutate `state`. The runtime's OnnxScorer implements it with the scoring
 * graph; LanguageModelScorer with any LanguageModel.
 */
export interface ChunkScorer {
  initialState(): RecurrentState;
  scoreChunk(ids: Int32Array, state: RecurrentState): Promise<ChunkScores>;
}

/** Scores a sequence: for ids [start, w1..wn], log p(w_t | before) and how many words scored higher. */
export interface SequenceScorer {
  scoreSequence(ids: Int32Array): Promise<{ logp: Float32Array; rank?: Int32Array }>;
}

export interface EvalFigures {
  /** Tokens scored (every token of the text). */
  tokens: number;
  /** Summed negative log-likelihood, nats. */
  nll: number;
  /** exp(nll / tokens); NaN for an empty text. */
  ppl: number;
  /** Share of tokens that were the model's first guess; of those among its three first guesses (NaN without ranks). */
  top1: number;
  top3: number;
  /** Tokens outside the vocabulary (scored as `<unk>`). */
  oov: number;
}

/** "Start of a line": the newline token in text mode, `<eos>` in whitespace mode (`<unk>` if absent). */
export function startTokenId(vocab: Vocabulary, mode: TokenizerMode): number {
  const start = mode === 'text' ? '\n' : EOS;
  return vocab.has(start) ? vocab.id(start) : 0;
}

/** What a text is scored as: the start token, then the text's ids (ids[t + 1] is the t-th target). */
export function scoringSequence(vocab: Vocabulary, mode: TokenizerMode, text: string): Int32Array {
  const ids = vocab.encode(tokenize(text, mode));
  const seq = new Int32Array(ids.length + 1);
  seq[0] = startTokenId(vocab, mode);
  seq.set(ids, 1);
  return seq;
}

export async function evaluateText(scorer: SequenceScorer, vocab: Vocabulary, mode: TokenizerMode, text: string): Promise<EvalFigures> {
  const seq = scoringSequence(vocab, mode, text);
  const ids = seq.subarray(1);
  if (ids.length === 0) return { tokens: 0, nll: 0, ppl: NaN, top1: NaN, top3: NaN, oov: 0 };
  const { logp, rank } = await scorer.scoreSequence(seq);
  let nll = 0;
  let top1 = 0;
  let top3 = 0;
  let oov = 0;
  for (let t = 0; t < ids.length; t++) {
    nll -= logp[t]!;
    if (rank && rank[t]! < 1) top1++;
    if (rank && rank[t]! < 3) top3++;
    if (ids[t] === 0) oov++;
  }
  const n = ids.length;
  return { tokens: n, nll, ppl: Math.exp(nll / n), top1: rank ? top1 / n : NaN, top3: rank ? top3 / n : NaN, oov };
}

/** Figures over several texts, weighted by their tokens. */
export function combineFigures(parts: EvalFigures[]): EvalFigures {
  const tokens = parts.reduce((s, p) => s + p.tokens, 0);
  const nll = parts.reduce((s, p) => s + p.nll, 0);
  const hits = (k: 'top1' | 'top3') => parts.reduce((s, p) => s + (p.tokens ? p[k] * p.tokens : 0), 0);
  return {
    tokens,
    nll,
    ppl: tokens ? Math.exp(nll / tokens) : NaN,
    top1: tokens ? hits('top1') / tokens : NaN,
    top3: tokens ? hits('top3') / tokens : NaN,
    oov: parts.reduce((s, p) => s + p.oov, 0),
  };
}
