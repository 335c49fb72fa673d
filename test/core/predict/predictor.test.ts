// The predictor against a bigram model whose distributions are written out by hand (so expectations come
// from the table, not from the code), against the float64 reference model (expectations from its own
// log-probabilities, run directly), and against a model whose state lists every id it was fed (so a test
// reads off what a context's state has seen, and how many times each token ran).
//
// Shapes: V vocabulary, n ids.

import test from 'node:test';
import assert from 'node:assert/strict';

import type { LanguageModel, RecurrentState } from '../../../src/core/model/language-model.js';
import { parameterCount, type ModelConfig } from '../../../src/core/model/model-config.js';
import { Predictor, type PredictorOptions } from '../../../src/core/predict/predictor.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import { ReferenceLanguageModel } from '../../support/reference-model.js';
import { splitPartialWord, tokenize, type TokenizerMode } from '../../../src/core/text/tokenizer.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { BigramModel, type BigramTable } from '../../support/bigram-model.js';

// A bigram model (shared with the completion tests): the next-token distribution depends only on the last
// id fed, so feeding ids in one run or several gives bit-identical results, and every probability is known.

// Text mode. Ids:     0        1     2      3       4       5        6       7      8       9      10   11    12      13      14
const textWords = ['<unk>', '\n', 'The', ' cat', ' car', ' cart', ' sat', ' on', ' the', ' mat', '.', ' ', '    ', ' dog', '\r\n'];
const textTable: BigramTable = {
  // After the start token "\n" (and after a line break): <unk> is the single most likely token.
  '\n': { '<unk>': 0.4, The: 0.3, ' cat': 0.1, '    ': 0.08 },
  The: { '<unk>': 0.3, ' cat': 0.25, ' car': 0.15, ' cart': 0.05, ' dog': 0.1, ' ': 0.1 },
  ' cat': { ' sat': 0.9 },
  ' sat': { ' on': 0.8 },
  ' on': { ' the': 0.7 },
  ' the': { ' mat': 0.6 },
  ' mat': { '.': 0.9 },
  // A Windows line break, so a phrase can cross a line (after "\n" the greedy pick would be <unk>).
  '.': { '\r\n': 0.95 },
  '\r\n': { The: 0.9 },
};

function textSetup(opts: PredictorOptions = {}) {
  const vocab = Vocabulary.fromJSON(textWords);
  const model = new BigramModel(vocab, textTable);
  return { vocab, model, predictor: new Predictor(model, vocab, 'text', opts) };
}

const close = (actual: number, expected: number, what: string, tol = 1e-6) =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);

// ------------------------------------------------------------------------------------------------
// topK

test('topK with nothing typed: best first, <unk> and whitespace never suggested, probs renormalised over the rest', async () => {
  const { predictor, model } = textSetup();
  const got = await predictor.topK('', 3);
  // Start row: <unk> .4 (excluded though the most likely), The .3, ' cat' .1, '    ' .08 (whitespace), and
  // .12 / 11 for each of the 11 others, of which '\n', '\r\n' and ' ' are whitespace: ties go to the lower
  // id, ' car'.
  assert.deepEqual(got.map((s) => s.token), ['The', ' cat', ' car']);
  const suggestible = 0.3 + 0.1 + (8 * 0.12) / 11;
  const raw = [0.3, 0.1, 0.12 / 11];
  got.forEach((s, i) => {
    close(s.rawProb, raw[i]!, `rawProb ${s.token}`);
    close(s.prob, raw[i]! / suggestible, `prob ${s.token}`);
    close(s.logProb, Math.log(raw[i]!), `logProb ${s.token}`);
    assert.equal(s.text, s.token, 'nothing typed: the whole token is inserted');
    assert.equal(s.id, model.vocab.id(s.token));
  });
  assert.ok(got.reduce((a, s) => a + s.rawProb, 0) <= 1);

  // All of them: every suggestible token once, probs summing to 1, never <unk> or whitespace.
  const all = await predictor.topK('', 100);
  assert.equal(all.length, textWords.length - 5);
  close(all.reduce((a, s) => a + s.prob, 0), 1, 'sum of probs');
  for (const s of all) assert.ok(!['<unk>', '\n', '\r\n', ' ', '    '].includes(s.token), s.token);
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.logProb >= all[i]!.logProb, 'sorted');

  // Whitespace on request (still no <unk>): the indentation token comes third.
  const ws = await predictor.topK('', 3, { includeWhitespace: true });
  assert.deepEqual(ws.map((s) => s.token), ['The', ' cat', '    ']);
  close(ws[0]!.prob, 0.3 / (1 - 0.4), 'renormalised without <unk> only');
  assert.equal((await predictor.topK('', 100, { includeWhitespace: true })).some((s) => s.token === '<unk>'), false);
});

