// No network access anywhere in the product. Two checks:
//   - at run time: train (with its worker thread), eval with the baselines, predict, generate and the
//     benchmarks run under test/support/deny-network.cjs, preloaded into every thread, which fails and
//     records any use of Node's network modules or globals and, on Linux, any internet socket the process
//     holds (a native library opening one); the log must stay empty. A control run proves the hook bites.
//   - in the shipped code: every module the built bundles (the extension, the CLI, the training worker)
//     load at run time is on an allowlist that has no network module, and no bundle uses fetch, WebSocket or
//     XMLHttpRequest. (The completion and status-bar code paths of the extension are in those bundles.)

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import test from 'node:test';
import { BIN, FIXTURE, ROOT } from './helpers.js';

const HOOK = path.join(ROOT, 'test', 'support', 'deny-network.cjs');

const work = mkdtempSync(path.join(tmpdir(), 'nextword-offline-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
const LOG = path.join(work, 'network.log');

/** Runs `node args…` with the hook in every thread; returns the exit code, output and what the hook recorded. */
function offline(args: string[]) {
  const before = existsSync(LOG) ? readFileSync(LOG, 'utf8') : '';
  const r = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, NODE_OPTIONS: `--require ${HOOK}`, NEXTWORD_NETWORK_LOG: LOG },
  });
  const after = existsSync(LOG) ? readFileSync(LOG, 'utf8') : '';
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, attempts: after.slice(before.length) };
}

test('the hook records and refuses network use (control)', () => {
  const http = offline(['-e', "require('node:http').get('http://127.0.0.1:9/').on('error', () => {})"]);
  assert.match(http.attempts, /http\.get/);
  assert.notEqual(http.code, 0, 'the request threw');
  const dns = offline(['-e', "require('node:dns').lookup('example.com', () => {})"]);
  assert.match(dns.attempts, /dns\.lookup/);
  // A socket opened below the patched functions (the raw handle) is still seen at exit, on Linux.
  if (process.platform === 'linux') {
    const raw = offline(['-e', "const { UDP } = process.binding('udp_wrap'); const u = new UDP(); u.bind('127.0.0.1', 0, 0);"]);
    assert.match(raw.attempts, /open udp socket/, raw.stderr);
  }
});

test('train, eval (with the baselines), predict, generate and bench open no network connection', () => {
  const model = path.join(work, 'model');
  const tiny = ['--preset', 'tiny', '--epochs', '2', '--hidden', '16', '--vocab', '200', '--min-count', '1', '--batch', '2', '--bptt', '8', '--threads', '1'];
  const runs: [string, string[]][] = [
    ['train', ['train', FIXTURE, '--out', model, ...tiny]],
    ['eval --compare', ['eval', '--model', model, FIXTURE, '--compare', '--train', FIXTURE, '--ksr-chars', '300']],
    ['eval --companion', ['eval', '--model', model, FIXTURE, '--companion', '--ksr-chars', '300']],
    ['predict', ['predict', '--model', model, 'The quick']],
    ['generate', ['generate', '--model', model, 'The', '--words', '10', '--seed', '1']],
    ['bench score', ['bench', 'score', '--model', model, FIXTURE, '--repeats', '1']],
    ['bench predict', ['bench', 'predict', '--model', model, '--requests', '50']],
  ];
  for (const [name, args] of runs) {
    const r = offline([BIN, ...args]);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.equal(r.attempts, '', `${name} used the network:\n${r.attempts}`);
  }
});

