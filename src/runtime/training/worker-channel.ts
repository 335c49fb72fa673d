// A worker's two homes, behind one channel (both ends here: openWorker for the parent, workerPort for the
// worker): a worker thread (the CLI's training: nothing else runs in its process) or a child process (the
// editor's training). In the extension host a worker thread shares the process's address space, and its
// large allocations (a training session, n-gram counting) hold the kernel's lock on that address space while
// the editor's thread allocates too, making its timers late; a child process's never do
// (docs/design-figures.md).
//
// A child process's large messages go in pieces (message-pieces.ts). The editor's child process is started
// by the model server (server-process.ts: the editor, large, must not fork itself) and talks over a socket
// pair; on Windows, forked by this process, over its IPC channel.

import { Socket } from 'node:net';
import { parentPort, Worker } from 'node:worker_threads';
import { disableOrtTelemetry } from '../onnx/ort-telemetry.js';
import { CHANNEL_FD_ENV, forkScript, readFrames, writeFrame } from '../process/child-processes.js';
import { MessageAssembler, sendInPieces, splitMessage } from '../process/message-pieces.js';
import { ServerProcess } from '../serving/server-process.js';

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

/** How a child process is started: by the model server (server-process.ts), or forked by this process. */
export type Spawner = 'server' | 'fork';

/** Where handles cannot be sent over an IPC channel (Windows), this process forks its children itself. */
export const DEFAULT_SPAWNER: Spawner = process.platform === 'win32' ? 'fork' : 'server';

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
  return (opts.spawner ?? DEFAULT_SPAWNER) === 'server' ? launchedChannel(script, execArgv, opts.nice) : forkedChannel(script, execArgv, opts.nice);
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

/** A child of the model server, with its channel straight to this process. */
function launchedChannel<In, Out>(script: string, execArgv: string[], nice: number | undefined): WorkerChannel<In, Out> {
  let started: ReturnType<ServerProcess['spawn']>;
  try {
    started = ServerProcess.for().spawn(script, execArgv, nice);
  } catch (e) {
    started = Promise.reject(e as Error);
  }
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

/** A launched child's end: its channel to the parent on file descriptor `fd` (server-process.ts). */
function socketPort<Out, In>(fd: number): WorkerPort<Out, In> {
  delete process.env[CHANNEL_FD_ENV]; // not for the processes it may start
  // Its IPC channel to the model server is not used: it must not keep the process alive.
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
