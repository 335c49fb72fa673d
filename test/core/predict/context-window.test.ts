// The context window against a fake model whose state is the list of every id fed since the initial state
// (so a test reads off exactly what a context's state has seen), with the real tokenizer behind a hook that
// counts the characters it is given. Expectations come from tokenizing the whole text directly.
//
// Shapes: n ids.

import test from 'node:test';
import assert from 'node:assert/strict';

import { ContextWindow, cutStart, lastLineStart, type Advanced, type ContextFeeder, type ContextWindowOptions } from '../../../src/core/predict/context-window.js';
import type { RecurrentState } from '../../../src/core/model/language-model.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import { EOS, splitPartialWord, tokenize, type TokenizerMode } from '../../../src/core/text/tokenizer.js';

const START = 1;

/** The state is the history of fed ids; every fed id is counted. */
class HistoryFeeder implements ContextFeeder {
  fed = 0;
  calls = 0;
  initialState(): RecurrentState {
    return { h: new Float32Array(0) };
  }
  async advance(state: RecurrentState, ids: Int32Array): Promise<Advanced> {
    assert.ok(ids.length >= 1, 'never asked to feed nothing');
    this.fed += ids.length;
    this.calls++;
    const h = new Float32Array(state.h.length + ids.length);
    h.set(state.h);
    h.set(ids, state.h.length);
    return { state: { h }, logProbs: Float32Array.of(ids[ids.length - 1]!) };
  }
}

/** Ids handed out on first sight (2, 3, …; 1 is the start token), the same for a token every time. */
function makeEncoder() {
  const ids = new Map<string, number>();
  const id = (t: string) => {
    let v = ids.get(t);
    if (v === undefined) ids.set(t, (v = ids.size + 2));
    return v;
  };
  return (tokens: readonly string[]) => Int32Array.from(tokens, id);
}

function setup(mode: TokenizerMode, opts: Partial<ContextWindowOptions> = {}) {
  const feeder = new HistoryFeeder();
  const encode = makeEncoder();
  const counter = { chars: 0 };
  const window = new ContextWindow(feeder, {
    mode,
    startId: START,
    maxContextTokens: 64,
    maxContextChars: 1024,
    cacheSize: 8,
    encode,
    tokenize: (text) => {
      counter.chars += text.length;
      return tokenize(text, mode);
    },
    ...opts,
  });
  /** The ids a context's state has seen, start token first. */
  const history = async (context: string) => Array.from((await window.get(context).value).state.h);
  /** What feeding the whole context after the start token gives: the documented tokens, straight from the tokenizer. */
  const expected = (context: string) => [START, ...encode(contextTokens(context, mode))];
  return { feeder, window, counter, history, expected, encode };
}

/** The complete tokens of a context: whitespace mode's last line has no <eos> until it ends. */
function contextTokens(context: string, mode: TokenizerMode): string[] {
  const tokens = tokenize(context, mode);
  if (mode === 'whitespace' && tokens[tokens.length - 1] === EOS && !/[\n\r]$/.test(context)) tokens.pop();
  return tokens;
}

/** The document's complete lines. */
const wholeLines = (doc: string) => doc.slice(0, doc.lastIndexOf('\n') + 1);

/** Prose over a few words, single spaces, lines of 3 to 14 words ending in "." and "\n": `tokens` tokens in all. */
function document(tokens: number, seed: number): string {
  const rand = mulberry32(seed);
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'ate', 'fish', 'today'];
  let text = '';
  let n = 0;
  while (n < tokens) {
    const len = 3 + Math.floor(rand() * 12);
    for (let w = 0; w < len && n < tokens; w++, n++) text += (w ? ' ' : '') + words[Math.floor(rand() * words.length)];
    if (n < tokens) (text += '.'), n++;
    if (n < tokens) (text += '\n'), n++;
  }
  return text;
}

// ------------------------------------------------------------------------------------------------

