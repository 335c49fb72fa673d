// Saves and loads a model folder so that a reader only ever sees a complete model: the previous one
// until the new one is fully on disk, then the new one. A crash, a kill or a full disk at any moment
// leaves the previous model loadable.
//
// Layout:
//   DIR/model.json                   metadata (JSON); its `onnx` field names the weights file:
//                                    "onnx": { "file": "model-<id>.onnx", "bytes": N, "sha256": "<64 hex>" }
//   DIR/model-<id>.onnx              the ONNX model; id = first 16 hex digits of its sha256
//   DIR/ngram-<id>.bin               optional: the n-gram model trained with it (core/ngram/kneser-ney.ts's
//                                    binary), named by model.json's `ngram` field as the ONNX file is by `onnx`
//   DIR/<name>.<pid>.<nonce>.tmp     a file being written (readers never look at these)
//
// Save, each step durable before the next:
//   0. n-gram bytes (or a file's, copied in pieces), when given, → ngram-<id>.bin the same way as step 1
//   1. ONNX bytes → model-<id>.onnx.<pid>.<nonce>.tmp, fsync, rename to model-<id>.onnx, fsync DIR
//   2. model.json  → model.json.<pid>.<nonce>.tmp, fsync, rename over model.json, fsync DIR   ← commit
//   3. best effort: delete model-*.onnx and ngram-*.bin files that model.json (read again) does not name, and .tmp files
//      whose writer is gone (its pid is not running, or it is this process and not writing it now).
// Until the rename in step 2 model.json names the old, untouched ONNX file; after it, the new one,
// which was durable before model.json was written. A save that fails (say, a full disk) removes its
// temp file and its uncommitted files before rethrowing. Readers verify length and sha256, so a
// damaged file is reported, never used. The n-gram file is a companion: when it is damaged or missing the
// model still loads, without it, and the reader is told why (`ngramProblem`).
//
// Saves to one folder are serialised within a process. Two processes saving to the same folder at the
// same instant can make one's cleanup delete the ONNX file the other is about to commit; callers should
// not train two models into one folder at once.

import { createHash, randomBytes } from 'node:crypto';
import { yieldToEventLoop } from '../core/support/event-loop.js';
import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';

export interface ModelFiles {
  onnx: Uint8Array;
  /** The n-gram companion's verified bytes, when model.json names one and it is intact. */
  ngram?: Uint8Array;
  /**
   * Instead of `ngram`, when asked for (`companion: 'file'`): the companion's file and what model.json
   * expects of it, its length checked, its contents not read (the reader verifies the sha256).
   */
  ngramFile?: { path: string; bytes: number; sha256: string };
  /** Why a companion that model.json names was not loaded (missing, damaged). */
  ngramProblem?: string;
  /** The parsed model.json, including the `onnx` field. */
  meta: Record<string, unknown>;
  /** The absolute model folder. */
  dir: string;
}

/** What model.json's `onnx` (and `ngram`) field holds; set by saveModel (any value passed in is replaced). */
export interface OnnxFileRef {
  file: string;
  bytes: number;
  sha256: string;
}

/** `no-model`: no model.json. `corrupt`: model.json or the ONNX file is unusable. */
export type ModelStoreErrorCode = 'no-model' | 'corrupt';

export class ModelStoreError extends Error {
  constructor(
    readonly code: ModelStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ModelStoreError';
  }
}

