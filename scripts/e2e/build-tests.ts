// Bundles the in-host integration suite (test/extension/) to CommonJS the extension host can load:
// out/test-extension/index.js and out/test-extension/suite/*.js. `vscode` comes from the host; mocha
// from the repository's node_modules (the entry and the suites must share one mocha); onnxruntime-node
// is native.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './code-server.js';

export const IN_HOST_OUT = path.join(ROOT, 'out', 'test-extension');

/** Builds the suite; returns the entry file (the extensionTestsPath). */
export async function buildInHostSuite(): Promise<string> {
  const src = path.join(ROOT, 'test', 'extension');
  const suites = readdirSync(path.join(src, 'suite'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(src, 'suite', f));
  if (suites.length === 0) throw new Error(`no *.test.ts files in ${path.join(src, 'suite')}`);
  rmSync(IN_HOST_OUT, { recursive: true, force: true });
  await build({
    entryPoints: [path.join(src, 'index.ts'), ...suites],
    outbase: src,
    outdir: IN_HOST_OUT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    external: ['vscode', 'mocha', 'onnxruntime-node'],
    logLevel: 'warning',
  });
  return path.join(IN_HOST_OUT, 'index.js');
}
