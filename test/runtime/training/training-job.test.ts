// The training worker end to end: a real worker thread running the ONNX training graph.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import test from 'node:test';
import { assertOwnSchedulingGroup } from '../../support/scheduling.js';
import { dropoutMaskWidths, parameterCount, type ModelConfig } from '../../../src/core/model/model-config.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import type { TrainEvent, TrainOptions } from '../../../src/core/train/trainer.js';
import { createSession } from '../../../src/runtime/onnx/ort-session.js';
import { ServerProcess } from '../../../src/runtime/serving/server-process.js';
import { startTraining, startTrainingOnFolders, startTrainingOnTexts, TrainingCancelled } from '../../../src/runtime/training/training-job.js';
import type { CompanionHandover, CompanionOutput, PreparedTexts, ReadingProgress, SavedRunOutput, TrainJobOutput } from '../../../src/runtime/training/training-protocol.js';
import { splitByFile } from '../../../src/core/corpus/file-split.js';
import { readWorkspaceFolders, scanFigures, type ScanFigures } from '../../../src/io/workspace-files.js';
import { startTokenId } from '../../../src/core/scoring/evaluation.js';
import { countTextTokens, encodeTexts } from '../../../src/core/text/text-encoding.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { trainCompanion } from '../../../src/core/ngram/companion.js';

const cfg: ModelConfig = { cell: 'lstm', layers: 1, vocab: 12, embed: 8, hidden: 8, tied: true };

/** A text the model can learn: a repeating pattern with a little noise. */
function corpus(n: number, seed: number): Int32Array {
  const rand = mulberry32(seed);
  return Int32Array.from({ length: n }, (_, i) => (rand() < 0.05 ? Math.floor(rand() * 12) : [1, 2, 3, 4, 5, 3, 2][i % 7]!));
}

const options: TrainOptions = {
  batch: 4, bptt: 8, lr: 0.02, clip: 1, optimizer: 'adam', schedule: { kind: 'plateau', factor: 4 }, dropout: 0.1,
  maskWidths: dropoutMaskWidths(cfg), epochs: 4, timeBudget: 0, seed: 3, evalBatch: 2, evalBptt: 16,
};

// onnxruntime keeps a thread of its own for the process, started by the first session made in it and at that
// thread's priority: made here first, as the editor serves a model before it trains one, so that the tests of
// priorities see the same threads whichever of them runs first.
test.before(async () => {
  const dir = path.join(__dirname, '..', '..', '..', 'models', 'default');
  await (await createSession(path.join(dir, readdirSync(dir).find((f) => f.endsWith('.onnx'))!))).release();
});

test('a worker trains the model, reports progress, and returns better-than-chance parameters', async () => {
  const events: TrainEvent[] = [];
  const job = startTraining({ cfg, options, train: corpus(2000, 1), valid: corpus(300, 2), test: corpus(300, 3), threads: 1 }, (e) => events.push(e));
  const r = await job.result;
  const epochs = events.filter((e) => e.kind === 'epoch');
  assert.equal(epochs.length, 4);
  assert.ok(events.some((e) => e.kind === 'step' && e.tokensPerS > 0 && Number.isFinite(e.etaS)));
  assert.ok(r.bestValidPpl < 12 / 2, `valid ppl ${r.bestValidPpl} should be far below the uniform 12`);
  assert.ok(r.testPpl !== undefined && r.testPpl < 12 / 2);
  assert.ok(r.params instanceof Float32Array && r.params.length > 0);
});

test('with a sampled softmax (then a full-softmax epoch) the worker learns too: exact validation far below chance', async () => {
  const events: TrainEvent[] = [];
  const sampled = { samples: 4, vocab: 12, fullEpochs: 1 };
  const job = startTraining({ cfg, options: { ...options, sampled }, train: corpus(2000, 1), valid: corpus(300, 2), threads: 1 }, (e) => events.push(e));
  const r = await job.result;
  const epochs = events.filter((e) => e.kind === 'epoch');
  assert.deepEqual(epochs.map((e) => e.kind === 'epoch' && e.sampled), [true, true, true, false]);
  assert.ok(r.bestValidPpl < 12 / 2, `valid ppl ${r.bestValidPpl} should be far below the uniform 12`);
});

