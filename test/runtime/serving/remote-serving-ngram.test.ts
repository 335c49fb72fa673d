// The model server (a child process) serving an n-gram model serves exactly what the n-gram model serves in the caller's own
// thread: the same distributions, states, scores and predictions, for calls in any number at once; a model
// it cannot load is refused with the reason; a server that dies fails its calls and says so; released, the
// model is let go of.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import test from 'node:test';
import { assertOwnSchedulingGroup } from '../../support/scheduling.js';
import { answerQuery, type PredictionQuery } from '../../../src/core/completion/completion-answer.js';
import { startTokenId } from '../../../src/core/scoring/evaluation.js';
import { surprisingWords } from '../../../src/core/scoring/surprisal.js';
import { trainCompanion } from '../../../src/core/ngram/companion.js';
import { KneserNey } from '../../../src/core/ngram/kneser-ney.js';
import { NgramServing } from '../../../src/core/serving/ngram-serving.js';
import { Predictor } from '../../../src/core/predict/predictor.js';
import { countTextTokens, encodeTexts } from '../../../src/core/text/text-encoding.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { ServerProcess } from '../../../src/runtime/serving/server-process.js';
import { RemoteServing } from '../../../src/runtime/serving/remote-serving.js';

const ALICE = readFileSync(path.join(__dirname, '../../../samples/alice/train.txt'), 'utf8');

async function fixture(t: test.TestContext) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nextword-ngram-server-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const half = Math.floor(ALICE.length * 0.9);
  const texts = [ALICE.slice(0, half)];
  const validTexts = [ALICE.slice(half)];
  const vocab = Vocabulary.build(await countTextTokens(texts, { mode: 'text' }), { maxSize: 2000, minCount: 1 });
  const train = await encodeTexts(texts, vocab, { mode: 'text' });
  const valid = await encodeTexts(validTexts, vocab, { mode: 'text' });
  const { model } = trainCompanion(train.ids, valid.ids, { vocabSize: vocab.size, startId: startTokenId(vocab, 'text'), trainSizes: train.sizes, validSizes: valid.sizes });
  const file = path.join(dir, 'model.ngram-handover.tmp');
  const bytes = model.toBytes();
  writeFileSync(file, bytes);
  const local = new NgramServing(KneserNey.fromBytes(bytes), vocab, 'text');
  return { dir, file, vocab, local, ids: valid.ids };
}

test('the server answers run, advance, scoreChunk and scoreSequence exactly as the model in this thread', async (t) => {
  const { file, vocab, local, ids } = await fixture(t);
  const remote = await RemoteServing.openNgram(file, vocab, 'text');
  t.after(() => remote.release());
  unlinkSync(file); // once open, the server no longer needs the file
  assert.equal(remote.model.vocabSize, vocab.size);
  assert.deepEqual(remote.model.initialState(), local.model.initialState());
  assert.deepEqual(remote.scorer.initialState(), local.scorer.initialState());
  assert.equal(remote.order, 6);

  const head = ids.subarray(0, 40);
  let ls = local.model.initialState();
  let rs = remote.model.initialState();
  for (let at = 0; at < head.length; at += 8) {
    const part = head.subarray(at, at + 8);
    const l = await local.model.run(part, ls);
    const r = await remote.model.run(part, rs);
    assert.deepEqual(r.logProbs, l.logProbs, `distributions after ids ${at}…${at + 7}`);
    assert.deepEqual(r.state, l.state);
    ls = l.state;
    rs = r.state;
  }
  assert.deepEqual(await remote.model.advance!(ids.subarray(40, 90), rs), await local.model.advance!(ids.subarray(40, 90), ls));

  const chunk = ids.subarray(0, 300);
  const lc = await local.scorer.scoreChunk(chunk, local.scorer.initialState());
  const rc = await remote.scorer.scoreChunk(chunk, remote.scorer.initialState());
  assert.deepEqual(rc.logp, lc.logp);
  assert.deepEqual(rc.rank, lc.rank);
  assert.deepEqual(rc.state, lc.state);
  const seq = ids.subarray(0, 500);
  assert.deepEqual(await remote.scorer.scoreSequence(seq), await local.scorer.scoreSequence(seq));
});

test('predictions through the server are the predictor\'s predictions with the model in this thread, for calls made all at once', async (t) => {
  const { file, vocab, local } = await fixture(t);
  const remote = await RemoteServing.openNgram(file, vocab, 'text');
  t.after(() => remote.release());
  const contexts = ['Alice was beginning to get very tired of sitting by her ', 'said the ', 'The Queen ', 'and the White Rabbit w', 'Down, down, '];
  const viaServer = new Predictor(remote.model, vocab, 'text');
  const inThread = new Predictor(local.model, vocab, 'text');
  const opts = { maxWords: 4, minProb: 0.05, stopAtNewline: true };
  const [remoteTop, remotePhrases] = await Promise.all([
    Promise.all(contexts.map((c) => viaServer.topK(c, 5))),
    Promise.all(contexts.map((c) => viaServer.continuePhrase(c, opts))),
  ]);
  for (const [i, c] of contexts.entries()) {
    assert.deepEqual(remoteTop[i], await inThread.topK(c, 5), `top 5 after "${c}"`);
    assert.deepEqual(remotePhrases[i], await inThread.continuePhrase(c, opts), `phrase after "${c}"`);
  }
  assert.ok(remoteTop[1]!.length === 5, 'it predicts something');
});

