// What the editor serves completions and the status bar's perplexity from, whatever the model behind it:
// the saved LSTM (runtime/serving/model-session.ts) or the n-gram model of the workspace while the LSTM trains
// (ngram/ngram-serving.ts). The predictor takes `model` (or is the model's own `predictor`), the perplexity
// tracker takes `scorer`; both read text through `vocab` and `mode`.

import type { CompletionPredictor } from '../completion/completion-answer.js';
import type { ChunkScorer, SequenceScorer } from '../scoring/evaluation.js';
import type { SurprisalRule, SurprisingWords } from '../scoring/surprisal.js';
import type { LanguageModel } from '../model/language-model.js';
import type { TokenizerMode } from '../text/tokenizer.js';
import type { Vocabulary } from '../text/vocabulary.js';

export interface ServingModel {
  /** What predicts (the model mixed with the document cache, by default). */
  readonly model: LanguageModel;
  /** Scores the same distribution `model` predicts with (what `nextword eval` reports). */
  readonly scorer: ChunkScorer & SequenceScorer;
  readonly vocab: Vocabulary;
  readonly mode: TokenizerMode;
  /**
   * A predictor that runs where the model does (another process: one message per completion request), for
   * the editor to ask instead of a Predictor over `model` in its own thread.
   */
  readonly predictor?: CompletionPredictor;
  /**
   * The surprising words of a text, computed where the model runs (another process), for the editor to ask
   * instead of scoring with `model` in its own thread.
   */
  surprising?(text: string, rule: SurprisalRule, alternatives: number): Promise<SurprisingWords>;
  /** Frees what the model holds once its runs in flight are done; calling it twice is harmless. */
  release(): Promise<void>;
}
