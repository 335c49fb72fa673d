// A saved model's serving graphs, built on a worker thread (serving-worker.ts) rather than the caller's:
// the editor's. Reading and checking the model's files, decoding its weights, quantising the decoder and
// encoding the int8 inference graph and the scoring graph took a 10,000-word model ~100 ms of the
// extension host's thread and ~70 MB of short-lived buffers, whose collection paused it again (the switch to
// a newly trained model was the load test's worst stall). The worker writes both graphs to scratch files
// (io/scratch-files.ts) that onnxruntime then reads itself; the caller only creates the sessions.

import { Worker } from 'node:worker_threads';
import type { DecoderPrecision } from '../core/graphs/inference-graph.js';
import { ModelStoreError, type ModelFiles } from '../io/model-store.js';
import { bundledScriptPath } from './worker-channel.js';

export interface ServingRequest {
  /** The model's folder. */
  dir: string;
  decoder: DecoderPrecision;
  /** Build the scoring graph with the document cache's inputs. */
  cache: boolean;
  /** Where the graphs are written (the extension's own storage). */
  scratchDir: string;
}

export interface ServingGraphs {
  /** The model's files as read and checked (model.json and the companion's place), without the ONNX bytes. */
  files: Omit<ModelFiles, 'onnx' | 'ngram'>;
  /** Scratch files: the inference graph for `decoder`, and the scoring graph. The caller removes them once loaded. */
  inference: string;
  scoring: string;
}

/** The worker's answer. */
export type ServingReply = { ok: ServingGraphs } | { error: { message: string; name: string; code?: string } };

/**
 * Builds `request.dir`'s serving graphs on a worker thread. Fails as loadModelFiles and the graph builders
 * would (a ModelStoreError with its code for a missing or corrupt model; an error naming the folder else).
 */
export function prepareServingGraphs(request: ServingRequest): Promise<ServingGraphs> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(bundledScriptPath('serving-worker.js'), { workerData: request });
    let replied = false;
    worker.once('message', (reply: ServingReply) => {
      replied = true;
      if ('ok' in reply) return resolve(reply.ok);
      const { message, name, code } = reply.error;
      reject(name === 'ModelStoreError' && (code === 'no-model' || code === 'corrupt') ? new ModelStoreError(code, message) : new Error(message));
    });
    worker.once('error', (e) => reject(new Error(`${request.dir}: the model could not be prepared: ${e.message}`, { cause: e })));
    worker.once('exit', (code) => {
      if (!replied) reject(new Error(`${request.dir}: the thread preparing the model ended (code ${code})`));
    });
  });
}
