// The language model and one training step in plain TypeScript, in float64: the specification the ONNX
// training graph is tested against, and a LanguageModel for testing the predictor without onnxruntime.
// The contract is train-step.ts; the math is shared/notes/training-graph.md. Written to be obviously right,
// not fast: it runs on tiny models.
//
// Shapes: T steps, B streams, N = T·B rows (row n = t·B + b), V vocabulary, E embedding, H hidden,
// L layers, G gates per cell (LSTM 4, in ONNX order i, o, f, c; RNN 1), I a layer's input width (E or H),
// C → OC a matmul's input → output width. Arrays are flat and row-major. Gradients carry a `d` prefix;
// every backward function accumulates (+=) into them.

import type { LanguageModel, RecurrentState } from '../../src/core/model/language-model.js';
import {
  type ModelConfig,
  decoderWeightName,
  dropoutMaskWidths,
  gateCount,
  layerInputWidth,
  parameterCount,
  parameterViews,
  validateModelConfig,
} from '../../src/core/model/model-config.js';
import {
  ADAM_BETA1,
  ADAM_BETA2,
  ADAM_EPSILON,
  CLIP_EPSILON,
  type SampledSoftmax,
  type StepInput,
  type StepOutput,
} from '../../src/core/train/train-step.js';

// ----------------------------------------------------------------------------------------------------
// Layers: each a forward/backward pair.

// Embedding lookup: out[n] = emb[ids[n]].
function embeddingForward(out: Float64Array /* [N,E] */, ids: Int32Array /* [N] */, emb: Float64Array /* [V,E] */, E: number): void {
  for (let n = 0; n < ids.length; n++) {
    for (let e = 0; e < E; e++) out[n * E + e] = emb[ids[n] * E + e];
  }
}

function embeddingBackward(dEmb: Float64Array /* [V,E] */, dout: Float64Array /* [N,E] */, ids: Int32Array /* [N] */, E: number): void {
  // A word used at several positions collects the gradient of each use.
  for (let n = 0; n < ids.length; n++) {
    for (let e = 0; e < E; e++) dEmb[ids[n] * E + e] += dout[n * E + e];
  }
}

// Dropout with a caller-drawn mask (0 or 1/(1−p), already scaled): out = inp ⊙ mask; no mask = identity.
function maskForward(out: Float64Array /* [N,C] */, inp: Float64Array /* [N,C] */, mask: Float64Array | undefined /* [N,C] */): void {
  for (let k = 0; k < out.length; k++) out[k] = mask ? inp[k] * mask[k] : inp[k];
}

function maskBackward(dinp: Float64Array /* [N,C] */, dout: Float64Array /* [N,C] */, mask: Float64Array | undefined /* [N,C] */): void {
  for (let k = 0; k < dout.length; k++) dinp[k] += mask ? dout[k] * mask[k] : dout[k];
}

// Affine map over rows: out = inp·weightᵀ + bias. Used for the input projection of a layer, the recurrent
// term h·Rᵀ (no bias) and the decoder.
function matmulForward(
  out: Float64Array /* [N,OC] */,
  inp: Float64Array /* [N,C] */,
  weight: Float64Array /* [OC,C] */,
  bias: Float64Array | null /* [OC] */,
  N: number,
  C: number,
  OC: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OC; o++) {
      let s = bias ? bias[o] : 0;
      for (let c = 0; c < C; c++) s += inp[n * C + c] * weight[o * C + c];
      out[n * OC + o] = s;
    }
  }
}

function matmulBackward(
  dinp: Float64Array /* [N,C] */,
  dweight: Float64Array /* [OC,C] */,
  dbias: Float64Array | null /* [OC] */,
  dout: Float64Array /* [N,OC] */,
  inp: Float64Array /* [N,C] */,
  weight: Float64Array /* [OC,C] */,
  N: number,
  C: number,
  OC: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OC; o++) {
      const g = dout[n * OC + o];
      if (dbias) dbias[o] += g;
      for (let c = 0; c < C; c++) {
        dweight[o * C + c] += g * inp[n * C + c];
        dinp[n * C + c] += g * weight[o * C + c];
      }
    }
  }
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

