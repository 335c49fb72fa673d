// Classic language-model batching (pytorch/examples word_language_model): the token stream is cut into
// B parallel streams read top to bottom, and training walks down them in windows of T tokens. The hidden
// state at the end of one window is the start of the next (the streams are continuous text), but no
// gradient flows across the window boundary: truncated backpropagation through time.
//
// Shapes: B streams, rows = ⌊n / B⌋ tokens per stream, T window length.

export interface Streams {
  /** [rows, B] row-major: data[r·B + b] is token r of stream b. */
  data: Int32Array;
  rows: number;
  B: number;
}

/** Lays `ids` out as B streams; the ⌊n / B⌋·B first tokens are used, the rest dropped. */
export function toStreams(ids: Int32Array, B: number): Streams {
  if (!Number.isInteger(B) || B < 1) throw new Error(`batch size must be a positive integer (got ${B})`);
  const rows = Math.floor(ids.length / B);
  const data = new Int32Array(rows * B);
  for (let b = 0; b < B; b++) {
    const src = b * rows;
    for (let r = 0; r < rows; r++) data[r * B + b] = ids[src + r]!;
  }
  return { data, rows, B };
}

export interface Window {
  /** [(T+1), B]: inputs are rows 0..T−1, targets rows 1..T (a view, not a copy). */
  tokens: Int32Array;
  T: number;
  /** Index of the first input row in the streams. */
  start: number;
}

/** The windows of one pass over the streams; the last one may be shorter than T. */
export function* windows(s: Streams, T: number): Generator<Window> {
  if (!Number.isInteger(T) || T < 1) throw new Error(`window length must be a positive integer (got ${T})`);
  for (let start = 0; start + 1 < s.rows; start += T) {
    const t = Math.min(T, s.rows - 1 - start);
    yield { tokens: s.data.subarray(start * s.B, (start + t + 1) * s.B), T: t, start };
  }
}

/** Number of windows (optimizer steps) in one pass. */
export function windowCount(s: Streams, T: number): number {
  return s.rows < 2 ? 0 : Math.ceil((s.rows - 1) / T);
}
