// The completion engine over a real Predictor and a bigram model whose distributions are written out by
// hand: every expected item follows from the table (the derivation is in the comments), and the model
// records every run, so the tests also see how many tokens each keystroke costs.

import test from 'node:test';
import assert from 'node:assert/strict';

import {
  CompletionEngine,
  DEFAULT_COMPLETION_SETTINGS,
  type CompletionOutcome,
  type CompletionPredictor,
  type CompletionRequest,
  type CompletionSettings,
} from '../../../src/core/completion/completion-engine.js';
import { answerQuery, type PredictionQuery } from '../../../src/core/completion/completion-answer.js';
import { Predictor } from '../../../src/core/predict/predictor.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { BigramModel, type BigramTable } from '../../support/bigram-model.js';

// Ids:          0        1     2      3       4        5       6       7      8       9      10   11   12      13   14    15    16
const words = ['<unk>', '\n', 'The', ' cat', ' cart', ' car', ' sat', ' on', ' the', ' mat', '.', ' ', '    ', 'x', ' =', ' y', ';',
  // 17    18   19     20      21      22    23    24     25   26
  'foo', '(', 'bar', ')', 'return', ' x', '我', '喜欢', '你', ':'];
const table: BigramTable = {
  '\n': { The: 0.5, x: 0.2, foo: 0.1, '    ': 0.1 }, // also the start token
  The: { ' cat': 0.5, ' cart': 0.2, ' car': 0.1 },
  ' cat': { ' sat': 0.9 },
  ' cart': { '.': 0.9 },
  ' sat': { ' on': 0.8 },
  ' on': { ' the': 0.7 },
  ' the': { ' mat': 0.6 },
  ' mat': { '.': 0.9 },
  '.': { '\n': 0.9 },
  x: { ' =': 0.9 },
  ' =': { ' y': 0.8 },
  ' y': { ';': 0.9 },
  ';': { '\n': 0.95 },
  foo: { '(': 0.9 },
  '(': { bar: 0.6, ')': 0.3 },
  bar: { ')': 0.9 },
  ')': { ';': 0.8 },
  '    ': { return: 0.7 },
  return: { ' x': 0.6 },
  ' x': { ';': 0.5 },
  我: { 喜欢: 0.8 },
  喜欢: { 你: 0.7 },
  你: { '\n': 0.9 },
  ':': { '<unk>': 0.6 },
};
// ' car' has no row: after it every token has p = 1/V.

const settings: CompletionSettings = { maxWords: 3, minConfidence: 0.3, debounceMs: 0, maxLineLength: 200 };

function setup(opts: { now?: () => number; sleep?: (ms: number, signal: AbortSignal) => Promise<void> } = {}) {
  const vocab = Vocabulary.fromJSON(words);
  const model = new BigramModel(vocab, table);
  let predictor: CompletionPredictor | undefined = new Predictor(model, vocab, 'text');
  const engine = new CompletionEngine({ getPredictor: () => predictor, ...opts });
  return {
    model,
    engine,
    setPredictor: (p: CompletionPredictor | undefined) => (predictor = p),
    newPredictor: () => new Predictor(model, vocab, 'text'),
  };
}

/** A request for a cursor at the end of `textBefore`, with `lineSuffix` after it. */
function request(textBefore: string, extra: Partial<CompletionRequest> = {}): CompletionRequest {
  const lineStart = Math.max(textBefore.lastIndexOf('\n'), textBefore.lastIndexOf('\r')) + 1;
  return { docKey: 'file:///a.txt', textBefore, lineSuffix: '', character: textBefore.length - lineStart, explicit: false, settings, ...extra };
}

const live = () => new AbortController().signal;

function itemsOf(o: CompletionOutcome) {
  assert.equal(o.kind, 'items', `expected items, got ${JSON.stringify(o)}`);
  return o.kind === 'items' ? o.items : [];
}

function reasonOf(o: CompletionOutcome) {
  assert.equal(o.kind, 'skip', `expected a skip, got ${JSON.stringify(o)}`);
  return o.kind === 'skip' ? o.reason : undefined;
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-6, `${what}: ${a} ≠ ${b}`);

// ------------------------------------------------------------------------------------------------
// What the item is: the typed word replaced by the whole word and the next words.