// LSTM over T steps, given the input projections P = X·Wᵀ + b (computed for all rows before the loop).
// Per step, gates in ONNX order i, o, f, c:
//   z = P[t] + h_{t−1}·Rᵀ;  i, o, f = σ(z_i), σ(z_o), σ(z_f);  g = tanh(z_c)
//   c_t = f⊙c_{t−1} + i⊙g;  h_t = o⊙tanh(c_t)
function lstmForward(
  hs: Float64Array /* [T,B,H] */,
  cs: Float64Array /* [T,B,H] */,
  gates: Float64Array /* [T,B,4H] i, o, f, g after their nonlinearity */,
  P: Float64Array /* [T,B,4H] */,
  R: Float64Array /* [4H,H] */,
  h0: Float64Array /* [B,H] */,
  c0: Float64Array /* [B,H] */,
  T: number,
  B: number,
  H: number,
): void {
  const BH = B * H;
  for (let t = 0; t < T; t++) {
    const hPrev = t === 0 ? h0 : hs.subarray((t - 1) * BH, t * BH);
    const cPrev = t === 0 ? c0 : cs.subarray((t - 1) * BH, t * BH);
    const z = gates.subarray(t * 4 * BH, (t + 1) * 4 * BH); // [B,4H], overwritten by the activations below
    matmulForward(z, hPrev, R, null, B, H, 4 * H);
    for (let j = 0; j < 4 * BH; j++) z[j] += P[t * 4 * BH + j];
    for (let b = 0; b < B; b++) {
      const row = b * 4 * H;
      for (let k = 0; k < H; k++) {
        const i = (z[row + k] = sigmoid(z[row + k]));
        const o = (z[row + H + k] = sigmoid(z[row + H + k]));
        const f = (z[row + 2 * H + k] = sigmoid(z[row + 2 * H + k]));
        const g = (z[row + 3 * H + k] = Math.tanh(z[row + 3 * H + k]));
        const c = f * cPrev[b * H + k] + i * g;
        cs[t * BH + b * H + k] = c;
        hs[t * BH + b * H + k] = o * Math.tanh(c);
      }
    }
  }
}

// Backpropagation through time, step T−1 down to 0. dh/dc from the step after flow back through the
// recurrence; none leaves through h0/c0 (truncated BPTT).
function lstmBackward(
  dP: Float64Array /* [T,B,4H] */,
  dR: Float64Array /* [4H,H] */,
  dhs: Float64Array /* [T,B,H] gradient of the outputs from above */,
  hs: Float64Array /* [T,B,H] */,
  cs: Float64Array /* [T,B,H] */,
  gates: Float64Array /* [T,B,4H] */,
  R: Float64Array /* [4H,H] */,
  h0: Float64Array /* [B,H] */,
  c0: Float64Array /* [B,H] */,
  T: number,
  B: number,
  H: number,
): void {
  const BH = B * H;
  const dhNext = new Float64Array(BH); // [B,H] gradient reaching h_t through step t+1
  const dcNext = new Float64Array(BH); // [B,H] gradient reaching c_t through step t+1
  for (let t = T - 1; t >= 0; t--) {
    const hPrev = t === 0 ? h0 : hs.subarray((t - 1) * BH, t * BH);
    const cPrev = t === 0 ? c0 : cs.subarray((t - 1) * BH, t * BH);
    const dz = dP.subarray(t * 4 * BH, (t + 1) * 4 * BH); // [B,4H]
    for (let b = 0; b < B; b++) {
      const row = t * 4 * BH + b * 4 * H;
      for (let k = 0; k < H; k++) {
        const [i, o, f, g] = [gates[row + k], gates[row + H + k], gates[row + 2 * H + k], gates[row + 3 * H + k]];
        const dh = dhs[t * BH + b * H + k] + dhNext[b * H + k];
        const tc = Math.tanh(cs[t * BH + b * H + k]);
        const dc = dcNext[b * H + k] + dh * o * (1 - tc * tc);
        const [di, dO, df, dg] = [dc * g, dh * tc, dc * cPrev[b * H + k], dc * i];
        dcNext[b * H + k] = dc * f;
        dz[b * 4 * H + k] += di * i * (1 - i);
        dz[b * 4 * H + H + k] += dO * o * (1 - o);
        dz[b * 4 * H + 2 * H + k] += df * f * (1 - f);
        dz[b * 4 * H + 3 * H + k] += dg * (1 - g * g);
      }
    }
    // Through z = P[t] + h_{t−1}·Rᵀ: dR += dzᵀ·h_{t−1};  dh_{t−1} = dz·R.
    dhNext.fill(0);
    matmulBackward(dhNext, dR, null, dz, hPrev, R, B, H, 4 * H);
  }
}

