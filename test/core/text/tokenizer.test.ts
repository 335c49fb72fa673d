import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import {
  EOS,
  MAX_TOKEN_LENGTH,
  MAX_WHITESPACE_LENGTH,
  UNK,
  detokenize,
  lineBlocks,
  isWordLike,
  splitPartialWord,
  tokenize,
} from '../../../src/core/text/tokenizer.js';
import { mulberry32 } from '../../../src/core/support/random.js';

const ROOT = path.join(__dirname, '..', '..', '..');

const HSPACE = /^[\t\v\f\p{Zs}\u0085]+$/u;
const HSPACE_CHAR = /[\t\v\f\p{Zs}\u0085]/u;
const LINE_BREAK = /^(?:\r\n|[\n\r\u2028\u2029])$/;
const ANY_LINE_BREAK = /[\n\r\u2028\u2029]/;

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** The text-mode rules, checked token by token against their definition (see the tokenizer's header). */
function assertTextInvariants(s: string, tokens: string[]): void {
  const where = (i: number): string => `token ${i} ${JSON.stringify(tokens[i])} of ${JSON.stringify(s.slice(0, 200))}`;
  assert.equal(tokens.join(''), s, 'round trip');
  assert.equal(detokenize(tokens, 'text'), s, 'detokenize is concatenation');
  let lineStart = true; // every token since the last line break was whitespace
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    assert.ok(t.length > 0, `empty ${where(i)}`);
    if (LINE_BREAK.test(t)) {
      lineStart = true;
      continue;
    }
    assert.ok(!ANY_LINE_BREAK.test(t), `line break inside ${where(i)}`);
    if (i > 0 && isHigh(tokens[i - 1].charCodeAt(tokens[i - 1].length - 1))) {
      assert.ok(!isLow(t.charCodeAt(0)), `surrogate pair cut before ${where(i)}`);
    }
    if (HSPACE.test(t)) {
      assert.ok(t.length <= MAX_WHITESPACE_LENGTH, `whitespace too long: ${where(i)}`);
      // A space ending a run inside a line belongs to the next token, if there is one on this line.
      const next = tokens[i + 1];
      if (!lineStart && t.endsWith(' ') && next !== undefined && !LINE_BREAK.test(next) && !HSPACE.test(next)) {
        assert.ok(next.startsWith(' '), `unattached space before ${where(i + 1)}`);
      }
      continue;
    }
    assert.ok(t.length <= MAX_TOKEN_LENGTH, `too long: ${where(i)}`);
    const body = t.startsWith(' ') ? t.slice(1) : t;
    assert.ok(body.length > 0 && !HSPACE_CHAR.test(body), `whitespace inside ${where(i)}`);
    if (t.startsWith(' ')) assert.ok(!lineStart, `space attached at the start of a line: ${where(i)}`);
    lineStart = false;
  }
}

// --- spacing rules -----------------------------------------------------------------------------------

test('text mode: a single space attaches to the following token', () => {
  assert.deepEqual(tokenize('x = y', 'text'), ['x', ' =', ' y']);
  assert.deepEqual(tokenize('foo(a, b)', 'text'), ['foo', '(', 'a', ',', ' b', ')']);
  assert.deepEqual(tokenize('foo (a', 'text'), ['foo', ' (', 'a']);
  assert.deepEqual(tokenize('a.b', 'text'), ['a', '.', 'b']);
  assert.deepEqual(tokenize('hello world', 'text'), ['hello', ' world']);
  assert.deepEqual(tokenize('x = y'), ['x', ' =', ' y'], 'text is the default mode');
});