test('with its n-gram companion the worker fits the mixture on the validation text; a mixture it cannot fit costs the run nothing else', async () => {
  const ngram = { vocabSize: 12, startId: 1, trainSizes: [2000], validSizes: [300] };
  // (Fresh arrays for each run: a run is handed its buffers.)
  const base = () => ({ cfg, options: { ...options, epochs: 2 }, train: corpus(2000, 1), valid: corpus(300, 2), threads: 1, ngram });
  const r = await startTraining({ ...base(), mixture: { cached: new Uint8Array(12).fill(1) } }).result;
  assert.ok(r.mixture, 'fitted');
  assert.equal(r.mixture.fit.tokens, 300);
  assert.ok(r.mixture.fit.ppl.model <= Math.min(r.mixture.fit.ppl.network, r.mixture.fit.ppl.ngram) + 1e-9, JSON.stringify(r.mixture.fit.ppl));
  assert.equal(r.mixtureProblem, undefined);
  // Cache flags for another vocabulary: no mixture, the reason, and the trained network all the same.
  const bad = await startTraining({ ...base(), mixture: { cached: new Uint8Array(7) } }).result;
  assert.equal(bad.mixture, undefined);
  assert.match(bad.mixtureProblem ?? '', /cache flags cover 7 ids, the vocabulary 12/);
  assert.equal(bad.bestValidPpl, r.bestValidPpl, 'the same training');
  assert.ok(bad.params.length > 0);
});

test('arrays already handed to another run fail a new one with the reason, instead of leaving it waiting', async () => {
  const input = { cfg, options: { ...options, epochs: 1 }, train: corpus(2000, 1), valid: corpus(300, 2), threads: 1 };
  await startTraining(input).result; // hands input.train and input.valid to its worker
  assert.equal(input.train.length, 0, 'the arrays went with the first run');
  await assert.rejects(startTraining(input).result, /could not be given its input/);
});

test('cancel stops the worker and rejects with TrainingCancelled', async () => {
  let job: ReturnType<typeof startTraining> | undefined;
  let steps = 0;
  job = startTraining({ cfg, options: { ...options, epochs: 50 }, train: corpus(4000, 4), valid: corpus(300, 5), threads: 1 }, (e) => {
    if (e.kind === 'step' && ++steps === 3) job!.cancel();
  });
  await assert.rejects(job.result, TrainingCancelled);
  assert.ok(steps < 20, `stopped promptly (${steps} steps)`);
});

test('a killed worker rejects instead of hanging', async () => {
  const job = startTraining({ cfg, options: { ...options, epochs: 50 }, train: corpus(4000, 6), valid: corpus(300, 7), threads: 1 });
  setTimeout(() => void job.kill(), 200);
  await assert.rejects(job.result, TrainingCancelled);
});

test('an error inside the worker (a bad option) reaches the caller with its message', async () => {
  const job = startTraining({ cfg, options: { ...options, bptt: 0 }, train: corpus(500, 8), valid: corpus(100, 9), threads: 1 });
  await assert.rejects(job.result, /bptt must be a positive integer/);
});

test('stopping a worker at any moment, even while it builds its sessions, ends it cleanly (no process abort)', async () => {
  // Terminating a thread while onnxruntime creates a session aborts the whole process ("terminate called
  // after throwing an instance of 'Napi::Error'"): kill() must cancel and let the worker end itself.
  const rand = mulberry32(42);
  for (let i = 0; i < 12; i++) {
    const job = startTraining({ cfg, options: { ...options, epochs: 50 }, train: corpus(3000, 20 + i), valid: corpus(200, 40 + i), threads: 1 });
    const outcome = assert.rejects(job.result, TrainingCancelled);
    await new Promise((r) => setTimeout(r, Math.floor(rand() * 350)));
    await job.kill();
    await outcome;
  }
});

test('asked for the n-gram companion, the worker posts it before the first step and returns it with the result', async () => {
  const order: string[] = [];
  const train = corpus(2000, 1);
  const valid = corpus(300, 2);
  const expected = trainCompanion(train.slice(), valid.slice(), { vocabSize: 12, startId: 1, trainSizes: [1000, 1000], validSizes: [300] });
  let posted: CompanionOutput | undefined;
  const job = startTraining(
    { cfg, options: { ...options, epochs: 1 }, train, valid, threads: 1, ngram: { vocabSize: 12, startId: 1, trainSizes: [1000, 1000], validSizes: [300] } },
    (e) => order.push(e.kind),
    (ngram) => {
      order.push('ngram');
      posted = 'bytes' in ngram ? ngram : undefined;
    },
  );
  const r = await job.result;
  assert.equal(order[0], 'ngram', 'the companion comes before any training event');
  assert.ok(posted && r.ngram && 'bytes' in r.ngram);
  assert.deepEqual(r.ngram.bytes, expected.model.toBytes());
  assert.equal(r.ngram.figures.validPpl, expected.figures.validPpl);
  assert.ok(r.ngram.figures.validPpl < 12 / 2, `the companion learns the pattern too (${r.ngram.figures.validPpl})`);
});

/** A plan for the small model on whatever vocabulary the worker built, for `epochs` epochs. */
/** The parameters of a run the worker did not save (its plan had no `save`). */
function paramsOf(r: TrainJobOutput | SavedRunOutput): Float32Array {
  assert.ok('params' in r, 'the run returned its parameters');
  return r.params;
}

