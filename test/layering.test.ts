// The architecture's walls, checked: only src/extension imports vscode, only src/runtime imports
// onnxruntime, and only the edges (io, cli, runtime) touch the file system; src/core imports nothing
// from the other layers.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';

const SRC = path.join(__dirname, '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    found.push((m[1] ?? m[2] ?? m[3])!);
  }
  return found;
}

const rules: { layer: string; forbidden: RegExp; why: string }[] = [
  { layer: 'core', forbidden: /^(vscode|onnxruntime-(node|common)|(node:)?(fs|fs\/promises|worker_threads|child_process|net|http|https))$/, why: 'the core is pure' },
  { layer: 'core', forbidden: /^\.\.\/(\.\.\/)?(runtime|io|cli|extension)\//, why: 'the core depends on no other layer' },
  { layer: 'io', forbidden: /^(vscode|onnxruntime-(node|common))$/, why: 'io is the file-system layer only' },
  { layer: 'runtime', forbidden: /^vscode$/, why: 'only the extension imports vscode' },
  { layer: 'cli', forbidden: /^(vscode|onnxruntime-(node|common))$/, why: 'the CLI goes through runtime for onnxruntime' },
  { layer: 'extension', forbidden: /^(onnxruntime-(node|common)|(node:)?(fs|fs\/promises))$/, why: 'the extension reads files through vscode.workspace.fs or io, and runs models through runtime' },
];

test('no import crosses the layers of the architecture', () => {
  const violations: string[] = [];
  let checked = 0;
  for (const file of sources(SRC)) {
    const layer = path.relative(SRC, file).split(path.sep)[0]!;
    for (const spec of imports(file)) {
      checked++;
      for (const r of rules) {
        if (r.layer === layer && r.forbidden.test(spec)) violations.push(`${path.relative(SRC, file)} imports ${spec} (${r.why})`);
      }
    }
  }
  assert.ok(checked > 50, `expected to check many imports, found ${checked}`);
  assert.deepEqual(violations, []);
});

test('no two source files import each other, directly or through others (type imports included)', () => {
  const files = sources(SRC);
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const local = imports(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')))
      .filter((target) => known.has(target));
    edges.set(file, local);
  }
  assert.ok([...edges.values()].reduce((n, e) => n + e.length, 0) > 100, 'expected many imports between source files');
  // Depth-first: a file met again while it is on the path closes a circle.
  const circles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const pathNow: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    pathNow.push(file);
    for (const next of edges.get(file)!) {
      if (state.get(next) === 'open') circles.push([...pathNow.slice(pathNow.indexOf(next)), next].map((f) => path.relative(SRC, f)).join(' → '));
      else if (!state.has(next)) visit(next);
    }
    pathNow.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  assert.deepEqual(circles, []);
});
