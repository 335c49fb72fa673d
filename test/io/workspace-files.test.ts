import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FileSkipReason } from '../../src/core/corpus/file-filters.js';
import { sampleOrder } from '../../src/core/corpus/file-split.js';
import { formatBytes, formatScanReport, readWorkspaceFiles, readWorkspaceFolders, type WorkspaceScan } from '../../src/io/workspace-files.js';

/** Builds a tree from { relPath: contents }; a string is written as UTF-8. */
function makeTree(files: Record<string, string | Uint8Array>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nextword-walk-'));
  for (const [rel, contents] of Object.entries(files)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, contents);
  }
  return root;
}

function withTree(t: { after: (fn: () => void) => void }, files: Record<string, string | Uint8Array>): string {
  const root = makeTree(files);
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  return root;
}

const skippedPaths = (scan: WorkspaceScan): Record<string, string[]> =>
  Object.fromEntries([...scan.skipped].map(([reason, tally]) => [reason, tally.examples]));

const prose = (words: number) =>
  Array.from({ length: words }, (_, i) => ['the', 'model', 'learns', 'from', 'your', 'own', 'writing', 'every', 'day'][i % 9]).join(' ');

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);

test('readWorkspaceFiles: takes exactly the text files and names every skip', async (t) => {
  const longParagraph = prose(140); // ~800 characters on one line
  assert.ok(longParagraph.length > 750);
  let minified = '';
  for (let i = 0; minified.length < 50_000; i++) minified += `function f${i}(a,b){return a+b*${i}}var x${i}=f${i}(1,2);`;

  const tree: Record<string, string | Uint8Array> = {
    '.gitignore': '*.log\n/generated/\nlogs/\n!important.log\n!/kept-by-gitignore.txt\n',
    '.git/HEAD': 'ref: refs/heads/main\n',
    '.git/info/exclude': 'excluded-by-info.txt\nkept-by-gitignore.txt\n',
    'excluded-by-info.txt': 'info exclude\n',
    'kept-by-gitignore.txt': 'the root .gitignore outranks .git/info/exclude\n',
    'README.md': `# Nextword\n\n${longParagraph}\n`,
    'app.log': 'log line\n',
    'important.log': '\ufeffkept by a negation\n',
    'generated/out.ts': 'export const x = 1;\n',
    'src/main.ts': 'console.log("main");\n',
    'src/.gitignore': '!debug.log\nsecret-notes.txt\n/local/\n',
    'src/debug.log': 'kept: the nested negation overrides the root *.log\n',
    'src/secret-notes.txt': 'ignored by the nested file\n',
    'src/local/scratch.ts': 'ignored: anchored to src\n',
    'src/lib/util.ts': 'export function util() {}\n',
    'src/lib/local/thing.ts': 'kept: /local/ in src/.gitignore is anchored to src\n',
    'src/logs/today.txt': 'ignored by the unanchored root logs/\n',
    'docs/.gitignore': '!logs/\n',
    'docs/logs/notes.md': 'kept: docs re-includes its logs folder\n',
    'node_modules/pkg/index.js': 'module.exports = 1;\n',
    'package-lock.json': '{}\n',
    'yarn.lock': '# yarn\n',
    '.env': 'API_KEY=abc\n',
    '.env.local': 'API_KEY=def\n',
    id_rsa: '-----BEGIN OPENSSH PRIVATE KEY-----\n',
    'server.pem': '-----BEGIN CERTIFICATE-----\n',
    'image.png': PNG,
    'disguised.txt': PNG,
    'nul.txt': 'abc\u0000def\n',
    'latin1.txt': Uint8Array.from([0x61, 0xc3, 0x28, 0x0a]),
    'bundle.js': minified,
    'empty.txt': '',
    'blank.txt': '   \n\t\n',
    'big.txt': 'x'.repeat(70 * 1024),
  };
  const root = withTree(t, tree);
  fs.symlinkSync('.', path.join(root, 'loop'), 'dir');
  fs.symlinkSync('README.md', path.join(root, 'link-to-readme.md'));

  const scan = await readWorkspaceFiles(root, { maxFileBytes: 64 * 1024, ignoreCase: false });

  // Code-unit order: "." < uppercase < lowercase; folders are walked where their name falls.
  const expectedTaken = [
    '.gitignore',
    'README.md',
    'docs/.gitignore',
    'docs/logs/notes.md',
    'important.log',
    'kept-by-gitignore.txt',
    'src/.gitignore',
    'src/debug.log',
    'src/lib/local/thing.ts',
    'src/lib/util.ts',
    'src/main.ts',
  ];
  assert.deepEqual(scan.files.map((f) => f.relPath), expectedTaken);
  for (const f of scan.files) {
    const raw = tree[f.relPath] as string;
    assert.equal(f.bytes, Buffer.byteLength(raw), f.relPath);
    assert.equal(f.text, raw.replace(/^\ufeff/, ''), f.relPath);
  }
  assert.equal(scan.totalBytes, expectedTaken.reduce((sum, p) => sum + Buffer.byteLength(tree[p] as string), 0));

  assert.deepEqual(skippedPaths(scan), {
    ignored: ['app.log', 'excluded-by-info.txt', 'generated/', 'src/local/', 'src/logs/'],
    'excluded-dir': ['.git/', 'node_modules/'],
    'lock-file': ['package-lock.json', 'yarn.lock'],
    secret: ['.env', '.env.local', 'id_rsa', 'server.pem'],
    'binary-extension': ['image.png'],
    minified: ['bundle.js'],
    binary: ['disguised.txt', 'nul.txt'],
    'not-utf8': ['latin1.txt'],
    'too-large': ['big.txt'],
    empty: ['blank.txt', 'empty.txt'],
    symlink: ['link-to-readme.md', 'loop'],
  });
  // Examples stop at five; the count goes on (src/secret-notes.txt is the sixth ignored entry).
  assert.equal(scan.skipped.get('ignored')!.count, 6);
  assert.equal(scan.skipped.get('too-large')!.bytes, 70 * 1024);
  assert.equal(scan.skipped.get('minified')!.bytes, Buffer.byteLength(minified));
  assert.equal(scan.skipped.get('excluded-dir')!.bytes, 0, 'skipped folders are not measured');

  // The same tree gives the same scan.
  const again = await readWorkspaceFiles(root, { maxFileBytes: 64 * 1024, ignoreCase: false });
  assert.deepEqual(again, scan);
});