function smallPlan(prepared: PreparedTexts, epochs: number) {
  return { cfg: { ...cfg, vocab: prepared.vocab.words.length }, options: { ...options, epochs }, threads: 1 };
}

/** Files of text for startTrainingOnTexts, packed as Train on Workspace packs them. */
function packedTexts(trainTexts: string[], validTexts: string[]) {
  const enc = new TextEncoder();
  const parts = [...trainTexts, ...validTexts].map((t) => enc.encode(t));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) bytes.set(p, (at += p.length) - p.length);
  return {
    bytes,
    trainLengths: parts.slice(0, trainTexts.length).map((p) => p.length),
    validLengths: parts.slice(trainTexts.length).map((p) => p.length),
    tokenizer: 'text' as const,
    vocab: { maxSize: 50, minCount: 1 },
    maxValidTokens: 250_000,
  };
}

function storyFile(seed: number, lines: number): string {
  const rand = mulberry32(seed);
  const words = ['the', 'tide', 'was', 'high', 'at', 'dawn', 'and', 'gulls', 'cried', 'over', 'grey', 'water', 'café', '日本'];
  let text = '\uFEFF'; // a BOM, as files may have: not a token
  for (let l = 0; l < lines; l++) text += Array.from({ length: 8 }, (_, i) => words[(l + i + (rand() < 0.1 ? 3 : 0)) % words.length]).join(' ') + '\n';
  return text;
}

test('on texts, the worker builds the same vocabulary and token counts as the caller would, waits for the plan, and trains on it', async () => {
  const trainTexts = [storyFile(1, 120), storyFile(2, 80)];
  const validTexts = [storyFile(3, 30)];
  const input = packedTexts(trainTexts, validTexts);
  // The same two passes on this thread, as Train on Workspace did before the worker took them over.
  const strip = (t: string) => t.replace(/^\uFEFF/, '');
  const expectedVocab = Vocabulary.build(await countTextTokens(trainTexts.map(strip), { mode: 'text' }), input.vocab);
  const expectedTrain = await encodeTexts(trainTexts.map(strip), expectedVocab, { mode: 'text' });
  const expectedValid = await encodeTexts(validTexts.map(strip), expectedVocab, { mode: 'text' });
  let seen: PreparedTexts | undefined;
  let ngram: CompanionOutput | undefined;
  const job = startTrainingOnTexts(
    input,
    (prepared) => {
      seen = prepared;
      const vocab = Vocabulary.fromJSON(prepared.vocab);
      return { cfg: { ...cfg, vocab: vocab.size }, options: { ...options, epochs: 2 }, threads: 1, ngram: { vocabSize: vocab.size, startId: startTokenId(vocab, 'text') } };
    },
    () => {},
    (n) => (ngram = 'bytes' in n ? n : undefined),
  );
  assert.equal(input.bytes.byteLength, 0, 'the bytes were transferred, not copied');
  const r = await job.result;
  assert.ok(seen);
  assert.deepEqual(seen.vocab, expectedVocab.toJSONWithCounts());
  assert.equal(seen.trainTokens, expectedTrain.ids.length);
  assert.equal(seen.validTokens, expectedValid.ids.length);
  assert.ok(ngram && ngram.figures.validPpl > 1 && ngram.figures.validPpl < expectedVocab.size, 'the n-gram companion, on the prepared files');
  assert.ok(r.bestValidPpl < expectedVocab.size / 2, `valid ppl ${r.bestValidPpl} against ${expectedVocab.size} words`);
});

test('on texts, an error thrown by the caller\'s plan ends the run with that error', async () => {
  class TooLittle extends Error {}
  const job = startTrainingOnTexts(packedTexts([storyFile(4, 20)], [storyFile(5, 5)]), () => {
    throw new TooLittle('too little text');
  });
  await assert.rejects(job.result, TooLittle);
});

test('on texts, cancelling while the worker tokenises or waits for the plan rejects with TrainingCancelled', async () => {
  const early = startTrainingOnTexts(packedTexts([storyFile(6, 4000)], [storyFile(7, 50)]), () => assert.fail('no plan is asked for after a cancel'));
  early.cancel();
  await assert.rejects(early.result, TrainingCancelled);
  let release!: () => void;
  const waiting = new Promise<void>((r) => (release = r));
  const job = startTrainingOnTexts(packedTexts([storyFile(8, 50)], [storyFile(9, 10)]), async (prepared) => {
    job.cancel();
    release();
    return { cfg: { ...cfg, vocab: prepared.vocab.words.length }, options, threads: 1 };
  });
  await waiting;
  await assert.rejects(job.result, TrainingCancelled);
});