test('typing forward through 5,000 tokens feeds each token once, and each state has seen the whole text', async () => {
  const { feeder, counter, history, expected, window } = setup('text');
  const doc = document(5000, 1);
  assert.equal(tokenize(doc).length, 5000);
  let prevContext = '';
  let maxChars = 0;
  let longestLine = 0;
  for (const line of doc.split('\n')) longestLine = Math.max(longestLine, line.length + 1);
  for (let i = 1; i <= doc.length; i++) {
    const { context } = splitPartialWord(doc.slice(0, i));
    counter.chars = 0;
    const cached = window.get(context);
    await cached.value;
    maxChars = Math.max(maxChars, counter.chars);
    if (context !== prevContext && /\n$/.test(context)) {
      assert.deepEqual(await history(context), expected(context), `state after ${i} characters`);
    }
    prevContext = context;
  }
  // The whole document (its last word was still partial above): 5,000 tokens and the start token. No window
  // boundary re-feeds anything (maxContextTokens is 64).
  assert.deepEqual(await history(doc), expected(doc));
  assert.equal(feeder.fed, 5001);
  // Tokenizing per request: the last line (and the line just finished), never the document.
  assert.ok(maxChars <= 2 * longestLine, `a request tokenized ${maxChars} characters; the longest line has ${longestLine}`);
  assert.deepEqual(window.get(doc).tokens(), tokenize(doc).slice(-64), 'tokens(): the last maxContextTokens');
});

test('a cold start feeds the start token and the last maxContextTokens tokens of the last maxContextChars characters', async () => {
  const { feeder, counter, history, encode } = setup('text');
  const doc = document(5000, 2);
  const h = await history(doc);
  assert.ok(counter.chars <= 1024, `tokenized ${counter.chars} characters`);
  assert.equal(feeder.fed, 65);
  assert.deepEqual(h, [START, ...encode(tokenize(doc).slice(-64))]);

  // Fewer than maxContextTokens tokens in the last maxContextChars characters: those characters, from a line start.
  const small = setup('text', { maxContextChars: 40 });
  const text = 'the cat sat on a mat.\nand ate fish today.\nthe cat.';
  const cut = text.indexOf('\n') + 1; // 22: the last 40 characters start at 10, inside the first line
  assert.deepEqual(await small.history(text), [START, ...small.encode(tokenize(text.slice(cut)))]);
});

test('editing text before the last line misses the cache and starts cold, bounded', async () => {
  const { feeder, history, encode, window } = setup('text');
  const doc = document(3000, 3);
  for (let i = 0; i <= doc.length; i += 7) await window.get(splitPartialWord(doc.slice(0, i)).context).value;
  await window.get(doc).value;
  // "cat" → "dog" on the second line, same length: the text before every anchor differs now.
  const at = doc.indexOf('cat', doc.indexOf('\n') + 1);
  const edited = doc.slice(0, at) + 'dog' + doc.slice(at + 3);
  feeder.fed = 0;
  assert.deepEqual(await history(edited), [START, ...encode(tokenize(edited).slice(-64))]);
  assert.equal(feeder.fed, 65);
  // And typing on from there feeds only the new tokens again.
  feeder.fed = 0;
  await window.get(edited + ' the cat.').value;
  assert.equal(feeder.fed, 3);
});

test('edits inside the last line re-feed at most that line, and keep the state exact', async () => {
  // Unbounded, so the head's cold start is the whole head and every state can be compared with the whole text.
  const { feeder, history, expected, window } = setup('text', { maxContextTokens: 1000, maxContextChars: 100000 });
  const head = wholeLines(document(300, 4));
  await window.get(head).value;
  const line = 'x = 3.';
  await window.get(head + line).value;
  // "3." becomes " 3.14": the tokens of "x = 3." are not a prefix any more. Only that line is re-fed.
  feeder.fed = 0;
  const grown = head + 'x = 3.14;';
  assert.deepEqual(await history(grown), expected(grown));
  assert.ok(feeder.fed <= tokenize('x = 3.14;').length, `fed ${feeder.fed}`);

  // Backspace over two words and type others: the cached context "x =" (or the line start) is reused.
  await window.get(head + 'x = y.foo(bar,').value;
  feeder.fed = 0;
  const retyped = head + 'x = y.baz(';
  assert.deepEqual(await history(retyped), expected(retyped));
  assert.ok(feeder.fed <= tokenize('x = y.baz(').length, `fed ${feeder.fed}`);
});

