// The training worker: runs the training loop on the ONNX training graph in a worker thread or a child
// process (worker-channel.ts), because onnxruntime's `run` blocks the thread that calls it. Progress goes
// to the parent as messages; a 'cancel' message stops the loop between steps. When asked, it first trains
// the n-gram companion (seconds) and posts it, so that the caller can serve it while the LSTM trains.
// Given texts instead of ids ('prepare'), it tokenises them and builds the vocabulary, posts it
// ('prepared'), and trains on the plan the parent answers with ('plan'). Given workspace folders ('read'),
// it reads them first (io/workspace-files.ts), posting its progress and then what it read.
//
// Asked to (the plan's `save`), it saves the model it trained itself, atomically, with the vocabulary it
// built and the n-gram companion from its hand-over file: the editor then never holds the model's bytes.
//
// The worker ends itself: it releases its sessions, posts the outcome, and closes its port, so the
// parent never has to terminate it while onnxruntime is in native code (terminating a thread in the
// middle of a session's creation aborts the whole process).

import { pacer } from '../../core/support/event-loop.js';
import { initialParameters } from '../../core/model/model-config.js';
import { cachedFlagsOf } from '../../core/predict/cache-model.js';
import { recountCompanion, trainCompanion, type CompanionFigures } from '../../core/ngram/companion.js';
import type { KneserNey } from '../../core/ngram/kneser-ney.js';
import { mulberry32 } from '../../core/support/random.js';
import { perplexity, train, validateTrainOptions } from '../../core/train/trainer.js';
import { capTokens, countTextTokens, encodeTexts } from '../../core/text/text-encoding.js';
import { Vocabulary } from '../../core/text/vocabulary.js';
import { calibrationPieces, MIN_FILES, MIN_SHOWN, type CalibrationPiece } from '../../core/completion/threshold-calibration.js';
import type { TokenizerMode } from '../../core/text/tokenizer.js';
import { splitByFile } from '../../core/corpus/file-split.js';
import { exportTrainedModel } from '../../io/export-model.js';
import { readWorkspaceFolders, scanFigures } from '../../io/workspace-files.js';
import { writeHandover } from '../../io/handover-file.js';
import { lowerOwnProcessPriority, lowerThreadPriority } from '../../io/thread-priority.js';
import { calibrateServedThreshold, fitServedMixture } from '../training/mixture-fit.js';
import { TrainingRunner } from '../training/training-runner.js';
import { workerPort } from '../training/worker-channel.js';
import type { CompanionHandover, CompanionOutput, FoldersInput, ParentToWorker, PreparedTexts, SavedRunOutput, SavePlan, TextsInput, TrainJobInput, TrainJobOutput, WorkerToParent } from '../training/training-protocol.js';

/** The parent's end: a worker thread's port, or a child process's IPC channel (worker-channel.ts). */
const port = workerPort<WorkerToParent, ParentToWorker>();
const abort = new AbortController();

/** A model to save once trained: the plan's, with the vocabulary built here. */
type Save = SavePlan & { vocab: Vocabulary };

