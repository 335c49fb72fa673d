// The worker thread of serving-prep.ts: reads and checks a saved model, builds its serving graphs (the
// inference graph for the decoder asked for, and the scoring graph) and writes them to scratch files for
// the caller's onnxruntime to read. It runs at a background priority: the editor's thread comes first.

import { parentPort, workerData } from 'node:worker_threads';
import { inferenceGraph, parametersFromModel, quantizeDecoder, scoreGraph } from '../core/graphs/inference-graph.js';
import { parseModelMeta } from '../core/model-format.js';
import { loadModelFiles } from '../io/model-store.js';
import { removeStaleScratch, removeScratch, writeScratchModel } from '../io/scratch-files.js';
import { lowerThreadPriority, SERVING_NICE } from '../io/thread-priority.js';
import type { ServingGraphs, ServingReply, ServingRequest } from './serving-prep.js';

async function prepare(request: ServingRequest): Promise<ServingGraphs> {
  const { dir, decoder, cache, scratchDir } = request;
  removeStaleScratch(scratchDir);
  const { onnx, ngram: _bytes, ...files } = await loadModelFiles(dir, { companion: 'file' });
  const { config } = parseModelMeta(files.meta, files.dir);
  let params: Float32Array;
  try {
    params = parametersFromModel(config, onnx);
  } catch (e) {
    throw new Error(`${files.dir}: the ONNX file cannot be read as this model: ${(e as Error).message}`, { cause: e });
  }
  const quantized = decoder === 'int8' ? quantizeDecoder(config, params) : undefined;
  const inference = writeScratchModel(scratchDir, 'inference', quantized ? inferenceGraph(config, params, { decoder, quantized }) : onnx);
  try {
    const scoring = writeScratchModel(scratchDir, 'scoring', scoreGraph(config, params, { decoder, cache, ...(quantized ? { quantized } : {}) }));
    return { files, inference, scoring };
  } catch (e) {
    await removeScratch(inference);
    throw e;
  }
}

lowerThreadPriority(SERVING_NICE);
prepare(workerData as ServingRequest).then(
  (ok) => parentPort!.postMessage({ ok } satisfies ServingReply),
  (e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    const code = (err as Error & { code?: unknown }).code;
    parentPort!.postMessage({ error: { message: err.message, name: err.name, ...(typeof code === 'string' ? { code } : {}) } } satisfies ServingReply);
  },
);