test('a completion request through the server is one call, answered as in this thread, for texts sent as what changed and calls made all at once', async (t) => {
  const { file, vocab, local } = await fixture(t);
  const remote = await RemoteServing.openNgram(file, vocab, 'text');
  t.after(() => remote.release());
  const inThread = new Predictor(local.model, vocab, 'text');
  const line = 'Alice was beginning to get very tired of sitting by her sister on the bank';
  // Typing the line a character at a time, two backspaces, another document, a text that is a prefix of the
  // last one, the same text twice, an empty text.
  const texts = [...Array.from({ length: line.length }, (_, i) => line.slice(0, i + 1)), line.slice(0, -2), line.slice(0, -1) + 'e', 'The Queen said ', 'The Qu', 'The Qu', ''];
  const queries = texts.map((textBefore, i) => {
    const character = textBefore.length;
    const query: PredictionQuery = { textBefore, character, explicit: i % 7 === 3, maxWords: 4, minConfidence: 0.05 };
    return query;
  });
  const withSelection: PredictionQuery = { textBefore: 'said the ', character: 9, explicit: false, maxWords: 3, minConfidence: 0.05, selected: { startCharacter: 9, endCharacter: 9, text: 'Queen' } };
  queries.push(withSelection);
  const viaServer = await Promise.all(queries.map((q) => remote.predictor.answer(q)));
  for (const [i, q] of queries.entries()) {
    assert.deepEqual(viaServer[i], await answerQuery(inThread, q), `answer for ${JSON.stringify(q)}`);
  }
  assert.ok(viaServer.filter((a) => a.kind === 'items').length > texts.length / 2, 'it mostly predicts something');
  // An aborted answer is not waited for; the text it carried still counts for the next one.
  const aborted = new AbortController();
  const abandoned = remote.predictor.answer({ ...queries[0]!, textBefore: 'The Queen said to the ' }, aborted.signal);
  aborted.abort();
  await assert.rejects(abandoned, /aborted/);
  const next: PredictionQuery = { ...queries[0]!, textBefore: 'The Queen said to the K', character: 23 };
  assert.deepEqual(await remote.predictor.answer(next), await answerQuery(inThread, next));
  // The predictor's own calls go through the same texts.
  assert.deepEqual(await remote.predictor.topK('said the ', 5), await inThread.topK('said the ', 5));
  assert.deepEqual(await remote.predictor.continuePhrase('said the Q', { maxWords: 3, minProb: 0, stopAtNewline: true }), await inThread.continuePhrase('said the Q', { maxWords: 3, minProb: 0, stopAtNewline: true }));
  const [r, l] = [await remote.predictor.contextState('Down, down, d'), await inThread.contextState('Down, down, d')];
  assert.deepEqual([r.logProbs, r.tokens, r.partial], [l.logProbs, l.tokens, l.partial]);
});

test('a file that is not an n-gram model, or one for another vocabulary, is refused with the reason', async (t) => {
  const { dir, file, vocab } = await fixture(t);
  const junk = path.join(dir, 'junk.tmp');
  writeFileSync(junk, Buffer.from('this is not an n-gram model, not even close to one'));
  await assert.rejects(RemoteServing.openNgram(junk, vocab, 'text'), /the model could not be loaded: KneserNey\.fromBytes/);
  await assert.rejects(RemoteServing.openNgram(path.join(dir, 'missing.tmp'), vocab, 'text'), /could not be loaded: .*ENOENT/);
  const smaller = Vocabulary.fromJSON(vocab.toJSON().slice(0, 100));
  await assert.rejects(RemoteServing.openNgram(file, smaller, 'text'), /n-gram model has \d+ ids, the vocabulary 100/);
});

