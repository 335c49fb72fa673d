// The ONNX training step, run in a real onnxruntime session, against the float64 reference (which is
// itself checked against finite differences) on random weights, states, batches and dropout masks, for
// every cell type, depth, tying, dropout and optimizer.
//
// Error measure, per tensor: max|onnx − ref| / max|ref| (float32 arithmetic against float64), on the
// gradients, the loss, the norm, the carried state and the optimizer state. Updated parameters are
// compared through their change (new − old), so that an error in the update is not hidden by a large
// weight; that change is known only to the float32 rounding of the new weight, which the bound allows.

import assert from 'node:assert/strict';
import test from 'node:test';
import { trainGraphNames, trainStepGraph } from '../../../src/core/graphs/train-step-graph.js';
import { dropoutMaskWidths, parameterLayout, type CellType, type ModelConfig, type OptimizerType } from '../../../src/core/model/model-config.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import { referenceForward, referenceLossAndGradients, referenceStep } from '../../support/reference-model.js';
import type { StepInput } from '../../../src/core/train/train-step.js';
import { createSession, floatData, floatTensor, idsTensor, ort, scalarTensor } from '../../../src/runtime/onnx/ort-session.js';

const TOLERANCE = 1e-4;

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

function randomInput(cfg: ModelConfig, opts: { T: number; B: number; dropout: boolean; optimizer: OptimizerType; seed: number }): StepInput<Float64Array> {
  const rand = mulberry32(opts.seed);
  const u = (s: number) => (rand() * 2 - 1) * s;
  const n = parameterLayout(cfg).reduce((k, p) => k + p.size, 0);
  const LBH = cfg.layers * opts.B * cfg.hidden;
  const input: StepInput<Float64Array> = {
    params: Float64Array.from({ length: n }, () => u(0.5)),
    tokens: Int32Array.from({ length: (opts.T + 1) * opts.B }, () => Math.floor(rand() * cfg.vocab)),
    T: opts.T,
    B: opts.B,
    h0: Float64Array.from({ length: LBH }, () => u(0.8)),
    optimizer: opts.optimizer,
    lr: opts.optimizer === 'sgd' ? 1 : 0.01,
    clip: 0.3, // some configurations clip, some do not: their gradient norms straddle it
    step: 3,
  };
  if (cfg.cell === 'lstm') input.c0 = Float64Array.from({ length: LBH }, () => u(0.8));
  if (opts.optimizer === 'adam') {
    input.adamM = Float64Array.from({ length: n }, () => u(0.01));
    input.adamV = Float64Array.from({ length: n }, () => rand() * 1e-4);
  }
  if (opts.dropout) {
    input.masks = dropoutMaskWidths(cfg).map((w) => Float64Array.from({ length: opts.T * opts.B * w }, () => (rand() < 0.7 ? 1 / 0.7 : 0)));
  }
  return input;
}