test('topK with a partial word: only tokens that start with it, renormalised over them', async () => {
  const { predictor } = textSetup();
  const got = await predictor.topK('The ca', 5);
  assert.deepEqual(got.map((s) => [s.token, s.text]), [[' cat', 't'], [' car', 'r'], [' cart', 'rt']]);
  const sum = 0.25 + 0.15 + 0.05;
  close(got[0]!.prob, 0.25 / sum, 'prob cat');
  close(got[1]!.prob, 0.15 / sum, 'prob car');
  close(got[2]!.prob, 0.05 / sum, 'prob cart');
  close(got[2]!.rawProb, 0.05, 'raw prob cart');
  close(got.reduce((a, s) => a + s.prob, 0), 1, 'renormalised sum');

  assert.deepEqual((await predictor.topK('The ca', 1)).map((s) => s.token), [' cat']);
  assert.deepEqual(await predictor.topK('The zz', 5), [], 'nothing starts with " zz"');
  assert.deepEqual(await predictor.topK('The ca', 0), []);

  // A trailing space is the start of the next token: tokens with a leading space, minus the space.
  const spaced = await predictor.topK('The ', 20);
  assert.deepEqual(spaced.slice(0, 3).map((s) => [s.token, s.text]), [[' cat', 'cat'], [' car', 'car'], [' dog', 'dog']]);
  assert.equal(spaced.length, 8, 'the 8 word tokens with a leading space');
  close(spaced.reduce((a, s) => a + s.prob, 0), 1, 'renormalised sum');
  close(spaced[0]!.prob, 0.25 / (0.55 + (4 * 0.05) / 9), 'prob cat');
  const withBlank = await predictor.topK('The ', 20, { includeWhitespace: true });
  const blank = withBlank.find((s) => s.token === ' ');
  assert.ok(blank, 'the whitespace token " " starts with " "');
  assert.equal(blank.text, '');
  close(blank.prob, 0.1 / (0.55 + (5 * 0.05) / 9 + 0.1), 'blank prob'); // '    ' is a candidate too
});

test('topK equals a full sort of the reference model\'s own log-probabilities', async () => {
  const { model, vocab } = referenceSetup('text');
  const predictor = new Predictor(model, vocab, 'text');
  for (const text of ['', 'the qu', 'a b ', 'x = y.', 'foo(bar, b', 'the end.\n']) {
    const got = await predictor.topK(text, 4);
    // Independent: the documented feeding (start token "\n", then the complete tokens), then sort everything.
    const { context, partial } = splitPartialWord(text, 'text');
    const ids = Int32Array.from([vocab.id('\n'), ...vocab.encode(tokenize(context, 'text'))]);
    const { logProbs } = await model.run(ids, model.initialState());
    const row = logProbs.subarray((ids.length - 1) * vocab.size);
    const candidates = vocab
      .toJSON()
      .map((w, id) => ({ w, id, lp: row[id]! }))
      .filter(({ w, id }) => id !== 0 && w.trim() !== '' && w.startsWith(partial));
    const z = candidates.reduce((a, c) => a + Math.exp(c.lp), 0);
    candidates.sort((a, b) => b.lp - a.lp || a.id - b.id);
    assert.deepEqual(got.map((s) => s.token), candidates.slice(0, 4).map((c) => c.w), `order for ${JSON.stringify(text)}`);
    got.forEach((s, i) => {
      assert.equal(s.logProb, candidates[i]!.lp, 'logProb is the model\'s');
      close(s.prob, Math.exp(candidates[i]!.lp) / z, 'renormalised prob');
    });
    assert.ok(got.reduce((a, s) => a + s.rawProb, 0) <= 1 + 1e-9);
  }
});

// ------------------------------------------------------------------------------------------------
// continuePhrase

test('continuePhrase: greedy, completes the partial, stops at the geometric-mean threshold', async () => {
  const { predictor } = textSetup();
  // " cat" is fully typed: its conditional probability among tokens starting with " cat" is 1. Then
  // sat .9, on .8, the .7, mat .6: means 1, .949, .896, .504^(1/4) = .843, .3024^(1/5) = .787.
  const p = await predictor.continuePhrase('The cat', { maxWords: 10, minProb: 0.8, stopAtNewline: true });
  assert.deepEqual(p.tokens, [' cat', ' sat', ' on', ' the']);
  assert.equal(p.text, ' sat on the');
  [1, 0.9, 0.8, 0.7].forEach((q, i) => close(p.probs[i]!, q, `prob ${i}`));
  close(p.meanProb, 0.504 ** 0.25, 'meanProb');

  // A partial completed by its best match, with the probability among the matches: .25 / .45.
  const q = await predictor.continuePhrase('The ca', { maxWords: 2, minProb: 0.5, stopAtNewline: true });
  assert.deepEqual(q.tokens, [' cat', ' sat']);
  assert.equal(q.text, 't sat');
  close(q.probs[0]!, 0.25 / 0.45, 'conditional prob of the completion');
  close(q.meanProb, Math.sqrt((0.25 / 0.45) * 0.9), 'meanProb');

  // Below the threshold from the first token: nothing.
  assert.deepEqual(await predictor.continuePhrase('The ca', { maxWords: 5, minProb: 0.6, stopAtNewline: true }), {
    text: '',
    tokens: [],
    probs: [],
    meanProb: 0,
  });
  assert.equal((await predictor.continuePhrase('The zz', { maxWords: 5, minProb: 0, stopAtNewline: true })).text, '');
});

