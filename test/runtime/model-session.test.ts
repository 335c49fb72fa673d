// ModelSession: a saved model opened for the editor. Its scorer (float32 decoder) against the float64
// reference model with the same weights: without the cache (the ONNX scoring graph) and with it (the mixture, against the same
// cache over the reference), from any state; chunks carrying the state against one whole run; the
// vocabulary counts read from model.json; release while a run is in flight; the default int8 decoder
// close to float32.
//
// Shapes: n ids, V vocabulary, L layers, H hidden.

import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { modelMeta } from '../../src/io/export-model.js';
import { inferenceGraph } from '../../src/core/graphs/inference-graph.js';
import type { RecurrentState } from '../../src/core/language-model.js';
import { parameterCount, type ModelConfig } from '../../src/core/model-config.js';
import { mulberry32 } from '../../src/core/random.js';
import { ReferenceLanguageModel } from '../../src/core/reference-model.js';
import { CacheLanguageModel, cachedIdsOf } from '../../src/core/cache-model.js';
import type { LanguageModel } from '../../src/core/language-model.js';
import { Vocabulary } from '../../src/core/vocabulary.js';
import { saveModel } from '../../src/io/model-store.js';
import { ModelSession } from '../../src/runtime/model-session.js';
import { KneserNey } from '../../src/core/ngram/kneser-ney.js';

const WORDS = ['<unk>', '\n', 'the', ' cat', ' sat', ' on', ' mat', '.', ' a', ' dog', ','];
const COUNTS = [5, 40, 30, 12, 9, 8, 7, 20, 6, 4, 3];

async function savedModel(cfg: ModelConfig, vocab: Vocabulary): Promise<{ dir: string; params: Float32Array }> {
  const rand = mulberry32(cfg.layers * 7 + cfg.hidden);
  const params = Float32Array.from({ length: parameterCount(cfg) }, () => (rand() * 2 - 1) * 0.5);
  const dir = mkdtempSync(path.join(tmpdir(), 'nextword-session-'));
  const meta = modelMeta({ cfg, params, vocab, tokenizer: 'text' }) as unknown as Record<string, unknown>;
  await saveModel(dir, { onnx: inferenceGraph(cfg, params, { docString: 'test model' }), meta });
  return { dir, params };
}

/** Reference log p(ids[t+1] | ids[0..t], state) and ranks (tokens scoring strictly higher). */
async function referenceScores(ref: LanguageModel, ids: Int32Array, state: RecurrentState) {
  const V = ref.vocabSize;
  const out = await ref.run(ids.subarray(0, ids.length - 1), state);
  const m = ids.length - 1;
  const logp = new Float32Array(m);
  const rank = new Int32Array(m);
  for (let t = 0; t < m; t++) {
    const target = out.logProbs[t * V + ids[t + 1]!]!;
    logp[t] = target;
    for (let v = 0; v < V; v++) if (out.logProbs[t * V + v]! > target) rank[t]!++;
  }
  return { logp, rank, state: out.state };
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!)), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

const configs: ModelConfig[] = [
  { cell: 'lstm', layers: 2, vocab: WORDS.length, embed: 6, hidden: 6, tied: true },
  { cell: 'rnn', layers: 1, vocab: WORDS.length, embed: 5, hidden: 7, tied: false },
];

