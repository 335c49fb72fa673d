// One whole training step as an ONNX graph of standard operators: forward, mean cross-entropy,
// backpropagation through time, global-norm clipping and the parameter update (SGD or Adam).
// onnxruntime-node has no training API; this graph is how Nextword trains. The math is the contract in
// ../train-step.ts, checked against the plain-TypeScript reference in the tests.
//
// Shapes: T steps, B streams, N = T·B, V vocabulary, E embedding, H hidden, L layers, G gates.
//
// Gradients are computed from the unscaled dlogits = p − onehot(y) (N times the gradient of the mean
// loss): every gradient is linear in dlogits, so the 1/N is folded, with the clipping factor, into the one
// scalar that multiplies each gradient in the update. That keeps the graph independent of T (the last
// window of an epoch is shorter) without an extra pass over the [N, V] tensor.

import { dropoutMaskWidths, parameterLayout, type ModelConfig, type OptimizerType } from '../model/model-config.js';
import { DType, GraphBuilder, ops, type Value } from './graph-builder.js';
import { ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON, CLIP_EPSILON } from '../train/train-step.js';
import { layerBackward, layerForward, type LayerForward } from './recurrent-layer.js';

export interface TrainGraphOptions {
  optimizer: OptimizerType;
  /** Window length T: the recurrence is unrolled, so each T has its own graph. */
  T: number;
  /** Take dropout masks as inputs (`dropout.k`, [T, B, width k]). */
  dropout: boolean;
  /** Also output `log_probs` [N, V] of the forward pass (for tests). */
  exposeLogProbs?: boolean;
  /** Also output `grad.<name>`, the unclipped gradient of the mean loss (for tests). */
  exposeGradients?: boolean;
  /**
   * Train on a sampled softmax (train-step.ts, SampledSoftmax) instead of the full one: inputs `samples`
   * int64 [K] and `sample_logq` [K], any K per step. The decoder's products shrink from [N, V] to [N, K].
   */
  sampled?: boolean;
}

/** Input and output names of the training graph, in the order the runtime feeds and fetches them. */
export interface TrainGraphNames {
  params: string[];
  newParams: string[];
  adamM: string[];
  adamV: string[];
  newAdamM: string[];
  newAdamV: string[];
  masks: string[];
  /**
   * SGD with an untied embedding updates only the rows of the window's ids: instead of `new.embedding`
   * the graph returns those rows (`new.embedding.rows` [U, E]) and their ids (`new.embedding.ids` [U]),
   * and the caller writes them into its embedding in place.
   */
  sparseEmbedding: boolean;
}

export function trainGraphNames(cfg: ModelConfig, opts: TrainGraphOptions): TrainGraphNames {
  const params = parameterLayout(cfg).map((p) => p.name);
  const adam = opts.optimizer === 'adam';
  return {
    params,
    newParams: params.map((n) => `new.${n}`),
    adamM: adam ? params.map((n) => `adam.m.${n}`) : [],
    adamV: adam ? params.map((n) => `adam.v.${n}`) : [],
    newAdamM: adam ? params.map((n) => `new.adam.m.${n}`) : [],
    newAdamV: adam ? params.map((n) => `new.adam.v.${n}`) : [],
    masks: opts.dropout ? dropoutMaskWidths(cfg).map((_, k) => `dropout.${k}`) : [],
    sparseEmbedding: isSparseEmbedding(cfg, opts),
  };
}

/**
 * The embedding gradient is non-zero only on the rows of the window's ids (at most N of V). With plain
 * SGD and no tying, updating just those rows gives the same parameters as the dense update while
 * sparing three passes over, and the copy out of, the whole [V, E] matrix every step.
 */
function isSparseEmbedding(cfg: ModelConfig, opts: TrainGraphOptions): boolean {
  return opts.optimizer === 'sgd' && !cfg.tied;
}

