import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import {
  loadModelFiles,
  ModelStoreError,
  nodeStoreFs,
  saveModel,
  sha256Hex,
  type StoreFile,
  type StoreFs,
} from '../../src/io/model-store.js';

interface Model {
  onnx: Uint8Array;
  meta: Record<string, unknown>;
}

// Plain JavaScript, so the killed child processes can build exactly the same models.
const MAKE_MODEL_JS = `function makeModel(i) {
  const size = 50000 + (i % 5) * 70000;
  const onnx = new Uint8Array(size);
  let x = (Math.imul(i + 1, 2654435761) >>> 0) || 1;
  for (let k = 0; k < size; k++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    onnx[k] = x & 255;
  }
  return { onnx, meta: { format: 'test-model', i, size } };
}`;
const makeModel = new Function(`${MAKE_MODEL_JS}; return makeModel;`)() as (i: number) => Model;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const onnxName = (b: Uint8Array) => `model-${sha256(b).slice(0, 16)}.onnx`;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nextword-store-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Asserts that `dir` holds model i exactly (bytes and metadata). */
async function assertHolds(dir: string, i: number): Promise<void> {
  const want = makeModel(i);
  const got = await loadModelFiles(dir);
  assert.equal(got.meta.i, i);
  assert.deepEqual(got.onnx, want.onnx);
}

const listing = (dir: string) => fs.readdirSync(dir).sort();

test('saveModel / loadModelFiles: round trip and layout', async (t) => {
  const dir = path.join(tempDir(t), 'nested', 'model'); // created on demand
  const model = makeModel(1);
  const saved = await saveModel(dir, model);
  const file = onnxName(model.onnx);
  assert.deepEqual(saved, { onnxPath: path.join(dir, file), jsonPath: path.join(dir, 'model.json') });
  assert.deepEqual(listing(dir), [file, 'model.json']);

  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  assert.deepEqual(json, { ...model.meta, onnx: { file, bytes: model.onnx.length, sha256: sha256(model.onnx) } });

  const loaded = await loadModelFiles(dir);
  assert.deepEqual(loaded.onnx, model.onnx);
  assert.ok(Object.getPrototypeOf(loaded.onnx) === Uint8Array.prototype, 'a plain Uint8Array, not a Buffer');
  assert.deepEqual(loaded.meta, json);
  assert.equal(loaded.dir, path.resolve(dir));
});

test('saveModel: a new save replaces the old one and removes its file', async (t) => {
  const dir = tempDir(t);
  await saveModel(dir, makeModel(1));
  const second = makeModel(2);
  await saveModel(dir, second);
  assert.deepEqual(listing(dir), [onnxName(second.onnx), 'model.json']);
  await assertHolds(dir, 2);
  // Saving identical weights again reuses the name; nothing else is left behind.
  await saveModel(dir, { ...second, meta: { ...second.meta, note: 'again' } });
  assert.deepEqual(listing(dir), [onnxName(second.onnx), 'model.json']);
  assert.equal((await loadModelFiles(dir)).meta.note, 'again');
});

test('saveModel: the onnx field is set by the store; a loaded meta can be saved again', async (t) => {
  const dir = tempDir(t);
  const model = makeModel(3);
  await saveModel(dir, { onnx: model.onnx, meta: { ...model.meta, onnx: { file: '../../etc/passwd', bytes: 1, sha256: 'x' } } });
  const loaded = await loadModelFiles(dir);
  assert.deepEqual(loaded.meta.onnx, { file: onnxName(model.onnx), bytes: model.onnx.length, sha256: sha256(model.onnx) });
  await saveModel(dir, { onnx: loaded.onnx, meta: loaded.meta });
  await assertHolds(dir, 3);
});

test('saveModel: rejects bad input before touching the disk', async (t) => {
  const dir = path.join(tempDir(t), 'never-created');
  await assert.rejects(saveModel(dir, { onnx: new Uint8Array(0), meta: {} }), /onnx must be a non-empty Uint8Array/);
  await assert.rejects(saveModel(dir, { onnx: [1, 2] as unknown as Uint8Array, meta: {} }), /onnx must be a non-empty Uint8Array/);
  await assert.rejects(saveModel(dir, { onnx: new Uint8Array(4), meta: [] as unknown as Record<string, unknown> }), /meta must be a plain object/);
  await assert.rejects(saveModel(dir, { onnx: new Uint8Array(4), meta: { big: 1n } }), /meta is not JSON-serialisable/);
  assert.equal(fs.existsSync(dir), false);
});

