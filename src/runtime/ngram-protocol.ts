// Messages between the editor and the n-gram server (ngram-server.ts): the process that serves an n-gram
// model (the workspace's while its network trains, a saved model's baseline), so that the model's tens of
// megabytes and the work of predicting and scoring with it stay out of the extension host (remote-ngram.ts
// is the editor's end).

import type { PredictionAnswer, PredictionQuery } from '../core/completion/completion-answer.js';
import type { ChunkScores } from '../core/evaluation.js';
import type { RecurrentState } from '../core/language-model.js';
import type { ContextState, Phrase, PhraseOptions, Suggestion, TopKOptions } from '../core/predictor.js';
import type { TokenizerMode } from '../core/tokenizer.js';

/**
 * A text given relative to the last one a predictor call gave (the editor sends the whole document before
 * the cursor on every keystroke; typing on adds a character, a backspace removes one): that text's first
 * `keep` characters, then `add`. `keep: 0` gives a text whole.
 */
export interface TextRef {
  keep: number;
  add: string;
}

/**
 * A call of the served model (NgramServing): its `model` (run, advance), its `scorer`, or the predictor the
 * server keeps over its model (its cached contexts stay there): a whole completion query (`answer`, one
 * message per request), or one of the predictor's own calls.
 */
export type NgramCall =
  | { op: 'run'; ids: Int32Array; state: RecurrentState }
  | { op: 'advance'; ids: Int32Array; state: RecurrentState }
  | { op: 'scoreChunk'; ids: Int32Array; state: RecurrentState }
  | { op: 'scoreSequence'; ids: Int32Array }
  | { op: 'answer'; text: TextRef; query: Omit<PredictionQuery, 'textBefore'> }
  | { op: 'contextState'; text: TextRef }
  | { op: 'topK'; text: TextRef; k: number; opts: TopKOptions }
  | { op: 'continuePhrase'; text: TextRef; opts: PhraseOptions };

/** What each call answers. */
export interface NgramReplies {
  run: { logProbs: Float32Array; state: RecurrentState };
  advance: RecurrentState;
  scoreChunk: ChunkScores;
  scoreSequence: { logp: Float32Array; rank: Int32Array };
  answer: PredictionAnswer;
  contextState: ContextState;
  topK: Suggestion[];
  continuePhrase: Phrase;
}

/** The calls that ask for predictions: the server answers them before it goes on scoring. */
export const PREDICTION_OPS: ReadonlySet<NgramCall['op']> = new Set(['run', 'advance', 'answer', 'contextState', 'topK', 'continuePhrase']);

export type ToNgramServer =
  /**
   * Load the model written to `file` (KneserNey.toBytes()) for the vocabulary `words` (id order): with the
   * document cache (the interim model) or alone (`cache: false`: a saved model's baseline), its length and
   * sha256 checked when `expect` gives them (a saved companion).
   */
  | { type: 'open'; file: string; words: string[]; mode: TokenizerMode; cache?: false; expect?: { bytes: number; sha256: string } }
  | ({ type: 'call'; id: number } & NgramCall);

export type FromNgramServer =
  | { type: 'ready'; order: number; initialState: RecurrentState; loadMs: number }
  /** The model could not be opened; the server then ends. */
  | { type: 'error'; message: string }
  | { type: 'reply'; id: number; result: NgramReplies[NgramCall['op']] }
  | { type: 'failed'; id: number; message: string };
