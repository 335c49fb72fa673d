// Listing a workspace folder in bounded replies (src/extension/chunked-listing.ts) against an in-memory
// folder tree whose `find` matches globs as VS Code does for the shapes used (one brace group, `**`, `*`, `?`).

import test from 'node:test';
import assert from 'node:assert/strict';

import { escapeGlob, includeGlob, listInChunks, type ListingSource } from '../../src/extension/chunked-listing.js';

/** A glob of the shapes listInChunks makes, as a RegExp over '/'-separated relative paths. */
function globRegExp(glob: string): RegExp {
  const alternatives = glob.startsWith('{') && glob.endsWith('}') ? glob.slice(1, -1).split(',') : [glob];
  const one = (g: string) =>
    g
      .split('/')
      .map((seg) => (seg === '**' ? '(?:.*)' : seg.replace(/[.+^$()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
      .join('/')
      .replace(/\/\(\?:\.\*\)$/, '/.+');
  return new RegExp(`^(?:${alternatives.map(one).join('|')})$`);
}

interface FakeFolder {
  source: ListingSource<string>;
  replies: number[];
}

function fakeFolder(paths: string[]): FakeFolder {
  const replies: number[] = [];
  const source: ListingSource<string> = {
    async find(include, max) {
      const re = globRegExp(include);
      const found = paths.filter((p) => re.test(p)).slice(0, max);
      replies.push(found.length);
      return found;
    },
    async readDirectory(rel) {
      const prefix = rel === '' ? '' : rel + '/';
      const names = new Map<string, boolean>();
      for (const p of paths) {
        if (!p.startsWith(prefix)) continue;
        const rest = p.slice(prefix.length).split('/');
        names.set(rest[0]!, (names.get(rest[0]!) ?? false) || rest.length > 1);
      }
      return [...names].map(([name, dir]) => ({ name, dir }));
    },
    key: (p) => p,
  };
  return { source, replies };
}

function tree(dirs: number, filesPerDir: number, rootFiles = 3): string[] {
  const paths: string[] = [];
  for (let r = 0; r < rootFiles; r++) paths.push(`readme-${r}.md`);
  for (let d = 0; d < dirs; d++) for (let f = 0; f < filesPerDir; f++) paths.push(`part-${String(d).padStart(4, '0')}/note-${f}.md`);
  return paths;
}

test('the test glob matcher agrees with VS Code on the shapes used', () => {
  assert.ok(globRegExp('*').test('a.md') && !globRegExp('*').test('a/b.md'));
  assert.ok(globRegExp('{*,src/**}').test('src/x/y.ts') && globRegExp('{*,src/**}').test('top.md'));
  assert.ok(!globRegExp('src/*').test('src/x/y.ts') && globRegExp('src/*').test('src/y.ts'));
  assert.ok(globRegExp('a?b/**').test('a{b/c') && !globRegExp('a?b/**').test('ab/c'));
});

test('a small folder is listed in one request, as one findFiles call would', async () => {
  const paths = tree(5, 10);
  const { source, replies } = fakeFolder(paths);
  const listing = await listInChunks(source, { chunk: 5000, maxResults: 100_000 });
  assert.deepEqual(listing.files.sort(), paths.sort());
  assert.equal(replies.length, 1);
  assert.equal(listing.truncated, false);
});

test('100,000 files come in replies of at most the chunk, every file once, in few requests', async () => {
  const paths = tree(1000, 100);
  const { source, replies } = fakeFolder(paths);
  const listing = await listInChunks(source, { chunk: 5000, maxResults: 1_000_000 });
  assert.equal(listing.files.length, paths.length);
  assert.equal(new Set(listing.files).size, paths.length);
  assert.ok(Math.max(...replies) <= 5000, `largest reply ${Math.max(...replies)}`);
  // Half-full replies at best: 40 for 100,000 files; the splitting on the way costs a few more.
  assert.ok(replies.length <= 60, `${replies.length} requests`);
  assert.equal(listing.truncated, false);
});

test('a folder too big for one reply is split into its subfolders and its own files', async () => {
  const paths = [...tree(0, 0, 2)];
  for (let d = 0; d < 30; d++) for (let f = 0; f < 300; f++) paths.push(`src/mod-${d}/f-${f}.ts`);
  for (let f = 0; f < 40; f++) paths.push(`src/loose-${f}.ts`);
  const { source, replies } = fakeFolder(paths);
  const listing = await listInChunks(source, { chunk: 2000, maxResults: 1_000_000 });
  assert.deepEqual(listing.files.sort(), paths.sort());
  assert.ok(Math.max(...replies) <= 2000);
});

test('one folder holding more files than a reply is still listed whole (in one larger reply)', async () => {
  const paths = ['top.md'];
  for (let f = 0; f < 700; f++) paths.push(`flat/f-${f}.txt`);
  const { source } = fakeFolder(paths);
  const listing = await listInChunks(source, { chunk: 500, maxResults: 1_000_000 });
  assert.deepEqual(listing.files.sort(), paths.sort());
});

test('the total cap stops the listing and says so', async () => {
  const { source } = fakeFolder(tree(100, 100));
  const listing = await listInChunks(source, { chunk: 1000, maxResults: 2500 });
  assert.equal(listing.files.length, 2500);
  assert.equal(listing.truncated, true);
  const exact = await listInChunks(fakeFolder(tree(10, 10, 0)).source, { chunk: 1000, maxResults: 100 });
  assert.equal(exact.files.length, 100);
});

test('in a folder listed by directory, folders that skipDir rejects are never listed, and are reported with their reason', async () => {
  const paths = ['a.md', 'node_modules/x/index.js', 'docs/guide.md', 'build/out.txt'];
  const { source } = fakeFolder(paths);
  const skipped: string[] = [];
  const listing = await listInChunks(source, {
    chunk: 2,
    maxResults: 1000,
    skipDir: (rel) => (rel === 'node_modules/' ? 'excluded-dir' : rel === 'build/' ? 'ignored' : undefined),
    onSkipDir: (rel, reason) => skipped.push(`${rel}:${reason}`),
  });
  assert.deepEqual(listing.files.sort(), ['a.md', 'docs/guide.md']);
  assert.deepEqual(skipped.sort(), ['build/:ignored', 'node_modules/:excluded-dir']);
});

test('folder names with glob characters are matched, and a loosely matched sibling is listed once', async () => {
  const paths = ['x{1}/a.md', 'x_1_/b.md', 'we,ird/c.md', 'star*/d.md'];
  const { source } = fakeFolder(paths);
  const listing = await listInChunks(source, { chunk: 1, maxResults: 1000 });
  assert.deepEqual(listing.files.sort(), [...paths].sort());
  assert.equal(escapeGlob('a{b},[c]*?\\'), 'a?b???c????');
  assert.equal(includeGlob([{ rel: '', deep: false }, { rel: 'src', deep: true }]), '{*,src/**}');
});

test('pause runs between requests and its error (cancellation) ends the listing', async () => {
  const { source } = fakeFolder(tree(100, 100));
  let pauses = 0;
  await assert.rejects(
    listInChunks(source, {
      chunk: 1000,
      maxResults: 1_000_000,
      pause: async () => {
        if (++pauses === 4) throw new Error('cancelled');
      },
    }),
    /cancelled/,
  );
  assert.equal(pauses, 4);
});

test('a folder whose entries cannot be read is listed whole, in one request', async () => {
  const paths = tree(20, 50);
  const { source, replies } = fakeFolder(paths);
  const failing: ListingSource<string> = { ...source, readDirectory: async () => Promise.reject(new Error('EACCES')) };
  const listing = await listInChunks(failing, { chunk: 100, maxResults: 1_000_000 });
  assert.deepEqual(listing.files.sort(), paths.sort());
  assert.deepEqual(replies, [100, 100, paths.length]);
});
