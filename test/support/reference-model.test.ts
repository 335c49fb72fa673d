// The float64 reference is the yardstick for the ONNX training graph, so it is checked here against
// expectations that do not come from it: finite differences of its own loss for every gradient, a naive
// second forward written from the formulas, ln V at zero weights, and the optimizer formulas in scalar form.
//
// Shapes: T steps, B streams, N = T·B, V vocabulary, E embedding, H hidden, L layers.

import test from 'node:test';
import assert from 'node:assert/strict';

import {
  ReferenceLanguageModel,
  referenceForward,
  referenceLossAndGradients,
  referenceStep,
  type ReferenceWindow,
} from './reference-model.js';
import {
  type CellType,
  type ModelConfig,
  dropoutMaskWidths,
  layerInputWidth,
  parameterCount,
  parameterLayout,
} from '../../src/core/model/model-config.js';
import { ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON, CLIP_EPSILON, type StepInput } from '../../src/core/train/train-step.js';
import { mulberry32 } from '../../src/core/support/random.js';

type Rand = () => number;

const uniform = (rand: Rand, n: number, scale: number): Float64Array => Float64Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

function randomTokens(rand: Rand, V: number, rows: number, B: number): Int32Array /* [rows,B] */ {
  return Int32Array.from({ length: rows * B }, () => Math.floor(rand() * V));
}

/** Dropout masks as train-step.ts defines them: 0 or 1/(1−p), (L+1) × [T,B,width]. */
function randomMasks(cfg: ModelConfig, rand: Rand, T: number, B: number, p = 0.3): Float64Array[] {
  return dropoutMaskWidths(cfg).map((w) => Float64Array.from({ length: T * B * w }, () => (rand() < p ? 0 : 1 / (1 - p))));
}

/** A random window: weights of scale 0.5 (gates not saturated) and nonzero carried-in state. */
function randomWindow(cfg: ModelConfig, seed: number, T: number, B: number, dropout: boolean): ReferenceWindow {
  const rand = mulberry32(seed);
  const stateSize = cfg.layers * B * cfg.hidden;
  const w: ReferenceWindow = {
    params: uniform(rand, parameterCount(cfg), 0.5),
    tokens: randomTokens(rand, cfg.vocab, T + 1, B),
    T,
    B,
    h0: uniform(rand, stateSize, 0.5),
  };
  if (cfg.cell === 'lstm') w.c0 = uniform(rand, stateSize, 0.5);
  if (dropout) w.masks = randomMasks(cfg, rand, T, B);
  return w;
}

const lossOf = (cfg: ModelConfig, w: ReferenceWindow, params: Float64Array): number =>
  referenceForward(cfg, params, w.tokens, w.T, w.B, w.h0, w.c0, w.masks, w.sampled).loss;

// ------------------------------------------------------------------------------------------------
// Gradients against centred finite differences.

// Fourth-order centred difference: (−f(p+2ε) + 8f(p+ε) − 8f(p−ε) + f(p−2ε)) / 12ε. Its truncation error is
// O(ε⁴), so ε can be 1e-3 and the rounding noise (≈ u·loss/ε) stays near 1e-12 absolute. The two-point
// (f(p+ε) − f(p−ε))/2ε at ε = 1e-5 is ~50× noisier, more than 1e-6 of the ~1e-8 gradients that reach
// the bottom of three LSTM layers through dropout.
const EPS = 1e-3;
function numericGradient(f: (delta: number) => number): number {
  return (-f(2 * EPS) + 8 * f(EPS) - 8 * f(-EPS) + f(-2 * EPS)) / (12 * EPS);
}

// Relative error of one element: |a − b| / max(|a| + |b|, 1e-6). Below 1e-6 the floor turns it into an
// absolute test (|a − b| < 1e-12 at the tolerance), since a relative error of noise around zero means nothing.
const relativeError = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a) + Math.abs(b), 1e-6);
const GRAD_TOLERANCE = 1e-6;

