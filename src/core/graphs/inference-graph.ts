// Forward-only graphs built on ONNX's own LSTM / RNN operators (one node per layer):
// - the exported inference model: weights as initializers, recurrent state in and out, log-probabilities
//   of the next token after each input token, so prediction advances incrementally from a cached state;
// - the scoring graph: weights as inputs (the trainer validates with the live parameters) or initializers,
//   returning per-token log p(target) and the target's rank, for perplexity and top-k accuracy.
//
// Shapes: T steps, B streams, V vocabulary, E embedding, H hidden, L layers, G gates (LSTM 4, RNN 1).
// ONNX LSTM takes W [1, G·H, I], R [1, G·H, H] and B [1, 2·G·H] (input and recurrent biases; ours is the
// first half, the second is zero), gates in i, o, f, c order — the training layout as it is.

import { decoderWeightName, gateCount, parameterLayout, parameterViews, type ModelConfig } from '../model-config.js';
import { onnx } from 'onnx-proto';
import { fromFloat16, toFloat16 } from '../onnx/float16.js';
import { DType, GraphBuilder, ops, type Value } from '../onnx/graph-builder.js';

/** How the graph gets a parameter, shaped as the training layout has it. */
type WeightSource = (name: string) => Value;

interface StackOutputs {
  /** [T·B, V] */
  logits: Value;
  hT: Value;
  cT?: Value;
}

function recurrentStack(g: GraphBuilder, cfg: ModelConfig, w: WeightSource, x: Value /* [T,B] int64 */, h0: Value, c0: Value | undefined): StackOutputs {
  const op = ops(g);
  const H = cfg.hidden;
  const G = gateCount(cfg.cell);
  let X = op.gather(w('embedding'), x, 0, 'embed.X0'); //                          [T, B, E]
  const hs: Value[] = [];
  const cs: Value[] = [];
  for (let l = 0; l < cfg.layers; l++) {
    g.scope(`layer${l}`, () => {
      const index = g.constInt64([l]);
      const W = op.unsqueeze(w(`layer${l}.W`), [0], 'W'); //                       [1, G·H, I]
      const R = op.unsqueeze(w(`layer${l}.R`), [0], 'R'); //                       [1, G·H, H]
      const Bias = op.unsqueeze(op.concat([w(`layer${l}.b`), g.constFloat(new Array(G * H).fill(0))], 0), [0], 'B'); // [1, 2·G·H]
      const hl = op.gather(h0, index, 0, 'h0'); //                                  [1, B, H]
      if (cfg.cell === 'lstm') {
        const cl = op.gather(c0!, index, 0, 'c0');
        const [Y, hT, cT] = g.node('LSTM', [X, W, R, Bias, '', hl, cl], { hidden_size: H }, 3, 'lstm') as [Value, Value, Value];
        X = op.squeeze(Y, [1], 'Y'); //                                              [T, B, H]
        hs.push(hT);
        cs.push(cT);
      } else {
        const [Y, hT] = g.node('RNN', [X, W, R, Bias, '', hl], { hidden_size: H }, 2, 'rnn') as [Value, Value];
        X = op.squeeze(Y, [1], 'Y');
        hs.push(hT);
      }
    });
  }
  const top = op.reshape(X, [-1, H], 'decoder.X'); //                              [T·B, H]
  // tied: the embedding [V, H]; untied: the decoder's own matrix, stored [H, V]
  const logits = op.gemm(top, w(decoderWeightName(cfg)), w('decoder.b'), { transB: cfg.tied ? 1 : 0 }, 'decoder.logits'); // [T·B, V]
  return {
    logits,
    hT: op.concat(hs, 0, 'hT_stack'),
    ...(cs.length ? { cT: op.concat(cs, 0, 'cT_stack') } : {}),
  };
}

function stateInputs(g: GraphBuilder, cfg: ModelConfig): { h0: Value; c0?: Value } {
  const h0 = g.input('h0', DType.float, [cfg.layers, 'B', cfg.hidden]);
  return cfg.cell === 'lstm' ? { h0, c0: g.input('c0', DType.float, [cfg.layers, 'B', cfg.hidden]) } : { h0 };
}

function stateOutputs(g: GraphBuilder, cfg: ModelConfig, s: StackOutputs): void {
  g.output(s.hT, 'hT', DType.float, [cfg.layers, 'B', cfg.hidden]);
  if (s.cT) g.output(s.cT, 'cT', DType.float, [cfg.layers, 'B', cfg.hidden]);
}

/** Precision of stored weights: float16 halves the file; computation is float32 either way. */
export type WeightPrecision = 'float32' | 'float16';

function initializerSource(g: GraphBuilder, cfg: ModelConfig, params: Float32Array, precision: WeightPrecision = 'float32'): WeightSource {
  const views = parameterViews(cfg, params);
  const values = new Map<string, Value>();
  for (const p of parameterLayout(cfg)) {
    const data = views.get(p.name)!;
    const v =
      precision === 'float16'
        ? ops(g).cast(g.initializer(p.name, toFloat16(data), p.shape, DType.float16), DType.float, `${p.name}.f32`)
        : g.initializer(p.name, data, p.shape);
    values.set(p.name, v);
  }
  return (name) => values.get(name)!;
}

