// The exported ONNX model, loaded by OnnxLanguageModel, against the float64 reference with the same
// parameters: log-probabilities and carried states, whole runs, runs split at any point, and inputs longer
// than one session run.
//
// Shapes: n ids, V vocabulary, E embedding, H hidden, L layers.

import test from 'node:test';
import assert from 'node:assert/strict';

import { inferenceGraph } from '../../../src/core/graphs/inference-graph.js';
import type { LanguageModel, RecurrentState } from '../../../src/core/model/language-model.js';
import { initialParameters, parameterCount, type ModelConfig } from '../../../src/core/model/model-config.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import { ReferenceLanguageModel } from '../../support/reference-model.js';
import { OnnxLanguageModel } from '../../../src/runtime/onnx/onnx-language-model.js';

type Rand = () => number;

/** Weights of scale 0.5: large enough that gates are not all near 0.5 and states differ clearly from zero. */
function randomParams(cfg: ModelConfig, rand: Rand): Float32Array {
  return Float32Array.from({ length: parameterCount(cfg) }, () => (rand() * 2 - 1) * 0.5);
}

const randomIds = (rand: Rand, V: number, n: number): Int32Array => Int32Array.from({ length: n }, () => Math.floor(rand() * V));

function randomState(cfg: ModelConfig, rand: Rand): RecurrentState {
  const n = cfg.layers * cfg.hidden;
  const h = Float32Array.from({ length: n }, () => rand() * 2 - 1);
  return cfg.cell === 'lstm' ? { h, c: Float32Array.from({ length: n }, () => rand() * 2 - 1) } : { h };
}

/** max |a − b| must stay within tol · max(1, max |b|): float32 against float64 over short sequences. */
function assertClose(actual: Float32Array, expected: Float32Array, what: string, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  assert.ok(Number.isFinite(worst) && worst <= tol * scale, `${what}: max abs difference ${worst} > ${tol} · ${scale}`);
}

function assertStateClose(actual: RecurrentState, expected: RecurrentState, what: string): void {
  assertClose(actual.h, expected.h, `${what} h`);
  if (expected.c) assertClose(actual.c!, expected.c, `${what} c`);
  else assert.equal(actual.c, undefined, `${what}: an RNN state has no c`);
}

const configs: ModelConfig[] = [
  { cell: 'lstm', layers: 1, vocab: 11, embed: 5, hidden: 7, tied: false },
  { cell: 'lstm', layers: 2, vocab: 13, embed: 6, hidden: 6, tied: true },
  { cell: 'lstm', layers: 3, vocab: 9, embed: 4, hidden: 5, tied: false },
  { cell: 'rnn', layers: 1, vocab: 10, embed: 6, hidden: 6, tied: true },
  { cell: 'rnn', layers: 2, vocab: 12, embed: 3, hidden: 8, tied: false },
  { cell: 'rnn', layers: 3, vocab: 8, embed: 5, hidden: 5, tied: true },
];

for (const [k, cfg] of configs.entries()) {
  const name = `${cfg.cell} L${cfg.layers} ${cfg.tied ? 'tied' : 'untied'}`;

  test(`${name}: log-probs and states match the reference, whole and split runs`, async () => {
    const rand = mulberry32(100 + k);
    const params = randomParams(cfg, rand);
    const reference = new ReferenceLanguageModel(cfg, params);
    const onnx = await OnnxLanguageModel.create(inferenceGraph(cfg, params), cfg);
    try {
      assert.equal(onnx.vocabSize, cfg.vocab);
      const zero = onnx.initialState();
      assert.deepEqual(zero, reference.initialState());

      const ids = randomIds(rand, cfg.vocab, 9);
      for (const from of [zero, randomState(cfg, rand)]) {
        const before = { h: from.h.slice(), c: from.c?.slice() };
        const want = await reference.run(ids, from);
        const got = await onnx.run(ids, from);
        assertClose(got.logProbs, want.logProbs, 'log-probs');
        assertStateClose(got.state, want.state, 'state');
        // Each row is a distribution.
        for (let t = 0; t < ids.length; t++) {
          let sum = 0;
          for (let v = 0; v < cfg.vocab; v++) sum += Math.exp(got.logProbs[t * cfg.vocab + v]!);
          assert.ok(Math.abs(sum - 1) < 1e-5, `row ${t} sums to ${sum}`);
        }
        // The given state is left alone.
        assert.deepEqual(from.h, before.h);
        assert.deepEqual(from.c, before.c);

        // Two runs carrying the state == one run, for every split point.
        for (let cut = 1; cut < ids.length; cut++) {
          const a = await onnx.run(ids.subarray(0, cut), from);
          const b = await onnx.run(ids.subarray(cut), a.state);
          const joined = new Float32Array(got.logProbs.length);
          joined.set(a.logProbs, 0);
          joined.set(b.logProbs, cut * cfg.vocab);
          assertClose(joined, got.logProbs, `split at ${cut}`, 1e-5);
          assertStateClose(b.state, got.state, `split at ${cut}`);
        }
      }
    } finally {
      await onnx.release();
    }
  });
}

