// One recurrent layer of the training graph: the forward pass and its backward pass (backpropagation
// through time), unrolled over the T steps of a window. The input projection of all steps is one Gemm
// before the loop and every weight gradient is one Gemm over all steps after it; inside the loop only
// the small [B, H]·[H, G·H] products and the gate arithmetic remain. (Unrolled rather than an ONNX Scan:
// Scan's per-iteration overhead cost more than the steps themselves at B = 20, H = 200.)
//
// Shapes: T steps, B streams, N = T·B (row t·B + b), I layer input width, H hidden, G gates
// (LSTM 4 in ONNX order i, o, f, c; RNN 1).

import type { CellType } from '../model/model-config.js';
import { type GraphBuilder, ops, type Value } from './graph-builder.js';

/** What the LSTM backward needs at step t, computed for all steps at once after the forward loop. */
interface LstmSaved {
  /** [B, 4H] ∂z/∂(dc, dh, dc, dc): [g⊙i(1−i), tanh(c)⊙o(1−o), c_{t−1}⊙f(1−f), i⊙(1−g²)]. */
  K: Value;
  /** [B, H] ∂c/∂h through tanh: o⊙(1 − tanh²(c)). */
  A: Value;
  /** [B, H] forget gate: dc_{t−1} = dc⊙f. */
  F: Value;
}

export interface LayerForward {
  /** [N, H] outputs h_1..h_T. */
  Y: Value;
  /** [B, H] last hidden (and cell) state, carried into the next window. */
  hT: Value;
  cT?: Value;
  /** [B, H] per step: the hidden state before the step (h_0..h_{T−1}) and after it (h_1..h_T). */
  hPrev: Value[];
  hs: Value[];
  lstm?: LstmSaved[];
  /** RNN: [B, H] per step, 1 − h_t². */
  rnnDeriv?: Value[];
}

/**
 * Forward pass of one layer over T steps.
 *   P = X·Wᵀ + b                                        [N, G·H], one Gemm
 *   LSTM: z = P_t + h·Rᵀ;  i, o, f = σ(z_iof);  g = tanh(z_c);  c = f⊙c + i⊙g;  h = o⊙tanh(c)
 *   RNN:  h = tanh(P_t + h·Rᵀ)
 */
export function layerForward(
  g: GraphBuilder,
  cell: CellType,
  H: number,
  T: number,
  Xflat: Value /* [N, I] */,
  W: Value /* [G·H, I] */,
  R: Value /* [G·H, H] */,
  b: Value /* [G·H] */,
  h0: Value /* [B, H] */,
  c0: Value | undefined /* [B, H] */,
): LayerForward {
  const op = ops(g);
  const P = op.gemm(Xflat, W, b, { transB: 1 }, 'P'); //                        [N, G·H]
  const Pt = op.splitEqual(P, T, 0, 'P_t'); //                                  T × [B, G·H]
  let h = h0;
  let c = c0!;
  const hPrev: Value[] = [];
  const hs: Value[] = [];
  const per: { s: Value; g: Value; tc: Value; cPrev: Value }[] = [];
  for (let t = 0; t < T; t++) {
    g.scope(`t${t}`, () => {
      hPrev.push(h);
      const z = op.gemm(h, R, Pt[t]!, { transB: 1 }, 'z'); //                    z = P_t + h·Rᵀ
      if (cell === 'lstm') {
        const [zIof, zC] = op.split(z, [3 * H, H], 1, 'z_split') as [Value, Value];
        const s = op.sigmoid(zIof, 'iof');
        const gg = op.tanh(zC, 'g');
        const [i, o, f] = op.split(s, [H, H, H], 1, 'gates') as [Value, Value, Value];
        const cPrev = c;
        c = op.add(op.mul(f, cPrev), op.mul(i, gg), 'c'); //                     c = f⊙c + i⊙g
        const tc = op.tanh(c, 'tanh_c');
        h = op.mul(o, tc, 'h'); //                                               h = o⊙tanh(c)
        per.push({ s, g: gg, tc, cPrev });
      } else {
        h = op.tanh(z, 'h');
      }
      hs.push(h);
    });
  }
  const Y = T === 1 ? hs[0]! : op.concat(hs, 0, 'Y'); //                        [N, H]
  const all = (vs: Value[], label: string) => (T === 1 ? vs[0]! : op.concat(vs, 0, label)); // T × [B, ·] → [N, ·]
  const perStep = (v: Value, label: string) => op.splitEqual(v, T, 0, label); //               [N, ·] → T × [B, ·]
  const one = g.constFloat(1);
  if (cell === 'rnn') {
    // 1 − h², for all steps at once
    const D = op.sub(one, op.mul(Y, Y), 'dtanh');
    return { Y, hT: h, hPrev, hs, rnnDeriv: perStep(D, 'dtanh_t') };
  }
  // The local derivatives of every step, in a few ops over all N rows instead of many per step.
  const S = all(per.map((p) => p.s), 'S'); //                                   [N, 3H]  i, o, f
  const Gc = all(per.map((p) => p.g), 'G'); //                                  [N, H]
  const TC = all(per.map((p) => p.tc), 'TC'); //                                [N, H]
  const CP = all(per.map((p) => p.cPrev), 'C_prev'); //                         [N, H]
  const [I, O, F] = op.split(S, [H, H, H], 1, 'IOF') as [Value, Value, Value];
  const [dI, dO, dF] = op.split(op.mul(S, op.sub(one, S)), [H, H, H], 1, 'dIOF') as [Value, Value, Value]; // σ' = s(1 − s)
  const K = op.concat(
    [op.mul(Gc, dI), op.mul(TC, dO), op.mul(CP, dF), op.mul(I, op.sub(one, op.mul(Gc, Gc)))],
    1,
    'K',
  ); //                                                                          [N, 4H]
  const A = op.mul(O, op.sub(one, op.mul(TC, TC)), 'A'); //                      [N, H]
  const Ks = perStep(K, 'K_t');
  const As = perStep(A, 'A_t');
  const Fs = perStep(F, 'F_t');
  return { Y, hT: h, cT: c, hPrev, hs, lstm: per.map((_, t) => ({ K: Ks[t]!, A: As[t]!, F: Fs[t]! })) };
}

