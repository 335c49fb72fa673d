// Surprisal against a bigram model written out by hand: each token's bits, rank and alternatives come from
// the table, whatever the chunking; the flagging rule on hand-made figures.

import test from 'node:test';
import assert from 'node:assert/strict';

import { compareSuspicion, flagSurprising, medianBits, oneEditApart, scoreSurprisal, tokenSpans, typoShaped, type TokenSurprisal } from '../../../src/core/scoring/surprisal.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { BigramModel } from '../../support/bigram-model.js';

const words = ['<unk>', '\n', 'the', ' cat', ' dog', ' sat', ' ran'];
const vocab = Vocabulary.fromJSON(words);
// The start token is "\n" in text mode. After "\n": the .8 (the 6 others share .2: 1/30 each).
// After the: cat .6, dog .3 (the 5 others .02 each). After cat: sat .9 (the others .0167 each).
const model = new BigramModel(vocab, { '\n': { the: 0.8 }, the: { ' cat': 0.6, ' dog': 0.3 }, ' cat': { ' sat': 0.9 } });

test('each token: its span, −log2 p, rank and the most likely words there', async () => {
  const text = 'the dog sat\nthe zebra';
  for (const chunk of [1, 2, 256]) {
    const scored = await scoreSurprisal(model, vocab, 'text', text, { alternatives: 2, chunk });
    assert.deepEqual(scored.map((t) => t.token), ['the', ' dog', ' sat', '\n', 'the', ' zebra']);
    assert.deepEqual(scored.map((t) => text.slice(t.start, t.end)), ['the', ' dog', ' sat', '\n', 'the', ' zebra']);
    const expected: [number, number][] = [
      [0.8, 0], //      the after the start token "\n"
      [0.3, 1], //      dog after the: cat is higher
      [1 / 7, 0], //    sat after dog: dog has no row, all 7 equal, none strictly higher
      [1 / 7, 0], //    "\n" after sat: no row either
      [0.8, 0], //      the after "\n"
      [0.02, 2], //     zebra is <unk>: .02 after the, below cat and dog, tied with the rest
    ];
    expected.forEach(([p, rank], i) => {
      const t = scored[i]!;
      assert.ok(Math.abs(t.bits - -Math.log2(p)) < 1e-5, `chunk ${chunk}, token ${i}: ${t.bits} bits, expected ${-Math.log2(p)}`);
      assert.equal(t.rank, rank, `chunk ${chunk}, token ${i}: rank`);
      assert.equal(t.index, i);
    });
    assert.deepEqual(scored.map((t) => t.oov), [false, false, false, false, false, true]);
    // After "the": cat .6, then dog .3.
    assert.deepEqual(scored[1]!.alternatives.map((a) => a.word), [' cat', ' dog']);
    assert.ok(Math.abs(scored[1]!.alternatives[0]!.p - 0.6) < 1e-6);
    // After "\n" (the start): the .8, then the first of the tied rest by id (<unk>).
    assert.deepEqual(scored[0]!.alternatives.map((a) => a.word), ['the', '<unk>']);
  }
});

test('no alternatives when none are asked for; an empty text has no tokens; bad options are refused', async () => {
  const scored = await scoreSurprisal(model, vocab, 'text', 'the cat', { alternatives: 0 });
  assert.deepEqual(scored.map((t) => t.alternatives), [[], []]);
  assert.deepEqual(await scoreSurprisal(model, vocab, 'text', ''), []);
  await assert.rejects(scoreSurprisal(model, vocab, 'text', 'the', { chunk: 0 }), /chunk/);
  await assert.rejects(scoreSurprisal(model, vocab, 'text', 'the', { alternatives: -1 }), /alternatives/);
  await assert.rejects(scoreSurprisal(model, Vocabulary.fromJSON(['<unk>', 'x']), 'text', 'x'), /vocabulary/);
});

test('between() runs between two model runs and can stop the work', async () => {
  let calls = 0;
  // "the", " cat", " sat", " ran": 4 tokens in runs of 2, one pause between them.
  await scoreSurprisal(model, vocab, 'text', 'the cat sat ran', { chunk: 2, between: async () => void calls++ });
  assert.equal(calls, 1);
  await assert.rejects(
    scoreSurprisal(model, vocab, 'text', 'the cat sat ran', { chunk: 1, between: async () => { throw new Error('stopped'); } }),
    /stopped/,
  );
});

function tok(token: string, bits: number, extra: Partial<TokenSurprisal> = {}): TokenSurprisal {
  return { index: 0, start: 0, end: token.length, token, oov: false, bits, rank: 0, alternatives: [], ...extra };
}

