// Runs the training-step graph: keeps the parameters, the optimizer state and the carried hidden state
// between steps. Each step's outputs become the next step's inputs (inputs are passed without copying).
//
// Shapes: T steps, B streams, L layers, H hidden.

import { trainGraphNames, trainStepGraph, type TrainGraphNames } from '../../core/graphs/train-step-graph.js';
import { scoreGraph } from '../../core/graphs/inference-graph.js';
import { parameterLayout, type ModelConfig, type OptimizerType, type ParamSpec } from '../../core/model/model-config.js';
import type { SampledSoftmax } from '../../core/train/train-step.js';
import { createSession, floatData, floatTensor, idsTensor, ort, scalarTensor } from '../onnx/ort-session.js';

export interface TrainingRunnerOptions {
  optimizer: OptimizerType;
  dropout: boolean;
  /** The usual window length; the graph is unrolled, so another T (an epoch's last window) gets its own session. */
  bptt: number;
  threads?: number;
  /** Steps will mostly use a sampled softmax: build that graph up front (the other is built when first needed). */
  sampled?: boolean;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
}

/** embedding[ids[u]] = rows[u] for every updated row (the sparse SGD update). */
function writeRows(embedding: Float32Array, E: number, ids: ort.Tensor, rows: Float32Array): void {
  const idData = ids.data as BigInt64Array;
  for (let u = 0; u < idData.length; u++) embedding.set(rows.subarray(u * E, (u + 1) * E), Number(idData[u]) * E);
}

export class TrainingRunner {
  private params: Float32Array[];
  private adamM: Float32Array[];
  private adamV: Float32Array[];
  private updates = 0;
  private h: Float32Array = new Float32Array(0);
  private c: Float32Array = new Float32Array(0);
  private B = 0;
  private released = false;

  private constructor(
    readonly cfg: ModelConfig,
    readonly opts: TrainingRunnerOptions,
    /** One session per window length and softmax ("T:full", "T:sampled"). */
    private readonly sessions: Map<string, Promise<ort.InferenceSession>>,
    private readonly scorer: ort.InferenceSession,
    private readonly names: TrainGraphNames,
    private readonly layout: ParamSpec[],
    initial: Float32Array,
  ) {
    this.params = layout.map((p) => initial.slice(p.offset, p.offset + p.size));
    const adam = opts.optimizer === 'adam';
    this.adamM = adam ? layout.map((p) => new Float32Array(p.size)) : [];
    this.adamV = adam ? layout.map((p) => new Float32Array(p.size)) : [];
  }

  static async create(cfg: ModelConfig, opts: TrainingRunnerOptions, initialParams: Float32Array): Promise<TrainingRunner> {
    const layout = parameterLayout(cfg);
    const total = layout.reduce((n, p) => n + p.size, 0);
    if (initialParams.length !== total) throw new Error(`expected ${total} parameters, got ${initialParams.length}`);
    const scorer = await createSession(scoreGraph(cfg), { threads: opts.threads, spin: true });
    const runner = new TrainingRunner(cfg, opts, new Map(), scorer, trainGraphNames(cfg, { ...opts, T: opts.bptt }), layout, initialParams);
    await runner.sessionFor(opts.bptt, !!opts.sampled);
    return runner;
  }

  private sessionFor(T: number, sampled: boolean): Promise<ort.InferenceSession> {
    const key = `${T}:${sampled ? 'sampled' : 'full'}`;
    let s = this.sessions.get(key);
    if (!s) {
      const graph = trainStepGraph(this.cfg, { optimizer: this.opts.optimizer, dropout: this.opts.dropout, T, sampled });
      s = createSession(graph, { threads: this.opts.threads, spin: true });
      this.sessions.set(key, s);
    }
    return s;
  }

  /** Zeroes the carried state for B streams (start of an epoch). */
  resetState(B: number): void {
    const n = this.cfg.layers * B * this.cfg.hidden;
    this.B = B;
    this.h = new Float32Array(n);
    this.c = new Float32Array(n);
  }

