#!/usr/bin/env node
'use strict';
// The `nextword` command line. The code lives in the esbuild bundle dist/cli.js (`npm run build`); in a
// checkout where it is not built yet (npm ci runs no install scripts: .npmrc), it is built first.
const path = require('node:path');
const fs = require('node:fs');
const root = path.join(__dirname, '..');
const bundle = path.join(root, 'dist', 'cli.js');
if (!fs.existsSync(bundle)) {
  const build = path.join(root, 'scripts', 'build.mjs');
  if (fs.existsSync(build)) {
    process.stderr.write('nextword: building the CLI (first run)…\n');
    const r = require('node:child_process').spawnSync(process.execPath, [build], { cwd: root, stdio: ['ignore', 2, 2] });
    if (r.status !== 0 || !fs.existsSync(bundle)) {
      process.stderr.write(`nextword: building the CLI failed; run \`npm run build\` in ${root}\n`);
      process.exit(2);
    }
  } else {
    process.stderr.write(`nextword: the CLI is not built (${bundle} is missing)\n`);
    process.exit(2);
  }
}
require(bundle);
