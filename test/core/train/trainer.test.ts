// The training loop against a scripted engine: schedule, best-epoch selection, time budget, cancellation.

import assert from 'node:assert/strict';
import test from 'node:test';
import { train, type TrainEngine, type TrainEvent, type TrainOptions } from '../../../src/core/train/trainer.js';
import type { SampledSoftmax } from '../../../src/core/train/train-step.js';

class ScriptedEngine implements TrainEngine {
  steps: { T: number; lr: number; masks?: Float32Array[]; sampled?: SampledSoftmax }[] = [];
  resets: number[] = [];
  evals = 0;
  /** Validation nll per token for each successive evaluation. */
  constructor(private readonly validLosses: number[]) {}
  resetState(B: number) {
    this.resets.push(B);
  }
  async step(_tokens: Int32Array, T: number, lr: number, _clip: number, masks?: Float32Array[], sampled?: SampledSoftmax) {
    this.steps.push({ T, lr, ...(masks ? { masks } : {}), ...(sampled ? { sampled } : {}) });
    return { loss: 2, gradNorm: 1 };
  }
  async evaluate(_d: Int32Array, rows: number, B: number) {
    const loss = this.validLosses[this.evals++]!;
    const count = (rows - 1) * B;
    return { nll: loss * count, count };
  }
  flatParams() {
    return Float32Array.of(this.evals); // "parameters" that say which epoch they come from
  }
}

const base: TrainOptions = {
  batch: 2, bptt: 5, lr: 8, clip: 1, optimizer: 'sgd', schedule: { kind: 'plateau', factor: 4 }, dropout: 0,
  maskWidths: [3, 3], epochs: 4, timeBudget: 0, seed: 1, evalBatch: 2, evalBptt: 5,
};
const data = { train: new Int32Array(42), valid: new Int32Array(20) };

test('plateau schedule divides the rate when validation stops improving; the best epoch is returned', async () => {
  const engine = new ScriptedEngine([3, 2, 2.5, 2.2, 2.1]);
  const events: TrainEvent[] = [];
  const r = await train(engine, data, { ...base, epochs: 5 }, { onEvent: (e) => events.push(e) });
  const lrs = engine.steps.filter((_, i) => i % 4 === 0).map((s) => s.lr);
  assert.deepEqual(lrs, [8, 8, 8, 2, 0.5]); // epoch 3 got worse → /4; epochs 4 and 5 did not beat epoch 2 → /4 each
  assert.equal(r.bestEpoch, 2);
  assert.equal(r.params[0], 2); // parameters taken right after epoch 2's validation
  assert.ok(Math.abs(r.bestValidPpl - Math.exp(2)) < 1e-9);
  assert.equal(engine.resets.length, 5);
  // 21 rows per stream → 20 targets → windows 5,5,5,5 per epoch
  assert.equal(engine.steps.length, 20);
  const epochs = events.filter((e) => e.kind === 'epoch');
  assert.deepEqual(epochs.map((e) => e.best), [true, true, false, false, false]);
  const last = events.filter((e) => e.kind === 'step').at(-1)!;
  assert.equal(last.kind === 'step' && last.etaS, 0);
});

test('decay schedule keeps the rate for `after` epochs, then multiplies it every epoch', async () => {
  const engine = new ScriptedEngine([4, 3, 2, 1]);
  await train(engine, data, { ...base, schedule: { kind: 'decay', after: 2, factor: 0.5 } });
  assert.deepEqual([...new Set(engine.steps.map((s) => s.lr))], [8, 4, 2]);
});

test('patience stops a run once that many epochs in a row bring no real progress; the best epoch is kept', async () => {
  // Validation losses (log perplexity): real progress at epochs 2 and 3; epoch 4 is a tiny gain (0.05 %
  // in perplexity: best, but not progress); epochs 5 and 6 are worse.
  const losses = [3, 2, 1.5, 1.5 - 0.0005, 1.6, 1.7, 1, 1];
  const engine = new ScriptedEngine(losses);
  const events: TrainEvent[] = [];
  const r = await train(engine, data, { ...base, epochs: 8, patience: 3 }, { onEvent: (e) => events.push(e) });
  assert.equal(r.stoppedBy, 'no-improvement');
  assert.equal(r.epochs, 6, 'three epochs without progress after epoch 3');
  assert.equal(r.bestEpoch, 4, 'the tiny gain is still the best model');
  assert.equal(r.params[0], 4);
  assert.deepEqual(events.filter((e) => e.kind === 'epoch').map((e) => e.kind === 'epoch' && e.best), [true, true, true, true, false, false]);
  // Without patience the same run goes on to its last epoch.
  const all = await train(new ScriptedEngine(losses), data, { ...base, epochs: 8 });
  assert.equal(all.stoppedBy, 'epochs');
  assert.equal(all.epochs, 8);
  assert.equal(all.bestEpoch, 7);
});

