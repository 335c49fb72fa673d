// The training pipeline end to end, as the CLI and the editor run it: a real worker (a thread, or a child
// process started by the model server) reading texts, building the vocabulary, planning, counting the
// n-gram companion, training on the ONNX training graph, fitting what is served and saving.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import test from 'node:test';
import { assertOwnSchedulingGroup } from '../../support/scheduling.js';
import { parameterCount, type ModelConfig } from '../../../src/core/model/model-config.js';
import { trainCompanion } from '../../../src/core/ngram/companion.js';
import { splitProject } from '../../../src/core/pipeline/run-plan.js';
import { startTokenId } from '../../../src/core/scoring/evaluation.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import { capTokens, countTextTokens, encodeTexts, MAX_VALID_TOKENS } from '../../../src/core/text/text-encoding.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { PRESETS, type TrainSettings } from '../../../src/core/train/presets.js';
import type { TrainEvent } from '../../../src/core/train/trainer.js';
import { readWorkspaceFolders, scanFigures } from '../../../src/io/workspace-files.js';
import { createSession } from '../../../src/runtime/onnx/ort-session.js';
import { ServerProcess } from '../../../src/runtime/serving/server-process.js';
import { fitServedMixture } from '../../../src/runtime/training/mixture-fit.js';
import { startTraining, TrainingCancelled, TrainingRefused } from '../../../src/runtime/training/training-job.js';
import type {
  CompanionHandover,
  CompanionOutput,
  FilesSource,
  PlannedRun,
  ReadingProgress,
  ReadReport,
  SavedRunOutput,
  TrainingRequest,
  TrainJobOutput,
} from '../../../src/runtime/training/training-protocol.js';

/** A small model that learns the story files below in a few epochs. */
const settings: TrainSettings = {
  ...PRESETS.tiny!,
  cell: 'lstm', layers: 1, hidden: 8, embed: 8, tied: true, vocab: 50, minCount: 1, dropout: 0.1,
  batch: 4, bptt: 8, lr: 0.02, clip: 1, optimizer: 'adam', schedule: { kind: 'plateau', factor: 4 },
  epochs: 4, patience: 0, timeBudget: 0, seed: 3, evalBatch: 2, evalBptt: 16, validFraction: 0.25, samples: 0,
};

// onnxruntime keeps a thread of its own for the process, started by the first session made in it and at that
// thread's priority: made here first, as the editor serves a model before it trains one, so that the tests of
// priorities see the same threads whichever of them runs first.
test.before(async () => {
  const dir = path.join(__dirname, '..', '..', '..', 'models', 'default');
  await (await createSession(path.join(dir, readdirSync(dir).find((f) => f.endsWith('.onnx'))!))).release();
});

function storyFile(seed: number, lines: number): string {
  const rand = mulberry32(seed);
  const words = ['the', 'tide', 'was', 'high', 'at', 'dawn', 'and', 'gulls', 'cried', 'over', 'grey', 'water', 'café', '日本'];
  let text = '\uFEFF'; // a BOM, as files may have: not a token
  for (let l = 0; l < lines; l++) text += Array.from({ length: 8 }, (_, i) => words[(l + i + (rand() < 0.1 ? 3 : 0)) % words.length]).join(' ') + '\n';
  return text;
}


/** Files of text read by the caller (as Train on Workspace reads remote folders), packed for the worker. */
function filesSource(texts: string[]): FilesSource {
  const enc = new TextEncoder();
  const parts = texts.map((t) => enc.encode(t));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) bytes.set(p, (at += p.length) - p.length);
  const relPaths = texts.map((_, i) => `f${i}.md`);
  return {
    kind: 'files',
    bytes,
    lengths: parts.map((p) => p.length),
    relPaths,
    scan: { root: 'test', files: { length: texts.length }, skipped: new Map(), totalBytes: bytes.length, limits: { maxFileBytes: 1 << 20, maxFiles: 100, maxTotalBytes: 1 << 24 } },
  };
}

/** Story files `seed`, `seed + 1`, … of `lines` lines each. */
function stories(seed: number, count: number, lines: number): string[] {
  return Array.from({ length: count }, (_, i) => storyFile(seed + i, lines));
}

/** A run of the small model on `texts`, with `over` on top (settings merged). */
function request(texts: string[], over: Partial<Omit<TrainingRequest, 'settings'>> & { settings?: Partial<TrainSettings> } = {}): TrainingRequest {
  const { settings: s, ...rest } = over;
  return { source: filesSource(texts), settings: { ...settings, ...s }, preset: 'test', threads: 1, ...rest };
}

