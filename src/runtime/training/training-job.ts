// Starts a training run in a worker (a thread, or a child process: worker-channel.ts) and gives the caller
// progress events, the result, and a way to cancel. Nothing of the run touches the caller's event loop but
// the messages.

import { yieldToEventLoop } from '../../core/support/event-loop.js';
import { removeHandover } from '../../io/handover-file.js';
import { BACKGROUND_NICE } from '../../io/thread-priority.js';
import type { TrainEvent } from '../../core/train/trainer.js';
import type { ScanFigures } from '../../io/workspace-files.js';
import type {
  CompanionHandover,
  CompanionOutput,
  ParentToWorker,
  FoldersInput,
  PreparedTexts,
  ReadingProgress,
  SavedRunOutput,
  TextsInput,
  TrainJobInput,
  TrainJobOutput,
  TrainPlan,
  WorkerOptions,
  WorkerToParent,
} from './training-protocol.js';
import { bundledScriptPath } from '../process/child-processes.js';
import { openWorker, type Isolation } from './worker-channel.js';

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
export type TrainingOutcome<R = TrainJobOutput> = R & { ngram?: CompanionOutput | CompanionHandover };

/** `R`: what a run that succeeds gives: the trained parameters and figures, or where the worker saved them (SavedRunOutput). */
export interface TrainingJob<R = TrainJobOutput> {
  /**
   * Resolves with the trained parameters and figures, or the saved model's folder; rejects with
   * TrainingCancelled or the worker's error. A run cancelled after its save committed resolves (saved).
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

/**
 * `onNgram` is called once the n-gram companion is trained (when `input.ngram` asks for one), before the
 * LSTM's first step: its bytes, or the file it was handed over in (`handoverFile`); the result carries the
 * same (TrainingOutcome), and a hand-over file is removed when the run fails.
 */
export function startTraining(
  input: TrainJobInput,
  onEvent: (e: TrainEvent) => void = () => {},
  onNgram: (ngram: CompanionOutput | CompanionHandover) => void = () => {},
): TrainingJob {
  const transfer = [input.train.buffer, input.valid.buffer, ...(input.test ? [input.test.buffer] : [])] as ArrayBuffer[];
  return launch<TrainJobOutput>({ type: 'start', input }, transfer, { onEvent, onNgram });
}

/**
 * Training on texts rather than ids: the worker tokenises them and builds the vocabulary (none of it on
 * the caller's thread), then `onPrepared` decides what to train on them (and whether the worker saves the
 * model: TrainPlan.save), or throws to end the run with its error (`result` rejects with it).
 * `texts.bytes` is transferred to a worker thread (the caller's copy becomes unusable); a child process
 * (`isolation: 'process'`) gets a copy, in pieces. `onSaving`: the worker has trained and is saving the model.
 */
export function startTrainingOnTexts(
  texts: TextsInput,
  onPrepared: (prepared: PreparedTexts) => Promise<TrainPlan> | TrainPlan,
  onEvent: (e: TrainEvent) => void = () => {},
  onNgram: (ngram: CompanionOutput | CompanionHandover) => void = () => {},
  options: WorkerOptions & { isolation?: Isolation; onSaving?: () => void } = {},
): TrainingJob<TrainJobOutput | SavedRunOutput> {
  const { isolation, onSaving, ...workerOptions } = options;
  return launch<TrainJobOutput | SavedRunOutput>({ type: 'prepare', texts, options: workerOptions }, [texts.bytes.buffer as ArrayBuffer], {
    onEvent,
    onNgram,
    onPrepared,
    ...(onSaving ? { onSaving } : {}),
  }, isolation);
}

/** What a run on folders tells its caller, besides what every run does. */
export interface FolderRunHandlers {
  /** Reading progress, a few times a second. */
  onReading?: (p: ReadingProgress) => void;
  /** The folders are read: what was taken and skipped. Throw to end the run with that error. */
  onRead: (scan: ScanFigures) => void;
  onPrepared: (prepared: PreparedTexts) => Promise<TrainPlan> | TrainPlan;
  onEvent?: (e: TrainEvent) => void;
  onNgram?: (ngram: CompanionOutput | CompanionHandover) => void;
  onSaving?: () => void;
}

/**
 * Training on workspace folders that the worker reads itself (FoldersInput), in a child process: the
 * caller's thread sees only messages, from the listing on. Otherwise as startTrainingOnTexts.
 */
export function startTrainingOnFolders(
  folders: FoldersInput,
  handlers: FolderRunHandlers,
  options: WorkerOptions & { isolation?: Isolation } = {},
): TrainingJob<TrainJobOutput | SavedRunOutput> {
  const { isolation = 'process', ...workerOptions } = options;
  return launch<TrainJobOutput | SavedRunOutput>({ type: 'read', folders, options: workerOptions }, [], handlers, isolation);
}

interface Handlers {
  onEvent?: (e: TrainEvent) => void;
  onNgram?: (ngram: CompanionOutput | CompanionHandover) => void;
  onPrepared?: (prepared: PreparedTexts) => Promise<TrainPlan> | TrainPlan;
  onSaving?: () => void;
  onReading?: (p: ReadingProgress) => void;
  onRead?: (scan: ScanFigures) => void;
}

function launch<R extends TrainJobOutput | SavedRunOutput>(
  first: ParentToWorker,
  transfer: ArrayBuffer[],
  handlers: Handlers,
  isolation: Isolation = 'thread',
): TrainingJob<R> {
  const { onEvent = () => {}, onNgram = () => {}, onPrepared, onSaving = () => {}, onReading = () => {}, onRead = () => {} } = handlers;
  const background = first.type !== 'plan' && first.type !== 'cancel' && first.options?.background;
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
  /** The first message could not be sent (arrays already handed to another run): the run fails with why. */
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
      if (m.type === 'reading') onReading(m.progress);
      else if (m.type === 'read') {
        try {
          onRead(m.scan);
        } catch (e) {
          refuse(e);
        }
      } else if (m.type === 'prepared') {
        // The caller's decision; its error ends the run (the worker is told to stop and ends by itself).
        Promise.resolve()
          .then(() => {
            if (cancelled) throw new TrainingCancelled();
            return onPrepared!(m.prepared);
          })
          .then(
            (plan) => {
              if (!cancelled) send({ type: 'plan', plan });
            },
            (e: unknown) => refuse(e),
          );
      } else if (m.type === 'event') onEvent(m.event);
      else if (m.type === 'saving') onSaving();
      else if (m.type === 'ngram') {
        // Written to a file by the worker: the caller may serve it from there (RemoteServing.openNgram) and save it
        // from there; it is removed when the run fails (else the caller removes it once saved).
        companion = m.ngram;
        onNgram(m.ngram);
      } else if (m.type === 'done') {
        // (What the first message asked for: a 'start' run never saves.)
        // The companion to save: counted again at the end (TrainJobOutput.recounted), or the one posted.
        const { recounted, ...rest } = m.result as R & { recounted?: CompanionOutput | CompanionHandover };
        const saved = recounted ?? companion;
        const result = { ...(rest as R), ...(saved ? { ngram: saved } : {}) };
        finish(() => resolve(result), true);
      }
      else finish(() => reject(m.cancelled || cancelled ? new TrainingCancelled() : new Error(m.message)));
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
  // A buffer handed to another run already is detached (empty): Node.js then drops the message silently.
  if (transfer.some((b) => b.byteLength === 0)) failStart(new Error('its arrays are empty (handed to another run already?)'));
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
