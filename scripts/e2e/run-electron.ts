// Runs the in-host integration suite (test/extension/) in a desktop VS Code that @vscode/test-electron
// downloads (into .vscode-test/): for machines with internet access. Here (and in CI) run-in-host.ts runs
// the same suite inside code-server instead.
//
//   node --import tsx scripts/e2e/run-electron.ts [--skip-build] [--grep <pattern>] [--vscode-version <1.139.1|stable>]
//
// Linux without a display needs xvfb-run. Exit status 0 when every test passed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { buildInHostSuite } from './build-tests.js';
import { copyWorkspace, FIXTURE_WORKSPACE, removeDir, ROOT, SECOND_FIXTURE_FOLDER, tempDir, TEST_SETTINGS, writeMultiRootWorkspace } from './code-server.js';

const RESULT_TAG = 'nextword-in-host-result';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  // The VS Code inside code-server 4.139.1: the version the extension is tested against.
  const version = option('--vscode-version') ?? '1.139.1';
  const grep = option('--grep');

  if (!args.includes('--skip-build')) {
    const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) return 1;
  }
  const entry = await buildInHostSuite();
  const dir = tempDir('electron');
  // The same multi-root workspace as run-in-host.ts.
  const workspace = writeMultiRootWorkspace(dir, 'nextword-tests', [copyWorkspace(FIXTURE_WORKSPACE, dir), copyWorkspace(SECOND_FIXTURE_FOLDER, dir)]);
  const userDataDir = path.join(dir, 'user-data');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(TEST_SETTINGS, null, 2));

  // test-electron copies VS Code's output to ours: watch it for the suite's result line.
  let result: { passes: number; failures: number } | undefined;
  const write = process.stdout.write.bind(process.stdout) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = chunk.toString();
    const at = text.indexOf(RESULT_TAG);
    if (at >= 0) result = JSON.parse(text.slice(at + RESULT_TAG.length).split('\n')[0]!);
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;

  let code = 1;
  try {
    code = await runTests({
      version,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: entry,
      extensionTestsEnv: grep ? { NEXTWORD_TEST_GREP: grep } : {},
      launchArgs: [
        workspace,
        '--user-data-dir', userDataDir,
        '--extensions-dir', path.join(dir, 'extensions'),
        '--disable-extensions',
        '--disable-workspace-trust',
      ],
    });
  } catch (err) {
    console.error(`run-electron: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    removeDir(dir);
  }
  const passed = result?.passes ?? 0;
  const failed = result && !(code !== 0 && result.failures === 0) ? result.failures : Math.max(1, result?.failures ?? 0);
  console.log(`in-host (VS Code ${version}): ${passed} passed, ${failed} failed`);
  return code === 0 && failed === 0 && passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