async function run(input: TrainJobInput, save?: Save): Promise<TrainJobOutput | SavedRunOutput> {
  const { cfg, options } = input;
  validateTrainOptions(options);
  let companion: CompanionOutput | CompanionHandover | undefined;
  let ngramModel: KneserNey | undefined;
  let ngramFigures: CompanionFigures | undefined;
  if (input.ngram) {
    const { model, figures } = trainCompanion(input.train, input.valid, input.ngram);
    ngramModel = model;
    ngramFigures = figures;
    const bytes = model.toBytes();
    if (input.ngram.handoverFile) {
      writeHandover(input.ngram.handoverFile, bytes);
      companion = { file: input.ngram.handoverFile, figures };
      port.postMessage({ type: 'ngram', ngram: companion } satisfies WorkerToParent);
    } else {
      // Posted bytes are transferred: the save, if any, keeps its own.
      if (save) companion = { bytes: bytes.slice(), figures };
      port.postMessage({ type: 'ngram', ngram: { bytes, figures } } satisfies WorkerToParent, [bytes.buffer as ArrayBuffer]);
    }
    // Before the network's training holds this thread: the parent serves this model meanwhile.
    await port.flushed();
    abort.signal.throwIfAborted();
  }
  const params = input.initialParams ?? initialParameters(cfg, mulberry32(options.seed));
  const runner = await TrainingRunner.create(
    cfg,
    { optimizer: options.optimizer, dropout: options.dropout > 0, bptt: options.bptt, threads: input.threads, sampled: !!options.sampled && options.epochs > options.sampled.fullEpochs },
    params,
  );
  try {
    abort.signal.throwIfAborted();
    const result = await train(runner, { train: input.train, valid: input.valid }, options, {
      signal: abort.signal,
      onEvent: (event) => port.postMessage({ type: 'event', event } satisfies WorkerToParent),
    });
    let testPpl: number | undefined;
    if (input.test && input.test.length >= 2) {
      runner.setParams(result.params);
      testPpl = await perplexity(runner, input.test, options.evalBatch, options.evalBptt, abort.signal);
    }
    abort.signal.throwIfAborted();
    // The training session's memory goes before the fit's scoring session comes.
    await runner.release();
    if (save) port.postMessage({ type: 'saving' } satisfies WorkerToParent);
    // A mixture that cannot be fitted costs the run nothing but the mixture: the network is kept.
    let mixture: TrainJobOutput['mixture'];
    let mixtureProblem: string | undefined;
    if (ngramModel && input.ngram && input.mixture) {
      try {
        mixture = await fitServedMixture({
          cfg, params: result.params, ngram: ngramModel, cached: input.mixture.cached, startId: input.ngram.startId, valid: input.valid, validSizes: input.ngram.validSizes, threads: input.threads, signal: abort.signal,
        });
      } catch (e) {
        abort.signal.throwIfAborted();
        mixtureProblem = (e as Error).message;
      }
    }
    // Likewise its completion threshold: without one, the default applies.
    let completion: TrainJobOutput['completion'];
    let completionProblem: string | undefined;
    if (ngramModel && mixture && input.mixture && input.calibration) {
      try {
        const { pieces, vocab, mode } = input.calibration;
        completion = await calibrateServedThreshold({
          cfg, params: result.params, ngram: ngramModel, cached: input.mixture.cached, spec: mixture, vocab: Vocabulary.fromJSON(vocab), mode, pieces, threads: input.threads, signal: abort.signal,
        });
        if (!completion) completionProblem = `too little validation text to choose one on (at least ${MIN_FILES} files and ${MIN_SHOWN} suggestions)`;
      } catch (e) {
        abort.signal.throwIfAborted();
        completionProblem = (e as Error).message;
      }
    }
    // The validation files have served: the companion that is saved counts them too (in the hand-over
    // file, when it came as one).
    let recounted: CompanionOutput | CompanionHandover | undefined;
    if (ngramModel && ngramFigures && input.ngram && mixture) {
      const { model, figures } = recountCompanion(input.train, input.valid, input.ngram, ngramFigures);
      const bytes = model.toBytes();
      if (companion && 'file' in companion) writeHandover(companion.file, bytes);
      recounted = companion && 'file' in companion ? { file: companion.file, figures } : { bytes, figures };
      companion = recounted;
      abort.signal.throwIfAborted();
    }
    const output: TrainJobOutput = {
      ...result,
      ...(recounted ? { recounted } : {}),
      ...(testPpl === undefined ? {} : { testPpl }),
      ...(mixture ? { mixture } : {}),
      ...(mixtureProblem ? { mixtureProblem } : {}),
      ...(completion ? { completion } : {}),
      ...(completionProblem ? { completionProblem } : {}),
    };
    if (!save) return output;
    // A cancel from here on is heard up to the save's commit (the previous model then stays); after it, the
    // new model is saved and the run has succeeded.
    await exportTrainedModel(save.dir, { cfg, vocab: save.vocab, tokenizer: save.tokenizer, precision: save.precision }, { ...output, ...(companion ? { ngram: companion } : {}) }, save.about, {
      signal: abort.signal,
    });
    const { params: _saved, recounted: _bytes, ...figures } = output;
    return { ...figures, saved: { dir: save.dir } };
  } finally {
    await runner.release();
  }
}

/** Prepared texts, between `prepared` and the caller's plan (with the validation texts the threshold is chosen on). */
let prepared: { vocab: Vocabulary; mode: TokenizerMode; train: Int32Array; valid: Int32Array; trainSizes: number[]; validSizes: number[]; calibrationPieces: CalibrationPiece[] } | undefined;

/** Decodes, counts, builds the vocabulary and encodes: what Train on Workspace did on the editor's thread. */
async function prepare(texts: TextsInput): Promise<PreparedTexts> {
  const decoder = new TextDecoder('utf-8');
  const decode = (lengths: number[], from: number): string[] => {
    let at = from;
    return lengths.map((n) => decoder.decode(texts.bytes.subarray(at, (at += n))));
  };
  const trainBytes = texts.trainLengths.reduce((a, b) => a + b, 0);
  return prepareTexts(decode(texts.trainLengths, 0), decode(texts.validLengths, trainBytes), texts);
}

