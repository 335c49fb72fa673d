// The contract of one training step, shared by the ONNX training graph and the plain-TypeScript
// reference that checks it.
//
// Shapes: T window length (bptt), B parallel streams, N = T·B, L layers, H hidden, V vocabulary.
// Arrays are flat and row-major.
//
// One step, for a window of T+1 token rows (x = rows 0..T-1, y = rows 1..T, teacher forcing):
//   forward:  X0 = Emb[x] ⊙ mask0;  layer l: X(l+1) = cell(Xl, h0[l], c0[l]) ⊙ mask(l+1);  logits = X(L)·Dᵀ + d
//   loss    = mean over the N targets of −log softmax(logits)[y]
//   backward: full backpropagation through the T steps; no gradient flows into h0/c0 (truncated BPTT)
//   clip:     n = ‖all gradients‖₂;  g ← g · min(1, clip / (n + 1e-6))
//   update:   SGD  p ← p − lr·g
//             Adam m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//                  p ← p − lr · (m / (1 − β1^k)) / (√(v / (1 − β2^k)) + ε),  k = step (1-based)
// Dropout masks (when dropout is on) hold 0 or 1/(1−p) and are drawn by the caller, so the reference and
// the graph see the same ones; mask k has shape [T, B, width k] (see dropoutMaskWidths).

import type { OptimizerType } from '../model/model-config.js';

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-8;
export const CLIP_EPSILON = 1e-6;

export type FloatArray = Float32Array | Float64Array;

export interface StepInput<A extends FloatArray = Float32Array> {
  /** Every parameter, flat, in parameterLayout order. */
  params: A;
  /** Adam's first and second moments, flat like params (Adam only). */
  adamM?: A;
  adamV?: A;
  /** [(T+1), B] token ids: inputs are rows 0..T-1, targets rows 1..T. */
  tokens: Int32Array;
  T: number;
  B: number;
  /** [L, B, H] carried-in hidden state. */
  h0: A;
  /** [L, B, H] carried-in cell state (LSTM only). */
  c0?: A;
  /** Dropout masks, one per dropoutMaskWidths entry, each [T, B, width]; absent when dropout is off. */
  masks?: A[];
  optimizer: OptimizerType;
  lr: number;
  /** Global gradient-norm bound; Infinity turns clipping off. */
  clip: number;
  /** 1-based update count, for Adam's bias correction. */
  step: number;
  /** Train on the sampled softmax over these words instead of the full softmax (see SampledSoftmax). */
  sampled?: SampledSoftmax;
}

/**
 * A sampled softmax for one step (Jean et al. 2015; the "unique" sampler of TensorFlow's
 * sampled_softmax_loss): K distinct words S shared by every row, drawn from a proposal q, each with
 * log Q(s), Q(s) = 1 − (1 − q(s))^tries its probability of being among them. Row n's loss is
 *
 *   −z_y + log( e^{z_y} + Σ_{s ∈ S, s ≠ y} e^{z_s − log Q(s)} ),      z = the row's logits,
 *
 * the cross-entropy of a softmax over the target and the samples, whose sum estimates the full softmax's
 * normaliser without bias (Horvitz–Thompson). A sample equal to the target is left out of its row. With S
 * the whole vocabulary and Q = 1 it is exactly the full softmax's cross-entropy.
 */
export interface SampledSoftmax {
  /** [K] distinct word ids. */
  ids: Int32Array;
  /** [K] log Q(s) ≤ 0. */
  logQ: Float32Array | Float64Array;
}

export interface StepOutput<A extends FloatArray = Float32Array> {
  params: A;
  adamM?: A;
  adamV?: A;
  /** Mean cross-entropy (nats) over the N targets, before the update. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** [L, B, H] state after the window, to carry into the next one. */
  hT: A;
  cT?: A;
}
