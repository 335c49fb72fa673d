// Fuzzing model loading: whatever is in a model folder, ModelSession.open either loads a model that
// predicts, or rejects with an Error whose message names the folder and the problem; it never crashes the process,
// hangs, or throws a non-Error. The store's length and sha256 check would catch most damage on disk, so
// the damaged files are re-registered in model.json (their true length and hash): the layers behind the
// check (model.json validation, the ONNX protobuf decoder, onnxruntime, the n-gram reader) face the bytes.
//
// Cases (a fixed seed, so a failure reproduces): random bytes, truncations at random lengths and bit flips
// of model.json, of the ONNX file and of the n-gram companion; model.json with a wrong format version, a
// vocabulary of the wrong length and mismatched configurations. FUZZ_CASES=N in the environment scales the
// run (default 60 per kind).

import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { inferenceGraph } from '../../../src/core/graphs/inference-graph.js';
import { parameterCount, type ModelConfig } from '../../../src/core/model/model-config.js';
import { KneserNey } from '../../../src/core/ngram/kneser-ney.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { modelMeta } from '../../../src/io/export-model.js';
import { saveModel } from '../../../src/io/model-store.js';
import { ModelSession } from '../../../src/runtime/serving/model-session.js';

const CASES = Number(process.env.FUZZ_CASES ?? 60);
const WORDS = ['<unk>', '\n', 'the', ' cat', ' sat', ' on', ' mat', '.', ' a', ' dog', ','];
const cfg: ModelConfig = { cell: 'lstm', layers: 1, vocab: WORDS.length, embed: 6, hidden: 6, tied: true };
const rand = mulberry32(20261127);

