// Short-lived files a model's serving graphs pass through on their way from the thread that builds them
// (runtime/serving-worker.ts) to onnxruntime on the extension host's thread, which reads them itself: the
// graphs (tens of megabytes for a 10,000-word model) never enter the host's JavaScript heap. Each graph is
// written as two files, the model and its large initializers as ONNX external data (core/onnx/external-data.ts),
// which onnxruntime maps instead of copying: creating a session then touches a few hundred fresh pages of
// the host instead of thousands (8–15 ms instead of 73–95 ms on its thread). They hold the model's
// weights, so they live in the extension's own storage, readable by the user only, and are removed as soon
// as a session has loaded them (a mapped file stays readable to the session that mapped it; where the
// system refuses to remove a mapped file, it goes with the next load after the editor ends); files left by
// a process that died are removed by the next load.

import { mkdirSync, promises as fsp, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import { splitExternalData } from '../core/onnx/external-data.js';
import { isProcessAlive } from './model-store.js';

/** serving-<pid>-<thread>-<n>-<what>.onnx, and its external data serving-<pid>-<thread>-<n>-<what>.data */
const SCRATCH_NAME = /^serving-(\d+)-\d+-\d+-[a-z]+\.(?:onnx|data)$/;

let written = 0;

/**
 * Writes the ONNX model `model` to new scratch files in `dir` (made if need be), named for this process and
 * `what`: the model, and its large initializers as external data beside it. Returns the model's path.
 */
export function writeScratchModel(dir: string, what: string, model: Uint8Array): string {
  if (!/^[a-z]+$/.test(what)) throw new Error(`writeScratchModel: "${what}" is not a name`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `serving-${process.pid}-${threadId}-${++written}-${what}.onnx`);
  const split = splitExternalData(model, { location: path.basename(dataFileOf(file)) });
  try {
    if (split.moved > 0) writeFileSync(dataFileOf(file), split.data, { mode: 0o600 });
    writeFileSync(file, split.model, { mode: 0o600 });
  } catch (e) {
    for (const f of [file, dataFileOf(file)]) {
      try {
        unlinkSync(f);
      } catch {
        // never made
      }
    }
    throw e;
  }
  return file;
}

/** The external data file of scratch model `file`. */
function dataFileOf(file: string): string {
  return file.replace(/\.onnx$/, '.data');
}

/** Removes a scratch model and its external data if they are there; never throws. */
export async function removeScratch(file: string): Promise<void> {
  await Promise.all([file, dataFileOf(file)].map((f) => fsp.unlink(f).catch(() => undefined)));
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
