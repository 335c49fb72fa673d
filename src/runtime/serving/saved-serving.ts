// What the editor holds of a saved model being served, wherever it runs: in this process (ModelSession,
// model-session.ts) or in the model server (RemoteSavedModel, remote-serving.ts).

import type { ChunkScorer, SequenceScorer } from '../../core/scoring/evaluation.js';
import type { DecoderPrecision } from '../../core/graphs/inference-graph.js';
import type { ModelMeta } from '../../core/serving/model-format.js';
import type { ServingModel } from '../../core/serving/serving-model.js';

/** A saved model being served, here (ModelSession) or by a model server (RemoteSavedModel). */
export interface SavedServing extends ServingModel {
  /** The absolute model folder. */
  readonly dir: string;
  readonly meta: ModelMeta;
  /** How the decoder multiplies. */
  readonly decoder: DecoderPrecision;
  /** The model's n-gram companion as the status bar's baseline, when it was saved with one and loads. */
  readonly baseline: NgramBaseline | undefined;
  /** Why a companion model.json names could not be used. */
  readonly ngramProblem: string | undefined;
}

/** The n-gram companion as the baseline a file's perplexity is compared with. */
export interface NgramBaseline {
  /** n of its n-grams. */
  order: number;
  /** The Kneser-Ney model alone (no document cache). */
  scorer: ChunkScorer & SequenceScorer;
  /** Its server process's id, when it has one. */
  pid?: number | undefined;
}
