// Forward-only graphs built on ONNX's own LSTM / RNN operators (one node per layer):
// - the exported inference model: weights as initializers, recurrent state in and out, log-probabilities
//   of the next token after each input token, so prediction advances incrementally from a cached state;
// - the scoring graph: weights as inputs (the trainer validates with the live parameters) or initializers,
//   returning per-token log p(target) and the target's rank, for perplexity and top-k accuracy; optionally
//   of the model mixed with a document cache (../cache-model.ts), whose words and weights are inputs.
//
// The decoder ([N, H]·[H, V], most of the work) runs in float32 or, for inference, in int8: weights
// quantised once (symmetric, one scale per word), the hidden state with a fixed scale (it lies in (−1, 1)),
// products accumulated in int32 (MatMulInteger), then rescaled. On this machine's CPU (AVX-512 VNNI) that
// is 2–3 times faster than float32; how little it costs in perplexity is measured by `nextword eval
// --decoder` (see the README). A tied model's input embedding is then looked up from the same int8
// weights, so that a session holds the [V, H] matrix in int8 only.
//
// Shapes: T steps, B streams, V vocabulary, E embedding, H hidden, L layers, G gates (LSTM 4, RNN 1).
// ONNX LSTM takes W [1, G·H, I], R [1, G·H, H] and B [1, 2·G·H] (input and recurrent biases; ours is the
// first half, the second is zero), gates in i, o, f, c order — the training layout as it is.

import { decoderWeightName, gateCount, parameterLayout, parameterViews, type ModelConfig } from '../model/model-config.js';
import { onnx } from 'onnx-proto';
import { runSteps, runStepsPaced, type Steps } from '../support/event-loop.js';
import { fromFloat16Into, toFloat16 } from './float16.js';
import { DType, GraphBuilder, ops, type Value } from './graph-builder.js';

/** How the graph gets a parameter, shaped as the training layout has it. */
type WeightSource = (name: string) => Value;

interface StackOutputs {
  /** [T·B, H] the top layer's outputs, the decoder's input. */
  top: Value;
  hT: Value;
  cT?: Value;
}

/** The input embedding's rows for ids [T, B]: [T, B, E]. */
type Embedding = (x: Value) => Value;

function floatEmbedding(g: GraphBuilder, w: WeightSource): Embedding {
  return (x) => ops(g).gather(w('embedding'), x, 0, 'embed.X0');
}

function recurrentStack(g: GraphBuilder, cfg: ModelConfig, w: WeightSource, embed: Embedding, x: Value /* [T,B] int64 */, h0: Value, c0: Value | undefined): StackOutputs {
  const op = ops(g);
  const H = cfg.hidden;
  const G = gateCount(cfg.cell);
  let X = embed(x); //                                                              [T, B, E]
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
  return {
    top: op.reshape(X, [-1, H], 'decoder.X'), //                                   [T·B, H]
    hT: op.concat(hs, 0, 'hT_stack'),
    ...(cs.length ? { cT: op.concat(cs, 0, 'cT_stack') } : {}),
  };
}

/** How the decoder multiplies; see the top of the file. */
export type DecoderPrecision = 'float32' | 'int8';

/**
 * The decoder's weights in int8: `weights` [H, V] (column v is word v's row of the decoder over its scale),
 * `scales` [V]; for a tied model also `rows` [V, H], the same numbers row by row, for the embedding lookup.
 */
export interface Int8Decoder {
  weights: Int8Array;
  scales: Float32Array;
  rows?: Int8Array;
}

/**
 * Symmetric per-word quantisation of the decoder matrix (the embedding [V, H] when tied, else decoder.W
 * [H, V]): scale_v = max_k |w_vk| / 127, q_vk = round(w_vk / scale_v), stored [H, V] for MatMulInteger.
 */
export function quantizeDecoder(cfg: ModelConfig, params: Float32Array): Int8Decoder {
  const q = emptyInt8Decoder(cfg);
  quantizeWords(cfg, params, q, 0, cfg.vocab);
  return q;
}

/**
 * quantizeDecoder a block of words at a time, awaiting `pause` between blocks, so that the thread that
 * loads a model goes on answering.
 */