test('the typed word is replaced: "The ca" gives "cat sat on the" over the columns of "ca"', async () => {
  const { engine } = setup();
  const out = await engine.complete(request('The ca'), live());
  // Tokens starting with " ca" after "The": cat .5, cart .2, car .1 → cat at .5/.8; then sat .9, on .8, the .7
  // (maxWords 3 after the typed word). The typed "ca" starts at column 4; the space before it stays.
  const [item, ...more] = itemsOf(out);
  assert.equal(more.length, 0);
  assert.deepEqual({ ...item!, confidence: 0 }, { insertText: 'cat sat on the', startCharacter: 4, endCharacter: 6, confidence: 0 });
  close(item!.confidence, Math.pow(0.625 * 0.9 * 0.8 * 0.7, 1 / 4), 'confidence');
  assert.equal(out.kind === 'items' && out.cached, false);
});

test('the rest of the word: "The car" completes to the more likely "cart." ', async () => {
  const { engine } = setup();
  // " car" .1 and " cart" .2 start with " car": cart; then "." .9; then a line break, where the phrase stops.
  assert.deepEqual(
    itemsOf(await engine.complete(request('The car'), live())).map((i) => [i.insertText, i.startCharacter, i.endCharacter]),
    [['cart.', 4, 7]],
  );
});

test('spacing follows the tokens: "x = y", "x =", "x = ", "foo(", indentation, start of file and of a line, CJK', async () => {
  const { engine } = setup();
  const cases: [string, string, number, number][] = [
    // text before the cursor, insertText, start, end
    ['x = y', 'y;', 4, 5], //            partial " y": only " y" starts with it; then ";" .9; then a line break
    ['x =', ' y;', 3, 3], //             nothing typed: the token " y" brings its own space
    ['x = ', 'y;', 4, 4], //             the space is typed already: " y" minus it
    ['foo(', 'bar);', 4, 4], //          bar .6, ) .9, ; .8
    ['foo\n    ', 'return x;', 4, 4], // indentation is a complete token: return .7, " x" .6, ; .5
    ['', 'The cat sat', 0, 0], //        start of the file: the start token's row, The .5, cat .5, sat .9
    ['x = y;\n', 'The cat sat', 0, 0], // start of a line: the same row
    ['The cat ', 'sat on the', 8, 8], // right after a space: sat, on, the
    ['我喜', '喜欢你', 1, 2], //           the segmenter cuts "我" | "喜": 喜 → 喜欢, then 你 .7, then a line break
  ];
  for (const [text, insertText, start, end] of cases) {
    const got = itemsOf(await engine.complete(request(text, { docKey: `doc:${text}` }), live()));
    assert.deepEqual(
      got.map((i) => [i.insertText, i.startCharacter, i.endCharacter]),
      [[insertText, start, end]],
      `after ${JSON.stringify(text)}`,
    );
    // Replacing [start, end) of the line with insertText keeps what was typed.
    const line = text.slice(text.lastIndexOf('\n') + 1);
    assert.ok(insertText.startsWith(line.slice(start, end)), `after ${JSON.stringify(text)}: the item must begin with the replaced text`);
  }
});

test('nothing to show has a named reason: below threshold, no word with that prefix, unknown word or line break next', async () => {
  const { engine } = setup();
  const strict = { ...settings, minConfidence: 0.9 };
  const below = await engine.complete(request('The ca', { settings: strict }), live());
  assert.equal(reasonOf(below), 'below-threshold'); // cat is .625 among the candidates
  assert.match(below.kind === 'skip' ? below.detail ?? '' : '', /" cat" has p = 0\.625/);
  assert.equal(reasonOf(await engine.complete(request('The zq'), live())), 'no-prediction'); // no token starts with " zq"
  const unk = await engine.complete(request('x:'), live()); // after ":" <unk> is the most likely token
  assert.equal(reasonOf(unk), 'no-prediction');
  assert.match(unk.kind === 'skip' ? unk.detail ?? '' : '', /unknown word/);
  const eol = await engine.complete(request('x = y;'), live()); // after ";" a line break .95
  assert.equal(reasonOf(eol), 'no-prediction');
  assert.match(eol.kind === 'skip' ? eol.detail ?? '' : '', /whitespace/);
  const zero = { ...settings, maxWords: 0 };
  assert.equal(reasonOf(await engine.complete(request('foo(', { settings: zero }), live())), 'no-prediction'); // no word typed, no word wanted
  assert.deepEqual(
    itemsOf(await engine.complete(request('The ca', { settings: zero }), live())).map((i) => i.insertText),
    ['cat'], // maxWords 0 still completes the typed word
  );
});

