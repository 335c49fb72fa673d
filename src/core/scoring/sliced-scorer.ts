// A scorer whose chunks are scored in slices: `scoreChunk` runs as pieces of at most `piece` targets, each
// from the state the one before it ended in, with `between` awaited between two pieces. The scores and the
// final state are the scorer's own for the whole chunk (scoring is sequential: a target's score depends
// only on the state before it), but the thread is let go between pieces: the model server (runtime/
// model-server.ts) answers a prediction that arrives while a long file is scored after one piece, not after
// the whole chunk. `scoreSequence` (a whole text from the start: `nextword eval`) is passed through.
// `scoreInPieces` is the loop itself: the scoring graph's runner (runtime/onnx/onnx-scorer.ts) splits its calls
// with it too.

import type { ChunkScorer, ChunkScores, SequenceScorer } from './evaluation.js';
import type { RecurrentState } from '../model/language-model.js';

export function slicedScorer(scorer: ChunkScorer & SequenceScorer, piece: number, between: () => Promise<void>): ChunkScorer & SequenceScorer {
  if (!Number.isInteger(piece) || piece < 1) throw new Error(`slicedScorer: piece must be a positive integer (got ${piece})`);
  return {
    initialState: () => scorer.initialState(),
    scoreSequence: (ids) => scorer.scoreSequence(ids),
    scoreChunk: (ids, state) => scoreInPieces(ids, state, piece, (p, s) => scorer.scoreChunk(p, s), between),
  };
}

/**
 * Scores the chunk `ids` (m + 1 ids: m targets) from `state` as pieces of at most `piece` targets, each by
 * `scorePiece` from the state the one before it ended in (`between` awaited between two), and puts the
 * pieces' scores together: the chunk's scores and final state. A chunk of at most `piece` targets is one piece.
 */
export async function scoreInPieces<S extends ChunkScores>(
  ids: Int32Array,
  state: RecurrentState,
  piece: number,
  scorePiece: (ids: Int32Array, state: RecurrentState) => Promise<S>,
  between?: () => Promise<void>,
): Promise<S> {
  const m = ids.length - 1; // targets
  if (m <= piece) return scorePiece(ids, state);
  const logp = new Float32Array(m); //                                               [m]
  let rank: Int32Array | undefined; //                                               [m], if the pieces have ranks
  let at = state;
  for (let start = 0; start < m; start += piece) {
    if (start > 0 && between) await between();
    const end = Math.min(m, start + piece);
    const out = await scorePiece(ids.subarray(start, end + 1), at);
    if (start === 0 && out.rank) rank = new Int32Array(m);
    if (out.logp.length !== end - start || (out.rank === undefined) !== (rank === undefined) || (out.rank && out.rank.length !== end - start)) {
      throw new Error(`the scorer returned ${out.logp.length} scores and ${out.rank ? out.rank.length : 'no'} ranks for ${end - start} targets`);
    }
    logp.set(out.logp, start);
    rank?.set(out.rank!, start);
    at = out.state;
  }
  return { logp, ...(rank ? { rank } : {}), state: at } as S; // ranks exactly when the pieces have them
}
