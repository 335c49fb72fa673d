// VS Code's exclude globs as the training process matches them (core/corpus/exclude-globs.ts), case by case from
// the syntax VS Code documents for files.exclude and search.exclude.
import assert from 'node:assert/strict';
import test from 'node:test';
import { ExcludeGlobs, normalizeGlob } from '../../../src/core/corpus/exclude-globs.js';

const matcher = (patterns: string[], ignoreCase = false) => {
  const { globs, dropped } = ExcludeGlobs.compile(patterns, { ignoreCase });
  assert.deepEqual(dropped, []);
  return (p: string) => globs.matches(p);
};

test('`**/name` matches the name at any depth, the top level included; a bare name only at the top', () => {
  const m = matcher(['**/node_modules', 'build']);
  assert.ok(m('node_modules'));
  assert.ok(m('packages/a/node_modules'));
  assert.ok(!m('node_modules2'));
  assert.ok(m('build'));
  assert.ok(!m('src/build'), 'a pattern without **/ is anchored at the folder');
});

test('`*` and `?` stay within a segment and match a leading dot; `**` spans segments', () => {
  const m = matcher(['*.log', 'docs/*/draft?.md', 'gen/**', '**/.DS_Store']);
  assert.ok(m('a.log'));
  assert.ok(!m('logs/a.log'), '`*` does not cross a "/"');
  assert.ok(m('.hidden.log'), 'a leading dot is matched by `*`');
  assert.ok(m('docs/x/draft1.md'));
  assert.ok(!m('docs/x/y/draft1.md'));
  assert.ok(!m('docs/x/draft12.md'), '`?` is one character');
  assert.ok(m('gen'), '`gen/**` matches the folder itself (the walker then never enters it)');
  assert.ok(m('gen/a/b/c.txt'));
  assert.ok(m('x/y/.DS_Store'));
});

test('alternatives, nested too, and character ranges with VS Code\'s `[!…]` negation', () => {
  const m = matcher(['**/*.{js,map}', '{tmp,cache/{a,b}}', 'notes/v[0-9].md', 'notes/[!a-c]x.md']);
  assert.ok(m('src/x.js') && m('x.map') && !m('x.ts'));
  assert.ok(m('tmp') && m('cache/a') && m('cache/b') && !m('cache/c'));
  assert.ok(m('notes/v7.md') && !m('notes/va.md'));
  assert.ok(m('notes/dx.md'), '[!a-c] matches d');
  assert.ok(!m('notes/bx.md'), '[!a-c] does not match b');
});

test('no negation, no extglobs: `!` and `@(…)` are plain characters, as in VS Code', () => {
  const m = matcher(['!keep.md', '@(a|b).md']);
  assert.ok(m('!keep.md'));
  assert.ok(!m('other.md'), 'a leading ! does not mean "everything but"');
  assert.ok(m('@(a|b).md'));
  assert.ok(!m('a.md'));
});

test('patterns as written in the settings: trimmed, backslashes as slashes, "./" dropped, empty ones ignored', () => {
  assert.equal(normalizeGlob('  ./docs\\drafts/** '), 'docs/drafts/**');
  const { globs } = ExcludeGlobs.compile(['', '   ', './docs\\drafts/**', 'docs/drafts/**']);
  assert.equal(globs.size, 1, 'duplicates and empty patterns are not kept');
  assert.ok(globs.matches('docs/drafts/a.md'));
  assert.ok(!ExcludeGlobs.none.matches('anything'));
});

test('case: exact by default, either case when asked (macOS and Windows)', () => {
  assert.ok(!matcher(['**/Build'])('build'));
  assert.ok(matcher(['**/Build'], true)('src/build'));
});
