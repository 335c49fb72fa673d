// The n-gram companion of a trained model: an interpolated modified Kneser-Ney model (kneser-ney.ts) over
// the same training tokens and vocabulary as the LSTM, trained in seconds before the LSTM's first step.
// It has two jobs in the product:
//   - while the LSTM trains (minutes), it serves completions and the status bar's perplexity, so that a
//     user who runs Train on Workspace gets suggestions from their own workspace at once;
//   - saved next to the LSTM (model-store.ts, `ngram-<id>.bin`), it is the baseline the status bar's
//     tooltip compares the file's perplexity with: the count-based model the network must beat.
//
// Sequences: the training stream is the files' tokens concatenated; `sizes` gives each file's token count,
// so the n-gram model reads every file from its own start, as `nextword eval` reads a file (the start
// token as context, then the file's ids). Validation perplexity is over the validation files read the same
// way: exp(−Σ ln p / tokens), the figure evaluateText gives for the same texts.

import { KneserNey } from './kneser-ney.js';

/**
 * The companion's order for a training stream of `tokens`: long contexts while the model stays small. A
 * workspace repeats itself (code listings, call patterns, comments copied into typings), and 5- and
 * 6-grams remember those phrases; each order adds n-grams about as many as the tokens (a 6-gram model takes
 * 2.5–3.5 times the bytes of a 4-gram one), so large workspaces keep shorter contexts. docs/quality.md
 * ("The companion's order") has the measurements.
 */
export function companionOrder(tokens: number): number {
  return tokens <= 1_500_000 ? 6 : tokens <= 4_000_000 ? 5 : 4;
}

export interface CompanionPlan {
  vocabSize: number;
  /** The token every file is read after (startTokenId). */
  startId: number;
  /** n-gram order (default: companionOrder of the training tokens). */
  order?: number;
  /** Tokens of each training file, in stream order; Σ = the training stream's length. */
  trainSizes: readonly number[];
  /** Tokens of each validation file, in stream order; Σ = the validation stream's length. */
  validSizes: readonly number[];
}

/** What the training record keeps of the companion. */
export interface CompanionFigures {
  order: number;
  /** Stored n-grams of every order. */
  ngrams: number;
  /** Perplexity on the validation files (NaN without validation tokens). */
  validPpl: number;
  /** Seconds to count, estimate and score. */
  seconds: number;
  /**
   * Counted again on the training and the validation files once the validation files had served (the
   * network's early stop, the mixture's weights, the completion threshold): `ngrams` and `seconds` are that
   * model's, `validPpl` the first one's (the saved model has read the validation files).
   */
  withValidation?: boolean;
}

/** The files of a concatenated stream, as views (no copies). Throws when the sizes do not add up. */
export function splitSequences(stream: Int32Array, sizes: readonly number[]): Int32Array[] {
  const out: Int32Array[] = [];
  let at = 0;
  for (const n of sizes) {
    if (!Number.isInteger(n) || n < 0) throw new Error(`splitSequences: sizes must be integers ≥ 0 (got ${n})`);
    out.push(stream.subarray(at, at + n));
    at += n;
  }
  if (at !== stream.length) throw new Error(`splitSequences: the sizes add up to ${at} tokens, the stream has ${stream.length}`);
  return out;
}

/** Perplexity of `model` over `sequences`, each read after `startId`: exp of the mean negative log-likelihood. */
export function sequencesPerplexity(model: KneserNey, sequences: readonly Int32Array[], startId: number): number {
  let nll = 0;
  let tokens = 0;
  for (const ids of sequences) {
    if (ids.length === 0) continue;
    const seq = new Int32Array(ids.length + 1);
    seq[0] = startId;
    seq.set(ids, 1);
    nll -= model.logLikelihood(seq);
    tokens += ids.length;
  }
  return tokens > 0 ? Math.exp(nll / tokens) : NaN;
}

/** Trains the companion on the training files and measures it on the validation files. */
export function trainCompanion(train: Int32Array, valid: Int32Array, plan: CompanionPlan): { model: KneserNey; figures: CompanionFigures } {
  const t0 = performance.now();
  const order = plan.order ?? companionOrder(train.length);
  const model = KneserNey.train(splitSequences(train, plan.trainSizes), { vocabSize: plan.vocabSize, order, startId: plan.startId });
  const validPpl = sequencesPerplexity(model, splitSequences(valid, plan.validSizes), plan.startId);
  return { model, figures: { order, ngrams: model.ngramCount, validPpl, seconds: (performance.now() - t0) / 1000 } };
}

/**
 * The companion counted on the training and the validation files together: for the model that is saved
 * once validation is over: counts, unlike the network, use every file they are given at once, and on a
 * small workspace the validation files are a good part of what there is to count. The mixture keeps the
 * weights fitted with the first count: with a tenth of the text more, the counts change little.
 */
export function recountCompanion(train: Int32Array, valid: Int32Array, plan: CompanionPlan, first: CompanionFigures): { model: KneserNey; figures: CompanionFigures } {
  const t0 = performance.now();
  const order = first.order;
  const model = KneserNey.train([...splitSequences(train, plan.trainSizes), ...splitSequences(valid, plan.validSizes)], { vocabSize: plan.vocabSize, order, startId: plan.startId });
  return { model, figures: { order, ngrams: model.ngramCount, validPpl: first.validPpl, seconds: first.seconds + (performance.now() - t0) / 1000, withValidation: true } };
}