/** The nice value of each thread of this process (Linux /proc). */
function threadNiceValues(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

test('a background job runs its worker at a lower priority (nice 10), and only the worker', { skip: process.platform !== 'linux' && 'thread priorities are per thread on Linux only' }, async () => {
  const mainNice = threadNiceValues().get(process.pid);
  let during: Map<number, number> | undefined;
  const job = startTrainingOnTexts(
    packedTexts([storyFile(10, 40)], [storyFile(11, 10)]),
    (prepared) => {
      during = threadNiceValues();
      return smallPlan(prepared, 1);
    },
    () => {},
    () => {},
    { background: true },
  );
  await job.result;
  assert.ok(during);
  assert.equal(during.get(process.pid), mainNice, 'this thread keeps its priority');
  assert.ok([...during.values()].some((n) => n === 10), `a thread at nice 10 while the worker runs: ${JSON.stringify([...during])}`);
  // A job not asked to run in the background leaves every thread as it is.
  let plain: Map<number, number> | undefined;
  await startTrainingOnTexts(packedTexts([storyFile(12, 40)], [storyFile(13, 10)]), (prepared) => {
    plain = threadNiceValues();
    return smallPlan(prepared, 1);
  }).result;
  assert.ok(![...plain!.values()].some((n) => n === 10), `no thread lowered: ${JSON.stringify([...plain!])}`);
});

test('in a child process, the worker prepares the same texts, trains, posts its n-gram model and ends', async () => {
  const trainTexts = [storyFile(21, 120), storyFile(22, 80)];
  const validTexts = [storyFile(23, 30)];
  const input = packedTexts(trainTexts, validTexts);
  const thread = packedTexts(trainTexts, validTexts);
  const seen: PreparedTexts[] = [];
  const plan = (prepared: PreparedTexts) => {
    seen.push(prepared);
    const vocab = Vocabulary.fromJSON(prepared.vocab);
    return { cfg: { ...cfg, vocab: vocab.size }, options: { ...options, epochs: 2 }, threads: 1, ngram: { vocabSize: vocab.size, startId: startTokenId(vocab, 'text') } };
  };
  let ngram: CompanionOutput | undefined;
  const inProcess = await startTrainingOnTexts(input, plan, () => {}, (n) => (ngram = 'bytes' in n ? n : undefined), { isolation: 'process' }).result;
  const inThread = await startTrainingOnTexts(thread, plan).result;
  assert.deepEqual(seen[0], seen[1], 'the same vocabulary and counts in both');
  // The same seed and data: the same parameters, whatever the worker's home.
  assert.deepEqual(paramsOf(inProcess), paramsOf(inThread));
  assert.ok(ngram && ngram.bytes.length > 0);
  assert.ok(inThread.ngram && 'bytes' in inThread.ngram && inProcess.ngram && 'bytes' in inProcess.ngram);
  assert.deepEqual(inProcess.ngram.bytes, inThread.ngram.bytes, 'the same companion to save from both');
  // The one to save was counted again with the validation file, once the mixture was fitted: more n-grams.
  assert.ok(inThread.mixture && inThread.ngram.figures.withValidation);
  assert.equal(inThread.ngram.figures.validPpl, ngram.figures.validPpl, 'the validation figure is the first count\'s');
  assert.ok(inThread.ngram.figures.ngrams > ngram.figures.ngrams, `${inThread.ngram.figures.ngrams} vs ${ngram.figures.ngrams}`);
});

test('a child process worker hands back arrays larger than a piece intact, and stops on cancel', async () => {
  // A vocabulary of ~3,000 words and 64 units: parameters over 2 MB, sent back in pieces.
  const words = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}`);
  const rand = mulberry32(31);
  const text = Array.from({ length: 60_000 }, () => words[Math.floor(rand() * words.length)]).join(' ');
  const input = packedTexts([text], [text.slice(0, 20_000)]);
  input.vocab = { maxSize: 4000, minCount: 1 };
  const big: ModelConfig = { cell: 'lstm', layers: 1, vocab: 0, embed: 96, hidden: 96, tied: false };
  const r = await startTrainingOnTexts(
    input,
    (prepared) => ({ cfg: { ...big, vocab: prepared.vocab.words.length }, options: { ...options, epochs: 1, maskWidths: dropoutMaskWidths(big) }, threads: 1 }),
    () => {},
    () => {},
    { isolation: 'process' },
  ).result;
  const params = paramsOf(r);
  assert.ok(params.byteLength > 2 * 1024 * 1024, `${params.byteLength} bytes of parameters`);
  assert.ok(params.every((x) => Number.isFinite(x)));
  let steps = 0;
  let job: ReturnType<typeof startTrainingOnTexts> | undefined;
  job = startTrainingOnTexts(
    packedTexts([storyFile(24, 3000)], [storyFile(25, 50)]),
    (prepared) => (smallPlan(prepared, 50)),
    (e) => {
      if (e.kind === 'step' && ++steps === 3) job!.cancel();
    },
    () => {},
    { isolation: 'process' },
  );
  await assert.rejects(job.result, TrainingCancelled);
  assert.ok(steps < 30, `stopped promptly (${steps} steps)`);
});

/** The nice values of the threads of each process started for this one (directly or by its model server), main thread first. */
function childThreadNiceValues(): number[][] {
  const out: number[][] = [];
  for (const pid of descendantPids()) {
    try {
      const tids = readdirSync(`/proc/${pid}/task`).sort((a, b) => (a === String(pid) ? -1 : b === String(pid) ? 1 : 0));
      out.push(tids.map((tid) => niceOfStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'))));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test('a background job in a child process runs it at nice 10, in a scheduling group of its own, this process untouched', { skip: process.platform !== 'linux' && 'read from /proc' }, async () => {
  const mainNice = threadNiceValues().get(process.pid);
  let children: number[] = [];
  let trainingParent: number | undefined;
  let childThreads: number[][] = [];
  let grouped: unknown = 'not checked';
  await startTrainingOnTexts(
    packedTexts([storyFile(26, 40)], [storyFile(27, 10)]),
    (prepared) => {
      children = descendantPids().map(niceOfProcess);
      childThreads = childThreadNiceValues();
      const pid = descendantPids().find((p) => niceOfProcess(p) === 10);
      // Forked by the model server, not by this process (a fork of a large process holds its thread for tens
      // of milliseconds).
      if (pid) trainingParent = Number(statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[1]);
      try {
        assert.ok(pid, 'the training process');
        assertOwnSchedulingGroup(pid, 10);
        grouped = true;
      } catch (e) {
        grouped = e;
      }
      return smallPlan(prepared, 1);
    },
    () => {},
    () => {},
    { background: true, isolation: 'process' },
  ).result;
  assert.ok(children.includes(10), `a child process at nice 10: ${JSON.stringify(children)}`);
  const server = ServerProcess.runningPid();
  assert.ok(server !== undefined && trainingParent === server, `the training process is the model server's child (${server}), not this process's: ${trainingParent}`);
  // The training process (its main thread at 10; a child of an earlier test may still be ending).
  const training = childThreads.find((threads) => threads[0] === 10);
  assert.ok(training && training.length > 1 && training.every((n) => n >= 10), `every thread of it (V8's helpers too) at nice 10: ${JSON.stringify(childThreads)}`);
  assert.equal(threadNiceValues().get(process.pid), mainNice);
  assert.ok(![...threadNiceValues().values()].includes(10), 'no thread of this process was lowered');
  if (grouped !== true) throw grouped;
});

/** The ids of `parent`'s children (this process's by default). */
function childPids(parent = process.pid): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[1] === String(parent);
      } catch {
        return false;
      }
    });
}

