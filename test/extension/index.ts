// Entry of the in-host integration suite: VS Code loads this file inside the extension host (code-server
// here via scripts/e2e/run-in-host.mjs, or a downloaded VS Code via scripts/e2e/run-electron.mjs) and
// awaits run(). It runs every bundled suite file next to it (out/test-extension/suite/*.js) with mocha.
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';

/** The line the runners parse for the closing "N passed, N failed" (mocha's own report is for people). */
export const RESULT_TAG = 'nextword-in-host-result';
/** Marks mocha's report among the workbench's own log lines when run-in-host.mjs asks for it. */
export const REPORT_TAG = 'nextword-in-host| ';

export function run(): Promise<void> {
  if (process.env.NEXTWORD_TAG_REPORT === '1') {
    Mocha.reporters.Base.consoleLog = (...args: unknown[]) => console.log(REPORT_TAG + format(...args));
  }
  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    reporter: 'spec',
    // Training and the first model load take seconds; each test that needs more sets its own timeout.
    timeout: 30_000,
    ...(process.env.NEXTWORD_TEST_GREP ? { grep: process.env.NEXTWORD_TEST_GREP } : {}),
  });
  const dir = path.join(__dirname, 'suite');
  // In the order of their numbers (10 after 9): each suite may rely on what the ones before it did.
  const order = (f: string) => Number.parseInt(f, 10);
  const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  if (files.length === 0) return Promise.reject(new Error(`no suite files in ${dir}`));
  for (const f of files) mocha.addFile(path.join(dir, f));
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const { passes = 0, pending = 0 } = runner.stats ?? {};
      console.log(`${RESULT_TAG} ${JSON.stringify({ passes, failures, pending })}`);
      if (failures > 0) reject(new Error(`${failures} of ${passes + failures} in-host tests failed`));
      else if (passes === 0) reject(new Error('no in-host test ran'));
      else resolve();
    });
  });
}
