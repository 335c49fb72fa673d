// The training worker: runs the training loop on the ONNX training graph in a worker thread, because
// onnxruntime's `run` blocks the thread that calls it. Progress goes to the parent as messages; a
// 'cancel' message stops the loop between steps.

import { parentPort } from 'node:worker_threads';
import { initialParameters } from '../core/model-config.js';
import { mulberry32 } from '../core/random.js';
import { perplexity, train, validateTrainOptions } from '../core/trainer.js';
import { TrainRunner } from './train-runner.js';
import type { ParentToWorker, TrainJobInput, WorkerToParent } from './training-protocol.js';

const port = parentPort;
if (!port) throw new Error('train-worker.js must run in a worker thread');
const abort = new AbortController();
const send = (m: WorkerToParent, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function run(input: TrainJobInput): Promise<void> {
  const { cfg, options } = input;
  validateTrainOptions(options);
  const params = input.initialParams ?? initialParameters(cfg, mulberry32(options.seed));
  const runner = await TrainRunner.create(
    cfg,
    { optimizer: options.optimizer, dropout: options.dropout > 0, bptt: options.bptt, threads: input.threads },
    params,
  );
  try {
    const result = await train(runner, { train: input.train, valid: input.valid }, options, {
      signal: abort.signal,
      onEvent: (event) => send({ type: 'event', event }),
    });
    let testPpl: number | undefined;
    if (input.test && input.test.length >= 2) {
      runner.setParams(result.params);
      testPpl = await perplexity(runner, input.test, options.evalBatch, options.evalBptt, abort.signal);
    }
    send({ type: 'done', result: { ...result, ...(testPpl === undefined ? {} : { testPpl }) } }, [result.params.buffer as ArrayBuffer]);
  } finally {
    await runner.release();
  }
}

port.on('message', (m: ParentToWorker) => {
  if (m.type === 'cancel') {
    abort.abort();
    return;
  }
  run(m.input).catch((e: unknown) => {
    send({ type: 'error', message: e instanceof Error ? e.message : String(e), cancelled: abort.signal.aborted });
  });
});