// Simple RNN over T steps: h_t = tanh(P[t] + h_{t−1}·Rᵀ).
function rnnForward(
  hs: Float64Array /* [T,B,H] */,
  P: Float64Array /* [T,B,H] */,
  R: Float64Array /* [H,H] */,
  h0: Float64Array /* [B,H] */,
  T: number,
  B: number,
  H: number,
): void {
  const BH = B * H;
  for (let t = 0; t < T; t++) {
    const hPrev = t === 0 ? h0 : hs.subarray((t - 1) * BH, t * BH);
    const h = hs.subarray(t * BH, (t + 1) * BH); // [B,H]
    matmulForward(h, hPrev, R, null, B, H, H);
    for (let j = 0; j < BH; j++) h[j] = Math.tanh(h[j] + P[t * BH + j]);
  }
}

function rnnBackward(
  dP: Float64Array /* [T,B,H] */,
  dR: Float64Array /* [H,H] */,
  dhs: Float64Array /* [T,B,H] gradient of the outputs from above */,
  hs: Float64Array /* [T,B,H] */,
  R: Float64Array /* [H,H] */,
  h0: Float64Array /* [B,H] */,
  T: number,
  B: number,
  H: number,
): void {
  const BH = B * H;
  const dhNext = new Float64Array(BH); // [B,H] gradient reaching h_t through step t+1
  for (let t = T - 1; t >= 0; t--) {
    const hPrev = t === 0 ? h0 : hs.subarray((t - 1) * BH, t * BH);
    const dz = dP.subarray(t * BH, (t + 1) * BH); // [B,H]
    for (let j = 0; j < BH; j++) {
      const h = hs[t * BH + j];
      dz[j] += (dhs[t * BH + j] + dhNext[j]) * (1 - h * h);
    }
    dhNext.fill(0);
    matmulBackward(dhNext, dR, null, dz, hPrev, R, B, H, H);
  }
}

// Log-softmax of each row, with the log-sum-exp shifted by the row maximum so exp never overflows.
function logSoftmaxForward(logProbs: Float64Array /* [N,V] */, logits: Float64Array /* [N,V] */, N: number, V: number): void {
  for (let n = 0; n < N; n++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[n * V + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[n * V + v] - max);
    const lse = max + Math.log(sum);
    for (let v = 0; v < V; v++) logProbs[n * V + v] = logits[n * V + v] - lse;
  }
}

// Mean over the N rows of −log p(target).
function crossEntropyForward(logProbs: Float64Array /* [N,V] */, targets: Int32Array /* [N] */, V: number): number {
  let sum = 0;
  for (let n = 0; n < targets.length; n++) sum -= logProbs[n * V + targets[n]];
  return sum / targets.length;
}

// Through log-softmax and the mean together: dlogits = (softmax − onehot(target)) / N.
function crossEntropyBackward(
  dlogits: Float64Array /* [N,V] */,
  logProbs: Float64Array /* [N,V] */,
  targets: Int32Array /* [N] */,
  V: number,
): void {
  const N = targets.length;
  for (let n = 0; n < N; n++) {
    for (let v = 0; v < V; v++) {
      dlogits[n * V + v] += (Math.exp(logProbs[n * V + v]) - (v === targets[n] ? 1 : 0)) / N;
    }
  }
}

