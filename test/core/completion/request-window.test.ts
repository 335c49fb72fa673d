import assert from 'node:assert/strict';
import test from 'node:test';
import { DEFAULT_COMPLETION_SETTINGS, type CompletionEngine, type CompletionRequest } from '../../../src/core/completion/completion-engine.js';
import { EngineCompleter } from '../../../src/core/completion/keystroke-savings.js';
import { GrowingDocument, WINDOW_CHARS, WINDOW_LINES, WINDOW_STEP, windowStartLine } from '../../../src/core/completion/request-window.js';
import { mulberry32 } from '../../../src/core/support/random.js';

/** charsBetween for lines of the given lengths, each with a one-character line break. */
const lines = (length: (line: number) => number) => (from: number, to: number) => {
  let chars = 0;
  for (let i = from; i < to; i++) chars += length(i) + 1;
  return chars;
};
const short = lines(() => 40);

test('a document of up to WINDOW_LINES lines above the cursor is carried whole', () => {
  for (const line of [0, 1, 10, WINDOW_LINES - 1, WINDOW_LINES, WINDOW_LINES + WINDOW_STEP - 1]) assert.equal(windowStartLine(line, short), 0, `line ${line}`);
});

test('further down, the start is a multiple of WINDOW_STEP with at least WINDOW_LINES lines above the cursor, and moves only every WINDOW_STEP lines', () => {
  let moves = 0;
  let previous = 0;
  for (let line = 0; line < 20_000; line++) {
    const start = windowStartLine(line, short);
    assert.equal(start % WINDOW_STEP, 0, `line ${line}`);
    assert.ok(line - start >= Math.min(line, WINDOW_LINES), `line ${line}: ${line - start} lines above`);
    assert.ok(line - start < WINDOW_LINES + WINDOW_STEP, `line ${line}: ${line - start} lines above`);
    assert.ok(start >= previous, 'the start never moves back as the cursor moves down');
    if (start !== previous) moves++;
    previous = start;
  }
  assert.equal(moves, Math.floor((20_000 - 1 - WINDOW_LINES) / WINDOW_STEP), 'one move per WINDOW_STEP lines');
});

test('long lines above move the start down by steps until the window fits WINDOW_CHARS', () => {
  const line = 5000;
  const long = 2000; // 1,000 lines of 2,000 characters: 2 MB
  const start = windowStartLine(line, lines(() => long));
  assert.equal(start % WINDOW_STEP, 0);
  const chars = (line - start) * (long + 1);
  assert.ok(chars <= WINDOW_CHARS, `${chars} characters`);
  assert.ok(chars + WINDOW_STEP * (long + 1) > WINDOW_CHARS, 'no further down than needed');
});

test('a window that no step can fit starts at the cursor\'s line', () => {
  // One line of 1 MB just above the cursor (a minified bundle pasted into the document).
  const line = 4321;
  assert.equal(windowStartLine(line, lines((i) => (i === line - 1 ? 1_000_000 : 40))), line);
  assert.equal(windowStartLine(3, lines((i) => (i === 2 ? 1_000_000 : 40))), 3);
});

test('the start stays put as the cursor\'s own line grows, and only its lines above are counted', () => {
  const lengths = new Map<number, number>();
  const at = lines((i) => lengths.get(i) ?? 40);
  const line = 3000;
  const before = windowStartLine(line, at);
  lengths.set(line, 100_000);
  assert.equal(windowStartLine(line, at), before);
});

test('refuses a line that is not a line', () => {
  assert.throws(() => windowStartLine(-1, short), RangeError);
  assert.throws(() => windowStartLine(1.5, short), RangeError);
});

/** The window start offset computed from the whole text, as the editor would from its lines. */
function wholeWindowStart(text: string): number {
  const starts = [0];
  const breaks = /\r\n|\r|\n/g;
  for (let m = breaks.exec(text); m; m = breaks.exec(text)) starts.push(m.index + m[0].length);
  return starts[windowStartLine(starts.length - 1, (from, to) => starts[to]! - starts[from]!)]!;
}

test('a growing document finds the same window as the whole text does, fed a few characters at a time, line breaks of every kind', () => {
  const rand = mulberry32(3);
  const pieces = ['word ', 'x', '\n', '\r\n', '\r', 'a much longer piece of a line than the others, '.repeat(20)];
  let text = '';
  while (text.length < 400_000) text += pieces[Math.floor(rand() * pieces.length)];
  const doc = new GrowingDocument();
  let pos = 0;
  let checked = 0;
  while (pos < text.length) {
    // Sometimes one character (a "\r\n" split between two calls included), sometimes a run (an accepted ghost text).
    pos = Math.min(text.length, pos + (rand() < 0.5 ? 1 : 1 + Math.floor(rand() * 3000)));
    const prefix = text.slice(0, pos);
    assert.equal(doc.windowStart(prefix), wholeWindowStart(prefix), `at ${pos}`);
    checked++;
  }
  assert.ok(wholeWindowStart(text) > 0, 'the text is long enough for the window to move');
  // A shorter text starts over.
  assert.equal(doc.windowStart('a\nb'), 0);
  assert.ok(checked > 100);
});

test('the simulated typist\'s requests carry the window, as the editor\'s do', async () => {
  const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} of the document`);
  const text = `${lines.join('\n')}\n`;
  const seen: CompletionRequest[] = [];
  const engine = {
    complete: async (req: CompletionRequest) => {
      seen.push(req);
      return { kind: 'skip', reason: 'no-model', latencyMs: 0 };
    },
    forget: () => undefined,
  } as unknown as CompletionEngine;
  const completer = new EngineCompleter(engine, { ...DEFAULT_COMPLETION_SETTINGS });
  for (const pos of [10, text.length - 5, text.length]) await completer.suggest(text.slice(0, pos), new AbortController().signal);
  assert.equal(seen[0]!.textBefore, text.slice(0, 10), 'near the start: all of it');
  const start = windowStartLine(2999, () => 0);
  assert.ok(start > 0);
  assert.equal(seen[1]!.textBefore, text.slice(text.indexOf(`line ${start} of`), text.length - 5));
  assert.equal(seen[1]!.character, `line 2999 of the document`.length - 4);
  assert.equal(seen[2]!.textBefore, text.slice(text.indexOf(`line ${windowStartLine(3000, () => 0)} of`)));
  assert.equal(seen[2]!.character, 0);
});
