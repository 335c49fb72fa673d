// A model's large initializers moved to external data: the model refers to them at aligned offsets, the
// data file holds their bytes there, small ones stay inside, and onnxruntime computes the same outputs from
// the two files as from the self-contained model.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import test from 'node:test';
import { onnx } from 'onnx-proto';
import { splitExternalData } from '../../../src/core/onnx/external-data.js';
import { DType, GraphBuilder } from '../../../src/core/onnx/graph-builder.js';
import { mulberry32 } from '../../../src/core/random.js';
import { ort } from '../../../src/runtime/ort-session.js';

/** y = x·A + b + c·x: A [64, 300] (76,800 bytes) and c [64] (256 bytes), b [300] (1,200 bytes). */
function model(): { bytes: Uint8Array; a: Float32Array } {
  const rand = mulberry32(3);
  const a = Float32Array.from({ length: 64 * 300 }, () => rand() - 0.5);
  const b = Float32Array.from({ length: 300 }, () => rand());
  const c = Float32Array.from({ length: 64 }, () => rand());
  const g = new GraphBuilder('external_data');
  const x = g.input('x', DType.float, ['N', 64]);
  const xa = g.op1('MatMul', [x, g.initializer('A', a, [64, 300])]);
  const xc = g.op1('ReduceSum', [g.op1('Mul', [x, g.initializer('c', c, [64])]), g.constInt64([1])], { keepdims: 1 });
  g.output(g.op1('Add', [g.op1('Add', [xa, g.initializer('b', b, [300])]), xc]), 'y', DType.float, ['N', 300]);
  return { bytes: g.toModelBytes(), a };
}

test('initializers of 64 KiB or more move to the data file at aligned offsets; the rest stay in the model', () => {
  const { bytes, a } = model();
  const split = splitExternalData(bytes, { location: 'm.data' });
  assert.equal(split.moved, 1);
  assert.ok(split.model.length < bytes.length - a.byteLength + 200, 'the model no longer holds A, only where it is');
  const decoded = onnx.ModelProto.decode(split.model);
  const byName = new Map(decoded.graph!.initializer!.map((t) => [t.name, t]));
  const A = byName.get('A')!;
  assert.equal(A.dataLocation, onnx.TensorProto.DataLocation.EXTERNAL);
  assert.equal(A.rawData!.length, 0);
  const entries = Object.fromEntries(A.externalData!.map((e) => [e.key, e.value]));
  assert.deepEqual(entries, { location: 'm.data', offset: '0', length: String(a.byteLength) });
  assert.deepEqual(split.data.subarray(0, a.byteLength), new Uint8Array(a.buffer));
  for (const name of ['b', 'c']) assert.equal(byName.get(name)!.dataLocation, onnx.TensorProto.DataLocation.DEFAULT, `${name} stays inside`);

  // Two moved tensors: the second starts at the next multiple of the alignment.
  const both = splitExternalData(bytes, { location: 'm.data', minBytes: 1000, align: 4096 });
  assert.equal(both.moved, 2);
  const offsets = onnx.ModelProto.decode(both.model).graph!.initializer!.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
    .map((t) => Number(t.externalData!.find((e) => e.key === 'offset')!.value));
  assert.deepEqual(offsets, [0, Math.ceil(a.byteLength / 4096) * 4096]);
  assert.equal(both.data.length, offsets[1]! + 1200);

  // Nothing large: the model as it was, no data.
  const none = splitExternalData(bytes, { location: 'm.data', minBytes: 1 << 20 });
  assert.equal(none.moved, 0);
  assert.equal(none.data.length, 0);
  assert.equal(none.model, bytes);
  assert.throws(() => splitExternalData(bytes, { location: '../elsewhere.data' }), /beside the model/);
});

test('onnxruntime computes the same outputs from the model with external data as from the self-contained one', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nextword-external-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { bytes } = model();
  const split = splitExternalData(bytes, { location: 'm.data', minBytes: 1000 });
  writeFileSync(path.join(dir, 'm.data'), split.data);
  writeFileSync(path.join(dir, 'm.onnx'), split.model);
  const whole = await ort.InferenceSession.create(bytes);
  const external = await ort.InferenceSession.create(path.join(dir, 'm.onnx'));
  const rand = mulberry32(9);
  const x = new ort.Tensor('float32', Float32Array.from({ length: 3 * 64 }, () => rand() * 2 - 1), [3, 64]);
  const [a, b] = [await whole.run({ x }), await external.run({ x })];
  assert.deepEqual(b.y!.data, a.y!.data);
  assert.ok((a.y!.data as Float32Array).some((v) => v !== 0), 'it computed something');
  await whole.release();
  await external.release();
});