test('continuePhrase: maxWords, newlines, <unk> and trailing whitespace', async () => {
  const { predictor } = textSetup();
  const opts = { minProb: 0, stopAtNewline: true };
  assert.equal((await predictor.continuePhrase('The cat', { ...opts, maxWords: 3 })).text, ' sat on');
  assert.equal((await predictor.continuePhrase('The cat', { ...opts, maxWords: 1 })).text, '');
  assert.deepEqual((await predictor.continuePhrase('The cat', { ...opts, maxWords: 0 })).tokens, []);
  // Stops before the line break after "."
  assert.equal((await predictor.continuePhrase('The cat', { ...opts, maxWords: 20 })).text, ' sat on the mat.');
  // Across it otherwise; after "The" the greedy pick is <unk>, where it stops.
  const across = await predictor.continuePhrase('The cat', { ...opts, maxWords: 20, stopAtNewline: false });
  assert.equal(across.text, ' sat on the mat.\r\nThe');
  assert.equal(across.tokens.length, 8);
  // A phrase cut right after the line break does not end in it.
  const cut = await predictor.continuePhrase('The cat', { ...opts, maxWords: 7, stopAtNewline: false });
  assert.deepEqual(cut.tokens, [' cat', ' sat', ' on', ' the', ' mat', '.']);
  close(cut.meanProb, (0.9 * 0.8 * 0.7 * 0.6 * 0.9) ** (1 / 6), 'meanProb over the kept tokens');
  // After "." the most likely next token is the line break: no phrase.
  assert.equal((await predictor.continuePhrase('The.', { ...opts, maxWords: 5 })).text, '');
});

test('continuePhrase: the document\'s own unknown words stand for <unk>, with <unk>\'s probability times their Pitman–Yor share', async () => {
  const { predictor } = textSetup();
  // The text ends in "The", a word being typed: the phrase completes it (the first token), then goes on.
  const opts = { minProb: 0, stopAtNewline: true, maxWords: 2 };
  // After "The" the table gives <unk> 0.3, " cat" 0.25. The document's one unknown word, seen 9 times, takes
  // <unk>'s place: its share is (9 − 0.5) / (9 + 1) = 0.85, and 0.3 · 0.85 = 0.255 > 0.25.
  const nine = await predictor.continuePhrase('The zorblax.\r\n'.repeat(9) + 'The', opts);
  assert.deepEqual(nine.tokens, ['The', ' zorblax']);
  assert.equal(nine.text, ' zorblax');
  close(nine.probs[1]!, 0.3 * 0.85, 'p(<unk>) · (9 − 0.5)/(9 + 1)');
  // Seen once, a word is little evidence of the next unknown one: 0.3 · (1 − 0.5)/(1 + 1) = 0.075 < 0.25.
  const once = await predictor.continuePhrase('The zorblax.\r\nThe', opts);
  assert.deepEqual(once.tokens, ['The', ' cat']);
  // Two unknown words, " quux" twice: 0.3 · (2 − 0.5)/(3 + 1) = 0.1125 < 0.25, so the known " cat" wins.
  const two = await predictor.continuePhrase('The zorblax.\r\nThe quux.\r\nThe quux.\r\nThe', opts);
  assert.deepEqual(two.tokens, ['The', ' cat']);
  // Typing a word that only the document knows completes it; its probability among the candidates is 1.
  const typed = await predictor.continuePhrase('The zorblax.\r\nThe zo', { ...opts, maxWords: 1 });
  assert.deepEqual(typed.tokens, [' zorblax']);
  assert.equal(typed.text, 'rblax');
  close(typed.probs[0]!, 1, 'the only candidate');
  // A known word with the prefix competes on probability: " ca…" has " cat" 0.25, " car" 0.15, " cart" 0.05
  // and the document's " cazoo" 0.255 (its only unknown word, 9 times): " cazoo" wins with 0.255 / 0.705.
  const mixed = await predictor.continuePhrase('The cazoo.\r\n'.repeat(9) + 'The ca', { ...opts, maxWords: 1 });
  assert.deepEqual(mixed.tokens, [' cazoo']);
  close(mixed.probs[0]!, 0.255 / 0.705, 'among the candidates with the prefix');
  // No unknown word in the document: the phrase stops before <unk>, as before.
  assert.deepEqual((await predictor.continuePhrase('The cat.\r\nThe', opts)).tokens, ['The']);
});

