// The machine's matrix-multiply rate as onnxruntime reaches it: one MatMul of the decoder's shape,
// timed alone. Training throughput is quoted against it.

import { DType, GraphBuilder, ops } from '../../core/graphs/graph-builder.js';
import { createSession, floatTensor } from './ort-session.js';

export async function matmulGflops(opts: { M: number; K: number; N: number; threads?: number; repeats?: number }): Promise<number> {
  const { M, K, N } = opts;
  const g = new GraphBuilder('matmul_bench');
  const a = g.input('a', DType.float, [M, K]);
  const b = g.input('b', DType.float, [K, N]);
  g.output(ops(g).matmul(a, b, 'c'), 'c', DType.float, [M, N]);
  const session = await createSession(g.toModelBytes(), { threads: opts.threads });
  const feeds = {
    a: floatTensor(Float32Array.from({ length: M * K }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5), [M, K]),
    b: floatTensor(Float32Array.from({ length: K * N }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5), [K, N]),
  };
  const times: number[] = [];
  for (let i = 0; i < (opts.repeats ?? 30) + 3; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    if (i >= 3) times.push(performance.now() - t0);
  }
  await session.release();
  times.sort((x, y) => x - y);
  const best = times[Math.floor(times.length / 2)]!;
  return (2 * M * K * N) / (best / 1000) / 1e9;
}