export async function quantizeDecoderPaced(cfg: ModelConfig, params: Float32Array, pause: () => Promise<void>): Promise<Int8Decoder> {
  const q = emptyInt8Decoder(cfg);
  const block = Math.max(1, Math.floor(QUANTIZE_BLOCK_WEIGHTS / cfg.hidden));
  for (let v = 0; v < cfg.vocab; v += block) {
    quantizeWords(cfg, params, q, v, Math.min(cfg.vocab, v + block));
    await pause();
  }
  return q;
}

/** Weights quantised between two pauses of quantizeDecoderPaced: ~2 ms. */
const QUANTIZE_BLOCK_WEIGHTS = 1 << 18;

function emptyInt8Decoder(cfg: ModelConfig): Int8Decoder {
  const weights = new Int8Array(cfg.hidden * cfg.vocab); //                           [H, V]
  return { weights, scales: new Float32Array(cfg.vocab), ...(cfg.tied ? { rows: new Int8Array(weights.length) } : {}) }; // [V], [V, H]
}

/** Quantises words from…to−1 into q. */
function quantizeWords(cfg: ModelConfig, params: Float32Array, q: Int8Decoder, from: number, to: number): void {
  const { hidden: H, vocab: V } = cfg;
  const D = parameterViews(cfg, params).get(decoderWeightName(cfg))!;
  // Word v's weights are row v of the embedding [V, H] (tied) or column v of decoder.W [H, V].
  const stride = cfg.tied ? 1 : V; //                                                   step from unit k to k + 1
  const { weights, scales, rows } = q;
  for (let v = from; v < to; v++) {
    const s0 = cfg.tied ? v * H : v; //                                                 where word v begins
    let max = 0;
    for (let k = 0, i = s0; k < H; k++, i += stride) {
      const a = D[i]!;
      if (a > max) max = a;
      else if (-a > max) max = -a;
    }
    const scale = max > 0 ? max / 127 : 1;
    scales[v] = scale;
    const inv = 1 / scale;
    for (let k = 0, i = s0; k < H; k++, i += stride) {
      const x = Math.round(D[i]! * inv);
      weights[k * V + v] = x;
      if (rows) rows[v * H + k] = x;
    }
  }
}

/** How a graph's decoder multiplies; int8 needs the weights (`params`) at build time. */
export interface DecoderOptions {
  decoder?: DecoderPrecision;
  /** quantizeDecoder of the same weights, when the caller already has it (it is not recomputed). */
  quantized?: Int8Decoder;
}

/** The decoder's logits [N, V] for `top` [N, H], and the embedding lookup that goes with it. */
interface Decoder {
  /** Built in `b`: the graph itself, or a subgraph of it (the weights are the graph's, read from outside). */
  decode: (top: Value, b?: GraphBuilder) => Value;
  embed: Embedding;
}

function floatDecoder(g: GraphBuilder, cfg: ModelConfig, w: WeightSource): Decoder {
  // tied: the embedding [V, H]; untied: the decoder's own matrix, stored [H, V]
  return {
    decode: (top, b = g) => ops(b).gemm(top, w(decoderWeightName(cfg)), w('decoder.b'), { transB: cfg.tied ? 1 : 0 }, 'decoder.logits'),
    embed: floatEmbedding(g, w),
  };
}

