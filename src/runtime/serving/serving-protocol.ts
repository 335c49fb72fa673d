// Messages between the editor and the model server (model-server.ts): the one process, beside the extension
// host, that serves the editor's models and starts its other processes, so that the models' memory and the
// work of predicting and scoring with them stay out of the extension host (remote-serving.ts is the editor's
// end of a model, server-process.ts of the process). It serves models of two kinds, each under a number the
// editor chose: a saved model (the LSTM, with the document cache, and its n-gram companion as the status
// bar's baseline), or an n-gram model alone (the workspace's while its network trains); and it starts child
// processes (the training process) whose channels go straight to the editor.

import { commonPrefixLength } from '../../core/support/common-prefix.js';
import type { PredictionAnswer, PredictionQuery } from '../../core/completion/completion-answer.js';
import type { ChunkScores } from '../../core/scoring/evaluation.js';
import type { SurprisalRule, SurprisingWords } from '../../core/scoring/surprisal.js';
import type { DecoderPrecision } from '../../core/graphs/inference-graph.js';
import type { RecurrentState } from '../../core/model/language-model.js';
import type { ModelMeta } from '../../core/serving/model-format.js';
import type { ContextState, Phrase, PhraseOptions, Suggestion, TopKOptions } from '../../core/predict/predictor.js';
import type { TokenizerMode } from '../../core/text/tokenizer.js';

/**
 * A text given relative to the last one a predictor call gave (the editor sends the text before the cursor
 * on every keystroke; typing on adds a character, a backspace removes one): that text's first
 * `keep` characters, then `add`. `keep: 0` gives a text whole.
 */
export interface TextRef {
  keep: number;
  add: string;
}

/**
 * `text` relative to `last`: what the two share kept, the rest added. Typing on sends the characters typed,
 * an edit before the cursor (a typo fixed earlier on the line) what follows the edit, another document the
 * whole text.
 */
export function textRefFrom(last: string, text: string): TextRef {
  const keep = commonPrefixLength(last, text);
  return { keep, add: keep === text.length ? '' : text.slice(keep) };
}

/** The text `ref` gives relative to `last`; a reference that does not fit `last` is refused. */
export function resolveTextRef(last: string, ref: TextRef): string {
  if (!(Number.isInteger(ref.keep) && ref.keep >= 0 && ref.keep <= last.length) || typeof ref.add !== 'string') {
    throw new Error(`a text reference keeps ${ref.keep} characters of a text of ${last.length}`);
  }
  return (ref.keep === last.length ? last : last.slice(0, ref.keep)) + ref.add;
}

/**
 * A call of the served model: its `model` (run, advance), its `scorer` (or the baseline's, `baseline: true`:
 * a saved model's n-gram companion), or the predictor the server keeps over its model (its cached contexts
 * stay there): a whole completion query (`answer`, one message per request), or one of the predictor's own calls.
 */
export type ServingCall =
  | { op: 'run'; ids: Int32Array; state: RecurrentState }
  | { op: 'advance'; ids: Int32Array; state: RecurrentState }
  | { op: 'scoreChunk'; ids: Int32Array; state: RecurrentState; baseline?: true }
  | { op: 'scoreSequence'; ids: Int32Array; baseline?: true }
  | { op: 'answer'; text: TextRef; query: Omit<PredictionQuery, 'textBefore'> }
  | { op: 'contextState'; text: TextRef }
  | { op: 'topK'; text: TextRef; k: number; opts: TopKOptions }
  | { op: 'continuePhrase'; text: TextRef; opts: PhraseOptions }
  /** The surprising words of `text` under the served model (the editor's highlight), scored between predictions. */
  | { op: 'surprising'; text: string; rule: SurprisalRule; alternatives: number };

/** What each call answers. */
export interface ServingReplies {
  run: { logProbs: Float32Array; state: RecurrentState };
  advance: RecurrentState;
  scoreChunk: ChunkScores;
  scoreSequence: { logp: Float32Array; rank?: Int32Array };
  answer: PredictionAnswer;
  contextState: ContextState;
  topK: Suggestion[];
  continuePhrase: Phrase;
  surprising: SurprisingWords;
}

/** The calls that ask for predictions: the server answers them before it goes on scoring. */
export const PREDICTION_OPS: ReadonlySet<ServingCall['op']> = new Set(['run', 'advance', 'answer', 'contextState', 'topK', 'continuePhrase']);

/** What the server is asked to serve. */
export type ServedModel =
  /**
   * The n-gram model written to `file` (KneserNey.toBytes()) for the vocabulary `words` (id order): with the
   * document cache (the interim model) or alone (`cache: false`), its length and sha256 checked when
   * `expect` gives them.
   */
  | { kind: 'ngram'; file: string; words: string[]; mode: TokenizerMode; cache?: false; expect?: { bytes: number; sha256: string } }
  /**
   * The saved model in the folder `dir`, as runtime/serving/model-session.ts opens it: the network (its decoder
   * in `decoder`), mixed with the document cache, its companion as the baseline.
   */
  | { kind: 'saved'; dir: string; threads: number; scoringThreads: number; decoder?: DecoderPrecision };

/** A saved model as the server opened it. */
export interface SavedModelInfo {
  /** The absolute model folder. */
  dir: string;
  meta: ModelMeta;
  decoder: DecoderPrecision;
  /** The companion, when it serves as the baseline: n of its n-grams, and its scorer's initial state. */
  baseline?: { order: number; initialState: RecurrentState };
  /** Why a companion model.json names could not be used. */
  ngramProblem?: string;
}

/** A model's messages to the server: `model` is the number the editor gave it when it asked to open it. */
export type ToModel = { type: 'open'; model: number; serve: ServedModel } | ({ type: 'call'; model: number; id: number } & ServingCall) | { type: 'close'; model: number };

/** The server's messages about a model. */
export type FromModel =
  | { type: 'ready'; model: number; initialState: RecurrentState; loadMs: number; ngram?: { order: number }; saved?: SavedModelInfo }
  /** The model could not be opened (`code`: a ModelStoreError's); nothing of it is kept. */
  | { type: 'error'; model: number; message: string; name: string; code?: string }
  | { type: 'reply'; model: number; id: number; result: ServingReplies[ServingCall['op']] }
  | { type: 'failed'; model: number; id: number; message: string };

/** Asks the server to start `script` as a child process whose channel (a socket pair) goes to the editor, or to kill one. */
export type ToSpawner = { type: 'spawn'; id: number; script: string; execArgv: string[]; nice?: number } | { type: 'kill'; id: number };

/** A started child ('spawned' carries the editor's end of its socket pair as a handle), or its end. */
export type FromSpawner =
  | { type: 'spawned'; id: number; pid: number }
  | { type: 'spawnFailed'; id: number; message: string }
  | { type: 'exit'; id: number; code: number | null; signal: string | null };

/** What the server holds, for diagnostics and tests: the models it serves and the children it started. */
export type ToCensus = { type: 'census'; id: number };
export type FromCensus = { type: 'census'; id: number; models: number[]; children: number[]; rssBytes: number };

export type ToServer = ToModel | ToSpawner | ToCensus;
export type FromServer = FromModel | FromSpawner | FromCensus;