test('the shipped bundles load no network module and use no network global', () => {
  // Node built-ins a bundle may load; none of them opens a connection.
  const allowed = new Set([
    'assert', 'buffer', 'crypto', 'events', 'fs', 'fs/promises', 'os', 'path', 'perf_hooks', 'process', 'stream',
    'string_decoder', 'url', 'util', 'worker_threads', 'zlib', 'readline', 'tty', 'module', 'v8',
    'onnxruntime-node', 'vscode',
    // For one thing only, checked below: fork the bundled model server and training worker (the editor
    // serves its models in the one, which starts the other).
    'child_process',
    // For one thing only, checked below: a launched child's channel to the editor, a socket pair it is
    // given as a file descriptor (runtime/process/child-processes.ts): a Socket made from that descriptor.
    'net',
  ]);
  const network = /^(tls|http|https|http2|dgram|dns|dns\/promises|cluster|inspector)$/;
  for (const bundle of ['extension.js', 'cli.js', 'training-worker.js', 'model-server.js']) {
    const file = path.join(ROOT, 'dist', bundle);
    assert.ok(existsSync(file), `${bundle} is built (npm run build)`);
    const code = readFileSync(file, 'utf8');
    const loaded = new Set([...code.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]!.replace(/^node:/, '')));
    assert.ok(loaded.size > 0, `${bundle}: found its requires`);
    for (const mod of loaded) {
      assert.ok(!network.test(mod), `${bundle} loads the network module "${mod}"`);
      assert.ok(allowed.has(mod) || mod.startsWith('.'), `${bundle} loads "${mod}", which is not on the allowlist`);
    }
    // onnxruntime's telemetry is turned off in the bundle's code just before the package is loaded
    // (ort-telemetry.ts; a bundle could otherwise hoist the require above it).
    for (const m of code.matchAll(/require\("onnxruntime-node"\)/g)) {
      const before = code.slice(Math.max(0, m.index - 200), m.index);
      assert.match(before, /(init_ort_telemetry_off|disableOrtTelemetry)\(\);(\s*\/\/[^\n]*)*\s*(var |let |const )?\w+ = (__toESM\()?$/, `${bundle} loads onnxruntime-node without turning its telemetry off first`);
    }
    for (const global of ['fetch(', 'new WebSocket', 'XMLHttpRequest', 'EventSource']) {
      assert.ok(!code.includes(global), `${bundle} uses ${global}`);
    }
    // net: nothing but a Socket on a file descriptor it was given (no connect, no server, no address).
    for (const m of code.matchAll(/\b(\w+) = require\("(?:node:)?net"\)/g)) {
      const used = new Set([...code.matchAll(new RegExp(`\\b${m[1]}\\.(\\w+)`, 'g'))].map((u) => u[1]));
      assert.deepEqual([...used], ['Socket'], `${bundle} uses net for ${[...used].join(', ')}`);
      const made = [...code.matchAll(new RegExp(`new ${m[1]}\\.Socket\\(([^)]*)\\)`, 'g'))].map((u) => u[1]!);
      assert.ok(made.length > 0 && made.every((args) => /^\{ fd[,:]/.test(args)), `${bundle} makes a Socket other than on a descriptor: ${made.join('; ')}`);
    }
    // child_process: nothing but fork (no shell, no other program), and only of the bundled scripts. (A module
    // esbuild initialises lazily is assigned without `var`: `import_node_child_process = require(…)`.)
    const imports = [...code.matchAll(/\b(\w+) = require\("(?:node:)?child_process"\)/g)];
    if (bundle === 'extension.js' || bundle === 'model-server.js') assert.ok(imports.length > 0, `${bundle} forks (the check below has something to check)`);
    for (const m of imports) {
      const used = new Set([...code.matchAll(new RegExp(`\\b${m[1]}\\.(\\w+)`, 'g'))].map((u) => u[1]));
      assert.deepEqual([...used], ['fork'], `${bundle} uses child_process for ${[...used].join(', ')}`);
    }
    if (/child_process/.test(code)) {
      // What it runs: bundled scripts found by bundledScriptPath, and only these two (the editor forks the
      // model server, which forks the training worker for it: what the editor asks it to, these).
      const run = new Set([...code.matchAll(/bundledScriptPath\("([^"]+)"\)/g)].map((m) => m[1]));
      for (const f of run) assert.ok(['training-worker.js', 'model-server.js'].includes(f!), `${bundle} runs ${f}`);
      if (bundle === 'extension.js') assert.deepEqual([...run].sort(), ['model-server.js', 'training-worker.js']);
    }
  }
  // The one external package loaded at run time: its JavaScript (not its install script, which the
  // README's install skips) loads no network module either.
  for (const pkg of ['onnxruntime-node', 'onnxruntime-common']) {
    const dist = path.join(ROOT, 'node_modules', pkg, 'dist');
    const files = readdirSync(dist, { recursive: true }).map(String).filter((f) => f.endsWith('.js'));
    assert.ok(files.length > 0, `${pkg} has JavaScript in dist/`);
    for (const f of files) {
      const code = readFileSync(path.join(dist, f), 'utf8');
      for (const m of code.matchAll(/require\(["']([^"']+)["']\)/g)) {
        assert.ok(!network.test(m[1]!.replace(/^node:/, '')), `${pkg}/dist/${f} loads the network module "${m[1]}"`);
      }
    }
  }
});
