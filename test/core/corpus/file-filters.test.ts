import test from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyContent,
  classifyPath,
  IgnoreRules,
  looksBinary,
  looksMinified,
  SKIP_REASONS,
  type FileSkipReason,
} from '../../../src/core/corpus/file-filters.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

/** Ordinary English prose, one paragraph on a single line, as Markdown editors with soft wrap save it. */
function paragraph(chars: number): string {
  const sentences = [
    'The quick brown fox jumps over the lazy dog while the farmer watches from the porch.',
    'See [the installation guide](https://example.com/docs/getting-started/install#linux) for details.',
    'Every function should do one thing, and its name should say what that thing is.',
    'We measured the latency twice, once cold and once warm, and report the median of both runs.',
  ];
  let out = '';
  for (let i = 0; out.length < chars; i++) out += (out ? ' ' : '') + sentences[i % sentences.length];
  return out.slice(0, chars);
}

/** Minified JavaScript as bundlers emit it: one line, spaces only after a few keywords. */
function minifiedJs(chars: number): string {
  let out = '';
  for (let i = 0; out.length < chars; i++) out += `function f${i}(a,b){return a+b*${i}}var x${i}=f${i}(1,2),y${i}=[x${i},"k${i}"];`;
  return out.slice(0, chars);
}

test('classifyPath: ordinary source and prose files pass', () => {
  for (const p of ['src/app.ts', 'README.md', 'docs/guide.md', 'icon.svg', 'credentialStore.ts', 'environment.ts', '.envoy.yaml', 'secretary.md', 'bin/nextword.js', 'src/']) {
    assert.equal(classifyPath(p), undefined, p);
  }
});

test('classifyPath: folders on the path', () => {
  const cases: [string, FileSkipReason][] = [
    ['node_modules/pkg/index.js', 'excluded-dir'],
    ['a/b/node_modules/x.js', 'excluded-dir'],
    ['.git/config', 'excluded-dir'],
    ['dist/', 'excluded-dir'],
    ['packages/web/.next/cache/x.json', 'excluded-dir'],
    ['lib/pkg.egg-info/PKG-INFO', 'excluded-dir'],
    ['go/vendor/github.com/x/y.go', 'excluded-dir'],
    ['home/.ssh/config', 'secret'],
    ['.aws/config', 'secret'],
    ['.gnupg/', 'secret'],
  ];
  for (const [p, want] of cases) assert.equal(classifyPath(p), want, p);
});

test('classifyPath: lock files, secrets, minified names and binary extensions', () => {
  const cases: [string, FileSkipReason][] = [
    ['package-lock.json', 'lock-file'],
    ['web/yarn.lock', 'lock-file'],
    ['pnpm-lock.yaml', 'lock-file'],
    ['Cargo.lock', 'lock-file'],
    ['poetry.lock', 'lock-file'],
    ['Gemfile.lock', 'lock-file'],
    ['go.sum', 'lock-file'],
    ['anything.lock', 'lock-file'],
    ['.env', 'secret'],
    ['.env.local', 'secret'],
    ['config/.env.production', 'secret'],
    ['docker.env', 'secret'],
    ['id_rsa', 'secret'],
    ['keys/id_ed25519.pub', 'secret'],
    ['certs/server.pem', 'secret'],
    ['tls.KEY', 'secret'],
    ['store.p12', 'secret'],
    ['.npmrc', 'secret'],
    ['.netrc', 'secret'],
    ['credentials', 'secret'],
    ['credentials.json', 'secret'],
    ['secrets.prod.yaml', 'secret'],
    ['client_secret_123.apps.googleusercontent.com.json', 'secret'],
    ['vault.kdbx', 'secret'],
    ['vendor.min.js', 'minified'],
    ['app.js.map', 'minified'],
    ['style.min.css', 'minified'],
    ['logo.PNG', 'binary-extension'],
    ['photo.jpeg', 'binary-extension'],
    ['model.onnx', 'binary-extension'],
    ['weights.safetensors', 'binary-extension'],
    ['release.tar.gz', 'binary-extension'],
    ['font.woff2', 'binary-extension'],
    ['paper.pdf', 'binary-extension'],
    ['app.exe', 'binary-extension'],
    ['libfoo.so', 'binary-extension'],
    ['data.sqlite', 'binary-extension'],
    ['module.wasm', 'binary-extension'],
  ];
  for (const [p, want] of cases) assert.equal(classifyPath(p), want, p);
});

test('classifyContent: keeps UTF-8 text and strips a byte-order mark', () => {
  assert.deepEqual(classifyContent(utf8('hello world\n')), { text: 'hello world\n' });
  assert.deepEqual(classifyContent(bytes(0xef, 0xbb, 0xbf, ...utf8('héllo'))), { text: 'héllo' });
  assert.deepEqual(classifyContent(utf8('line one\r\nline two\r\n')), { text: 'line one\r\nline two\r\n' });
});