// ------------------------------------------------------------------------------------------------
// Explicit trigger and the suggest widget.

test('explicit: up to 3 phrases with distinct first words; a word that greedy would lengthen is not repeated', async () => {
  const { engine } = setup();
  // After "The ca": cat, cart, car. "car" alone would be continued greedily as the likelier "cart" (.2 > .1),
  // which is already an alternative, so two remain.
  const typed = itemsOf(await engine.complete(request('The ca', { explicit: true }), live()));
  assert.deepEqual(typed.map((i) => [i.insertText, i.startCharacter, i.endCharacter]), [['cat sat on the', 4, 6], ['cart.', 4, 6]]);
  // After "foo(": bar .6, ")" .3, then the ties at .1/24 go to the lowest id, "The". ")" is a complete
  // token: the phrase continues after it with ";" (.8) and stops at the line break.
  const open = itemsOf(await engine.complete(request('foo(', { explicit: true, docKey: 'other' }), live()));
  assert.deepEqual(open.map((i) => i.insertText), ['bar);', ');', 'The cat sat']);
  assert.ok(open.every((i) => i.startCharacter === 4 && i.endCharacter === 4));
});

test('explicit requests do not wait for the debounce', async () => {
  const slept: number[] = [];
  const { engine } = setup({ sleep: async (ms) => void slept.push(ms) });
  itemsOf(await engine.complete(request('The ca', { explicit: true, settings: { ...settings, debounceMs: 50 } }), live()));
  assert.deepEqual(slept, []);
  itemsOf(await engine.complete(request('The ca', { settings: { ...settings, debounceMs: 50 } }), live()));
  assert.deepEqual(slept, [50]);
});

test('suggest widget open: the item extends the selected text over its range, or nothing is shown', async () => {
  const { engine } = setup();
  // "ca" typed, "cart" selected over [4, 6): " cart" then "." .9, then a line break.
  const sel = itemsOf(await engine.complete(request('The ca', { selected: { startCharacter: 4, endCharacter: 6, text: 'cart' } }), live()));
  assert.deepEqual(sel.map((i) => [i.insertText, i.startCharacter, i.endCharacter]), [['cart.', 4, 6]]);
  // A replace range that covers the rest of the word after the cursor: not "mid-word".
  const replace = itemsOf(
    await engine.complete(request('The ca', { lineSuffix: 't', selected: { startCharacter: 4, endCharacter: 7, text: 'cart' } }), live()),
  );
  assert.deepEqual(replace.map((i) => [i.insertText, i.startCharacter, i.endCharacter]), [['cart.', 4, 7]]);
  // "car" selected: the model would make it "cart", which is not what was selected.
  const mismatch = await engine.complete(request('The ca', { selected: { startCharacter: 4, endCharacter: 6, text: 'car' } }), live());
  assert.equal(reasonOf(mismatch), 'selection-mismatch');
  // A range that does not hold the cursor.
  assert.equal(reasonOf(await engine.complete(request('The ca', { selected: { startCharacter: 0, endCharacter: 3, text: 'The' } }), live())), 'selection-mismatch');
});

// ------------------------------------------------------------------------------------------------
// Answers at once.