/** What the worker should make of `texts`: the same split, vocabulary and ids, computed on this thread. */
async function preparedHere(texts: string[], s: TrainSettings = settings) {
  const strip = (t: string) => t.replace(/^\uFEFF/, '');
  const files = texts.map((text, i) => ({ relPath: `f${i}.md`, text: strip(text) }));
  const { train, valid } = splitProject(files, { validFraction: s.validFraction, where: 'test', report: '' });
  const enc = { mode: s.tokenizer };
  const vocab = Vocabulary.build(await countTextTokens(train.map((f) => f.text), enc), { maxSize: s.vocab, minCount: s.minCount });
  const trainIds = await encodeTexts(train.map((f) => f.text), vocab, enc);
  const validIds = capTokens(await encodeTexts(valid.map((f) => f.text), vocab, enc), MAX_VALID_TOKENS);
  return { vocab, train: trainIds, valid: validIds };
}

/** The parameters of a run the worker did not save (its request had no `save`). */
function paramsOf(r: TrainJobOutput | SavedRunOutput): Float32Array {
  assert.ok('params' in r, 'the run returned its parameters');
  return r.params;
}

/** A corpus folder (train.txt, valid.txt, test.txt); removed after the test. */
function corpusFolder(t: { after: (fn: () => void) => void }, splits: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nextword-corpus-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(splits)) writeFileSync(path.join(dir, `${name}.txt`), text);
  return dir;
}

test('on a corpus folder, a worker trains the model, reports each phase and progress, and returns better-than-chance parameters and the test perplexity', async (t) => {
  const dir = corpusFolder(t, { train: stories(1, 6, 60).join(''), valid: storyFile(7, 40), test: storyFile(8, 40) });
  const order: string[] = [];
  const events: TrainEvent[] = [];
  let read: ReadReport | undefined;
  let planned: PlannedRun | undefined;
  const r = await startTraining({ ...request([]), source: { kind: 'corpus', dir } }, {
    onRead: (x) => (order.push('read'), (read = x)),
    onPlanned: (x) => (order.push('planned'), (planned = x)),
    onEvent: (e) => (order.at(-1) !== 'event' && order.push('event'), events.push(e)),
  }).result;
  assert.deepEqual(order, ['read', 'planned', 'event']);
  assert.equal(read?.kind, 'corpus');
  assert.match(read!.report, /^corpus .*: train [\d.]+ M characters, valid [\d.]+ M characters, test [\d.]+ M characters$/);
  assert.ok(planned && planned.testTokens! > 100 && planned.trainTokens > planned.validTokens);
  assert.equal(planned.cfg.vocab, planned.vocab.words.length);
  assert.equal(planned.params, parameterCount(planned.cfg));
  const epochs = events.filter((e) => e.kind === 'epoch');
  assert.equal(epochs.length, 4);
  assert.ok(events.some((e) => e.kind === 'step' && e.tokensPerS > 0 && Number.isFinite(e.etaS)));
  const V = planned.cfg.vocab;
  assert.ok(r.bestValidPpl < V / 2, `valid ppl ${r.bestValidPpl} should be far below the uniform ${V}`);
  assert.ok(r.testPpl !== undefined && r.testPpl < V / 2);
  assert.ok(paramsOf(r).length === planned.params);
});

test('with a sampled softmax (then a full-softmax epoch) the worker learns too: exact validation far below chance', async () => {
  const events: TrainEvent[] = [];
  const r = await startTraining(request(stories(1, 8, 60), { settings: { samples: 4, fullSoftmaxEpochs: 1 } }), { onEvent: (e) => events.push(e) }).result;
  const epochs = events.filter((e) => e.kind === 'epoch');
  assert.deepEqual(epochs.map((e) => e.kind === 'epoch' && e.sampled), [true, true, true, false]);
  assert.ok(r.bestValidPpl < 20 / 2, `valid ppl ${r.bestValidPpl} should be far below the uniform ~20`);
});