/** Reading progress posted at most this often. */
const READING_PROGRESS_MS = 200;

/**
 * Reads the workspace's folders (what Train on Workspace did through VS Code on the editor's thread),
 * posts what it read ('read'), splits the files and prepares them.
 */
async function readAndPrepare(input: FoldersInput): Promise<PreparedTexts> {
  let lastPosted = performance.now();
  const scan = await readWorkspaceFolders(input.folders, {
    ...input.limits,
    signal: abort.signal,
    onProgress: ({ taken, skipped, totalBytes }) => {
      const now = performance.now();
      if (now - lastPosted < READING_PROGRESS_MS) return;
      lastPosted = now;
      port.postMessage({ type: 'reading', progress: { taken, skipped, totalBytes } } satisfies WorkerToParent);
    },
  });
  port.postMessage({ type: 'read', scan: scanFigures(scan) } satisfies WorkerToParent);
  // (The caller refuses such a workspace with the scan's report as soon as it has it.)
  if (scan.files.length < 2) throw new Error(`found ${scan.files.length} text files; at least two are needed`);
  const { train, valid } = splitByFile(scan.files, input.validFraction);
  scan.files.length = 0;
  return prepareTexts(
    train.map((f) => f.text),
    valid.map((f) => f.text),
    input,
  );
}

async function prepareTexts(trainTexts: string[], validTexts: string[], texts: Omit<TextsInput, 'bytes' | 'trainLengths' | 'validLengths'>): Promise<PreparedTexts> {
  // Breaks for the worker's event loop, so that a 'cancel' message is heard during the passes.
  const pace = pacer(100);
  const enc = {
    mode: texts.tokenizer,
    between: async () => {
      await pace();
      abort.signal.throwIfAborted();
    },
  };
  const vocab = Vocabulary.build(await countTextTokens(trainTexts, enc), texts.vocab);
  const train = await encodeTexts(trainTexts, vocab, enc);
  const valid = capTokens(await encodeTexts(validTexts, vocab, enc), texts.maxValidTokens);
  prepared = { vocab, mode: texts.tokenizer, train: train.ids, valid: valid.ids, trainSizes: train.sizes, validSizes: valid.sizes, calibrationPieces: calibrationPieces(validTexts) };
  return { vocab: vocab.toJSONWithCounts(), trainTokens: train.ids.length, validTokens: valid.ids.length };
}

/** Ends the run: the outcome to the parent, then the port closed (the worker ends by itself). */
function settle(outcome: Promise<TrainJobOutput | SavedRunOutput>): void {
  outcome
    .then(
      (result) => port.postMessage({ type: 'done', result } satisfies WorkerToParent, 'params' in result ? [result.params.buffer as ArrayBuffer] : []),
      (e: unknown) =>
        port.postMessage({
          type: 'error',
          message: e instanceof Error ? e.message : String(e),
          cancelled: abort.signal.aborted,
        } satisfies WorkerToParent),
    )
    .finally(() => port.close());
}

port.onMessage((m) => {
  if (m.type === 'cancel') {
    abort.abort();
    // Cancelled while waiting for the plan: nothing else would end the run.
    if (prepared) settle(Promise.reject(new Error('cancelled')));
    prepared = undefined;
    return;
  }
  // Before anything starts threads of its own (onnxruntime's inherit the priority).
  if ((m.type === 'prepare' || m.type === 'read' || m.type === 'start') && m.options?.background) {
    if (port.inChildProcess) lowerOwnProcessPriority();
    else lowerThreadPriority();
  }
  if (m.type === 'prepare' || m.type === 'read') {
    (m.type === 'prepare' ? prepare(m.texts) : readAndPrepare(m.folders)).then(
      (p) => port.postMessage({ type: 'prepared', prepared: p } satisfies WorkerToParent),
      (e: unknown) => settle(Promise.reject(e)),
    );
    return;
  }
  if (m.type === 'plan') {
    const data = prepared;
    prepared = undefined;
    if (!data) return; // cancelled meanwhile: already settled
    const { ngram, save, ...rest } = m.plan;
    settle(
      run(
        {
          ...rest,
          train: data.train,
          valid: data.valid,
          // With the companion, the mixture is fitted too, over the vocabulary built here, and its threshold chosen.
          ...(ngram
            ? {
                ngram: { ...ngram, trainSizes: data.trainSizes, validSizes: data.validSizes },
                mixture: { cached: cachedFlagsOf(data.vocab) },
                calibration: { pieces: data.calibrationPieces, vocab: data.vocab.toJSON(), mode: data.mode },
              }
            : {}),
        },
        save && { ...save, vocab: data.vocab },
      ),
    );
    return;
  }
  settle(run(m.input));
});