test('no model, snoozed, disabled language, long line and mid-word answer without running the model', async () => {
  let clock = 1000;
  const { engine, model, setPredictor, newPredictor } = setup({ now: () => clock });
  setPredictor(undefined);
  assert.equal(reasonOf(await engine.complete(request('The ca'), live())), 'no-model');
  setPredictor(newPredictor());

  engine.snoozeFor(60_000);
  assert.equal(engine.isSnoozed(), true);
  assert.equal(engine.snoozedUntil(), 61_000);
  assert.equal(reasonOf(await engine.complete(request('The ca'), live())), 'snoozed');
  clock += 60_000;
  assert.equal(engine.isSnoozed(), false, 'the snooze ends by itself');
  engine.snooze(clock + 10);
  engine.unsnooze();
  assert.equal(engine.isSnoozed(), false);

  assert.equal(reasonOf(await engine.complete(request('The ca', { settings: { ...settings, enabled: false } }), live())), 'disabled-language');
  // Only on request: an automatic request shows nothing.
  assert.equal(reasonOf(await engine.complete(request('The ca', { settings: { ...settings, trigger: 'onRequest' } }), live())), 'on-request-only');
  // Prose only: code is skipped, a comment in it is not (below).
  assert.equal(reasonOf(await engine.complete(request('let x = ca', { languageId: 'typescript', settings: { ...settings, scope: 'prose' } }), live())), 'not-prose');
  const long = 'x'.repeat(150);
  assert.equal(reasonOf(await engine.complete(request(long, { lineSuffix: 'y'.repeat(51) }), live())), 'long-line'); // 201 > 200
  assert.equal(reasonOf(await engine.complete(request('The ca', { lineSuffix: 't sat' }), live())), 'mid-word');
  assert.equal(reasonOf(await engine.complete(request('The ca', { lineSuffix: '喜' }), live())), 'mid-word');
  assert.equal(model.calls.length, 0, 'no model run for any of these');
  // A non-word character after the cursor does not stop a completion.
  itemsOf(await engine.complete(request('foo(', { lineSuffix: ')' }), live()));
  // Asked for, an on-request engine answers; in a comment, a prose-only one does.
  itemsOf(await engine.complete(request('The ca', { explicit: true, settings: { ...settings, trigger: 'onRequest' } }), live()));
  itemsOf(await engine.complete(request('// The ca', { languageId: 'typescript', settings: { ...settings, scope: 'prose' } }), live()));
});

test('a request that breaks its contract is refused with a message', async () => {
  const { engine, model } = setup();
  const cases: [Partial<CompletionRequest>, RegExp][] = [
    [{ character: 3 }, /last line is longer/],
    [{ textBefore: 'a\nbc', character: 3 }, /last line is shorter/],
    [{ lineSuffix: 'a\nb' }, /line break/],
    [{ settings: { ...settings, minConfidence: 2 } }, /minConfidence/],
    [{ settings: { ...settings, maxWords: 1.5 } }, /maxWords/],
    [{ selected: { startCharacter: 3, endCharacter: 1, text: 'x' } }, /range/],
  ];
  for (const [patch, message] of cases) {
    const out = await engine.complete({ ...request('The ca'), ...patch }, live());
    assert.equal(reasonOf(out), 'invalid-request');
    assert.match(out.kind === 'skip' ? out.detail ?? '' : '', message);
  }
  assert.equal(model.calls.length, 0);
});

// ------------------------------------------------------------------------------------------------
// Debounce, latest wins, cancellation.

/** A sleep the test resolves by hand; it also resolves when its signal aborts. */
function manualSleep() {
  const pending: { ms: number; signal: AbortSignal; resolve: () => void }[] = [];
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      pending.push({ ms, signal, resolve });
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  return { pending, sleep };
}

const tick = () => new Promise((r) => setImmediate(r));

test('debounce: a newer request for the same document supersedes the older one, other documents are untouched', async () => {
  const { pending, sleep } = manualSleep();
  const { engine, model } = setup({ sleep });
  const s = { ...settings, debounceMs: 30 };
  const first = engine.complete(request('The c', { settings: s }), live());
  const otherDoc = engine.complete(request('foo(', { settings: s, docKey: 'file:///b.txt' }), live());
  await tick();
  assert.deepEqual(pending.map((p) => p.ms), [30, 30]);
  const second = engine.complete(request('The ca', { settings: s }), live());
  await tick();
  assert.equal(pending[0]!.signal.aborted, true, 'the older wait ends at once');
  assert.equal(pending[1]!.signal.aborted, false);
  assert.equal(reasonOf(await first), 'superseded');
  assert.equal(model.calls.length, 0, 'the superseded request never ran the model');
  pending[2]!.resolve();
  pending[1]!.resolve();
  assert.deepEqual(itemsOf(await second).map((i) => i.insertText), ['cat sat on the']);
  assert.deepEqual(itemsOf(await otherDoc).map((i) => i.insertText), ['bar);']);
});

