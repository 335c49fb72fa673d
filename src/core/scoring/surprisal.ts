// Surprisal: how unexpected each token of a text is to a model, −log2 p(token | the tokens before it), with
// its rank (0: the model's first guess) and the words the model expected instead. The CLI's `nextword
// surprisal` and the editor's surprising-words highlight both read it from here.
//
// A word (or number) is *surprising* when
//   - its surprisal exceeds the median surprisal of the text's words by `marginBits` (2^margin times less
//     likely than the text's usual word: the margin is relative, so a hard text does not light up whole), or
//   - it is unknown to the model and one edit from a word the model expected there with probability
//     `nearMissMinP` or more, shaped like a typo of it (typoShaped): a likely typo (an unknown word is
//     otherwise just `<unk>`, often quite likely).
// Tokens are scored like `nextword eval` scores them (evaluation.ts): from the start token, `<unk>` for a word
// outside the vocabulary.
//
// Shapes: n tokens, V vocabulary; the model runs on `chunk` tokens at a time, its [chunk, V] log-probabilities
// read once for the target's log p, its rank and the top k.

import type { LanguageModel } from '../model/language-model.js';
import { startTokenId } from './evaluation.js';
import { countAbove } from './language-model-scorer.js';
import { EOS, isWordLike, tokenize, UNK, type TokenizerMode } from '../text/tokenizer.js';
import type { Vocabulary } from '../text/vocabulary.js';

export interface Alternative {
  word: string;
  /** The model's probability of it, in (0, 1]. */
  p: number;
}

export interface TokenSurprisal {
  /** Index of the token in the text's tokens. */
  index: number;
  /** Its characters in the text: [start, end). */
  start: number;
  end: number;
  token: string;
  /** Outside the vocabulary: scored as `<unk>`. */
  oov: boolean;
  /** −log2 p(token | before). */
  bits: number;
  /** How many words the model found more likely (0: its first guess). */
  rank: number;
  /** The model's most likely words here, most likely first (the token itself among them when it ranks high). */
  alternatives: Alternative[];
  /**
   * A word the model expected here (among its first NEAR_MISS_POOL guesses) that is one edit (a letter
   * substituted, added, dropped, or two swapped) from this word and more likely than it: what it probably
   * should have been. Unknown words are compared by their spelling, not as `<unk>`.
   */
  nearMiss?: Alternative;
}

/** Guesses searched for a near miss. */
export const NEAR_MISS_POOL = 30;

export interface SurprisalOptions {
  /** Alternatives kept per token (default 5; 0 for none). */
  alternatives?: number;
  /** Tokens per model run (default 256). */
  chunk?: number;
  /** Awaited between two runs: lets other work run, or stops the work by throwing. */
  between?: () => Promise<void>;
}

