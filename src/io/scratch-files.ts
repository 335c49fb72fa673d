// Short-lived files a model's serving graphs pass through on their way from the thread that builds them
// (runtime/serving-worker.ts) to onnxruntime on the extension host's thread, which reads them itself: the
// graphs (tens of megabytes for a 10,000-word model) never enter the host's JavaScript heap. They hold the
// model's weights, so they live in the extension's own storage, readable by the user only, and are removed
// as soon as a session has loaded them; one left by a process that died is removed by the next load.

import { mkdirSync, promises as fsp, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import { isProcessAlive } from './model-store.js';

/** serving-<pid>-<thread>-<n>-<what>.onnx */
const SCRATCH_NAME = /^serving-(\d+)-\d+-\d+-[a-z]+\.onnx$/;

let written = 0;

/** Writes `bytes` to a new scratch file in `dir` (made if need be), named for this process and `what`; returns its path. */
export function writeScratch(dir: string, what: string, bytes: Uint8Array): string {
  if (!/^[a-z]+$/.test(what)) throw new Error(`writeScratch: "${what}" is not a name`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `serving-${process.pid}-${threadId}-${++written}-${what}.onnx`);
  try {
    writeFileSync(file, bytes, { mode: 0o600 });
  } catch (e) {
    try {
      unlinkSync(file);
    } catch {
      // never made
    }
    throw e;
  }
  return file;
}

/** Removes a scratch file if it is there; never throws. */
export async function removeScratch(file: string): Promise<void> {
  await fsp.unlink(file).catch(() => undefined);
}

/** Removes the scratch files in `dir` whose process has ended (a crash between writing and loading); never throws. */
export function removeStaleScratch(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = SCRATCH_NAME.exec(name);
    if (!m || isProcessAlive(Number(m[1]))) continue;
    try {
      unlinkSync(path.join(dir, name));
    } catch {
      // gone meanwhile
    }
  }
}