// The sampled softmax (train-step.ts, SampledSoftmax) from the full log-softmax: the row's shift by its
// log-sum-exp cancels, so z may be the log-probabilities. Returns the mean loss; with `dlogits`, adds its
// gradient: p̃ − onehot(target) on the target and the row's samples (p̃ the softmax over them), / N.
function sampledCrossEntropy(
  logProbs: Float64Array /* [N,V] */,
  targets: Int32Array /* [N] */,
  V: number,
  sampled: SampledSoftmax,
  dlogits?: Float64Array /* [N,V] */,
): number {
  const N = targets.length;
  const K = sampled.ids.length;
  const z = new Float64Array(K + 1);
  let sum = 0;
  for (let n = 0; n < N; n++) {
    const y = targets[n];
    z[0] = logProbs[n * V + y];
    let max = z[0];
    for (let k = 0; k < K; k++) {
      const s = sampled.ids[k];
      z[k + 1] = s === y ? -Infinity : logProbs[n * V + s] - sampled.logQ[k];
      max = Math.max(max, z[k + 1]);
    }
    let total = 0;
    for (let k = 0; k <= K; k++) total += Math.exp(z[k] - max);
    const lse = max + Math.log(total);
    sum += lse - z[0];
    if (dlogits) {
      dlogits[n * V + y] += (Math.exp(z[0] - lse) - 1) / N;
      for (let k = 0; k < K; k++) if (sampled.ids[k] !== y) dlogits[n * V + sampled.ids[k]] += Math.exp(z[k + 1] - lse) / N;
    }
  }
  return sum / N;
}

// ----------------------------------------------------------------------------------------------------
// The model: the layers in sequence, and the backward as the forward in reverse.

/** Everything the forward keeps for the backward. */
interface Activations {
  layerIn: Float64Array[]; // L × [N,I]   input of layer l, after mask l
  hs: Float64Array[]; // L × [N,H]         hidden outputs of layer l
  cs: Float64Array[]; // L × [N,H]         cell states (LSTM only)
  gates: Float64Array[]; // L × [N,4H]     gate activations i, o, f, g (LSTM only)
  decoderIn: Float64Array; // [N,H]        top outputs, after mask L
  logProbs: Float64Array; // [N,V]
}

/** The decoder as [V,H]: the embedding when tied, else the stored [H,V] matrix transposed. */
function decoderMatrix(cfg: ModelConfig, params: Map<string, Float64Array>): Float64Array {
  const stored = tensor(params, decoderWeightName(cfg));
  if (cfg.tied) return stored;
  const D = new Float64Array(cfg.vocab * cfg.hidden);
  transposeInto(D, stored, cfg.hidden, cfg.vocab);
  return D;
}

/** out [cols, rows] = inp [rows, cols]ᵀ, added into out. */
function transposeInto(out: Float64Array, inp: Float64Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] += inp[r * cols + c];
}

function tensor(views: Map<string, Float64Array>, name: string): Float64Array {
  const view = views.get(name);
  if (!view) throw new Error(`reference model: no parameter named ${name}`);
  return view;
}