/** Every gradient of the window's loss against finite differences. */
function checkGradients(t: { diagnostic: (m: string) => void }, name: string, cfg: ModelConfig, w: ReferenceWindow): void {
  const { grads } = referenceLossAndGradients(cfg, w);
  const report: string[] = [];
  for (const p of parameterLayout(cfg)) {
    let maxErr = 0;
    let maxAbs = 0;
    for (let k = p.offset; k < p.offset + p.size; k++) {
      const numeric = numericGradient((delta) => {
        const moved = Float64Array.from(w.params);
        moved[k] += delta;
        return lossOf(cfg, w, moved);
      });
      maxErr = Math.max(maxErr, relativeError(grads[k], numeric));
      maxAbs = Math.max(maxAbs, Math.abs(grads[k]));
    }
    report.push(`${p.name} ${maxErr.toExponential(1)}`);
    // A tensor whose gradient is all zero would make the comparison vacuous.
    assert.ok(maxAbs > 1e-4, `${p.name}: gradient unexpectedly ~0 (max |g| = ${maxAbs})`);
    assert.ok(maxErr < GRAD_TOLERANCE, `${p.name}: max relative error ${maxErr} ≥ ${GRAD_TOLERANCE}`);
  }
  t.diagnostic(`max relative error per tensor (${name}): ${report.join(', ')}`);
}

for (const cell of ['lstm', 'rnn'] as CellType[]) {
  for (const layers of [1, 2, 3]) {
    for (const tied of [false, true]) {
      for (const dropout of [false, true]) {
        const name = `${cell}, ${layers} layer(s), ${tied ? 'tied' : 'untied'}, dropout ${dropout ? 'on' : 'off'}`;
        test(`gradients match finite differences: ${name}`, (t) => {
          // E ≠ H when untied, so a transposed input weight would not even fit.
          const cfg: ModelConfig = { cell, layers, vocab: 7, embed: tied ? 4 : 3, hidden: 4, tied };
          checkGradients(t, name, cfg, randomWindow(cfg, 1000 + layers * 10 + (tied ? 2 : 0) + (dropout ? 1 : 0), 3, 2, dropout));
        });
      }
    }
  }
}

/** Samples {0, 2, 3, 5} of a vocabulary of 7 with made-up log Q: some targets are sampled too (a hit). */
const SAMPLED = { ids: Int32Array.from([5, 0, 3, 2]), logQ: Float64Array.from([-0.2, -1.5, 0, -3]) };

for (const [cell, layers, tied, dropout] of [['lstm', 1, true, false], ['lstm', 2, false, true], ['rnn', 2, true, true]] as const) {
  const name = `sampled softmax, ${cell}, ${layers} layer(s), ${tied ? 'tied' : 'untied'}, dropout ${dropout ? 'on' : 'off'}`;
  test(`gradients match finite differences: ${name}`, (t) => {
    const cfg: ModelConfig = { cell, layers, vocab: 7, embed: tied ? 4 : 3, hidden: 4, tied };
    const w = { ...randomWindow(cfg, 2000 + layers, 3, 2, dropout), sampled: SAMPLED };
    const y = w.tokens.subarray(w.B);
    assert.ok(y.some((id) => SAMPLED.ids.includes(id)) && y.some((id) => !SAMPLED.ids.includes(id)), 'targets both among and outside the samples');
    checkGradients(t, name, cfg, w);
  });
}

test('the sampled softmax over the whole vocabulary with Q = 1 is the full softmax: same loss, same gradients', () => {
  const cfg: ModelConfig = { cell: 'lstm', layers: 2, vocab: 7, embed: 4, hidden: 4, tied: true };
  const w = randomWindow(cfg, 77, 3, 2, true);
  const full = referenceLossAndGradients(cfg, w);
  const all = referenceLossAndGradients(cfg, { ...w, sampled: { ids: Int32Array.from([6, 1, 0, 4, 2, 5, 3]), logQ: new Float64Array(7) } });
  assert.ok(Math.abs(full.loss - all.loss) < 1e-12, `${full.loss} vs ${all.loss}`);
  for (let k = 0; k < full.grads.length; k++) assert.ok(Math.abs(full.grads[k] - all.grads[k]) < 1e-12, `grad[${k}]`);
  // With fewer samples the loss is smaller: the normaliser leaves words out.
  const some = referenceLossAndGradients(cfg, { ...w, sampled: { ids: Int32Array.from([1, 4]), logQ: new Float64Array(2) } });
  assert.ok(some.loss < full.loss);
});

