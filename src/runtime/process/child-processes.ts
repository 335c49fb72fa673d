// Starting a bundled script as a child process, and the framed channel a launched child talks over.
//
// A child started by the model server for the editor (the training process: server-process.ts) gets a
// socket pair as file descriptor 3, whose other end goes to the editor, so that its messages take no
// detour. Messages on it are framed as a 4-byte length and V8's serialisation (what Node.js's 'advanced'
// IPC serialisation is).

import { fork, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import * as path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { lowerChildPriority } from '../../io/thread-priority.js';
import { ORT_TELEMETRY_OFF } from '../onnx/ort-telemetry.js';

/** The child's file descriptor of its channel to the editor, when it has one (set by the model server). */
export const CHANNEL_FD_ENV = 'NEXTWORD_CHANNEL_FD';

/**
 * Forks `script` as plain Node.js (in VS Code the executable is Electron), with onnxruntime's telemetry off
 * (ort-telemetry.ts) and `env` added to the environment it inherits, on Linux in a session of its own (so
 * that its CPU is not charged to the forking process's scheduling group; it still ends with its channel),
 * lowered to `nice` from the start when given (io/thread-priority.ts).
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

/**
 * A bundled script (`training-worker.js`, `model-server.js`): next to this bundle (dist/),
 * or the built copy when running from sources.
 */
export function bundledScriptPath(name: string): string {
  const candidates = [path.join(__dirname, name), path.join(__dirname, '..', '..', '..', 'dist', name)];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`${name} is not built (looked for ${candidates.join(', ')}); run \`npm run build\``);
  return found;
}