function forwardPass(
  cfg: ModelConfig,
  params: Map<string, Float64Array>,
  x: Int32Array /* [T,B] */,
  T: number,
  B: number,
  h0: Float64Array /* [L,B,H] */,
  c0: Float64Array | undefined /* [L,B,H] */,
  masks: Float64Array[] | undefined /* (L+1) × [T,B,width] */,
): Activations {
  const { vocab: V, embed: E, hidden: H, layers: L } = cfg;
  const N = T * B;
  const GH = gateCount(cfg.cell) * H;
  const BH = B * H;

  const embedded = new Float64Array(N * E);
  embeddingForward(embedded, x, tensor(params, 'embedding'), E);

  const act: Activations = {
    layerIn: [],
    hs: [],
    cs: [],
    gates: [],
    decoderIn: new Float64Array(N * H),
    logProbs: new Float64Array(N * V),
  };
  for (let l = 0; l < L; l++) {
    const I = layerInputWidth(cfg, l);
    const below = l === 0 ? embedded : act.hs[l - 1];
    const layerIn = new Float64Array(N * I);
    maskForward(layerIn, below, masks?.[l]);
    const proj = new Float64Array(N * GH); // Xl·Wlᵀ + bl, for every step at once
    matmulForward(proj, layerIn, tensor(params, `layer${l}.W`), tensor(params, `layer${l}.b`), N, I, GH);
    const hs = new Float64Array(N * H);
    const R = tensor(params, `layer${l}.R`);
    const h0l = h0.subarray(l * BH, (l + 1) * BH);
    if (cfg.cell === 'lstm') {
      const cs = new Float64Array(N * H);
      const gates = new Float64Array(N * GH);
      lstmForward(hs, cs, gates, proj, R, h0l, (c0 as Float64Array).subarray(l * BH, (l + 1) * BH), T, B, H);
      act.cs.push(cs);
      act.gates.push(gates);
    } else {
      rnnForward(hs, proj, R, h0l, T, B, H);
    }
    act.layerIn.push(layerIn);
    act.hs.push(hs);
  }
  maskForward(act.decoderIn, act.hs[L - 1], masks?.[L]);
  const logits = new Float64Array(N * V);
  matmulForward(logits, act.decoderIn, decoderMatrix(cfg, params), tensor(params, 'decoder.b'), N, H, V);
  logSoftmaxForward(act.logProbs, logits, N, V);
  return act;
}

function backwardPass(
  cfg: ModelConfig,
  params: Map<string, Float64Array>,
  grads: Map<string, Float64Array> /* zeroed, accumulated into */,
  act: Activations,
  x: Int32Array /* [T,B] */,
  y: Int32Array /* [T,B] */,
  T: number,
  B: number,
  h0: Float64Array /* [L,B,H] */,
  c0: Float64Array | undefined /* [L,B,H] */,
  masks: Float64Array[] | undefined /* (L+1) × [T,B,width] */,
  sampled: SampledSoftmax | undefined,
): void {
  const { vocab: V, embed: E, hidden: H, layers: L } = cfg;
  const N = T * B;
  const GH = gateCount(cfg.cell) * H;
  const BH = B * H;

  // Loss → logits → decoder. Tied: the decoder's dD lands in the embedding's gradient.
  const dlogits = new Float64Array(N * V);
  if (sampled) sampledCrossEntropy(act.logProbs, y, V, sampled, dlogits);
  else crossEntropyBackward(dlogits, act.logProbs, y, V);
  const dDecoderIn = new Float64Array(N * H);
  const dD = new Float64Array(V * H); //                                            [V,H]
  matmulBackward(dDecoderIn, dD, tensor(grads, 'decoder.b'), dlogits, act.decoderIn, decoderMatrix(cfg, params), N, H, V);
  const dStored = tensor(grads, decoderWeightName(cfg));
  if (cfg.tied) for (let k = 0; k < dD.length; k++) dStored[k] += dD[k];
  else transposeInto(dStored, dD, V, H); //                                         [H,V] ← [V,H]ᵀ

  // Down the stack: dOut is the gradient of layer l's outputs.
  let dOut = new Float64Array(N * H);
  maskBackward(dOut, dDecoderIn, masks?.[L]);
  for (let l = L - 1; l >= 0; l--) {
    const I = layerInputWidth(cfg, l);
    const R = tensor(params, `layer${l}.R`);
    const h0l = h0.subarray(l * BH, (l + 1) * BH);
    const dproj = new Float64Array(N * GH);
    if (cfg.cell === 'lstm') {
      const c0l = (c0 as Float64Array).subarray(l * BH, (l + 1) * BH);
      lstmBackward(dproj, tensor(grads, `layer${l}.R`), dOut, act.hs[l], act.cs[l], act.gates[l], R, h0l, c0l, T, B, H);
    } else {
      rnnBackward(dproj, tensor(grads, `layer${l}.R`), dOut, act.hs[l], R, h0l, T, B, H);
    }
    const dLayerIn = new Float64Array(N * I);
    const [dW, db, W] = [tensor(grads, `layer${l}.W`), tensor(grads, `layer${l}.b`), tensor(params, `layer${l}.W`)];
    matmulBackward(dLayerIn, dW, db, dproj, act.layerIn[l], W, N, I, GH);
    dOut = new Float64Array(N * I); // gradient of the outputs below: layer l−1's, or the embedding lookup's
    maskBackward(dOut, dLayerIn, masks?.[l]);
  }
  embeddingBackward(tensor(grads, 'embedding'), dOut, x, E);
}

