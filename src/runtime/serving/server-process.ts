// The editor's end of the model server (model-server.ts): the one child process the extension host starts
// itself, at activation while it is small. It serves the editor's models (remote-serving.ts opens each one
// there under a number, and their messages share its channel) and starts the editor's other child
// processes (the training process) on request, because starting a process forks the one that asks (libuv:
// fork, then exec), and forking copies the asker's page tables and marks every page of it copy-on-write: a
// large extension host would stall on each spawn and on the page faults after it (docs/design-figures.md).
//
// A child the server starts gets a socket pair as file descriptor 3; the server hands the other end to the
// editor (a handle sent over its IPC channel) and keeps nothing of it, so the child's messages take no
// detour, and the child outlives the server if the server dies (its exit is then told by its channel's end).
// Windows cannot send such a handle: there the editor forks its children itself (worker-channel.ts).

import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { SERVING_NICE } from '../../io/thread-priority.js';
import { bundledScriptPath, forkScript } from '../process/child-processes.js';
import { MessageAssembler, sendInPieces } from '../process/message-pieces.js';
import type { FromCensus, FromModel, FromServer, ServedModel, ServingCall, ToServer } from './serving-protocol.js';

/**
 * glibc's malloc, in the server, with fixed thresholds: a block of 128 KB or more is mapped for itself and
 * unmapped when freed, and free memory at the heap's top is given back from 128 KB. By default the mapping
 * threshold rises after each such block is freed, and blocks that would have been mapped come from the heap
 * instead, where freed memory stays: a server that swaps models would grow with each swap (figures in
 * docs/speed-and-memory.md). The server removes them from its environment at once: the training process it
 * starts allocates large tensors every step, and must keep the default.
 */
export const SERVER_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' };

/** The editor's end of a child the server started. */
export interface LaunchedChild {
  readonly pid: number;
  readonly socket: Socket;
  /** Resolves with the exit code (null when unknown) once the child has exited and its last message has been read. */
  readonly exited: Promise<number | null>;
  kill(): void;
}

/** Where a model's messages, and the news of the server's end, go. */
export interface ModelRoute {
  message(m: FromModel): void;
  gone(reason: Error): void;
}

/** One model's link to the server. */
export interface ModelLink {
  /** The model's number in the server (its census lists it while the model is open). */
  readonly model: number;
  /** The server's process id. */
  readonly pid: number | undefined;
  /** Sends a call about this model. */
  call(c: { id: number } & ServingCall): void;
  /** Asks the server to release the model; nothing more is routed to it. */
  close(): void;
}

interface PendingLaunch {
  resolve: (c: LaunchedChild) => void;
  reject: (e: Error) => void;
  /** Set once spawned: the server's word on its exit. */
  exit?: (code: number | null) => void;
  pid?: number;
}