/** An open file as far as saving needs it; node's FileHandle fits. */
export interface StoreFile {
  write(data: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The file operations a save uses, injectable so tests can fail or "crash" at any one of them. */
export interface StoreFs {
  mkdir(dir: string): Promise<unknown>;
  /** 'wx': create a new file for writing; 'r': open for reading (used on the folder, to fsync it). */
  open(file: string, flags: 'wx' | 'r'): Promise<StoreFile>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
  readFile(file: string): Promise<Uint8Array>;
}

export const nodeStoreFs: StoreFs = {
  mkdir: (dir) => fsp.mkdir(dir, { recursive: true }),
  open: (file, flags) => fsp.open(file, flags),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (file) => fsp.unlink(file),
  readdir: (dir) => fsp.readdir(dir),
  readFile: (file) => fsp.readFile(file),
};

export const MODEL_JSON = 'model.json';
const ONNX_NAME = /^model-[0-9a-f]{16}\.onnx$/;
const NGRAM_NAME = /^ngram-[0-9a-f]{16}\.bin$/;
const TMP_NAME = /^(.+)\.(\d+)\.([0-9a-f]{8})\.tmp$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Writes are issued in pieces of this size so a huge model never needs one giant syscall. */
const WRITE_CHUNK = 4 * 1024 * 1024;
/** A reader re-reads model.json this many times when a concurrent save swapped the files under it. */
const READ_ATTEMPTS = 5;

/** Temp files this process is writing now, by absolute path; cleanup leaves them alone. */
const inFlight = new Set<string>();
/** The tail of each folder's save queue, by absolute path. */
const saveQueues = new Map<string, Promise<unknown>>();

/**
 * Saves a model into `dir` (created if needed), replacing the previous one atomically. `meta` must be
 * JSON-serialisable; its `onnx` field is set to the weights file's name, length and sha256, and its
 * `ngram` field to the n-gram file's when `ngram` bytes are given (removed otherwise).
 */
export function saveModel(
  dir: string,
  model: ModelToSave,
  opts: { fs?: StoreFs; signal?: AbortSignal } = {},
): Promise<{ onnxPath: string; jsonPath: string }> {
  const absDir = path.resolve(dir);
  const previous = saveQueues.get(absDir) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => saveNow(opts.fs ?? nodeStoreFs, absDir, model, opts.signal));
  saveQueues.set(absDir, run);
  run
    .finally(() => {
      if (saveQueues.get(absDir) === run) saveQueues.delete(absDir);
    })
    .catch(() => undefined);
  return run;
}

export interface ModelToSave {
  onnx: Uint8Array;
  meta: Record<string, unknown>;
  /**
   * The n-gram companion (KneserNey.toBytes()), optional: its bytes, or a file holding them, copied a piece at
   * a time (a 60 MB model need not be read into memory to be saved; the file is left in place).
   */
  ngram?: Uint8Array | { file: string };
}

/** Bytes to write, or a file to copy them from. */
type Source = Uint8Array | { file: string };

async function fileRef(prefix: 'model' | 'ngram', ext: string, source: Source): Promise<OnnxFileRef> {
  const { sha256, bytes } = source instanceof Uint8Array ? { sha256: await sha256Hex(source), bytes: source.length } : await sha256OfFile(source.file);
  return { file: `${prefix}-${sha256.slice(0, 16)}.${ext}`, bytes, sha256 };
}

/** The SHA-256 and length of a file, read a piece at a time. */
async function sha256OfFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const piece of pieces(file)) {
    hash.update(piece);
    bytes += piece.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** A file's contents in pieces of at most WRITE_CHUNK bytes (each a view of one reused buffer). */
async function* pieces(file: string): AsyncGenerator<Uint8Array> {
  const handle = await fsp.open(file, 'r');
  try {
    const buf = new Uint8Array(WRITE_CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** Bytes hashed between two turns of the event loop: ~4 ms (a 40 MB model in one go held the editor's thread ~45 ms). */
const HASH_PIECE = 2 * 1024 * 1024;

/** The SHA-256 of `bytes` in hex, hashed a piece at a time with the event loop running in between. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  for (let at = 0; at < bytes.length; at += HASH_PIECE) {
    if (at > 0) await yieldToEventLoop();
    hash.update(bytes.subarray(at, at + HASH_PIECE));
  }
  return hash.digest('hex');
}

/**
 * `signal` cancels the save up to its commit (the rename of model.json): the files written so far are
 * removed and it rejects with the signal's reason; the previous model stays. Once the commit has begun the
 * save completes.
 */
async function saveNow(fs: StoreFs, dir: string, model: ModelToSave, signal?: AbortSignal): Promise<{ onnxPath: string; jsonPath: string }> {
  const { onnx, meta, ngram } = model;
  if (!(onnx instanceof Uint8Array) || onnx.length === 0) throw new TypeError('saveModel: onnx must be a non-empty Uint8Array');
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new TypeError('saveModel: meta must be a plain object');
  if (ngram !== undefined && !(ngram instanceof Uint8Array ? ngram.length > 0 : typeof ngram?.file === 'string')) {
    throw new TypeError('saveModel: ngram must be a non-empty Uint8Array or { file }');
  }

  const ref = await fileRef('model', 'onnx', onnx);
  const ngramRef = ngram ? await fileRef('ngram', 'bin', ngram) : undefined;
  if (ngramRef && ngramRef.bytes === 0) throw new TypeError('saveModel: the n-gram file is empty');
  let json: string;
  try {
    const { ngram: _dropped, ...rest } = meta;
    json = JSON.stringify({ ...rest, onnx: ref, ...(ngramRef ? { ngram: ngramRef } : {}) }, null, 2) + '\n';
  } catch (err) {
    throw new TypeError(`saveModel: meta is not JSON-serialisable: ${(err as Error).message}`);
  }

  const written = [ref.file, ...(ngramRef ? [ngramRef.file] : [])];
  try {
    signal?.throwIfAborted();
    await fs.mkdir(dir);
    if (ngram && ngramRef) await writeDurably(fs, dir, ngramRef.file, ngram);
    signal?.throwIfAborted();
    await writeDurably(fs, dir, ref.file, onnx);
    signal?.throwIfAborted();
    await writeDurably(fs, dir, MODEL_JSON, new TextEncoder().encode(json));
  } catch (err) {
    // A full disk should not stay full of our new, uncommitted files; nor should a cancelled save.
    for (const file of written) await removeIfUnreferenced(fs, dir, file);
    if (signal?.aborted && err === signal.reason) throw err;
    const e = err as NodeJS.ErrnoException;
    const wrapped = new Error(`could not save the model in ${dir}: ${e.message}`, { cause: err }) as NodeJS.ErrnoException;
    if (e.code) wrapped.code = e.code;
    throw wrapped;
  }
  await cleanUp(fs, dir, written);
  return { onnxPath: path.join(dir, ref.file), jsonPath: path.join(dir, MODEL_JSON) };
}

/** Writes `name` in `dir` through a fresh temp file: write (or copy), fsync, rename, fsync the folder. */
async function writeDurably(fs: StoreFs, dir: string, name: string, source: Source): Promise<void> {
  const tmp = path.join(dir, `${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  inFlight.add(tmp);
  try {
    const file = await fs.open(tmp, 'wx');
    try {
      const write = async (data: Uint8Array, at: number) => {
        for (let offset = 0; offset < data.length; ) {
          const { bytesWritten } = await file.write(data, offset, Math.min(WRITE_CHUNK, data.length - offset), at + offset);
          if (bytesWritten <= 0) throw new Error(`short write to ${tmp}`);
          offset += bytesWritten;
        }
      };
      if (source instanceof Uint8Array) await write(source, 0);
      else {
        let at = 0;
        for await (const piece of pieces(source.file)) {
          await write(piece, at);
          at += piece.length;
        }
      }
      await file.sync();
    } catch (err) {
      await file.close().catch(() => undefined);
      throw err;
    }
    await file.close();
    await renameWithRetry(fs, tmp, path.join(dir, name));
    await syncDir(fs, dir);
  } catch (err) {
    // Best effort; after a real crash the next save's cleanup removes it.
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  } finally {
    inFlight.delete(tmp);
  }
}

/** Windows refuses a rename while another process (an indexer, an antivirus) briefly holds the file. */
async function renameWithRetry(fs: StoreFs, from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fs.rename(from, to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const transient = process.platform === 'win32' && (code === 'EPERM' || code === 'EACCES' || code === 'EBUSY');
      if (!transient || attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
    }
  }
}

/** Makes renames in `dir` durable. Windows and some file systems cannot fsync a folder; that is not an error. */
async function syncDir(fs: StoreFs, dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let handle: StoreFile;
  try {
    handle = await fs.open(dir, 'r');
  } catch (err) {
    if (isUnsupported(err)) return;
    throw err;
  }
  try {
    await handle.sync();
  } catch (err) {
    if (!isUnsupported(err)) throw err;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function isUnsupported(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EINVAL' || code === 'ENOTSUP' || code === 'EISDIR' || code === 'EPERM' || code === 'EACCES' || code === 'EBADF';
}

/** Step 3: never throws; anything it cannot delete now, a later save will. */
async function cleanUp(fs: StoreFs, dir: string, justWritten: string[]): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  // Read model.json again: if another process committed meanwhile, the files it names must survive.
  // When it cannot be read, no model or n-gram file is deleted.
  const current = await committedFiles(fs, dir);
  for (const name of names) {
    const stale =
      ONNX_NAME.test(name) || NGRAM_NAME.test(name)
        ? current !== undefined && !justWritten.includes(name) && !current.includes(name)
        : name.endsWith('.tmp') && isStaleTmp(dir, name);
    if (stale) await fs.unlink(path.join(dir, name)).catch(() => undefined);
  }
}

/** Deletes `dir/file` unless model.json (readable and valid) names it; never throws. */
async function removeIfUnreferenced(fs: StoreFs, dir: string, file: string): Promise<void> {
  const current = await committedFiles(fs, dir);
  // No readable model.json: keep the file, a later save decides.
  if (current && !current.includes(file)) await fs.unlink(path.join(dir, file)).catch(() => undefined);
}

/** The files the committed model.json names (its ONNX file, and its n-gram file if any); undefined when it cannot be read or is invalid. */
async function committedFiles(fs: StoreFs, dir: string): Promise<string[] | undefined> {
  try {
    const meta: unknown = JSON.parse(new TextDecoder().decode(await fs.readFile(path.join(dir, MODEL_JSON))));
    const onnx = parseOnnxRef(meta);
    const ngram = parseFileRef(meta, 'ngram', NGRAM_NAME);
    return onnx ? [onnx.file, ...(ngram ? [ngram.file] : [])] : undefined;
  } catch {
    return undefined;
  }
}

/** A temp file nobody is writing: its writer's pid is gone, or it is ours and not in flight. */
function isStaleTmp(dir: string, name: string): boolean {
  const m = TMP_NAME.exec(name);
  if (!m) return true; // not our naming: left by something else that crashed
  const pid = Number(m[2]);
  if (pid === process.pid) return !inFlight.has(path.join(dir, name));
  return !isProcessAlive(pid);
}

/** Whether process `pid` is running (it may be someone else's). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}

function parseOnnxRef(meta: unknown): OnnxFileRef | undefined {
  return parseFileRef(meta, 'onnx', ONNX_NAME);
}

function parseFileRef(meta: unknown, field: 'onnx' | 'ngram', name: RegExp): OnnxFileRef | undefined {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return undefined;
  const ref = (meta as Record<string, unknown>)[field] as Partial<OnnxFileRef> | undefined;
  if (typeof ref !== 'object' || ref === null) return undefined;
  const { file, bytes, sha256 } = ref;
  // The name pattern also keeps a tampered model.json from pointing outside the folder.
  if (typeof file !== 'string' || !name.test(file)) return undefined;
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) return undefined;
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) return undefined;
  return { file, bytes, sha256 };
}

/**
 * Loads the model in `dir`: model.json, then the ONNX file it names, checked against the recorded
 * length and sha256. Throws ModelStoreError "no model in DIR" when there is no model.json, and
 * "… is corrupt …" when either file is unusable. Does not check the metadata's format version.
 */
export async function loadModelFiles(dir: string, opts: { companion?: 'bytes' | 'file' } = {}): Promise<ModelFiles> {
  const absDir = path.resolve(dir);
  const jsonPath = path.join(absDir, MODEL_JSON);
  const readJsonText = async (): Promise<string> => {
    try {
      return await fsp.readFile(jsonPath, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new ModelStoreError('no-model', `no model in ${absDir}`, { cause: err });
      throw new Error(`cannot read ${jsonPath}: ${(err as Error).message}`, { cause: err });
    }
  };

  let jsonText = await readJsonText();
  for (let attempt = 1; ; attempt++) {
    let meta: unknown;
    try {
      meta = JSON.parse(jsonText);
    } catch (err) {
      throw new ModelStoreError('corrupt', `model.json in ${absDir} is corrupt: ${(err as Error).message}`, { cause: err });
    }
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
      throw new ModelStoreError('corrupt', `model.json in ${absDir} is corrupt: not a JSON object`);
    }
    const ref = parseOnnxRef(meta);
    if (!ref) {
      throw new ModelStoreError(
        'corrupt',
        `model.json in ${absDir} is corrupt: its "onnx" field must name a model-<id>.onnx file with its bytes and sha256`,
      );
    }

    const problem = await readVerified(path.join(absDir, ref.file), ref);
    if (problem instanceof Uint8Array) {
      return { onnx: problem, meta: meta as Record<string, unknown>, dir: absDir, ...(await readNgram(absDir, meta as Record<string, unknown>, opts.companion ?? 'bytes')) };
    }

    // A save in another process may have replaced model.json and deleted the file it named.
    const again = attempt < READ_ATTEMPTS ? await readJsonText() : jsonText;
    if (again === jsonText) throw new ModelStoreError('corrupt', `model in ${absDir} is corrupt or incomplete: ${problem}`);
    jsonText = again;
  }
}

/** The n-gram companion model.json names, verified, or why it is unusable; nothing when none is named. */
async function readNgram(dir: string, meta: Record<string, unknown>, asked: 'bytes' | 'file'): Promise<Pick<ModelFiles, 'ngram' | 'ngramFile' | 'ngramProblem'>> {
  if (meta.ngram === undefined) return {};
  // A model served as a mixture (core/serving/mixture-model.ts) predicts with its companion: it is read here.
  const as = meta.mixture !== undefined ? 'bytes' : asked;
  const ref = parseFileRef(meta, 'ngram', NGRAM_NAME);
  if (!ref) return { ngramProblem: 'its "ngram" field must name an ngram-<id>.bin file with its bytes and sha256' };
  try {
    if (as === 'file') {
      const file = path.join(dir, ref.file);
      const size = await fsp.stat(file).then((st) => st.size, (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
      if (size === undefined) return { ngramProblem: `${ref.file} is missing` };
      if (size !== ref.bytes) return { ngramProblem: `${ref.file} holds ${size} bytes, model.json expects ${ref.bytes}` };
      return { ngramFile: { path: file, bytes: ref.bytes, sha256: ref.sha256 } };
    }
    const bytes = await readVerified(path.join(dir, ref.file), ref);
    return bytes instanceof Uint8Array ? { ngram: bytes } : { ngramProblem: bytes };
  } catch (err) {
    return { ngramProblem: (err as Error).message };
  }
}

/**
 * An n-gram companion's file, read whole: a training run's hand-over file, or a saved model's
 * ngram-<id>.bin checked against what model.json says of it (`expect`). Synchronous: for the model server,
 * which loads it as one piece of work. Throws with what is wrong.
 */
export function readCompanionFile(file: string, expect?: { bytes: number; sha256: string }): Uint8Array {
  const bytes = readFileSync(file);
  const name = path.basename(file);
  if (expect && bytes.length !== expect.bytes) throw new Error(`${name} holds ${bytes.length} bytes, model.json expects ${expect.bytes}`);
  if (expect && createHash('sha256').update(bytes).digest('hex') !== expect.sha256) throw new Error(`the sha256 of ${name} does not match model.json`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The verified bytes, or what is wrong with them. */
async function readVerified(file: string, ref: OnnxFileRef): Promise<Uint8Array | string> {
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${ref.file} is missing`;
    throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (buf.length !== ref.bytes) return `${ref.file} holds ${buf.length} bytes, model.json expects ${ref.bytes}`;
  const sha256 = await sha256Hex(buf);
  if (sha256 !== ref.sha256) return `the sha256 of ${ref.file} does not match model.json`;
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