test('topK: the document\'s unknown words are suggested in <unk>\'s place, ranked by p(<unk>) times their share', async () => {
  const { predictor } = textSetup();
  // After "The" and a space: <unk> 0.3 (never shown), " cat" 0.25: the document's one unknown word, seen 9
  // times, comes first with 0.3 · 0.85; seen once, it comes after " cat" with 0.3 · 0.25.
  const next = await predictor.topK('The zorblax.\r\n'.repeat(9) + 'The ', 3);
  assert.equal(next[0]!.token, ' zorblax');
  assert.equal(next[0]!.id, 0);
  close(next[0]!.rawProb, 0.3 * 0.85, 'p(<unk>) · (9 − 0.5)/(9 + 1)');
  assert.equal(next[1]!.token, ' cat');
  assert.ok(next.every((s) => s.token !== '<unk>'));
  const once = await predictor.topK('The zorblax.\r\nThe ', 10);
  assert.deepEqual(once.slice(0, 1).map((s) => s.token), [' cat']);
  close(once.find((s) => s.token === ' zorblax')?.rawProb ?? NaN, 0.3 * 0.25, 'p(<unk>) · (1 − 0.5)/(1 + 1)');
  // With a prefix, it competes with the known words that have it: " cazoo" 0.255 of 0.705.
  const typed = await predictor.topK('The cazoo.\r\n'.repeat(9) + 'The ca', 4);
  assert.deepEqual(typed.map((s) => s.token), [' cazoo', ' cat', ' car', ' cart']);
  close(typed[0]!.prob, 0.255 / 0.705, 'among the candidates with the prefix');
  assert.equal(typed[0]!.text, 'zoo');
  // Without unknown words in the document nothing changes.
  assert.deepEqual((await predictor.topK('The cat.\r\nThe ca', 3)).map((s) => s.token), [' cat', ' car', ' cart']);
});

test('continuePhrase advances one token per model run', async () => {
  const { predictor, model } = textSetup();
  await predictor.continuePhrase('The cat', { maxWords: 4, minProb: 0, stopAtNewline: true });
  // The context (start, The), then one run per accepted token except the last.
  assert.deepEqual(model.calls, [[1, 2], [3], [6], [7]]);
});

// ------------------------------------------------------------------------------------------------
// The context cache

test('contextState: only new tokens run, results are bit-identical to a fresh predictor', async () => {
  const { predictor, model } = textSetup();
  const a = await predictor.contextState('The cat sat on the');
  assert.deepEqual(a.tokens, ['The', ' cat', ' sat', ' on']);
  assert.equal(a.partial, ' the');
  assert.deepEqual(model.calls, [[1, 2, 3, 6, 7]], 'start token "\\n", then the complete tokens');

  const texts = ['The cat sat on the m', 'The cat sat on the ma', 'The cat sat on th', 'The cat sat on the mat.'];
  const expectedRuns = [[8], [], [], [9, 10]];
  for (const [i, text] of texts.entries()) {
    model.calls.length = 0;
    const got = await predictor.contextState(text);
    assert.deepEqual(model.calls, expectedRuns[i]!.length ? [expectedRuns[i]] : [], `runs for ${JSON.stringify(text)}`);
    const fresh = textSetup();
    const want = await fresh.predictor.contextState(text);
    assert.deepEqual(got.logProbs, want.logProbs, 'bit-identical log-probs');
    assert.deepEqual(got.state, want.state, 'same state');
    assert.deepEqual(got.tokens, want.tokens);
  }
});

test('contextState with the reference model: incremental runs equal direct runs of the same pieces', async () => {
  const { model, vocab } = referenceSetup('text');
  const counting = new CountingModel(model);
  const predictor = new Predictor(counting, vocab, 'text');
  const start = vocab.id('\n');
  const first = await predictor.contextState('the quick brown fox jum');
  const firstIds = [start, ...vocab.encode(['the', ' quick', ' brown', ' fox'])];
  assert.deepEqual(counting.calls, [firstIds]);
  counting.calls.length = 0;
  const second = await predictor.contextState('the quick brown fox jumps over');
  const newIds = Array.from(vocab.encode([' jumps']));
  assert.deepEqual(counting.calls, [newIds], 'only " jumps" runs');

  // The same pieces run directly: bit-identical.
  const a = await model.run(Int32Array.from(firstIds), model.initialState());
  assert.deepEqual(first.logProbs, a.logProbs.slice((firstIds.length - 1) * vocab.size));
  const b = await model.run(Int32Array.from(newIds), a.state);
  assert.deepEqual(second.logProbs, b.logProbs);
  assert.deepEqual(second.state, b.state);
  // And close to one run from scratch (the state crosses runs as float32).
  const fresh = await new Predictor(model, vocab, 'text').contextState('the quick brown fox jumps over');
  for (let v = 0; v < vocab.size; v++) close(second.logProbs[v]!, fresh.logProbs[v]!, `logProb ${v}`, 1e-5);
});