test('long inputs are run in chunks, carrying the state, with the same result', async () => {
  const cfg: ModelConfig = { cell: 'lstm', layers: 2, vocab: 10, embed: 4, hidden: 4, tied: true };
  const rand = mulberry32(7);
  const params = randomParams(cfg, rand);
  const bytes = inferenceGraph(cfg, params);
  const reference = new ReferenceLanguageModel(cfg, params);
  const chunked = await OnnxLanguageModel.create(bytes, cfg, { chunkSize: 7 });
  const whole = await OnnxLanguageModel.create(bytes, cfg);
  try {
    // 7 divides 21; 23 leaves a short last chunk.
    for (const n of [21, 23]) {
      const ids = randomIds(rand, cfg.vocab, n);
      const want = await reference.run(ids, reference.initialState());
      const got = await chunked.run(ids, chunked.initialState());
      assert.equal(got.logProbs.length, n * cfg.vocab);
      assertClose(got.logProbs, want.logProbs, `chunked n=${n}`);
      assertStateClose(got.state, want.state, `chunked n=${n}`);
      const one = await whole.run(ids, whole.initialState());
      assertClose(got.logProbs, one.logProbs, `chunked vs whole n=${n}`, 1e-5);
    }
    // Past the default chunk of 512 ids.
    const ids = randomIds(rand, cfg.vocab, 1100);
    const want = await reference.run(ids, reference.initialState());
    const got = await whole.run(ids, whole.initialState());
    assertClose(got.logProbs, want.logProbs, 'n=1100', 1e-4);
    assertStateClose(got.state, want.state, 'n=1100');
  } finally {
    await chunked.release();
    await whole.release();
  }
});

test('concurrent runs on one session give the results of sequential ones', async () => {
  const cfg: ModelConfig = { cell: 'rnn', layers: 1, vocab: 9, embed: 4, hidden: 4, tied: false };
  const rand = mulberry32(8);
  const params = randomParams(cfg, rand);
  const model: LanguageModel = await OnnxLanguageModel.create(inferenceGraph(cfg, params), cfg);
  const reference = new ReferenceLanguageModel(cfg, params);
  try {
    const inputs = [5, 1, 12, 3].map((n) => randomIds(rand, cfg.vocab, n));
    const results = await Promise.all(inputs.map((ids) => model.run(ids, model.initialState())));
    for (const [i, ids] of inputs.entries()) {
      const want = await reference.run(ids, reference.initialState());
      assertClose(results[i]!.logProbs, want.logProbs, `run ${i}`);
    }
  } finally {
    await (model as OnnxLanguageModel).release();
  }
});

test('bad input, a mismatched configuration and use after release fail with clear errors', async () => {
  const cfg: ModelConfig = { cell: 'lstm', layers: 1, vocab: 6, embed: 3, hidden: 3, tied: true };
  const params = randomParams(cfg, mulberry32(9));
  const bytes = inferenceGraph(cfg, params);
  const model = await OnnxLanguageModel.create(bytes, cfg);
  const zero = model.initialState();
  await assert.rejects(model.run(new Int32Array(0), zero), /at least one id/);
  await assert.rejects(model.run(Int32Array.of(1, 6), zero), /ids\[1\] = 6 is outside the vocabulary \[0, 6\)/);
  await assert.rejects(model.run(Int32Array.of(-1), zero), /ids\[0\] = -1/);
  await assert.rejects(model.run(Int32Array.of(1), { h: new Float32Array(4), c: new Float32Array(3) }), /state\.h must be .* 3 values/);
  await assert.rejects(model.run(Int32Array.of(1), { h: new Float32Array(3) }), /LSTM state needs c/);

  // An LSTM file read as an RNN, or with the wrong sizes.
  await assert.rejects(OnnxLanguageModel.create(bytes, { ...cfg, cell: 'rnn' }), /does not match the configuration \(rnn\)/);
  await assert.rejects(OnnxLanguageModel.create(bytes, { ...cfg, vocab: 7 }), /"log_probs" has shape .* needs \[\*,\*,7\]/);
  await assert.rejects(OnnxLanguageModel.create(bytes, { ...cfg, embed: 4, hidden: 4 }), /"h0" has shape/);
  await assert.rejects(OnnxLanguageModel.create(new Uint8Array([1, 2, 3]), cfg), /onnxruntime could not load the model/);
  await assert.rejects(OnnxLanguageModel.create(bytes, cfg, { chunkSize: 0 }), /chunkSize must be a positive integer/);

  await model.release();
  await model.release();
  await assert.rejects(model.run(Int32Array.of(1), zero), /after release/);
});

test('advance gives the state that run gives; a graph with optional log-probabilities runs as the plain one', async () => {
  for (const cell of ['lstm', 'rnn'] as const) {
    const cfg: ModelConfig = { cell, layers: 2, vocab: 50, embed: 8, hidden: 8, tied: true };
    const params = initialParameters(cfg, mulberry32(3), 0.5);
    const ids = Int32Array.from({ length: 20 }, (_, i) => (i * 7) % 50);
    const plain = await OnnxLanguageModel.create(inferenceGraph(cfg, params), cfg, { chunkSize: 7 });
    // The decoder behind an If (what ModelSession serves): advance does not run it.
    const optional = await OnnxLanguageModel.create(inferenceGraph(cfg, params, { optionalLogProbs: true }), cfg, { chunkSize: 7 });
    const want = await plain.run(ids, plain.initialState());
    for (const lm of [plain, optional]) {
      const got = await lm.run(ids, lm.initialState());
      assert.deepEqual(got.logProbs, want.logProbs);
      const viaAdvance = await lm.advance(ids, lm.initialState());
      assert.deepEqual(viaAdvance.h, want.state.h);
      if (cell === 'lstm') assert.deepEqual(viaAdvance.c, want.state.c);
      await lm.release();
    }
  }
});