/**
 * Builds the training-step model.
 * Inputs:  every parameter; `adam.m.*`, `adam.v.*`, `adam.step` (Adam); `tokens` int64 [T+1, B];
 *          `h0` (and `c0` for LSTM) [L, B, H]; `lr`, `clip` scalars; `dropout.k` masks when enabled;
 *          `samples`, `sample_logq` with a sampled softmax.
 * Outputs: `new.*` parameters (and Adam moments), `loss`, `grad_norm`, `hT` (and `cT`) [L, B, H];
 *          with a sparse embedding update, `new.embedding.rows` and `new.embedding.ids` instead of `new.embedding`.
 */
export function trainStepGraph(cfg: ModelConfig, opts: TrainGraphOptions): Uint8Array {
  const layout = parameterLayout(cfg);
  const names = trainGraphNames(cfg, opts);
  const { layers: L, hidden: H, vocab: V } = cfg;
  const lstm = cfg.cell === 'lstm';
  const g = new GraphBuilder('nextword_train_step');
  const op = ops(g);

  const P = new Map<string, Value>();
  for (const p of layout) P.set(p.name, g.input(p.name, DType.float, p.shape));
  const param = (name: string) => P.get(name)!;
  const adamM = names.adamM.map((n, i) => g.input(n, DType.float, layout[i]!.shape));
  const adamV = names.adamV.map((n, i) => g.input(n, DType.float, layout[i]!.shape));
  const adamStep = opts.optimizer === 'adam' ? g.input('adam.step', DType.float, []) : undefined;
  const T = opts.T;
  if (!Number.isInteger(T) || T < 1) throw new Error(`window length T must be a positive integer (got ${T})`);
  const tokens = g.input('tokens', DType.int64, [T + 1, 'B']);
  const h0 = g.input('h0', DType.float, [L, 'B', H]);
  const c0 = lstm ? g.input('c0', DType.float, [L, 'B', H]) : undefined;
  const lr = g.input('lr', DType.float, []);
  const clip = g.input('clip', DType.float, []);
  const masks = names.masks.map((n, k) => g.input(n, DType.float, [T, 'B', dropoutMaskWidths(cfg)[k]!]));

  // ---- forward ----
  const x = op.reshape(op.slice(tokens, [0], [-1], [0]), [-1], 'x'); //           inputs   [N]
  const y = op.reshape(op.slice(tokens, [1], [T + 1], [0]), [-1, 1], 'y'); //     targets  [N, 1]
  const emb = param('embedding');
  const flatMask = (k: number) => op.reshape(masks[k]!, [-1, dropoutMaskWidths(cfg)[k]!], `dropout${k}.flat`);
  const maskFlat = masks.map((_, k) => flatMask(k)); //                         [N, width k]
  const masked = (v: Value, k: number) => (masks.length ? op.mul(v, maskFlat[k]!, `dropout${k}`) : v);
  let X = masked(op.gather(emb, x, 0, 'embed.X0'), 0); //                        [N, E]
  const layerIn: { X: Value; fwd: LayerForward }[] = [];
  for (let l = 0; l < L; l++) {
    const entry = g.scope(`layer${l}`, () => {
      const index = g.constInt64(l);
      const hl = op.gather(h0, index, 0, 'h0'); //                               [B, H]
      const cl = c0 ? op.gather(c0, index, 0, 'c0') : undefined;
      const fwd = layerForward(g, cfg.cell, H, T, X, param(`layer${l}.W`), param(`layer${l}.R`), param(`layer${l}.b`), hl, cl);
      return { X, fwd };
    });
    layerIn.push(entry);
    X = masked(entry.fwd.Y, l + 1); //                                           [N, H]
  }
  // The decoder multiplies by the embedding [V, H] when tied, else by its own matrix stored as [H, V].
  const D = param(cfg.tied ? 'embedding' : 'decoder.W');
  const dec = opts.sampled ? sampledDecoder(g, cfg, D, param('decoder.b'), X, y) : fullDecoder(g, cfg, D, param('decoder.b'), X, y);
  const { loss, dD, dd } = dec;
  let dY = dec.dX; //                                                             [N, H]
  const grads = new Map<string, Value>([['decoder.b', dd]]);
  if (!cfg.tied) grads.set('decoder.W', dD);
  for (let l = L - 1; l >= 0; l--) {
    g.scope(`layer${l}.grad`, () => {
      const { X: Xl, fwd } = layerIn[l]!;
      const lg = layerBackward(g, cfg.cell, T, fwd, masked(dY, l + 1), Xl, param(`layer${l}.W`), param(`layer${l}.R`));
      grads.set(`layer${l}.W`, lg.dW);
      grads.set(`layer${l}.R`, lg.dR);
      grads.set(`layer${l}.b`, lg.db);
      dY = lg.dX; //                                                             [N, I]
    });
  }
  // dEmb: rows of dX0 added at the input ids (repeated ids accumulate); tied: on top of the decoder's dW.
  const dX0 = masked(dY, 0); //                                                  [N, E]
  let rowIds: Value | undefined; //                                              [U] distinct ids (sparse update)
  if (names.sparseEmbedding) {
    // Only the U distinct ids' rows: dRows[u] = Σ_{n: x_n = ids_u} dX0[n]   (same norm as the dense gradient)
    const [ids, , inverse] = g.node('Unique', [x], { sorted: 1 }, 4, 'embed.unique') as [Value, Value, Value, Value];
    rowIds = ids;
    const zeros = op.constantOfShape(op.concat([op.shape(ids), g.constInt64([cfg.embed])], 0), 'embed.zero_rows');
    grads.set('embedding', op.scatterND(zeros, op.unsqueeze(inverse, [1]), dX0, 'add', 'embed.dRows'));
  } else {
    const dEmbBase = cfg.tied ? dD : op.constantOfShape(op.shape(emb), 'embed.zeros');
    grads.set('embedding', op.scatterND(dEmbBase, op.reshape(x, [-1, 1]), dX0, 'add', 'embed.dW'));
  }

  // ---- global-norm clipping: n = ‖g‖ / N;  coef = min(1, clip / (n + ε)) / N ----
  const gList = layout.map((s) => grads.get(s.name)!);
  const nTargets = op.cast(op.size(y), DType.float, 'N');
  const gradNorm = op.div(op.sqrt(op.sum(gList.map((gv) => op.sumSquares(gv)))), nTargets, 'grad_norm');
  const scale = op.min([g.constFloat(1), op.div(clip, op.add(gradNorm, g.constFloat(CLIP_EPSILON)))], 'clip_scale');
  const coef = op.div(scale, nTargets, 'grad_coef');

  // ---- update ----
  if (opts.optimizer === 'sgd') {
    const step = op.mul(lr, coef, 'sgd.step'); //                               p ← p − lr·g
    layout.forEach((s, i) => {
      if (rowIds && s.name === 'embedding') {
        const rows = op.sub(op.gather(emb, rowIds, 0), op.mul(gList[i]!, step), 'embed.new_rows');
        g.output(rows, 'new.embedding.rows', DType.float, ['U', cfg.embed]);
        g.output(rowIds, 'new.embedding.ids', DType.int64, ['U']);
      } else {
        g.output(op.sub(param(s.name), op.mul(gList[i]!, step)), names.newParams[i]!, DType.float, s.shape);
      }
    });
  } else {
    // m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p − lr·(m/(1−β1^k)) / (√(v/(1−β2^k)) + ε)
    const cM = op.mul(g.constFloat(1 - ADAM_BETA1), coef, 'adam.cm');
    const cV = op.mul(g.constFloat(1 - ADAM_BETA2), op.mul(coef, coef), 'adam.cv');
    const corr1 = op.sub(g.constFloat(1), op.pow(g.constFloat(ADAM_BETA1), adamStep!), 'adam.corr1');
    const corr2 = op.sub(g.constFloat(1), op.pow(g.constFloat(ADAM_BETA2), adamStep!), 'adam.corr2');
    const lrHat = op.div(lr, corr1, 'adam.lr');
    layout.forEach((s, i) => {
      g.scope(`adam.${s.name}`, () => {
        const gi = gList[i]!;
        const m = op.add(op.mul(adamM[i]!, g.constFloat(ADAM_BETA1)), op.mul(gi, cM), 'm');
        const v = op.add(op.mul(adamV[i]!, g.constFloat(ADAM_BETA2)), op.mul(op.mul(gi, gi), cV), 'v');
        const denom = op.add(op.sqrt(op.div(v, corr2)), g.constFloat(ADAM_EPSILON), 'denom');
        const pNew = op.sub(param(s.name), op.mul(op.div(m, denom), lrHat), 'p');
        g.output(pNew, names.newParams[i]!, DType.float, s.shape);
        g.output(m, names.newAdamM[i]!, DType.float, s.shape);
        g.output(v, names.newAdamV[i]!, DType.float, s.shape);
      });
    });
  }

  g.output(loss, 'loss', DType.float, []);
  g.output(gradNorm, 'grad_norm', DType.float, []);
  const stack = (vs: Value[], label: string) => op.concat(vs.map((v) => op.unsqueeze(v, [0])), 0, label);
  g.output(stack(layerIn.map((e) => e.fwd.hT), 'hT_stack'), 'hT', DType.float, [L, 'B', H]);
  if (lstm) g.output(stack(layerIn.map((e) => e.fwd.cT!), 'cT_stack'), 'cT', DType.float, [L, 'B', H]);
  if (opts.exposeGradients) {
    const invN = op.div(g.constFloat(1), nTargets);
    layout.forEach((s, i) => {
      let grad = gList[i]!;
      if (rowIds && s.name === 'embedding') {
        grad = op.scatterND(op.constantOfShape(op.shape(emb)), op.unsqueeze(rowIds, [1]), grad, undefined, 'embed.dense_grad');
      }
      g.output(op.mul(grad, invN), `grad.${s.name}`, DType.float, s.shape);
    });
  }
  if (opts.exposeLogProbs) {
    const logits = op.gemm(X, D, param('decoder.b'), { transB: cfg.tied ? 1 : 0 }, 'decoder.full_logits');
    g.output(op.logSoftmax(logits, 1), 'log_probs', DType.float, ['N', V]);
  }
  return g.toModelBytes({ docString: `Nextword training step (${cfg.cell}, ${L}×${H}, V=${V}, ${opts.optimizer})` });
}

