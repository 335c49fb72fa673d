// The one place that loads onnxruntime and creates its sessions, with the options every Nextword session
// shares.

import './ort-telemetry-off.js'; // first: before onnxruntime-node is loaded
import * as ort from 'onnxruntime-node';

export { ort };

export interface SessionOptions {
  /** Intra-op threads; 0 lets onnxruntime choose (all cores). */
  threads?: number;
  /**
   * Let idle pool threads spin between operators instead of sleeping. Training wants it (hundreds of small
   * operators a step, each a wake-up otherwise); the editor's inference sessions must not burn CPU, so it is
   * off by default.
   */
  spin?: boolean;
}

/** `model`: the ONNX bytes, or a file onnxruntime reads itself (none of it passes through JavaScript). */
export async function createSession(model: Uint8Array | string, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    interOpNumThreads: 1,
    extra: { session: { 'intra_op.allow_spinning': opts.spin ? '1' : '0' } },
  };
  if (opts.threads && opts.threads > 0) options.intraOpNumThreads = opts.threads;
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

export function floatTensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export function scalarTensor(v: number): ort.Tensor {
  return new ort.Tensor('float32', new Float32Array([v]), []);
}

export function int32Tensor(data: Int32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int32', data, dims);
}

/** int64 tensor from int32 ids. */
export function idsTensor(ids: Int32Array | ArrayLike<number>, dims: readonly number[]): ort.Tensor {
  const big = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) big[i] = BigInt(ids[i]!);
  return new ort.Tensor('int64', big, dims);
}

export function floatData(t: ort.Tensor | undefined, name: string): Float32Array {
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`onnxruntime returned no float tensor "${name}"`);
  return t.data;
}
