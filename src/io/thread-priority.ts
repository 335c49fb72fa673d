// Background work that gives way: the training worker lowers its own thread's scheduling priority, so that
// on a busy machine the editor (the extension host's thread, the window) gets the cores first and training
// takes what is left. On a 2-core machine, training, the browser window and the server kept ~10 threads
// runnable while a user typed, and the extension host's thread waited up to 200 ms for a core.
//
// A worker thread can be lowered on Linux only: there a thread has its own nice value (setpriority with a
// thread id), inherited by the threads it starts later (onnxruntime's). Elsewhere priority is per process,
// which would slow the editor too: nothing is changed. A worker in a child process can be lowered anywhere.

import { readdirSync, readlinkSync } from 'node:fs';
import * as os from 'node:os';

/** The nice value training runs at: a tenth of a normal thread's share of a contended core. */
export const BACKGROUND_NICE = 10;

/**
 * The nice value of the n-gram server (runtime/ngram-server.ts): a third of a normal thread's share, so that
 * the extension host's thread wins a contended core from it (the host waited 57–93 ms for one, with no
 * work of its own, when the server started serving as the user typed), while it still comes before training.
 */
export const SERVING_NICE = 5;

/**
 * Lowers the calling thread's priority to `nice` (never raises it). Returns the thread id changed, or
 * undefined where it cannot (not Linux, no /proc, not permitted).
 */
export function lowerThreadPriority(nice = BACKGROUND_NICE): number | undefined {
  if (process.platform !== 'linux') return undefined;
  return lowerLinuxThread(nice);
}

/**
 * Lowers the priority of this whole process, when it is one of its own (the training worker or the n-gram
 * server as a child process): on Linux each of its threads' (V8's helper threads, started with the process,
 * included: their garbage collection competed with the editor at the normal priority; threads started later
 * inherit it), elsewhere the process's. Returns false where it cannot.
 */
export function lowerOwnProcessPriority(nice = BACKGROUND_NICE): boolean {
  if (process.platform === 'linux') {
    const main = lowerLinuxThread(nice);
    try {
      for (const tid of readdirSync('/proc/self/task').map(Number)) {
        try {
          if (os.getPriority(tid) < nice) os.setPriority(tid, nice);
        } catch {
          // ended meanwhile, or not permitted
        }
      }
    } catch {
      // no /proc: the main thread's change stands
    }
    return main !== undefined;
  }
  try {
    if (os.getPriority() < nice) os.setPriority(nice);
    return true;
  } catch {
    return false;
  }
}

function lowerLinuxThread(nice: number): number | undefined {
  try {
    // "/proc/thread-self" → "<pid>/task/<tid>"
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return undefined;
    if (os.getPriority(tid) < nice) os.setPriority(tid, nice);
    return tid;
  } catch {
    return undefined;
  }
}