test('an aborted signal gives "cancelled", during the debounce or during prediction', async () => {
  const { pending, sleep } = manualSleep();
  const { engine, model } = setup({ sleep });
  const ac = new AbortController();
  const waiting = engine.complete(request('The ca', { settings: { ...settings, debounceMs: 30 } }), ac.signal);
  await tick();
  ac.abort();
  assert.equal(reasonOf(await waiting), 'cancelled');
  assert.equal(pending[0]!.signal.aborted, true);

  let open!: () => void;
  model.gate = new Promise((r) => (open = r));
  const ac2 = new AbortController();
  const predicting = engine.complete(request('The ca', { explicit: true }), ac2.signal);
  await tick();
  assert.equal(model.calls.length, 1, 'the model is running');
  ac2.abort();
  open();
  assert.equal(reasonOf(await predicting), 'cancelled');

  const aborted = new AbortController();
  aborted.abort();
  assert.equal(reasonOf(await engine.complete(request('The ca'), aborted.signal)), 'cancelled');
});

test('a newer request supersedes one that is predicting; a model swapped meanwhile gives "model-changed"', async () => {
  const { engine, model, setPredictor, newPredictor } = setup();
  let open!: () => void;
  model.gate = new Promise((r) => (open = r));
  const older = engine.complete(request('The ca', { explicit: true }), live());
  await tick();
  assert.equal(reasonOf(await engine.complete(request('The ca', { lineSuffix: 't' }), live())), 'mid-word');
  open();
  assert.equal(reasonOf(await older), 'superseded');

  model.gate = new Promise((r) => (open = r));
  const swapped = engine.complete(request('foo(', { explicit: true, docKey: 'b' }), live());
  await tick();
  setPredictor(newPredictor());
  open();
  assert.equal(reasonOf(await swapped), 'model-changed');
});

test('forget() cancels the document\'s request and drops its cache entry', async () => {
  const { engine, model } = setup();
  itemsOf(await engine.complete(request('The ca'), live()));
  engine.forget('file:///a.txt');
  const again = await engine.complete(request('The cat'), live());
  assert.equal(again.kind === 'items' && again.cached, false, 'the cache entry is gone');

  let open!: () => void;
  model.gate = new Promise((r) => (open = r));
  const pendingReq = engine.complete(request('foo(', { explicit: true }), live());
  await tick();
  engine.forget('file:///a.txt');
  open();
  const out = await pendingReq;
  assert.equal(reasonOf(out), 'cancelled');
});

test('a failing model gives "error" with its message', async () => {
  const { engine, model } = setup();
  model.failure = new Error('session lost');
  const out = await engine.complete(request('The ca'), live());
  assert.equal(reasonOf(out), 'error');
  assert.match(out.kind === 'skip' ? out.detail ?? '' : '', /session lost/);
});

