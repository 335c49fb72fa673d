// The findFiles exclude glob of Train on Workspace: settings values to patterns, brace expansion (VS Code
// globs do not nest groups), and one flat group with the default excluded folders.

import test from 'node:test';
import assert from 'node:assert/strict';

import { enabledPatterns, excludeGlob, expandBraces } from '../../src/extension/exclude-glob.js';

test('only patterns switched on with true are taken from files.exclude / search.exclude', () => {
  const setting = { '**/.git': true, '**/*.js': { when: '$(basename).ts' }, '**/build': false, '': true, '**/tmp': true };
  assert.deepEqual(enabledPatterns(setting), ['**/.git', '**/tmp']);
  assert.deepEqual(enabledPatterns(undefined), []);
  assert.deepEqual(enabledPatterns(['**/x']), []);
});

test('brace groups expand, nested and in sequence, in order', () => {
  assert.deepEqual(expandBraces('**/*.{js,map}'), ['**/*.js', '**/*.map']);
  assert.deepEqual(expandBraces('a{b,c}d{e,f}'), ['abde', 'abdf', 'acde', 'acdf']);
  assert.deepEqual(expandBraces('x/{a,{b,c}/d}'), ['x/a', 'x/b/d', 'x/c/d']);
  assert.deepEqual(expandBraces('no-braces/**'), ['no-braces/**']);
  assert.deepEqual(expandBraces('{}'), ['']);
});

test('an unbalanced brace is kept literally, and a runaway expansion is not expanded', () => {
  assert.deepEqual(expandBraces('a{b,c'), ['a{b,c']);
  const huge = '{a,b,c,d}{a,b,c,d}{a,b,c,d}{a,b,c,d}{a,b,c,d}';
  assert.deepEqual(expandBraces(huge), [huge]);
});

test('the glob is one flat group: defaults first, then the patterns, deduplicated, with nothing nested', () => {
  const { glob, dropped } = excludeGlob(['**/*.{log,tmp}', './docs/**', '**/node_modules', ' secret.txt ', 'a\\b']);
  assert.ok(glob.startsWith('{') && glob.endsWith('}'));
  const parts = glob.slice(1, -1).split(',');
  assert.ok(parts.every((p) => !/[{}]/.test(p)), `no nested braces in ${glob}`);
  for (const p of ['**/node_modules', '**/.git', '**/dist', '**/*.log', '**/*.tmp', 'docs/**', 'secret.txt', 'a/b']) {
    assert.ok(parts.includes(p), `${p} in ${glob}`);
  }
  assert.equal(parts.filter((p) => p === '**/node_modules').length, 1, 'duplicates are removed');
  assert.deepEqual(dropped, []);
});

test('a pattern that still holds a comma after expansion cannot sit in the group and is reported', () => {
  const { glob, dropped } = excludeGlob(['a{b', 'x,y']);
  assert.deepEqual(dropped, ['a{b', 'x,y']);
  assert.ok(!glob.includes('x,y') && !glob.includes('a{b'));
});