test('flagging: words far above the median word, and unknown words one edit from an expected word', () => {
  const tokens = [
    tok('a', 2), tok(' b', 3), tok(' c', 4), tok(' d', 5), // the median of 2, 3, 4, 5, 12, 9.5, 4 is 4
    tok(' odd', 12), //                                     4 + 6 ≤ 12: flagged
    tok(' modle', 9.5, { oov: true, nearMiss: { word: ' model', p: 0.2 } }), // a likely typo
    tok(' zyx', 4, { oov: true }), //                       unknown, nothing near: not flagged
    tok(' ', 30), //                                        white space: never a candidate, not in the median
    tok(';', 30), //                                        punctuation: the same
  ];
  assert.equal(medianBits(tokens), 4);
  const { median, flagged } = flagSurprising(tokens, { marginBits: 6, nearMissMinP: 0.01 });
  assert.equal(median, 4);
  assert.deepEqual(flagged.map((t) => t.token), [' odd', ' modle']);
  // The typo needs its expected word to be likely enough; a larger margin leaves only the typo.
  assert.deepEqual(flagSurprising(tokens, { marginBits: 6, nearMissMinP: 0.5 }).flagged.map((t) => t.token), [' odd']);
  assert.deepEqual(flagSurprising(tokens, { marginBits: 9, nearMissMinP: 0.01 }).flagged.map((t) => t.token), [' modle']);
  assert.ok(Number.isNaN(medianBits([tok(' ', 1)])));
  // Suspicion: the typo first, then by bits above the median.
  const order = tokens.slice(4, 7).map((t) => ({ t, median: 4 })).sort((a, b) => compareSuspicion(a, b, { marginBits: 6, nearMissMinP: 0.01 }));
  assert.deepEqual(order.map((o) => o.t.token), [' modle', ' odd', ' zyx']);
});

test('a near miss: an expected word one edit away; an unknown word compared by its spelling, when it is shaped like a typo', async () => {
  // After "the": <unk> .4, model .3, network .2, mode .02 (the rest share what is left).
  const words2 = ['<unk>', '\n', 'the', ' model', ' network', ' mode', ' sat'];
  const vocab2 = Vocabulary.fromJSON(words2);
  const model2 = new BigramModel(vocab2, { '\n': { the: 0.8 }, the: { '<unk>': 0.4, ' model': 0.3, ' network': 0.2, ' mode': 0.02 } });
  const near = async (word: string) => {
    const [, t] = await scoreSurprisal(model2, vocab2, 'text', `the ${word}`);
    return t!.nearMiss?.word;
  };
  // Unknown words one edit from an expected word, though <unk> (every unknown word) is likelier than it.
  assert.equal(await near('modle'), ' model', 'a swap');
  assert.equal(await near('netwrk'), ' network', 'a letter dropped');
  assert.equal(await near('modek'), ' model', 'a substitution');
  assert.equal(await near('mde'), ' mode', 'a typo of a four-letter word');
  // A typo of a short word, when the word is likelier than the unknown words: "teh" at the start ("the" .8).
  const [teh] = await scoreSurprisal(model2, vocab2, 'text', 'teh');
  assert.equal(teh!.nearMiss?.word, 'the');
  // Not typo-shaped: a plural, a change of case, a digit or an underscore.
  for (const word of ['models', 'Model', 'mod3l', 'mod_el']) assert.equal(await near(word), undefined, word);
  // A known word: a likelier expected word one edit away ("mode" .02, "model" .3).
  assert.equal(await near('mode'), ' model');
  // A known word that is the model's first guess has none; neither has a word far from every guess.
  const [, cat] = await scoreSurprisal(model, vocab, 'text', 'the cat');
  assert.equal(cat!.nearMiss, undefined);
  assert.equal(await near('zebra'), undefined);
  const guess = (word: string, p: number) => ({ word, p });
  assert.ok(typoShaped(' netwrok', guess(' network', 0.01), 0.2), 'a long word: however likely the unknown words');
  assert.ok(!typoShaped(' networks', guess(' network', 0.5), 0.2) && !typoShaped('_path', guess('path', 0.5), 0.2) && !typoShaped('Path', guess('path', 0.5), 0.2));
  // A short word only when it is likelier than every unknown word together: "teh" for "the", not "tri" for "try".
  assert.ok(typoShaped(' teh', guess(' the', 0.3), 0.1) && !typoShaped('tri', guess('try', 0.05), 0.1));
});

test('one edit apart: substitution, insertion, deletion, swap of neighbours; not two edits, not equal', () => {
  for (const [a, b] of [['model', 'modle'], ['model', 'mode'], ['model', 'models'], ['model', 'modal'], ['model', 'omdel'], ['a', 'b'], ['', 'a']]) {
    assert.ok(oneEditApart(a!, b!), `${a} ~ ${b}`);
    assert.ok(oneEditApart(b!, a!), `${b} ~ ${a}`);
  }
  for (const [a, b] of [['model', 'model'], ['model', 'mdeol'], ['model', 'mod'], ['model', 'lmode'], ['ab', 'ba c']]) {
    assert.ok(!oneEditApart(a!, b!), `${a} ≁ ${b}`);
  }
});

test('spans in whitespace mode: tokens found in order, <eos> at the line break', () => {
  const text = 'a  b\nc';
  assert.deepEqual(tokenSpans(text, ['a', 'b', '<eos>', 'c', '<eos>'], 'whitespace'), [[0, 1], [3, 4], [4, 5], [5, 6], [6, 6]]);
});