test('text mode: longer runs give all but the last space to a whitespace token', () => {
  assert.deepEqual(tokenize('a  b', 'text'), ['a', ' ', ' b']);
  assert.deepEqual(tokenize('a    = 1', 'text'), ['a', '   ', ' =', ' 1']);
  // Tabs and other spaces never attach; only a final U+0020 does.
  assert.deepEqual(tokenize('a\tb', 'text'), ['a', '\t', 'b']);
  assert.deepEqual(tokenize('a \tb', 'text'), ['a', ' \t', 'b']);
  assert.deepEqual(tokenize('a\t b', 'text'), ['a', '\t', ' b']);
  assert.deepEqual(tokenize('a\u00a0b', 'text'), ['a', '\u00a0', 'b']);
  // Trailing whitespace has nothing to attach to.
  assert.deepEqual(tokenize('a ', 'text'), ['a', ' ']);
  assert.deepEqual(tokenize('a  \n', 'text'), ['a', '  ', '\n']);
  assert.deepEqual(tokenize('a \nb', 'text'), ['a', ' ', '\n', 'b']);
});

test('text mode: indentation at the start of a line is one token', () => {
  assert.deepEqual(tokenize('    return x', 'text'), ['    ', 'return', ' x']);
  assert.deepEqual(tokenize('if (a) {\n\treturn;\n}', 'text'), ['if', ' (', 'a', ')', ' {', '\n', '\t', 'return', ';', '\n', '}']);
  assert.deepEqual(tokenize('/**\n * doc\n */', 'text'), ['/', '*', '*', '\n', ' ', '*', ' doc', '\n', ' ', '*', '/']);
  assert.deepEqual(tokenize(' x', 'text'), [' ', 'x']);
});

test('text mode: whitespace tokens are capped at 16 characters', () => {
  const sp = (k: number): string => ' '.repeat(k);
  assert.deepEqual(tokenize(sp(40) + 'x', 'text'), [sp(16), sp(16), sp(8), 'x']);
  // Inside a line: 20 spaces = 19 for the run (16 + 3) and one for the word.
  assert.deepEqual(tokenize('a' + sp(20) + 'b', 'text'), ['a', sp(16), sp(3), ' b']);
  assert.deepEqual(tokenize('a' + sp(17) + 'b', 'text'), ['a', sp(16), ' b']);
  assert.deepEqual(tokenize('\t'.repeat(33), 'text'), ['\t'.repeat(16), '\t'.repeat(16), '\t']);
});

test('text mode: each line break is one token', () => {
  assert.deepEqual(tokenize('a\r\nb\rc\nd\n\n', 'text'), ['a', '\r\n', 'b', '\r', 'c', '\n', 'd', '\n', '\n']);
  assert.deepEqual(tokenize('\r\r\n\n', 'text'), ['\r', '\r\n', '\n']);
  assert.deepEqual(tokenize('a\u2028b', 'text'), ['a', '\u2028', 'b']);
  assert.deepEqual(tokenize('', 'text'), []);
});

test('text mode: words, numbers and punctuation', () => {
  assert.deepEqual(tokenize('foo_bar2 $el naïve', 'text'), ['foo_bar2', ' $el', ' naïve']);
  // Decomposed ï (i + U+0308) stays in the word.
  assert.deepEqual(tokenize('nai\u0308ve x', 'text'), ['nai\u0308ve', ' x']);
  assert.deepEqual(tokenize('Ωμέγα Привет', 'text'), ['Ωμέγα', ' Привет']);
  assert.deepEqual(tokenize('3.14 1e-5 0xFF 1_000 2E+10', 'text'), ['3.14', ' 1e-5', ' 0xFF', ' 1_000', ' 2E+10']);
  assert.deepEqual(tokenize('width: 100px;', 'text'), ['width', ':', ' 100px', ';']);
  assert.deepEqual(tokenize('in 1999. Then', 'text'), ['in', ' 1999', '.', ' Then']);
  assert.deepEqual(tokenize('v1.2.3', 'text'), ['v1', '.', '2.3']);
  assert.deepEqual(tokenize('a[0].b', 'text'), ['a', '[', '0', ']', '.', 'b']);
  assert.deepEqual(tokenize('x=>"s"', 'text'), ['x', '=', '>', '"', 's', '"']);
  assert.deepEqual(tokenize('Case Preserved', 'text'), ['Case', ' Preserved']);
});