test('loadModelFiles: clear errors for missing and damaged models', async (t) => {
  const root = tempDir(t);
  const expectError = async (dir: string, code: string, message: RegExp) => {
    await assert.rejects(loadModelFiles(dir), (err: unknown) => {
      assert.ok(err instanceof ModelStoreError);
      assert.equal(err.code, code);
      assert.match(err.message, message);
      return true;
    });
  };
  await expectError(path.join(root, 'nothing-here'), 'no-model', /^no model in .*nothing-here$/);
  await expectError(root, 'no-model', /^no model in /);

  const fresh = async (name: string) => {
    const dir = path.join(root, name);
    await saveModel(dir, makeModel(7));
    return { dir, onnx: path.join(dir, onnxName(makeModel(7).onnx)), json: path.join(dir, 'model.json') };
  };

  const torn = await fresh('torn-json');
  fs.writeFileSync(torn.json, fs.readFileSync(torn.json, 'utf8').slice(0, 40));
  await expectError(torn.dir, 'corrupt', /^model\.json in .*torn-json is corrupt: .*JSON/);

  const notObject = await fresh('array-json');
  fs.writeFileSync(notObject.json, '[1, 2]');
  await expectError(notObject.dir, 'corrupt', /model\.json in .* is corrupt: not a JSON object/);

  const noField = await fresh('no-field');
  fs.writeFileSync(noField.json, JSON.stringify({ format: 'x' }));
  await expectError(noField.dir, 'corrupt', /is corrupt: its "onnx" field/);

  const escape = await fresh('escape');
  const meta = JSON.parse(fs.readFileSync(escape.json, 'utf8'));
  fs.writeFileSync(escape.json, JSON.stringify({ ...meta, onnx: { ...meta.onnx, file: '../escape/model.json' } }));
  await expectError(escape.dir, 'corrupt', /is corrupt: its "onnx" field/);

  const missing = await fresh('missing-onnx');
  fs.rmSync(missing.onnx);
  await expectError(missing.dir, 'corrupt', /^model in .*missing-onnx is corrupt or incomplete: model-[0-9a-f]{16}\.onnx is missing$/);

  const truncated = await fresh('truncated');
  fs.truncateSync(truncated.onnx, 1000);
  const size = makeModel(7).onnx.length;
  await expectError(truncated.dir, 'corrupt', new RegExp(`corrupt or incomplete: .* holds 1000 bytes, model\\.json expects ${size}$`));

  const flipped = await fresh('flipped');
  const bytes = fs.readFileSync(flipped.onnx);
  bytes[123]! ^= 0xff;
  fs.writeFileSync(flipped.onnx, bytes);
  await expectError(flipped.dir, 'corrupt', /corrupt or incomplete: the sha256 of .* does not match model\.json/);
});

// Fault injection --------------------------------------------------------------------------------

interface Fault {
  /** Index of the failing operation in the save's sequence. */
  at: number;
  /**
   * crash: that operation and every later one fail, as if the process died. error: only that one fails.
   * cancel: `cancel` is called just before that operation, which then runs as usual.
   */
  kind: 'crash' | 'error' | 'cancel';
  cancel?: () => void;
}

/**
 * node's file system with one injected failure. The failing write first writes half its bytes (a torn
 * write); a failing close still closes the real handle, so the test leaks no descriptors.
 */