/** The candidates in the order the caps take them (core/corpus/file-split.ts's sampleOrder). */
const inSampleOrder = (paths: string[]) => sampleOrder(paths).map((i) => paths[i]!);

test('readWorkspaceFiles: the file-count cap takes the first files of the sample, listed in walk order', async (t) => {
  const tree = { 'a.txt': 'aaaa\n', 'b.txt': 'bb\n', 'c/d.txt': 'dddddd\n', 'e.txt': 'e\n', 'f.bin': 'x' };
  const root = withTree(t, tree);
  const scan = await readWorkspaceFiles(root, { maxFiles: 2 });
  const order = inSampleOrder(['a.txt', 'b.txt', 'c/d.txt', 'e.txt']);
  const walk = (p: string[]) => [...p].sort(); // these paths walk in code-unit order
  assert.deepEqual(scan.files.map((f) => f.relPath), walk(order.slice(0, 2)));
  // Path-based skips keep their own reason; the rest are counted under the cap with their size.
  assert.deepEqual(skippedPaths(scan), { 'file-cap': walk(order.slice(2)), 'binary-extension': ['f.bin'] });
  const size = (p: string) => Buffer.byteLength(tree[p as keyof typeof tree]);
  assert.equal(scan.skipped.get('file-cap')!.bytes, order.slice(2).reduce((n, p) => n + size(p), 0));
});