/** The decoder's loss and its gradients: `dD` shaped as D ([V, H] tied, [H, V] untied), `dd` [V], `dX` [N, H]. */
interface DecoderPass {
  loss: Value;
  dD: Value;
  dd: Value;
  dX: Value;
}

/** loss = −mean log p_y over the rows, p_y [N, 1] floored so that an underflow gives a large finite loss, not ∞. */
function meanNegLog(g: GraphBuilder, pY: Value): Value {
  const op = ops(g);
  return op.neg(op.reduceMean(op.log(op.max([pY, g.constFloat(1e-30)])), undefined, 0), 'loss');
}

/** The full softmax over the V words. */
function fullDecoder(g: GraphBuilder, cfg: ModelConfig, D: Value, b: Value, X: Value /* [N, H] */, y: Value /* [N, 1] */): DecoderPass {
  const op = ops(g);
  const logits = op.gemm(X, D, b, { transB: cfg.tied ? 1 : 0 }, 'decoder.logits'); //       [N, V]
  const p = op.softmax(logits, 1, 'decoder.p'); //                                            [N, V]
  const pY = op.gatherElements(p, y, 1, 'p_y'); //                                           [N, 1]
  const loss = meanNegLog(g, pY);
  // backward (unscaled: N × the gradient of the mean loss)
  const dLogits = op.scatterElements(p, y, op.sub(pY, g.constFloat(1)), 1, undefined, 'decoder.dlogits'); // p − onehot(y)
  return {
    loss,
    dD: cfg.tied
      ? op.gemm(dLogits, X, undefined, { transA: 1 }, 'decoder.dW') //                       [V, H]
      : op.gemm(X, dLogits, undefined, { transA: 1 }, 'decoder.dW'), //                      [H, V]
    dd: op.reduceSum(dLogits, [0], 0, 'decoder.db'), //                                      [V]
    dX: op.gemm(dLogits, D, undefined, { transB: cfg.tied ? 0 : 1 }, 'decoder.dX'), //       [N, H]
  };
}