test('contextState: LRU eviction, shared in-flight work, failures are not cached', async () => {
  const { predictor, model } = textSetup({ cacheSize: 2 });
  await predictor.contextState('The cat.');
  await predictor.contextState('The dog.');
  await predictor.contextState('The car.'); // evicts "The cat."
  model.calls.length = 0;
  await predictor.contextState('The car.');
  await predictor.contextState('The dog.');
  assert.deepEqual(model.calls, [], 'both still cached');
  await predictor.contextState('The cat.');
  // Evicted, but the contexts left start on the same line (the text's first): the state after the start token
  // is kept with them, so only the line runs again. (Before contexts hung from line starts: [[1, 2, 3, 10]].)
  assert.deepEqual(model.calls, [[2, 3, 10]], 'the line again, from its start');
  // Two contexts on second lines evict everything on the first: "The cat." runs from the start token.
  await predictor.contextState('The dog.\r\nThe');
  await predictor.contextState('The car.\r\nThe');
  model.calls.length = 0;
  await predictor.contextState('The cat.');
  assert.deepEqual(model.calls, [[1, 2, 3, 10]], 'nothing left: run from the start');

  // Two requests for the same context at once: one run.
  const fresh = textSetup();
  const [x, y] = await Promise.all([fresh.predictor.topK('The ca', 1), fresh.predictor.topK('The car', 1)]);
  assert.deepEqual(fresh.model.calls, [[1, 2]]);
  assert.equal(x[0]!.token, ' cat');
  assert.equal(y[0]!.token, ' car');

  // A failing run rejects, and the next request runs again.
  const vocab = Vocabulary.fromJSON(textWords);
  const flaky = new CountingModel(new BigramModel(vocab, textTable), 1);
  const p = new Predictor(flaky, vocab, 'text');
  await assert.rejects(p.contextState('The cat.'), /planned failure/);
  const ok = await p.contextState('The cat.');
  assert.equal(flaky.calls.length, 2);
  close(Math.exp(ok.logProbs[14]!), 0.95, 'p("\\r\\n" | ".")');
});

// Changed with incremental contexts: the window used to move in steps of maxContextTokens / 2 and re-run
// the whole new window at each step; now only a cold start is bounded, and extending never truncates.
test('contextState: a cold start feeds the last maxContextTokens tokens; extending it feeds only the new ones', async () => {
  const { predictor, model } = textSetup({ maxContextTokens: 4 });
  // "The cat sat on the mat." is 7 tokens: a cold start feeds the start token and the last 4.
  const dots = (m: number) => 'The cat sat on the mat' + '.'.repeat(m);
  const cases: [number, string[], number[][]][] = [
    [1, [' on', ' the', ' mat', '.'], [[1, 7, 8, 9, 10]]],
    [2, [' the', ' mat', '.', '.'], [[10]]], //  the state has seen 5 tokens after the start token; tokens shows the last 4
    [3, [' mat', '.', '.', '.'], [[10]]],
    [6, ['.', '.', '.', '.'], [[10, 10, 10]]],
  ];
  for (const [m, tokens, runs] of cases) {
    model.calls.length = 0;
    const ctx = await predictor.contextState(dots(m));
    assert.deepEqual(ctx.tokens, tokens, `tokens for ${m} dots`);
    assert.deepEqual(model.calls, runs, `runs for ${m} dots`);
  }

  // Characters: a cold start tokenizes from the first line start in the last maxContextChars characters.
  const chars = textSetup({ maxContextChars: 16 });
  const text = 'The cat sat.\nThe mat.\nThe.'; // 26 characters: the last 16 start inside "The cat sat.", so from "The mat."
  const ctx = await chars.predictor.contextState(text);
  assert.deepEqual(ctx.tokens, ['The', ' mat', '.', '\n', 'The', '.']);
  // The complete lines, then the last line (its start is kept for edits in it).
  assert.deepEqual(chars.model.calls, [[1, 2, 9, 10, 1], [2, 10]]);
});

test('typing forward through a 5,000-token document runs each token through the model once', async () => {
  const vocab = Vocabulary.fromJSON(textWords);
  const model = new HistoryModel(new BigramModel(vocab, textTable));
  const predictor = new Predictor(model, vocab, 'text', { maxContextTokens: 64 });
  const doc = bigramDocument(5000, 1);
  const ids = vocab.encode(tokenize(doc, 'text'));
  assert.equal(ids.length, 5000);
  assert.ok(!ids.includes(0), 'every token is in the vocabulary');
  // One request per keystroke, as the editor asks: the ghost text and, every few keys, the alternatives.
  for (let i = 0; i <= doc.length; i++) {
    const text = doc.slice(0, i);
    await predictor.continuePhrase(text, { maxWords: 0, minProb: 0, stopAtNewline: true });
    if (i % 5 === 0) await predictor.topK(text, 3);
  }
  const last = await predictor.contextState(doc);
  // The start token and each of the 5,000 tokens once, in order: no re-run at any window boundary.
  assert.deepEqual(model.fed, [vocab.id('\n'), ...ids]);
  assert.deepEqual(Array.from(last.state.h), [vocab.id('\n'), ...ids], 'the state has seen the whole document');
  assert.deepEqual(last.tokens, tokenize(doc, 'text').slice(-64));

  // The same text asked cold: the start token and the last 64 tokens only (the documented trade-off: the
  // state depends on history; the distribution here does not, the model being a bigram).
  const cold = new HistoryModel(new BigramModel(vocab, textTable));
  const coldCtx = await new Predictor(cold, vocab, 'text', { maxContextTokens: 64 }).contextState(doc);
  assert.deepEqual(cold.fed, [vocab.id('\n'), ...ids.subarray(ids.length - 64)]);
  assert.deepEqual(coldCtx.tokens, last.tokens);
  assert.deepEqual(coldCtx.logProbs, last.logProbs);

  // Editing an earlier line: no cached context applies, a cold start of at most 64 tokens.
  model.fed.length = 0;
  const at = doc.indexOf(' cat', doc.indexOf('\n') + 1);
  const edited = doc.slice(0, at) + ' mat' + doc.slice(at + 4);
  const editedIds = vocab.encode(tokenize(edited, 'text'));
  await predictor.topK(edited, 3);
  assert.deepEqual(model.fed, [vocab.id('\n'), ...editedIds.subarray(editedIds.length - 64)]);
  // And typing on after it runs only the new tokens again.
  model.fed.length = 0;
  await predictor.topK(edited + '\nThe cat s', 3);
  const had = tokenize(splitPartialWord(edited, 'text').context, 'text').length; // the last word was still partial
  assert.deepEqual(model.fed, Array.from(vocab.encode(tokenize(edited + '\nThe cat', 'text').slice(had))));
});