/** The ids of `root`'s children, theirs, and so on. */
function descendantPids(root = process.pid): number[] {
  const out: number[] = [];
  for (let level = childPids(root); level.length > 0; level = level.flatMap((pid) => childPids(pid))) out.push(...level);
  return out;
}

/** A /proc stat line's fields after the command: state, ppid, pgrp, session, … */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function niceOfStat(stat: string): number {
  return Number(statFields(stat)[16]);
}

function niceOfProcess(pid: number): number {
  return niceOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

test('a training child process whose parent is killed stops at once (no orphan trains on)', { skip: process.platform !== 'linux' && 'read from /proc' }, async () => {
  const parent = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'orphan-parent.fixture.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    parent.stdout!.on('data', (d: Buffer) => d.toString().includes('prepared') && resolve());
    parent.once('exit', (code) => reject(new Error(`the parent exited first (${code})`)));
  });
  const started = descendantPids(parent.pid);
  const worker = started.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('training-worker'));
  assert.ok(worker, `the training process was started for the parent: ${started.join(', ')}`);
  parent.kill('SIGKILL');
  const gone = (pid: number) => {
    try {
      return statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[0] === 'Z'; // exited, not yet reaped
    } catch {
      return true;
    }
  };
  const deadline = Date.now() + 5000;
  while (!started.every(gone) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(gone(worker), 'the training process ended within 5 s of its parent');
  assert.deepEqual(started.filter((pid) => !gone(pid)), [], 'and so did every other process started for it (the launcher)');
});