test('a predictor that answers whole queries (another process) is asked once per request, and its answers are those of the calls', async () => {
  const { engine, newPredictor, setPredictor } = setup();
  const local = newPredictor();
  const queries: PredictionQuery[] = [];
  let gate: Promise<void> | undefined;
  let failure: Error | undefined;
  const whole: CompletionPredictor = {
    contextState: () => assert.fail('contextState is not asked for'),
    topK: () => assert.fail('topK is not asked for'),
    continuePhrase: () => assert.fail('continuePhrase is not asked for'),
    answer: async (q) => {
      queries.push(q);
      await gate;
      if (failure) throw failure;
      return answerQuery(local, q);
    },
  };
  setPredictor(whole);
  const selected = { startCharacter: 4, endCharacter: 6, text: 'cart' };
  const cases: [string, CompletionRequest][] = [
    ['a phrase', request('The ca')],
    ['alternatives', request('The ca', { explicit: true, docKey: 'b' })],
    ['below the threshold', request('The car', { docKey: 'c', settings: { ...settings, minConfidence: 0.99 } })],
    ['the selected item', request('The ca', { docKey: 'd', selected })],
  ];
  const viaCalls = setup().engine;
  for (const [what, req] of cases) {
    const before = queries.length;
    const [a, b] = [await engine.complete(req, live()), await viaCalls.complete(req, live())];
    assert.deepEqual({ ...a, latencyMs: 0 }, { ...b, latencyMs: 0 }, what);
    assert.equal(queries.length, before + 1, `${what}: one call`);
    const { textBefore, character, explicit, settings: s } = req;
    assert.deepEqual(queries.at(-1), { textBefore, character, explicit, maxWords: s.maxWords, minConfidence: s.minConfidence, ...(req.selected ? { selected } : {}) });
  }
  // Typing on through the ghost text is answered from the cache, without a call.
  const cached = await engine.complete(request('The cat'), live());
  assert.equal(cached.kind === 'items' && cached.cached, true);
  assert.equal(queries.length, cases.length);

  // Superseded, changed model, failure: as with a predictor in this thread.
  let open!: () => void;
  gate = new Promise((r) => (open = r));
  const older = engine.complete(request('The sat', { docKey: 'e' }), live());
  await tick();
  const newer = engine.complete(request('The sat ', { docKey: 'e' }), live());
  await tick();
  open();
  assert.equal(reasonOf(await older), 'superseded');
  itemsOf(await newer);
  gate = new Promise((r) => (open = r));
  const swapped = engine.complete(request('foo(', { docKey: 'f' }), live());
  await tick();
  setPredictor(newPredictor());
  open();
  assert.equal(reasonOf(await swapped), 'model-changed');
  // A superseded request does not wait for an answer that is slow to come: the call's signal is aborted.
  setPredictor({ ...whole, answer: (_q, signal) => new Promise((_, reject) => signal!.addEventListener('abort', () => reject(new Error('aborted')))) });
  const hanging = engine.complete(request('The c', { docKey: 'h' }), live());
  await tick();
  assert.equal(reasonOf(await engine.complete(request('The c', { docKey: 'h', lineSuffix: 'x' }), live())), 'mid-word');
  assert.equal(reasonOf(await hanging), 'superseded');
  setPredictor(whole);
  gate = undefined;
  failure = new Error('the n-gram server exited (code null)');
  const failed = await engine.complete(request('foo(', { docKey: 'g' }), live());
  assert.equal(reasonOf(failed), 'error');
  assert.match(failed.kind === 'skip' ? failed.detail ?? '' : '', /server exited/);
});

// ------------------------------------------------------------------------------------------------
// Caches: type-through, and the predictor's per-context states.

test('typing what the ghost text shows is answered from the cache without the model', async () => {
  const { engine, model } = setup();
  itemsOf(await engine.complete(request('The ca'), live())); // "cat sat on the" over [4, 6)
  const runs = model.calls.length;
  for (const typed of ['The cat', 'The cat s', 'The cat sat on']) {
    const out = await engine.complete(request(typed), live());
    assert.equal(out.kind === 'items' && out.cached, true, `after ${JSON.stringify(typed)}`);
    assert.deepEqual(itemsOf(out).map((i) => [i.insertText, i.startCharacter, i.endCharacter]), [['cat sat on the', 4, typed.length]]);
  }
  assert.equal(model.calls.length, runs, 'no model run while typing through');

  // Typing something else, or the whole suggestion, needs the model again.
  const other = await engine.complete(request('The cab'), live());
  assert.equal(other.kind === 'items' && other.cached, false);
  itemsOf(await engine.complete(request('The ca'), live()));
  const done = await engine.complete(request('The cat sat on the'), live());
  assert.equal(done.kind === 'items' && done.cached, false);
  // A different suffix after the cursor is a different place.
  itemsOf(await engine.complete(request('The ca'), live()));
  const moved = await engine.complete(request('The cat', { lineSuffix: ')' }), live());
  assert.equal(moved.kind === 'items' && moved.cached, false);
});

test('the cache keeps the alternatives an explicit request showed, and never answers for another model', async () => {
  const { engine, setPredictor, newPredictor } = setup();
  itemsOf(await engine.complete(request('The ca', { explicit: true }), live())); // cat sat on the | cart.
  const both = await engine.complete(request('The ca', { explicit: true, textBefore: 'The c', character: 5 }), live());
  assert.equal(both.kind === 'items' && both.cached, false, 'deleting is not typing through');
  itemsOf(await engine.complete(request('The ca', { explicit: true }), live()));
  const t = await engine.complete(request('The cat'), live());
  assert.equal(t.kind === 'items' && t.cached, true);
  assert.deepEqual(itemsOf(t).map((i) => i.insertText), ['cat sat on the'], 'only the alternatives that match what was typed');
  // An implicit answer does not serve an explicit request (which wants alternatives).
  itemsOf(await engine.complete(request('The ca', { docKey: 'implicit' }), live()));
  const ex = await engine.complete(request('The cat', { explicit: true, docKey: 'implicit' }), live());
  assert.equal(ex.kind === 'items' && ex.cached, false);
  // A new model: the entry does not answer.
  itemsOf(await engine.complete(request('The ca'), live()));
  setPredictor(newPredictor());
  const fresh = await engine.complete(request('The cat'), live());
  assert.equal(fresh.kind === 'items' && fresh.cached, false);
});