const root = mkdtempSync(path.join(tmpdir(), 'nextword-fuzz-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

interface Pristine {
  onnx: Uint8Array;
  ngram: Uint8Array;
  meta: Record<string, unknown>;
}

let pristine: Pristine;
test.before(async () => {
  const r = mulberry32(5);
  const params = Float32Array.from({ length: parameterCount(cfg) }, () => (r() * 2 - 1) * 0.5);
  const ngram = KneserNey.train([Int32Array.from({ length: 300 }, () => Math.floor(r() * WORDS.length))], { vocabSize: WORDS.length, startId: 1 }).toBytes();
  // A plain Uint8Array copy: the encoder's output may be a Node Buffer, whose slice() is a view, not a copy.
  const onnx = new Uint8Array(inferenceGraph(cfg, params, { docString: 'fuzz' }));
  const meta = modelMeta({ cfg, params, vocab: Vocabulary.fromJSON(WORDS), tokenizer: 'text' }) as unknown as Record<string, unknown>;
  const dir = path.join(root, 'pristine');
  await saveModel(dir, { onnx, meta, ngram });
  pristine = { onnx, ngram, meta: JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) };
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let serial = 0;

/** A model folder holding exactly these bytes, model.json naming them with their true length and hash. */
function folder(files: { json?: Uint8Array | string; onnx?: Uint8Array; ngram?: Uint8Array; meta?: Record<string, unknown> }): string {
  const dir = path.join(root, `case-${serial++}`);
  const onnx = files.onnx ?? pristine.onnx;
  const ngram = files.ngram ?? pristine.ngram;
  const onnxFile = `model-${sha(onnx).slice(0, 16)}.onnx`;
  const ngramFile = `ngram-${sha(ngram).slice(0, 16)}.bin`;
  const meta = { ...(files.meta ?? pristine.meta), onnx: { file: onnxFile, bytes: onnx.length, sha256: sha(onnx) }, ngram: { file: ngramFile, bytes: ngram.length, sha256: sha(ngram) } };
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, onnxFile), onnx);
  writeFileSync(path.join(dir, ngramFile), ngram);
  writeFileSync(path.join(dir, 'model.json'), files.json ?? JSON.stringify(meta));
  return dir;
}

const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
const truncated = (b: Uint8Array) => b.slice(0, Math.floor(rand() * b.length));
function flipped(b: Uint8Array, flips: number): Uint8Array {
  const out = b.slice();
  for (let i = 0; i < flips; i++) out[Math.floor(rand() * out.length)]! ^= 1 << Math.floor(rand() * 8);
  return out;
}

const tally = { cases: 0, loaded: 0, refused: 0, companionDropped: 0 };

/** Opens `dir`: either a session that predicts finite-or-not numbers of the right shape, or an Error with a message. */
async function openOrRefuse(dir: string, what: string): Promise<ModelSession | undefined> {
  tally.cases++;
  let session: ModelSession;
  try {
    session = await ModelSession.open(dir);
  } catch (e) {
    assert.ok(e instanceof Error, `${what}: rejected with a non-Error ${String(e)}`);
    assert.ok(e.message.length > 0, `${what}: an error without a message`);
    assert.ok(e.message.includes(dir), `${what}: the message names the folder: ${e.message}`);
    if (process.env.FUZZ_VERBOSE) console.log(what, "→", e.message.slice(0, 200));
    tally.refused++;
    return undefined;
  }
  try {
    const out = await session.model.run(Int32Array.from([1, 2, 3]), session.model.initialState());
    assert.equal(out.logProbs.length, 3 * session.vocab.size, `${what}: one distribution per id`);
  } catch (e) {
    // A session that loaded may still fail to run damaged weights: with a message, never a crash.
    assert.ok(e instanceof Error && e.message.length > 0, `${what}: running failed without a message: ${String(e)}`);
  }
  if (session.ngramProblem) tally.companionDropped++;
  tally.loaded++;
  return session;
}

test('the pristine folder loads, with its companion', async () => {
  const s = await openOrRefuse(folder({}), 'pristine');
  assert.ok(s?.ngram, 'the companion is loaded');
  await s!.release();
});

test(`model.json: random bytes, truncations and bit flips (${3 * CASES} cases) are refused with a message`, async () => {
  const json = new TextEncoder().encode(JSON.stringify(pristine.meta));
  for (let i = 0; i < CASES; i++) {
    for (const [kind, bytes] of [['random', randomBytes(1 + Math.floor(rand() * 400))], ['truncated', truncated(json)], ['flipped', flipped(json, 1 + Math.floor(rand() * 4))]] as const) {
      const dir = folder({});
      writeFileSync(path.join(dir, 'model.json'), bytes);
      const s = await openOrRefuse(dir, `model.json ${kind} #${i}`);
      // A flip inside a vocabulary word or the date can leave a valid model.json: then it loads.
      if (s) await s.release();
    }
  }
});

test('model.json: wrong format versions, vocabularies and configurations are refused, naming the folder', async () => {
  const base = pristine.meta as { config: ModelConfig; vocabulary: string[] };
  const variants: [string, Record<string, unknown>, RegExp][] = [
    ['newer version', { ...pristine.meta, formatVersion: 2 }, /update Nextword/],
    ['older version', { ...pristine.meta, formatVersion: 0 }, /train the model again/],
    ['vocabulary too short', { ...pristine.meta, vocabulary: base.vocabulary.slice(0, -1) }, /vocabulary has 10 words but the model expects 11/],
    ['vocabulary too long', { ...pristine.meta, vocabulary: [...base.vocabulary, ' extra'] }, /vocabulary has 12 words but the model expects 11/],
    ['config vocab mismatch', { ...pristine.meta, config: { ...base.config, vocab: 12 }, vocabulary: [...base.vocabulary, ' x'] }, /./],
    ['hidden mismatch', { ...pristine.meta, config: { ...base.config, hidden: 8, embed: 8 } }, /./],
    ['cell mismatch', { ...pristine.meta, config: { ...base.config, cell: 'rnn' } }, /./],
    ['no config', { ...pristine.meta, config: undefined }, /config is missing/],
  ];
  for (const [what, meta, message] of variants) {
    const dir = folder({ meta });
    const s = await openOrRefuse(dir, what);
    assert.equal(s, undefined, `${what}: must be refused`);
    await assert.rejects(ModelSession.open(dir), (e: Error) => message.test(e.message), what);
  }
});

test(`the ONNX file: random bytes, truncations and bit flips (${3 * CASES} cases) load or are refused, never crash`, async () => {
  for (let i = 0; i < CASES; i++) {
    for (const [kind, onnx] of [
      ['random', randomBytes(1 + Math.floor(rand() * 4000))],
      ['truncated', truncated(pristine.onnx)],
      ['flipped', flipped(pristine.onnx, 1 + Math.floor(rand() * 8))],
    ] as const) {
      if (onnx.length === 0) continue;
      const s = await openOrRefuse(folder({ onnx }), `onnx ${kind} #${i}`);
      await s?.release();
    }
  }
});

test(`the n-gram companion: random bytes, truncations and bit flips (${3 * CASES} cases) never stop the model from loading`, async () => {
  for (let i = 0; i < CASES; i++) {
    for (const [kind, ngram] of [
      ['random', randomBytes(1 + Math.floor(rand() * 2000))],
      ['truncated', truncated(pristine.ngram)],
      ['flipped', flipped(pristine.ngram, 1 + Math.floor(rand() * 4))],
    ] as const) {
      if (ngram.length === 0) continue;
      const s = await openOrRefuse(folder({ ngram }), `ngram ${kind} #${i}`);
      assert.ok(s, `ngram ${kind} #${i}: the network must load whatever the companion holds`);
      assert.ok(s.ngram || s.ngramProblem, 'either the companion or the reason it is not used');
      if (s.ngram) {
        // A flip that leaves a valid model (a count, a discount): it must still be a distribution.
        const p = new Float64Array(WORDS.length);
        s.ngram.distribution([1, 2], p);
        const sum = p.reduce((a, lp) => a + Math.exp(lp), 0);
        assert.ok(Math.abs(sum - 1) < 1e-6, `ngram ${kind} #${i}: Σ p = ${sum}`);
      }
      await s.release();
    }
  }
});

test('tally (printed for the record)', () => {
  // Left behind: nothing but the case folders (removed after the run).
  assert.ok(readdirSync(root).length >= tally.cases - 1);
  assert.equal(tally.loaded + tally.refused, tally.cases);
  console.log(`model-loading fuzz: ${tally.cases} cases, ${tally.loaded} loaded (${tally.companionDropped} without their damaged companion), ${tally.refused} refused with a message, 0 crashes`);
});