test('text mode: one emoji grapheme is one token', () => {
  const emoji = ['👍', '👍🏽', '👨‍👩‍👧', '🏳️‍🌈', '🇫🇷', '🇩🇪', '#️⃣', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '❤️'];
  const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const s = emoji.join('');
  // Oracle: Unicode grapheme clusters.
  assert.deepEqual(tokenize(s, 'text'), Array.from(graphemes.segment(s), (g) => g.segment));
  assert.deepEqual(tokenize('ok 👍🏽!', 'text'), ['ok', ' 👍🏽', '!']);
});

test('text mode: lone surrogates are tokens of their own and valid pairs are never cut', () => {
  assert.deepEqual(tokenize('a\ud800b', 'text'), ['a', '\ud800', 'b']);
  assert.deepEqual(tokenize('\udc00\ud800', 'text'), ['\udc00', '\ud800']);
  assert.deepEqual(tokenize('x \ud83d', 'text'), ['x', ' \ud83d']);
});

test('text mode: long words are split into pieces of at most 48 code units', () => {
  assert.deepEqual(tokenize('x'.repeat(100), 'text'), ['x'.repeat(48), 'x'.repeat(48), 'xxxx']);
  assert.deepEqual(tokenize('a ' + 'y'.repeat(60), 'text'), ['a', ' ' + 'y'.repeat(47), 'y'.repeat(13)]);
  // 𝑥 (U+1D465) is a letter written as a surrogate pair: 'a' + 23 pairs = 47 units; a 48th would cut a pair.
  const mathX = '\u{1d465}';
  assert.deepEqual(tokenize('a' + mathX.repeat(30), 'text'), ['a' + mathX.repeat(23), mathX.repeat(7)]);
});

test('text mode: scripts without spaces are cut by Intl.Segmenter', () => {
  const zh = '我喜欢学习中文';
  const tokens = tokenize(zh, 'text');
  assert.ok(tokens.length > 1, `expected several words, got ${JSON.stringify(tokens)}`);
  assert.ok(tokens.length < [...zh].length || tokens.length === [...zh].length);
  assertTextInvariants(zh, tokens);
  // Latin inside CJK stays one word; a space before a CJK run attaches to its first segment.
  const mixed = '我用Python写 中文';
  const m = tokenize(mixed, 'text');
  assertTextInvariants(mixed, m);
  assert.ok(m.includes('Python'), JSON.stringify(m));
  assert.ok(m.some((t) => t.startsWith(' 中')), JSON.stringify(m));
  const ja = tokenize('日本語のテキストです', 'text');
  assert.ok(ja.length > 1, JSON.stringify(ja));
  assert.equal(ja.join(''), '日本語のテキストです');
  const th = tokenize('สวัสดีครับผม', 'text');
  assert.ok(th.length > 1, JSON.stringify(th));
});

// --- properties ----------------------------------------------------------------------------------------

const FRAGMENTS = [
  'a', 'Z', 'foo', '_x', '$', 'e', '0', '42', '3.14', '0xFF', '1e-5', '.', ',', '(', ')', '=', '"', "'", '-', '+',
  ' ', ' ', ' ', '  ', '    ', '\t', '\n', '\r\n', '\r', '\u00a0', '\u3000', '\v',
  'é', 'e\u0301', '\u0301', 'naïve', 'Ωμέγα', 'Привет', 'مرحبا', 'می\u200cخواهم',
  '中文', '我喜欢', '日本語', 'テキスト', '한국어', 'สวัสดี', '。',
  '👍', '👍🏽', '👨‍👩‍👧', '🇫🇷', '#️⃣', '\u200d', '\u200c', '\ufe0f',
  '\ud800', '\udc00', '\udbff', '\u{1d465}', '\ufeff', 'x'.repeat(60), ' '.repeat(20), '\t'.repeat(18),
];
const NO_SPACE_SCRIPT = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}\p{scx=Thai}]/u;

