// The exported inference model (ONNX LSTM/RNN operators) and the scoring graph, run in real sessions,
// against the training graph's own forward pass on the same weights.

import assert from 'node:assert/strict';
import test from 'node:test';
import { onnx } from 'onnx-proto';
import { inferenceGraph, scoreGraph } from '../../../src/core/graphs/inference-graph.js';
import { trainStepGraph } from '../../../src/core/graphs/train-step-graph.js';
import { parameterLayout, parameterViews, type CellType, type ModelConfig } from '../../../src/core/model/model-config.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import { createSession, floatData, floatTensor, idsTensor, ort, scalarTensor } from '../../../src/runtime/onnx/ort-session.js';

function setup(cfg: ModelConfig, T: number, B: number, seed: number) {
  const rand = mulberry32(seed);
  const n = parameterLayout(cfg).reduce((k, p) => k + p.size, 0);
  const params = Float32Array.from({ length: n }, () => (rand() * 2 - 1) * 0.5);
  const tokens = Int32Array.from({ length: (T + 1) * B }, () => Math.floor(rand() * cfg.vocab));
  const LBH = cfg.layers * B * cfg.hidden;
  const h0 = Float32Array.from({ length: LBH }, () => rand() - 0.5);
  const c0 = Float32Array.from({ length: LBH }, () => rand() - 0.5);
  return { params, tokens, h0, c0 };
}