test('a large paste starts cold rather than feeding more than maxContextTokens new tokens', async () => {
  const { feeder, history, encode, window } = setup('text');
  const doc = wholeLines(document(100, 5));
  await window.get(doc).value;
  feeder.fed = 0;
  const pasted = doc + document(500, 6); // 500 new tokens, about 2,300 characters
  assert.deepEqual(await history(pasted), [START, ...encode(tokenize(pasted).slice(-64))]);
  assert.equal(feeder.fed, 65);
  // Under both bounds, a paste is fed as it is.
  const small = setup('text', { maxContextTokens: 1000, maxContextChars: 100000 });
  await small.window.get(doc).value;
  small.feeder.fed = 0;
  assert.deepEqual(await small.history(pasted), small.expected(pasted));
  assert.equal(small.feeder.fed, tokenize(pasted).length - tokenize(doc).length);
});

test('one huge line: a cold start keeps its last maxContextTokens tokens, and typing on feeds each new token once', async () => {
  const { feeder, counter, history, encode, window } = setup('text');
  const words = document(3000, 7).replace(/\n/g, ' '); // one line
  const h = await history(words);
  assert.ok(counter.chars <= 1024);
  assert.deepEqual(h, [START, ...encode(tokenize(words.slice(words.length - 1024)).slice(-64))]);
  feeder.fed = 0;
  let text = words;
  for (const w of [' and', ' the', ' cat', ' sat', '.']) {
    text += w;
    await window.get(text).value;
  }
  assert.equal(feeder.fed, 5);
  assert.deepEqual(window.get(text).tokens(), tokenize(text).slice(-64));
});

test('random edits at the end, both modes: every state has seen exactly the whole context when nothing bounds it', async () => {
  const alphabet = ['a', 'b', 'cd', ' ', ' ', '\t', '\n', '\r', '\r\n', '.', '1', '3.5', '\u2028', '我', '喜欢', '  '];
  for (const mode of ['text', 'whitespace'] as const) {
    const { history, expected, window } = setup(mode, { maxContextTokens: 100000, maxContextChars: 100000, cacheSize: 4 });
    const rand = mulberry32(mode === 'text' ? 8 : 9);
    let text = '';
    for (let step = 0; step < 1500; step++) {
      const r = rand();
      if (r < 0.2 && text.length > 0) text = text.slice(0, text.length - 1 - Math.floor(rand() * Math.min(6, text.length - 1)));
      else text += alphabet[Math.floor(rand() * alphabet.length)];
      const context = mode === 'text' ? splitPartialWord(text, mode).context : text;
      assert.deepEqual(await history(context), expected(context), `${mode} step ${step}: ${JSON.stringify(context.slice(-20))}`);
    }
    assert.ok(window instanceof ContextWindow);
  }
});

test('whitespace mode: a line ends with <eos> once it ends; a trailing "\\r" may still become "\\r\\n"', async () => {
  const { feeder, history, encode, window } = setup('whitespace');
  assert.deepEqual(await history('the cat '), [START, ...encode(['the', 'cat'])]);
  feeder.fed = 0;
  assert.deepEqual(await history('the cat\r'), [START, ...encode(['the', 'cat', EOS])]);
  assert.equal(feeder.fed, 1, 'only the <eos>');
  feeder.fed = 0;
  assert.deepEqual(await history('the cat\r\nsat '), [START, ...encode(['the', 'cat', EOS, 'sat'])]);
  assert.equal(feeder.fed, 1, '"\\r\\n" is the same line break as "\\r": only "sat"');
  assert.ok(window.get('the cat\r\nsat ').tokens().includes(EOS));
});