test('the reference rejects a malformed sampled softmax', () => {
  const cfg: ModelConfig = { cell: 'rnn', layers: 1, vocab: 7, embed: 4, hidden: 4, tied: true };
  const w = randomWindow(cfg, 3, 2, 2, false);
  const bad = (ids: number[], logQ: number[]) => () => referenceLossAndGradients(cfg, { ...w, sampled: { ids: Int32Array.from(ids), logQ: Float64Array.from(logQ) } });
  assert.throws(bad([1, 1], [0, 0]), /distinct/);
  assert.throws(bad([1, 9], [0, 0]), /outside the vocabulary/);
  assert.throws(bad([1, 2], [0]), /log Q values/);
  assert.throws(bad([1, 2], [0, 0.5]), /≤ 0/);
});

// ------------------------------------------------------------------------------------------------
// The forward against a naive one written straight from the formulas (2-D indexing, one scalar at a time).

function naiveForward(cfg: ModelConfig, w: ReferenceWindow): { logProbs: number[][]; loss: number; hT: number[][][]; cT: number[][][] } {
  const { T, B } = w;
  const H = cfg.hidden;
  const at = (name: string) => {
    const spec = parameterLayout(cfg).find((p) => p.name === name);
    if (!spec) throw new Error(name);
    const cols = spec.shape[1] ?? 1;
    return (r: number, c = 0) => w.params[spec.offset + r * cols + c];
  };
  const mask = (k: number, t: number, b: number, j: number) => (w.masks ? w.masks[k][(t * B + b) * dropoutMaskWidths(cfg)[k] + j] : 1);
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  const emb = at('embedding');
  // input[t][b][j] of the current layer
  let input = Array.from({ length: T }, (_, t) =>
    Array.from({ length: B }, (_, b) => Array.from({ length: cfg.embed }, (_, j) => emb(w.tokens[t * B + b], j) * mask(0, t, b, j))),
  );
  const hT: number[][][] = [];
  const cT: number[][][] = [];
  for (let l = 0; l < cfg.layers; l++) {
    const [W, R, bias] = [at(`layer${l}.W`), at(`layer${l}.R`), at(`layer${l}.b`)];
    const I = layerInputWidth(cfg, l);
    const h = Array.from({ length: B }, (_, b) => Array.from({ length: H }, (_, k) => w.h0[(l * B + b) * H + k]));
    const c = Array.from({ length: B }, (_, b) => Array.from({ length: H }, (_, k) => (w.c0 ? w.c0[(l * B + b) * H + k] : 0)));
    const output: number[][][] = [];
    for (let t = 0; t < T; t++) {
      // pre-activation of gate row r: Σ_j W[r][j]·x[j] + b[r] + Σ_k R[r][k]·h[k]
      const z = (b: number, r: number) => {
        let s = bias(r);
        for (let j = 0; j < I; j++) s += W(r, j) * input[t][b][j];
        for (let k = 0; k < H; k++) s += R(r, k) * h[b][k];
        return s;
      };
      const next = h.map((_, b) =>
        Array.from({ length: H }, (_, k) => {
          if (cfg.cell === 'rnn') return Math.tanh(z(b, k));
          const [i, o, f, g] = [sig(z(b, k)), sig(z(b, H + k)), sig(z(b, 2 * H + k)), Math.tanh(z(b, 3 * H + k))];
          c[b][k] = f * c[b][k] + i * g; // c[b][k] is only read by this unit, so updating in place is safe
          return o * Math.tanh(c[b][k]);
        }),
      );
      for (let b = 0; b < B; b++) h[b] = next[b];
      output.push(next.map((row, b) => row.map((v, k) => v * mask(l + 1, t, b, k))));
    }
    hT.push(h);
    cT.push(c);
    input = output;
  }
  const stored = at(cfg.tied ? 'embedding' : 'decoder.W');
  const D = cfg.tied ? stored : (v: number, k: number) => stored(k, v); // untied decoder is stored [H, V]
  const d = at('decoder.b');
  const logProbs: number[][] = [];
  let loss = 0;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const logits = Array.from({ length: cfg.vocab }, (_, v) => d(v) + input[t][b].reduce((s, x, k) => s + x * D(v, k), 0));
      const lse = Math.log(logits.reduce((s, z) => s + Math.exp(z), 0)); // small logits: no shift needed
      logProbs.push(logits.map((z) => z - lse));
      loss -= logits[w.tokens[(t + 1) * B + b]] - lse;
    }
  }
  return { logProbs, loss: loss / (T * B), hT, cT };
}