/** The state after step T−1 of every layer: hs[l] rows of the last step, stacked to [L,B,H]. */
function lastStep(perLayer: Float64Array[] /* L × [T,B,H] */, T: number, BH: number): Float64Array /* [L,B,H] */ {
  const out = new Float64Array(perLayer.length * BH);
  perLayer.forEach((s, l) => out.set(s.subarray((T - 1) * BH, T * BH), l * BH));
  return out;
}

// ----------------------------------------------------------------------------------------------------
// Input checks: the reference is also the yardstick, so bad input fails loudly instead of reading past a view.

const fail = (msg: string): never => {
  throw new Error(`reference model: ${msg}`);
};

function checkParams(cfg: ModelConfig, params: Float32Array | Float64Array): void {
  validateModelConfig(cfg);
  const count = parameterCount(cfg);
  if (params.length !== count) fail(`params holds ${params.length} values, the configuration needs ${count}`);
}

function checkIds(cfg: ModelConfig, ids: Int32Array, name: string, rows: number, B: number): void {
  if (ids.length !== rows * B) fail(`${name} must hold ${rows}·${B} = ${rows * B} ids (got ${ids.length})`);
  for (let k = 0; k < ids.length; k++) {
    if (ids[k] < 0 || ids[k] >= cfg.vocab) fail(`${name}[${k}] = ${ids[k]} is outside the vocabulary [0, ${cfg.vocab})`);
  }
}

/** h [L·B·H], and c of the same size for an LSTM only; names say where they came from in messages. */
function checkState(cfg: ModelConfig, B: number, h: ArrayLike<number>, c: ArrayLike<number> | undefined, names: [string, string]): void {
  const size = cfg.layers * B * cfg.hidden;
  const [hName, cName] = names;
  if (h.length !== size) fail(`${hName} must be [L,B,H] = ${size} values (got ${h.length})`);
  if (cfg.cell === 'lstm') {
    if (!c) fail(`an LSTM needs ${cName}`);
    else if (c.length !== size) fail(`${cName} must be [L,B,H] = ${size} values (got ${c.length})`);
  } else if (c) {
    fail(`${cName} is for LSTM cells only; an RNN has no cell state`);
  }
}

function checkWindow(cfg: ModelConfig, w: ReferenceWindow): void {
  const { params, tokens, T, B, h0, c0, masks, sampled } = w;
  checkParams(cfg, params);
  if (!Number.isInteger(T) || T < 1) fail(`T must be a positive integer (got ${T})`);
  if (!Number.isInteger(B) || B < 1) fail(`B must be a positive integer (got ${B})`);
  checkIds(cfg, tokens, 'tokens', T + 1, B);
  checkState(cfg, B, h0, c0, ['h0', 'c0']);
  if (masks) {
    const widths = dropoutMaskWidths(cfg);
    if (masks.length !== widths.length) fail(`expected ${widths.length} dropout masks (L + 1), got ${masks.length}`);
    masks.forEach((m, k) => {
      if (m.length !== T * B * widths[k]) fail(`mask ${k} must be [T,B,${widths[k]}] = ${T * B * widths[k]} values (got ${m.length})`);
    });
  }
  if (sampled) {
    const K = sampled.ids.length;
    if (K < 1 || sampled.logQ.length !== K) fail(`sampled softmax: ${K} ids and ${sampled.logQ.length} log Q values`);
    checkIds(cfg, sampled.ids, 'sampled.ids', K, 1);
    if (new Set(sampled.ids).size !== K) fail('sampled softmax: the ids must be distinct');
    for (const q of sampled.logQ) if (!(q <= 0)) fail(`sampled softmax: log Q must be ≤ 0 (got ${q})`);
  }
}