test('with its n-gram companion the worker posts it before the first step, fits the served mixture and its completion threshold on the validation files, and types them with another model to compare', async () => {
  const texts = stories(11, 8, 60);
  const here = await preparedHere(texts);
  const plan = { vocabSize: here.vocab.size, startId: startTokenId(here.vocab, 'text'), trainSizes: here.train.sizes, validSizes: here.valid.sizes };
  const expected = trainCompanion(here.train.ids, here.valid.ids, plan);
  const order: string[] = [];
  let posted: CompanionOutput | undefined;
  const r = await startTraining(request(texts, { settings: { epochs: 2 }, companion: {}, compareWith: path.join(__dirname, '..', '..', '..', 'models', 'default') }), {
    onEvent: (e) => order.push(e.kind),
    onNgram: (n) => {
      order.push('ngram');
      posted = 'bytes' in n ? n : undefined;
    },
  }).result;
  assert.equal(order[0], 'ngram', 'the companion comes before any training event');
  assert.ok(posted);
  assert.deepEqual(posted.bytes, expected.model.toBytes(), 'the companion of the same split, vocabulary and ids');
  assert.equal(posted.figures.validPpl, expected.figures.validPpl);
  assert.ok(r.mixture, 'fitted');
  assert.equal(r.mixture.fit.tokens, here.valid.ids.length);
  assert.ok(r.mixture.fit.ppl.model <= Math.min(r.mixture.fit.ppl.network, r.mixture.fit.ppl.ngram) + 1e-9, JSON.stringify(r.mixture.fit.ppl));
  assert.equal(r.mixtureProblem, undefined);
  assert.ok(r.completion && r.completion.trials.length > 0, 'its completion threshold chosen by typing the validation files');
  assert.equal(r.completionProblem, undefined);
  // The bundled model typed the same pieces: what the run gained over it (these stories are the run's own words).
  assert.ok(r.comparedKsr !== undefined && r.comparedKsr >= 0 && r.comparedKsr < 1, `the bundled model's savings ${r.comparedKsr}`);
  const own = r.completion.trials.find((x) => x.minConfidence === r.completion!.minConfidence)!.ksr;
  assert.ok(own > r.comparedKsr, `the trained model saves more on its own workspace (${own}) than the bundled one (${r.comparedKsr})`);
  // The one to save was counted again with the validation files, once the mixture was fitted: more n-grams.
  assert.ok(r.ngram && 'bytes' in r.ngram && r.ngram.figures.withValidation);
  assert.equal(r.ngram.figures.validPpl, posted.figures.validPpl, 'the validation figure is the first count\'s');
  assert.ok(r.ngram.figures.ngrams > posted.figures.ngrams, `${r.ngram.figures.ngrams} vs ${posted.figures.ngrams}`);
});

test('a run that only counts ends with the companion: no network trains, nothing is saved', async () => {
  const events: string[] = [];
  let posted: CompanionOutput | CompanionHandover | undefined;
  const r = await startTraining({ ...request(stories(11, 8, 60), { companion: {} }), countOnly: true as const }, {
    onEvent: (e) => events.push(e.kind),
    onNgram: (n) => (posted = n),
  }).result;
  assert.deepEqual(events, [], 'no training step');
  assert.ok(posted && 'bytes' in posted && posted.bytes.length > 0);
  assert.deepEqual(r.counted, posted.figures);
  assert.ok(!('params' in r) && !('saved' in r));
});

test('a mixture that cannot be fitted says why (the pipeline then serves the network with the cache)', async () => {
  const texts = stories(11, 8, 60);
  const here = await preparedHere(texts);
  const plan = { vocabSize: here.vocab.size, startId: 1, trainSizes: here.train.sizes, validSizes: here.valid.sizes };
  const cfg: ModelConfig = { cell: 'lstm', layers: 1, vocab: here.vocab.size, embed: 8, hidden: 8, tied: true };
  const input = { cfg, params: new Float32Array(parameterCount(cfg)), ngram: trainCompanion(here.train.ids, here.valid.ids, plan).model, startId: 1, valid: here.valid.ids, validSizes: here.valid.sizes, threads: 1 };
  await assert.rejects(fitServedMixture({ ...input, cached: new Uint8Array(7) }), new RegExp(`cache flags cover 7 ids, the vocabulary ${here.vocab.size}`));
});

test('a buffer already handed to another run fails a new one with the reason, instead of leaving it waiting', async () => {
  const req = request(stories(1, 4, 30), { settings: { epochs: 1 } });
  await startTraining(req).result; // hands the bytes to its worker thread
  assert.equal((req.source as FilesSource).bytes.byteLength, 0, 'the bytes went with the first run');
  await assert.rejects(startTraining(req).result, /could not be given its input: its buffer does not hold the files it lists/);
});