async function onnxStep(cfg: ModelConfig, input: StepInput<Float64Array>, exposeLogProbs = false) {
  const opts = { optimizer: input.optimizer, dropout: !!input.masks, T: input.T, exposeLogProbs, exposeGradients: true, sampled: !!input.sampled };
  const session = await createSession(trainStepGraph(cfg, opts), { threads: 1 });
  const names = trainGraphNames(cfg, opts);
  const layout = parameterLayout(cfg);
  const f32 = (a: Float64Array) => Float32Array.from(a);
  const feeds: Record<string, ort.Tensor> = {};
  layout.forEach((p, i) => {
    feeds[p.name] = floatTensor(f32(input.params.subarray(p.offset, p.offset + p.size)), p.shape);
    if (input.adamM) {
      feeds[names.adamM[i]!] = floatTensor(f32(input.adamM.subarray(p.offset, p.offset + p.size)), p.shape);
      feeds[names.adamV[i]!] = floatTensor(f32(input.adamV!.subarray(p.offset, p.offset + p.size)), p.shape);
    }
  });
  if (input.adamM) feeds['adam.step'] = scalarTensor(input.step);
  feeds.tokens = idsTensor(input.tokens, [input.T + 1, input.B]);
  const dims = [cfg.layers, input.B, cfg.hidden];
  feeds.h0 = floatTensor(f32(input.h0), dims);
  if (input.c0) feeds.c0 = floatTensor(f32(input.c0), dims);
  feeds.lr = scalarTensor(input.lr);
  feeds.clip = scalarTensor(input.clip);
  input.masks?.forEach((m, k) => (feeds[names.masks[k]!] = floatTensor(f32(m), [input.T, input.B, m.length / (input.T * input.B)])));
  if (input.sampled) {
    feeds.samples = idsTensor(input.sampled.ids, [input.sampled.ids.length]);
    feeds.sample_logq = floatTensor(Float32Array.from(input.sampled.logQ), [input.sampled.ids.length]);
  }
  const out = await session.run(feeds);
  await session.release();
  const gather = (list: string[]) => {
    const flat = new Float64Array(input.params.length);
    layout.forEach((p, i) => {
      if (list === names.newParams && names.sparseEmbedding && p.name === 'embedding') {
        // Sparse update: the old embedding with the returned rows written in.
        const E = cfg.embed;
        flat.set(input.params.subarray(p.offset, p.offset + p.size), p.offset);
        const ids = out['new.embedding.ids']!.data as BigInt64Array;
        const rows = floatData(out['new.embedding.rows'], 'rows');
        assert.deepEqual([...ids].map(Number), [...new Set(input.tokens.subarray(0, input.T * input.B))].sort((a, b) => a - b));
        ids.forEach((id, u) => flat.set(rows.subarray(u * E, (u + 1) * E), p.offset + Number(id) * E));
      } else {
        flat.set(floatData(out[list[i]!], list[i]!), p.offset);
      }
    });
    return flat;
  };
  return {
    params: gather(names.newParams),
    grads: gather(layout.map((p) => `grad.${p.name}`)),
    adamM: input.adamM ? gather(names.newAdamM) : undefined,
    adamV: input.adamV ? gather(names.newAdamV) : undefined,
    loss: floatData(out.loss, 'loss')[0]!,
    gradNorm: floatData(out.grad_norm, 'grad_norm')[0]!,
    hT: floatData(out.hT, 'hT'),
    cT: input.c0 ? floatData(out.cT, 'cT') : undefined,
    logProbs: exposeLogProbs ? floatData(out.log_probs, 'log_probs') : undefined,
  };
}

const delta = (a: Float64Array, b: Float64Array) => a.map((v, i) => v - b[i]!);
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

/** Error of an update against the reference, net of float32's rounding of the new weights. */
function updateErr(newGot: Float64Array, newRef: Float64Array, old: Float64Array): number {
  const dRef = delta(newRef, old);
  const rounding = 2 * 2 ** -24 * maxAbs(newRef);
  const diff = maxAbs(delta(newGot, newRef));
  return Math.max(0, diff - rounding) / maxAbs(dRef);
}

const cases: { cell: CellType; layers: number; tied: boolean; dropout: boolean; optimizer: OptimizerType }[] = [];
for (const cell of ['lstm', 'rnn'] as const)
  for (const layers of [1, 2, 3])
    for (const tied of [false, true])
      for (const dropout of [false, true])
        for (const optimizer of ['sgd', 'adam'] as const) cases.push({ cell, layers, tied, dropout, optimizer });

let seed = 1;
/** The ONNX step against the reference step on `input`: loss, norm, state, every gradient and update. */
async function compareStep(t: { diagnostic: (m: string) => void }, cfg: ModelConfig, input: StepInput<Float64Array>): Promise<void> {
  const ref = referenceStep(cfg, input);
  const refGrads = referenceLossAndGradients(cfg, input).grads;
  const got = await onnxStep(cfg, input);
  const errors: Record<string, number> = {
    loss: Math.abs(got.loss - ref.loss) / Math.abs(ref.loss),
    grad_norm: Math.abs(got.gradNorm - ref.gradNorm) / ref.gradNorm,
    hT: relErr(got.hT, ref.hT),
  };
  if (ref.cT) errors.cT = relErr(got.cT!, ref.cT);
  for (const p of parameterLayout(cfg)) {
    const sl = (a: Float64Array) => a.subarray(p.offset, p.offset + p.size);
    errors[`d${p.name}`] = relErr(sl(got.grads), sl(refGrads));
    errors[`Δ${p.name}`] = updateErr(sl(got.params), sl(ref.params), sl(input.params));
    if (ref.adamM) {
      errors[`m.${p.name}`] = relErr(sl(got.adamM!), sl(ref.adamM));
      errors[`v.${p.name}`] = relErr(sl(got.adamV!), sl(ref.adamV!));
    }
  }
  const worstGrad = Math.max(...Object.entries(errors).filter(([k]) => k.startsWith('d')).map(([, e]) => e));
  const worst = Math.max(...Object.values(errors));
  t.diagnostic(`grad norm ${ref.gradNorm.toFixed(4)} (clip 0.3); max relative error: gradients ${worstGrad.toExponential(2)}, all ${worst.toExponential(2)}`);
  for (const [k, e] of Object.entries(errors)) assert.ok(e <= TOLERANCE, `${k}: relative error ${e.toExponential(3)} > ${TOLERANCE}`);
}

