// Letting the event loop run during long synchronous work on a thread that must stay responsive (the
// editor's extension host): one way to yield, and a pacer that yields only once a stretch of work has run
// long enough, so that it can be called after every small piece at no cost in between. Long work is written
// once, as a generator of steps, and run either straight through (runSteps) or with pauses (runStepsPaced).

/** Resolves after pending events have run (setImmediate; a zero timeout where there is none). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * Longest stretch of work between two yields, by default: well under a frame, and under what a user
 * notices even when a busy machine stretches it (docs/design-figures.md).
 */
export const SLICE_MS = 8;

/**
 * A function to await after each piece of work: it yields to the event loop when `maxMs` have passed since
 * the last yield (or at once with `force`), and otherwise returns at once.
 */
export function pacer(maxMs = SLICE_MS): (force?: boolean) => Promise<void> {
  let last = performance.now();
  return async (force = false) => {
    if (!force && performance.now() - last < maxMs) return;
    await yieldToEventLoop();
    last = performance.now();
  };
}

/**
 * Lets the event loop run and leaves the thread idle for `ms`: between slices of background work that is
 * not urgent (scoring a file for the status bar), so that it takes at most about half of a core and the
 * rest of the machine (garbage collection's helper threads, the window, training) is not starved by it.
 */
export function breathe(ms = BREATHE_MS): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The idle time between two slices of background work, by default. */
export const BREATHE_MS = 8;

/** Work as a sequence of steps: it yields between pieces and returns its result. */
export type Steps<T> = Generator<void, T, void>;

/** Runs `steps` to the end at once. */
export function runSteps<T>(steps: Steps<T>): T {
  for (let r = steps.next(); ; r = steps.next()) if (r.done) return r.value;
}

/** Runs `steps` to the end, awaiting `pause` after each. */
export async function runStepsPaced<T>(steps: Steps<T>, pause: () => Promise<void>): Promise<T> {
  for (let r = steps.next(); ; r = steps.next()) {
    if (r.done) return r.value;
    await pause();
  }
}
