// The simulated typist: the rules of keystroke savings (whole acceptance, word by word, typing on), counted
// by hand on scripted completers, then the extension's engine over a bigram model whose every suggestion
// follows from its table, and the word-frequency baseline.

import assert from 'node:assert/strict';
import test from 'node:test';
import { CompletionEngine, type CompletionSettings } from '../../../src/core/completion/completion-engine.js';
import {
  combineKeystrokeFigures, EngineCompleter, simulateTyping, WordFrequencyCompleter, wordSteps, type Completer, type Ghost,
} from '../../../src/core/completion/keystroke-savings.js';
import { Predictor } from '../../../src/core/predict/predictor.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { BigramModel } from '../../support/bigram-model.js';

/** Shows, at each position, what `ghostAt(textBefore)` returns; a suggestion is fresh when its text is not the rest of the last one. */
function scripted(ghostAt: (textBefore: string) => string | undefined): Completer & { calls: number } {
  let last: { at: number; text: string } | undefined;
  const c = {
    calls: 0,
    reset() {
      last = undefined;
    },
    async suggest(textBefore: string): Promise<Ghost | undefined> {
      c.calls++;
      const text = ghostAt(textBefore);
      if (!text) {
        last = undefined;
        return undefined;
      }
      const continues = last !== undefined && textBefore.length >= last.at && last.text.slice(textBefore.length - last.at) === text;
      if (!continues) last = { at: textBefore.length, text };
      return { text, fresh: !continues };
    },
  };
  return c;
}

/** The rest of the word being typed in `full`, once a character of it is typed (an oracle word completer). */
function restOfWord(full: string) {
  return (before: string) => {
    if (!/\w$/.test(before)) return undefined;
    const m = /^\w+/.exec(full.slice(before.length));
    return m ? m[0] : undefined;
  };
}

test('wordSteps: white space goes with the word or punctuation run after it', () => {
  assert.deepEqual(wordSteps('ick brown fox.'), [3, 6, 4, 1]);
  assert.deepEqual(wordSteps(' , and'), [2, 4]);
  assert.deepEqual(wordSteps('ab  '), [2, 2]);
  assert.deepEqual(wordSteps(' naïve 我喜欢'), [6, 4]);
  assert.deepEqual(wordSteps(''), []);
  for (const g of ['x', ' a b ', '...!?', 'foo(bar);\t']) assert.equal(wordSteps(g).reduce((a, b) => a + b, 0), g.length);
});

test('an oracle word completer: one key for the first letter, one to accept the rest', async () => {
  const text = 'hello world';
  const f = await simulateTyping(scripted(restOfWord(text)), text);
  // h, Tab ("ello"), space, w, Tab ("orld").
  assert.deepEqual({ chars: f.chars, keys: f.keys, shown: f.shown, accepted: f.accepted, acceptedChars: f.acceptedChars }, { chars: 11, keys: 5, shown: 2, accepted: 2, acceptedChars: 8 });
  assert.equal(f.ksr, 1 - 5 / 11);
  assert.equal(f.acceptRate, 1);
  assert.equal(f.latenciesMs.length, 5, 'one completer call before each key');
});

test('typing from an offset: the text before it is in the document, and only what follows counts', async () => {
  const text = 'hello world';
  const seen: string[] = [];
  const oracle = restOfWord(text);
  const f = await simulateTyping(scripted((before) => (seen.push(before), oracle(before))), text, { from: 6 });
  // w, Tab ("orld"): 2 keys for 5 characters.
  assert.deepEqual({ chars: f.chars, keys: f.keys, shown: f.shown }, { chars: 5, keys: 2, shown: 1 });
  assert.equal(seen[0], 'hello ', 'the first request sees the text above');
  await assert.rejects(simulateTyping(scripted(() => undefined), text, { from: 12 }), /from must be an offset/);
});

test('no ghost text: every character is a key, and KSR is 0', async () => {
  const f = await simulateTyping(scripted(() => undefined), 'abc 😀 d');
  assert.equal(f.chars, 8); // the emoji is two UTF-16 code units…
  assert.equal(f.keys, 7); // …and one key
  assert.equal(f.shown, 0);
  assert.ok(Number.isNaN(f.acceptRate));
});

test('a ghost text that matches only its first words is accepted word by word when that saves keys', async () => {
  const text = 'quick brown fox';
  // At the start the completer offers "quick brown cat": two words match (11 characters for 2 keys).
  const c = scripted((b) => (b === '' ? 'quick brown cat' : undefined));
  const f = await simulateTyping(c, text);
  assert.equal(f.keys, 2 + 4); // two Ctrl+Right, then " fox" typed
  assert.equal(f.acceptedChars, 11);
  assert.deepEqual([f.shown, f.accepted], [1, 1]);

  // "a" then " zz": the first word is one character for one key, which saves nothing: typed instead.
  const g = await simulateTyping(scripted((b) => (b === '' ? 'a zz' : undefined)), 'a b');
  assert.deepEqual([g.keys, g.accepted, g.shown, g.acceptedChars], [3, 0, 1, 0]);
});