test('cancel stops the worker and rejects with TrainingCancelled', async () => {
  let job: ReturnType<typeof startTraining> | undefined;
  let steps = 0;
  job = startTraining(request(stories(4, 4, 400), { settings: { epochs: 50 } }), {
    onEvent: (e) => {
      if (e.kind === 'step' && ++steps === 3) job!.cancel();
    },
  });
  await assert.rejects(job.result, TrainingCancelled);
  assert.ok(steps < 20, `stopped promptly (${steps} steps)`);
});

test('a killed worker rejects instead of hanging', async () => {
  const job = startTraining(request(stories(6, 4, 400), { settings: { epochs: 50 } }));
  setTimeout(() => void job.kill(), 200);
  await assert.rejects(job.result, TrainingCancelled);
});

test('an error inside the worker (a bad option) reaches the caller with its message; one thrown by a handler ends the run with it', async () => {
  await assert.rejects(startTraining(request(stories(8, 4, 30), { settings: { bptt: 0 } })).result, /bptt must be a positive integer/);
  class Unwanted extends Error {}
  const job = startTraining(request(stories(9, 4, 30)), {
    onPlanned: () => {
      throw new Unwanted('not this one');
    },
  });
  await assert.rejects(job.result, Unwanted);
});

test('too little to learn from is refused (TrainingRefused), saying why: too few files, or too few tokens', async () => {
  await assert.rejects(startTraining(request([storyFile(1, 10)])).result, (e: Error) => e instanceof TrainingRefused && /only 1 usable file in test: at least 2 are needed/.test(e.message));
  await assert.rejects(startTraining(request(['one two', 'three four'])).result, (e: Error) => e instanceof TrainingRefused && /too little text to train on/.test(e.message));
});

test('stopping a worker at any moment, even while it builds its sessions, ends it cleanly (no process abort)', async () => {
  // Terminating a thread while onnxruntime creates a session aborts the whole process ("terminate called
  // after throwing an instance of 'Napi::Error'"): kill() must cancel and let the worker end itself.
  const rand = mulberry32(42);
  for (let i = 0; i < 12; i++) {
    const job = startTraining(request(stories(20 + i, 3, 300), { settings: { epochs: 50 } }));
    const outcome = assert.rejects(job.result, TrainingCancelled);
    await new Promise((r) => setTimeout(r, Math.floor(rand() * 350)));
    await job.kill();
    await outcome;
  }
});

test('on files, the worker splits them, builds the vocabulary and token counts the caller would, and the bytes are transferred, not copied', async () => {
  const texts = [storyFile(1, 120), storyFile(2, 80), storyFile(3, 30), storyFile(4, 50)];
  const here = await preparedHere(texts);
  let planned: PlannedRun | undefined;
  const req = request(texts, { settings: { epochs: 2 } });
  const job = startTraining(req, { onPlanned: (p) => (planned = p) });
  assert.equal((req.source as FilesSource).bytes.byteLength, 0, 'transferred');
  const r = await job.result;
  assert.ok(planned);
  assert.deepEqual(planned.vocab, here.vocab.toJSONWithCounts());
  assert.equal(planned.trainTokens, here.train.ids.length);
  assert.equal(planned.validTokens, here.valid.ids.length);
  assert.ok(r.bestValidPpl < here.vocab.size / 2, `valid ppl ${r.bestValidPpl} against ${here.vocab.size} words`);
});

test('cancelling while the worker reads or tokenises rejects with TrainingCancelled, before any plan', async () => {
  const early = startTraining(request(stories(6, 4, 4000)), { onPlanned: () => assert.fail('no plan after a cancel') });
  early.cancel();
  await assert.rejects(early.result, TrainingCancelled);
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
  await startTraining(request(stories(10, 4, 40), { settings: { epochs: 2 }, background: true }), { onPlanned: () => (during = threadNiceValues()) }).result;
  assert.ok(during);
  assert.equal(during.get(process.pid), mainNice, 'this thread keeps its priority');
  assert.ok([...during.values()].some((n) => n === 10), `a thread at nice 10 while the worker runs: ${JSON.stringify([...during])}`);
  // A job not asked to run in the background leaves every thread as it is.
  let plain: Map<number, number> | undefined;
  await startTraining(request(stories(12, 4, 40), { settings: { epochs: 1 } }), { onPlanned: () => (plain = threadNiceValues()) }).result;
  assert.ok(![...plain!.values()].some((n) => n === 10), `no thread lowered: ${JSON.stringify([...plain!])}`);
});