for (const c of cases) {
  const name = `${c.cell} ${c.layers} layer(s)${c.tied ? ' tied' : ''}${c.dropout ? ' dropout' : ''} ${c.optimizer}`;
  const s = seed++;
  test(`ONNX training step matches the reference: ${name}`, async (t) => {
    const cfg: ModelConfig = { cell: c.cell, layers: c.layers, vocab: 13, embed: c.tied ? 6 : 5, hidden: 6, tied: c.tied };
    await compareStep(t, cfg, randomInput(cfg, { T: 4, B: 3, dropout: c.dropout, optimizer: c.optimizer, seed: s }));
  });
}

const sampledCases: { cell: CellType; layers: number; tied: boolean; dropout: boolean; optimizer: OptimizerType }[] = [
  { cell: 'lstm', layers: 1, tied: true, dropout: true, optimizer: 'adam' },
  { cell: 'lstm', layers: 2, tied: false, dropout: false, optimizer: 'sgd' },
  { cell: 'rnn', layers: 2, tied: true, dropout: false, optimizer: 'sgd' },
  { cell: 'lstm', layers: 2, tied: false, dropout: true, optimizer: 'adam' },
];
for (const c of sampledCases) {
  const name = `${c.cell} ${c.layers} layer(s)${c.tied ? ' tied' : ''}${c.dropout ? ' dropout' : ''} ${c.optimizer}`;
  test(`ONNX training step with a sampled softmax matches the reference: ${name}`, async (t) => {
    const cfg: ModelConfig = { cell: c.cell, layers: c.layers, vocab: 13, embed: c.tied ? 6 : 5, hidden: 6, tied: c.tied };
    const input = randomInput(cfg, { T: 4, B: 3, dropout: c.dropout, optimizer: c.optimizer, seed: 500 + c.layers });
    // 5 of the 13 words, some of them targets (hits are masked), with unequal log Q.
    input.sampled = { ids: Int32Array.from([11, 3, 0, 7, input.tokens[3 * 1 + 1]!].filter((v, i, a) => a.indexOf(v) === i)), logQ: new Float64Array(0) };
    input.sampled.logQ = Float64Array.from(input.sampled.ids, (_, k) => -0.4 * k);
    await compareStep(t, cfg, input);
  });
}

test('a shorter window (the last of an epoch) gets its own graph and the same math', async () => {
  const cfg: ModelConfig = { cell: 'lstm', layers: 2, vocab: 9, embed: 4, hidden: 5, tied: false };
  for (const T of [1, 2, 7]) {
    const input = randomInput(cfg, { T, B: 2, dropout: false, optimizer: 'sgd', seed: 100 + T });
    const ref = referenceStep(cfg, input);
    const got = await onnxStep(cfg, input);
    assert.ok(Math.abs(got.loss - ref.loss) / ref.loss < TOLERANCE);
    assert.ok(updateErr(got.params, ref.params, input.params) < TOLERANCE, `T=${T}`);
  }
});

test('clipping is active when the gradient norm exceeds the bound, and the update shrinks accordingly', async () => {
  const cfg: ModelConfig = { cell: 'rnn', layers: 1, vocab: 7, embed: 4, hidden: 4, tied: true };
  const input = randomInput(cfg, { T: 3, B: 2, dropout: false, optimizer: 'sgd', seed: 77 });
  const free = await onnxStep(cfg, { ...input, clip: Infinity });
  const clipped = await onnxStep(cfg, { ...input, clip: free.gradNorm / 4 });
  const norm = (a: Float64Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
  const ratio = norm(delta(clipped.params, input.params)) / norm(delta(free.params, input.params));
  assert.ok(Math.abs(ratio - 0.25) < 1e-4, `update ratio ${ratio}`);
});

test("the training graph's forward log-probabilities match the reference forward", async () => {
  const cfg: ModelConfig = { cell: 'lstm', layers: 2, vocab: 11, embed: 5, hidden: 5, tied: true };
  const input = randomInput(cfg, { T: 5, B: 2, dropout: false, optimizer: 'sgd', seed: 5 });
  const got = await onnxStep(cfg, input, true);
  const ref = referenceForward(cfg, input.params, input.tokens, input.T, input.B, input.h0, input.c0);
  assert.ok(relErr(got.logProbs!, ref.logProbs) < TOLERANCE);
});