test('a wrong suggestion typed through stays one suggestion shown; the right one after it is another', async () => {
  const text = 'abcd';
  // "xyz" while nothing is typed (never matches), then at "ab" the oracle's "cd".
  const c = scripted((b) => (b === '' ? 'xyz' : b === 'ab' ? 'cd' : undefined));
  const f = await simulateTyping(c, text);
  assert.deepEqual([f.keys, f.shown, f.accepted, f.acceptedChars], [3, 2, 1, 2]);
  assert.equal(f.acceptRate, 0.5);
});

test('combined figures weigh texts by their characters', async () => {
  const a = await simulateTyping(scripted(restOfWord('hello world')), 'hello world');
  const b = await simulateTyping(scripted(() => undefined), 'xyz');
  const all = combineKeystrokeFigures([a, b]);
  assert.deepEqual([all.chars, all.keys, all.shown, all.accepted], [14, 8, 2, 2]);
  assert.equal(all.ksr, 1 - 8 / 14);
  assert.equal(all.latenciesMs.length, a.latenciesMs.length + b.latenciesMs.length);
});

test('an aborted simulation stops', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(simulateTyping(scripted(() => undefined), 'abc', { signal: ac.signal }), { name: 'AbortError' });
});

// ------------------------------------------------------------------------------------------------
// The extension's engine, over a model that always knows what comes next.

const words = ['<unk>', '\n', 'The', ' cat', ' sat', ' on', ' the', ' mat', '.'];
const chain: Record<string, Record<string, number>> = {
  '\n': { The: 0.9 },
  The: { ' cat': 0.9 },
  ' cat': { ' sat': 0.9 },
  ' sat': { ' on': 0.9 },
  ' on': { ' the': 0.9 },
  ' the': { ' mat': 0.9 },
  ' mat': { '.': 0.9 },
  '.': { '\n': 0.9 },
};
const settings: CompletionSettings = { maxWords: 3, minConfidence: 0.3, debounceMs: 0, maxLineLength: 200 };

test('the engine completer: phrases of maxWords words accepted whole, the line break typed', async () => {
  const vocab = Vocabulary.fromJSON(words);
  const model = new BigramModel(vocab, chain);
  const engine = new CompletionEngine({ getPredictor: () => predictor });
  const predictor = new Predictor(model, vocab, 'text');
  const f = await simulateTyping(new EngineCompleter(engine, settings), 'The cat sat on the mat.\n');
  // "" → "The cat sat" (3 words, Tab); "…sat" → " on the mat" (the typed word plus 3, Tab); "…mat" → "."
  // (the line break ends the phrase, Tab); "…mat." → nothing ("\n" is next): typed.
  assert.deepEqual({ keys: f.keys, shown: f.shown, accepted: f.accepted, acceptedChars: f.acceptedChars }, { keys: 4, shown: 3, accepted: 3, acceptedChars: 23 });
  assert.equal(f.ksr, 1 - 4 / 24);
  assert.equal(engine.stats().requests, 4, 'one request before each key');
});

test('the engine completer: a wrong phrase is typed through from the type-through cache, then replaced', async () => {
  const vocab = Vocabulary.fromJSON(words);
  const model = new BigramModel(vocab, chain);
  const predictor = new Predictor(model, vocab, 'text');
  const engine = new CompletionEngine({ getPredictor: () => predictor });
  // The model expects "The cat sat"; the text says "The cab".
  const f = await simulateTyping(new EngineCompleter(engine, settings), 'The cab');
  // "" → "The cat sat": only "The" matches (3 characters for 1 key). Then " ", "c", "a", "b" are typed while
  // the same suggestion's rest (" cat sat", "cat sat", "at sat", "t sat") comes from the type-through cache.
  assert.deepEqual({ keys: f.keys, shown: f.shown, accepted: f.accepted, acceptedChars: f.acceptedChars }, { keys: 5, shown: 1, accepted: 1, acceptedChars: 3 });
  assert.equal(engine.stats().cached, 4);
});

test('word frequency: the most frequent known word with the typed prefix, the document\'s own words included', async () => {
  const counts = WordFrequencyCompleter.countWords(['the the the the the there there then then zebra']);
  assert.deepEqual(Object.fromEntries(counts), { the: 5, there: 2, then: 2, zebra: 1 });
  const c = new WordFrequencyCompleter(counts);
  const f = await simulateTyping(c, 'the zebra');
  // t + Tab ("he"), space (while "then" is offered for the whole word "the": shown, not taken), z + Tab ("ebra").
  assert.deepEqual([f.keys, f.shown, f.accepted, f.acceptedChars], [5, 3, 2, 6]);

  // t: "the" (5) → Tab inserts "he"; the typed "the" is a whole word now: of the longer words "then" and
  // "there" (2 each) the shorter wins → Tab inserts "n". Two suggestions, both accepted, 3 keys for 4 characters.
  const g = await simulateTyping(c, 'then');
  assert.deepEqual([g.keys, g.shown, g.accepted, g.acceptedChars], [3, 2, 2, 3]);
  const h = await simulateTyping(new WordFrequencyCompleter(new Map()), 'qux qux');
  // Nothing known at first: "qux" typed (3), space (1), then "q" + Tab ("ux" from the document).
  assert.deepEqual([h.keys, h.acceptedChars], [6, 2]);
});