test('consecutive keystrokes hit the predictor\'s context cache: a letter runs no token, a new word runs only itself', async () => {
  const { engine, model } = setup();
  const id = (w: string) => words.indexOf(w);
  const only = { ...settings, maxWords: 0 }; // complete the word only: no phrase steps to count
  itemsOf(await engine.complete(request('The ca', { settings: only }), live()));
  assert.deepEqual(model.calls, [[id('\n'), id('The')]], 'the start token and the context "The"');
  model.calls.length = 0;
  // "r" is not what the ghost text showed ("t"), so the predictor answers, from its cached context.
  assert.deepEqual(itemsOf(await engine.complete(request('The car', { settings: only }), live())).map((i) => i.insertText), ['cart']);
  assert.equal(model.tokensRun, 0, 'one more letter inside the word runs nothing');
  itemsOf(await engine.complete(request('The car s', { settings: only }), live()));
  assert.deepEqual(model.calls, [[id(' car')]], 'the new word " car" runs alone');
  model.calls.length = 0;
  // With phrases, the context still advances by the new token only; the rest are single-token phrase steps.
  itemsOf(await engine.complete(request('The car sat o'), live()));
  assert.deepEqual(model.calls[0], [id(' sat')]);
  assert.ok(model.calls.slice(1).every((c) => c.length === 1), 'phrase steps run one token each');
});

// ------------------------------------------------------------------------------------------------
// Statistics.

test('stats count outcomes by reason and give latency percentiles on the engine\'s clock', async () => {
  let clock = 0;
  // The sleep advances the clock by the debounce; prediction takes no time on this clock.
  const { engine } = setup({ now: () => clock, sleep: async (ms) => void (clock += ms) });
  const s = { ...settings, debounceMs: 20 };
  for (let i = 0; i < 3; i++) itemsOf(await engine.complete(request('The ca', { settings: s, docKey: `d${i}` }), live()));
  assert.equal(reasonOf(await engine.complete(request('The ca', { lineSuffix: 't' }), live())), 'mid-word');
  assert.equal(reasonOf(await engine.complete(request('The zq', { settings: s }), live())), 'no-prediction');
  itemsOf(await engine.complete(request('The cat', { settings: s, docKey: 'd0' }), live())); // cached: no debounce
  const st = engine.stats();
  assert.equal(st.requests, 6);
  assert.equal(st.shown, 4);
  assert.equal(st.cached, 1);
  assert.deepEqual(st.skipped, { 'mid-word': 1, 'no-prediction': 1 });
  // Latencies of the shown: 20, 20, 20 (debounced) and 0 (cached) → p50 20, max 20.
  assert.deepEqual(st.latency, { count: 4, p50: 20, p99: 20, max: 20 });
  // Four requests reached the predictor (three shown, one no-prediction), in no time on this clock.
  assert.deepEqual(st.predict, { count: 4, p50: 0, p99: 0, max: 0 });
  engine.resetStats();
  assert.equal(engine.stats().requests, 0);
});

test('the default settings are the extension\'s (package.json), which nextword eval simulates typing with', async () => {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(`${__dirname}/../../../package.json`, 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { default: unknown }> } };
  };
  const props = pkg.contributes.configuration.properties;
  for (const [key, value] of Object.entries(DEFAULT_COMPLETION_SETTINGS)) {
    assert.equal(props[`nextword.completion.${key}`]?.default, value, `nextword.completion.${key}`);
  }
});