// ----------------------------------------------------------------------------------------------------
// Public API.

/** One window for the reference: the model part of a StepInput (no optimizer fields). */
export type ReferenceWindow = Pick<StepInput<Float64Array>, 'params' | 'tokens' | 'T' | 'B' | 'h0' | 'c0' | 'masks' | 'sampled'>;

export interface ReferenceForwardResult {
  /** [N,V] log-softmax of the logits; row n = t·B + b predicts tokens row t+1, stream b. */
  logProbs: Float64Array;
  /** Mean cross-entropy (nats) over the N targets: of the sampled softmax when the window has one. */
  loss: number;
  /** [L,B,H] hidden state after the window. */
  hT: Float64Array;
  /** [L,B,H] cell state after the window (LSTM only). */
  cT?: Float64Array;
}

export interface ReferenceGradientResult extends ReferenceForwardResult {
  /** d loss / d params, flat in parameterLayout order (tied: the embedding's holds both of its uses). */
  grads: Float64Array;
}

function evaluate(cfg: ModelConfig, w: ReferenceWindow, withGradients: boolean): ReferenceGradientResult | ReferenceForwardResult {
  checkWindow(cfg, w);
  const { params, tokens, T, B, h0, c0, masks, sampled } = w;
  const x = tokens.subarray(0, T * B); // rows 0..T−1
  const y = tokens.subarray(B, (T + 1) * B); // rows 1..T
  const views = parameterViews(cfg, params);
  const act = forwardPass(cfg, views, x, T, B, h0, c0, masks);
  const BH = B * cfg.hidden;
  const loss = sampled ? sampledCrossEntropy(act.logProbs, y, cfg.vocab, sampled) : crossEntropyForward(act.logProbs, y, cfg.vocab);
  const out: ReferenceForwardResult = { logProbs: act.logProbs, loss, hT: lastStep(act.hs, T, BH) };
  if (cfg.cell === 'lstm') out.cT = lastStep(act.cs, T, BH);
  if (!withGradients) return out;
  const grads = new Float64Array(params.length);
  backwardPass(cfg, views, parameterViews(cfg, grads), act, x, y, T, B, h0, c0, masks, sampled);
  return { ...out, grads };
}

/**
 * The forward pass and mean loss of one window: tokens [(T+1)·B] (x = rows 0..T−1, y = rows 1..T),
 * h0/c0 [L·B·H] carried-in state (c0 for LSTM only), masks as in train-step.ts or absent.
 */
export function referenceForward(
  cfg: ModelConfig,
  params: Float64Array,
  tokens: Int32Array,
  T: number,
  B: number,
  h0: Float64Array,
  c0?: Float64Array,
  masks?: Float64Array[],
  sampled?: SampledSoftmax,
): ReferenceForwardResult {
  return evaluate(cfg, { params, tokens, T, B, h0, c0, masks, sampled }, false);
}

/** The forward pass plus the gradient of the mean loss w.r.t. every parameter (none w.r.t. h0/c0). */
export function referenceLossAndGradients(cfg: ModelConfig, input: ReferenceWindow): ReferenceGradientResult {
  return evaluate(cfg, input, true) as ReferenceGradientResult;
}

/**
 * One training step exactly as train-step.ts specifies: gradients, global-norm clipping, then the SGD or
 * Adam update. Returns new arrays; never mutates the input.
 */