test('a 1 MB text before the cursor: after the first request, each costs well under 1 ms', async () => {
  const { predictor, model, vocab } = textSetup();
  const doc = bigramDocument(360_000, 2);
  assert.ok(doc.length > 1_000_000, `${doc.length} characters`);
  const base = doc.lastIndexOf('\n', doc.length - 300) + 1;
  const t0 = performance.now();
  await predictor.topK(doc.slice(0, base), 5);
  const first = performance.now() - t0;
  model.calls.length = 0;
  const times: number[] = [];
  for (let i = base + 1; i <= base + 250; i++) {
    const text = doc.slice(0, i);
    const t = performance.now();
    await predictor.topK(text, 5);
    await predictor.continuePhrase(text, { maxWords: 3, minProb: 0.1, stopAtNewline: true });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1]!;
  // Re-tokenizing the whole prefix would take tens of ms per request.
  assert.ok(median < 1, `median ${median.toFixed(3)} ms per request (the first took ${first.toFixed(1)} ms)`);
  // And the model ran only the tokens typed: at most two at a time (" mat" completed by typing "."), and
  // continuePhrase's steps, one token each.
  assert.deepEqual(model.calls.filter((c) => c.length > 2), [], 'no run of more than two tokens');
  assert.ok(model.calls.some((c) => c.length === 2 && c[0] === vocab.id(' mat') && c[1] === vocab.id('.')));
});

// ------------------------------------------------------------------------------------------------
// score

test('score: perplexity from the table, surprisal in nats, out-of-vocabulary words as <unk>', async () => {
  const { predictor, model } = textSetup();
  const s = await predictor.score('The cat sat.');
  const ps = [model.prob('\n', 'The'), 0.25, 0.9, 0.2 / 14];
  close(ps[0]!, 0.3, 'table');
  assert.equal(s.tokens, 4);
  assert.equal(s.oov, 0);
  ps.forEach((p, i) => close(s.surprisal[i]!, -Math.log(p), `surprisal ${i}`));
  const nll = -ps.reduce((a, p) => a + Math.log(p), 0) / 4;
  close(s.nll, nll, 'nll');
  close(s.perplexity, Math.exp(nll), 'perplexity');

  // " cow" is not a word of the vocabulary: scored as <unk> (p .3 after "The"), and <unk> → " sat" is uniform.
  const o = await predictor.score('The cow sat');
  assert.equal(o.oov, 1);
  close(o.surprisal[1]!, -Math.log(0.3), 'p(<unk> | The)');
  close(o.surprisal[2]!, -Math.log(1 / 15), 'p(" sat" | <unk>)');

  const empty = await predictor.score('');
  assert.equal(empty.tokens, 0);
  assert.ok(Number.isNaN(empty.perplexity));
});

test('score with the reference model equals exp(mean −log p) of one direct run, chunked or not', async () => {
  const { model, vocab } = referenceSetup('text');
  const text = 'the quick brown fox jumps over the lazy dog.\nthe end of the line zzz';
  const ids = vocab.encode(tokenize(text, 'text'));
  const n = ids.length;
  const inputs = Int32Array.from([vocab.id('\n'), ...ids.subarray(0, n - 1)]);
  const { logProbs } = await model.run(inputs, model.initialState());
  let sum = 0;
  for (let t = 0; t < n; t++) sum -= logProbs[t * vocab.size + ids[t]!]!;

  const whole = await new Predictor(model, vocab, 'text').score(text);
  assert.equal(whole.tokens, n);
  assert.equal(whole.oov, Array.from(ids).filter((id) => id === 0).length);
  assert.ok(whole.oov >= 1, 'the text has an unknown word');
  close(whole.nll, sum / n, 'nll, one run', 1e-12);
  close(whole.perplexity, Math.exp(sum / n), 'perplexity, one run', 1e-12);

  const counting = new CountingModel(model);
  const chunked = await new Predictor(counting, vocab, 'text', { runChunk: 4 }).score(text);
  assert.deepEqual(counting.calls.map((c) => c.length), [...Array(Math.floor(n / 4)).fill(4), ...(n % 4 ? [n % 4] : [])]);
  close(chunked.perplexity, whole.perplexity, 'chunked perplexity', 1e-5);
});

// ------------------------------------------------------------------------------------------------
// sample

