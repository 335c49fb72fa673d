// A large result handed from the training process to the editor through a file in the model's own
// storage, rather than through the pipe between them: a 60 MB n-gram model sent as messages is received
// as 30 pieces on the editor's thread and copied once more; read from a file it arrives whole, read off the
// thread. The file holds what the saved model will hold (the n-gram counts of the workspace), lives next to
// it, and is removed once read (a crash in between leaves it to be overwritten by the next run).

import { mkdirSync, promises as fsp, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** Writes `bytes` to `file` (replacing it; its folder made if need be). Synchronous: for the training process, whose thread waits anyway. */
export function writeHandover(file: string, bytes: Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

/** Reads `file` (off the calling thread) and removes it. */
export async function takeHandover(file: string): Promise<Uint8Array> {
  const buf = await fsp.readFile(file);
  await fsp.unlink(file).catch(() => undefined);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