function randomString(rand: () => number, fragments: readonly string[], maxParts: number): string {
  let s = '';
  const parts = Math.floor(rand() * maxParts);
  for (let i = 0; i < parts; i++) {
    const r = rand();
    if (r < 0.8) s += fragments[Math.floor(rand() * fragments.length)];
    else if (r < 0.9) s += String.fromCharCode(Math.floor(rand() * 0x10000)); // any code unit, surrogates included
    else s += String.fromCodePoint(0x10000 + Math.floor(rand() * 0xfffff));
  }
  return s;
}

/** Random-string cases of the property tests (FUZZ_CASES in the environment raises it). */
const FUZZ_CASES = Number(process.env.FUZZ_CASES ?? 2000);

test(`text mode: round trip and token rules hold on ${FUZZ_CASES} random strings`, () => {
  const rand = mulberry32(1234);
  for (let i = 0; i < FUZZ_CASES; i++) {
    const s = randomString(rand, FRAGMENTS, 40);
    assertTextInvariants(s, tokenize(s, 'text'));
  }
});

test(`detokenize(tokenize(s)) == s (text mode; whitespace mode: its normal form) on ${FUZZ_CASES} strings of random code units and code points`, () => {
  const rand = mulberry32(4321);
  for (let i = 0; i < FUZZ_CASES; i++) {
    let s = '';
    const n = Math.floor(rand() * 60);
    for (let k = 0; k < n; k++) {
      const r = rand();
      // Any UTF-16 code unit (lone surrogates too), any code point, or one of the characters that matter.
      if (r < 0.4) s += String.fromCharCode(Math.floor(rand() * 0x10000));
      else if (r < 0.6) s += String.fromCodePoint(Math.floor(rand() * 0x110000));
      else s += ' \t\n\r\u00a0\u2028\u200d\ufe0f.,a1'[Math.floor(rand() * 13)]!;
    }
    assertTextInvariants(s, tokenize(s, 'text'));
    // Whitespace mode normalises spacing (its documented rule: words of a line joined by one space, each
    // line ended by a newline) and is then stable: tokenising its own output gives the same tokens.
    const ws = tokenize(s, 'whitespace');
    const lines = s.split(/\r\n|\n|\r/);
    if (lines[lines.length - 1] === '') lines.pop();
    const normal = lines.map((line) => `${line.split(/[ \t]+/).filter((w) => w.length > 0).join(' ')}\n`).join('');
    assert.equal(detokenize(ws, 'whitespace'), normal, `whitespace mode of ${JSON.stringify(s)}`);
    assert.deepEqual(tokenize(detokenize(ws, 'whitespace'), 'whitespace'), ws, `whitespace mode is stable on ${JSON.stringify(s)}`);
  }
});

test('text mode: a line is tokenized the same whatever comes before it', () => {
  const rand = mulberry32(99);
  for (let i = 0; i < 200; i++) {
    let a = randomString(rand, FRAGMENTS, 15);
    if (a.endsWith('\r')) a += 'x'; // "\r" + "\n" would be one token
    const b = randomString(rand, FRAGMENTS, 15);
    assert.deepEqual(tokenize(a + '\n' + b, 'text'), [...tokenize(a, 'text'), '\n', ...tokenize(b, 'text')]);
  }
});

function findFiles(root: string, exts: readonly string[], maxBytes: number): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (exts.some((e) => name.endsWith(e)) && st.size <= maxBytes) found.push(p);
    }
  };
  walk(root);
  return found;
}

test('text mode: round trip and token rules hold on real .ts and .md files', () => {
  const root = path.join(ROOT, 'node_modules');
  const files = findFiles(root, ['.ts', '.md'], 200_000);
  assert.ok(files.length >= 10, `expected .ts/.md files under ${root}, found ${files.length}`);
  // An even sample of about 40 files keeps the test fast.
  const step = Math.max(1, Math.floor(files.length / 40));
  let checked = 0;
  for (let i = 0; i < files.length; i += step) {
    const s = readFileSync(files[i], 'utf8');
    assertTextInvariants(s, tokenize(s, 'text'));
    checked++;
  }
  assert.ok(checked >= 10);
});

