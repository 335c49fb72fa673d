// What the predictor needs from a trained model: advance a recurrent state over token ids and get the
// log-probabilities of the next token after each of them. The ONNX runtime (src/runtime) implements it
// for an exported model; the plain-TypeScript reference implements it for tests.
//
// Shapes: n ids in a call, V vocabulary, L layers, H hidden.

export interface RecurrentState {
  /** [L, H] hidden state. */
  readonly h: Float32Array;
  /** [L, H] cell state (LSTM only). */
  readonly c?: Float32Array;
}

export interface LanguageModel {
  readonly vocabSize: number;
  /** The state before any token: zeros. */
  initialState(): RecurrentState;
  /**
   * Feed `ids` (n ≥ 1) starting from `state`. Returns log-probabilities [n, V] (row t: the distribution of
   * the token after ids[t]) and the state after the last id. Never mutates `state`.
   */
  run(ids: Int32Array, state: RecurrentState): Promise<{ logProbs: Float32Array; state: RecurrentState }>;
  /**
   * Optional: the state after `ids` without computing any distribution (no decoder work), for feeding a
   * long context of which only the final distribution is needed. Never mutates `state`.
   */
  advance?(ids: Int32Array, state: RecurrentState): Promise<RecurrentState>;
}