function faultyFs(fault?: Fault): { fs: StoreFs; trace: string[] } {
  const trace: string[] = [];
  let crashed = false;
  /** The error to throw for this operation, if any; `torn` only at the injected failure itself. */
  const check = (op: string, p: string): { err: Error; torn: boolean } | undefined => {
    const index = trace.length;
    const name = path.basename(p);
    trace.push(`${op} ${name.startsWith('nextword-store-') ? '<dir>' : name}`);
    if (crashed) return { err: Object.assign(new Error('simulated crash'), { code: 'ECRASH' }), torn: false };
    if (!fault || index !== fault.at) return undefined;
    if (fault.kind === 'cancel') {
      fault.cancel?.();
      return undefined;
    }
    if (fault.kind === 'crash') {
      crashed = true;
      return { err: Object.assign(new Error('simulated crash'), { code: 'ECRASH' }), torn: true };
    }
    const code = op === 'write' ? 'ENOSPC' : 'EIO';
    return { err: Object.assign(new Error(`${code}: simulated failure, ${op}`), { code }), torn: true };
  };
  const wrapFile = (file: StoreFile, p: string): StoreFile => ({
    write: async (data, offset, length, position) => {
      const failure = check('write', p);
      if (!failure) return file.write(data, offset, length, position);
      if (failure.torn) await file.write(data, offset, Math.floor(length / 2), position);
      throw failure.err;
    },
    sync: async () => {
      const failure = check('sync', p);
      if (failure) throw failure.err;
      return file.sync();
    },
    close: async () => {
      const failure = check('close', p);
      await file.close();
      if (failure) throw failure.err;
    },
  });
  const guard =
    <A extends unknown[], R>(op: string, fn: (p: string, ...rest: A) => Promise<R>) =>
    async (p: string, ...rest: A): Promise<R> => {
      const failure = check(op, p);
      if (failure) throw failure.err;
      return fn(p, ...rest);
    };
  const store: StoreFs = {
    mkdir: guard('mkdir', (d: string) => nodeStoreFs.mkdir(d)),
    open: async (p, flags) => {
      const failure = check(`open-${flags}`, p);
      if (failure) throw failure.err;
      return wrapFile(await nodeStoreFs.open(p, flags), p);
    },
    rename: guard('rename', (from: string, to: string) => nodeStoreFs.rename(from, to)),
    unlink: guard('unlink', (p: string) => nodeStoreFs.unlink(p)),
    readdir: guard('readdir', (d: string) => nodeStoreFs.readdir(d)),
    readFile: guard('readFile', (p: string) => nodeStoreFs.readFile(p)),
  };
  return { fs: store, trace };
}

/** The sequence of operations a save of model 2 over model 1 performs, and the index of its commit. */
async function recordSave(t: { after: (fn: () => void) => void }): Promise<{ trace: string[]; commit: number }> {
  const dir = tempDir(t);
  await saveModel(dir, makeModel(1));
  const { fs: store, trace } = faultyFs();
  await saveModel(dir, makeModel(2), { fs: store });
  const commit = trace.findIndex((op) => /^rename model\.json\.\d+\.[0-9a-f]{8}\.tmp$/.test(op));
  assert.ok(commit > 0, `no commit rename in ${trace.join(', ')}`);
  // Sanity: the ONNX file is in place (renamed and the folder synced) before model.json is written.
  const onnxRename = trace.findIndex((op) => /^rename model-[0-9a-f]{16}\.onnx\./.test(op));
  const jsonOpen = trace.findIndex((op) => op.startsWith('open-wx model.json.'));
  assert.ok(onnxRename >= 0 && onnxRename < jsonOpen && jsonOpen < commit, trace.join(', '));
  return { trace, commit };
}

test('a crash at any step of a save leaves a complete model, and the next save cleans up', async (t) => {
  const { trace, commit } = await recordSave(t);
  for (let at = 0; at < trace.length; at++) {
    const dir = tempDir(t);
    await saveModel(dir, makeModel(1));
    const { fs: store } = faultyFs({ at, kind: 'crash' });
    await saveModel(dir, makeModel(2), { fs: store }).catch(() => undefined);
    // Before the rename of model.json nothing a reader sees has changed; from it on, the new model is whole.
    await assertHolds(dir, at <= commit ? 1 : 2);

    await saveModel(dir, makeModel(3));
    await assertHolds(dir, 3);
    assert.deepEqual(listing(dir), [onnxName(makeModel(3).onnx), 'model.json'], `crash at ${at} (${trace[at]})`);
  }
});

