// Scores token sequences with the scoring graph (graphs/inference-graph.ts): per-token log p(target)
// and the target's rank, computed inside onnxruntime so that only two numbers per token come back.
// `nextword eval` (a whole text from the start) and the editor's status bar (chunks from checkpointed
// states) both score through here, so their figures agree.
//
// Shapes: m inputs per run (m + 1 ids: the inputs, then the last target), L layers, H hidden.
// The graph takes tokens [m + 1, 1] and h0/c0 [L, 1, H]; it returns logp [m], rank [m], hT/cT [L, 1, H].

import type { ChunkScorer, ChunkScores, SequenceScorer } from '../core/evaluation.js';
import { scoreGraph } from '../core/graphs/inference-graph.js';
import type { RecurrentState } from '../core/language-model.js';
import type { ModelConfig } from '../core/model-config.js';
import { createSession, floatData, floatTensor, idsTensor, type ort } from './ort-session.js';

export class OnnxScorer implements SequenceScorer, ChunkScorer {
  private constructor(
    private readonly cfg: ModelConfig,
    private readonly session: ort.InferenceSession,
    /** Most targets per run of a whole sequence: the graph holds [m, V] log-probabilities. */
    private readonly chunk: number,
  ) {}

  static async create(cfg: ModelConfig, params: Float32Array, opts: { threads?: number; chunk?: number } = {}): Promise<OnnxScorer> {
    const session = await createSession(scoreGraph(cfg, params), { threads: opts.threads });
    return new OnnxScorer(cfg, session, opts.chunk ?? 512);
  }

  initialState(): RecurrentState {
    const n = this.cfg.layers * this.cfg.hidden;
    return this.cfg.cell === 'lstm' ? { h: new Float32Array(n), c: new Float32Array(n) } : { h: new Float32Array(n) };
  }

  async scoreChunk(ids: Int32Array, state: RecurrentState): Promise<ChunkScores> {
    const { layers: L, hidden: H, cell, vocab: V } = this.cfg;
    const m = ids.length - 1;
    if (m < 1) throw new Error('scoring needs at least two ids (an input and a target)');
    for (let k = 0; k < ids.length; k++) {
      if (!(ids[k]! >= 0 && ids[k]! < V)) throw new Error(`ids[${k}] = ${ids[k]} is outside the vocabulary [0, ${V})`);
    }
    const feeds: Record<string, ort.Tensor> = { tokens: idsTensor(ids, [m + 1, 1]), h0: floatTensor(state.h, [L, 1, H]) };
    if (cell === 'lstm') feeds.c0 = floatTensor(state.c!, [L, 1, H]);
    const out = await this.session.run(feeds);
    const logp = floatData(out.logp, 'logp'); //                                      [m]
    const ranks = out.rank?.data;
    if (logp.length !== m || !(ranks instanceof BigInt64Array) || ranks.length !== m) {
      throw new Error(`the scoring graph returned ${logp.length} scores for ${m} targets`);
    }
    const rank = new Int32Array(m); //                                               [m]
    for (let i = 0; i < m; i++) rank[i] = Number(ranks[i]);
    const h = floatData(out.hT, 'hT'); //                                             [L, 1, H]
    return { logp, rank, state: cell === 'lstm' ? { h, c: floatData(out.cT, 'cT') } : { h } };
  }

  async scoreSequence(ids: Int32Array): Promise<{ logp: Float32Array; rank: Int32Array }> {
    const n = ids.length - 1;
    const logp = new Float32Array(Math.max(0, n));
    const rank = new Int32Array(Math.max(0, n));
    let state = this.initialState();
    for (let start = 0; start < n; start += this.chunk) {
      const m = Math.min(this.chunk, n - start);
      const r = await this.scoreChunk(ids.subarray(start, start + m + 1), state);
      logp.set(r.logp, start);
      rank.set(r.rank, start);
      state = r.state;
    }
    return { logp, rank };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