  /**
   * One update on a window: `tokens` [(T+1), B] (inputs rows 0..T−1, targets rows 1..T). The hidden state
   * carries over from the previous window of the same streams (truncated BPTT). With `sampled`, the loss
   * (and so the returned one) is the sampled softmax's.
   */
  async step(tokens: Int32Array, T: number, lr: number, clip: number, masks?: Float32Array[], sampled?: SampledSoftmax): Promise<StepResult> {
    const B = this.B;
    if (tokens.length !== (T + 1) * B) throw new Error(`tokens must be [(T+1)·B] = ${(T + 1) * B}, got ${tokens.length}`);
    const feeds: Record<string, ort.Tensor> = {};
    this.layout.forEach((p, i) => {
      feeds[p.name] = floatTensor(this.params[i]!, p.shape);
      if (this.adamM.length) {
        feeds[this.names.adamM[i]!] = floatTensor(this.adamM[i]!, p.shape);
        feeds[this.names.adamV[i]!] = floatTensor(this.adamV[i]!, p.shape);
      }
    });
    if (this.adamM.length) feeds['adam.step'] = scalarTensor(this.updates + 1);
    feeds.tokens = idsTensor(tokens, [T + 1, B]);
    const stateDims = [this.cfg.layers, B, this.cfg.hidden];
    feeds.h0 = floatTensor(this.h, stateDims);
    if (this.cfg.cell === 'lstm') feeds.c0 = floatTensor(this.c, stateDims);
    feeds.lr = scalarTensor(lr);
    feeds.clip = scalarTensor(clip);
    if (this.names.masks.length) {
      if (!masks || masks.length !== this.names.masks.length) throw new Error(`dropout needs ${this.names.masks.length} masks`);
      this.names.masks.forEach((name, k) => {
        const width = masks[k]!.length / (T * B);
        feeds[name] = floatTensor(masks[k]!, [T, B, width]);
      });
    }
    if (sampled) {
      feeds.samples = idsTensor(sampled.ids, [sampled.ids.length]);
      feeds.sample_logq = floatTensor(Float32Array.from(sampled.logQ), [sampled.ids.length]);
    }
    const session = await this.sessionFor(T, !!sampled);
    const out = await session.run(feeds);
    const embedding = this.params[0]!;
    this.params = this.names.newParams.map((n, i) => (this.names.sparseEmbedding && i === 0 ? embedding : floatData(out[n], n)));
    if (this.names.sparseEmbedding) writeRows(embedding, this.cfg.embed, out['new.embedding.ids']!, floatData(out['new.embedding.rows'], 'rows'));
    if (this.adamM.length) {
      this.adamM = this.names.newAdamM.map((n) => floatData(out[n], n));
      this.adamV = this.names.newAdamV.map((n) => floatData(out[n], n));
    }
    this.updates++;
    this.h = floatData(out.hT, 'hT');
    if (this.cfg.cell === 'lstm') this.c = floatData(out.cT, 'cT');
    return { loss: floatData(out.loss, 'loss')[0]!, gradNorm: floatData(out.grad_norm, 'grad_norm')[0]! };
  }

  /** Replaces the parameters (flat, layout order), e.g. to score the best epoch's. */
  setParams(flat: Float32Array): void {
    this.params = this.layout.map((p) => flat.slice(p.offset, p.offset + p.size));
  }

  /** The current parameters, flat in layout order (a copy). */
  flatParams(): Float32Array {
    const flat = new Float32Array(this.layout.reduce((n, p) => n + p.size, 0));
    this.layout.forEach((p, i) => flat.set(this.params[i]!, p.offset));
    return flat;
  }

  /**
   * Scores streams with the current parameters: `data` [rows, B] ids; windows of `T` with state carried.
   * Returns the summed negative log-likelihood and the number of targets.
   */
  async evaluate(data: Int32Array, rows: number, B: number, T: number, signal?: AbortSignal): Promise<{ nll: number; count: number }> {
    const feeds: Record<string, ort.Tensor> = {};
    this.layout.forEach((p, i) => (feeds[p.name] = floatTensor(this.params[i]!, p.shape)));
    const stateDims = [this.cfg.layers, B, this.cfg.hidden];
    let h: Float32Array = new Float32Array(this.cfg.layers * B * this.cfg.hidden);
    let c: Float32Array = new Float32Array(h.length);
    let nll = 0;
    let count = 0;
    for (let start = 0; start + 1 < rows; start += T) {
      signal?.throwIfAborted();
      const t = Math.min(T, rows - 1 - start);
      feeds.tokens = idsTensor(data.subarray(start * B, (start + t + 1) * B), [t + 1, B]);
      feeds.h0 = floatTensor(h, stateDims);
      if (this.cfg.cell === 'lstm') feeds.c0 = floatTensor(c, stateDims);
      const out = await this.scorer.run(feeds, ['logp', 'hT', ...(this.cfg.cell === 'lstm' ? ['cT'] : [])]);
      const logp = floatData(out.logp, 'logp');
      for (let i = 0; i < logp.length; i++) nll -= logp[i]!;
      count += logp.length;
      h = floatData(out.hT, 'hT');
      if (this.cfg.cell === 'lstm') c = floatData(out.cT, 'cT');
    }
    return { nll, count };
  }

  /** Frees the sessions; calling it again does nothing. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const sessions = await Promise.all(this.sessions.values());
    await Promise.all([...sessions.map((s) => s.release()), this.scorer.release()]);
  }
}