test('a failure at any step of a save is reported, keeps a complete model and leaves no temp file', async (t) => {
  const { trace, commit } = await recordSave(t);
  for (let at = 0; at < trace.length; at++) {
    const dir = tempDir(t);
    await saveModel(dir, makeModel(1));
    const { fs: store } = faultyFs({ at, kind: 'error' });
    const outcome = await saveModel(dir, makeModel(2), { fs: store }).then(
      () => undefined,
      (err: Error) => err,
    );
    const step = `failure at ${at} (${trace[at]})`;
    // Closing the folder handle after its fsync succeeded cannot lose anything: that failure is ignored
    // and the save goes on.
    const harmless = trace[at] === 'close <dir>';
    const failsBeforeCommit = at <= commit && !harmless;
    if (failsBeforeCommit) {
      assert.ok(outcome instanceof Error, `${step}: the save must fail`);
      assert.match(outcome.message, /^could not save the model in .*: (ENOSPC|EIO): simulated failure/, step);
    }
    await assertHolds(dir, failsBeforeCommit ? 1 : 2);
    assert.deepEqual(listing(dir).filter((n) => n.endsWith('.tmp')), [], step);
    // A failed save removes the ONNX file it had put in place.
    if (failsBeforeCommit) assert.deepEqual(listing(dir), [onnxName(makeModel(1).onnx), 'model.json'], step);
  }
});

test('disk full while writing either file: the previous model loads with identical bytes', async (t) => {
  const { trace } = await recordSave(t);
  const writes = trace.flatMap((op, i) => (op.startsWith('write ') ? [i] : []));
  assert.equal(writes.length, 2, 'one write for the ONNX file, one for model.json');
  for (const at of writes) {
    const dir = tempDir(t);
    await saveModel(dir, makeModel(1));
    const before = fs.readFileSync(path.join(dir, 'model.json'));
    const { fs: store } = faultyFs({ at, kind: 'error' });
    await assert.rejects(saveModel(dir, makeModel(2), { fs: store }), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ENOSPC');
      assert.match(err.message, /could not save the model in .*ENOSPC/);
      return true;
    });
    assert.deepEqual(fs.readFileSync(path.join(dir, 'model.json')), before);
    await assertHolds(dir, 1);
    assert.deepEqual(listing(dir), [onnxName(makeModel(1).onnx), 'model.json']);
  }
  // Re-saving the same weights with new metadata: the failed save must not remove the file in use.
  const dir = tempDir(t);
  await saveModel(dir, makeModel(1));
  const same = makeModel(1);
  const { fs: store } = faultyFs({ at: writes[1]!, kind: 'error' });
  await assert.rejects(saveModel(dir, { onnx: same.onnx, meta: { ...same.meta, note: 'new' } }, { fs: store }), { code: 'ENOSPC' });
  await assertHolds(dir, 1);
  assert.equal((await loadModelFiles(dir)).meta.note, undefined);
});

test('a save cancelled at any step before model.json is written leaves the previous model and none of the new files; later it completes', async (t) => {
  const { trace } = await recordSave(t);
  const jsonOpen = trace.findIndex((op) => op.startsWith('open-wx model.json.'));
  let cancelledBefore = 0;
  let completed = 0;
  for (let at = 0; at < trace.length; at++) {
    const dir = tempDir(t);
    await saveModel(dir, makeModel(1));
    const controller = new AbortController();
    const reason = new Error('cancelled by the user');
    const { fs: store } = faultyFs({ at, kind: 'cancel', cancel: () => controller.abort(reason) });
    const outcome = await saveModel(dir, makeModel(2), { fs: store, signal: controller.signal }).then(
      () => 'saved',
      (e: unknown) => e,
    );
    if (at < jsonOpen) {
      assert.equal(outcome, reason, `cancelled at step ${at} (${trace[at]}): rejects with the signal's reason`);
      await assertHolds(dir, 1);
      assert.deepEqual(listing(dir), [onnxName(makeModel(1).onnx), 'model.json'], `step ${at}: nothing of the new model is left`);
      cancelledBefore++;
    } else {
      assert.equal(outcome, 'saved', `step ${at} (${trace[at]}): model.json is being written, the save completes`);
      await assertHolds(dir, 2);
      completed++;
    }
  }
  assert.ok(cancelledBefore >= 5 && completed >= 3, `${cancelledBefore} steps cancelled, ${completed} completed`);
  t.diagnostic(`cancelled at ${trace.length} steps: ${cancelledBefore} before the commit kept the previous model, ${completed} from it on saved the new one`);
  // Cancelled before it starts: nothing is touched.
  const dir = tempDir(t);
  await saveModel(dir, makeModel(1));
  const controller = new AbortController();
  controller.abort(new Error('already cancelled'));
  await assert.rejects(saveModel(dir, makeModel(2), { signal: controller.signal }), /already cancelled/);
  await assertHolds(dir, 1);
});

