// Bundles the CLI, the training worker, the model server and the extension with esbuild.
// Type-checking is separate (`npm run typecheck`); esbuild only strips types.
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

const entryPoints = {
  cli: 'src/cli/main.ts',
  'training-worker': 'src/runtime/main/training-worker.ts',
  'model-server': 'src/runtime/main/model-server.ts',
};
if (existsSync('src/extension/extension.ts')) entryPoints.extension = 'src/extension/extension.ts';

await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['vscode', 'onnxruntime-node'],
  define: { VERSION: JSON.stringify(version) },
  logLevel: 'warning',
});
