// One recurrent layer of the training graph: the forward pass and its backward pass (backpropagation
// through time), unrolled over the T steps of a window. The input projection of all steps is one Gemm
// before the loop and every weight gradient is one Gemm over all steps after it; inside the loop only
// the small [B, H]·[H, G·H] products and the gate arithmetic remain. (Unrolled rather than an ONNX Scan:
// Scan's per-iteration overhead cost more than the steps themselves at B = 20, H = 200.)
//
// Shapes: T steps, B streams, N = T·B (row t·B + b), I layer input width, H hidden, G gates
// (LSTM 4 in ONNX order i, o, f, c; RNN 1).

import type { CellType } from '../model-config.js';
import { type GraphBuilder, ops, type Value } from '../onnx/graph-builder.js';

interface LstmStep {
  s: Value; // [B, 3H] σ(z_iof)
  i: Value; o: Value; f: Value; g: Value; // [B, H] each
  tc: Value; // [B, H] tanh(c_t)
  cPrev: Value; // [B, H]
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
  lstm?: LstmStep[];
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
  const steps: LstmStep[] = [];
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
        steps.push({ s, i, o, f, g: gg, tc, cPrev });
      } else {
        h = op.tanh(z, 'h');
      }
      hs.push(h);
    });
  }
  const Y = T === 1 ? hs[0]! : op.concat(hs, 0, 'Y'); //                        [N, H]
  return cell === 'lstm' ? { Y, hT: h, cT: c, hPrev, hs, lstm: steps } : { Y, hT: h, hPrev, hs };
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
  const one = g.constFloat(1);
  const dYt = T === 1 ? [dY] : op.splitEqual(dY, T, 0, 'dY_t'); //               T × [B, H]
  const dz: Value[] = new Array(T);
  let dhNext: Value | undefined;
  let dcNext: Value | undefined;
  for (let t = T - 1; t >= 0; t--) {
    g.scope(`t${t}`, () => {
      const dh = dhNext ? op.add(dYt[t]!, dhNext, 'dh') : dYt[t]!;
      if (cell === 'lstm') {
        const st = fwd.lstm![t]!;
        const dO = op.mul(dh, st.tc, 'do');
        const dcHere = op.mul(op.mul(dh, st.o), op.sub(one, op.mul(st.tc, st.tc)), 'dc_h');
        const dc = dcNext ? op.add(dcNext, dcHere, 'dc') : dcHere;
        const dF = op.mul(dc, st.cPrev, 'df');
        const dI = op.mul(dc, st.g, 'di');
        const dG = op.mul(dc, st.i, 'dg');
        dcNext = op.mul(dc, st.f, 'dc_next');
        const dIof = op.mul(op.concat([dI, dO, dF], 1), op.mul(st.s, op.sub(one, st.s)), 'dz_iof');
        const dZc = op.mul(dG, op.sub(one, op.mul(st.g, st.g)), 'dz_c');
        dz[t] = op.concat([dIof, dZc], 1, 'dz'); //                              [B, 4H]
      } else {
        const h = fwd.hs[t]!;
        dz[t] = op.mul(dh, op.sub(one, op.mul(h, h)), 'dz'); //                  [B, H]
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
