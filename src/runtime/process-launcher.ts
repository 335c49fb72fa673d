// Child processes started by a launcher, not by the editor. Starting a process forks the one that asks
// (libuv: fork, then exec), and forking copies the asker's page tables and marks every page of it
// copy-on-write: measured in a Node.js process holding 600 MB, as the extension host does while it trains
// on a large workspace, a spawn held its thread 26–58 ms, and writing to its memory afterwards cost another
// 117 ms of page faults, spread over what ran next (each page's first write). So the editor forks one small
// process, the launcher (launcher.ts), early, when it is itself small; the launcher forks the training
// process and the n-gram servers on request, and waits for them when they end (reaping, on its thread too).
//
// Each child gets a channel of its own straight to the editor: the launcher starts it with a socket pair
// as file descriptor 3 and hands its end to the editor (a handle sent over its IPC channel), so that the
// calls of a prediction take no detour. Messages on it are framed as a 4-byte length and V8's
// serialisation (what Node.js's 'advanced' IPC serialisation is). The launcher reports each child's exit;
// a channel ends once its child has exited and everything it wrote has been read.
//
// Windows cannot send such a handle: there the editor forks its children itself (worker-channel.ts).

import { fork, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import { deserialize, serialize } from 'node:v8';
import { lowerChildPriority } from '../io/thread-priority.js';
import { ORT_TELEMETRY_OFF } from './ort-telemetry.js';

/** The editor to the launcher. */
export type ToLauncher =
  | { type: 'spawn'; id: number; script: string; execArgv: string[]; nice?: number }
  | { type: 'kill'; id: number };

/** The launcher to the editor ('spawned' carries the child's end of the socket pair as a handle). */
export type FromLauncher =
  | { type: 'spawned'; id: number; pid: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'exit'; id: number; code: number | null; signal: string | null };

/** The child's file descriptor of its channel to the editor, when it has one (set by the launcher). */
export const CHANNEL_FD_ENV = 'NEXTWORD_CHANNEL_FD';

/**
 * Forks `script` as plain Node.js (in VS Code the executable is Electron), with onnxruntime's telemetry off
 * (ort-telemetry.ts; the only change to the environment it inherits), on Linux in a session of its own
 * (so that its CPU is not charged to the forking process's scheduling group; it still ends with its
 * channel), lowered to `nice` from the start when given (io/thread-priority.ts).
 */
export function forkScript(script: string, opts: { execArgv: string[]; stdio: StdioOptions; env?: Record<string, string>; nice?: number | undefined }): ChildProcess {
  const child = fork(script, [], {
    serialization: 'advanced',
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ...ORT_TELEMETRY_OFF, ...opts.env },
    execArgv: opts.execArgv,
    stdio: opts.stdio,
    detached: process.platform === 'linux',
  });
  if (opts.nice !== undefined && child.pid !== undefined) lowerChildPriority(child.pid, opts.nice);
  return child;
}

/** Writes one message as a frame; `done` once it is handed to the kernel. */
export function writeFrame(socket: Socket, message: unknown, done?: () => void): void {
  const body = serialize(message);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32LE(body.length, 0);
  socket.cork();
  socket.write(head);
  socket.write(body, done && (() => done()));
  socket.uncork();
}

/** Calls `f` with each message read from `socket`, in order. */
export function readFrames(socket: Socket, f: (m: unknown) => void): void {
  let chunks: Buffer[] = [];
  let have = 0;
  let need = -1; // the body's length, once the header is read
  socket.on('data', (data: Buffer) => {
    chunks.push(data);
    have += data.length;
    for (;;) {
      if (need < 0) {
        if (have < 4) return;
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
        need = all.readUInt32LE(0);
        chunks = [all.subarray(4)];
        have -= 4;
      }
      if (have < need) return;
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
      const body = all.subarray(0, need);
      chunks = have > need ? [all.subarray(need)] : [];
      have -= need;
      need = -1;
      f(deserialize(body));
    }
  });
}