function int8Decoder(g: GraphBuilder, cfg: ModelConfig, w: WeightSource, q: Int8Decoder): Decoder {
  const op = ops(g);
  const Wq = g.initializer('decoder.int8', q.weights, [cfg.hidden, cfg.vocab], DType.int8); //  [H, V]
  // The decoder's input is the top layer's h = o⊙tanh(c) (or tanh(·)), always in (−1, 1): one fixed scale
  // 1/127 quantises it, so each row's logits depend on that row alone (not on what else is in the run).
  const scales = g.initializer('decoder.scales', q.scales.map((s) => s / ACTIVATION_LEVELS), [cfg.vocab]); // [V]
  const zero = op.cast(g.constInt64(128), DType.uint8, 'decoder.zero_point');
  const bias = w('decoder.b');
  const decode = (top: Value, b = g) => {
    const xq = b.node('QuantizeLinear', [top, b.constFloat(1 / ACTIVATION_LEVELS), zero], {}, 1, 'decoder.quantize')[0]!; // [N, H] uint8
    // (xq − 128)·Wq accumulated in int32, times scale_v/127, plus the bias: one fused onnxruntime kernel
    // (MatMulInteger then Cast, Mul and Add took a third more).
    return b.runtimeNode('MatMulIntegerToFloat', [xq, Wq, b.constFloat(1), scales, zero, '', bias], {}, 'decoder.logits'); // [N, V]
  };
  if (!cfg.tied) return { decode, embed: floatEmbedding(g, w) };
  // Tied: word v's embedding is its decoder row, so the lookup takes it from the int8 weights too (rows x,
  // times their scales) and the session holds no float32 copy of the [V, H] matrix, a model's largest. A
  // copy laid out by rows: gathering columns of Wq, which the decoder's kernel also reads, slowed scoring
  // (docs/speed-and-memory.md).
  const embedScales = g.initializer('embed.scales', q.scales, [cfg.vocab]); //      [V]
  if (!q.rows) throw new Error('the int8 weights of a tied model lack their rows (quantizeDecoder makes them)');
  const Eq = g.initializer('embed.int8', q.rows, [cfg.vocab, cfg.hidden], DType.int8); // [V, H]
  const embed = (x: Value) => {
    const rows = op.cast(op.gather(Eq, x, 0, 'embed.rows'), DType.float, 'embed.float'); //   [T, B, H]
    return op.mul(rows, op.unsqueeze(op.gather(embedScales, x, 0, 'embed.scale'), [2]), 'embed.X0'); // × [T, B, 1]
  };
  return { decode, embed };
}

/** Levels each side of zero for an activation in (−1, 1): x ≈ round(127·x) / 127. */
const ACTIVATION_LEVELS = 127;

