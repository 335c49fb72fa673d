// Latency percentiles over the most recent samples: what the log and "model info" report for completions
// (p50/p99 while typing), without keeping every sample of a long session.
//
// Percentiles use the nearest-rank definition: pXX is the smallest sample such that at least XX % of the
// samples are ≤ it (p50 of [1, 2, 3, 4] is 2, p99 of 100 samples is the 99th smallest).

export interface Percentiles {
  /** Samples behind the figures (at most the window). */
  count: number;
  /** NaN when there are no samples. */
  p50: number;
  p99: number;
  max: number;
}

export class LatencyStats {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;

  /** Keeps the last `window` samples. */
  constructor(readonly window = 1000) {
    if (!Number.isInteger(window) || window < 1) throw new Error(`LatencyStats: window must be a positive integer (got ${window})`);
    this.samples = new Float64Array(window);
  }

  add(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`LatencyStats.add: a latency must be a finite number ≥ 0 (got ${ms})`);
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.window;
    if (this.filled < this.window) this.filled++;
  }

  percentiles(): Percentiles {
    const n = this.filled;
    if (n === 0) return { count: 0, p50: NaN, p99: NaN, max: NaN };
    const sorted = this.samples.slice(0, n).sort();
    const rank = (q: number) => sorted[Math.max(1, Math.ceil(q * n)) - 1]!;
    return { count: n, p50: rank(0.5), p99: rank(0.99), max: sorted[n - 1]! };
  }

  clear(): void {
    this.next = 0;
    this.filled = 0;
  }
}
