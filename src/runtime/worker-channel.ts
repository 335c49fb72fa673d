// A worker's two homes, behind one channel (both ends here: openWorker for the parent, workerPort for the
// worker): a worker thread (the CLI's training: nothing else runs in its process) or a child process (the
// editor's training, and its n-gram servers). In the extension host a worker thread shares the process's
// address space, and its large allocations (a training session, n-gram counting) hold the kernel's lock on
// that address space while the editor's thread allocates too: measured, a worker thread allocating and
// touching 200 MB buffers made a 5 ms timer on the main thread come 48–52 ms late with no CPU time of its
// own (29 times in 12 s, one core busy elsewhere), and the same allocations in a child process never did.
//
// A child process cannot be handed buffers: its messages are copied through a pipe, and one large message is
// serialised or deserialised in one go on the thread that sends or receives it (tens of milliseconds for the
// 50 MB of a workspace's text or a 60 MB n-gram model). Typed arrays of a message larger than PIECE_BYTES are
// therefore sent ahead in pieces and the message carries a reference; the receiver puts them back together.
//
// A child process is started by the process launcher (process-launcher.ts: the editor, large, must not
// fork itself) and talks over a socket pair; on Windows, forked by this process, over its IPC channel.

import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import * as path from 'node:path';
import { parentPort, Worker } from 'node:worker_threads';
import { disableOrtTelemetry } from './ort-telemetry.js';
import { CHANNEL_FD_ENV, forkScript, launch, prestartLauncher, readFrames, writeFrame } from './process-launcher.js';

/** Bytes per piece of a large array sent to or from a child process. */
export const PIECE_BYTES = 2 * 1024 * 1024;

type Typed = Uint8Array | Int32Array | Uint32Array | Float32Array | Float64Array;
const CTORS = { Uint8Array, Int32Array, Uint32Array, Float32Array, Float64Array } as const;
type CtorName = keyof typeof CTORS;

/** What stands in a message for an array sent in pieces. */
interface BlobRef {
  $blob: number;
  ctor: CtorName;
  length: number;
}

/** A piece of an array, sent before the message that refers to it. */
export interface PieceMessage {
  type: '$piece';
  blob: number;
  /** Byte offset of this piece in the array. */
  at: number;
  /** The array's whole size in bytes (the first piece allocates it). */
  total: number;
  data: Uint8Array;
}

function isTyped(v: unknown): v is Typed {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && (v.constructor as { name: string }).name in CTORS;
}

/** Only plain objects are searched for arrays: a Map, a Set, a Date… go as they are (the serialisation keeps them). */
function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

let nextBlob = 1;

/**
 * Replaces the typed arrays larger than PIECE_BYTES (in the message, up to 4 levels deep) by references, and
 * returns the pieces to send first.
 */
export function splitMessage<T>(message: T): { message: T; pieces: PieceMessage[] } {
  const pieces: PieceMessage[] = [];
  const split = (v: unknown): unknown => {
    if (!isTyped(v) || v.byteLength <= PIECE_BYTES) return v;
    const blob = nextBlob++;
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    for (let at = 0; at < bytes.length; at += PIECE_BYTES) {
      pieces.push({ type: '$piece', blob, at, total: bytes.length, data: bytes.subarray(at, at + PIECE_BYTES) });
    }
    return { $blob: blob, ctor: v.constructor.name as CtorName, length: v.length } satisfies BlobRef;
  };
  return { message: replaceIn(message, split) as T, pieces };
}

/**
 * `v` with what `leaf` replaces, looked for in `v` and, up to 4 levels deep, in its plain objects and arrays.
 * An object or array is copied only when something in it is replaced: most messages (a completion request, a
 * chunk to score) come back as they were (copying every message was a tenth of what Nextword allocated in
 * the extension host). Anything else (a Map, a class instance) is left as it is.
 */
function replaceIn(v: unknown, leaf: (v: unknown) => unknown, depth = 0): unknown {
  const replaced = leaf(v);
  if (replaced !== v || depth >= 4 || v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return replaced;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = replaceIn(v[i], leaf, depth + 1);
      if (x !== v[i]) (out ??= v.slice())[i] = x;
    }
    return out ?? v;
  }
  if (!isPlainObject(v)) return v;
  const obj = v as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(obj)) {
    const x = replaceIn(obj[k], leaf, depth + 1);
    if (x !== obj[k]) (out ??= { ...obj })[k] = x;
  }
  return out ?? v;
}

/** Puts arrays back together from their pieces and substitutes them for their references. */
export class MessageAssembler {
  private readonly blobs = new Map<number, Uint8Array>();

  /** True when `m` was a piece (kept); false for any other message. */
  accept(m: unknown): boolean {
    if (typeof m !== 'object' || m === null || (m as { type?: unknown }).type !== '$piece') return false;
    const p = m as PieceMessage;
    let buf = this.blobs.get(p.blob);
    if (!buf) this.blobs.set(p.blob, (buf = new Uint8Array(p.total)));
    buf.set(p.data, p.at);
    return true;
  }