function decoderFor(g: GraphBuilder, cfg: ModelConfig, w: WeightSource, params: Float32Array | undefined, opts: DecoderOptions): Decoder {
  if ((opts.decoder ?? 'float32') === 'float32') return floatDecoder(g, cfg, w);
  if (!params) throw new Error('an int8 decoder needs the weights at build time (initializers)');
  return int8Decoder(g, cfg, w, opts.quantized ?? quantizeDecoder(cfg, params));
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

/** Each parameter an initializer, made when the graph first uses it (an int8 graph leaves the float32 embedding out). */
function initializerSource(g: GraphBuilder, cfg: ModelConfig, params: Float32Array, precision: WeightPrecision = 'float32'): WeightSource {
  const views = parameterViews(cfg, params);
  const shapes = new Map(parameterLayout(cfg).map((p) => [p.name, p.shape]));
  const values = new Map<string, Value>();
  return (name) => {
    let v = values.get(name);
    if (v === undefined) {
      const data = views.get(name)!;
      const shape = shapes.get(name)!;
      v = precision === 'float16' ? ops(g).cast(g.initializer(name, toFloat16(data), shape, DType.float16), DType.float, `${name}.f32`) : g.initializer(name, data, shape);
      values.set(name, v);
    }
    return v;
  };
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
 * `precision` is how the weights are stored; `decoder` how the decoder multiplies (int8 is for loading a
 * saved model, not for saving one). `optionalLogProbs` (also for loading, not saving) adds the input
 * `want_log_probs` bool []: false skips the decoder and returns an empty `log_probs` [0, 1, V].
 */
export function inferenceGraph(
  cfg: ModelConfig,
  params: Float32Array,
  opts: { docString?: string; precision?: WeightPrecision; optionalLogProbs?: boolean } & DecoderOptions = {},
): Uint8Array {
  const g = new GraphBuilder('nextword_lm');
  const op = ops(g);
  const w = initializerSource(g, cfg, params, opts.precision);
  const tokens = g.input('tokens', DType.int64, ['T', 'B']);
  const { h0, c0 } = stateInputs(g, cfg);
  const decoder = decoderFor(g, cfg, w, params, opts);
  const s = recurrentStack(g, cfg, w, decoder.embed, tokens, h0, c0);
  const tbv = op.concat([op.shape(tokens), g.constInt64([cfg.vocab])], 0, 'shape_TBV');
  const logProbs = (b: GraphBuilder) => ops(b).reshapeTo(ops(b).logSoftmax(decoder.decode(s.top, b), 1), tbv, 'log_probs_TBV');
  if (!opts.optionalLogProbs) {
    g.output(logProbs(g), 'log_probs', DType.float, ['T', 'B', cfg.vocab]);
  } else {
    // onnxruntime runs every node whatever outputs are fetched, so advancing the state alone would still
    // pay for the decoder; an If runs only the branch it takes.
    const want = g.input('want_log_probs', DType.bool, []);
    const yes = g.subgraph('with_log_probs');
    yes.output(logProbs(yes), 'log_probs', DType.float, ['T', 'B', cfg.vocab]);
    const no = g.subgraph('without_log_probs');
    no.output(no.constFloat([], [0, 1, cfg.vocab]), 'log_probs', DType.float, [0, 1, cfg.vocab]);
    const [chosen] = g.node('If', [want], { then_branch: yes, else_branch: no }, 1, 'log_probs_if');
    g.output(chosen!, 'log_probs', DType.float, ['T', 'B', cfg.vocab]);
  }
  stateOutputs(g, cfg, s);
  return g.toModelBytes({ docString: opts.docString ?? 'Nextword next-word language model' });
}

export interface ScoreGraphOptions extends DecoderOptions {
  /** Score the model mixed with a document cache, given as the sparse inputs described at scoreGraph. */
  cache?: boolean;
}

/**
 * The scoring graph: for `tokens` int64 [T+1, B], inputs rows 0..T−1 and targets rows 1..T.
 * Outputs: `logp` [T·B] log p(target); `rank` int64 [T·B], how many other words score strictly higher than
 * the target (0: the model's top-1); `hT` (and `cT`) [L, B, H].
 * Weights are graph inputs named as in the parameter layout, or initializers when `params` is given.
 *
 * With `cache`, p(w) = keep·p_model(w) + c(w) for each of the N rows (../cache-model.ts), from the inputs
 * `keep` [N, 1] (1 − λ, or 1 while the window is empty), `cache_ids` int32 [K] (the words in any row's
 * window), `cache_weights` [N, K] (their c = λ·count/|window| in row n; 0 where not in its window) and
 * `target_cache` [N, 1] (c of the target). Only the K cached words need their mixed probability; every other word w outranks the
 * target exactly when log p_model(w) > τ = log(p(y) / keep), so the rank is one comparison pass over
 * [N, V] like the plain graph's, corrected on the K cached words.
 */
export function scoreGraph(cfg: ModelConfig, params?: Float32Array, opts: ScoreGraphOptions = {}): Uint8Array {
  const g = new GraphBuilder(opts.cache ? 'nextword_score_cache' : 'nextword_score');
  const op = ops(g);
  const w = params ? initializerSource(g, cfg, params) : inputSource(g, cfg);
  const tokens = g.input('tokens', DType.int64, ['T1', 'B']);
  const { h0, c0 } = stateInputs(g, cfg);
  const x = op.slice(tokens, [0], [-1], [0], 'x');
  const y = op.reshape(op.slice(tokens, [1], [Number.MAX_SAFE_INTEGER], [0]), [-1, 1], 'y'); // [N, 1]
  const decoder = decoderFor(g, cfg, w, params, opts);
  const s = recurrentStack(g, cfg, w, decoder.embed, x, h0, c0);
  const logits = decoder.decode(s.top); //                                          [N, V]
  // Everything below compares log-probabilities: LogSoftmax is one vectorised operator in onnxruntime,
  // where ReduceLogSumExp alone took half of a scoring run.
  const lp = op.logSoftmax(logits, 1, 'log_probs'); //                               [N, V]
  const lpModel = op.gatherElements(lp, y, 1, 'logp_model'); //                      [N, 1]
  /** How many words w ≠ y have log p(w) > threshold [N, 1] (y itself excluded exactly), as float [N, 1]. */
  const countAbove = (threshold: Value, label: string) => {
    const all = op.reduceSum(op.cast(g.op1('Greater', [lp, threshold]), DType.float), [1], 1, `${label}.all`);
    return op.sub(all, op.cast(g.op1('Greater', [lpModel, threshold]), DType.float), label);
  };
  let logp: Value; //                                                                [N, 1]
  let rank: Value; //                                                                float [N, 1]
  if (!opts.cache) {
    logp = lpModel;
    rank = countAbove(lpModel, 'higher');
  } else {
    const keep = g.input('keep', DType.float, ['N', 1]);
    const cacheIds = g.input('cache_ids', DType.int32, ['K']); // int32: no BigInt conversion per run
    const cacheW = g.input('cache_weights', DType.float, ['N', 'K']);
    const targetC = g.input('target_cache', DType.float, ['N', 1]);
    const logKeep = op.log(keep, 'log_keep');
    // log p(y) = log(keep·p_model(y) + c_y), exactly log keep + log p_model(y) when c_y = 0 (no underflow)
    const zero = g.constFloat(0);
    const mixedY = op.add(op.mul(keep, op.exp(lpModel)), targetC, 'p_y'); //         [N, 1]
    logp = g.node('Where', [g.op1('Greater', [targetC, zero]), op.log(mixedY), op.add(logKeep, lpModel)], {}, 1, 'logp_mixed')[0]!;
    // words outside the cache outrank y when keep·p(w) > p(y), i.e. log p(w) > τ = log p(y) − log keep
    const tau = op.sub(logp, logKeep, 'tau'); //                                      [N, 1]
    const dense = countAbove(tau, 'dense');
    // the cached words (not y) are counted by their mixed probability instead
    const lpC = op.gather(lp, cacheIds, 1, 'logp_c'); //                              [N, K]
    const real = op.mul(
      op.cast(g.op1('Greater', [cacheW, zero]), DType.float),
      op.cast(g.op1('Not', [g.op1('Equal', [cacheIds, op.cast(y, DType.int32, 'y_int32')])]), DType.float),
      'cache_real',
    ); //                                                                            [N, K] 1 for a cached word ≠ y
    const wasCounted = op.mul(op.cast(g.op1('Greater', [lpC, tau]), DType.float), real, 'cache_dense');
    const mixedC = op.add(op.mul(keep, op.exp(lpC)), cacheW, 'p_c'); //                [N, K]
    const outranks = op.mul(op.cast(g.op1('Greater', [mixedC, mixedY]), DType.float), real, 'cache_higher');
    const correction = op.sub(op.reduceSum(outranks, [1], 1), op.reduceSum(wasCounted, [1], 1), 'cache_correction');
    rank = op.add(dense, correction, 'rank_mixed');
  }
  g.output(op.reshape(logp, [-1]), 'logp', DType.float, ['N']);
  g.output(op.cast(op.reshape(rank, [-1]), DType.int64, 'rank_int'), 'rank', DType.int64, ['N']);
  stateOutputs(g, cfg, s);
  return g.toModelBytes({ docString: opts.cache ? 'Nextword scoring graph (with document cache)' : 'Nextword scoring graph' });
}

/**
 * The parameters (flat, layout order) stored as initializers in an exported inference model, so that
 * other graphs (scoring) can be built from a saved model. Fails if a tensor is missing or misshapen.
 */
export function parametersFromModel(cfg: ModelConfig, modelBytes: Uint8Array): Float32Array {
  return runSteps(parametersFromModelSteps(cfg, modelBytes));
}

/**
 * parametersFromModel, awaiting `pause` between pieces of ~1 ms, so that the thread that switches to a newly
 * trained model goes on answering while its float16 weights are converted.
 */
export function parametersFromModelPaced(cfg: ModelConfig, modelBytes: Uint8Array, pause: () => Promise<void>): Promise<Float32Array> {
  return runStepsPaced(parametersFromModelSteps(cfg, modelBytes), pause);
}

/** Values converted or copied between two steps of parametersFromModelSteps. */
const PARAMETER_STEP_VALUES = 1 << 18;

function* parametersFromModelSteps(cfg: ModelConfig, modelBytes: Uint8Array): Steps<Float32Array> {
  const model = onnx.ModelProto.decode(modelBytes);
  yield;
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
    const width = half ? 2 : 4;
    if (raw && raw.length === p.size * width) {
      for (let at = 0; at < p.size; at += PARAMETER_STEP_VALUES) {
        const n = Math.min(PARAMETER_STEP_VALUES, p.size - at);
        // Copied into a fresh buffer: rawData may be an unaligned view into the model bytes (or a Buffer,
        // whose slice() is a view too).
        const piece = new Uint8Array(n * width);
        piece.set(raw.subarray(at * width, (at + n) * width));
        if (half) fromFloat16Into(new Uint16Array(piece.buffer), flat, p.offset + at);
        else flat.set(new Float32Array(piece.buffer), p.offset + at);
        yield;
      }
    } else if (t.floatData && t.floatData.length === p.size) {
      flat.set(t.floatData, p.offset);
    } else {
      throw new Error(`the ONNX weight "${p.name}" holds the wrong number of values`);
    }
  }
  return flat;
}
