#!/usr/bin/env node
'use strict';
// The `nextword` command line. The code lives in the esbuild bundle (built by `npm run build`,
// which `npm ci`/`npm install` run through the `prepare` script).
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundle)) {
  console.error('nextword: the CLI is not built yet; run `npm run build` in ' + path.dirname(__dirname));
  process.exit(2);
}
require(bundle);
