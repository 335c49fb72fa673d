// A large result handed from the training process to the editor through a file in the model's own
// storage, rather than through the pipe between them: an n-gram model of tens of megabytes sent as messages
// would be received in pieces on the editor's thread and copied once more. From the file, the n-gram server loads it while
// the network trains (runtime/main/model-server.ts), and the save copies it into the model's folder a piece at a
// time (io/model-store.ts): the editor never reads it whole. The file holds what the saved model will hold
// (the n-gram counts of the workspace), lives next to it, and is removed when the run ends (a crash in
// between leaves it to be overwritten by the next run).

import { mkdirSync, promises as fsp, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Writes `bytes` to `file` (replacing it whole, by a rename: a reader has the old file or the new one; its
 * folder made if need be). Synchronous: for the training process, whose thread waits anyway.
 */
export function writeHandover(file: string, bytes: Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const part = `${file}.part`;
  writeFileSync(part, bytes);
  renameSync(part, file);
}

/** Removes `file` if it is there; never throws. */
export async function removeHandover(file: string): Promise<void> {
  await fsp.unlink(file).catch(() => undefined);
}