test('sample: temperature 0 is greedy and skips <unk>', async () => {
  const { predictor } = textSetup();
  const rand = () => assert.fail('greedy sampling draws no numbers');
  // At the start <unk> (.4) beats The (.3), and after The <unk> (.3) beats " cat" (.25).
  assert.equal(await predictor.sample('', { words: 2, temperature: 0, rand }), 'The cat');
  assert.equal(await predictor.sample('The cat', { words: 6, temperature: 0, rand }), ' sat on the mat.');
  assert.equal(await predictor.sample('The c', { words: 1, temperature: 0, rand }), 'at');
  assert.equal(await predictor.sample('The c', { words: 0, temperature: 0, rand }), '');
});

test('sample: a seeded rand is reproducible; frequencies follow softmax(log p / T) without <unk>', async () => {
  const { predictor } = textSetup();
  const opts = { words: 12, temperature: 1 };
  const a = await predictor.sample('The', { ...opts, rand: mulberry32(3) });
  const b = await predictor.sample('The', { ...opts, rand: mulberry32(3) });
  assert.equal(a, b);
  assert.notEqual(a, await predictor.sample('The', { ...opts, rand: mulberry32(4) }), 'another seed, another text');

  // First words after "The ": ' cat' .25, ' car' .15, ' cart' .05, ' dog' .1, and 4 × .05 / 9.
  const words = [' cat', ' car', ' cart', ' dog', ' sat', ' on', ' the', ' mat'];
  const p = [0.25, 0.15, 0.05, 0.1, 0.05 / 9, 0.05 / 9, 0.05 / 9, 0.05 / 9];
  const draws = 4000;
  for (const temperature of [1, 0.5]) {
    const rand = mulberry32(11);
    const counts = new Map<string, number>();
    for (let i = 0; i < draws; i++) {
      const w = ' ' + (await predictor.sample('The ', { words: 1, temperature, rand }));
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    const weights = p.map((q) => q ** (1 / temperature));
    const z = weights.reduce((x, y) => x + y, 0);
    assert.deepEqual([...counts.keys()].filter((w) => !words.includes(w)), [], 'only tokens starting with " "');
    words.forEach((w, i) => {
      const expected = weights[i]! / z;
      const sd = Math.sqrt((expected * (1 - expected)) / draws);
      const freq = (counts.get(w) ?? 0) / draws;
      assert.ok(Math.abs(freq - expected) <= 4 * sd + 1e-9, `T=${temperature} ${w}: ${freq} vs ${expected}`);
    });
  }

  // From the start, <unk> is the most likely token (.4) but is never drawn.
  const rand = mulberry32(5);
  let firstThe = 0;
  for (let i = 0; i < 500; i++) {
    const text = await predictor.sample('', { words: 1, temperature: 1, rand });
    assert.notEqual(text, '<unk>');
    if (text === 'The') firstThe++;
  }
  // p(The | no <unk>) = .3 / .6.
  assert.ok(Math.abs(firstThe / 500 - 0.5) < 4 * Math.sqrt(0.25 / 500), `The drawn ${firstThe} / 500 times`);
});

test('sample: a partial that starts no token is taken as a complete (unknown) word', async () => {
  const { predictor, model } = textSetup();
  const text = await predictor.sample('The zz', { words: 1, temperature: 0, rand: Math.random });
  // "The", " zz" (<unk>): after <unk> every token is equally likely, so greedy takes the lowest id, "\n".
  assert.equal(text, '\n');
  assert.deepEqual(model.calls, [[1, 2], [0]], 'the context "The", then the unknown word');
});

// ------------------------------------------------------------------------------------------------
// whitespace mode

test('whitespace mode: <eos> starts the text, no <eos> for an unfinished line, words joined by spaces', async () => {
  //                                      0        1        2      3      4      5     6      7
  const vocab = Vocabulary.fromJSON(['<unk>', '<eos>', 'the', 'cat', 'sat', 'on', 'mat', 'car']);
  const model = new BigramModel(vocab, {
    '<eos>': { the: 0.6 },
    the: { cat: 0.5, car: 0.2, '<unk>': 0.2 },
    cat: { sat: 0.9 },
    sat: { on: 0.8 },
    on: { the: 0.7 },
    mat: { '<eos>': 0.9 },
  });
  const predictor = new Predictor(model, vocab, 'whitespace');

  await predictor.contextState('the cat ');
  await predictor.contextState('the cat\n');
  assert.deepEqual(model.calls, [[1, 2, 3], [1]], 'the finished line adds only its <eos>');

  const p = await predictor.continuePhrase('the ca', { maxWords: 3, minProb: 0, stopAtNewline: true });
  assert.equal(p.text, 't sat on');
  close(p.probs[0]!, 0.5 / 0.7, 'cat among cat/car');
  assert.equal((await predictor.continuePhrase('the cat ', { maxWords: 3, minProb: 0, stopAtNewline: true })).text, 'sat on the');

  // The word being typed is completed (here by itself), <eos> becomes a line break, and no space follows it.
  assert.equal(await predictor.sample('on the mat', { words: 3, temperature: 0, rand: Math.random }), '\nthe');
  // No word starts with "zebra": it is fed as <unk>, after which every token is equally likely (greedy: <eos>).
  assert.equal(await predictor.sample('on the zebra', { words: 2, temperature: 0, rand: Math.random }), '\nthe');

  // "<" starts both special tokens: neither is suggested by default.
  assert.deepEqual(await predictor.topK('the <', 5), []);
  assert.deepEqual((await predictor.topK('the <', 5, { includeWhitespace: true })).map((s) => s.token), ['<eos>']);

  // Scoring counts one <eos> per line.
  const s = await predictor.score('the cat\nthe car');
  assert.equal(s.tokens, 6);
  const ps = [0.6, 0.5, 0.1 / 7, 0.6, 0.2, 1 / 8];
  ps.forEach((q, i) => close(s.surprisal[i]!, -Math.log(q), `surprisal ${i}`));
});

// ------------------------------------------------------------------------------------------------
// Errors

test('bad arguments fail with clear messages', async () => {
  const { predictor, model, vocab } = textSetup();
  assert.throws(() => new Predictor(model, Vocabulary.fromJSON(['<unk>', 'a']), 'text'), /predicts 15 tokens but the vocabulary has 2/);
  assert.throws(() => new Predictor(model, vocab, 'text', { maxContextTokens: 0 }), /maxContextTokens must be a positive integer/);
  assert.throws(() => new Predictor(model, vocab, 'bogus' as TokenizerMode), /unknown tokenizer mode/);
  await assert.rejects(predictor.topK('x', -1), /k must be an integer ≥ 0/);
  await assert.rejects(predictor.topK(42 as unknown as string, 1), /text must be a string/);
  await assert.rejects(predictor.continuePhrase('x', { maxWords: 2, minProb: 1.5, stopAtNewline: true }), /minProb must lie in \[0, 1\]/);
  await assert.rejects(predictor.continuePhrase('x', { maxWords: 1.5, minProb: 0.5, stopAtNewline: true }), /maxWords/);
  await assert.rejects(predictor.sample('x', { words: 1, temperature: -1, rand: Math.random }), /temperature must be a finite number ≥ 0/);
  await assert.rejects(predictor.sample('The', { words: 1, temperature: 1, rand: () => 1 }), /rand\(\) must return a number in \[0, 1\)/);
});

// ------------------------------------------------------------------------------------------------
// Helpers

/** Counts the runs of a model; fails the first `failures` of them. */
class CountingModel implements LanguageModel {
  readonly calls: number[][] = [];
  constructor(
    private readonly inner: LanguageModel,
    private failures = 0,
  ) {}
  get vocabSize(): number {
    return this.inner.vocabSize;
  }
  initialState(): RecurrentState {
    return this.inner.initialState();
  }
  async run(ids: Int32Array, state: RecurrentState) {
    this.calls.push(Array.from(ids));
    if (this.failures > 0) {
      this.failures--;
      throw new Error('planned failure');
    }
    return this.inner.run(ids, state);
  }
}

/**
 * A model whose state is the list of every id fed since the initial state, so a test reads off what a state has
 * seen; its distributions are the bigram model's. Implements `advance`, as the ONNX model does. Records every
 * id fed, in order.
 */
class HistoryModel implements LanguageModel {
  readonly fed: number[] = [];
  constructor(private readonly inner: BigramModel) {}
  get vocabSize(): number {
    return this.inner.vocabSize;
  }
  initialState(): RecurrentState {
    return { h: new Float32Array(0) };
  }
  async run(ids: Int32Array, state: RecurrentState) {
    const { logProbs } = await this.inner.run(ids, this.inner.initialState());
    return { logProbs, state: await this.advance(ids, state) };
  }
  async advance(ids: Int32Array, state: RecurrentState): Promise<RecurrentState> {
    assert.ok(ids.length > 0);
    this.fed.push(...ids);
    const h = new Float32Array(state.h.length + ids.length);
    h.set(state.h);
    h.set(ids, state.h.length);
    return { h };
  }
}

/** Lines of the bigram vocabulary's words: "The cat sat on the mat." and shorter ones; `tokens` tokens in all. */
function bigramDocument(tokens: number, seed: number): string {
  const rand = mulberry32(seed);
  const line = ['The', ' cat', ' sat', ' on', ' the', ' mat', '.', '\n'];
  let text = '';
  for (let n = 0; n < tokens; ) {
    const skip = Math.floor(rand() * 4); // drop some of the middle words, so lines differ
    for (const [i, t] of line.entries()) {
      if (n === tokens) break;
      if (i >= 2 && i < 2 + skip && i < 6) continue;
      text += t;
      n++;
    }
  }
  return text;
}

/** A tiny random LSTM over a small English-and-code vocabulary. */
function referenceSetup(mode: TokenizerMode) {
  const corpus = 'the quick brown fox jumps over the lazy dog.\nx = y.\nfoo(bar, baz)\na b c\nthe end.\n';
  const vocab = Vocabulary.build(Vocabulary.countTokens(tokenize(corpus, mode)), { maxSize: 100, minCount: 1 });
  const cfg: ModelConfig = { cell: 'lstm', layers: 2, vocab: vocab.size, embed: 8, hidden: 8, tied: true };
  const rand = mulberry32(21);
  const params = Float32Array.from({ length: parameterCount(cfg) }, () => (rand() * 2 - 1) * 0.8);
  return { vocab, model: new ReferenceLanguageModel(cfg, params) };
}
