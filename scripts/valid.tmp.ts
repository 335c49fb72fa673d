import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { splitByFile } from '../src/core/file-split.js';
import { TEST_SPLIT_SEED } from '../src/cli/corpus.js';
import { readWorkspaceFiles } from '../src/io/workspace-files.js';
(async () => {
  const [dir, out, frac] = process.argv.slice(2) as [string, string, string];
  const scan = await readWorkspaceFiles(dir, {});
  const { train: rest } = splitByFile(scan.files, 0.1, TEST_SPLIT_SEED);
  const { valid } = splitByFile(rest, Number(frac));
  for (const f of valid) { const p = path.join(out, f.relPath); mkdirSync(path.dirname(p), { recursive: true }); writeFileSync(p, f.text); }
  console.log(valid.length, 'validation files', valid.map((f) => f.relPath).join(' '));
})();
