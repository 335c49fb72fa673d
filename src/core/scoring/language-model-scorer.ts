// Scoring (log p of each target and its rank) on top of any LanguageModel, in plain TypeScript: the
// ChunkScorer behind DocumentPerplexity in tests (over the reference model or a hand-written one), and a
// fallback that needs nothing from the runtime but a LanguageModel. The ONNX scoring graph computes the same
// figures inside onnxruntime (only two numbers per token come back); this one reads them off the [n, V]
// log-probabilities, so it costs n·V floats per run.
//
// Shapes: n + 1 ids in (inputs ids[0..n−1], targets ids[1..n]), n scores out, V vocabulary; runs of at most
// `chunk` inputs, the state carried between them.

import type { SequenceScorer } from './evaluation.js';
import type { LanguageModel, RecurrentState } from '../model/language-model.js';
import type { ChunkScorer, RankedScores } from './evaluation.js';

export class LanguageModelScorer implements ChunkScorer, SequenceScorer {
  private readonly chunk: number;
  private readonly between: (() => Promise<void>) | undefined;
  private readonly sliceMs: number | undefined;
  /** Inputs per run when runs are timed (sliceMs): as many as the last run's pace fits in the slice. */
  private perRun: number;

  constructor(
    private readonly model: LanguageModel,
    /**
     * `yieldBetween`: awaited between two runs (lets the event loop breathe when the model computes
     * in-thread). `sliceMs`: runs are then sized to last about this long each, at most `chunk` inputs (the
     * cost per token of an n-gram model varies a hundredfold with its size and the context).
     */
    opts: { chunk?: number; yieldBetween?: () => Promise<void>; sliceMs?: number } = {},
  ) {
    this.chunk = opts.chunk ?? 256;
    this.between = opts.yieldBetween;
    this.sliceMs = opts.sliceMs;
    this.perRun = opts.sliceMs === undefined ? this.chunk : 1;
    if (!Number.isInteger(this.chunk) || this.chunk < 1) throw new Error(`LanguageModelScorer: chunk must be a positive integer (got ${opts.chunk})`);
  }

  initialState(): RecurrentState {
    return this.model.initialState();
  }

  async scoreChunk(ids: Int32Array, state: RecurrentState): Promise<RankedScores> {
    if (!(ids instanceof Int32Array) || ids.length < 1) throw new Error('LanguageModelScorer: scoreChunk needs at least one id (an Int32Array)');
    const n = ids.length - 1;
    const V = this.model.vocabSize;
    const logp = new Float32Array(n); //                                            [n]
    const rank = new Int32Array(n); //                                              [n]
    for (let start = 0, m = 0; start < n; start += m) {
      if (start > 0 && this.between) await this.between();
      m = Math.min(this.perRun, n - start);
      const t0 = performance.now();
      const out = await this.model.run(ids.subarray(start, start + m), state);
      if (out.logProbs.length !== m * V) {
        throw new Error(`LanguageModelScorer: the model returned ${out.logProbs.length} log-probabilities for ${m} ids, expected ${m}·${V}`);
      }
      for (let t = 0; t < m; t++) {
        const target = ids[start + t + 1]!;
        if (!(target >= 0 && target < V)) throw new Error(`LanguageModelScorer: id ${target} is outside the vocabulary [0, ${V})`);
        const lp = out.logProbs[t * V + target]!;
        logp[start + t] = lp;
        rank[start + t] = countAbove(out.logProbs.subarray(t * V, (t + 1) * V), lp);
      }
      state = out.state;
      if (this.sliceMs !== undefined) {
        const msPerInput = (performance.now() - t0) / m;
        // At most twice as many as the last run: the cost per token changes with the context (a run of
        // cheap tokens says little about the next), and a run overshooting the slice holds the thread.
        this.perRun = Math.max(1, Math.min(this.chunk, 2 * m, Math.floor(this.sliceMs / Math.max(msPerInput, 1e-3))));
      }
    }
    return { logp, rank, state };
  }

  async scoreSequence(ids: Int32Array): Promise<{ logp: Float32Array; rank: Int32Array }> {
    const { logp, rank } = await this.scoreChunk(ids, this.model.initialState());
    return { logp, rank };
  }
}

/**
 * A target's rank, as the scoring graph counts it: how many entries of one distribution's `row` score
 * strictly higher than `lp`. (A plain function: V8 optimises its loop, where one inside the async
 * scoreChunk ran interpreted at first.)
 */
export function countAbove(row: Float32Array, lp: number): number {
  let higher = 0;
  for (let v = 0; v < row.length; v++) if (row[v]! > lp) higher++;
  return higher;
}
