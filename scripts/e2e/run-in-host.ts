// Runs the in-host integration suite (test/extension/) inside code-server's extension host, with this
// repository loaded as the development extension: the suite @vscode/test-electron runs elsewhere. The
// workspace is multi-root: test/fixtures/e2e-workspace and test/fixtures/e2e-second-folder.
//
//   node --import tsx scripts/e2e/run-in-host.ts [--skip-build] [--grep <pattern>] [--timeout <seconds>] [--keep]
//                                                [--workspace <folder> | --untrusted] [--model <folder>]
//
// --model has the typing tests (test/extension/suite/5-typing.test.ts) load that saved model first
// (NEXTWORD_TYPING_MODEL): their figures for a trained model.
// --workspace opens that folder (as it is, not copied) instead of the fixtures, with NEXTWORD_LOAD_TEST=1 in
// the extension host's environment: the load test (test/extension/suite/6-large-workspace.test.ts, e.g. on
// the workspace scripts/bench/large-workspace.ts makes) runs then, with --grep "large workspace".
// --untrusted keeps VS Code's workspace trust on, so the fixtures open in Restricted Mode, and runs the
// suite for it (test/extension/suite/7-untrusted.test.ts; NEXTWORD_UNTRUSTED_TEST=1).
//
// How (scripts/e2e/README.md): code-server with --vscode-option enable-smoke-test-driver; the
// workbench URL's payload names the extension and the test entry as vscode-remote:// URIs; the page
// exposes codeAutomationLog (the workbench's and the extension host's console, mocha's report among it)
// and codeAutomationExit (the outcome of the entry's run()). Exit status 0 when every test passed.
// Artefacts: out/in-host/ (automation.log, browser-console.log, code-server.log, result.json, failure.png).
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import type { Browser } from 'playwright-core';
import { buildInHostSuite } from './build-tests.js';
import {
  copyWorkspace, FIXTURE_WORKSPACE, launchChromium, removeDir, ROOT, SECOND_FIXTURE_FOLDER, startCodeServer, tempDir, writeMultiRootWorkspace,
  type CodeServer,
} from './code-server.js';

// The same strings as test/extension/index.ts (which runs inside VS Code and cannot import this file).
const RESULT_TAG = 'nextword-in-host-result';
const REPORT_TAG = 'nextword-in-host| ';
const METRICS_TAG = 'nextword-in-host-metrics ';
const NO_HOST = 'No extension host found that can launch the test runner';
export const IN_HOST_ARTEFACTS = path.join(ROOT, 'out', 'in-host');

export interface InHostOptions {
  build: boolean;
  grep?: string;
  model?: string;
  timeoutS: number;
  keep: boolean;
  /** A folder to open instead of the fixture workspace (the load test). */
  workspace?: string;
  /** Open the fixture workspace untrusted (Restricted Mode) and run the suite for it. */
  untrusted: boolean;
}

export interface RunResult {
  passed: number;
  failed: number;
  seconds: number;
}

function parseArgs(argv: string[]): InHostOptions {
  const o: InHostOptions = { build: true, timeoutS: 240, keep: false, untrusted: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--skip-build') o.build = false;
    else if (a === '--grep' && argv[i + 1] !== undefined) o.grep = argv[++i];
    else if (a === '--model' && argv[i + 1] !== undefined) o.model = path.resolve(argv[++i]!);
    else if (a === '--timeout' && argv[i + 1] !== undefined) o.timeoutS = Number(argv[++i]);
    else if (a === '--keep') o.keep = true;
    else if (a === '--workspace' && argv[i + 1] !== undefined) o.workspace = path.resolve(argv[++i]!);
    else if (a === '--untrusted') o.untrusted = true;
    else throw new Error(`unexpected argument ${a}\nusage: run-in-host.ts [--skip-build] [--grep <pattern>] [--timeout <seconds>] [--keep] [--workspace <folder> | --untrusted] [--model <folder>]`);
  }
  if (o.untrusted && o.workspace) throw new Error('--untrusted opens the fixture workspace: not with --workspace');
  // Restricted Mode has its own suite (the others train); it is the default selection there.
  if (o.untrusted) o.grep ??= 'an untrusted workspace';
  if (!(o.timeoutS > 0)) throw new Error('--timeout needs a positive number of seconds');
  return o;
}

interface Outcome {
  code: number;
  reason: string;
}

