// ModelSession: a saved model opened for the editor. Its scorer (float32 decoder) against the float64
// reference model with the same weights: without the cache (the ONNX scoring graph) and with it (the mixture, against the same
// cache over the reference), from any state; chunks carrying the state against one whole run; the
// vocabulary counts read from model.json; release while a run is in flight; the default int8 decoder
// close to float32.
//
// Shapes: n ids, V vocabulary, L layers, H hidden.

import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { modelMeta } from '../../../src/io/export-model.js';
import { inferenceGraph } from '../../../src/core/graphs/inference-graph.js';
import type { RecurrentState } from '../../../src/core/model/language-model.js';
import { parameterCount, type ModelConfig } from '../../../src/core/model/model-config.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import { ReferenceLanguageModel } from '../../support/reference-model.js';
import { CacheLanguageModel, cachedIdsOf } from '../../../src/core/predict/cache-model.js';
import type { LanguageModel } from '../../../src/core/model/language-model.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { saveModel } from '../../../src/io/model-store.js';
import { ModelSession } from '../../../src/runtime/serving/model-session.js';
import { assertOwnSchedulingGroup } from '../../support/scheduling.js';
import { RemoteServing, ServerOpenError } from '../../../src/runtime/serving/remote-serving.js';
import { ServerProcess } from '../../../src/runtime/serving/server-process.js';
import { answerQuery, type PredictionQuery } from '../../../src/core/completion/completion-answer.js';
import { Predictor } from '../../../src/core/predict/predictor.js';
import { KneserNey } from '../../../src/core/ngram/kneser-ney.js';

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
      assert.deepEqual(Array.from(whole.rank!), Array.from(expected.rank), 'ranks');
      assertClose(whole.state.h, expected.state.h, 'state h');

      // Two chunks: the second starts at the first's last target, from the state after its inputs.
      const first = await session.scorer.scoreChunk(ids.subarray(0, 13), session.scorer.initialState());
      const second = await session.scorer.scoreChunk(ids.subarray(12), first.state);
      assertClose(Float32Array.from([...first.logp, ...second.logp]), expected.logp, 'chunked logp');
      assert.deepEqual([...first.rank!, ...second.rank!], Array.from(expected.rank), 'chunked ranks');

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