function inputSource(g: GraphBuilder, cfg: ModelConfig): WeightSource {
  const values = new Map<string, Value>();
  for (const p of parameterLayout(cfg)) values.set(p.name, g.input(p.name, DType.float, p.shape));
  return (name) => values.get(name)!;
}

/**
 * The exported inference model.
 * Inputs:  `tokens` int64 [T, B]; `h0` (and `c0` for LSTM) float [L, B, H].
 * Outputs: `log_probs` [T, B, V] (row t: log p(next token | tokens ≤ t)), `hT` (and `cT`) [L, B, H].
 */
export function inferenceGraph(
  cfg: ModelConfig,
  params: Float32Array,
  opts: { docString?: string; precision?: WeightPrecision } = {},
): Uint8Array {
  const g = new GraphBuilder('nextword_lm');
  const op = ops(g);
  const w = initializerSource(g, cfg, params, opts.precision);
  const tokens = g.input('tokens', DType.int64, ['T', 'B']);
  const { h0, c0 } = stateInputs(g, cfg);
  const s = recurrentStack(g, cfg, w, tokens, h0, c0);
  const tbv = op.concat([op.shape(tokens), g.constInt64([cfg.vocab])], 0, 'shape_TBV');
  g.output(op.reshapeTo(op.logSoftmax(s.logits, 1), tbv, 'log_probs_TBV'), 'log_probs', DType.float, ['T', 'B', cfg.vocab]);
  stateOutputs(g, cfg, s);
  return g.toModelBytes({ docString: opts.docString ?? 'Nextword next-word language model' });
}

/**
 * The scoring graph: for `tokens` int64 [T+1, B], inputs rows 0..T−1 and targets rows 1..T.
 * Outputs: `logp` [T·B] log p(target); `rank` int64 [T·B], how many words score strictly higher than the
 * target (0: the model's top-1); `hT` (and `cT`) [L, B, H].
 * Weights are graph inputs named as in the parameter layout, or initializers when `params` is given.
 */
export function scoreGraph(cfg: ModelConfig, params?: Float32Array): Uint8Array {
  const g = new GraphBuilder('nextword_score');
  const op = ops(g);
  const w = params ? initializerSource(g, cfg, params) : inputSource(g, cfg);
  const tokens = g.input('tokens', DType.int64, ['T1', 'B']);
  const { h0, c0 } = stateInputs(g, cfg);
  const x = op.slice(tokens, [0], [-1], [0], 'x');
  const y = op.reshape(op.slice(tokens, [1], [Number.MAX_SAFE_INTEGER], [0]), [-1, 1], 'y'); // [T·B, 1]
  const s = recurrentStack(g, cfg, w, x, h0, c0);
  const logp = op.logSoftmax(s.logits, 1, 'log_probs'); //                         [T·B, V]
  const logpY = op.gatherElements(logp, y, 1, 'logp_y'); //                        [T·B, 1]
  const higher = op.cast(g.op1('Greater', [logp, logpY]), DType.int64, 'higher');
  g.output(op.reshape(logpY, [-1]), 'logp', DType.float, ['N']);
  g.output(op.reduceSum(higher, [1], 0, 'rank_sum'), 'rank', DType.int64, ['N']);
  stateOutputs(g, cfg, s);
  return g.toModelBytes({ docString: 'Nextword scoring graph' });
}

/**
 * The parameters (flat, layout order) stored as initializers in an exported inference model, so that
 * other graphs (scoring) can be built from a saved model. Fails if a tensor is missing or misshapen.
 */
export function parametersFromModel(cfg: ModelConfig, modelBytes: Uint8Array): Float32Array {
  const model = onnx.ModelProto.decode(modelBytes);
  const byName = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const layout = parameterLayout(cfg);
  const flat = new Float32Array(layout.reduce((n, p) => n + p.size, 0));
  for (const p of layout) {
    const t = byName.get(p.name);
    if (!t) throw new Error(`the ONNX model has no weight "${p.name}"; it does not match its model.json`);
    const dims = (t.dims ?? []).map(Number);
    const half = t.dataType === DType.float16;
    if (dims.join('x') !== p.shape.join('x') || (t.dataType !== DType.float && !half)) {
      throw new Error(`the ONNX weight "${p.name}" is ${dims.join('×')} (type ${t.dataType}), expected float ${p.shape.join('×')}`);
    }
    const raw = t.rawData;
    if (raw && raw.length === p.size * (half ? 2 : 4)) {
      // Copy through a fresh buffer: rawData may be an unaligned view into the model bytes.
      const bytes = Uint8Array.from(raw).buffer;
      flat.set(half ? fromFloat16(new Uint16Array(bytes)) : new Float32Array(bytes), p.offset);
    } else if (t.floatData && t.floatData.length === p.size) {
      flat.set(t.floatData, p.offset);
    } else {
      throw new Error(`the ONNX weight "${p.name}" holds the wrong number of values`);
    }
  }
  return flat;
}