/** The editor's end of a launched child. */
export interface LaunchedChild {
  readonly pid: number;
  readonly socket: Socket;
  /** Resolves with the exit code once the child has exited and its last message has been read. */
  readonly exited: Promise<number | null>;
  kill(): void;
}

interface Pending {
  resolve: (c: LaunchedChild) => void;
  reject: (e: Error) => void;
  /** Set once spawned: the launcher's word on its exit. */
  exit?: (code: number | null) => void;
  pid?: number;
}

/** The editor's launcher: one per process, started on first use (or by prestart), again if it has died. */
class Launcher {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: FromLauncher, handle?: unknown) => this.receive(m, handle as Socket | undefined));
    child.on('exit', () => this.gone());
    child.on('error', () => this.gone());
    // It lives as long as the editor and keeps it alive only while a child of it is starting or running
    // (its word on the child's exit is awaited); when the editor is gone, its channel closes and it ends.
    child.unref();
    this.updateRef();
  }

  private updateRef(): void {
    const channel = this.child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
    if (this.pending.size > 0) channel?.ref?.();
    else channel?.unref?.();
  }

  static start(script: string): Launcher {
    return new Launcher(forkScript(script, { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  get alive(): boolean {
    return this.child.connected;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  spawn(script: string, execArgv: string[], nice: number | undefined): Promise<LaunchedChild> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.updateRef();
      this.child.send({ type: 'spawn', id, script, execArgv, ...(nice !== undefined ? { nice } : {}) } satisfies ToLauncher, (e) => {
        if (!e) return;
        this.pending.delete(id);
        this.updateRef();
        reject(new Error(`the process launcher is gone: ${e.message}`));
      });
    });
  }

  private receive(m: FromLauncher, handle: Socket | undefined): void {
    this.settle(m, handle);
    this.updateRef();
  }

  private settle(m: FromLauncher, handle: Socket | undefined): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'failed') {
      this.pending.delete(m.id);
      p.reject(new Error(m.message));
    } else if (m.type === 'spawned') {
      if (!handle) {
        this.pending.delete(m.id);
        p.reject(new Error('the process launcher sent no channel'));
        return;
      }
      const socket = handle;
      const pid = m.pid;
      p.pid = pid;
      const reported = new Promise<number | null>((resolve) => (p.exit = resolve));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('error', () => undefined); // a child that is killed resets its end; its exit says the rest
      p.resolve({
        pid,
        socket,
        exited: Promise.all([reported, closed]).then(([code]) => code),
        kill: () => {
          if (this.alive) this.child.send({ type: 'kill', id: m.id } satisfies ToLauncher, () => undefined);
          else killPid(pid);
          socket.destroy();
        },
      });
    } else {
      this.pending.delete(m.id);
      p.exit?.(m.code);
    }
  }

  /** The launcher died (never in normal use): its children are ended, and reported as exited. */
  private gone(): void {
    if (launcher === this) launcher = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.pid !== undefined) killPid(p.pid);
      if (p.exit) p.exit(null);
      else p.reject(new Error('the process launcher ended'));
    }
  }
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

let launcher: Launcher | undefined;

/** Starts `script` (a bundled script) as a child of the launcher, which is started first if need be. */
export function launch(launcherScript: string, script: string, execArgv: string[], nice: number | undefined): Promise<LaunchedChild> {
  return prestartLauncher(launcherScript).spawn(script, execArgv, nice);
}

/** Starts the launcher now, unless it runs: while this process is small (the extension's activation). */
export function prestartLauncher(launcherScript: string): Launcher {
  if (!launcher?.alive) launcher = Launcher.start(launcherScript);
  return launcher;
}

/** The launcher's process id, if it runs (for tests and diagnostics). */
export function launcherPid(): number | undefined {
  return launcher?.alive ? launcher.pid : undefined;
}