test('a child process worker can hand its n-gram model over through a file: there while training runs and after, named by the result', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nextword-handover-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'storage', 'model.ngram-handover.tmp');
  const texts = [storyFile(41, 100)];
  const valid = [storyFile(42, 20)];
  const plan = (prepared: PreparedTexts) => {
    const vocab = Vocabulary.fromJSON(prepared.vocab);
    return { ...smallPlan(prepared, 1), ngram: { vocabSize: vocab.size, startId: startTokenId(vocab, 'text'), handoverFile: file } };
  };
  let handed: CompanionOutput | CompanionHandover | undefined;
  let bytesWhileTraining: Uint8Array | undefined;
  const viaFile = await startTrainingOnTexts(
    packedTexts(texts, valid),
    plan,
    () => {},
    (n) => {
      handed = n;
      if ('file' in n) bytesWhileTraining = new Uint8Array(readFileSync(n.file));
    },
    { isolation: 'process' },
  ).result;
  let directPosted: CompanionOutput | CompanionHandover | undefined;
  const direct = await startTrainingOnTexts(
    packedTexts(texts, valid),
    (p) => {
      const { ngram, ...rest } = plan(p);
      return { ...rest, ngram: { vocabSize: ngram.vocabSize, startId: ngram.startId } };
    },
    () => {},
    (n) => (directPosted = n),
  ).result;
  assert.ok(handed && 'file' in handed, 'the caller is given the file, not its bytes');
  assert.equal(handed.file, file);
  assert.ok(direct.ngram && 'bytes' in direct.ngram && directPosted && 'bytes' in directPosted);
  assert.equal(handed.figures.validPpl, directPosted.figures.validPpl);
  assert.deepEqual(bytesWhileTraining, directPosted.bytes, 'the file holds the model while the network trains');
  // At the end the companion is counted again with the validation files, into the same file.
  assert.ok(viaFile.ngram && 'file' in viaFile.ngram, 'the result names the file');
  assert.equal(viaFile.ngram.file, file);
  assert.ok(viaFile.ngram.figures.withValidation && direct.ngram.figures.withValidation);
  assert.deepEqual(new Uint8Array(readFileSync(file)), direct.ngram.bytes, 'which is still there for the caller to save from, counted again');
  assert.ok(!existsSync(`${file}.part`));
});

test('a run cancelled after the n-gram model was handed over through a file removes the file', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nextword-handover-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'model.ngram-handover.tmp');
  const plan = (prepared: PreparedTexts) => {
    const vocab = Vocabulary.fromJSON(prepared.vocab);
    return { ...smallPlan(prepared, 50), ngram: { vocabSize: vocab.size, startId: startTokenId(vocab, 'text'), handoverFile: file } };
  };
  let job: ReturnType<typeof startTrainingOnTexts> | undefined;
  let existed = false;
  job = startTrainingOnTexts(packedTexts([storyFile(43, 100)], [storyFile(44, 20)]), plan, () => {}, () => {
    existed = existsSync(file);
    job!.cancel();
  }, { isolation: 'process' });
  await assert.rejects(job.result, TrainingCancelled);
  assert.ok(existed, 'the file was there when the model was handed over');
  const deadline = Date.now() + 2000;
  while (existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!existsSync(file), 'the file is removed when the run ends without reading it');
});