export async function runInHost(o: InHostOptions): Promise<RunResult> {
  const started = Date.now();
  rmSync(IN_HOST_ARTEFACTS, { recursive: true, force: true });
  mkdirSync(IN_HOST_ARTEFACTS, { recursive: true });
  if (o.build) {
    const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('the build (scripts/build.mjs) failed');
  }
  if (!existsSync(path.join(ROOT, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: build the extension first (npm run build)');
  const entry = await buildInHostSuite();

  const dir = tempDir('in-host');
  // A multi-root workspace: the fixture workspace first (the suites' workspaceRoot()), a second folder with
  // a word, a .gitignore and a secret of its own, so Train on Workspace is checked to read every folder.
  // (The browser end-to-end test opens a single folder.)
  const workspace = o.workspace ?? writeMultiRootWorkspace(dir, 'nextword-tests', [copyWorkspace(FIXTURE_WORKSPACE, dir), copyWorkspace(SECOND_FIXTURE_FOLDER, dir)]);
  const browserLog = path.join(IN_HOST_ARTEFACTS, 'browser-console.log');
  const hostLog = path.join(IN_HOST_ARTEFACTS, 'automation.log');
  writeFileSync(browserLog, '');
  writeFileSync(hostLog, '');
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let result: { passes: number; failures: number } | undefined;
  const metrics: Record<string, unknown>[] = [];
  let outcome: Outcome = { code: 1, reason: 'did not finish' };
  try {
    server = await startCodeServer({
      workspace,
      dir,
      smokeTestDriver: true,
      logFile: path.join(IN_HOST_ARTEFACTS, 'code-server.log'),
      ...(o.workspace ? { env: { NEXTWORD_LOAD_TEST: '1' } } : {}),
      ...(o.untrusted ? { env: { NEXTWORD_UNTRUSTED_TEST: '1' }, workspaceTrust: true } : {}),
    });
    browser = await launchChromium(dir);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    let finish!: (o: Outcome) => void;
    const finished = new Promise<Outcome>((resolve) => (finish = resolve));
    const timer = setTimeout(() => finish({ code: 1, reason: `no result within ${o.timeoutS} s` }), o.timeoutS * 1000);
    await page.exposeFunction('codeAutomationExit', (code: number) => finish({ code, reason: `run() ${code === 0 ? 'resolved' : 'rejected'}` }));
    // Everything the workbench and the extension host log goes to a file; mocha's report (tagged by
    // test/extension/index.ts) to the terminal as well.
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
      const line = format(...(Array.isArray(args) ? args : [args]));
      appendFileSync(hostLog, `[${type}] ${line}\n`);
      const at = line.indexOf(RESULT_TAG);
      const metricsAt = line.indexOf(METRICS_TAG);
      if (at >= 0) result = JSON.parse(line.slice(at + RESULT_TAG.length));
      else if (metricsAt >= 0) {
        const m = JSON.parse(line.slice(metricsAt + METRICS_TAG.length)) as Record<string, unknown>;
        metrics.push(m);
        process.stdout.write(`  metrics: ${JSON.stringify(m)}\n`);
      } else if (line.startsWith(REPORT_TAG)) process.stdout.write(`${line.slice(REPORT_TAG.length)}\n`);
    });
    page.on('console', (msg) => {
      appendFileSync(browserLog, `[${msg.type()}] ${msg.text()}\n`);
      if (msg.text().includes(NO_HOST)) finish({ code: 1, reason: `the workbench says: ${msg.text()}` });
    });
    page.on('pageerror', (err) => appendFileSync(browserLog, `[pageerror] ${err.stack ?? String(err)}\n`));
    const environment = {
      NEXTWORD_TAG_REPORT: '1',
      ...(o.grep ? { NEXTWORD_TEST_GREP: o.grep } : {}),
      ...(o.model ? { NEXTWORD_TYPING_MODEL: o.model } : {}),
    };
    await page.goto(
      server.workbenchUrl([
        ['extensionDevelopmentPath', server.remoteUri(ROOT)],
        ['extensionTestsPath', server.remoteUri(entry)],
        ['extensionEnvironment', JSON.stringify(environment)],
      ]),
    );
    outcome = await finished;
    clearTimeout(timer);
    if (outcome.code !== 0) await page.screenshot({ path: path.join(IN_HOST_ARTEFACTS, 'failure.png') }).catch(() => undefined);
  } catch (err) {
    outcome = { code: 1, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (o.keep) console.log(`in-host: kept ${dir}`);
    else removeDir(dir);
  }
  if (metrics.length) writeFileSync(path.join(IN_HOST_ARTEFACTS, 'metrics.json'), JSON.stringify(metrics, null, 2));
  if (!result) {
    const tail = readFileSync(hostLog, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
    console.error(`${tail}\nin-host: ${outcome.reason}; logs in ${path.relative(ROOT, IN_HOST_ARTEFACTS)}/`);
  } else if (outcome.code !== 0 && result.failures === 0) {
    console.error(`in-host: ${outcome.reason}`);
  }
  // No result line: mocha never finished (load error, crash, timeout), which counts as one failure.
  const passed = result?.passes ?? 0;
  const failed = result && !(outcome.code !== 0 && result.failures === 0) ? result.failures : Math.max(1, result?.failures ?? 0);
  return { passed, failed, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<number> {
  let o: InHostOptions;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const r = await runInHost(o);
  writeFileSync(path.join(IN_HOST_ARTEFACTS, 'result.json'), JSON.stringify(r));
  console.log(`in-host: ${r.passed} passed, ${r.failed} failed (${r.seconds.toFixed(1)} s)`);
  return r.failed === 0 && r.passed > 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.stack : err);
      process.exit(1);
    },
  );
}
