// A huge workspace: 100,000 files and 1 GB of text (pieces of the bundled Gutenberg books, 10 KB each,
// in 1,000 folders), read as `nextword train` and Train on Workspace read a project: within the caps
// (20,000 files, 50 MB by default), with the peak memory of the process, and cancelled part-way.
//
// Usage: node --import tsx scripts/bench/large-workspace.ts [DIR=/tmp/nextword-large] [FILES=100000] [--train]
//   Creates DIR once (kept for later runs). Each measurement runs in a fresh child process, so that its
//   peak RSS is its own. --train also runs `nextword train DIR --preset small --time-budget 60` and reports
//   its peak RSS and what it read.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SCAN_LIMITS } from '../../src/core/corpus/file-filters.js';
import { mulberry32 } from '../../src/core/support/random.js';
import { formatScanReport, readWorkspaceFiles } from '../../src/io/workspace-files.js';

const ROOT = path.join(__dirname, '..', '..');
const FILE_BYTES = 10_000;
const PER_FOLDER = 100;

function create(dir: string, files: number): void {
  const marker = path.join(dir, '.complete');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === String(files)) return;
  const books = readdirSync(path.join(ROOT, 'corpora', 'gutenberg', 'train')).map((f) => readFileSync(path.join(ROOT, 'corpora', 'gutenberg', 'train', f), 'utf8'));
  const rand = mulberry32(1);
  const t0 = performance.now();
  for (let i = 0; i < files; i++) {
    const folder = path.join(dir, `part-${String(Math.floor(i / PER_FOLDER)).padStart(4, '0')}`);
    if (i % PER_FOLDER === 0) mkdirSync(folder, { recursive: true });
    const book = books[Math.floor(rand() * books.length)]!;
    const at = Math.floor(rand() * (book.length - FILE_BYTES));
    writeFileSync(path.join(folder, `note-${i}.md`), book.slice(at, at + FILE_BYTES));
  }
  writeFileSync(marker, String(files));
  console.log(`created ${files.toLocaleString('en-US')} files in ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** Runs this script in a child process in one mode; returns what it printed (JSON). */
function child(mode: string, dir: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', mode, dir], { encoding: 'utf8', cwd: ROOT, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

const peakRssMB = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function childMain(mode: string, dir: string): Promise<void> {
  const t0 = performance.now();
  if (mode === 'read') {
    const scan = await readWorkspaceFiles(dir, {});
    const out = { seconds: (performance.now() - t0) / 1000, files: scan.files.length, megabytes: scan.totalBytes / 1048576, peakRssMB: peakRssMB(), report: formatScanReport(scan) };
    console.log(JSON.stringify(out));
  } else if (mode === 'cancel') {
    const abort = new AbortController();
    const after = 300;
    setTimeout(() => abort.abort(), after);
    let stoppedMs = NaN;
    try {
      await readWorkspaceFiles(dir, { signal: abort.signal, maxFiles: 10_000_000, maxTotalBytes: 1e12 });
    } catch {
      stoppedMs = performance.now() - t0 - after;
    }
    console.log(JSON.stringify({ cancelledAfterMs: after, stoppedWithinMs: stoppedMs, peakRssMB: peakRssMB() }));
  } else throw new Error(`unknown mode ${mode}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return childMain(args[1]!, args[2]!);
  const dir = args.find((a) => !a.startsWith('--')) ?? '/tmp/nextword-large';
  const files = Number(args.filter((a) => !a.startsWith('--'))[1] ?? 100_000);
  create(dir, files);
  console.log(`workspace: ${files.toLocaleString('en-US')} files of ${FILE_BYTES.toLocaleString('en-US')} bytes (${((files * FILE_BYTES) / 1e9).toFixed(2)} GB); caps ${DEFAULT_SCAN_LIMITS.maxFiles} files, ${DEFAULT_SCAN_LIMITS.maxTotalBytes / 1048576} MB`);
  const read = child('read', dir);
  console.log(`read within the caps: ${read.files} files, ${(read.megabytes as number).toFixed(1)} MB in ${(read.seconds as number).toFixed(1)} s; peak RSS ${read.peakRssMB} MB`);
  console.log(`  ${read.report}`);
  const cancel = child('cancel', dir);
  console.log(`cancelled after ${cancel.cancelledAfterMs} ms (no caps): stopped ${(cancel.stoppedWithinMs as number).toFixed(0)} ms later; peak RSS ${cancel.peakRssMB} MB`);
  if (args.includes('--train')) {
    const t0 = performance.now();
    const r = spawnSync('/usr/bin/time', ['-f', 'peak RSS %M KB', process.execPath, path.join(ROOT, 'bin', 'nextword.js'), 'train', dir, '--preset', 'small', '--time-budget', '60', '--out', path.join(dir, '..', 'nextword-large-model')], { encoding: 'utf8', timeout: 1_200_000 });
    const peak = /peak RSS (\d+) KB/.exec(r.stderr);
    const took = /took [^\n]*/.exec(r.stderr);
    console.log(`nextword train (60 s budget): exit ${r.status} in ${((performance.now() - t0) / 1000).toFixed(0)} s; ${took?.[0] ?? ''}; peak RSS ${peak ? Math.round(Number(peak[1]) / 1024) : '?'} MB`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