test('in a child process, the worker prepares the same texts, trains to the same parameters, posts its n-gram model and ends', async () => {
  const texts = [storyFile(21, 120), storyFile(22, 80), storyFile(23, 30), storyFile(24, 40)];
  const seen: PlannedRun[] = [];
  let ngram: CompanionOutput | undefined;
  const inProcess = await startTraining(request(texts, { settings: { epochs: 2 }, companion: {} }), { onPlanned: (p) => seen.push(p), onNgram: (n) => (ngram = 'bytes' in n ? n : undefined) }, { isolation: 'process' }).result;
  const inThread = await startTraining(request(texts, { settings: { epochs: 2 }, companion: {} }), { onPlanned: (p) => seen.push(p) }).result;
  assert.deepEqual(seen[0], seen[1], 'the same vocabulary, counts and plan in both');
  // The same seed and data: the same parameters, whatever the worker's home.
  assert.deepEqual(paramsOf(inProcess), paramsOf(inThread));
  assert.ok(ngram && ngram.bytes.length > 0);
  assert.ok(inThread.ngram && 'bytes' in inThread.ngram && inProcess.ngram && 'bytes' in inProcess.ngram);
  assert.deepEqual(inProcess.ngram.bytes, inThread.ngram.bytes, 'the same companion to save from both');
});