test('readWorkspaceFiles: the total-size cap stops at the first file of the sample that does not fit', async (t) => {
  const files: Record<string, string> = {};
  for (const name of ['a', 'b', 'c', 'd']) files[`${name}.txt`] = `${name} `.repeat(50); // 100 bytes each
  files['e.txt'] = 'tiny\n';
  const root = withTree(t, files);
  const scan = await readWorkspaceFiles(root, { maxTotalBytes: 250 });
  const order = inSampleOrder(Object.keys(files));
  let total = 0;
  let cut = order.length;
  for (let i = 0; i < order.length; i++) {
    const n = Buffer.byteLength(files[order[i]!]!);
    if (total + n > 250) {
      cut = i;
      break;
    }
    total += n;
  }
  assert.ok(cut < order.length, 'the cap is reached');
  assert.deepEqual(scan.files.map((f) => f.relPath), order.slice(0, cut).sort());
  assert.equal(scan.totalBytes, total);
  // Once the cap is reached nothing more is taken, even a file that would still fit.
  assert.deepEqual(skippedPaths(scan), { 'byte-cap': order.slice(cut).sort() });
});

test('readWorkspaceFiles: a capped walk samples across the tree, not its first folders', async (t) => {
  const files: Record<string, string> = {};
  for (let d = 0; d < 20; d++) for (let f = 0; f < 10; f++) files[`dir-${String(d).padStart(2, '0')}/note-${f}.md`] = `note ${d} ${f}\n`;
  const root = withTree(t, files);
  const scan = await readWorkspaceFiles(root, { maxFiles: 20 });
  assert.equal(scan.files.length, 20);
  const folders = new Set(scan.files.map((f) => f.relPath.split('/')[0]));
  assert.ok(folders.size >= 8, `20 files of 200 come from ${folders.size} of 20 folders (path order would give 2)`);
  const again = await readWorkspaceFiles(root, { maxFiles: 20 });
  assert.deepEqual(again.files.map((f) => f.relPath), scan.files.map((f) => f.relPath), 'the same sample every time');
});

test('readWorkspaceFiles: a huge file is judged by its size, never read', async (t) => {
  const root = withTree(t, { 'note.md': 'hello\n' });
  const huge = path.join(root, 'huge.txt');
  fs.writeFileSync(huge, '');
  fs.truncateSync(huge, 8 * 1024 ** 3); // sparse: 8 GiB that no buffer could hold
  const scan = await readWorkspaceFiles(root);
  assert.deepEqual(scan.files.map((f) => f.relPath), ['note.md']);
  assert.deepEqual(skippedPaths(scan), { 'too-large': ['huge.txt'] });
  assert.equal(scan.skipped.get('too-large')!.bytes, 8 * 1024 ** 3);
});

test('readWorkspaceFiles: files that vanish or change type during the walk are skipped, not thrown', async (t) => {
  const names = ['a.txt', 'b.txt', 'c.txt', 'd.txt'];
  const root = withTree(t, Object.fromEntries(names.map((n) => [n, `${n}\n`])));
  // After the first file of the sample is read, the next one vanishes and the one after becomes a folder.
  const [, vanishes, becomesFolder] = inSampleOrder(names);
  let changed = false;
  const scan = await readWorkspaceFiles(root, {
    onProgress: () => {
      if (changed) return;
      changed = true;
      fs.rmSync(path.join(root, vanishes!));
      fs.rmSync(path.join(root, becomesFolder!));
      fs.mkdirSync(path.join(root, becomesFolder!));
    },
  });
  assert.deepEqual(scan.files.map((f) => f.relPath), names.filter((n) => n !== vanishes && n !== becomesFolder));
  assert.deepEqual(skippedPaths(scan), { unreadable: [vanishes!, becomesFolder!].sort() });
});