for (const [cfg, cached] of configs.flatMap((c) => [[c, false], [c, true]] as const)) {
  test(`${cfg.cell} L${cfg.layers}${cached ? ' with the document cache' : ''}: the scorer matches the reference, from the start and from a carried state`, async () => {
    const vocab = Vocabulary.fromJSON(WORDS);
    const { dir, params } = await savedModel(cfg, vocab);
    const cache = { lambda: 0.3, window: 8 };
    const session = await ModelSession.open(dir, { cache: cached ? cache : false, decoder: 'float32' });
    try {
      const network = new ReferenceLanguageModel(cfg, params);
      const ref = cached ? new CacheLanguageModel(network, cachedIdsOf(vocab), cache) : network;
      const rand = mulberry32(99);
      const ids = Int32Array.from({ length: 30 }, () => Math.floor(rand() * WORDS.length));

      const whole = await session.scorer.scoreChunk(ids, session.scorer.initialState());
      const expected = await referenceScores(ref, ids, ref.initialState());
      assertClose(whole.logp, expected.logp, 'logp');
      assert.deepEqual(Array.from(whole.rank), Array.from(expected.rank), 'ranks');
      assertClose(whole.state.h, expected.state.h, 'state h');

      // Two chunks: the second starts at the first's last target, from the state after its inputs.
      const first = await session.scorer.scoreChunk(ids.subarray(0, 13), session.scorer.initialState());
      const second = await session.scorer.scoreChunk(ids.subarray(12), first.state);
      assertClose(Float32Array.from([...first.logp, ...second.logp]), expected.logp, 'chunked logp');
      assert.deepEqual([...first.rank, ...second.rank], Array.from(expected.rank), 'chunked ranks');

      const seq = await session.scorer.scoreSequence(ids);
      assertClose(seq.logp, expected.logp, 'scoreSequence logp');
    } finally {
      await session.release();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the vocabulary has its corpus counts when model.json records them', async () => {
  const cfg = configs[0]!;
  const withCounts = await savedModel(cfg, Vocabulary.fromJSON({ words: WORDS, counts: COUNTS }));
  const noCounts = await savedModel(cfg, Vocabulary.fromJSON(WORDS));
  const a = await ModelSession.open(withCounts.dir);
  const b = await ModelSession.open(noCounts.dir);
  try {
    assert.deepEqual(WORDS.map((_, id) => a.vocab.count(id)), COUNTS);
    assert.equal(b.vocab.count(3), undefined);
    assert.equal(b.vocab.size, WORDS.length);
  } finally {
    await a.release();
    await b.release();
    rmSync(withCounts.dir, { recursive: true, force: true });
    rmSync(noCounts.dir, { recursive: true, force: true });
  }
});

test('release waits for a scoring run in flight, and later runs fail with a message', async () => {
  const cfg = configs[0]!;
  const { dir } = await savedModel(cfg, Vocabulary.fromJSON(WORDS));
  const session = await ModelSession.open(dir);
  try {
    const ids = Int32Array.from([1, 2, 3, 4, 5, 6, 7]);
    const inFlight = session.scorer.scoreChunk(ids, session.scorer.initialState());
    await session.release();
    assert.equal((await inFlight).logp.length, 6);
    await assert.rejects(session.scorer.scoreChunk(ids, session.scorer.initialState()), /after release/);
    await assert.rejects(session.lm.run(ids, session.lm.initialState()), /after release/);
    await session.release(); // twice is harmless
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('by default the decoder is int8: scores and predictions close to the float32 decoder’s, not identical', async () => {
  const cfg: ModelConfig = { cell: 'lstm', layers: 1, vocab: WORDS.length, embed: 16, hidden: 16, tied: true };
  const vocab = Vocabulary.fromJSON(WORDS);
  const { dir } = await savedModel(cfg, vocab);
  const int8 = await ModelSession.open(dir);
  const float = await ModelSession.open(dir, { decoder: 'float32' });
  try {
    assert.equal(int8.decoder, 'int8');
    const rand = mulberry32(7);
    const ids = Int32Array.from({ length: 40 }, () => Math.floor(rand() * WORDS.length));
    const a = await int8.scorer.scoreSequence(ids);
    const b = await float.scorer.scoreSequence(ids);
    assertClose(a.logp, b.logp, 'int8 logp', 0.02);
    const p = await int8.model.run(ids, int8.model.initialState());
    const q = await float.model.run(ids, float.model.initialState());
    assertClose(p.logProbs, q.logProbs, 'int8 log-probabilities', 0.02);
    assert.ok(p.logProbs.some((v, i) => v !== q.logProbs[i]), 'the int8 session is a different computation');
  } finally {
    await int8.release();
    await float.release();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A small model with an n-gram companion (`kn`) and one for another vocabulary (`other`), in a fresh folder. */
function companionFixture(seed: number) {
  const cfg = configs[0]!;
  const vocab = Vocabulary.fromJSON({ words: WORDS, counts: COUNTS });
  const rand = mulberry32(seed);
  const seqs = [Int32Array.from({ length: 400 }, () => Math.floor(rand() * WORDS.length))];
  const kn = KneserNey.train(seqs, { vocabSize: WORDS.length, startId: 1 });
  const other = KneserNey.train([Int32Array.from([1, 2, 3])], { vocabSize: WORDS.length + 1, startId: 1 });
  const rand2 = mulberry32(seed + 1);
  const params = Float32Array.from({ length: parameterCount(cfg) }, () => (rand2() * 2 - 1) * 0.5);
  const meta = modelMeta({ cfg, params, vocab, tokenizer: 'text' }) as unknown as Record<string, unknown>;
  const onnx = inferenceGraph(cfg, params, { docString: 'test model' });
  const dir = mkdtempSync(path.join(tmpdir(), 'nextword-session-'));
  return { onnx, meta, kn, other, dir, rand };
}

test('the n-gram companion saved with a model is loaded with it; a mismatched one is reported, the model still loads', async () => {
  const { onnx, meta, kn, other, dir } = companionFixture(11);
  try {
    await saveModel(dir, { onnx, meta, ngram: kn.toBytes() });
    const s = await ModelSession.open(dir);
    try {
      assert.ok(s.ngram, s.ngramProblem);
      assert.deepEqual(s.ngram.toBytes(), kn.toBytes());
      assert.equal(s.ngramProblem, undefined);
    } finally {
      await s.release();
    }
    await saveModel(dir, { onnx, meta, ngram: other.toBytes() });
    const t = await ModelSession.open(dir);
    try {
      assert.equal(t.ngram, undefined);
      assert.match(t.ngramProblem ?? '', /the n-gram model has 12 ids, the model's vocabulary 11/);
      assert.ok((await t.model.run(Int32Array.from([1, 2]), t.model.initialState())).logProbs.length > 0, 'the network still serves');
    } finally {
      await t.release();
    }
    await saveModel(dir, { onnx, meta, ngram: new Uint8Array([1, 2, 3, 4, 5]) });
    const u = await ModelSession.open(dir);
    try {
      assert.equal(u.ngram, undefined);
      assert.match(u.ngramProblem ?? '', /NWKN|magic|too short|bytes/i);
    } finally {
      await u.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('served by an n-gram server (the editor\'s way), the baseline scores as the companion in this process; a damaged or mismatched one is reported; release ends the server', async () => {
  const { onnx, meta, kn, other, dir, rand } = companionFixture(21);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    } catch {
      return false;
    }
  };
  try {
    await saveModel(dir, { onnx, meta, ngram: kn.toBytes() });
    const local = await ModelSession.open(dir);
    const served = await ModelSession.open(dir, { companion: 'server' });
    const ids = Int32Array.from({ length: 200 }, () => Math.floor(rand() * WORDS.length));
    try {
      assert.equal(served.ngram, undefined, 'not in this process');
      assert.ok(served.baseline && local.baseline, served.ngramProblem);
      assert.equal(served.baseline.order, local.baseline.order);
      assert.ok(served.baseline.pid && served.baseline.pid !== process.pid);
      assert.deepEqual(await served.baseline.scorer.scoreSequence(ids), await local.baseline.scorer.scoreSequence(ids));
      const state = served.baseline.scorer.initialState();
      assert.deepEqual(await served.baseline.scorer.scoreChunk(ids.subarray(0, 65), state), await local.baseline.scorer.scoreChunk(ids.subarray(0, 65), state));
    } finally {
      await local.release();
      await served.release();
    }
    const pid = served.baseline!.pid!;
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(!alive(pid), 'released with the model');

    const companion = path.join(dir, (JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { ngram: { file: string } }).ngram.file);
    const bytes = readFileSync(companion);
    bytes[bytes.length - 1] ^= 0xff; // same length, other contents
    writeFileSync(companion, bytes);
    const damaged = await ModelSession.open(dir, { companion: 'server' });
    try {
      assert.equal(damaged.baseline, undefined);
      assert.match(damaged.ngramProblem ?? '', /the sha256 of ngram-[0-9a-f]{16}\.bin does not match model\.json/);
      assert.ok((await damaged.model.run(Int32Array.from([1, 2]), damaged.model.initialState())).logProbs.length > 0, 'the network still serves');
    } finally {
      await damaged.release();
    }
    await saveModel(dir, { onnx, meta, ngram: other.toBytes() });
    const mismatched = await ModelSession.open(dir, { companion: 'server' });
    try {
      assert.equal(mismatched.baseline, undefined);
      assert.match(mismatched.ngramProblem ?? '', /the n-gram model has 12 ids, the vocabulary 11/);
    } finally {
      await mismatched.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prepared off the thread (the editor\'s way), a model predicts and scores exactly as opened here, and its graphs\' scratch files are gone once loaded', async () => {
  const vocab = Vocabulary.fromJSON(WORDS);
  const scratch = mkdtempSync(path.join(tmpdir(), 'nextword-scratch-'));
  const rand = mulberry32(77);
  const ids = Int32Array.from({ length: 150 }, () => Math.floor(rand() * WORDS.length));
  // Large enough that its recurrent weights (4·128·134 floats, 274 KB) are handed to onnxruntime as
  // external data; the others' initializers all stay inside their graphs.
  const withExternalData: ModelConfig = { cell: 'lstm', layers: 1, vocab: WORDS.length, embed: 6, hidden: 128, tied: false };
  for (const cfg of [...configs, withExternalData]) {
    const { dir } = await savedModel(cfg, vocab);
    try {
      for (const [decoder, cache] of [['int8', undefined], ['float32', undefined], ['int8', false]] as const) {
        const what = `${cfg.cell} ${decoder}${cache === false ? ' without the cache' : ''}`;
        const opts = { decoder, ...(cache === false ? { cache } : {}) };
        const here = await ModelSession.open(dir, opts);
        const off = await ModelSession.open(dir, { ...opts, companion: 'server', prepareOffThread: { scratchDir: scratch } });
        try {
          assert.deepEqual(readdirSync(scratch).filter((f) => f.includes('inference')), [], `${what}: the inference graph's file is removed once loaded`);
          assert.equal(off.dir, here.dir);
          assert.deepEqual(off.vocab.toJSON(), here.vocab.toJSON());
          const a = await here.model.run(ids.subarray(0, 40), here.model.initialState());
          const b = await off.model.run(ids.subarray(0, 40), off.model.initialState());
          assert.deepEqual(b.logProbs, a.logProbs, `${what}: the same predictions`);
          assert.deepEqual(await off.scorer.scoreSequence(ids), await here.scorer.scoreSequence(ids), `${what}: the same scores`);
          assert.deepEqual(readdirSync(scratch), [], `${what}: the scoring graph's file is removed once loaded`);
        } finally {
          await here.release();
          await off.release();
        }
      }
      // Never scored: its scoring graph's files go with the model.
      const unused = await ModelSession.open(dir, { companion: 'server', prepareOffThread: { scratchDir: scratch } });
      const waiting = cfg === withExternalData ? ['scoring.data', 'scoring.onnx'] : ['scoring.onnx'];
      assert.deepEqual(readdirSync(scratch).map((f) => f.replace(/^serving-\d+-\d+-\d+-/, '')).sort(), waiting, 'the scoring graph (with its external data when it has some) waits for its first use');
      await unused.release();
      assert.deepEqual(readdirSync(scratch), [], 'and is removed at release when it never came');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

test('prepared off the thread, a missing or damaged model fails as it does here (the same error and code), leaving no scratch file; a dead process\'s are removed', async () => {
  const vocab = Vocabulary.fromJSON(WORDS);
  const scratch = mkdtempSync(path.join(tmpdir(), 'nextword-scratch-'));
  const { dir } = await savedModel(configs[0]!, vocab);
  const off = { companion: 'server' as const, prepareOffThread: { scratchDir: scratch } };
  try {
    const failure = (p: Promise<unknown>) => p.then(() => assert.fail('opened'), (e: Error & { code?: string }) => ({ name: e.name, code: e.code, message: e.message }));
    const missing = path.join(dir, 'nothing-here');
    assert.deepEqual(await failure(ModelSession.open(missing, off)), await failure(ModelSession.open(missing)));
    assert.equal((await failure(ModelSession.open(missing, off))).code, 'no-model');
    // Another model's weights under this model.json: same length and name, other contents.
    const onnxFile = path.join(dir, (JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { onnx: { file: string } }).onnx.file);
    const bytes = readFileSync(onnxFile);
    bytes[bytes.length >> 1] ^= 0x55;
    writeFileSync(onnxFile, bytes);
    const damaged = await failure(ModelSession.open(dir, off));
    assert.deepEqual(damaged, await failure(ModelSession.open(dir)));
    assert.equal(damaged.code, 'corrupt');
    assert.deepEqual(readdirSync(scratch), [], 'nothing left behind');
    await assert.rejects(ModelSession.open(dir, { prepareOffThread: { scratchDir: scratch }, companion: 'in-process' }), /served by a process/);

    // Files a crashed editor left (its pid gone) are removed by the next load; a live process's stay.
    const gone = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
    writeFileSync(path.join(scratch, `serving-${gone}-0-1-inference.onnx`), 'x');
    writeFileSync(path.join(scratch, `serving-${gone}-0-1-inference.data`), 'x');
    writeFileSync(path.join(scratch, `serving-${process.pid}-9-9-scoring.onnx`), 'x');
    await failure(ModelSession.open(dir, off));
    assert.deepEqual(readdirSync(scratch), [`serving-${process.pid}-9-9-scoring.onnx`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
});
