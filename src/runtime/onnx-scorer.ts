// Scores token sequences with the scoring graph (graphs/inference-graph.ts): per-token log p(target)
// and the target's rank, computed inside onnxruntime so that only two numbers per token come back.
//
// Shapes: n + 1 ids in, n scores out; runs of at most `chunk` targets, state carried between them.

import type { SequenceScorer } from '../core/evaluation.js';
import { scoreGraph } from '../core/graphs/inference-graph.js';
import type { ModelConfig } from '../core/model-config.js';
import { createSession, floatData, floatTensor, idsTensor, type ort } from './ort-session.js';

export class OnnxScorer implements SequenceScorer {
  private constructor(
    private readonly cfg: ModelConfig,
    private readonly session: ort.InferenceSession,
    private readonly chunk: number,
  ) {}

  static async create(cfg: ModelConfig, params: Float32Array, opts: { threads?: number; chunk?: number } = {}): Promise<OnnxScorer> {
    const session = await createSession(scoreGraph(cfg, params), { threads: opts.threads });
    return new OnnxScorer(cfg, session, opts.chunk ?? 512);
  }

  async scoreSequence(ids: Int32Array): Promise<{ logp: Float32Array; rank: Int32Array }> {
    const n = ids.length - 1;
    const logp = new Float32Array(Math.max(0, n));
    const rank = new Int32Array(Math.max(0, n));
    const { layers: L, hidden: H } = this.cfg;
    let h: Float32Array = new Float32Array(L * H);
    let c: Float32Array = new Float32Array(L * H);
    for (let start = 0; start < n; start += this.chunk) {
      const m = Math.min(this.chunk, n - start);
      const feeds: Record<string, ort.Tensor> = {
        tokens: idsTensor(ids.subarray(start, start + m + 1), [m + 1, 1]),
        h0: floatTensor(h, [L, 1, H]),
      };
      if (this.cfg.cell === 'lstm') feeds.c0 = floatTensor(c, [L, 1, H]);
      const out = await this.session.run(feeds);
      logp.set(floatData(out.logp, 'logp'), start);
      const r = out.rank!.data as BigInt64Array;
      for (let i = 0; i < m; i++) rank[start + i] = Number(r[i]);
      h = floatData(out.hT, 'hT');
      if (this.cfg.cell === 'lstm') c = floatData(out.cT, 'cT');
    }
    return { logp, rank };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
