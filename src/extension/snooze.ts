// "Snooze completions": off for some minutes, or until the editor restarts (kept in memory only, so a
// restart always ends it). Pure apart from one timer that announces the end, so the status bar clears
// itself without polling.

export type SnoozeUntil = number | 'restart';

export class Snooze {
  private until: SnoozeUntil | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly now: () => number = Date.now) {}

  /** When the snooze ends (epoch ms or 'restart'); undefined when not snoozed. */
  get snoozedUntil(): SnoozeUntil | undefined {
    if (typeof this.until === 'number' && this.now() >= this.until) this.until = undefined;
    return this.until;
  }

  get isSnoozed(): boolean {
    return this.snoozedUntil !== undefined;
  }

  /** Snoozes for `minutes` (> 0) from now, replacing any snooze. */
  snoozeFor(minutes: number): void {
    if (!(minutes > 0 && Number.isFinite(minutes))) throw new RangeError(`Snooze.snoozeFor: minutes must be a positive number (got ${minutes})`);
    this.set(this.now() + minutes * 60_000);
  }

  snoozeUntilRestart(): void {
    this.set('restart');
  }

  resume(): void {
    this.set(undefined);
  }

  /** Called on every change, including the end of a timed snooze. Returns a function that unsubscribes. */
  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private set(until: SnoozeUntil | undefined): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.until = until;
    if (typeof until === 'number') {
      // setTimeout holds at most 2^31 − 1 ms; a longer snooze re-arms when that fires.
      const arm = () => {
        const left = until - this.now();
        if (left <= 0) {
          this.timer = undefined;
          this.until = undefined;
          this.fire();
          return;
        }
        this.timer = setTimeout(arm, Math.min(left, 2 ** 31 - 1));
        this.timer.unref?.();
      };
      arm();
      if (this.until === undefined) return; // already over (and announced)
    }
    this.fire();
  }

  private fire(): void {
    for (const l of [...this.listeners]) l();
  }
}