/** Scores every token of `text` under `lm` (whose vocabulary is `vocab`). */
export async function scoreSurprisal(lm: LanguageModel, vocab: Vocabulary, mode: TokenizerMode, text: string, opts: SurprisalOptions = {}): Promise<TokenSurprisal[]> {
  const k = opts.alternatives ?? 5;
  const chunk = opts.chunk ?? 256;
  if (!Number.isInteger(k) || k < 0) throw new Error(`scoreSurprisal: alternatives must be an integer ≥ 0 (got ${k})`);
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`scoreSurprisal: chunk must be a positive integer (got ${chunk})`);
  if (lm.vocabSize !== vocab.size) throw new Error(`scoreSurprisal: the model has ${lm.vocabSize} words, the vocabulary ${vocab.size}`);
  const tokens = tokenize(text, mode);
  if (!tokens.length) return [];
  const spans = tokenSpans(text, tokens, mode);
  const ids = vocab.encode(tokens);
  const unk = vocab.has(UNK) ? vocab.id(UNK) : 0;
  const V = lm.vocabSize;
  const out: TokenSurprisal[] = [];
  // Inputs: the start token, then the tokens; targets: the tokens.
  const inputs = new Int32Array(tokens.length);
  inputs[0] = startTokenId(vocab, mode);
  inputs.set(ids.subarray(0, tokens.length - 1), 1);
  let state = lm.initialState();
  for (let from = 0; from < tokens.length; from += chunk) {
    if (from > 0 && opts.between) await opts.between();
    const m = Math.min(chunk, tokens.length - from);
    const run = await lm.run(inputs.subarray(from, from + m), state);
    state = run.state;
    for (let t = 0; t < m; t++) {
      const i = from + t;
      const row = run.logProbs.subarray(t * V, (t + 1) * V);
      const target = ids[i]!;
      const lp = row[target]!;
      const token = tokens[i]!;
      const candidate = isWordLike(token);
      const oov = target === unk && token !== UNK;
      const top = topAlternatives(row, candidate ? Math.max(k, NEAR_MISS_POOL) : k, vocab);
      const scored: TokenSurprisal = {
        index: i,
        start: spans[i]![0],
        end: spans[i]![1],
        token,
        oov,
        bits: -lp / Math.LN2,
        rank: countAbove(row, lp),
        alternatives: top.slice(0, k),
      };
      // An unknown word's own probability is not known (`<unk>`'s is that of every unknown word): its near
      // miss is the likeliest expected word it looks like a typo of.
      const near = candidate ? top.find((a) => a.word !== token && oneEditApart(a.word, token) && (oov ? typoShaped(token, a, Math.exp(lp)) : a.p > Math.exp(lp))) : undefined;
      if (near) scored.nearMiss = near;
      out.push(scored);
    }
  }
  return out;
}

export interface SurprisalRule {
  /** Bits above the median word's surprisal. */
  marginBits: number;
  /** An unknown word one edit from an expected word at least this likely is flagged (0: never). */
  nearMissMinP: number;
}

/** Chosen with `nextword bench errors` on three projects; what it flags and finds: docs/surprisal.md. */
export const DEFAULT_SURPRISAL_RULE: Readonly<SurprisalRule> = Object.freeze({ marginBits: 12, nearMissMinP: 0.01 });

/** Whether a token can be flagged at all: words and numbers, not white space or punctuation. */
export function isCandidate(t: Pick<TokenSurprisal, 'token'>): boolean {
  return isWordLike(t.token);
}

/** The median surprisal of the candidate tokens (NaN when there are none). */
export function medianBits(tokens: readonly TokenSurprisal[]): number {
  const bits = tokens.filter(isCandidate).map((t) => t.bits).sort((a, b) => a - b);
  if (!bits.length) return NaN;
  const mid = bits.length >> 1;
  return bits.length % 2 ? bits[mid]! : (bits[mid - 1]! + bits[mid]!) / 2;
}

/** An unknown word one edit from a word the model expected at least `minP`: what a typo looks like. */
export function isLikelyTypo(t: TokenSurprisal, minP: number): boolean {
  return minP > 0 && t.oov && !!t.nearMiss && t.nearMiss.p >= minP;
}

/** The surprising tokens of one text under `rule`, in text order, and the median they were measured against. */
export function flagSurprising(tokens: readonly TokenSurprisal[], rule: SurprisalRule = DEFAULT_SURPRISAL_RULE): { median: number; flagged: TokenSurprisal[] } {
  const median = medianBits(tokens);
  const flagged = tokens.filter((t) => isCandidate(t) && (t.bits >= median + rule.marginBits || isLikelyTypo(t, rule.nearMissMinP)));
  return { median, flagged };
}

/** The surprising words of a text, what the editor highlights. */
export interface SurprisingWords {
  /** The median surprisal of the text's words (NaN without words). */
  median: number;
  /** How many words (and numbers) the text has. */
  words: number;
  flagged: TokenSurprisal[];
}