test('classifyContent: binary by NUL byte or control characters', () => {
  const png = bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52);
  assert.deepEqual(classifyContent(png), { skip: 'binary' });
  assert.deepEqual(classifyContent(utf8('abc\u0000def')), { skip: 'binary' });
  // Only the first 8 KiB are sniffed; a NUL later on is valid UTF-8 and the file is text.
  const lateText = 'hello world\n'.repeat(800) + '\u0000';
  assert.deepEqual(classifyContent(utf8(lateText)), { text: lateText });
  // 20 control bytes in 100 is binary; 5 in 100 is not.
  const mixed = (controls: number) => bytes(...Array.from({ length: 100 }, (_, i) => (i < controls ? 0x01 : 0x61)));
  assert.equal(looksBinary(mixed(20)), true);
  assert.equal(looksBinary(mixed(5)), false);
  // Tabs, newlines, form feeds and ANSI escapes are ordinary in text.
  assert.equal(looksBinary(utf8('\t\x1b[31mred\x1b[0m\n\f\r\n'.repeat(20))), false);
});

test('classifyContent: not UTF-8', () => {
  assert.deepEqual(classifyContent(bytes(0x61, 0xc3, 0x28, 0x62)), { skip: 'not-utf8' });
  assert.deepEqual(classifyContent(bytes(0x63, 0x61, 0x66, 0xe9)), { skip: 'not-utf8' }); // "café" in Latin-1
  // UTF-16LE "hi" with its byte-order mark: text, but not in our encoding.
  assert.deepEqual(classifyContent(bytes(0xff, 0xfe, 0x68, 0x00, 0x69, 0x00)), { skip: 'not-utf8' });
});

test('classifyContent: empty and whitespace-only', () => {
  assert.deepEqual(classifyContent(new Uint8Array(0)), { skip: 'empty' });
  assert.deepEqual(classifyContent(utf8('  \n\t\r\n  ')), { skip: 'empty' });
  assert.deepEqual(classifyContent(bytes(0xef, 0xbb, 0xbf, 0x0a)), { skip: 'empty' });
});

test('classifyContent: too large against the per-file limit', () => {
  assert.deepEqual(classifyContent(utf8('abcdef'), { maxFileBytes: 5 }), { skip: 'too-large' });
  assert.deepEqual(classifyContent(utf8('abcde'), { maxFileBytes: 5 }), { text: 'abcde' });
});

test('classifyContent: minified code is skipped, long prose paragraphs are kept', () => {
  assert.deepEqual(classifyContent(utf8(minifiedJs(50_000))), { skip: 'minified' });
  // A short minified line is still minified once past 500 characters.
  assert.equal(looksMinified(minifiedJs(600)), true);
  assert.equal(looksMinified(minifiedJs(400)), false);

  const markdown = `# Title\n\n${paragraph(800)}\n\n${paragraph(3000)}\n\n- a list item\n`;
  assert.deepEqual(classifyContent(utf8(markdown)), { text: markdown });
  const oneParagraph = paragraph(9000);
  assert.equal(looksMinified(oneParagraph), false);

  // CJK prose has no spaces at all.
  const cjk = '我们在周末去公园散步，天气很好，孩子们在草地上玩耍。'.repeat(80);
  assert.equal(looksMinified(cjk), false);
});

test('looksMinified: decided by the share of the file on machine-made lines', () => {
  const code = Array.from({ length: 200 }, (_, i) => `  const value${i} = compute(${i}, options);`).join('\n') + '\n';
  const base64 = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo='.repeat(20); // 720 chars, no spaces
  // One embedded data line in a larger file: kept.
  assert.ok(base64.length < code.length / 2);
  assert.equal(looksMinified(code + base64 + '\n'), false);
  // The same kind of line making up most of the file: minified.
  const bigBlob = base64.repeat(20);
  assert.ok(bigBlob.length > code.length);
  assert.equal(looksMinified(code + bigBlob + '\n'), true);
  // Very long lines count whatever their spacing (a source map embeds spaced source code).
  const spacedHuge = paragraph(12_000);
  assert.equal(looksMinified(spacedHuge), true);
});

test('SKIP_REASONS lists every reason once', () => {
  assert.equal(new Set(SKIP_REASONS).size, SKIP_REASONS.length);
  assert.equal(SKIP_REASONS.length, 14);
});