  /** A listener of what arrives: keeps the pieces, and calls `f` with each whole message. */
  listener<T>(f: (m: T) => void): (m: unknown) => void {
    return (m) => {
      if (!this.accept(m)) f(this.restore(m as T));
    };
  }

  /** The message with its references replaced by the arrays they stand for. */
  restore<T>(message: T): T {
    // References come after their pieces: with none waiting, the message holds none.
    if (this.blobs.size === 0) return message;
    const join = (v: unknown): unknown => {
      const ref = v as Partial<BlobRef> | null;
      if (typeof v !== 'object' || ref === null || ArrayBuffer.isView(v) || typeof ref.$blob !== 'number' || typeof ref.ctor !== 'string' || !(ref.ctor in CTORS)) return v;
      const bytes = this.blobs.get(ref.$blob);
      if (!bytes) throw new Error(`worker channel: no pieces arrived for array ${ref.$blob}`);
      this.blobs.delete(ref.$blob);
      return new CTORS[ref.ctor as CtorName](bytes.buffer as ArrayBuffer, 0, ref.length);
    };
    return replaceIn(message, join) as T;
  }
}

/** The parent's end of a worker. */
export interface WorkerChannel<In, Out> {
  /** Sends `m`; large arrays go ahead in pieces, `pause` awaited between them (a child process only). */
  send(m: In, transfer?: ArrayBuffer[], pause?: () => Promise<void>): Promise<void>;
  onMessage(f: (m: Out) => void): void;
  onError(f: (e: Error) => void): void;
  onExit(f: (code: number | null) => void): void;
  /** Ends it at once (a thread: terminate; a process: SIGKILL). */
  terminate(): void;
  /** The child process's id (a process only). */
  readonly pid?: number | undefined;
}

export type Isolation = 'thread' | 'process';

/**
 * A bundled script (`train-worker.js`, `model-server.js`): next to this bundle (dist/),
 * or the built copy when running from sources.
 */
export function bundledScriptPath(name: string): string {
  const candidates = [path.join(__dirname, name), path.join(__dirname, '..', '..', 'dist', name)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`${name} is not built (looked for ${candidates.join(', ')}); run \`npm run build\``);
  return found;
}

/** How a child process is started: by the process launcher (process-launcher.ts), or forked by this process. */
export type Spawner = 'launcher' | 'fork';

/** Where handles cannot be sent over an IPC channel (Windows), this process forks its children itself. */
export const DEFAULT_SPAWNER: Spawner = process.platform === 'win32' ? 'fork' : 'launcher';

export interface OpenOptions {
  /** A child process is background work, lowered from the start (io/thread-priority.ts); a thread lowers itself. */
  nice?: number;
  /** Node.js options of a child process (none for the bundled scripts). */
  execArgv?: string[];
  spawner?: Spawner;
}

export function openWorker<In, Out>(script: string, isolation: Isolation, opts: OpenOptions = {}): WorkerChannel<In, Out> {
  if (isolation === 'thread') {
    // A thread shares this process's environment, which onnxruntime reads: its telemetry off first.
    disableOrtTelemetry();
    return threadChannel(new Worker(script));
  }
  const execArgv = opts.execArgv ?? [];
  return (opts.spawner ?? DEFAULT_SPAWNER) === 'launcher' ? launchedChannel(script, execArgv, opts.nice) : forkedChannel(script, execArgv, opts.nice);
}

/** Starts the process launcher now, while this process is small: the extension's activation. */
export function prestartProcessLauncher(): void {
  if (DEFAULT_SPAWNER === 'launcher') prestartLauncher(bundledScriptPath('launcher.js'));
}

function threadChannel<In, Out>(worker: Worker): WorkerChannel<In, Out> {
  return {
    async send(m, transfer = []) {
      worker.postMessage(m, transfer.filter((b, i) => transfer.indexOf(b) === i));
    },
    onMessage: (f) => void worker.on('message', f),
    onError: (f) => void worker.on('error', f),
    onExit: (f) => void worker.on('exit', f),
    terminate: () => void worker.terminate(),
  };
}

/**
 * Sends `m` with `write` while the channel is `open`: the pieces of its large arrays first, `pause` awaited
 * after each.
 */
async function sendInPieces(m: unknown, write: (m: object) => void, open: () => boolean, pause?: () => Promise<void>): Promise<void> {
  const { message, pieces } = splitMessage(m);
  for (const p of pieces) {
    if (!open()) return;
    write(p);
    await pause?.();
  }
  if (open()) write(message as object);
}

