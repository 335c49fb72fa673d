// The extension host's memory with and without Nextword, in a real VS Code (code-server): the figure
// "memory with the default model loaded" of the extension issue. Each variant starts a fresh code-server
// on a copy of the fixture workspace (test/fixtures/e2e-workspace), opens notes/harbour.md in Chromium,
// types a sentence at its end and waits for the editor to settle; then the extension host's resident set
// (VmRSS of the process whose command line holds "extensionHost", in the server's process group) is read
// once a second and the median reported. With Nextword: the packaged VSIX installed (bundled default
// model), the status bar has scored the file and completions were shown while typing; the processes
// Nextword starts (its model server, which holds the model and onnxruntime) are sampled with the host and
// reported beside it.
//
//   node --import tsx scripts/bench/editor-memory.ts [--vsix file.vsix] [--rounds N] [--json]
//
// Without --vsix it packages linux-x64 first (scripts/package.mjs). Needs code-server and Chromium
// (scripts/e2e/install-code-server.sh).
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { copyWorkspace, FIXTURE_WORKSPACE, launchChromium, packageVsix, removeDir, startCodeServer, tempDir } from '../e2e/code-server.js';
import { waitFor, Workbench } from '../e2e/workbench.js';

const SAMPLES = 7;
const SETTLE_MS = 6000;
const SENTENCE = 'At dawn the tide was high and the ferry came in ';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Every process now: its id, process group and command line (spaces for NULs), and VmRSS in bytes. */
function processes(): { pid: number; pgid: number; cmdline: string; rss: number }[] {
  const found: { pid: number; pgid: number; cmdline: string; rss: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state ppid pgrp …
      const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (m) found.push({ pid: Number(entry), pgid, cmdline, rss: Number(m[1]) * 1024 });
    } catch {
      // The process ended while being read.
    }
  }
  return found;
}

/** Processes of the process group `pgid` whose command line contains `needle`: their VmRSS in bytes. */
function groupRss(pgid: number, needle: string): { pid: number; rss: number }[] {
  return processes().filter((p) => p.pgid === pgid && p.cmdline.includes(needle));
}

/** Nextword's own processes (bundled scripts run from the extension installed under `extensionsDir`): VmRSS by script. */
function nextwordRss(extensionsDir: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const p of processes()) {
    const script = p.cmdline.includes(extensionsDir) ? /dist\/([\w-]+)\.js/.exec(p.cmdline)?.[1] : undefined;
    if (script) found[script] = (found[script] ?? 0) + p.rss;
  }
  return found;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Measured {
  host: number;
  /** Nextword's processes, by script (empty without it). */
  children: Record<string, number>;
}

async function measure(vsix: string | undefined): Promise<Measured> {
  const dir = tempDir('memory');
  const workspace = copyWorkspace(FIXTURE_WORKSPACE, dir);
  const server = await startCodeServer({ workspace, dir, ...(vsix ? { vsix } : {}), settings: { 'nextword.completion.minConfidence': 0 } });
  const browser = await launchChromium(dir);
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const wb = new Workbench(page, workspace, path.join(dir, 'shots'));
    await page.goto(server.workbenchUrl());
    await wb.ready();
    await wb.openFile('notes/harbour.md');
    if (vsix) await waitFor('the status bar perplexity', async () => ((await wb.statusBarLabels('Nextword perplexity')).length ? true : undefined), 60_000);
    await wb.newParagraphAtEnd();
    await wb.type(SENTENCE);
    if (vsix) await wb.waitForGhostText('ghost text');
    await page.waitForTimeout(SETTLE_MS);
    const samples: number[] = [];
    const children: Record<string, number[]> = {};
    for (let i = 0; i < SAMPLES; i++) {
      const hosts = groupRss(server.pid, 'extensionHost');
      if (hosts.length !== 1) throw new Error(`expected one extension host in the server's process group, found ${hosts.length}`);
      samples.push(hosts[0]!.rss);
      for (const [script, rss] of Object.entries(nextwordRss(server.extensionsDir))) (children[script] ??= []).push(rss);
      await page.waitForTimeout(1000);
    }
    return { host: median(samples), children: Object.fromEntries(Object.entries(children).map(([k, v]) => [k, median(v)])) };
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
    removeDir(dir);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rounds = Number(option(args, '--rounds') ?? 1);
  let vsix = option(args, '--vsix');
  vsix ??= packageVsix('nextword-memory-linux-x64.vsix');
  const without: number[] = [];
  const withIt: Measured[] = [];
  for (let i = 0; i < rounds; i++) {
    without.push((await measure(undefined)).host);
    withIt.push(await measure(vsix));
  }
  const mb = (b: number) => Math.round(b / 1e6);
  const host = median(withIt.map((m) => m.host));
  const scripts = [...new Set(withIt.flatMap((m) => Object.keys(m.children)))].sort();
  const processes = Object.fromEntries(scripts.map((s) => [s, mb(median(withIt.map((m) => m.children[s] ?? 0)))]));
  const result = { without_mb: mb(median(without)), with_mb: mb(host), nextword_mb: mb(host - median(without)), processes_mb: processes, rounds };
  if (args.includes('--json')) console.log(JSON.stringify(result));
  else {
    console.log(
      `extension host RSS (median of ${rounds} round${rounds === 1 ? '' : 's'}): without Nextword ${result.without_mb} MB, ` +
        `with Nextword ${result.with_mb} MB (bundled default model, file scored, completions typed): Nextword's share ${result.nextword_mb} MB; ` +
        `its own processes: ${scripts.map((s) => `${s} ${processes[s]} MB`).join(', ') || 'none'}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