test('text mode: speed on about 1 MB of prose (diagnostic)', (t) => {
  const alice = readFileSync(path.join(ROOT, 'corpora', 'gutenberg', 'train', 'alice_in_wonderland.txt'), 'utf8');
  const text = alice.repeat(Math.ceil(1_000_000 / alice.length));
  tokenize(text, 'text'); // warm up
  const t0 = performance.now();
  const tokens = tokenize(text, 'text');
  const ms = performance.now() - t0;
  t.diagnostic(`tokenized ${(text.length / 1e6).toFixed(2)} M chars into ${tokens.length} tokens in ${ms.toFixed(1)} ms`);
  assert.equal(tokens.join(''), text);
});

// --- helpers for the predictor -------------------------------------------------------------------------

test('isWordLike: words and numbers, with or without their space', () => {
  for (const t of ['foo', ' foo', '_x', '$el', ' 42', '3.14', 'naïve', ' Привет', '中文', ' \u0301']) {
    assert.equal(isWordLike(t), true, JSON.stringify(t));
  }
  for (const t of ['(', ' (', ' ', '  x', '\n', '👍', ' 👍', EOS, UNK, '']) {
    assert.equal(isWordLike(t), false, JSON.stringify(t));
  }
});

test('splitPartialWord (text): the examples', () => {
  const cases: [string, string, string][] = [
    ['hello wor', 'hello', ' wor'],
    ['hello ', 'hello', ' '],
    ['hello', '', 'hello'],
    ['foo(', 'foo(', ''],
    ['', '', ''],
    ['a  ', 'a ', ' '],
    ['x.fo', 'x.', 'fo'],
    ['\n    ', '\n    ', ''], // indentation is complete
    ['\n ', '\n ', ''],
    ['    ret', '    ', 'ret'],
    ['a\t', 'a\t', ''],
    ['a\u00a0', 'a\u00a0', ''],
    ['line\n', 'line\n', ''],
    ['x = 3.1', 'x =', ' 3.1'],
    ['a ' + 'y'.repeat(50), 'a ' + 'y'.repeat(47), 'yyy'],
  ];
  for (const [text, context, partial] of cases) {
    assert.deepEqual(splitPartialWord(text, 'text'), { context, partial }, JSON.stringify(text));
  }
});

test('splitPartialWord (text): the partial is the token being typed, on random strings', () => {
  const fragments = FRAGMENTS.filter((f) => !NO_SPACE_SCRIPT.test(f));
  const rand = mulberry32(7);
  for (let i = 0; i < 400; i++) {
    const text = randomString(rand, fragments, 12).replace(new RegExp(NO_SPACE_SCRIPT.source, 'gu'), '?');
    const { context, partial } = splitPartialWord(text, 'text');
    const msg = JSON.stringify({ text, context, partial });
    assert.equal(context + partial, text, msg);
    if (partial === '') {
      // The last token is complete: typing a letter starts a new token.
      assert.deepEqual(tokenize(text + 'x', 'text'), [...tokenize(text, 'text'), 'x'], msg);
    } else if (partial === ' ') {
      // The space becomes the first character of the next word.
      assert.deepEqual(tokenize(text + 'x', 'text'), [...tokenize(context, 'text'), ' x'], msg);
    } else {
      assert.ok(isWordLike(partial), msg);
      assert.deepEqual(tokenize(text, 'text'), [...tokenize(context, 'text'), partial], msg);
    }
  }
});

test('splitPartialWord (whitespace): the text after the last space', () => {
  assert.deepEqual(splitPartialWord('the cat sa', 'whitespace'), { context: 'the cat ', partial: 'sa' });
  assert.deepEqual(splitPartialWord('the cat ', 'whitespace'), { context: 'the cat ', partial: '' });
  assert.deepEqual(splitPartialWord('the\ncat', 'whitespace'), { context: 'the\n', partial: 'cat' });
  assert.deepEqual(splitPartialWord('word', 'whitespace'), { context: '', partial: 'word' });
  assert.deepEqual(splitPartialWord('a\tb(', 'whitespace'), { context: 'a\t', partial: 'b(' });
});