/** log_probs [N, V] and the final state from the training graph's forward pass (lr 0: nothing learned). */
async function trainingForward(cfg: ModelConfig, T: number, B: number, s: ReturnType<typeof setup>) {
  const opts = { optimizer: 'sgd' as const, dropout: false, T, exposeLogProbs: true };
  const session = await createSession(trainStepGraph(cfg, opts), { threads: 1 });
  const feeds: Record<string, ort.Tensor> = {};
  const views = parameterViews(cfg, s.params);
  for (const p of parameterLayout(cfg)) feeds[p.name] = floatTensor(views.get(p.name)!, p.shape);
  feeds.tokens = idsTensor(s.tokens, [T + 1, B]);
  feeds.h0 = floatTensor(s.h0, [cfg.layers, B, cfg.hidden]);
  if (cfg.cell === 'lstm') feeds.c0 = floatTensor(s.c0, [cfg.layers, B, cfg.hidden]);
  feeds.lr = scalarTensor(0);
  feeds.clip = scalarTensor(1);
  const out = await session.run(feeds);
  await session.release();
  return { logProbs: floatData(out.log_probs, 'log_probs'), hT: floatData(out.hT, 'hT'), cT: out.cT ? floatData(out.cT, 'cT') : undefined };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

const cases: { cell: CellType; layers: number; tied: boolean }[] = [
  { cell: 'lstm', layers: 1, tied: false },
  { cell: 'lstm', layers: 2, tied: true },
  { cell: 'lstm', layers: 3, tied: false },
  { cell: 'rnn', layers: 1, tied: true },
  { cell: 'rnn', layers: 2, tied: false },
];

for (const c of cases) {
  test(`the exported model gives the training graph's log-probabilities: ${c.cell} ×${c.layers}${c.tied ? ' tied' : ''}`, async () => {
    const cfg: ModelConfig = { cell: c.cell, layers: c.layers, vocab: 17, embed: c.tied ? 6 : 5, hidden: 6, tied: c.tied };
    const T = 5;
    const B = 3;
    const s = setup(cfg, T, B, 11 * c.layers + (c.tied ? 1 : 0));
    const ref = await trainingForward(cfg, T, B, s);

    const session = await createSession(inferenceGraph(cfg, s.params), { threads: 1 });
    const feeds: Record<string, ort.Tensor> = {
      tokens: idsTensor(s.tokens.subarray(0, T * B), [T, B]),
      h0: floatTensor(s.h0, [cfg.layers, B, cfg.hidden]),
    };
    if (cfg.cell === 'lstm') feeds.c0 = floatTensor(s.c0, [cfg.layers, B, cfg.hidden]);
    const out = await session.run(feeds);
    assert.deepEqual(out.log_probs!.dims, [T, B, cfg.vocab]);
    assert.ok(maxDiff(floatData(out.log_probs, 'log_probs'), ref.logProbs) < 1e-5);
    assert.ok(maxDiff(floatData(out.hT, 'hT'), ref.hT) < 1e-5);
    if (ref.cT) assert.ok(maxDiff(floatData(out.cT, 'cT'), ref.cT) < 1e-5);
    await session.release();

    // The scoring graph: log p(target) and its rank, from the same forward pass.
    for (const weights of ['inputs', 'initializers'] as const) {
      const scorer = await createSession(scoreGraph(cfg, weights === 'initializers' ? s.params : undefined), { threads: 1 });
      const sf: Record<string, ort.Tensor> = { tokens: idsTensor(s.tokens, [T + 1, B]), h0: feeds.h0! };
      if (feeds.c0) sf.c0 = feeds.c0;
      if (weights === 'inputs') {
        const views = parameterViews(cfg, s.params);
        for (const p of parameterLayout(cfg)) sf[p.name] = floatTensor(views.get(p.name)!, p.shape);
      }
      const so = await scorer.run(sf);
      const logp = floatData(so.logp, 'logp');
      const rank = so.rank!.data as BigInt64Array;
      for (let n = 0; n < T * B; n++) {
        const row = ref.logProbs.subarray(n * cfg.vocab, (n + 1) * cfg.vocab);
        const y = s.tokens[B + n]!;
        assert.ok(Math.abs(logp[n]! - row[y]!) < 1e-5);
        const higher = row.filter((v) => v > row[y]!).length;
        assert.equal(Number(rank[n]), higher, `rank of target ${n}`);
      }
      await scorer.release();
    }
  });
}

test('a model stored with float16 weights computes as the float32 model of the rounded weights, at half the size', async () => {
  const { fromFloat16, toFloat16 } = await import('../../../src/core/graphs/float16.js');
  const { parametersFromModel } = await import('../../../src/core/graphs/inference-graph.js');
  const cfg: ModelConfig = { cell: 'lstm', layers: 2, vocab: 300, embed: 32, hidden: 32, tied: true };
  const s = setup(cfg, 4, 1, 99);
  const rounded = fromFloat16(toFloat16(s.params));
  const half = inferenceGraph(cfg, s.params, { precision: 'float16' });
  const full = inferenceGraph(cfg, rounded);
  assert.ok(half.length < 0.55 * full.length, `${half.length} vs ${full.length} bytes`);
  assert.deepEqual(parametersFromModel(cfg, half), rounded);
  const run = async (bytes: Uint8Array) => {
    const session = await createSession(bytes, { threads: 1 });
    const out = await session.run({
      tokens: idsTensor(s.tokens.subarray(0, 4), [4, 1]),
      h0: floatTensor(new Float32Array(cfg.layers * cfg.hidden), [cfg.layers, 1, cfg.hidden]),
      c0: floatTensor(new Float32Array(cfg.layers * cfg.hidden), [cfg.layers, 1, cfg.hidden]),
    });
    await session.release();
    return floatData(out.log_probs, 'log_probs');
  };
  assert.ok(maxDiff(await run(half), await run(full)) < 1e-6);
});

for (const tied of [true, false]) {
  test(`int8 decoder (${tied ? 'tied' : 'untied'}): per-word weights within half a step, log-probabilities and scores close to float32`, async () => {
    const { quantizeDecoder, quantizeDecoderPaced } = await import('../../../src/core/graphs/inference-graph.js');
    const cfg: ModelConfig = { cell: 'lstm', layers: 1, vocab: 400, embed: 48, hidden: 48, tied };
    const s = setup(cfg, 6, 1, tied ? 5 : 6);
    // Words of very different norms: each gets its own scale.
    const D = parameterViews(cfg, s.params).get(tied ? 'embedding' : 'decoder.W')!;
    const H = cfg.hidden;
    const V = cfg.vocab;
    const index = (v: number, k: number) => (tied ? v * H + k : k * V + v);
    for (let v = 0; v < V; v++) for (let k = 0; k < H; k++) D[index(v, k)]! *= 1 + (v % 7) * 0.5;
    const q = quantizeDecoder(cfg, s.params);
    // In blocks between pauses: the same bytes (a block is 2^18 / H words: several blocks here only when
    // the vocabulary is large, so a large one is checked too).
    let pauses = 0;
    assert.deepEqual(await quantizeDecoderPaced(cfg, s.params, async () => void pauses++), q);
    assert.ok(pauses >= 1);
    const bigCfg: ModelConfig = { ...cfg, vocab: 12_000 };
    const big = setup(bigCfg, 2, 1, 3).params;
    let bigPauses = 0;
    assert.deepEqual(await quantizeDecoderPaced(bigCfg, big, async () => void bigPauses++), quantizeDecoder(bigCfg, big));
    assert.ok(bigPauses >= 2, `${bigPauses} pauses`);
    for (let v = 0; v < V; v++) {
      let max = 0;
      for (let k = 0; k < H; k++) max = Math.max(max, Math.abs(D[index(v, k)]!));
      assert.ok(Math.abs(q.scales[v]! - max / 127) <= 1e-6 * max, `scale of word ${v}`);
      for (let k = 0; k < H; k++) {
        const back = q.weights[k * V + v]! * q.scales[v]!;
        assert.ok(Math.abs(back - D[index(v, k)]!) <= q.scales[v]! / 2 + 1e-6, `w[${v}, ${k}]: ${D[index(v, k)]} vs ${back}`);
      }
    }
    const feeds = (T: number) => ({
      tokens: idsTensor(s.tokens.subarray(0, T), [T, 1]),
      h0: floatTensor(s.h0.subarray(0, H), [1, 1, H]),
      c0: floatTensor(s.c0.subarray(0, H), [1, 1, H]),
    });
    const run = async (bytes: Uint8Array, T: number) => {
      const session = await createSession(bytes, { threads: 1 });
      const out = await session.run(feeds(T));
      await session.release();
      return out;
    };
    const f = await run(inferenceGraph(cfg, s.params), 6);
    const i8 = await run(inferenceGraph(cfg, s.params, { decoder: 'int8' }), 6);
    const lpF = floatData(f.log_probs, 'log_probs');
    const lp8 = floatData(i8.log_probs, 'log_probs');
    const d = maxDiff(lpF, lp8);
    let range = 0;
    for (let t = 0; t < 6; t++) {
      const row = lpF.subarray(t * V, (t + 1) * V);
      range = Math.max(range, Math.max(...row) - Math.min(...row));
    }
    // Under 1 % of the spread of the log-probabilities, but not bit-identical (it is quantised).
    assert.ok(d < 0.01 * range && d > 0, `max |Δ log p| = ${d} for log-probabilities spread over ${range}`);
    if (!tied) {
      assert.ok(maxDiff(floatData(f.hT, 'hT'), floatData(i8.hT, 'hT')) === 0, 'the recurrent layers are untouched');
    } else {
      // Tied: the input embedding is looked up from the int8 weights, so the recurrent layers see word v's
      // row as q·scale_v: exactly what a float32 graph of those dequantised weights computes.
      const deq = Float32Array.from(s.params);
      const E = parameterViews(cfg, deq).get('embedding')!;
      for (let v = 0; v < V; v++) for (let k = 0; k < H; k++) E[v * H + k] = q.weights[k * V + v]! * q.scales[v]!;
      const fq = await run(inferenceGraph(cfg, deq), 6);
      assert.ok(maxDiff(floatData(fq.hT, 'hT'), floatData(i8.hT, 'hT')) < 1e-6, 'hT as with the dequantised embedding');
      assert.ok(maxDiff(floatData(f.hT, 'hT'), floatData(i8.hT, 'hT')) > 0, 'and not the float32 one');
      // The session holds the [V, H] matrix once, in int8: no float32 embedding among the initializers.
      const names = (bytes: Uint8Array) => (onnx.ModelProto.decode(bytes).graph?.initializer ?? []).map((t) => t.name);
      for (const bytes of [inferenceGraph(cfg, s.params, { decoder: 'int8' }), scoreGraph(cfg, s.params, { decoder: 'int8' })]) {
        assert.ok(!names(bytes).includes('embedding') && names(bytes).includes('decoder.int8'), names(bytes).join());
      }
      assert.ok(names(inferenceGraph(cfg, s.params)).includes('embedding'));
    }
    // The decoder behind an If (optionalLogProbs: what the editor serves): taken, the same numbers; not
    // taken, the same state and no log-probabilities (the decoder, an onnxruntime kernel in the branch,
    // did not run).
    const optional = await createSession(inferenceGraph(cfg, s.params, { decoder: 'int8', optionalLogProbs: true }), { threads: 1 });
    for (const want of [true, false]) {
      const out = await optional.run({ ...feeds(6), want_log_probs: new ort.Tensor('bool', Uint8Array.of(want ? 1 : 0), []) });
      if (want) assert.deepEqual(floatData(out.log_probs, 'log_probs'), lp8);
      else assert.deepEqual(out.log_probs!.dims, [0, 1, V]);
      assert.deepEqual(floatData(out.hT, 'hT'), floatData(i8.hT, 'hT'));
    }
    await optional.release();
    // The scoring graph with an int8 decoder, on the first 4 of those inputs: the same log p(target) as the
    // int8 inference model (each row's logits depend on that row alone, not on the run's other rows).
    const sc = await run(scoreGraph(cfg, s.params, { decoder: 'int8' }), 5);
    const logp = floatData(sc.logp, 'logp');
    assert.equal(logp.length, 4);
    for (let t = 0; t < 4; t++) assert.ok(Math.abs(logp[t]! - lp8[t * V + s.tokens[t + 1]!]!) < 1e-4, `logp[${t}]`);
  });
}

test('an int8 decoder needs the weights as initializers', () => {
  const cfg: ModelConfig = { cell: 'lstm', layers: 1, vocab: 10, embed: 4, hidden: 4, tied: true };
  assert.throws(() => scoreGraph(cfg, undefined, { decoder: 'int8' }), /int8 decoder needs the weights/);
});

test('parameters read back in paced pieces are the parameters read at once, for float16 and float32 weights larger than a piece', async () => {
  const { parametersFromModel, parametersFromModelPaced } = await import('../../../src/core/graphs/inference-graph.js');
  // An embedding of 3,000 × 128 = 384,000 weights: more than one piece (2^18) of the paced reader.
  const cfg: ModelConfig = { cell: 'lstm', layers: 1, vocab: 3000, embed: 128, hidden: 128, tied: true };
  const rand = mulberry32(5);
  const size = parameterLayout(cfg).reduce((n, p) => n + p.size, 0);
  const params = Float32Array.from({ length: size }, () => rand() - 0.5);
  for (const precision of ['float16', 'float32'] as const) {
    const bytes = inferenceGraph(cfg, params, { precision });
    let pauses = 0;
    const paced = await parametersFromModelPaced(cfg, bytes, async () => void pauses++);
    assert.deepEqual(paced, parametersFromModel(cfg, bytes), precision);
    if (precision === 'float32') assert.deepEqual(paced, params);
    assert.ok(pauses >= 3, `${precision}: paused ${pauses} times (the decode, and the embedding in two pieces at least)`);
  }
  const other: ModelConfig = { ...cfg, hidden: 64, embed: 64 };
  await assert.rejects(parametersFromModelPaced(other, inferenceGraph(cfg, params), async () => {}), /is 3000×128 .* expected float 3000×64/);
});
