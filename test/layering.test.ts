// The architecture's walls, checked: only src/extension imports vscode, only src/runtime imports
// onnxruntime, and only the edges (io, cli, runtime) touch the file system; src/core imports nothing
// from the other layers. No circle of imports, between files or between the folders of a layer (so that
// the folders of src/core and src/runtime stack in one order: docs/ARCHITECTURE.md).

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
  { layer: 'core', forbidden: /^(\.\.\/)+(runtime|io|cli|extension)\//, why: 'the core depends on no other layer' },
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

/** Each source file's imports of other source files. */
function localEdges(): Map<string, string[]> {
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
  return edges;
}

/** The circles of a directed graph, each as the path that closes it (depth-first: a node met again while it is on the path). */
function circles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const pathNow: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    pathNow.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...pathNow.slice(pathNow.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    pathNow.pop();
    state.set(node, 'done');
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return found;
}

test('no two source files import each other, directly or through others (type imports included)', () => {
  const edges = localEdges();
  assert.ok([...edges.values()].reduce((n, e) => n + e.length, 0) > 100, 'expected many imports between source files');
  assert.deepEqual(circles(edges).map((c) => c.map((f) => path.relative(SRC, f)).join(' → ')), []);
});

test('the folders of src/core and of src/runtime import each other one way only', () => {
  // A file's folder within its layer (src/core/text, src/runtime/serving); files of other layers drop out.
  const folderOf = (file: string) => {
    const parts = path.relative(SRC, file).split(path.sep);
    return (parts[0] === 'core' || parts[0] === 'runtime') && parts.length === 3 ? `${parts[0]}/${parts[1]}` : undefined;
  };
  const folders = new Map<string, string[]>();
  let between = 0;
  for (const [file, targets] of localEdges()) {
    const from = folderOf(file);
    if (!from) continue;
    const out = folders.get(from) ?? [];
    folders.set(from, out);
    for (const target of targets) {
      const to = folderOf(target);
      if (to && to !== from && !out.includes(to)) (out.push(to), between++);
    }
  }
  assert.ok(folders.size >= 10 && between >= 20, `expected the layers to have folders that use each other (${folders.size} folders, ${between} pairs)`);
  // Every file of these layers lives in a folder of its concern.
  const loose = sources(SRC).map((f) => path.relative(SRC, f).split(path.sep)).filter((p) => (p[0] === 'core' || p[0] === 'runtime') && p.length !== 3);
  assert.deepEqual(loose.map((p) => p.join('/')), []);
  assert.deepEqual(circles(folders).map((c) => c.join(' → ')), []);
});