// --- whitespace mode -----------------------------------------------------------------------------------

test('whitespace mode: Penn Treebank-style lines', () => {
  const lines = readFileSync(path.join(ROOT, 'test', 'fixtures', 'ptb-style', 'valid.txt'), 'utf8').split('\n').slice(0, 50);
  const text = lines.join('\n') + '\n';
  const expected = lines.flatMap((line) => [...line.split(' ').filter((w) => w !== ''), EOS]);
  const tokens = tokenize(text, 'whitespace');
  assert.deepEqual(tokens, expected);
  assert.ok(tokens.includes(UNK), '<unk> is an ordinary word in these lines');
  assert.equal(tokens.filter((t) => t === EOS).length, 50);
  const normalized = lines.map((line) => line.split(' ').filter((w) => w !== '').join(' ')).join('\n') + '\n';
  assert.equal(detokenize(tokens, 'whitespace'), normalized);
});

test('whitespace mode: lines, empty lines and the final newline', () => {
  assert.deepEqual(tokenize('', 'whitespace'), []);
  assert.deepEqual(tokenize('a', 'whitespace'), ['a', EOS]);
  assert.deepEqual(tokenize('a\n', 'whitespace'), ['a', EOS]);
  assert.deepEqual(tokenize('\n', 'whitespace'), [EOS]);
  assert.deepEqual(tokenize('a\n\nb c\n', 'whitespace'), ['a', EOS, EOS, 'b', 'c', EOS]);
  assert.deepEqual(tokenize('  a \t b  \r\nc\rd', 'whitespace'), ['a', 'b', EOS, 'c', EOS, 'd', EOS]);
  assert.deepEqual(tokenize('x <unk> y\n', 'whitespace'), ['x', UNK, 'y', EOS]);
  assert.equal(detokenize(['a', 'b', EOS, EOS, 'c', EOS], 'whitespace'), 'a b\n\nc\n');
  assert.equal(detokenize([], 'whitespace'), '');
});

test('unknown modes are rejected', () => {
  assert.throws(() => tokenize('a', 'words' as never), /unknown tokenizer mode "words"/);
  assert.throws(() => detokenize(['a'], 'words' as never), /unknown tokenizer mode "words"/);
  assert.throws(() => splitPartialWord('a', 'words' as never), /unknown tokenizer mode "words"/);
});

test('lineBlocks: pieces end after a "\\n", join to the text, and tokenise to the whole text\'s tokens in both modes', () => {
  assert.deepEqual([...lineBlocks('ab\ncd\nef', 1)], ['ab\n', 'cd\n', 'ef']);
  assert.deepEqual([...lineBlocks('ab\ncd\nef', 4)], ['ab\ncd\n', 'ef']);
  assert.deepEqual([...lineBlocks('a\r\nb\rc', 1)], ['a\r\n', 'b\rc'], 'a lone \\r never ends a piece (it could begin \\r\\n)');
  assert.deepEqual([...lineBlocks('', 8)], []);
  assert.throws(() => [...lineBlocks('x', 0)], /at least 1/);
  const rand = mulberry32(77);
  for (let i = 0; i < 300; i++) {
    const s = randomString(rand, FRAGMENTS, 80);
    const size = 1 + Math.floor(rand() * 40);
    const blocks = [...lineBlocks(s, size)];
    assert.equal(blocks.join(''), s);
    for (const b of blocks.slice(0, -1)) assert.ok(b.endsWith('\n'), JSON.stringify(b));
    for (const mode of ['text', 'whitespace'] as const) {
      assert.deepEqual(blocks.flatMap((b) => tokenize(b, mode)), tokenize(s, mode), `${mode}: ${JSON.stringify(s)} in pieces of ${size}`);
    }
  }
});
