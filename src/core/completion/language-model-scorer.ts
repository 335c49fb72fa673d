// Scoring (log p of each target and its rank) on top of any LanguageModel, in plain TypeScript: the
// ChunkScorer behind DocumentPerplexity in tests (over the reference model or a hand-written one), and a
// fallback that needs nothing from the runtime but a LanguageModel. The ONNX scoring graph computes the same
// figures inside onnxruntime (only two numbers per token come back); this one reads them off the [n, V]
// log-probabilities, so it costs n·V floats per run.
//
// Shapes: n + 1 ids in (inputs ids[0..n−1], targets ids[1..n]), n scores out, V vocabulary; runs of at most
// `chunk` inputs, the state carried between them.

import type { SequenceScorer } from '../evaluation.js';
import type { LanguageModel, RecurrentState } from '../language-model.js';
import type { ChunkScorer, ChunkScores } from '../evaluation.js';

export class LanguageModelScorer implements ChunkScorer, SequenceScorer {
  private readonly chunk: number;
  private readonly between: (() => Promise<void>) | undefined;

  constructor(
    private readonly model: LanguageModel,
    /** `yieldBetween`: awaited between two runs (lets the event loop breathe when the model computes in-thread). */
    opts: { chunk?: number; yieldBetween?: () => Promise<void> } = {},
  ) {
    this.chunk = opts.chunk ?? 256;
    this.between = opts.yieldBetween;
    if (!Number.isInteger(this.chunk) || this.chunk < 1) throw new Error(`LanguageModelScorer: chunk must be a positive integer (got ${opts.chunk})`);
  }

  initialState(): RecurrentState {
    return this.model.initialState();
  }

  async scoreChunk(ids: Int32Array, state: RecurrentState): Promise<ChunkScores> {
    if (!(ids instanceof Int32Array) || ids.length < 1) throw new Error('LanguageModelScorer: scoreChunk needs at least one id (an Int32Array)');
    const n = ids.length - 1;
    const V = this.model.vocabSize;
    const logp = new Float32Array(n); //                                            [n]
    const rank = new Int32Array(n); //                                              [n]
    for (let start = 0; start < n; start += this.chunk) {
      if (start > 0 && this.between) await this.between();
      const m = Math.min(this.chunk, n - start);
      const out = await this.model.run(ids.subarray(start, start + m), state);
      if (out.logProbs.length !== m * V) {
        throw new Error(`LanguageModelScorer: the model returned ${out.logProbs.length} log-probabilities for ${m} ids, expected ${m}·${V}`);
      }
      for (let t = 0; t < m; t++) {
        const row = t * V;
        const target = ids[start + t + 1]!;
        if (!(target >= 0 && target < V)) throw new Error(`LanguageModelScorer: id ${target} is outside the vocabulary [0, ${V})`);
        const lp = out.logProbs[row + target]!;
        // As the scoring graph: how many tokens score strictly higher than the target.
        let higher = 0;
        for (let v = 0; v < V; v++) if (out.logProbs[row + v]! > lp) higher++;
        logp[start + t] = lp;
        rank[start + t] = higher;
      }
      state = out.state;
    }
    return { logp, rank, state };
  }

  async scoreSequence(ids: Int32Array): Promise<{ logp: Float32Array; rank: Int32Array }> {
    const { logp, rank } = await this.scoreChunk(ids, this.model.initialState());
    return { logp, rank };
  }
}
