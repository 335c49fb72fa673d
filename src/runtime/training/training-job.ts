// Starts a training run (pipeline.ts) in a worker (a thread, or a child process: worker-channel.ts) and gives
// the caller what it does as it goes, the result, and a way to cancel. Nothing of the run touches the caller's event loop but
// the messages.

import { TrainingRefused } from '../../core/pipeline/run-plan.js';
import { yieldToEventLoop } from '../../core/support/event-loop.js';
import type { TrainEvent } from '../../core/train/trainer.js';
import { removeHandover } from '../../io/handover-file.js';
import { BACKGROUND_NICE } from '../../io/thread-priority.js';
import { bundledScriptPath } from '../process/child-processes.js';
import type {
  CompanionHandover,
  CompanionOutput,
  CountedOutput,
  ParentToWorker,
  PlannedRun,
  ReadingProgress,
  ReadReport,
  TrainingRequest,
  RunOutput,
  SavedRunOutput,
  TrainJobOutput,
  WorkerToParent,
} from './training-protocol.js';
import { openWorker, type Isolation } from './worker-channel.js';

export { TrainingRefused };

export class TrainingCancelled extends Error {
  constructor() {
    super('training was cancelled');
    this.name = 'TrainingCancelled';
  }
}

/**
 * The run's outcome, with the n-gram companion when the input asked for one: its bytes, or the hand-over
 * file it is in (then the caller's to remove, once it has saved it: removeHandover).
 */
export type TrainingOutcome<R = TrainJobOutput | SavedRunOutput> = R & { ngram?: CompanionOutput | CompanionHandover };

/** `R`: what a run that succeeds gives: the trained parameters and figures, or where the worker saved them (SavedRunOutput). */
export interface TrainingJob<R extends RunOutput = TrainJobOutput | SavedRunOutput> {
  /**
   * Resolves with the trained parameters and figures, or the saved model's folder; rejects with
   * TrainingCancelled, TrainingRefused or the worker's error. A run cancelled after its save committed resolves (saved).
   */
  readonly result: Promise<TrainingOutcome<R>>;
  /** Asks the worker to stop after the current step; `result` then rejects with TrainingCancelled. */
  cancel(): void;
  /**
   * Stops the worker: cancels, waits up to `graceMs` for it to end by itself, then terminates it.
   * (Terminating a thread while onnxruntime builds a session aborts the process, so never at once.)
   */
  kill(graceMs?: number): Promise<void>;
}

/** How long a finished or cancelled worker may take to end by itself before it is terminated. */
const EXIT_GRACE_MS = 10_000;

/** The bundled worker script: next to this bundle (dist/), or the built copy when running from sources. */
export function workerScriptPath(): string {
  return bundledScriptPath('training-worker.js');
}

/** What a run tells its caller as it goes; every handler is optional. */
export interface TrainingHandlers {
  /** Reading progress, a few times a second (folders the worker walks). */
  onReading?: (p: ReadingProgress) => void;
  /** The texts are read: what was taken and skipped (and the held-out files, when asked for). */
  onRead?: (read: ReadReport) => void;
  /** The vocabulary is built and the run planned: the model, its options, the token counts. */
  onPlanned?: (planned: PlannedRun) => void;
  /**
   * The n-gram companion is counted (TrainingRequest.companion), before the network's first step: its
   * bytes, or the file it was handed over in (then removed when the run fails).
   */
  onNgram?: (ngram: CompanionOutput | CompanionHandover) => void;
  onEvent?: (e: TrainEvent) => void;
  /** The network is trained; the worker is saving the model (TrainingRequest.save). */
  onSaving?: () => void;
}

/**
 * Starts a training run in a worker: a thread (`isolation: 'thread'`, the CLI's) or a child process (the
 * editor's). A handler that throws ends the run with its error (the worker is told to stop). A request's
 * FilesSource bytes are transferred to a thread (the caller's copy becomes unusable); a child process gets
 * a copy, in pieces. Rejects with TrainingRefused when the input has too little to learn from.
 */
export function startTraining(request: TrainingRequest & { countOnly: true }, handlers?: TrainingHandlers, options?: { isolation?: Isolation }): TrainingJob<CountedOutput>;
export function startTraining(request: TrainingRequest, handlers?: TrainingHandlers, options?: { isolation?: Isolation }): TrainingJob;
export function startTraining(request: TrainingRequest, handlers: TrainingHandlers = {}, options: { isolation?: Isolation } = {}): TrainingJob<RunOutput> {
  const { source } = request;
  const transfer = source.kind === 'files' && source.bytes.byteLength > 0 ? [source.bytes.buffer as ArrayBuffer] : [];
  // A buffer handed to another run already is detached (empty): Node.js then drops the message silently.
  const broken = source.kind === 'files' && source.bytes.byteLength !== source.lengths.reduce((a, b) => a + b, 0);
  return launch({ type: 'start', request }, transfer, handlers, options.isolation, request.background, broken ? 'its buffer does not hold the files it lists (handed to another run already?)' : undefined);
}