function forkedChannel<In, Out>(script: string, execArgv: string[], nice: number | undefined): WorkerChannel<In, Out> {
  const child = forkScript(script, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], nice });
  const assembler = new MessageAssembler();
  return {
    send: (m, _transfer, pause) => sendInPieces(m, (x) => child.send(x), () => child.connected, pause),
    onMessage: (f) => void child.on('message', assembler.listener(f)),
    onError: (f) => void child.on('error', f),
    onExit: (f) => void child.on('exit', (code) => f(code)),
    terminate: () => void child.kill('SIGKILL'),
    pid: child.pid,
  };
}

/** A child of the process launcher, with its channel straight to this process. */
function launchedChannel<In, Out>(script: string, execArgv: string[], nice: number | undefined): WorkerChannel<In, Out> {
  const started = launch(bundledScriptPath('launcher.js'), script, execArgv, nice);
  let pid: number | undefined;
  const assembler = new MessageAssembler();
  const errorListeners: ((e: Error) => void)[] = [];
  const failed = (e: unknown) => {
    for (const f of errorListeners) f(e as Error);
  };
  // What the child cannot be started for, told once to onError (and then as an exit).
  started.then((c) => (pid = c.pid), failed);
  return {
    async send(m, _transfer, pause) {
      const { socket } = await started;
      await sendInPieces(m, (x) => writeFrame(socket, x), () => socket.writable, pause);
    },
    onMessage: (f) => void started.then(({ socket }) => readFrames(socket, assembler.listener(f)), () => undefined),
    onError: (f) => void errorListeners.push(f),
    onExit: (f) => void started.then((c) => c.exited, () => null).then((code) => f(code)),
    terminate: () => void started.then((c) => c.kill(), () => undefined),
    get pid() {
      return pid;
    },
  };
}

/** The worker's end of its channel to the parent, in either home. */
export interface WorkerPort<Out, In> {
  /** In a child process (else a worker thread). */
  readonly inChildProcess: boolean;
  postMessage(m: Out, transfer?: ArrayBuffer[]): void;
  /** Resolves once what was posted is written: a child process writes to its pipe only between turns of its event loop, which training holds for long stretches. */
  flushed(): Promise<void>;
  onMessage(f: (m: In) => void): void;
  /** Closes the channel after the last message is written; the worker then ends by itself. */
  close(): void;
}

/** The end of the channel for code running as a worker: a worker thread's port, or a child process's IPC channel. */
export function workerPort<Out, In>(): WorkerPort<Out, In> {
  if (parentPort) {
    const p = parentPort;
    return {
      inChildProcess: false,
      postMessage: (m, transfer) => p.postMessage(m, transfer ?? []),
      flushed: async () => {},
      onMessage: (f) => void p.on('message', f),
      close: () => p.close(),
    };
  }
  const fd = process.env[CHANNEL_FD_ENV];
  if (fd !== undefined) return socketPort(Number(fd));
  const send = process.send?.bind(process);
  if (!send) throw new Error('a worker must run in a worker thread or a child process with an IPC channel');
  // The channel closes when the worker is done, or when the parent is gone (the editor quit or crashed):
  // either way nothing is left to do, and an orphan must not train on.
  process.on('disconnect', () => process.exit(0));
  return childPort(
    (m, done) => send(m, undefined, {}, () => done()),
    (f) => void process.on('message', f),
    () => process.disconnect(),
  );
}

/** A launched child's end: its channel to the parent on file descriptor `fd` (process-launcher.ts). */
function socketPort<Out, In>(fd: number): WorkerPort<Out, In> {
  delete process.env[CHANNEL_FD_ENV]; // not for the processes it may start
  // Its IPC channel to the launcher is not used: it must not keep the process alive.
  (process.channel as { unref?: () => void } | undefined)?.unref?.();
  const socket = new Socket({ fd, readable: true, writable: true });
  // As an IPC channel's disconnect: the worker is done, or the parent is gone.
  socket.on('end', () => process.exit(0));
  socket.on('error', () => process.exit(0));
  return childPort(
    (m, done) => writeFrame(socket, m, done),
    (f) => readFrames(socket, f),
    () => socket.end(),
  );
}

/** A child process's end over a channel that `write`s one message, `listen`s to them, and `end`s. */
function childPort<Out, In>(
  write: (m: object, done: () => void) => void,
  listen: (f: (m: unknown) => void) => void,
  end: () => void,
): WorkerPort<Out, In> {
  const assembler = new MessageAssembler();
  let lastSent: Promise<void> = Promise.resolve();
  const sendOne = (m: object) => {
    lastSent = new Promise((resolve) => write(m, resolve));
  };
  return {
    inChildProcess: true,
    postMessage(m) {
      const { message, pieces } = splitMessage(m);
      for (const piece of pieces) sendOne(piece);
      sendOne(message as object);
    },
    flushed: () => lastSent,
    onMessage: (f) => listen(assembler.listener(f)),
    close: () => void lastSent.then(end),
  };
}