/**
 * The sampled softmax over each row's target and the K shared samples S (train-step.ts, SampledSoftmax):
 *   z_y = x·D_y + b_y;  z_S = x·D_Sᵀ + b_S − log Q(S), −∞ where a sample is the row's target
 *   P = softmax([z_y, z_S]);  loss = −mean log P_0
 *   dz_y = P_0 − 1;  dz_S = P_S;  dX = dz_y·D_y + dz_S·D_S;  dD_S = dz_Sᵀ·X;  dD_y = dz_y·x (scattered)
 * Only the rows of D for S and the targets get a gradient; it is scattered into a dense dD, so clipping
 * and the optimizer see the same tensors as with the full softmax.
 */
function sampledDecoder(g: GraphBuilder, cfg: ModelConfig, D: Value, b: Value, X: Value /* [N, H] */, y: Value /* [N, 1] */): DecoderPass {
  const op = ops(g);
  const { tied, vocab: V, hidden: H } = cfg;
  const S = g.input('samples', DType.int64, ['K']);
  const logQ = g.input('sample_logq', DType.float, ['K']);
  const yFlat = op.reshape(y, [-1], 'y_flat'); //                                              [N]
  // Decoder rows as [·, H]: gathered from the embedding [V, H], or from decoder.W [H, V] along its columns.
  const rows = (ids: Value, label: string) => (tied ? op.gather(D, ids, 0, label) : op.transpose(op.gather(D, ids, 1), [1, 0], label));
  const DS = rows(S, 'decoder.D_S'); //                                                         [K, H]
  const DY = rows(yFlat, 'decoder.D_y'); //                                                     [N, H]
  const zY = op.add(op.reduceSum(op.mul(X, DY), [1], 1), op.unsqueeze(op.gather(b, yFlat, 0), [1]), 'decoder.z_y'); // [N, 1]
  const zS = op.gemm(X, DS, op.sub(op.gather(b, S, 0), logQ), { transB: 1 }, 'decoder.z_S'); //  [N, K]
  const hit = g.op1('Equal', [S, y], {}, 'decoder.hit'); //                                    [N, K]
  const zSMasked = g.op1('Where', [hit, g.constFloat(-1e30), zS], {}, 'decoder.z_S_masked');
  const P = op.softmax(op.concat([zY, zSMasked], 1), 1, 'decoder.p'); //                       [N, 1 + K]
  const P0 = op.slice(P, [0], [1], [1], 'decoder.p_y'); //                                      [N, 1]
  const PS = op.slice(P, [1], [Number.MAX_SAFE_INTEGER], [1], 'decoder.p_S'); //                  [N, K]
  const loss = meanNegLog(g, P0);
  const dZY = op.sub(P0, g.constFloat(1), 'decoder.dz_y'); //                                  [N, 1]
  const dX = op.add(op.mul(dZY, DY), op.matmul(PS, DS), 'decoder.dX'); //                       [N, H]
  const dDS = op.gemm(PS, X, undefined, { transA: 1 }, 'decoder.dD_S'); //                     [K, H]
  const dDY = op.mul(dZY, X, 'decoder.dD_y'); //                                                [N, H]
  const ids = op.unsqueeze(op.concat([S, yFlat], 0), [1], 'decoder.grad_ids'); //              [K + N, 1]
  const dRows = op.scatterND(op.constantOfShape(g.constInt64([V, H])), ids, op.concat([dDS, dDY], 0), 'add', 'decoder.dD_rows'); // [V, H]
  const dd = op.scatterND(op.constantOfShape(g.constInt64([V])), ids, op.concat([op.reduceSum(PS, [0], 0), op.reshape(dZY, [-1])], 0), 'add', 'decoder.db');
  return { loss, dD: tied ? dRows : op.transpose(dRows, [1, 0], 'decoder.dW'), dd, dX };
}
