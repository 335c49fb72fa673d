// Background work that gives way: the training worker lowers its own thread's scheduling priority, so that
// on a busy machine the editor (the extension host's thread, the window) gets the cores first and training
// takes what is left (on a 2-core machine the extension host's thread otherwise waits for a core while the
// user types: docs/design-figures.md).
//
// A worker thread can be lowered on Linux only: there a thread has its own nice value (setpriority with a
// thread id), inherited by the threads it starts later (onnxruntime's). Elsewhere priority is per process,
// which would slow the editor too: nothing is changed. A worker in a child process can be lowered anywhere.
//
// Nice values only order the threads of one scheduling group. Linux with autogroups (the default where a
// kernel has them) first shares the cores between sessions, each session's processes one group: a child
// forked into the extension host's session is charged to the host's group however nice it is, and the
// host's thread then waited for the browser's group, which had had less CPU. So background children are forked into a
// session of their own (runtime/process/child-processes.ts: forkScript) and lowered as
// a group: lowerChildPriority, from the process that forks them, as soon as the child exists;
// lowerOwnProcessPriority, from the child, again.

import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';

/** The nice value training runs at: a tenth of a normal thread's share of a contended core. */
export const BACKGROUND_NICE = 10;

/**
 * The nice value of the model server (runtime/main/model-server.ts): a third of a normal thread's share, so that
 * the extension host's thread wins a contended core from it, while it still comes before training.
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
    lowerOwnAutogroup(process.pid, nice);
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

/**
 * The parent's side, for a background child process `pid`: on Linux its session's autogroup when it leads
 * a session of its own, and its main thread (the threads it starts from then on inherit it); elsewhere the
 * process. Never raises a priority; returns false where nothing could be lowered.
 */
export function lowerChildPriority(pid: number, nice: number): boolean {
  let lowered = process.platform === 'linux' && lowerOwnAutogroup(pid, nice);
  try {
    if (os.getPriority(pid) < nice) os.setPriority(pid, nice);
    lowered = true;
  } catch {
    // ended meanwhile, or not permitted
  }
  return lowered;
}

/**
 * Linux: the autogroup of `pid`'s session set to `nice`, when `pid` leads that session (else the group is
 * shared with others, the parent's own perhaps: left alone) and autogroups exist. Returns whether it is.
 */
function lowerOwnAutogroup(pid: number, nice: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command's closing parenthesis: state, ppid, pgrp, session, ...
    const session = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
    if (session !== pid) return false;
    const file = `/proc/${pid}/autogroup`;
    const current = /nice (-?\d+)/.exec(readFileSync(file, 'utf8'));
    if (current && Number(current[1]) >= nice) return true;
    writeFileSync(file, String(nice));
    return true;
  } catch {
    return false; // no autogroups (the file is missing), ended meanwhile, or not permitted
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