test('IgnoreRules: root rules use gitignore syntax', () => {
  const rules = IgnoreRules.empty().withFile('', '# comment\n\n*.log\nbuild/\n/only-root.txt\n\\#hash.txt\r\n');
  assert.equal(rules.size, 4);
  assert.equal(rules.ignores('app.log', false), true);
  assert.equal(rules.ignores('deep/app.log', false), true);
  assert.equal(rules.ignores('build', true), true);
  assert.equal(rules.ignores('build', false), false, 'a dir-only rule does not match a file');
  assert.equal(rules.ignores('only-root.txt', false), true);
  assert.equal(rules.ignores('sub/only-root.txt', false), false);
  assert.equal(rules.ignores('#hash.txt', false), true);
  assert.equal(rules.ignores('# comment', false), false);
  assert.equal(rules.ignores('app.ts', false), false);
});

test('IgnoreRules: nested rules are relative to their folder', () => {
  const rules = IgnoreRules.empty().withFile('a', '/x\ny\nz/w\nd/\n');
  assert.equal(rules.ignores('a/x', false), true, 'anchored: the folder itself');
  assert.equal(rules.ignores('a/b/x', false), false, 'anchored: not deeper');
  assert.equal(rules.ignores('x', false), false, 'never outside the folder');
  assert.equal(rules.ignores('a/y', false), true, 'unanchored: any depth below');
  assert.equal(rules.ignores('a/b/c/y', false), true);
  assert.equal(rules.ignores('y', false), false);
  assert.equal(rules.ignores('b/y', false), false);
  assert.equal(rules.ignores('a/z/w', false), true, 'a middle slash anchors too');
  assert.equal(rules.ignores('a/q/z/w', false), false);
  assert.equal(rules.ignores('a/q/d', true), true);
  assert.equal(rules.ignores('a/q/d', false), false);
});

test('IgnoreRules: deeper files override shallower ones, as in git', () => {
  const root = IgnoreRules.empty().withFile('', '*.md\nlogs/\n');
  const rules = root.withFile('a', '!keep.md\n!logs/\n');
  assert.equal(rules.ignores('a/keep.md', false), false);
  assert.equal(rules.ignores('a/deeper/keep.md', false), false);
  assert.equal(rules.ignores('a/other.md', false), true);
  assert.equal(rules.ignores('keep.md', false), true);
  assert.equal(rules.ignores('b/keep.md', false), true);
  assert.equal(rules.ignores('a/logs', true), false);
  assert.equal(rules.ignores('a/logs/today.txt', false), false);
  assert.equal(rules.ignores('b/logs', true), true);
  // A later line in the same file wins over an earlier one.
  const sameFile = IgnoreRules.empty().withFile('', '*.txt\n!keep.txt\n');
  assert.equal(sameFile.ignores('keep.txt', false), false);
  assert.equal(sameFile.ignores('drop.txt', false), true);
  // Immutability: the parent set is unchanged, a sibling folder never sees the rules.
  assert.equal(root.ignores('a/keep.md', false), true);
});

test('IgnoreRules: "*" with negations inside a nested folder', () => {
  const rules = IgnoreRules.empty().withFile('pkg', '*\n!*/\n!*.md\n');
  assert.equal(rules.ignores('pkg/a.ts', false), true);
  assert.equal(rules.ignores('pkg/sub', true), false);
  assert.equal(rules.ignores('pkg/sub/readme.md', false), false);
  assert.equal(rules.ignores('pkg/sub/b.ts', false), true);
  assert.equal(rules.ignores('pkg', true), false, 'a folder is not matched by its own .gitignore');
  assert.equal(rules.ignores('other.ts', false), false);
});

test('IgnoreRules: folder names with glob characters are taken literally', () => {
  const rules = IgnoreRules.empty().withFile('we[ir]d*', 'x\n').withFile('!bang', 'y\n').withFile('#hash', 'z\n');
  assert.equal(rules.ignores('we[ir]d*/x', false), true);
  assert.equal(rules.ignores('weid/x', false), false, 'the bracket is not a character class');
  assert.equal(rules.ignores('we[ir]d-more/x', false), false, 'the star is not a wildcard');
  assert.equal(rules.ignores('!bang/y', false), true);
  assert.equal(rules.ignores('#hash/z', false), true);
});

test('IgnoreRules: case sensitivity is an option', () => {
  const sensitive = IgnoreRules.empty().withFile('', 'Build/\n*.LOG\n');
  assert.equal(sensitive.ignores('build', true), false);
  assert.equal(sensitive.ignores('app.log', false), false);
  const insensitive = IgnoreRules.empty({ ignoreCase: true }).withFile('', 'Build/\n*.LOG\n');
  assert.equal(insensitive.ignores('build', true), true);
  assert.equal(insensitive.ignores('app.log', false), true);
  // Nested files inherit the option.
  assert.equal(insensitive.withFile('a', 'X.TXT\n').ignores('a/b/x.txt', false), true);
});

test('IgnoreRules: an empty file adds nothing', () => {
  const empty = IgnoreRules.empty();
  assert.equal(empty.withFile('a', '# only a comment\n\n'), empty);
  assert.equal(empty.ignores('anything', false), false);
});