test('stale temp and orphan files are ignored by readers and removed by the next save', async (t) => {
  const dir = tempDir(t);
  await saveModel(dir, makeModel(1));
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
  const livePid = process.ppid; // our parent is running
  const decoy = JSON.stringify({ i: 99, onnx: { file: 'model-0000000000000000.onnx', bytes: 1, sha256: '0'.repeat(64) } });
  const files: Record<string, string> = {
    'model.json.tmp': decoy, // not our naming: left by something that crashed
    [`model.json.${deadPid}.0badf00d.tmp`]: decoy,
    [`model-0123456789abcdef.onnx.${deadPid}.deadbeef.tmp`]: 'torn',
    [`model.json.${process.pid}.12345678.tmp`]: decoy, // ours, but no save is writing it
    [`model.json.${livePid}.cafebabe.tmp`]: decoy, // a live writer's: kept
    'model-ffffffffffffffff.onnx': 'orphan', // no model.json names it
    'notes.txt': 'not ours to delete',
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);

  await assertHolds(dir, 1);
  await saveModel(dir, makeModel(2));
  await assertHolds(dir, 2);
  assert.deepEqual(listing(dir), [`model.json.${livePid}.cafebabe.tmp`, onnxName(makeModel(2).onnx), 'model.json', 'notes.txt'].sort());
});

test('saves to one folder within a process are serialised', async (t) => {
  const dir = tempDir(t);
  await Promise.all([1, 2, 3, 4].map((i) => saveModel(dir, makeModel(i))));
  await assertHolds(dir, 4);
  assert.deepEqual(listing(dir), [onnxName(makeModel(4).onnx), 'model.json']);
});