test('readWorkspaceFiles: a FIFO is skipped without blocking', async (t) => {
  const root = withTree(t, { 'a.txt': 'text\n' });
  execFileSync('mkfifo', [path.join(root, 'pipe')]);
  const scan = await readWorkspaceFiles(root);
  assert.deepEqual(scan.files.map((f) => f.relPath), ['a.txt']);
  assert.deepEqual(skippedPaths(scan), { unreadable: ['pipe'] });
});

test('readWorkspaceFiles: extraIgnore adds exclusions and cannot re-include', async (t) => {
  const root = withTree(t, {
    '.gitignore': 'private.md\n',
    'drafts/one.md': 'draft\n',
    'keep.md': 'keep\n',
    'notes.tmp': 'scratch\n',
    'private.md': 'private\n',
  });
  const scan = await readWorkspaceFiles(root, { extraIgnore: ['drafts/', '*.tmp', '!private.md'] });
  assert.deepEqual(scan.files.map((f) => f.relPath), ['.gitignore', 'keep.md']);
  assert.deepEqual(skippedPaths(scan), { ignored: ['drafts/', 'notes.tmp', 'private.md'] });
});

test('readWorkspaceFiles: excluded and secret folders are skipped whole, anywhere in the tree', async (t) => {
  const root = withTree(t, {
    'pkg/a/node_modules/x/index.js': 'x\n',
    'pkg/a/src/index.ts': 'export {};\n',
    'pkg/a/dist/index.js': 'compiled\n',
    'home/.ssh/config': 'Host *\n',
    'py/__pycache__/m.cpython-312.pyc': 'x',
  });
  const scan = await readWorkspaceFiles(root);
  assert.deepEqual(scan.files.map((f) => f.relPath), ['pkg/a/src/index.ts']);
  assert.deepEqual(skippedPaths(scan), {
    secret: ['home/.ssh/'],
    'excluded-dir': ['pkg/a/dist/', 'pkg/a/node_modules/', 'py/__pycache__/'],
  });
});

test('readWorkspaceFiles: cancellation', async (t) => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 20; i++) files[`f${String(i).padStart(2, '0')}.txt`] = `file ${i}\n`;
  const root = withTree(t, files);

  const controller = new AbortController();
  const seen: string[] = [];
  await assert.rejects(
    readWorkspaceFiles(root, {
      signal: controller.signal,
      onProgress: ({ relPath, taken }) => {
        seen.push(relPath);
        if (taken === 3) controller.abort();
      },
    }),
    { name: 'AbortError' },
  );
  assert.deepEqual(seen, inSampleOrder(Object.keys(files)).slice(0, 3), 'stops before the next file');

  const aborted = AbortSignal.abort();
  await assert.rejects(readWorkspaceFiles(root, { signal: aborted }), { name: 'AbortError' });
});

test('readWorkspaceFiles: clear errors for a bad root or bad limits', async (t) => {
  const root = withTree(t, { 'file.txt': 'x\n' });
  await assert.rejects(readWorkspaceFiles(path.join(root, 'missing')), /cannot read workspace folder .*missing: ENOENT/);
  await assert.rejects(readWorkspaceFiles(path.join(root, 'file.txt')), /not a folder: .*file\.txt/);
  await assert.rejects(readWorkspaceFiles(root, { maxFiles: -1 }), /maxFiles must be a non-negative integer/);
  await assert.rejects(readWorkspaceFiles(root, { maxTotalBytes: 1.5 }), /maxTotalBytes/);
});