test('a child process worker hands back arrays larger than a piece intact, and stops on cancel', async () => {
  // A vocabulary of ~3,000 words and 96 units: parameters over 2 MB, sent back in pieces.
  const words = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}`);
  const rand = mulberry32(31);
  const text = () => Array.from({ length: 30_000 }, () => words[Math.floor(rand() * words.length)]).join(' ');
  const r = await startTraining(
    request([text(), text(), text().slice(0, 20_000)], { settings: { vocab: 4000, embed: 96, hidden: 96, tied: false, epochs: 1, validFraction: 0.34 } }),
    {},
    { isolation: 'process' },
  ).result;
  const params = paramsOf(r);
  assert.ok(params.byteLength > 2 * 1024 * 1024, `${params.byteLength} bytes of parameters`);
  assert.ok(params.every((x) => Number.isFinite(x)));
  let steps = 0;
  let job: ReturnType<typeof startTraining> | undefined;
  job = startTraining(
    request(stories(24, 3, 1000), { settings: { epochs: 50 } }),
    {
      onEvent: (e) => {
        if (e.kind === 'step' && ++steps === 3) job!.cancel();
      },
    },
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
  await startTraining(
    request(stories(26, 4, 60), { settings: { epochs: 2 }, background: true }),
    {
      onPlanned: () => {
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
      },
    },
    { isolation: 'process' },
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
  const texts = stories(41, 4, 100);
  let handed: CompanionOutput | CompanionHandover | undefined;
  let bytesWhileTraining: Uint8Array | undefined;
  const viaFile = await startTraining(
    request(texts, { settings: { epochs: 1 }, companion: { handoverFile: file } }),
    {
      onNgram: (n) => {
        handed = n;
        if ('file' in n) bytesWhileTraining = new Uint8Array(readFileSync(n.file));
      },
    },
    { isolation: 'process' },
  ).result;
  let directPosted: CompanionOutput | CompanionHandover | undefined;
  const direct = await startTraining(request(texts, { settings: { epochs: 1 }, companion: {} }), { onNgram: (n) => (directPosted = n) }).result;
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
  let job: ReturnType<typeof startTraining> | undefined;
  let existed = false;
  job = startTraining(
    request(stories(43, 4, 100), { settings: { epochs: 50 }, companion: { handoverFile: file } }),
    {
      onNgram: () => {
        existed = existsSync(file);
        job!.cancel();
      },
    },
    { isolation: 'process' },
  );
  await assert.rejects(job.result, TrainingCancelled);
  assert.ok(existed, 'the file was there when the model was handed over');
  const deadline = Date.now() + 2000;
  while (existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!existsSync(file), 'the file is removed when the run ends without reading it');
});

test('asked to, the worker saves the model it trained, with its vocabulary, n-gram companion and record: the model the caller would save, and no weights come back', async (t) => {
  const { exportTrainedModel } = await import('../../../src/io/export-model.js');
  const { loadModelFiles } = await import('../../../src/io/model-store.js');
  const root = mkdtempSync(path.join(os.tmpdir(), 'nextword-worker-save-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const texts = stories(45, 4, 60);
  const s = { ...settings, epochs: 1, weights: 'float16' as const };
  // The caller's way, for comparison: the parameters back, saved here with the record a run writes.
  let planned: PlannedRun | undefined;
  const back = await startTraining(request(texts, { settings: s, companion: { handoverFile: path.join(root, 'caller.ngram-handover.tmp') } }), { onPlanned: (p) => (planned = p) }, { isolation: 'process' }).result;
  assert.ok(planned && back.ngram && 'file' in back.ngram);
  const about = {
    corpus: { source: 'test corpus', files: texts.length, trainTokens: planned.trainTokens, validTokens: planned.validTokens },
    options: { preset: 'test', ...s, dropout: planned.options.dropout, threads: 1 },
    params: planned.params,
  };
  await exportTrainedModel(path.join(root, 'caller'), { cfg: planned.cfg, vocab: Vocabulary.fromJSON(planned.vocab), tokenizer: 'text', precision: 'float16' }, { ...back, params: paramsOf(back), ngram: { file: back.ngram.file, figures: back.ngram.figures } }, about);
  const expected = await loadModelFiles(path.join(root, 'caller'));
  for (const isolation of ['thread', 'process'] as const) {
    const dir = path.join(root, isolation);
    const events: string[] = [];
    const r = await startTraining(
      request(texts, { settings: s, companion: { handoverFile: `${dir}.ngram-handover.tmp` }, save: { dir, source: 'test corpus' } }),
      { onEvent: (e) => events.push(e.kind), onNgram: () => events.push('ngram'), onSaving: () => events.push('saving') },
      { isolation },
    ).result;
    assert.ok('saved' in r && !('params' in r), `${isolation}: the result says where, without the weights`);
    assert.equal(r.saved.dir, dir);
    assert.ok(r.saved.companion?.withValidation, `${isolation}: the companion saved was counted again with the validation files`);
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
    const oldCfg: ModelConfig = { cell: 'lstm', layers: 1, vocab: previous.size, embed: 8, hidden: 8, tied: true };
    await exportModel(dir, { cfg: oldCfg, params: new Float32Array(parameterCount(oldCfg)).fill(0.01), vocab: previous, tokenizer: 'text' });
    const before = await loadModelFiles(dir);
    let job: ReturnType<typeof startTraining> | undefined;
    job = startTraining(
      request([storyFile(47 + trial, 60), storyFile(46, 10), storyFile(51, 20)], { settings: { epochs: 1 }, save: { dir, source: 't' } }),
      // Cancelled as the save starts (trial 0, 1) or a moment into it (2, 3).
      { onSaving: () => void setTimeout(() => job!.cancel(), trial < 2 ? 0 : trial) },
      { isolation: 'process' },
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

/** Folders of story files on disk for folder runs; removed after the test. */
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

test('on folders, the child process reads them itself (exclude globs, each folder\'s rules), reports what it read, and prepares what the files path would', async (t) => {
  const [first, second] = storyFolders(t, [
    { 'a.md': storyFile(31, 60), 'b/c.md': storyFile(32, 40), 'archive/old.md': 'zanzibarine '.repeat(30), '.gitignore': 'private/\n', 'private/p.md': 'quorvex '.repeat(30) },
    { 'd.md': storyFile(33, 50), 'e.md': storyFile(34, 30), 'gen/g.md': 'plinthody '.repeat(30) },
  ]);
  const folders = [
    { root: first!, prefix: 'one/', exclude: ['**/archive'] },
    { root: second!, prefix: 'two/', exclude: ['gen/**'] },
  ];
  const limits = { maxFiles: 100, maxTotalBytes: 1 << 20 };
  // What this thread's walk gives, handed over as files read by the caller.
  const expectedScan = await readWorkspaceFolders(folders, limits);
  const files = filesSource(expectedScan.files.map((f) => f.text));
  files.relPaths = expectedScan.files.map((f) => f.relPath);
  const viaFiles: PlannedRun[] = [];
  await startTraining({ ...request([], { settings: { epochs: 1 } }), source: files }, { onPlanned: (p) => viaFiles.push(p) }).result;

  const order: string[] = [];
  let read: ReadReport | undefined;
  let planned: PlannedRun | undefined;
  const r = await startTraining(
    { ...request([], { settings: { epochs: 1 } }), source: { kind: 'folders', folders, limits } },
    {
      onRead: (x) => (order.push('read'), (read = x)),
      onPlanned: (p) => (order.push('planned'), (planned = p)),
      onEvent: () => order.at(-1) !== 'event' && order.push('event'),
    },
    { isolation: 'process' },
  ).result;
  assert.deepEqual(order, ['read', 'planned', 'event']);
  const scan = read?.scan;
  assert.ok(scan);
  assert.equal(scan.files.length, 5, 'a.md, b/c.md, .gitignore, d.md, e.md');
  assert.deepEqual(scan, scanFigures(expectedScan));
  assert.deepEqual([...scan.skipped.keys()].sort(), ['ignored']);
  assert.deepEqual(scan.skipped.get('ignored')!.examples, ['one/archive/', 'one/private/', 'two/gen/']);
  assert.deepEqual(planned, viaFiles[0], 'the same vocabulary, token counts and plan as the files path');
  const words = planned!.vocab.words.join(' ');
  for (const w of ['zanzibarine', 'quorvex', 'plinthody']) assert.ok(!words.includes(w), `"${w}" (excluded) was not read`);
  assert.ok(Number.isFinite(r.bestValidPpl));
});

test('on a project folder with a test share, the held-out files come back to the caller and never train', async (t) => {
  const tree: Record<string, string> = {};
  for (let i = 0; i < 10; i++) tree[`s${i}.md`] = storyFile(60 + i, 20) + `marker${i} `.repeat(5);
  const [root] = storyFolders(t, [tree]);
  let read: ReadReport | undefined;
  let planned: PlannedRun | undefined;
  await startTraining({ ...request([], { settings: { epochs: 1, vocab: 200 }, testFraction: 0.3 }), source: { kind: 'folders', folders: [{ root: root!, prefix: '' }] } }, { onRead: (x) => (read = x), onPlanned: (p) => (planned = p) }).result;
  const expected = splitProject(Object.keys(tree).sort().map((relPath) => ({ relPath })), { validFraction: settings.validFraction, testFraction: 0.3, where: '', report: '' });
  assert.deepEqual(read?.heldOut?.map((f) => f.relPath), expected.heldOut.map((f) => f.relPath));
  assert.equal(read!.heldOut![0]!.text, tree[read!.heldOut![0]!.relPath]!.replace(/^\uFEFF/, ''), 'the text as read (a BOM is not text)');
  const words = planned!.vocab.words;
  const marked = (relPath: string) => words.some((w) => w.includes(`marker${relPath.slice(1, -3)}`));
  for (const f of read!.heldOut!) assert.ok(!marked(f.relPath), `${f.relPath} did not train`);
  assert.ok(expected.train.some((f) => marked(f.relPath)), 'a training file\'s marker is in the vocabulary');
});

test('on folders, reading progress comes while the child process walks, and a cancel stops the walk', async (t) => {
  const files: Record<string, string> = {};
  for (let d = 0; d < 100; d++) for (let f = 0; f < 60; f++) files[`d${d}/f${f}.md`] = `line ${d} ${f}\n`;
  const [root] = storyFolders(t, [files]);
  const req = { ...request([]), source: { kind: 'folders' as const, folders: [{ root: root!, prefix: '' }], limits: { maxFiles: 100_000, maxTotalBytes: 1 << 30 } } };
  // Cancelled as the walk starts: it never completes.
  const early = startTraining(req, { onRead: () => assert.fail('the walk was cancelled'), onPlanned: () => assert.fail('no plan') }, { isolation: 'process' });
  setImmediate(() => early.cancel());
  await assert.rejects(early.result, TrainingCancelled);
  // Cancelled at its first progress report, which comes before the walk's end.
  const progress: ReadingProgress[] = [];
  let read = false;
  const job = startTraining(
    req,
    {
      onReading: (p) => {
        progress.push(p);
        job.cancel();
      },
      onRead: () => (read = true),
      onPlanned: () => assert.fail('no plan'),
    },
    { isolation: 'process' },
  );
  await assert.rejects(job.result, TrainingCancelled);
  assert.ok(progress.length >= 1 && !read, `progress ${JSON.stringify(progress)} before the walk ended (${read ? 'it ended' : 'it did not'})`);
  assert.ok(progress[0]!.taken + progress[0]!.skipped < 6000);
});
