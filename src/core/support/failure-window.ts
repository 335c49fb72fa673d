// When to stop restarting something that keeps failing: a crash loop, not a crash. The model servers run for
// days in an open editor; one that dies now and then is restarted every time, while three failures within
// ten minutes (a model that kills its server, a machine out of memory, a server that cannot start) make the
// caller give up on servers for a while and serve from its own process. Older failures are forgotten, so
// servers are tried again once the failures stop. Pure: the clock is given.

export class FailureWindow {
  private readonly failures: number[] = [];

  constructor(
    /** Failures within the window that trip it. */
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`limit must be an integer ≥ 1 (got ${limit})`);
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0 (got ${windowMs})`);
  }

  record(): void {
    this.failures.push(this.now());
    this.forget();
  }

  /** Failures within the last windowMs. */
  get recent(): number {
    this.forget();
    return this.failures.length;
  }

  /** `limit` failures or more within the last windowMs. */
  get tripped(): boolean {
    return this.recent >= this.limit;
  }

  private forget(): void {
    const since = this.now() - this.windowMs;
    while (this.failures.length && this.failures[0]! <= since) this.failures.shift();
  }
}
