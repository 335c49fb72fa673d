// The training worker: runs a training run (runtime/training/pipeline.ts) in a worker thread or a child
// process (training/worker-channel.ts), because onnxruntime's `run` blocks the thread that calls it. One
// 'start' message with the request; what the run does goes back as messages, phase by phase; a 'cancel'
// message stops it between steps (and up to a save's commit).
//
// The worker ends itself: it releases its sessions, posts the outcome, and closes its port, so the parent
// never has to terminate it while onnxruntime is in native code (terminating a thread in the middle of a
// session's creation aborts the whole process).

import { TrainingRefused } from '../../core/pipeline/run-plan.js';
import { lowerOwnProcessPriority, lowerThreadPriority } from '../../io/thread-priority.js';
import { runPipeline } from '../training/pipeline.js';
import type { ParentToWorker, RunOutput, TrainingRequest, WorkerToParent } from '../training/training-protocol.js';
import { workerPort } from '../training/worker-channel.js';

/** The parent's end: a worker thread's port, or a child process's IPC channel (worker-channel.ts). */
const port = workerPort<WorkerToParent, ParentToWorker>();
const abort = new AbortController();
let started = false;

function post(m: WorkerToParent, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

/** Posts `m` and resolves once it is on its way (a child process's channel writes asynchronously). */
async function flushed(m: WorkerToParent, transfer: ArrayBuffer[] = []): Promise<void> {
  post(m, transfer);
  await port.flushed();
}

function run(request: TrainingRequest): Promise<RunOutput> {
  // Before anything starts threads of its own (onnxruntime's inherit the priority).
  if (request.background) {
    if (port.inChildProcess) lowerOwnProcessPriority();
    else lowerThreadPriority();
  }
  return runPipeline(request, {
    signal: abort.signal,
    reading: (progress) => post({ type: 'reading', progress }),
    // Each phase's report reaches the parent before the next phase holds this thread.
    read: (read) => flushed({ type: 'read', read }),
    planned: (planned) => flushed({ type: 'planned', planned }),
    // Before the network's training holds this thread: the parent serves this model meanwhile.
    companion: (ngram) => flushed({ type: 'ngram', ngram }, 'bytes' in ngram ? [ngram.bytes.buffer as ArrayBuffer] : []),
    event: (event) => post({ type: 'event', event }),
    saving: () => post({ type: 'saving' }),
  });
}

/** Ends the run: the outcome to the parent, then the port closed (the worker ends by itself). */
function settle(outcome: Promise<RunOutput>): void {
  outcome
    .then(
      (result) => post({ type: 'done', result }, 'params' in result ? [result.params.buffer as ArrayBuffer] : []),
      (e: unknown) =>
        post({
          type: 'error',
          message: e instanceof Error ? e.message : String(e),
          cancelled: abort.signal.aborted,
          refused: e instanceof TrainingRefused,
        }),
    )
    .finally(() => port.close());
}

port.onMessage((m) => {
  if (m.type === 'cancel') abort.abort();
  else if (!started) {
    started = true;
    settle(run(m.request));
  }
});
