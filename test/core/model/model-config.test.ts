import assert from 'node:assert/strict';
import test from 'node:test';
import {
  dropoutMaskWidths,
  initialParameters,
  parameterCount,
  parameterLayout,
  parameterViews,
  validateModelConfig,
  type ModelConfig,
} from '../../../src/core/model/model-config.js';
import { mulberry32 } from '../../../src/core/support/random.js';

const lstm: ModelConfig = { cell: 'lstm', layers: 2, vocab: 50, embed: 6, hidden: 8, tied: false };

test('the layout names every parameter once, contiguously, with the shapes of the model', () => {
  const layout = parameterLayout(lstm);
  assert.deepEqual(
    layout.map((p) => [p.name, p.shape]),
    [
      ['embedding', [50, 6]],
      ['layer0.W', [32, 6]], ['layer0.R', [32, 8]], ['layer0.b', [32]],
      ['layer1.W', [32, 8]], ['layer1.R', [32, 8]], ['layer1.b', [32]],
      ['decoder.W', [8, 50]], // untied decoder stored [H, V]
      ['decoder.b', [50]],
    ],
  );
  let offset = 0;
  for (const p of layout) {
    assert.equal(p.offset, offset);
    offset += p.size;
  }
  assert.equal(parameterCount(lstm), 50 * 6 + 32 * 6 + 32 * 8 + 32 + 32 * 8 + 32 * 8 + 32 + 8 * 50 + 50);
  const tied = parameterLayout({ ...lstm, embed: 8, tied: true }).map((p) => p.name);
  assert.ok(!tied.includes('decoder.W'));
  assert.deepEqual(parameterLayout({ ...lstm, cell: 'rnn' }).find((p) => p.name === 'layer0.W')!.shape, [8, 6]);
  assert.deepEqual(dropoutMaskWidths(lstm), [6, 8, 8]);
});

test('initial weights are uniform in ±scale, biases zero except the LSTM forget gate (1)', () => {
  const flat = initialParameters(lstm, mulberry32(1), 0.1);
  const v = parameterViews(lstm, flat);
  for (const name of ['embedding', 'layer0.W', 'layer1.R', 'decoder.W']) {
    const w = v.get(name)!;
    assert.ok(w.every((x) => Math.abs(x) <= 0.1));
    assert.ok(w.some((x) => x !== 0));
  }
  const H = 8;
  for (const name of ['layer0.b', 'layer1.b']) {
    const b = v.get(name)!; // gate order i, o, f, c
    assert.deepEqual([...b.subarray(0, 2 * H)], new Array(2 * H).fill(0));
    assert.deepEqual([...b.subarray(2 * H, 3 * H)], new Array(H).fill(1));
    assert.deepEqual([...b.subarray(3 * H)], new Array(H).fill(0));
  }
  assert.ok(v.get('decoder.b')!.every((x) => x === 0));
  const rnn = { ...lstm, cell: 'rnn' as const };
  assert.ok(parameterViews(rnn, initialParameters(rnn, mulberry32(1))).get('layer0.b')!.every((x) => x === 0));
});

test('impossible configurations are refused with the reason', () => {
  assert.throws(() => validateModelConfig({ ...lstm, layers: 4 }), /layers must be 1, 2 or 3/);
  assert.throws(() => validateModelConfig({ ...lstm, tied: true }), /tied embeddings need embed = hidden/);
  assert.throws(() => validateModelConfig({ ...lstm, cell: 'gru' as never }), /cell must be/);
  assert.throws(() => validateModelConfig({ ...lstm, vocab: 1 }), /at least 2 words/);
});
