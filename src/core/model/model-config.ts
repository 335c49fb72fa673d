// Model configuration and the parameter layout every other part derives from.
//
// Shapes: V vocabulary, E embedding, H hidden, L layers, G gates per cell (LSTM 4, RNN 1),
// I input width of a layer (E for layer 0, H above).
//
// One table (`parameterLayout`) names every parameter with its shape. The training graph's inputs and
// outputs, the optimizer state, the reference implementation, checkpoints and the exported model's
// initializers all follow it, in its order.

import type { Uniform } from '../support/random.js';

export type CellType = 'lstm' | 'rnn';
export type OptimizerType = 'sgd' | 'adam';

export interface ModelConfig {
  cell: CellType;
  /** Stacked recurrent layers, 1 to 3. */
  layers: number;
  /** V: vocabulary size, including the special tokens. */
  vocab: number;
  /** E: embedding width. */
  embed: number;
  /** H: hidden width of every layer. */
  hidden: number;
  /** Decoder weight shares the embedding matrix (needs E = H). */
  tied: boolean;
}

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Offset (in elements) in a flat buffer holding every parameter in layout order. */
  offset: number;
  size: number;
  kind: 'embedding' | 'input-weight' | 'recurrent-weight' | 'bias' | 'decoder-weight' | 'decoder-bias';
  /** Layer index for recurrent parameters. */
  layer?: number;
}

/** Gates per cell, in ONNX order: LSTM i, o, f, c; RNN a single tanh. */
export function gateCount(cell: CellType): number {
  return cell === 'lstm' ? 4 : 1;
}

export function layerInputWidth(cfg: ModelConfig, layer: number): number {
  return layer === 0 ? cfg.embed : cfg.hidden;
}

export function validateModelConfig(cfg: ModelConfig): void {
  const fail = (msg: string): never => {
    throw new Error(`invalid model configuration: ${msg}`);
  };
  if (cfg.cell !== 'lstm' && cfg.cell !== 'rnn') fail(`cell must be "lstm" or "rnn", not "${cfg.cell}"`);
  if (!Number.isInteger(cfg.layers) || cfg.layers < 1 || cfg.layers > 3) fail(`layers must be 1, 2 or 3 (got ${cfg.layers})`);
  for (const k of ['vocab', 'embed', 'hidden'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) fail(`${k} must be a positive integer (got ${cfg[k]})`);
  }
  if (cfg.vocab < 2) fail(`vocab must hold at least 2 words (got ${cfg.vocab})`);
  if (cfg.tied && cfg.embed !== cfg.hidden) {
    fail(`tied embeddings need embed = hidden (got embed ${cfg.embed}, hidden ${cfg.hidden})`);
  }
}

/** Every parameter, in the one order used everywhere. */
export function parameterLayout(cfg: ModelConfig): ParamSpec[] {
  validateModelConfig(cfg);
  const G = gateCount(cfg.cell);
  const H = cfg.hidden;
  const out: ParamSpec[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], kind: ParamSpec['kind'], layer?: number) => {
    const size = shape.reduce((a, b) => a * b, 1);
    out.push(layer === undefined ? { name, shape, offset, size, kind } : { name, shape, offset, size, kind, layer });
    offset += size;
  };
  add('embedding', [cfg.vocab, cfg.embed], 'embedding');
  for (let l = 0; l < cfg.layers; l++) {
    add(`layer${l}.W`, [G * H, layerInputWidth(cfg, l)], 'input-weight', l);
    add(`layer${l}.R`, [G * H, H], 'recurrent-weight', l);
    add(`layer${l}.b`, [G * H], 'bias', l);
  }
  // An untied decoder is stored transposed, [H, V]: the training step's three products with it (logits,
  // its gradient, the gradient of its input) are fastest in that orientation. Tied, it is the embedding.
  if (!cfg.tied) add('decoder.W', [H, cfg.vocab], 'decoder-weight');
  add('decoder.b', [cfg.vocab], 'decoder-bias');
  return out;
}

export function parameterCount(cfg: ModelConfig): number {
  return parameterLayout(cfg).reduce((n, p) => n + p.size, 0);
}

/** Name of the matrix the decoder multiplies by: its own ([H, V]), or the embedding ([V, E]) when tied. */
export function decoderWeightName(cfg: ModelConfig): string {
  return cfg.tied ? 'embedding' : 'decoder.W';
}


/**
 * Initial parameters (Zaremba et al. 2014): every weight uniform in [-scale, scale], biases zero,
 * except the LSTM forget-gate bias, which starts at 1 so that the cell remembers from the first step.
 */
export function initialParameters(cfg: ModelConfig, rand: Uniform, scale = 0.1): Float32Array {
  const layout = parameterLayout(cfg);
  const flat = new Float32Array(layout.reduce((n, p) => n + p.size, 0));
  const H = cfg.hidden;
  for (const p of layout) {
    const view = flat.subarray(p.offset, p.offset + p.size);
    if (p.kind === 'bias') {
      if (cfg.cell === 'lstm') view.fill(1, 2 * H, 3 * H); // gate order i, o, f, c: f is the third block
    } else if (p.kind !== 'decoder-bias') {
      for (let i = 0; i < view.length; i++) view[i] = (rand() * 2 - 1) * scale;
    }
  }
  return flat;
}

/** Named views into a flat parameter buffer (no copies). */
export function parameterViews<A extends Float32Array | Float64Array>(cfg: ModelConfig, flat: A): Map<string, A> {
  const views = new Map<string, A>();
  for (const p of parameterLayout(cfg)) views.set(p.name, flat.subarray(p.offset, p.offset + p.size) as A);
  return views;
}

/** Widths of the dropout masks: mask k multiplies the input of layer k (k < L) or, for k = L, the decoder input. */
export function dropoutMaskWidths(cfg: ModelConfig): number[] {
  const widths: number[] = [];
  for (let l = 0; l < cfg.layers; l++) widths.push(layerInputWidth(cfg, l));
  widths.push(cfg.hidden);
  return widths;
}