test('the time budget stops training and still validates the epoch in progress', async () => {
  const engine = new ScriptedEngine([3, 2, 1, 1]);
  let clock = 0;
  const r = await train(engine, data, { ...base, timeBudget: 2.5 }, { now: () => clock++ });
  assert.equal(r.stoppedBy, 'time-budget');
  assert.equal(r.epochs, 1);
  assert.ok(engine.steps.length < 4);
  assert.equal(engine.evals, 1);
});

test('dropout masks are drawn per step with the right sizes and values, reproducibly', async () => {
  const run = async () => {
    const engine = new ScriptedEngine([1, 1]);
    await train(engine, data, { ...base, epochs: 1, dropout: 0.5, maskWidths: [3, 4] });
    return engine.steps;
  };
  const a = await run();
  const b = await run();
  for (const s of a) {
    assert.equal(s.masks!.length, 2);
    assert.equal(s.masks![0]!.length, s.T * 2 * 3);
    assert.equal(s.masks![1]!.length, s.T * 2 * 4);
    assert.ok(s.masks!.every((m) => m.every((v) => v === 0 || v === 2)));
  }
  const kept = a.flatMap((s) => s.masks!.flatMap((m) => [...m])).filter((v) => v === 2).length;
  const total = a.reduce((n, s) => n + s.masks!.reduce((k, m) => k + m.length, 0), 0);
  assert.ok(Math.abs(kept / total - 0.5) < 0.1, `kept ${kept}/${total}`);
  assert.deepEqual(a.map((s) => [...s.masks![0]!]), b.map((s) => [...s.masks![0]!]));
});

test('cancellation stops between steps', async () => {
  const engine = new ScriptedEngine([1, 1, 1, 1]);
  const abort = new AbortController();
  await assert.rejects(
    train(engine, data, base, { signal: abort.signal, onEvent: (e) => e.kind === 'step' && e.step === 2 && abort.abort() }),
    { name: 'AbortError' },
  );
  assert.equal(engine.steps.length, 2);
});

test('bad options and too little text are refused with clear errors', async () => {
  const engine = new ScriptedEngine([1]);
  await assert.rejects(train(engine, data, { ...base, bptt: 0 }), /bptt must be a positive integer/);
  await assert.rejects(train(engine, data, { ...base, dropout: 1 }), /dropout/);
  await assert.rejects(train(engine, { train: new Int32Array(1), valid: data.valid }, base), /too short/);
  await assert.rejects(train(engine, { train: data.train, valid: new Int32Array(1) }, base), /validation text is too short/);
});

test('a sampled softmax: fresh samples every step of the sampled epochs, none in the last full-softmax epochs', async () => {
  const engine = new ScriptedEngine([3, 2, 1, 1]);
  const train42 = Int32Array.from({ length: 42 }, (_, i) => (i * 7) % 9); // ids 0..8 of a vocabulary of 12
  await train(engine, { train: train42, valid: data.valid }, { ...base, sampled: { samples: 5, vocab: 12, fullEpochs: 1 } });
  const perEpoch = 4;
  const sampledSteps = engine.steps.slice(0, 3 * perEpoch);
  assert.ok(sampledSteps.every((s) => s.sampled && s.sampled.ids.length === 5 && new Set(s.sampled.ids).size === 5));
  assert.ok(sampledSteps.every((s) => [...s.sampled!.ids].every((id) => id >= 0 && id < 12)));
  assert.ok(new Set(sampledSteps.map((s) => [...s.sampled!.ids].join())).size > 1, 'the samples change from step to step');
  assert.ok(engine.steps.slice(3 * perEpoch).every((s) => !s.sampled), 'the last epoch uses the full softmax');
  await assert.rejects(train(engine, data, { ...base, sampled: { samples: 0, vocab: 12, fullEpochs: 0 } }), /samples must be a positive integer/);
});

test('a short text trains on fewer streams, so that each holds several windows (several updates an epoch)', async () => {
  const { streamsFor, MIN_WINDOWS_PER_STREAM } = await import('../../../src/core/train/trainer.js');
  assert.equal(streamsFor(1_000_000, 40, 35), 40, 'a real workspace: the preset\'s streams');
  assert.equal(streamsFor(2700, 40, 35), Math.floor(2700 / (35 * MIN_WINDOWS_PER_STREAM)), 'a few thousand tokens');
  assert.equal(streamsFor(10, 40, 35), 1, 'never fewer than one stream');
  const engine = new ScriptedEngine([3, 2, 1, 1]);
  const r = await train(engine, { train: new Int32Array(200), valid: data.valid }, { ...base, batch: 40, bptt: 5 });
  assert.equal(r.batch, 10);
  assert.deepEqual([...new Set(engine.resets)], [10]);
  assert.equal(engine.steps.length, 4 * 4, 'four windows per stream, four epochs');
});
