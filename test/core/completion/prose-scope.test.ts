import assert from 'node:assert/strict';
import test from 'node:test';
import { isProseAt } from '../../../src/core/completion/prose-scope.js';

test('prose languages are prose everywhere', () => {
  for (const lang of ['plaintext', 'markdown', 'latex', 'git-commit']) assert.equal(isProseAt('const x = "', lang), true, lang);
});

test('in C-like code: comments and strings are prose, code is not', () => {
  const ts = (before: string) => isProseAt(before, 'typescript');
  assert.equal(ts('const total = '), false);
  assert.equal(ts('const total = 1; // the sum of the '), true, 'a line comment');
  assert.equal(ts('// done\nconst x = '), false, 'a line comment ends at the line break');
  assert.equal(ts('/**\n * Returns the '), true, 'inside a block comment over lines');
  assert.equal(ts('/* a */ const y = '), false, 'after a closed block comment');
  assert.equal(ts('throw new Error("could not open the '), true, 'a string');
  assert.equal(ts('const s = "a \\" quote"; f('), false, 'an escaped quote does not end the string early');
  assert.equal(ts("const s = 'it is'; g("), false);
  assert.equal(ts('const url = "http://example.com/a'), true, 'a // inside a string is no comment');
  assert.equal(ts('const t = `line one\nand the '), true, 'a template literal spans lines');
  assert.equal(ts('const q = "unclosed\nconst z = '), false, 'a plain string ends at the line break');
});

test('in Python: # comments, strings and docstrings are prose', () => {
  const py = (before: string) => isProseAt(before, 'python');
  assert.equal(py('def total(values):\n    return '), false);
  assert.equal(py('x = 1  # the number of '), true);
  assert.equal(py('def f():\n    """Return the sum of\n    the '), true, 'a docstring over lines');
  assert.equal(py('def f():\n    """Doc."""\n    return '), false, 'after a docstring');
  assert.equal(py("print('hello, "), true);
});

test('other syntaxes: SQL and Lua dashes, Lisp semicolons, Rust lifetimes; an unknown language withholds nothing', () => {
  assert.equal(isProseAt('SELECT * FROM t -- the rows of ', 'sql'), true);
  assert.equal(isProseAt('SELECT * FROM ', 'sql'), false);
  assert.equal(isProseAt('--[[ a long\ncomment about the ', 'lua'), true);
  assert.equal(isProseAt('(defn f [x] ; the ', 'clojure'), true);
  assert.equal(isProseAt("fn get<'a>(s: &'a str) -> ", 'rust'), false, "a lifetime is no string");
  assert.equal(isProseAt('x := ', 'some-new-language'), true);
});