export class ServerProcess {
  private readonly assembler = new MessageAssembler();
  private readonly models = new Map<number, ModelRoute>();
  private readonly launches = new Map<number, PendingLaunch>();
  private readonly censuses = new Map<number, { resolve: (c: FromCensus) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private ended: Error | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: FromServer, handle?: unknown) => {
      if (!this.assembler.accept(m)) this.receive(this.assembler.restore(m), handle as Socket | undefined);
    });
    child.on('exit', (code, signal) => this.gone(new Error(`the model server exited (${signal ? `signal ${signal}` : `code ${code}`})`)));
    child.on('error', (e) => this.gone(new Error(`the model server could not start: ${e.message}`)));
    // It keeps the editor alive only while something of it is awaited (a model open, a child starting or
    // running); when the editor is gone, its channel closes and it ends.
    this.updateRef();
  }

  private static readonly running = new Map<string, ServerProcess>();

  /** The server running `script` (the bundled model server by default), started if it is not running. */
  static for(script = bundledScriptPath('model-server.js')): ServerProcess {
    let s = ServerProcess.running.get(script);
    if (!s?.alive) {
      s = new ServerProcess(forkScript(script, { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...SERVER_MALLOC_ENV }, nice: SERVING_NICE }));
      ServerProcess.running.set(script, s);
    }
    return s;
  }

  /** The bundled server's process id, if it runs (for tests and diagnostics). */
  static runningPid(script = bundledScriptPath('model-server.js')): number | undefined {
    const s = ServerProcess.running.get(script);
    return s?.alive ? s.pid : undefined;
  }

  get alive(): boolean {
    return !this.ended && this.child.connected;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Opens `serve` in the server under a new number; its messages go to `route` until it is closed. */
  openModel(serve: ServedModel, route: ModelRoute): ModelLink {
    const model = this.nextId++;
    if (this.ended) {
      const reason = this.ended;
      queueMicrotask(() => route.gone(reason));
    } else this.models.set(model, route);
    this.updateRef();
    this.send({ type: 'open', model, serve });
    return {
      model,
      pid: this.pid,
      call: (c) => this.send({ type: 'call', model, ...c } as ToServer),
      close: () => {
        if (!this.models.delete(model)) return;
        this.updateRef();
        this.send({ type: 'close', model });
      },
    };
  }

  /** Starts `script` as a child of the server, its channel (fd 3) to this process. */
  spawn(script: string, execArgv: string[], nice: number | undefined): Promise<LaunchedChild> {
    if (this.ended) return Promise.reject(new Error(`the model server is gone: ${this.ended.message}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.launches.set(id, { resolve, reject });
      this.updateRef();
      this.send({ type: 'spawn', id, script, execArgv, ...(nice !== undefined ? { nice } : {}) });
    });
  }

  /** The models the server holds and the children it runs, with its resident memory. */
  census(): Promise<FromCensus> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.censuses.set(id, { resolve, reject });
      this.updateRef();
      this.send({ type: 'census', id });
    });
  }

  /** Ends the server at once (a model that never finished loading): its models hear that it is gone. */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  private send(m: ToServer): void {
    if (!this.alive) return;
    void sendInPieces(
      m,
      (x) => this.child.send(x, (e: Error | null) => e && this.gone(new Error(`the model server's channel failed: ${e.message}`))),
      () => this.alive,
    );
  }

  /** Both the channel and the process: a server that ends is heard of by its exit, after its channel closed. */
  private updateRef(): void {
    const channel = this.child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
    if (this.models.size + this.launches.size + this.censuses.size > 0 && !this.ended) {
      channel?.ref?.();
      this.child.ref();
    } else {
      channel?.unref?.();
      this.child.unref();
    }
  }

  private receive(m: FromServer, handle: Socket | undefined): void {
    switch (m.type) {
      case 'census': {
        const c = this.censuses.get(m.id);
        this.censuses.delete(m.id);
        c?.resolve(m);
        break;
      }
      case 'spawned':
      case 'spawnFailed':
      case 'exit':
        this.settleLaunch(m, handle);
        break;
      default:
        this.models.get(m.model)?.message(m);
    }
    this.updateRef();
  }

  private settleLaunch(m: Extract<FromServer, { type: 'spawned' | 'spawnFailed' | 'exit' }>, handle: Socket | undefined): void {
    const p = this.launches.get(m.id);
    if (!p) return;
    if (m.type === 'spawnFailed') {
      this.launches.delete(m.id);
      p.reject(new Error(m.message));
    } else if (m.type === 'spawned') {
      if (!handle) {
        this.launches.delete(m.id);
        p.reject(new Error('the model server sent no channel'));
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
          if (this.alive) this.send({ type: 'kill', id: m.id });
          else killPid(pid);
          socket.destroy();
        },
      });
    } else {
      this.launches.delete(m.id);
      p.exit?.(m.code);
    }
  }

  /**
   * The server ended (never in normal use while the editor runs): its models hear it, children not yet
   * started fail, and the children it started run on, their exits told by their channels' end alone.
   */
  private gone(reason: Error): void {
    if (this.ended) return;
    this.ended = reason;
    for (const route of this.models.values()) route.gone(reason);
    this.models.clear();
    for (const p of this.launches.values()) {
      if (p.exit) p.exit(null);
      else p.reject(new Error(`the model server is gone: ${reason.message}`));
    }
    this.launches.clear();
    for (const c of this.censuses.values()) c.reject(reason);
    this.censuses.clear();
    this.updateRef();
  }
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