export function referenceStep(cfg: ModelConfig, input: StepInput<Float64Array>): StepOutput<Float64Array> {
  const { optimizer, lr, clip, step } = input;
  if (optimizer !== 'sgd' && optimizer !== 'adam') fail(`optimizer must be "sgd" or "adam" (got "${optimizer}")`);
  if (!(Number.isFinite(lr) && lr >= 0)) fail(`lr must be a finite number ≥ 0 (got ${lr})`);
  if (!(clip > 0)) fail(`clip must be > 0, or Infinity for no clipping (got ${clip})`);
  if (optimizer === 'adam') {
    if (!Number.isInteger(step) || step < 1) fail(`step must be a 1-based integer for Adam's bias correction (got ${step})`);
    for (const [name, state] of [['adamM', input.adamM], ['adamV', input.adamV]] as const) {
      if (!state) fail(`Adam needs ${name}`);
      else if (state.length !== input.params.length) {
        fail(`${name} must be shaped like params (${input.params.length} values, got ${state.length})`);
      }
    }
  } else if (input.adamM || input.adamV) {
    fail('adamM/adamV are Adam state; SGD takes none');
  }

  const { loss, grads, hT, cT } = referenceLossAndGradients(cfg, input);

  // Global norm over every gradient, measured before clipping.
  let sumSquares = 0;
  for (const g of grads) sumSquares += g * g;
  const gradNorm = Math.sqrt(sumSquares);
  const scale = Math.min(1, clip / (gradNorm + CLIP_EPSILON));

  const params = new Float64Array(input.params);
  const out: StepOutput<Float64Array> = { params, loss, gradNorm, hT };
  if (cT) out.cT = cT;
  if (optimizer === 'sgd') {
    for (let k = 0; k < params.length; k++) params[k] -= lr * (scale * grads[k]);
    return out;
  }
  const m = new Float64Array(input.adamM as Float64Array);
  const v = new Float64Array(input.adamV as Float64Array);
  const mCorrection = 1 - ADAM_BETA1 ** step;
  const vCorrection = 1 - ADAM_BETA2 ** step;
  for (let k = 0; k < params.length; k++) {
    const g = scale * grads[k];
    m[k] = ADAM_BETA1 * m[k] + (1 - ADAM_BETA1) * g;
    v[k] = ADAM_BETA2 * v[k] + (1 - ADAM_BETA2) * g * g;
    params[k] -= (lr * (m[k] / mCorrection)) / (Math.sqrt(v[k] / vCorrection) + ADAM_EPSILON);
  }
  out.adamM = m;
  out.adamV = v;
  return out;
}

/**
 * The reference as a LanguageModel, one stream (B = 1), no dropout: lets the predictor be tested without
 * onnxruntime. Holds its own float64 copy of the parameters. The state crosses the interface as float32,
 * as it does for the ONNX model.
 */
export class ReferenceLanguageModel implements LanguageModel {
  readonly vocabSize: number;
  private readonly cfg: ModelConfig;
  private readonly params: Float64Array;
  private readonly views: Map<string, Float64Array>;

  constructor(cfg: ModelConfig, params: Float32Array | Float64Array) {
    checkParams(cfg, params);
    this.cfg = { ...cfg };
    this.vocabSize = cfg.vocab;
    this.params = Float64Array.from(params);
    this.views = parameterViews(this.cfg, this.params);
  }

  initialState(): RecurrentState {
    const size = this.cfg.layers * this.cfg.hidden;
    return this.cfg.cell === 'lstm' ? { h: new Float32Array(size), c: new Float32Array(size) } : { h: new Float32Array(size) };
  }

  async run(ids: Int32Array, state: RecurrentState): Promise<{ logProbs: Float32Array; state: RecurrentState }> {
    const cfg = this.cfg;
    const T = ids.length;
    if (T < 1) fail('run needs at least one id');
    checkIds(cfg, ids, 'ids', T, 1);
    checkState(cfg, 1, state.h, state.c, ['state.h', 'state.c']);
    const h0 = Float64Array.from(state.h);
    const c0 = state.c ? Float64Array.from(state.c) : undefined;
    const act = forwardPass(cfg, this.views, ids, T, 1, h0, c0, undefined);
    const h = Float32Array.from(lastStep(act.hs, T, cfg.hidden));
    const next: RecurrentState = cfg.cell === 'lstm' ? { h, c: Float32Array.from(lastStep(act.cs, T, cfg.hidden)) } : { h };
    return { logProbs: Float32Array.from(act.logProbs), state: next };
  }
}