test('contexts on several documents, LRU eviction, shared in-flight work, failures not cached', async () => {
  const { feeder, window } = setup('text', { cacheSize: 2 });
  const a = 'first document.\nalpha beta.\n';
  const b = 'second one.\ngamma delta.\n';
  await window.get(a).value;
  await window.get(b).value;
  feeder.fed = 0;
  await window.get(a + 'x').value; // typing on in either document feeds only the new token
  await window.get(b + 'y').value;
  assert.equal(feeder.fed, 2);
  await window.get('third.\n').value; // evicts a + 'x'; "a" itself was evicted before
  feeder.fed = 0;
  await window.get(a + 'x').value;
  assert.equal(feeder.fed, 1 + tokenize(a + 'x').length, 'evicted with its anchor: a cold start');

  // Two requests for one context at once: one feed.
  feeder.fed = 0;
  const [p, q] = [window.get('fourth doc.\n'), window.get('fourth doc.\n')];
  assert.equal(p, q);
  await p.value;
  assert.equal(feeder.calls > 0 && feeder.fed, 1 + tokenize('fourth doc.\n').length);

  // A failed feed rejects, is dropped, and the next request runs again.
  let fail = true;
  const flaky: ContextFeeder = {
    initialState: () => feeder.initialState(),
    advance: (s, ids) => (fail ? Promise.reject(new Error('planned failure')) : feeder.advance(s, ids)),
  };
  const w = new ContextWindow(flaky, { mode: 'text', startId: START, maxContextTokens: 8, maxContextChars: 64, cacheSize: 2, encode: makeEncoder() });
  await assert.rejects(w.get('the cat.').value, /planned failure/);
  await assert.rejects(w.get('the cat. the').value, /planned failure/);
  fail = false;
  assert.equal((await w.get('the cat.').value).state.h.length, 4);
  assert.equal((await w.get('the cat. the').value).state.h.length, 5);
});

test('line starts and cold-start cuts', () => {
  assert.equal(lastLineStart('ab\ncd', 0, 'text'), 3);
  assert.equal(lastLineStart('ab\r\ncd', 0, 'text'), 4);
  assert.equal(lastLineStart('ab\rcd', 0, 'text'), 3);
  assert.equal(lastLineStart('ab\ncd\r', 0, 'text'), 3, 'a final "\\r" may become "\\r\\n"');
  assert.equal(lastLineStart('ab\u2028cd', 0, 'text'), 3);
  assert.equal(lastLineStart('ab\u2028cd', 0, 'whitespace'), 0, 'whitespace mode breaks lines on \\n and \\r only');
  assert.equal(lastLineStart('ab\ncd', 4, 'text'), 4, 'not before from');
  assert.equal(cutStart('abc', 5, 'text'), 0);
  assert.equal(cutStart('aaaa\nbb\ncc', 4, 'text'), 8, 'the first line start in the last 4 characters');
  assert.equal(cutStart('aaaa\nbb\ncc', 6, 'text'), 5, 'the last 6 characters start with a line break');
  assert.equal(cutStart('aaaa\nbb\ncc', 5, 'text'), 5, 'a cut right at a line start');
  assert.equal(cutStart('aaaa\r\nbb', 3, 'text'), 6, '"\\r\\n" is not cut in two');
  assert.equal(cutStart('aaaaaaaa', 3, 'text'), 5, 'one huge line: cut inside it');
});

test('bad options fail with clear messages', () => {
  const base: ContextWindowOptions = { mode: 'text', startId: 1, maxContextTokens: 4, maxContextChars: 16, cacheSize: 2, encode: makeEncoder() };
  const feeder = new HistoryFeeder();
  assert.throws(() => new ContextWindow(feeder, { ...base, maxContextTokens: 0 }), /maxContextTokens must be a positive integer/);
  assert.throws(() => new ContextWindow(feeder, { ...base, cacheSize: 1.5 }), /cacheSize must be a positive integer/);
  assert.throws(() => new ContextWindow(feeder, { ...base, startId: -1 }), /startId must be an integer ≥ 0/);
  assert.throws(() => new ContextWindow(feeder, { ...base, mode: 'bogus' as TokenizerMode }), /unknown tokenizer mode/);
});