function launch<R extends RunOutput>(
  first: ParentToWorker,
  transfer: ArrayBuffer[],
  handlers: TrainingHandlers,
  isolation: Isolation = 'thread',
  background = false,
  /** Why the first message cannot be sent, found before: the run fails with it. */
  unsendable?: string,
): TrainingJob<R> {
  const { onEvent = () => {}, onNgram = () => {}, onPlanned = () => {}, onSaving = () => {}, onReading = () => {}, onRead = () => {} } = handlers;
  const worker = openWorker<ParentToWorker, WorkerToParent>(workerScriptPath(), isolation, background ? { nice: BACKGROUND_NICE } : {});
  let cancelled = false;
  let settled = false;
  const exited = new Promise<void>((resolve) => worker.onExit(() => resolve()));
  /** Terminates the worker if it has not ended by itself within `ms`. */
  const endWithin = (ms: number) => {
    const timer = setTimeout(() => worker.terminate(), ms);
    timer.unref();
    return exited.finally(() => clearTimeout(timer));
  };
  /** Messages to the worker: a large one in pieces between turns of the event loop (a child process). */
  const send = (m: ParentToWorker, transfer?: ArrayBuffer[]) =>
    void worker.send(m, transfer, yieldToEventLoop).catch(() => undefined);
  let companion: CompanionOutput | CompanionHandover | undefined;
  /** The first message could not be sent (a buffer already handed to another run): the run fails with why. */
  let failStart: (e: Error) => void = () => {};
  const result = new Promise<TrainingOutcome<R>>((resolve, reject) => {
    /** Settles the run once: `f` resolves or rejects it (`succeeded`: it resolves it with the result). */
    const finish = (f: () => void, succeeded = false) => {
      if (settled) return;
      settled = true;
      // A failed or cancelled run's hand-over file is of no further use.
      if (!succeeded && companion && 'file' in companion) void removeHandover(companion.file);
      f();
      void endWithin(EXIT_GRACE_MS); // the worker closes its port after its last message
    };
    /** Ends the run with the caller's error (the worker is told to stop and ends by itself). */
    const refuse = (e: unknown) => {
      cancelled = true;
      send({ type: 'cancel' });
      finish(() => reject(e));
    };
    worker.onMessage((m) => {
      if (settled) {
        // Ended (refused, failed): nothing more reaches the caller, and a late hand-over file is removed.
        if (m.type === 'ngram' && 'file' in m.ngram) void removeHandover(m.ngram.file);
        return;
      }
      // The caller's handlers; an error of theirs ends the run (the worker is told to stop and ends by itself).
      try {
        if (m.type === 'reading') onReading(m.progress);
        else if (m.type === 'read') onRead(m.read);
        else if (m.type === 'planned') onPlanned(m.planned);
        else if (m.type === 'event') onEvent(m.event);
        else if (m.type === 'saving') onSaving();
      } catch (e) {
        refuse(e);
        return;
      }
      if (m.type === 'ngram') {
        // Written to a file by the worker: the caller may serve it from there (RemoteServing.openNgram) and save it
        // from there; it is removed when the run fails (else the caller removes it once saved).
        companion = m.ngram;
        try {
          onNgram(m.ngram);
        } catch (e) {
          refuse(e);
        }
      } else if (m.type === 'done') {
        // The companion to save: counted again at the end (TrainJobOutput.recounted), or the one posted.
        const { recounted, ...rest } = m.result as R & { recounted?: CompanionOutput | CompanionHandover };
        const saved = recounted ?? companion;
        const result = { ...(rest as R), ...(saved ? { ngram: saved } : {}) };
        finish(() => resolve(result), true);
      }
      else if (m.type === 'error') {
        finish(() => reject(m.cancelled || cancelled ? new TrainingCancelled() : m.refused ? new TrainingRefused(m.message) : new Error(m.message)));
      }
    });
    failStart = (e) => {
      finish(() => reject(new Error(`the training worker could not be given its input: ${e.message}`)));
      worker.terminate(); // it waits for a first message that will never come
    };
    worker.onError((e) => finish(() => reject(e)));
    worker.onExit((code) =>
      finish(() => reject(cancelled ? new TrainingCancelled() : new Error(`the training worker exited unexpectedly (code ${code})`))),
    );
  });
  if (unsendable) failStart(new Error(unsendable));
  else void worker.send(first, transfer, yieldToEventLoop).catch((e: unknown) => failStart(e instanceof Error ? e : new Error(String(e))));
  return {
    result,
    cancel() {
      cancelled = true;
      send({ type: 'cancel' });
    },
    async kill(graceMs = 5_000) {
      cancelled = true;
      send({ type: 'cancel' });
      await endWithin(graceMs);
    },
  };
}
