// The n-gram model as the editor serves it (a ServingModel): predictions and file perplexity from a
// Kneser-Ney model, mixed with the document cache exactly as the LSTM is (cache-model.ts), so that a
// workspace's identifiers are offered from the first minute of training. Scoring reads the mixture's
// distributions (LanguageModelScorer): one pass over the vocabulary per token, in plain TypeScript, on the
// caller's thread, so it yields to the event loop every few milliseconds of work, and leaves the thread
// idle as long again (breathe): scoring a long file takes seconds of CPU, and at full speed it kept the
// extension host's thread busy while the training worker and the window wanted the other core.

import { CacheLanguageModel, cachedIdsOf, DEFAULT_CACHE, type CacheOptions } from '../predict/cache-model.js';
import { LanguageModelScorer } from '../scoring/language-model-scorer.js';
import type { ChunkScorer, SequenceScorer } from '../scoring/evaluation.js';
import { breathe } from '../support/event-loop.js';
import type { LanguageModel } from '../model/language-model.js';
import type { ServingModel } from './serving-model.js';
import type { TokenizerMode } from '../text/tokenizer.js';
import type { Vocabulary } from '../text/vocabulary.js';
import type { KneserNey } from '../ngram/kneser-ney.js';

/**
 * Tokens per scoring run at most, with a yield to the event loop after each; runs are sized to last about
 * SCORING_SLICE_MS: a Kneser-Ney distribution plus the cache's mixing costs far more per token on a large
 * workspace's model than on a small one, so a fixed count of tokens would hold the thread too long there.
 */
const SCORING_CHUNK = 32;
const SCORING_SLICE_MS = 8;

export class NgramServing implements ServingModel {
  readonly model: LanguageModel;
  readonly scorer: ChunkScorer & SequenceScorer;

  constructor(
    readonly ngram: KneserNey,
    readonly vocab: Vocabulary,
    readonly mode: TokenizerMode,
    cache: CacheOptions | false = DEFAULT_CACHE,
    /** How scoring shares its thread: awaited between runs of about `sliceMs` (default: breathe, 8 ms). */
    pacing: { between: () => Promise<void>; sliceMs: number } = { between: () => breathe(), sliceMs: SCORING_SLICE_MS },
  ) {
    if (ngram.vocabSize !== vocab.size) throw new Error(`NgramServing: the n-gram model has ${ngram.vocabSize} ids, the vocabulary ${vocab.size}`);
    this.model = cache === false ? ngram : new CacheLanguageModel(ngram, cachedIdsOf(vocab), cache);
    this.scorer = cache === false ? ngram : new LanguageModelScorer(this.model, { chunk: SCORING_CHUNK, yieldBetween: pacing.between, sliceMs: pacing.sliceMs });
  }

  async release(): Promise<void> {
    // Plain arrays: nothing to free.
  }
}