/** An engine whose model is still loading: `ready(p)` ends the load with `p` (undefined: no model could load). */
function loadingSetup(opts: { now?: () => number } = {}) {
  const vocab = Vocabulary.fromJSON(words);
  const model = new BigramModel(vocab, table);
  let predictor: CompletionPredictor | undefined;
  const waiting = new Set<() => void>();
  let waits = 0;
  const engine = new CompletionEngine({
    getPredictor: () => predictor,
    waitForPredictor: (signal) =>
      new Promise((resolve) => {
        waits++;
        const done = () => {
          waiting.delete(done);
          resolve(predictor);
        };
        waiting.add(done);
        signal.addEventListener('abort', done, { once: true });
      }),
    ...opts,
  });
  return {
    engine,
    model,
    waits: () => waits,
    ready: (p: CompletionPredictor | undefined) => {
      predictor = p;
      for (const done of [...waiting]) done();
    },
    predictor: () => new Predictor(model, vocab, 'text'),
  };
}

test('a request made while the model loads waits for it and is answered by it; the wait is not counted as latency', async () => {
  let clock = 0;
  const { engine, ready, predictor, waits } = loadingSetup({ now: () => clock });
  const pending = engine.complete(request('The ca'), live());
  await new Promise((r) => setImmediate(r));
  clock += 2500; // the model takes 2.5 s to load
  ready(predictor());
  const outcome = await pending;
  assert.deepEqual(itemsOf(outcome).map((i) => i.insertText), ['cat sat on the']);
  assert.equal(outcome.latencyMs, 0, 'the 2.5 s spent loading the model are not the request\'s latency');
  assert.equal(engine.stats().latency.max, 0);
  assert.equal(engine.stats().waitedForModel, 1);
  // Once loaded, requests do not wait.
  assert.deepEqual(itemsOf(await engine.complete(request('x ='), live())).map((i) => i.insertText), [' y;']);
  assert.equal(waits(), 1);
});

test('a request waiting for the model is superseded by the next key or cancelled like any other, and no model at all is "no-model"', async () => {
  const { engine, ready, predictor, waits } = loadingSetup();
  const first = engine.complete(request('The c'), live());
  const second = engine.complete(request('The ca'), live());
  assert.equal(reasonOf(await first), 'superseded', 'the next key ends the wait of the one before');
  const controller = new AbortController();
  const other = engine.complete(request('x', { docKey: 'file:///b.txt' }), controller.signal);
  controller.abort();
  assert.equal(reasonOf(await other), 'cancelled');
  ready(predictor());
  assert.deepEqual(itemsOf(await second).map((i) => i.insertText), ['cat sat on the']);
  assert.equal(waits(), 3);
  assert.equal(engine.stats().waitedForModel, 1, 'only the request that went on with the model');

  // A load that ends without a model: the waiting request says so.
  const none = loadingSetup();
  const pending = none.engine.complete(request('The ca'), live());
  await new Promise((r) => setImmediate(r));
  none.ready(undefined);
  assert.equal(reasonOf(await pending), 'no-model');
  assert.equal(none.engine.stats().waitedForModel, 0);
});

test('prepare reads the context at a cursor ahead: the request there then runs only what was typed after it; snoozed, without a model or with a failing one it does nothing and never rejects', async () => {
  const text = 'The cat sat on the mat. The cat sat on the';
  const cold = setup();
  await cold.engine.complete(request(`${text} c`), live());
  const coldTokens = cold.model.tokensRun;

  const { engine, model, setPredictor } = setup();
  await engine.prepare(text);
  const prepared = model.tokensRun;
  assert.ok(prepared > 0, 'prepare ran the model over the context');
  const outcome = await engine.complete(request(`${text} c`), live());
  assert.deepEqual(itemsOf(outcome), itemsOf(await cold.engine.complete(request(`${text} c`), live())), 'the same answer');
  assert.ok(model.tokensRun - prepared < coldTokens, `the request ran ${model.tokensRun - prepared} tokens, cold ${coldTokens}`);
  assert.equal(engine.stats().prepared, 1);
  assert.equal(engine.stats().requests, 1, 'a prepare is not a request');

  const before = model.tokensRun;
  engine.snoozeFor(60_000);
  await engine.prepare('A different text altogether');
  engine.unsnooze();
  setPredictor(undefined);
  await engine.prepare('A different text altogether');
  assert.equal(model.tokensRun, before, 'nothing ran while snoozed or without a model');
  setPredictor({ contextState: () => Promise.reject(new Error('broken')), topK: () => Promise.reject(new Error('broken')), continuePhrase: () => Promise.reject(new Error('broken')) });
  await engine.prepare('Anything');
  assert.equal(engine.stats().prepared, 2);
});