test('with its companion served by the model server, the baseline scores as the companion in this process; a damaged or mismatched one is reported; release has the server let go of it', async () => {
  const { onnx, meta, kn, other, dir, rand } = companionFixture(21);
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
      assert.ok((await serverModels()).length > 0, 'the server holds the companion');
    } finally {
      await local.release();
      await served.release();
    }
    assert.ok(await waitUntilReleased(), 'released with the model');

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

/** Whether process `pid` is alive (not gone, not a zombie). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** The models the model server holds. */
async function serverModels(): Promise<number[]> {
  return (await ServerProcess.for().census()).models;
}

/** Until the model server holds none of this file's models (or `model`), within 5 s. */
async function waitUntilReleased(model?: number): Promise<boolean> {
  const held = async () => (await serverModels()).filter((m) => model === undefined || m === model).length > 0;
  const deadline = Date.now() + 5000;
  while ((await held()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return !(await held());
}

test('served by the model server (the editor\'s way), a model predicts, answers and scores exactly as opened here; release has the server let go of it', async () => {
  const vocab = Vocabulary.fromJSON(WORDS);
  const rand = mulberry32(77);
  // 150 ids: the server scores a chunk in slices of 64 targets (as the scoring graph's own runs).
  const ids = Int32Array.from({ length: 150 }, () => Math.floor(rand() * WORDS.length));
  const big: ModelConfig = { cell: 'lstm', layers: 1, vocab: WORDS.length, embed: 6, hidden: 128, tied: false };
  for (const cfg of [...configs, big]) {
    const { dir } = await savedModel(cfg, vocab);
    try {
      for (const decoder of ['int8', 'float32'] as const) {
        const what = `${cfg.cell} H${cfg.hidden} ${decoder}`;
        const here = await ModelSession.open(dir, { decoder });
        const served = await RemoteServing.openSaved(dir, { threads: 1, scoringThreads: 2, decoder });
        try {
          assert.ok(served.pid && served.pid !== process.pid, `${what}: in a process of its own`);
          assert.ok((await serverModels()).includes(served.serverModel), `${what}: held by the server`);
          if (process.platform === 'linux') {
            // Every thread, onnxruntime's pools included, below the editor and above training.
            const nice = readdirSync(`/proc/${served.pid}/task`).map((tid) => {
              const stat = readFileSync(`/proc/${served.pid}/task/${tid}/stat`, 'utf8');
              return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
            });
            assert.ok(nice.length > 1 && nice.every((n) => n === 5), `${what}: threads at ${JSON.stringify(nice)}`);
            assertOwnSchedulingGroup(served.pid!, 5);
          }
          assert.equal(served.dir, here.dir);
          assert.equal(served.decoder, decoder);
          assert.deepEqual(served.meta, here.meta);
          assert.deepEqual(served.vocab.toJSON(), here.vocab.toJSON());
          assert.equal(served.mode, here.mode);
          assert.deepEqual(served.model.initialState(), here.model.initialState());
          const a = await here.model.run(ids.subarray(0, 40), here.model.initialState());
          const b = await served.model.run(ids.subarray(0, 40), served.model.initialState());
          assert.deepEqual(b.logProbs, a.logProbs, `${what}: the same predictions`);
          assert.deepEqual(b.state, a.state, `${what}: the same state`);
          const start = here.scorer.initialState();
          const [local, remote] = [await here.scorer.scoreChunk(ids, start), await served.scorer.scoreChunk(ids, served.scorer.initialState())];
          assert.deepEqual(remote, local, `${what}: the same scores and state for a chunk scored in slices`);
          assert.deepEqual(await served.scorer.scoreSequence(ids), await here.scorer.scoreSequence(ids), `${what}: the same sequence scores`);
          const query: PredictionQuery = { textBefore: 'the cat sat on', character: 14, explicit: true, maxWords: 3, minConfidence: 0 };
          assert.deepEqual(await served.predictor.answer(query), await answerQuery(new Predictor(here.model, here.vocab, here.mode), query), `${what}: the same answer`);
        } finally {
          await here.release();
          await served.release();
        }
        assert.ok(await waitUntilReleased(served.serverModel), `${what}: the server let go of it once released`);
        assert.ok(alive(served.pid!), `${what}: the server runs on`);
        await assert.rejects(served.model.run(ids.subarray(0, 2), served.model.initialState()), /released/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('served by a model server, a prediction asked for while a long file is being scored is answered first, and the scores are still exact', async (t) => {
  const vocab = Vocabulary.fromJSON(WORDS);
  const cfg: ModelConfig = { cell: 'lstm', layers: 1, vocab: WORDS.length, embed: 6, hidden: 128, tied: false };
  const { dir } = await savedModel(cfg, vocab);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const here = await ModelSession.open(dir);
  const served = await RemoteServing.openSaved(dir, { threads: 1, scoringThreads: 1 });
  t.after(() => Promise.all([here.release(), served.release()]));
  const rand = mulberry32(3);
  const long = Int32Array.from({ length: 20_000 }, () => Math.floor(rand() * WORDS.length));
  const order: string[] = [];
  const t0 = performance.now();
  const scoring = served.scorer.scoreChunk(long, served.scorer.initialState()).then((r) => (order.push('scores'), r));
  await new Promise((r) => setTimeout(r, 30)); // scoring has started
  const predicted = served.model.run(long.subarray(0, 3), served.model.initialState()).then((r) => (order.push('prediction'), r));
  const [scores, prediction] = await Promise.all([scoring, predicted]);
  assert.deepEqual(order, ['prediction', 'scores'], `scoring took ${Math.round(performance.now() - t0)} ms`);
  assert.deepEqual(prediction.logProbs, (await here.model.run(long.subarray(0, 3), here.model.initialState())).logProbs);
  assert.deepEqual(scores, await here.scorer.scoreChunk(long, here.scorer.initialState()));
});

test('served by a model server, the baseline is the companion scored in the same process; a damaged one is reported and the network still serves', async () => {
  const { onnx, meta, kn, dir, rand } = companionFixture(31);
  try {
    await saveModel(dir, { onnx, meta, ngram: kn.toBytes() });
    const local = await ModelSession.open(dir);
    const served = await RemoteServing.openSaved(dir, { threads: 1, scoringThreads: 1 });
    // 200 ids: the baseline is scored in slices of 32 targets.
    const ids = Int32Array.from({ length: 200 }, () => Math.floor(rand() * WORDS.length));
    try {
      assert.ok(served.baseline && local.baseline, served.ngramProblem);
      assert.equal(served.baseline.order, local.baseline.order);
      assert.equal(served.baseline.pid, served.pid, 'one process serves both');
      assert.deepEqual(served.baseline.scorer.initialState(), local.baseline.scorer.initialState());
      const state = local.baseline.scorer.initialState();
      assert.deepEqual(await served.baseline.scorer.scoreChunk(ids, state), await local.baseline.scorer.scoreChunk(ids, state));
      assert.deepEqual(await served.baseline.scorer.scoreSequence(ids), await local.baseline.scorer.scoreSequence(ids));
      // The network's scorer is not the baseline's.
      assert.notDeepEqual((await served.scorer.scoreChunk(ids, served.scorer.initialState())).logp, (await served.baseline.scorer.scoreChunk(ids, state)).logp);
    } finally {
      await local.release();
      await served.release();
    }
    const companion = path.join(dir, (JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { ngram: { file: string } }).ngram.file);
    const bytes = readFileSync(companion);
    bytes[bytes.length - 1] ^= 0xff; // same length, other contents
    writeFileSync(companion, bytes);
    const damaged = await RemoteServing.openSaved(dir, { threads: 1, scoringThreads: 1 });
    try {
      assert.equal(damaged.baseline, undefined);
      assert.match(damaged.ngramProblem ?? '', /sha256/);
      assert.ok((await damaged.model.run(Int32Array.from([1, 2]), damaged.model.initialState())).logProbs.length > 0, 'the network still serves');
    } finally {
      await damaged.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('served by a model server, a missing or damaged model fails as it does here (the same error and code); a server that cannot start or dies says so', async (t) => {
  const vocab = Vocabulary.fromJSON(WORDS);
  const { dir } = await savedModel(configs[0]!, vocab);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const opts = { threads: 1, scoringThreads: 1 };
  const failure = (p: Promise<unknown>) => p.then(() => assert.fail('opened'), (e: Error & { code?: string }) => ({ name: e.name, code: e.code, message: e.message }));
  const missing = path.join(dir, 'nothing-here');
  assert.deepEqual(await failure(RemoteServing.openSaved(missing, opts)), await failure(ModelSession.open(missing)));
  assert.equal((await failure(RemoteServing.openSaved(missing, opts))).code, 'no-model');
  // Another model's weights under this model.json: same length and name, other contents.
  const onnxFile = path.join(dir, (JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { onnx: { file: string } }).onnx.file);
  const original = readFileSync(onnxFile);
  const bytes = Buffer.from(original);
  bytes[bytes.length >> 1] ^= 0x55;
  writeFileSync(onnxFile, bytes);
  const damaged = await failure(RemoteServing.openSaved(dir, opts));
  assert.deepEqual(damaged, await failure(ModelSession.open(dir)));
  assert.equal(damaged.code, 'corrupt');
  writeFileSync(onnxFile, original);

  // A server that exits before it is ready: a process failure (the editor then opens the model itself).
  const script = path.join(dir, 'exits.js');
  writeFileSync(script, 'process.exit(3)');
  const early = await RemoteServing.openSaved(dir, opts, script).then(() => assert.fail('opened'), (e: unknown) => e);
  assert.ok(early instanceof ServerOpenError && early.reason === 'process', String(early));
  assert.match(early.message, /exited \(code 3\)/);

  // A server killed while serving: its calls fail, later ones too, and its listener hears of it once.
  const served = await RemoteServing.openSaved(dir, opts);
  const heard: string[] = [];
  served.onExit((e) => heard.push(e.message));
  process.kill(served.pid!, 'SIGKILL');
  await assert.rejects(served.model.run(Int32Array.from([1, 2, 3]), served.model.initialState()), /exited|model server/);
  await assert.rejects(served.predictor.answer({ textBefore: 'the', character: 3, explicit: false, maxWords: 2, minConfidence: 0 }), /exited|model server/);
  assert.equal(heard.length, 1);
  await served.release();
});
