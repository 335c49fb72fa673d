// Copies the validation files of a project folder, as `nextword train --split S` splits it, into OUT:
// the share S held out first (the test files), then the validation share V of the rest (the files the
// trainer measures every epoch on). What tuning may look at; the held-out test files stay untouched.
//
// Usage: node --import tsx scripts/bench/validation-files.ts <project> <out> [S=0.1] [V=0.1]

import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { splitProject } from '../../src/core/pipeline/run-plan.js';
import { readWorkspaceFiles } from '../../src/io/workspace-files.js';

async function main(): Promise<void> {
  const [dir, out, split = '0.1', valid = '0.1'] = process.argv.slice(2);
  if (!dir || !out) throw new Error('usage: validation-files.ts <project> <out> [split] [valid]');
  const scan = await readWorkspaceFiles(dir, {});
  const { valid: files } = splitProject(scan.files, { validFraction: Number(valid), testFraction: Number(split), where: dir, report: '' });
  for (const f of files) {
    const p = path.join(out, f.relPath);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, f.text);
  }
  console.log(`${files.length} validation files of ${scan.files.length}: ${files.map((f) => f.relPath).join(' ')}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