/** Scores `text` and keeps only what the highlight needs: its surprising words, with their alternatives. */
export async function surprisingWords(
  lm: LanguageModel,
  vocab: Vocabulary,
  mode: TokenizerMode,
  text: string,
  opts: SurprisalOptions & { rule?: SurprisalRule } = {},
): Promise<SurprisingWords> {
  const tokens = await scoreSurprisal(lm, vocab, mode, text, opts);
  const { median, flagged } = flagSurprising(tokens, opts.rule ?? DEFAULT_SURPRISAL_RULE);
  return { median, words: tokens.filter(isCandidate).length, flagged };
}

/**
 * Orders words from the most to the least suspect: likely typos first (the likelier the expected word, the
 * earlier), then by bits above the median. Negative when `a` is more suspect than `b`.
 */
export function compareSuspicion(a: { t: TokenSurprisal; median: number }, b: { t: TokenSurprisal; median: number }, rule: SurprisalRule = DEFAULT_SURPRISAL_RULE): number {
  const ta = isLikelyTypo(a.t, rule.nearMissMinP);
  const tb = isLikelyTypo(b.t, rule.nearMissMinP);
  if (ta !== tb) return ta ? -1 : 1;
  if (ta && tb) return b.t.nearMiss!.p - a.t.nearMiss!.p;
  return b.t.bits - b.median - (a.t.bits - a.median);
}

/** Where each token lies in `text`: in text mode tokens concatenate to the text; in whitespace mode they are found in order. */
export function tokenSpans(text: string, tokens: readonly string[], mode: TokenizerMode): [number, number][] {
  const spans: [number, number][] = [];
  let at = 0;
  for (const tok of tokens) {
    if (mode === 'text') {
      spans.push([at, at + tok.length]);
      at += tok.length;
    } else {
      const needle = tok === EOS ? '\n' : tok;
      const found = text.indexOf(needle, at);
      const start = found < 0 ? at : found;
      const end = found < 0 ? at : found + needle.length;
      spans.push([start, end]);
      at = end;
    }
  }
  return spans;
}

/**
 * Whether `a` becomes `b` by one edit: a letter substituted, inserted or deleted, or two neighbours swapped
 * (optimal string alignment distance 1). Code units, case-sensitive.
 */
export function oneEditApart(a: string, b: string): boolean {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    // substitution at i, or a swap of i and i + 1
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  // one letter more in the longer word at i
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/**
 * Whether an unknown word one edit from an expected word looks like a typo of it rather than a word of its
 * own: made of letters (names with digits or underscores, `buf2`, `_path`, are one edit from others by
 * design), not a change of case or a final "s" (plurals), and, for a word of three letters or fewer (one
 * edit from many by chance), only if the word is likelier than every unknown word together (`teh`: "the").
 */
export function typoShaped(token: string, expected: Alternative, unknownP: number): boolean {
  const w = token.trim();
  const e = expected.word.trim();
  if (!/^\p{L}+$/u.test(w) || !/^\p{L}+$/u.test(e)) return false;
  if (w.toLowerCase() === e.toLowerCase() || w === `${e}s` || e === `${w}s`) return false;
  return [...e].length >= 4 || expected.p > unknownP;
}

/** The k most likely words of one distribution, most likely first (ties: the lower id). */
function topAlternatives(row: Float32Array, k: number, vocab: Vocabulary): Alternative[] {
  if (k === 0) return [];
  const best: number[] = []; // ids, kept sorted by log p, descending
  for (let v = 0; v < row.length; v++) {
    const lp = row[v]!;
    if (best.length === k) {
      if (lp <= row[best[k - 1]!]!) continue;
      best.pop();
    }
    let i = best.length;
    while (i > 0 && row[best[i - 1]!]! < lp) i--;
    best.splice(i, 0, v);
  }
  return best.map((id) => ({ word: vocab.word(id), p: Math.exp(row[id]!) }));
}