test('formatScanReport and formatBytes', () => {
  const limits = { maxFileBytes: 1024 * 1024, maxFiles: 20000, maxTotalBytes: 50 * 1024 * 1024 };
  const tally = (count: number) => ({ count, bytes: 0, examples: [] });
  const scan: WorkspaceScan = {
    root: '/w',
    files: [
      { relPath: 'a.md', text: '', bytes: 1024 },
      { relPath: 'b.md', text: '', bytes: 512 },
    ],
    skipped: new Map<FileSkipReason, ReturnType<typeof tally>>([
      ['file-cap', tally(4)],
      ['binary', tally(1)],
      ['ignored', tally(3)],
      ['too-large', tally(2)],
    ]),
    totalBytes: 1536,
    limits,
  };
  assert.equal(
    formatScanReport(scan),
    'took 2 files (1.5 KB); skipped: 3 ignored, 1 binary, 2 too-large (over 1.0 MB), 4 file-cap (limit 20000 files)',
  );
  assert.equal(
    formatScanReport({ root: '/w', files: [{ relPath: 'a', text: 'x', bytes: 1 }], skipped: new Map([['byte-cap', tally(1)]]), totalBytes: 1, limits }),
    'took 1 file (1 B); skipped: 1 byte-cap (limit 50.0 MB)',
  );
  assert.equal(formatScanReport({ root: '/w', files: [], skipped: new Map(), totalBytes: 0, limits }), 'took 0 files (0 B); nothing skipped');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.0 KB');
  assert.equal(formatBytes(4.5 * 1024 * 1024), '4.5 MB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GB');
});

test('readWorkspaceFolders: VS Code exclude globs leave out files and whole folders, as ignored, per folder', async (t) => {
  const root = withTree(t, {
    'notes/a.md': prose(20),
    'notes/old/b.md': prose(20),
    'archive/c.md': prose(20),
    'archive/deep/d.md': prose(20),
    'logs/e.log.md': prose(20),
    'f.md': prose(20),
  });
  const scan = await readWorkspaceFolders([{ root, prefix: '', exclude: ['**/archive', 'notes/old/**', '**/*.log.md'] }], { ignoreCase: false });
  assert.deepEqual(scan.files.map((f) => f.relPath), ['f.md', 'notes/a.md']);
  // An excluded folder is counted once and never entered (its files are not even listed).
  assert.deepEqual(skippedPaths(scan), { ignored: ['archive/', 'logs/e.log.md', 'notes/old/'] });
});

test('readWorkspaceFolders: several folders as one workspace: prefixed paths, each folder its own rules, one sample under the caps', async (t) => {
  const files: Record<string, string> = { '.gitignore': 'private/\n', 'private/p.md': 'secret words\n', 'gen/x.md': prose(5) };
  for (let i = 0; i < 30; i++) files[`n-${String(i).padStart(2, '0')}.md`] = `note ${i}\n`;
  const first = withTree(t, files);
  const second = withTree(t, { 'private/q.md': 'not ignored here\n', 'gen/y.md': prose(5), ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`m-${String(i).padStart(2, '0')}.md`, `memo ${i}\n`])) });
  const folders = [
    { root: first, prefix: 'one/', exclude: ['gen'] },
    { root: second, prefix: 'two/' },
  ];
  const all = await readWorkspaceFolders(folders);
  const paths = all.files.map((f) => f.relPath);
  assert.ok(paths.includes('two/private/q.md'), 'the first folder\'s .gitignore has no say in the second');
  assert.ok(paths.includes('two/gen/y.md'), 'nor its exclude globs');
  assert.ok(!paths.some((p) => p.startsWith('one/private/') || p.startsWith('one/gen/')));
  assert.deepEqual(skippedPaths(all), { ignored: ['one/gen/', 'one/private/'] });
  // Listed by folder, then in walk order.
  assert.deepEqual(paths, [...paths.filter((p) => p.startsWith('one/')).sort(), ...paths.filter((p) => p.startsWith('two/')).sort()]);
  assert.equal(all.root, `${first}, ${second}`);

  // Under a cap, one sample over both folders' (prefixed) paths.
  const capped = await readWorkspaceFolders(folders, { maxFiles: 10 });
  const expected = inSampleOrder(paths).slice(0, 10);
  assert.deepEqual(new Set(capped.files.map((f) => f.relPath)), new Set(expected));
  const fromEach = new Set(capped.files.map((f) => f.relPath.split('/')[0]));
  assert.equal(fromEach.size, 2, 'both folders are represented');
});