export interface LayerGradients {
  dW: Value; // [G·H, I]
  dR: Value; // [G·H, H]
  db: Value; // [G·H]
  /** [N, I] gradient of the layer's input (for the layer below or the embedding). */
  dX: Value;
}

/**
 * Backward pass of one layer, in reverse order of the forward, given dY [N, H], the gradient of the
 * layer's outputs. No gradient flows into the carried-in state (truncated BPTT).
 *   LSTM, for t = T..1:  dh = dY_t + dh_next
 *     do = dh⊙tanh(c_t);  dc = dc_next + dh⊙o⊙(1 − tanh²(c_t));  df = dc⊙c_{t−1};  di = dc⊙g;  dg = dc⊙i
 *     dc_next = dc⊙f;  dz = [di, do, df]⊙s⊙(1 − s) ‖ dg⊙(1 − g²)  (s = [i, o, f]);  dh_next = dz·R
 *   computed as dz = [dc, dh, dc, dc]⊙K_t with K_t the step's local derivatives (see LstmSaved), so that
 *   only the sequential part stays in the loop: 7 small operators a step instead of 20
 *   RNN:  dz = (dY_t + dh_next)⊙(1 − h_t²);  dh_next = dz·R
 *   then dR = dZᵀ·H_prev,  dW = dZᵀ·X,  db = Σ_rows dZ,  dX = dZ·W   (one Gemm each over all N rows)
 */
export function layerBackward(
  g: GraphBuilder,
  cell: CellType,
  T: number,
  fwd: LayerForward,
  dY: Value /* [N, H] */,
  Xflat: Value /* [N, I] */,
  W: Value /* [G·H, I] */,
  R: Value /* [G·H, H] */,
): LayerGradients {
  const op = ops(g);
  const dYt = T === 1 ? [dY] : op.splitEqual(dY, T, 0, 'dY_t'); //               T × [B, H]
  const dz: Value[] = new Array(T);
  let dhNext: Value | undefined;
  let dcNext: Value | undefined;
  for (let t = T - 1; t >= 0; t--) {
    g.scope(`t${t}`, () => {
      const dh = dhNext ? op.add(dYt[t]!, dhNext, 'dh') : dYt[t]!;
      if (cell === 'lstm') {
        const st = fwd.lstm![t]!;
        const dcHere = op.mul(dh, st.A, 'dc_h'); //                              dh⊙o⊙(1 − tanh²c)
        const dc = dcNext ? op.add(dcNext, dcHere, 'dc') : dcHere;
        dz[t] = op.mul(op.concat([dc, dh, dc, dc], 1), st.K, 'dz'); //           [B, 4H]
        if (t > 0) dcNext = op.mul(dc, st.F, 'dc_next');
      } else {
        dz[t] = op.mul(dh, fwd.rnnDeriv![t]!, 'dz'); //                          [B, H]
      }
      if (t > 0) dhNext = op.matmul(dz[t]!, R, 'dh_next');
    });
  }
  const dZ = T === 1 ? dz[0]! : op.concat(dz, 0, 'dZ'); //                       [N, G·H]
  const Hprev = T === 1 ? fwd.hPrev[0]! : op.concat(fwd.hPrev, 0, 'H_prev'); //  [N, H]
  return {
    dR: op.gemm(dZ, Hprev, undefined, { transA: 1 }, 'dR'),
    dW: op.gemm(dZ, Xflat, undefined, { transA: 1 }, 'dW'),
    db: op.reduceSum(dZ, [0], 0, 'db'),
    dX: op.matmul(dZ, W, 'dX'),
  };
}
