// The training worker: runs the training loop on the ONNX training graph in a worker thread, because
// onnxruntime's `run` blocks the thread that calls it. Progress goes to the parent as messages; a
// 'cancel' message stops the loop between steps. When asked, it first trains the n-gram companion
// (seconds) and posts it, so that the caller can serve it while the LSTM trains.
//
// The worker ends itself: it releases its sessions, posts the outcome, and closes its port, so the
// parent never has to terminate it while onnxruntime is in native code (terminating a thread in the
// middle of a session's creation aborts the whole process).

import { parentPort, type MessagePort } from 'node:worker_threads';
import { initialParameters } from '../core/model-config.js';
import { trainCompanion } from '../core/ngram/companion.js';
import { mulberry32 } from '../core/random.js';
import { perplexity, train, validateTrainOptions } from '../core/trainer.js';
import { TrainRunner } from './train-runner.js';
import type { ParentToWorker, TrainJobInput, TrainJobOutput, WorkerToParent } from './training-protocol.js';

if (!parentPort) throw new Error('train-worker.js must run in a worker thread');
const port: MessagePort = parentPort;
const abort = new AbortController();

async function run(input: TrainJobInput): Promise<TrainJobOutput> {
  const { cfg, options } = input;
  validateTrainOptions(options);
  if (input.ngram) {
    const { model, figures } = trainCompanion(input.train, input.valid, input.ngram);
    const bytes = model.toBytes();
    port.postMessage({ type: 'ngram', ngram: { bytes, figures } } satisfies WorkerToParent, [bytes.buffer as ArrayBuffer]);
    abort.signal.throwIfAborted();
  }
  const params = input.initialParams ?? initialParameters(cfg, mulberry32(options.seed));
  const runner = await TrainRunner.create(
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
    return { ...result, ...(testPpl === undefined ? {} : { testPpl }) };
  } finally {
    await runner.release();
  }
}

port.on('message', (m: ParentToWorker) => {
  if (m.type === 'cancel') {
    abort.abort();
    return;
  }
  run(m.input).then(
    (result) => port.postMessage({ type: 'done', result } satisfies WorkerToParent, [result.params.buffer as ArrayBuffer]),
    (e: unknown) =>
      port.postMessage({
        type: 'error',
        message: e instanceof Error ? e.message : String(e),
        cancelled: abort.signal.aborted,
      } satisfies WorkerToParent),
  ).finally(() => port.close());
});