for (const [cell, layers, tied, dropout] of [
  ['lstm', 2, false, true],
  ['lstm', 3, true, false],
  ['rnn', 2, false, true],
  ['rnn', 1, true, true],
] as const) {
  test(`forward matches a naive implementation of the formulas: ${cell}, ${layers} layer(s), tied ${tied}, dropout ${dropout}`, () => {
    const cfg: ModelConfig = { cell, layers, vocab: 6, embed: tied ? 3 : 2, hidden: 3, tied };
    const w = randomWindow(cfg, 7 + layers, 4, 3, dropout);
    const ref = referenceForward(cfg, w.params, w.tokens, w.T, w.B, w.h0, w.c0, w.masks);
    const naive = naiveForward(cfg, w);
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} vs ${b}`);
    close(ref.loss, naive.loss, 'loss');
    naive.logProbs.forEach((row, n) => row.forEach((v, k) => close(ref.logProbs[n * cfg.vocab + k], v, `logProbs[${n},${k}]`)));
    naive.hT.forEach((layer, l) =>
      layer.forEach((row, b) =>
        row.forEach((v, k) => {
          close(ref.hT[(l * w.B + b) * cfg.hidden + k], v, `hT[${l},${b},${k}]`);
          if (cell === 'lstm') close((ref.cT as Float64Array)[(l * w.B + b) * cfg.hidden + k], naive.cT[l][b][k], `cT[${l},${b},${k}]`);
        }),
      ),
    );
    assert.equal(ref.cT === undefined, cell === 'rnn');
  });
}

test('with every weight zero the loss is ln V (uniform prediction)', () => {
  for (const cell of ['lstm', 'rnn'] as const) {
    const cfg: ModelConfig = { cell, layers: 2, vocab: 11, embed: 3, hidden: 5, tied: false };
    const w = randomWindow(cfg, 3, 4, 2, false);
    const zeros = new Float64Array(parameterCount(cfg));
    const { loss, logProbs } = referenceForward(cfg, zeros, w.tokens, w.T, w.B, w.h0, w.c0);
    assert.ok(Math.abs(loss - Math.log(11)) < 1e-15, `${cell}: loss ${loss} ≠ ln 11`);
    for (const lp of logProbs) assert.ok(Math.abs(lp + Math.log(11)) < 1e-15);
  }
});

test('the log-softmax stays finite for huge logits', () => {
  const cfg: ModelConfig = { cell: 'rnn', layers: 1, vocab: 3, embed: 2, hidden: 2, tied: false };
  const params = new Float64Array(parameterCount(cfg));
  const bias = parameterLayout(cfg).find((p) => p.name === 'decoder.b')!;
  params.set([1000, 999, -1000], bias.offset);
  const tokens = Int32Array.from([0, 1]); // T = 1, B = 1, target 1
  const { loss, logProbs } = referenceForward(cfg, params, tokens, 1, 1, new Float64Array(2));
  // −log softmax = log(e^0 + e^−1 + e^−2000) + 1 for the second word, with the maximum factored out
  const expected = Math.log(1 + Math.exp(-1)) + 1;
  assert.ok(Math.abs(loss - expected) < 1e-12, `loss ${loss} vs ${expected}`);
  assert.ok(logProbs.every(Number.isFinite));
});

// ------------------------------------------------------------------------------------------------
// State carried between windows, and the LanguageModel wrapper.

test('the state carried out of one window continues exactly where one long run is', () => {
  for (const cell of ['lstm', 'rnn'] as const) {
    const cfg: ModelConfig = { cell, layers: 2, vocab: 9, embed: 3, hidden: 4, tied: false };
    const T = 3;
    const B = 2;
    const long = randomWindow(cfg, 21, 2 * T, B, false); // rows 0..2T
    const first = long.tokens.subarray(0, (T + 1) * B); // rows 0..T
    const second = long.tokens.subarray(T * B); // rows T..2T: row T is both first's last target and second's first input
    const a = referenceForward(cfg, long.params, first, T, B, long.h0, long.c0);
    const b = referenceForward(cfg, long.params, second, T, B, a.hT, a.cT);
    const whole = referenceForward(cfg, long.params, long.tokens, 2 * T, B, long.h0, long.c0);
    const close = (x: number, y: number) => Math.abs(x - y) <= 1e-13;
    assert.ok(b.hT.every((v, k) => close(v, whole.hT[k])), `${cell}: hT differs`);
    if (cell === 'lstm') assert.ok(b.cT!.every((v, k) => close(v, whole.cT![k])), 'cT differs');
    const joined = [...a.logProbs, ...b.logProbs];
    assert.ok(joined.every((v, k) => close(v, whole.logProbs[k])), `${cell}: log-probs differ`);
    assert.ok(close((a.loss + b.loss) / 2, whole.loss), `${cell}: mean of the two losses ≠ loss of the whole`);
  }
});

test('ReferenceLanguageModel: two runs with the carried state equal one forward over the whole sequence', async () => {
  for (const cell of ['lstm', 'rnn'] as const) {
    const cfg: ModelConfig = { cell, layers: 2, vocab: 8, embed: 4, hidden: 4, tied: true };
    const rand = mulberry32(5);
    const params = uniform(rand, parameterCount(cfg), 0.5);
    const ids = randomTokens(rand, cfg.vocab, 7, 1);
    const lm = new ReferenceLanguageModel(cfg, params);
    assert.equal(lm.vocabSize, 8);

    const start = lm.initialState();
    assert.ok(start.h.length === 2 * 4 && start.h.every((v) => v === 0));
    assert.equal(start.c === undefined, cell === 'rnn');
    const r1 = await lm.run(ids.subarray(0, 3), start);
    const r2 = await lm.run(ids.subarray(3), r1.state);
    assert.ok(start.h.every((v) => v === 0), 'run mutated the state it was given');

    // One window of T = 7 (targets are irrelevant to the log-probs; any id will do for the last one).
    const zeros = new Float64Array(2 * 4);
    const tokens = Int32Array.from([...ids, 0]);
    const whole = referenceForward(cfg, params, tokens, 7, 1, zeros, cell === 'lstm' ? zeros : undefined);
    const joined = [...r1.logProbs, ...r2.logProbs];
    assert.equal(joined.length, 7 * 8);
    // float32 at the interface: log-probs and the carried state are rounded to ~6e-8 relative.
    joined.forEach((v, k) => assert.ok(Math.abs(v - whole.logProbs[k]) < 1e-5, `log-prob ${k}: ${v} vs ${whole.logProbs[k]}`));
    r2.state.h.forEach((v, k) => assert.ok(Math.abs(v - whole.hT[k]) < 1e-6, `h ${k}`));
    if (cell === 'lstm') r2.state.c!.forEach((v, k) => assert.ok(Math.abs(v - whole.cT![k]) < 1e-6, `c ${k}`));
  }
});

test('ReferenceLanguageModel keeps its own copy of the parameters and rejects bad input', async () => {
  const cfg: ModelConfig = { cell: 'lstm', layers: 1, vocab: 5, embed: 2, hidden: 3, tied: false };
  const params = uniform(mulberry32(8), parameterCount(cfg), 0.5);
  const lm = new ReferenceLanguageModel(cfg, params);
  const before = await lm.run(Int32Array.from([1, 2]), lm.initialState());
  params.fill(0);
  const after = await lm.run(Int32Array.from([1, 2]), lm.initialState());
  assert.deepEqual(after.logProbs, before.logProbs);

  await assert.rejects(lm.run(Int32Array.from([]), lm.initialState()), /at least one id/);
  await assert.rejects(lm.run(Int32Array.from([5]), lm.initialState()), /outside the vocabulary/);
  await assert.rejects(lm.run(Int32Array.from([1]), { h: new Float32Array(3) }), /an LSTM needs state\.c/);
  await assert.rejects(lm.run(Int32Array.from([1]), { h: new Float32Array(2), c: new Float32Array(3) }), /state\.h must be \[L,B,H\] = 3 values/);
  assert.throws(() => new ReferenceLanguageModel(cfg, new Float64Array(3)), /params holds 3 values/);
});

// ------------------------------------------------------------------------------------------------
// Clipping and the optimizers.

function stepInput(w: ReferenceWindow, extra: Partial<StepInput<Float64Array>>): StepInput<Float64Array> {
  return { ...w, optimizer: 'sgd', lr: 0.1, clip: Infinity, step: 1, ...extra };
}

const norm = (a: ArrayLike<number>): number => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

test('SGD without clipping: params − lr·grads, gradNorm = ‖grads‖, state and loss passed through', () => {
  const cfg: ModelConfig = { cell: 'lstm', layers: 2, vocab: 7, embed: 3, hidden: 4, tied: false };
  const w = randomWindow(cfg, 31, 3, 2, true);
  const { grads, loss, hT, cT } = referenceLossAndGradients(cfg, w);
  const out = referenceStep(cfg, stepInput(w, { lr: 0.25 }));
  out.params.forEach((v, k) => assert.ok(Math.abs(v - (w.params[k] - 0.25 * grads[k])) < 1e-15, `param ${k}`));
  assert.ok(Math.abs(out.gradNorm - norm(grads)) < 1e-14);
  assert.equal(out.loss, loss);
  assert.deepEqual(out.hT, hT);
  assert.deepEqual(out.cT, cT);
  assert.equal(out.adamM, undefined);
});

test('SGD with a small clip: the applied update has norm lr·clip·n/(n + 1e-6)', () => {
  for (const cell of ['lstm', 'rnn'] as const) {
    const cfg: ModelConfig = { cell, layers: 1, vocab: 7, embed: 4, hidden: 4, tied: true };
    const w = randomWindow(cfg, 41, 3, 2, false);
    const lr = 0.5;
    const clip = 1e-3;
    const n = norm(referenceLossAndGradients(cfg, w).grads);
    assert.ok(n > 10 * clip, 'the test needs a gradient larger than the clip');
    const out = referenceStep(cfg, stepInput(w, { lr, clip }));
    const update = out.params.map((v, k) => v - w.params[k]);
    const expected = (lr * clip * n) / (n + CLIP_EPSILON); // = lr·clip up to the 1e-6 guard
    assert.ok(Math.abs(norm(update) - expected) < 1e-9 * expected, `update norm ${norm(update)} vs ${expected}`);
    assert.ok(Math.abs(out.gradNorm - n) < 1e-12, 'gradNorm is reported before clipping');
  }
});

/** Adam for one scalar, straight from the formulas in train-step.ts. */
function scalarAdam(p: number, m: number, v: number, g: number, lr: number, k: number): [number, number, number] {
  const m1 = 0.9 * m + 0.1 * g;
  const v1 = 0.999 * v + 0.001 * g * g;
  const mHat = m1 / (1 - Math.pow(0.9, k));
  const vHat = v1 / (1 - Math.pow(0.999, k));
  return [p - (lr * mHat) / (Math.sqrt(vHat) + 1e-8), m1, v1];
}

test('Adam: one and two steps match a scalar implementation of the formulas', () => {
  // The scalar version hard-codes the constants; make sure they are the ones the contract names.
  assert.deepEqual([ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON], [0.9, 0.999, 1e-8]);
  const cfg: ModelConfig = { cell: 'rnn', layers: 2, vocab: 7, embed: 3, hidden: 4, tied: false };
  const w = randomWindow(cfg, 51, 3, 2, true);
  const P = parameterCount(cfg);
  const lr = 0.01;
  const clip = 0.5;
  const picks = [0, 5, 37, P - 1];
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-14 + 1e-12 * Math.abs(b), `${what}: ${a} vs ${b}`);

  // Step 1 from zero moments, step 2 from step 1's output; each uses the gradient at its own params.
  let params: Float64Array = w.params;
  let m: Float64Array = new Float64Array(P);
  let v: Float64Array = new Float64Array(P);
  let clipped = false;
  for (const step of [1, 2]) {
    const { grads } = referenceLossAndGradients(cfg, { ...w, params });
    const n = norm(grads);
    const scale = n > clip ? clip / (n + 1e-6) : 1;
    clipped ||= scale < 1;
    const out = referenceStep(cfg, stepInput(w, { params, adamM: m, adamV: v, optimizer: 'adam', lr, clip, step }));
    for (const k of picks) {
      const [p1, m1, v1] = scalarAdam(params[k], m[k], v[k], grads[k] * scale, lr, step);
      close(out.params[k], p1, `step ${step} param ${k}`);
      close(out.adamM![k], m1, `step ${step} m ${k}`);
      close(out.adamV![k], v1, `step ${step} v ${k}`);
    }
    [params, m, v] = [out.params, out.adamM!, out.adamV!];
  }
  assert.ok(clipped, 'the test should exercise clipping with Adam too');
});

test('referenceStep does not mutate its input', () => {
  const cfg: ModelConfig = { cell: 'lstm', layers: 2, vocab: 7, embed: 3, hidden: 4, tied: false };
  const w = randomWindow(cfg, 61, 3, 2, true);
  const rand = mulberry32(62);
  const P = parameterCount(cfg);
  const input = stepInput(w, { optimizer: 'adam', adamM: uniform(rand, P, 0.1), adamV: uniform(rand, P, 0.1).map(Math.abs), step: 3 });
  const copy = structuredClone(input);
  const out = referenceStep(cfg, input);
  assert.deepEqual(input, copy);
  assert.notEqual(out.params, input.params);
  assert.notEqual(out.adamM, input.adamM);
});

test('bad input fails with a message naming the problem', () => {
  const lstm: ModelConfig = { cell: 'lstm', layers: 2, vocab: 7, embed: 3, hidden: 4, tied: false };
  const rnn: ModelConfig = { ...lstm, cell: 'rnn' };
  const w = randomWindow(lstm, 71, 3, 2, false);
  const fwd = (cfg: ModelConfig, over: Partial<ReferenceWindow>) => {
    const x = { ...w, ...over };
    return () => referenceForward(cfg, x.params, x.tokens, x.T, x.B, x.h0, x.c0, x.masks);
  };
  assert.throws(fwd(lstm, { tokens: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]) }), /tokens\[7\] = 7 is outside the vocabulary \[0, 7\)/);
  assert.throws(fwd(lstm, { tokens: new Int32Array(6) }), /tokens must hold 4·2 = 8 ids \(got 6\)/);
  assert.throws(fwd(lstm, { h0: new Float64Array(3) }), /h0 must be \[L,B,H\] = 16 values/);
  assert.throws(fwd(lstm, { c0: undefined }), /an LSTM needs c0/);
  assert.throws(fwd(rnn, { params: new Float64Array(parameterCount(rnn)) }), /c0 is for LSTM cells only/);
  assert.throws(fwd(lstm, { masks: [new Float64Array(18)] }), /expected 3 dropout masks/);
  assert.throws(fwd(lstm, { T: 0 }), /T must be a positive integer/);
  assert.throws(fwd(lstm, { params: new Float64Array(5) }), /params holds 5 values/);
  assert.throws(() => referenceStep(lstm, stepInput(w, { optimizer: 'adam' })), /Adam needs adamM/);
  assert.throws(() => referenceStep(lstm, stepInput(w, { adamM: new Float64Array(parameterCount(lstm)) })), /SGD takes none/);
  assert.throws(() => referenceStep(lstm, stepInput(w, { clip: 0 })), /clip must be > 0/);
  assert.throws(() => referenceStep(lstm, stepInput(w, { lr: NaN })), /lr must be/);
  const m = new Float64Array(parameterCount(lstm));
  assert.throws(() => referenceStep(lstm, stepInput(w, { optimizer: 'adam', adamM: m, adamV: m, step: 0 })), /step must be a 1-based integer/);
  assert.throws(() => referenceForward({ ...lstm, tied: true }, w.params, w.tokens, 3, 2, w.h0, w.c0), /tied embeddings need embed = hidden/);
});