test('a saving process killed at random moments always leaves one of its complete models', async (t) => {
  const work = tempDir(t);
  const dir = path.join(work, 'model');
  const bundle = path.join(work, 'model-store.cjs');
  buildSync({
    entryPoints: [path.join(__dirname, '..', '..', 'src', 'io', 'model-store.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: bundle,
    logLevel: 'error',
  });
  const child = `
    const { saveModel } = require(process.argv[1]);
    ${MAKE_MODEL_JS}
    const dir = process.argv[2];
    (async () => {
      for (let i = Number(process.argv[3]); ; i++) {
        await saveModel(dir, makeModel(i));
        process.stdout.write(i + '\\n');
      }
    })().catch((err) => { console.error(err); process.exit(1); });`;

  const expected = new Map<number, Uint8Array>();
  const verify = async () => {
    const got = await loadModelFiles(dir);
    const i = got.meta.i as number;
    if (!expected.has(i)) expected.set(i, makeModel(i).onnx);
    assert.deepEqual(got.onnx, expected.get(i), `model ${i}`);
    return i;
  };

  await saveModel(dir, makeModel(0));
  let current = 0;
  let acknowledged = 0;
  let concurrentLoads = 0;
  const trials = 15;
  for (let trial = 1; trial <= trials; trial++) {
    const start = trial * 1000;
    const proc = spawn(process.execPath, ['-e', child, bundle, dir, String(start)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    const closed = new Promise<NodeJS.Signals | null>((resolve) => proc.on('close', (_code, signal) => resolve(signal)));

    // Read while the child writes: every load must give a whole model.
    const delay = 60 + Math.random() * 240;
    const until = Date.now() + delay;
    while (Date.now() < until) {
      await verify();
      concurrentLoads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    proc.kill('SIGKILL');
    const signal = await closed;
    assert.equal(signal, 'SIGKILL', `the child died on its own: ${err}`);

    const acked = out.split('\n').filter(Boolean).map(Number);
    acknowledged += acked.length;
    // Committed for sure: the last acknowledged save (or the previous state); possibly also the next one,
    // committed but killed before it could say so.
    const committed = acked.length ? acked[acked.length - 1]! : current;
    const next = acked.length ? committed + 1 : start;
    const i = await verify();
    assert.ok(i === committed || i === next, `trial ${trial} (killed after ${delay.toFixed(0)} ms): loaded ${i}, expected ${committed} or ${next}`);
    current = i;
  }
  assert.ok(acknowledged >= trials, `the children completed only ${acknowledged} saves; the test needs more to mean anything`);
  assert.ok(concurrentLoads > trials);

  // The killed children left temp files and older models behind; a save by a live process clears them.
  await saveModel(dir, makeModel(1));
  assert.deepEqual(listing(dir), [onnxName(makeModel(1).onnx), 'model.json']);
});

// ---------------------------------------------------------------------------------------------------
// The n-gram companion file.

const ngramName = (b: Uint8Array) => `ngram-${sha256(b).slice(0, 16)}.bin`;
/** Model i with an n-gram companion of its own bytes (reversed, so it differs from the ONNX file). */
const withNgram = (i: number) => {
  const m = makeModel(i);
  return { ...m, ngram: m.onnx.slice(0, 20000).reverse() };
};

test('the n-gram companion: saved, named in model.json, loaded verified, replaced and removed with the model', async (t) => {
  const dir = tempDir(t);
  const first = withNgram(1);
  await saveModel(dir, first);
  assert.deepEqual(listing(dir), [onnxName(first.onnx), 'model.json', ngramName(first.ngram)].sort());
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  assert.deepEqual(json.ngram, { file: ngramName(first.ngram), bytes: first.ngram.length, sha256: sha256(first.ngram) });
  const loaded = await loadModelFiles(dir);
  assert.deepEqual(loaded.ngram, first.ngram);
  assert.equal(loaded.ngramProblem, undefined);

  const second = withNgram(2);
  await saveModel(dir, second);
  assert.deepEqual(listing(dir), [onnxName(second.onnx), 'model.json', ngramName(second.ngram)].sort(), 'the old companion is gone');
  assert.deepEqual((await loadModelFiles(dir)).ngram, second.ngram);

  // A model saved without a companion: no field (even if the meta passed in carried one), no file.
  const third = makeModel(3);
  await saveModel(dir, { onnx: third.onnx, meta: { ...third.meta, ngram: json.ngram } });
  assert.deepEqual(listing(dir), [onnxName(third.onnx), 'model.json']);
  const plain = await loadModelFiles(dir);
  assert.equal(plain.meta.ngram, undefined);
  assert.equal(plain.ngram, undefined);
  assert.equal(plain.ngramProblem, undefined);
  await assert.rejects(saveModel(dir, { ...third, ngram: new Uint8Array(0) }), /ngram must be a non-empty Uint8Array/);
});

test('the n-gram companion saved from a file is the companion saved from its bytes; the file stays; a missing or empty file keeps the previous model', async (t) => {
  const dir = tempDir(t);
  const other = tempDir(t);
  const m = withNgram(4);
  // Larger than one piece of the copy (4 MB), so that pieces are put together in order.
  const big = new Uint8Array(9 * 1024 * 1024 + 123);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
  const source = path.join(other, 'model.ngram-handover.tmp');
  fs.writeFileSync(source, big);
  await saveModel(dir, { ...m, ngram: { file: source } });
  const fromFile = await loadModelFiles(dir);
  assert.deepEqual(fromFile.ngram, big);
  assert.equal(fromFile.ngramProblem, undefined);
  assert.deepEqual(listing(dir), [onnxName(m.onnx), 'model.json', ngramName(big)].sort());
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  assert.deepEqual(json.ngram, { file: ngramName(big), bytes: big.length, sha256: sha256(big) }, 'the same reference as from bytes');
  assert.ok(fs.existsSync(source), 'the source file is left where it was');

  const next = makeModel(5);
  await assert.rejects(saveModel(dir, { ...next, ngram: { file: path.join(other, 'gone.tmp') } }), /ENOENT/);
  fs.writeFileSync(path.join(other, 'empty.tmp'), new Uint8Array(0));
  await assert.rejects(saveModel(dir, { ...next, ngram: { file: path.join(other, 'empty.tmp') } }), /the n-gram file is empty/);
  assert.deepEqual(listing(dir), [onnxName(m.onnx), 'model.json', ngramName(big)].sort(), 'the previous model, untouched');
  assert.deepEqual((await loadModelFiles(dir)).ngram, big);
});

test('a damaged or missing n-gram companion leaves the model loadable and says why', async (t) => {
  const root = tempDir(t);
  const fresh = async (name: string) => {
    const dir = path.join(root, name);
    const m = withNgram(4);
    await saveModel(dir, m);
    return { dir, m, ngram: path.join(dir, ngramName(m.ngram)), json: path.join(dir, 'model.json') };
  };
  const cases: [string, (f: Awaited<ReturnType<typeof fresh>>) => void, RegExp][] = [
    ['missing', (f) => fs.rmSync(f.ngram), /ngram-[0-9a-f]{16}\.bin is missing/],
    ['truncated', (f) => fs.truncateSync(f.ngram, 100), /holds 100 bytes, model\.json expects 20000/],
    [
      'flipped',
      (f) => {
        const b = fs.readFileSync(f.ngram);
        b[77]! ^= 1;
        fs.writeFileSync(f.ngram, b);
      },
      /sha256 of ngram-[0-9a-f]{16}\.bin does not match/,
    ],
    [
      'outside',
      (f) => {
        const meta = JSON.parse(fs.readFileSync(f.json, 'utf8'));
        meta.ngram.file = '../../etc/passwd';
        fs.writeFileSync(f.json, JSON.stringify(meta));
      },
      /"ngram" field must name an ngram-<id>\.bin file/,
    ],
  ];
  for (const [name, damage, why] of cases) {
    const f = await fresh(name);
    damage(f);
    const loaded = await loadModelFiles(f.dir);
    assert.deepEqual(loaded.onnx, f.m.onnx, name);
    assert.equal(loaded.ngram, undefined, name);
    assert.match(loaded.ngramProblem ?? '', why, name);
  }
});

test('a crash or failure at any step of a save with a companion leaves a complete model, companion included', async (t) => {
  const probe = tempDir(t);
  await saveModel(probe, withNgram(1));
  const { fs: recorder, trace } = faultyFs();
  await saveModel(probe, withNgram(2), { fs: recorder });
  const commit = trace.findIndex((op) => /^rename model\.json\.\d+\.[0-9a-f]{8}\.tmp$/.test(op));
  const ngramRename = trace.findIndex((op) => /^rename ngram-[0-9a-f]{16}\.bin\./.test(op));
  assert.ok(ngramRename >= 0 && ngramRename < commit, `the companion is in place before the commit: ${trace.join(', ')}`);
  for (const kind of ['crash', 'error'] as const) {
    for (let at = 0; at < trace.length; at++) {
      const dir = tempDir(t);
      await saveModel(dir, withNgram(1));
      const { fs: store } = faultyFs({ at, kind });
      const failed = await saveModel(dir, withNgram(2), { fs: store }).then(
        () => false,
        () => true,
      );
      const step = `${kind} at ${at} (${trace[at]})`;
      const i = failed && at <= commit ? 1 : 2;
      const loaded = await loadModelFiles(dir);
      assert.equal(loaded.meta.i, i, step);
      assert.deepEqual(loaded.onnx, withNgram(i).onnx, step);
      assert.deepEqual(loaded.ngram, withNgram(i).ngram, step);
      await saveModel(dir, withNgram(3));
      assert.deepEqual(listing(dir), [onnxName(withNgram(3).onnx), 'model.json', ngramName(withNgram(3).ngram)].sort(), step);
    }
  }
});

test('sha256Hex hashes in pieces to the same digest as one pass, for sizes around the piece boundaries', async () => {
  const piece = 2 * 1024 * 1024;
  for (const n of [0, 1, piece - 1, piece, piece + 1, 3 * piece + 12345]) {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = (i * 2654435761) >>> 24;
    assert.equal(await sha256Hex(bytes), createHash('sha256').update(bytes).digest('hex'), `${n} bytes`);
  }
});