test('asked to, the worker saves the model it trained, with its vocabulary and n-gram companion: the model the caller would save, and no weights come back', async (t) => {
  const { exportTrainedModel } = await import('../../../src/io/export-model.js');
  const { loadModelFiles } = await import('../../../src/io/model-store.js');
  const root = mkdtempSync(path.join(os.tmpdir(), 'nextword-worker-save-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const texts = () => packedTexts([storyFile(45, 60)], [storyFile(46, 10)]);
  const about = { corpus: { source: 'test', files: 2, trainTokens: 0, validTokens: 0 }, options: { preset: 'test' }, params: 1 };
  const planFor = (prepared: PreparedTexts, handoverFile: string) => {
    const vocab = Vocabulary.fromJSON(prepared.vocab);
    return { ...smallPlan(prepared, 1), ngram: { vocabSize: vocab.size, startId: startTokenId(vocab, 'text'), handoverFile } };
  };
  // The caller's way, for comparison: the parameters back, saved here.
  let vocab: Vocabulary | undefined;
  let planned: ModelConfig | undefined;
  const back = await startTrainingOnTexts(texts(), (prepared) => {
    vocab = Vocabulary.fromJSON(prepared.vocab);
    const plan = planFor(prepared, path.join(root, 'caller.ngram-handover.tmp'));
    planned = plan.cfg;
    return plan;
  }, () => {}, () => {}, { isolation: 'process' }).result;
  assert.ok(back.ngram && 'file' in back.ngram);
  await exportTrainedModel(path.join(root, 'caller'), { cfg: planned!, vocab: vocab!, tokenizer: 'text', precision: 'float16' }, { ...back, params: paramsOf(back), ngram: { file: back.ngram.file, figures: back.ngram.figures } }, about);
  const expected = await loadModelFiles(path.join(root, 'caller'));
  for (const isolation of ['thread', 'process'] as const) {
    const dir = path.join(root, isolation);
    const events: string[] = [];
    const r = await startTrainingOnTexts(
      texts(),
      (prepared) => ({ ...planFor(prepared, `${dir}.ngram-handover.tmp`), save: { dir, tokenizer: 'text' as const, precision: 'float16' as const, about } }),
      (e) => events.push(e.kind),
      () => events.push('ngram'),
      { isolation, onSaving: () => events.push('saving') },
    ).result;
    assert.ok('saved' in r && !('params' in r), `${isolation}: the result says where, without the weights`);
    assert.equal(r.saved.dir, dir);
    assert.equal(events.at(-1), 'saving', `${isolation}: told before the save, after the training`);
    assert.equal(r.bestValidPpl, back.bestValidPpl, isolation);
    const saved = await loadModelFiles(dir);
    assert.deepEqual(saved.onnx, expected.onnx, `${isolation}: the same ONNX file`);
    assert.deepEqual(saved.ngram, expected.ngram, `${isolation}: the same n-gram companion, from the hand-over file`);
    // model.json but for the clocks (when, and how long the run took).
    const timeless = (meta: Record<string, unknown>) =>
      JSON.parse(JSON.stringify(meta, (key, value: unknown) => (['createdAt', 'seconds', 'tokensPerS'].includes(key) ? undefined : value))) as unknown;
    assert.deepEqual(timeless(saved.meta), timeless(expected.meta), `${isolation}: the same model.json (vocabulary, counts, record)`);
  }
});

test('a run cancelled while the worker saves keeps the previous model or commits the new one, never a broken one', async (t) => {
  const { exportModel } = await import('../../../src/io/export-model.js');
  const { loadModelFiles } = await import('../../../src/io/model-store.js');
  const root = mkdtempSync(path.join(os.tmpdir(), 'nextword-worker-save-cancel-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const outcomes: string[] = [];
  for (let trial = 0; trial < 4; trial++) {
    const dir = path.join(root, `m${trial}`);
    const previous = Vocabulary.build(Vocabulary.countTokens(['old', 'model']), { maxSize: 10, minCount: 1 });
    const oldCfg: ModelConfig = { ...cfg, vocab: previous.size };
    await exportModel(dir, { cfg: oldCfg, params: new Float32Array(parameterCount(oldCfg)).fill(0.01), vocab: previous, tokenizer: 'text' });
    const before = await loadModelFiles(dir);
    let job: ReturnType<typeof startTrainingOnTexts> | undefined;
    job = startTrainingOnTexts(
      packedTexts([storyFile(47 + trial, 60)], [storyFile(46, 10)]),
      (prepared) => ({ ...smallPlan(prepared, 1), save: { dir, tokenizer: 'text' as const, precision: 'float32' as const, about: { corpus: { source: 't', trainTokens: 0, validTokens: 0 }, options: {}, params: 1 } } }),
      () => {},
      () => {},
      // Cancelled as the save starts (trial 0, 1) or a moment into it (2, 3).
      { isolation: 'process', onSaving: () => void setTimeout(() => job!.cancel(), trial < 2 ? 0 : trial) },
    );
    const outcome = await job.result.then((r) => ('saved' in r ? 'saved' : 'not saved'), (e: unknown) => (e instanceof TrainingCancelled ? 'cancelled' : String(e)));
    outcomes.push(outcome);
    const after = await loadModelFiles(dir);
    if (outcome === 'cancelled') assert.deepEqual(after.onnx, before.onnx, `trial ${trial}: cancelled before the commit, the previous model is there`);
    else {
      assert.equal(outcome, 'saved', `trial ${trial}`);
      assert.notDeepEqual(after.onnx, before.onnx, `trial ${trial}: saved, the new model is there`);
    }
  }
  assert.ok(outcomes.includes('cancelled'), `a cancel at the start of the save stops it: ${outcomes.join(', ')}`);
});

/** Folders of story files on disk for startTrainingOnFolders; removed after the test. */
function storyFolders(t: { after: (fn: () => void) => void }, trees: Record<string, string>[]): string[] {
  return trees.map((files) => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'nextword-folders-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    }
    return root;
  });
}

const folderPrep = { tokenizer: 'text' as const, vocab: { maxSize: 50, minCount: 1 }, maxValidTokens: 250_000 };

test('on folders, the child process reads them itself (exclude globs, each folder\'s rules), reports what it read, and prepares what the texts path would', async (t) => {
  const [first, second] = storyFolders(t, [
    { 'a.md': storyFile(31, 60), 'b/c.md': storyFile(32, 40), 'archive/old.md': 'zanzibarine '.repeat(30), '.gitignore': 'private/\n', 'private/p.md': 'quorvex '.repeat(30) },
    { 'd.md': storyFile(33, 50), 'e.md': storyFile(34, 30), 'gen/g.md': 'plinthody '.repeat(30) },
  ]);
  const folders = [
    { root: first!, prefix: 'one/', exclude: ['**/archive'] },
    { root: second!, prefix: 'two/', exclude: ['gen/**'] },
  ];
  // What this thread's walk and split give, prepared through the texts path.
  const expectedScan = await readWorkspaceFolders(folders);
  const { train, valid } = splitByFile(expectedScan.files, 0.25);
  const viaTexts: PreparedTexts[] = [];
  const plan = (prepared: PreparedTexts) => {
    const vocab = Vocabulary.fromJSON(prepared.vocab);
    return { cfg: { ...cfg, vocab: vocab.size }, options: { ...options, epochs: 1 }, threads: 1 };
  };
  await startTrainingOnTexts(packedTexts(train.map((f) => f.text), valid.map((f) => f.text)), (p) => (viaTexts.push(p), plan(p))).result;

  const order: string[] = [];
  let scan: ScanFigures | undefined;
  let prepared: PreparedTexts | undefined;
  const r = await startTrainingOnFolders(
    { ...folderPrep, folders, limits: { maxFiles: 100, maxTotalBytes: 1 << 20 }, validFraction: 0.25 },
    {
      onRead: (s) => {
        order.push('read');
        scan = s;
      },
      onPrepared: (p) => {
        order.push('prepared');
        prepared = p;
        return plan(p);
      },
      onEvent: (e) => {
        if (order.at(-1) !== 'event') order.push('event');
        assert.ok(e);
      },
    },
  ).result;
  assert.deepEqual(order, ['read', 'prepared', 'event']);
  assert.ok(scan);
  assert.equal(scan.files.length, 5, 'a.md, b/c.md, .gitignore, d.md, e.md');
  assert.deepEqual(scan, scanFigures({ ...expectedScan, limits: { ...expectedScan.limits, maxFiles: 100, maxTotalBytes: 1 << 20 } }));
  assert.deepEqual([...scan.skipped.keys()].sort(), ['ignored']);
  assert.deepEqual(scan.skipped.get('ignored')!.examples, ['one/archive/', 'one/private/', 'two/gen/']);
  assert.deepEqual(prepared, viaTexts[0], 'the same vocabulary and token counts as the texts path');
  const words = prepared!.vocab.words.join(' ');
  for (const w of ['zanzibarine', 'quorvex', 'plinthody']) assert.ok(!words.includes(w), `"${w}" (excluded) was not read`);
  assert.ok(Number.isFinite(r.bestValidPpl));
});

test('on folders, an error thrown by the caller on what was read ends the run before any vocabulary', async (t) => {
  const [root] = storyFolders(t, [{ 'only.md': storyFile(35, 10) }]);
  class Refused extends Error {}
  let seen: ScanFigures | undefined;
  const job = startTrainingOnFolders(
    { ...folderPrep, folders: [{ root: root!, prefix: '' }], limits: { maxFiles: 10, maxTotalBytes: 1 << 20 }, validFraction: 0.1 },
    {
      onRead: (s) => {
        seen = s;
        throw new Refused(`only ${s.files.length} file`);
      },
      onPrepared: () => assert.fail('no plan is asked for'),
    },
  );
  await assert.rejects(job.result, Refused);
  assert.equal(seen?.files.length, 1);
});

test('on folders, reading progress comes while the child process walks, and a cancel stops the walk', async (t) => {
  const files: Record<string, string> = {};
  for (let d = 0; d < 100; d++) for (let f = 0; f < 60; f++) files[`d${d}/f${f}.md`] = `line ${d} ${f}\n`;
  const [root] = storyFolders(t, [files]);
  const input = { ...folderPrep, folders: [{ root: root!, prefix: '' }], limits: { maxFiles: 100_000, maxTotalBytes: 1 << 30 }, validFraction: 0.1 };
  // Cancelled as the walk starts: it never completes.
  const early = startTrainingOnFolders(input, { onRead: () => assert.fail('the walk was cancelled'), onPrepared: () => assert.fail('no plan') });
  setImmediate(() => early.cancel());
  await assert.rejects(early.result, TrainingCancelled);
  // Cancelled at its first progress report, which comes before the walk's end.
  const progress: ReadingProgress[] = [];
  let read = false;
  const job = startTrainingOnFolders(input, {
    onReading: (p) => {
      progress.push(p);
      job.cancel();
    },
    onRead: () => (read = true),
    onPrepared: () => assert.fail('no plan'),
  });
  await assert.rejects(job.result, TrainingCancelled);
  assert.ok(progress.length >= 1 && !read, `progress ${JSON.stringify(progress)} before the walk ended (${read ? 'it ended' : 'it did not'})`);
  assert.ok(progress[0]!.taken + progress[0]!.skipped < 6000);
});
