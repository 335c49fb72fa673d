// What the command-line tests share: where the built CLI and the fixture project are, and running the CLI
// in a child process as users and scripts do.

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'nextword.js');
export const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'tiny-project');

/** `nextword args…` (the built bin/nextword.js): exit code, stdout, stderr. */
export function nextword(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
