// Packages the VSIX and runs the browser end-to-end test (test/e2e/editor.e2e.ts) against it.
//
//   node --import tsx scripts/e2e/run-e2e.ts [--vsix file.vsix] [--skip-build]
//
// Without --vsix it runs scripts/package.mjs for linux-x64 (with --allow-missing-model while
// models/default/ does not exist; the test then says which comparisons moved to the trained model).
// Artefacts (screenshots of each step, logs, the TAP report, result.json): out/e2e/.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { packageVsix, ROOT } from './code-server.js';
import type { RunResult } from './run-in-host.js';

export const E2E_ARTEFACTS = path.join(ROOT, 'out', 'e2e');

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Counts of the node:test TAP report ("# pass N", "# fail N"). */
export function tapCounts(tap: string): { passed: number; failed: number } | undefined {
  const pass = /^# pass (\d+)$/m.exec(tap);
  const fail = /^# fail (\d+)$/m.exec(tap);
  return pass && fail ? { passed: Number(pass[1]), failed: Number(fail[1]) } : undefined;
}

export async function runE2e(args: string[]): Promise<RunResult> {
  const started = Date.now();
  let vsix = option(args, '--vsix');
  vsix ??= packageVsix('nextword-e2e-linux-x64.vsix', { skipBuild: args.includes('--skip-build'), allowMissingModel: true });
  // Built for the CLI's `nextword eval`, which the test compares the status bar with.
  if (!existsSync(path.join(ROOT, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run npm run build');

  mkdirSync(E2E_ARTEFACTS, { recursive: true });
  const tapFile = path.join(ROOT, 'out', 'e2e-report.tap');
  const code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--test', '--import', 'tsx',
        '--test-reporter=spec', '--test-reporter-destination=stdout',
        '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
        path.join('test', 'e2e', 'editor.e2e.ts'),
      ],
      { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NEXTWORD_E2E_VSIX: path.resolve(vsix) } },
    );
    child.once('exit', (c) => resolve(c ?? 1));
  });
  const counts = existsSync(tapFile) ? tapCounts(readFileSync(tapFile, 'utf8')) : undefined;
  const passed = counts?.passed ?? 0;
  // A run that died before reporting counts as one failure.
  const failed = counts ? Math.max(counts.failed, code !== 0 && counts.failed === 0 ? 1 : 0) : 1;
  return { passed, failed, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<number> {
  const r = await runE2e(process.argv.slice(2));
  writeFileSync(path.join(E2E_ARTEFACTS, 'result.json'), JSON.stringify(r));
  console.log(`e2e: ${r.passed} passed, ${r.failed} failed (${r.seconds.toFixed(1)} s); screenshots in ${path.relative(ROOT, E2E_ARTEFACTS)}/`);
  return r.failed === 0 && r.passed > 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`e2e: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