test('a server that dies fails its calls in flight and later ones, and tells its listener once; a released model is let go of without a word', async (t) => {
  const { file, vocab, ids, local } = await fixture(t);
  const remote = await RemoteServing.openNgram(file, vocab, 'text');
  const reasons: string[] = [];
  remote.onExit((e) => reasons.push(e.message));
  const inFlight = remote.scorer.scoreSequence(ids.subarray(0, 3000));
  process.kill(remote.pid!, 'SIGKILL');
  await assert.rejects(inFlight, /the model server exited/);
  await assert.rejects(remote.model.run(ids.subarray(0, 2), remote.model.initialState()), /the model server exited/);
  assert.deepEqual(reasons, ['the model server exited (signal SIGKILL)']);

  const other = await RemoteServing.openNgram(file, vocab, 'text');
  const otherReasons: string[] = [];
  other.onExit((e) => otherReasons.push(e.message));
  const pid = other.pid!;
  assert.notEqual(pid, remote.pid, 'a new server');
  const kept = await RemoteServing.openNgram(file, vocab, 'text');
  t.after(() => kept.release());
  assert.equal(kept.pid, pid, 'one server serves both');
  const census = () => ServerProcess.for().census();
  assert.deepEqual((await census()).models.sort(), [other.serverModel, kept.serverModel].sort());
  await other.release();
  await assert.rejects(other.model.run(ids.subarray(0, 2), other.model.initialState()), /released/);
  const deadline = Date.now() + 5000;
  while ((await census()).models.length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual((await census()).models, [kept.serverModel], 'the server let go of the released model');
  assert.ok(alive(pid), 'and serves on');
  assert.deepEqual(await kept.scorer.scoreSequence(ids.subarray(0, 50)), await local.scorer.scoreSequence(ids.subarray(0, 50)), 'the other model still answers as it should');
  assert.deepEqual(otherReasons, [], 'a release is not reported as a failure');
});

test('a prediction asked for while a long file is being scored is answered first, and the scores are still exact', async (t) => {
  const { file, vocab, local, ids } = await fixture(t);
  const remote = await RemoteServing.openNgram(file, vocab, 'text');
  t.after(() => remote.release());
  const long = Int32Array.from({ length: 20_000 }, (_, i) => ids[i % ids.length]!);
  const order: string[] = [];
  const scoring = remote.scorer.scoreSequence(long).then((r) => (order.push('scores'), r));
  await new Promise((r) => setTimeout(r, 50)); // scoring has started
  const predicted = remote.model.run(ids.subarray(0, 3), remote.model.initialState()).then((r) => (order.push('prediction'), r));
  const [scores, prediction] = await Promise.all([scoring, predicted]);
  assert.deepEqual(order, ['prediction', 'scores']);
  assert.deepEqual(prediction.logProbs, (await local.model.run(ids.subarray(0, 3), local.model.initialState())).logProbs);
  assert.deepEqual(scores, await local.scorer.scoreSequence(long));
});

test('surprising words through the server are those computed in this thread; a prediction asked meanwhile is answered first', async (t) => {
  const { file, vocab, local } = await fixture(t);
  const remote = await RemoteServing.openNgram(file, vocab, 'text');
  t.after(() => remote.release());
  // The end of the book, with a typo of a frequent word planted.
  const text = ALICE.slice(-12_000).replace(' said the ', ' siad the ');
  const rule = { marginBits: 8, nearMissMinP: 0.01 };
  const order: string[] = [];
  const asked = remote.surprising(text, rule, 3).then((r) => (order.push('surprising'), r));
  await new Promise((r) => setTimeout(r, 30));
  const predicted = remote.model.run(Int32Array.of(1, 2), remote.model.initialState()).then(() => order.push('prediction'));
  const [words] = await Promise.all([asked, predicted]);
  assert.deepEqual(order, ['prediction', 'surprising']);
  assert.deepEqual(words, await surprisingWords(local.model, vocab, 'text', text, { rule, alternatives: 3 }));
  const typo = words.flagged.find((w) => w.token === ' siad');
  assert.ok(typo, `the typo is flagged: ${words.flagged.map((w) => w.token).join('|')}`);
  assert.equal(typo.nearMiss?.word, ' said');
  assert.ok(words.flagged.length < words.words / 10, `${words.flagged.length} of ${words.words} words flagged`);
});

test('a model server whose parent is killed ends at once (no orphan keeps the model in memory)', { skip: process.platform === 'win32' && 'signals' }, async () => {
  const parent = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'ngram-server-parent.fixture.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve, reject) => {
    parent.stdout!.on('data', (d: Buffer) => {
      const m = /server (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    parent.once('exit', (code) => reject(new Error(`the parent exited first (${code})`)));
  });
  assert.ok(alive(pid), 'the server runs');
  parent.kill('SIGKILL');
  const deadline = Date.now() + 5000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!alive(pid), 'the server ended within 5 s of its parent');
});

/** Whether process `pid` runs (a zombie awaiting its reaper counts as ended). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return process.platform !== 'linux';
  }
}

test('a model server runs below the editor and above training: every thread of it at nice 5, and serving an n-gram model it never loads onnxruntime', { skip: process.platform !== 'linux' && 'read from /proc' }, async (t) => {
  const { file, vocab } = await fixture(t);
  const remote = await RemoteServing.openNgram(file, vocab, 'text');
  t.after(() => remote.release());
  const nice = readdirSync(`/proc/${remote.pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${remote.pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
  assert.ok(nice.length > 1 && nice.every((n) => n === 5), `threads at ${JSON.stringify(nice)}`);
  const own = readFileSync('/proc/self/stat', 'utf8');
  assert.equal(Number(own.slice(own.lastIndexOf(')') + 2).split(' ')[16]), 0, 'this process untouched');
  assertOwnSchedulingGroup(remote.pid!, 5);
  // Serving an n-gram model, the server never loads onnxruntime (it is imported for a saved model only).
  assert.deepEqual(readFileSync(`/proc/${remote.pid}/maps`, 'utf8').split('\n').filter((l) => /onnxruntime/.test(l)), []);
});
