// Choosing a model's completion threshold: the bound over files, the walk over the steps against scripted
// figures (the accept rate each threshold gives in each file), the texts typed, the record's validation, and
// one real run through the extension's engine over a bigram model, whose suggestions follow from its table.

import assert from 'node:assert/strict';
import test from 'node:test';
import { CompletionEngine, DEFAULT_COMPLETION_SETTINGS } from '../../../src/core/completion/completion-engine.js';
import { EngineCompleter, type KeystrokeFigures } from '../../../src/core/completion/keystroke-savings.js';
import {
  acceptLowerBound, calibrateThreshold, calibrationPieces, MIN_FILES, MIN_SHOWN, THRESHOLD_STEPS, typePieces, validateCalibration,
} from '../../../src/core/completion/threshold-calibration.js';
import { Predictor } from '../../../src/core/predict/predictor.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { BigramModel } from '../../support/bigram-model.js';

/**
 * Per-file figures whose accept rate at each threshold is `rate(t)`, `spread` above it in half the files and
 * below it in the others, with `shown` suggestions in each of `files` files; records the thresholds typed.
 */
function scriptedTyping(rate: (t: number) => number, opts: { shown?: number; files?: number; spread?: number } = {}) {
  const { shown = 100, files = 10, spread = 0 } = opts;
  const typed: number[] = [];
  const typeAt = async (t: number): Promise<KeystrokeFigures[]> => {
    typed.push(t);
    return Array.from({ length: files }, (_, i) => {
      const accepted = Math.round((rate(t) + (i % 2 ? spread : -spread)) * shown);
      return { chars: 100, keys: 100 - 30 * t, ksr: 0.3 * t, shown, accepted, acceptRate: accepted / shown, acceptedChars: 0, latenciesMs: [] };
    });
  };
  return { typeAt, typed };
}

test('acceptLowerBound: the pooled rate less z standard errors from how the files differ', () => {
  // By hand: files (30 of 50, 20 of 50): p = 0.5, Σ(aᵢ − p·sᵢ)² = 25 + 25, var = 2 · 50 / 100² = 0.01.
  assert.ok(Math.abs(acceptLowerBound([{ accepted: 30, shown: 50 }, { accepted: 20, shown: 50 }], 1) - (0.5 - 0.1)) < 1e-12);
  // Files that agree leave no doubt; a file that showed nothing does not count; one file says nothing.
  assert.equal(acceptLowerBound([{ accepted: 30, shown: 50 }, { accepted: 60, shown: 100 }, { accepted: 0, shown: 0 }]), 0.6);
  assert.ok(Number.isNaN(acceptLowerBound([{ accepted: 30, shown: 50 }])));
  // More files of the same spread, a tighter bound.
  const files = (n: number) => Array.from({ length: n }, (_, i) => ({ accepted: i % 2 ? 35 : 25, shown: 50 }));
  assert.ok(acceptLowerBound(files(4)) < acceptLowerBound(files(40)));
  assert.ok(acceptLowerBound(files(40)) < 0.6);
});

test('calibrateThreshold: a rate just over the target holds when the files agree, not when they differ widely', async () => {
  const agree = scriptedTyping(() => 0.45);
  assert.equal((await calibrateThreshold(agree.typeAt))?.minConfidence, 0.4);
  assert.deepEqual(agree.typed, [0.4]);
  const differ = scriptedTyping(() => 0.45, { spread: 0.3, files: 4 });
  assert.equal((await calibrateThreshold(differ.typeAt))?.minConfidence, THRESHOLD_STEPS.at(-1));
});

test('calibrateThreshold: never goes below the start, however well the validation files take its suggestions', async () => {
  const { typeAt, typed } = scriptedTyping(() => 0.95);
  const c = await calibrateThreshold(typeAt);
  assert.equal(c?.minConfidence, 0.4);
  assert.deepEqual(typed, [0.4]);
  assert.deepEqual(c?.trials.map((t) => t.minConfidence), [0.4]);
  assert.equal(c?.chars, 1000);
  assert.equal((await calibrateThreshold(scriptedTyping(() => 0.95).typeAt, { start: 0.25 }))?.minConfidence, 0.25);
});

test('calibrateThreshold: walks up from 0.4 until the accept rate holds', async () => {
  const { typeAt, typed } = scriptedTyping((t) => (t >= 0.55 ? 0.56 : 0.44));
  const c = await calibrateThreshold(typeAt, { target: 0.5 });
  assert.deepEqual(typed, [0.4, 0.45, 0.5, 0.55]);
  assert.equal(c?.minConfidence, 0.55);
});

test('calibrateThreshold: stops at the last step when no threshold reaches the target, and at the start when it does', async () => {
  const never = scriptedTyping(() => 0.3);
  assert.equal((await calibrateThreshold(never.typeAt))?.minConfidence, THRESHOLD_STEPS.at(-1));
  assert.deepEqual(never.typed, THRESHOLD_STEPS.slice(THRESHOLD_STEPS.indexOf(0.4)));
  const always = scriptedTyping(() => 0.9);
  assert.equal((await calibrateThreshold(always.typeAt))?.minConfidence, 0.4);
});

test('calibrateThreshold: the target and the start can be given; too few suggestions choose nothing', async () => {
  const { typeAt, typed } = scriptedTyping((t) => t + 0.05);
  const c = await calibrateThreshold(typeAt, { start: 0.5, target: 0.7 });
  assert.deepEqual(typed, [0.5, 0.55, 0.6, 0.7]);
  assert.equal(c?.minConfidence, 0.7);
  assert.equal(c?.targetAcceptRate, 0.7);
  const few = scriptedTyping(() => 0.9, { shown: 1, files: MIN_SHOWN - 1 });
  assert.equal(await calibrateThreshold(few.typeAt), undefined);
  assert.deepEqual(few.typed, [0.4]);
  const oneFile = scriptedTyping(() => 0.9, { shown: 1000, files: MIN_FILES - 1 });
  assert.equal(await calibrateThreshold(oneFile.typeAt), undefined, 'too few files');
  await assert.rejects(calibrateThreshold(typeAt, { start: 0.42 }), /start threshold/);
});

test('calibrationPieces: a short file whole, a window of a longer one at spread parts, going on from the text above; more from each of fewer files', () => {
  const lines = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}${i}\n`).join(''); // 3 characters a line
  const file = lines('a', 10); // 30 characters: a window of 4 has 26 of room
  // Three files, three pieces: file j from the first line start at or after (j + ½) / 3 of the room.
  const three = calibrationPieces([file, '', lines('b', 10), lines('c', 10)], 3, 4);
  assert.deepEqual(three.map((p) => p.text.slice(p.from)), ['a2\na', 'b5\nb', 'c7\nc']);
  assert.deepEqual(three.map((p) => p.from), [6, 15, 21]);
  assert.equal(three[0]!.text, file.slice(0, 10), 'what is above the piece is in the document');
  // A file no longer than a piece is typed whole.
  assert.deepEqual(calibrationPieces(['ab\ncd\n', file], 2, 8).map((p) => [p.from, p.text.slice(p.from)]), [[0, 'ab\ncd\n'], [18, 'a6\na7\na8']]); // the second at ¾ of its room
  // One file, three pieces: at ⅙, ½ and ⅚ of the room.
  assert.deepEqual(calibrationPieces([file], 3, 4).map((p) => p.text.slice(p.from)), ['a2\na', 'a5\na', 'a7\na']);
  // Two files, three pieces: two of the first (¼, ¾), one of the second (½).
  assert.deepEqual(calibrationPieces([file, lines('b', 10)], 3, 4).map((p) => p.text.slice(p.from)), ['a2\na', 'a7\na', 'b5\nb']);
  // A piece never starts inside the one before; a text without a line start there gives its start, once.
  assert.deepEqual(calibrationPieces(['x'.repeat(50)], 3, 40).map((p) => p.text.slice(p.from)), ['x'.repeat(40)]);
  assert.deepEqual(calibrationPieces(['ab\u{1F600}cd'], 1, 3).map((p) => p.text.slice(p.from)), ['ab'], 'never half a surrogate pair');
  assert.deepEqual(calibrationPieces([], 3, 4), []);
});

test('validateCalibration: accepts a chosen threshold and names what is wrong', () => {
  const good = { minConfidence: 0.45, targetAcceptRate: 0.5, chars: 100, trials: [{ minConfidence: 0.45, ksr: 0.3, acceptRate: 0.6, shown: 50, acceptLower: 0.53, files: 5 }], seconds: 2 };
  validateCalibration(good);
  assert.throws(() => validateCalibration({ ...good, minConfidence: 2 }), /completion.minConfidence/);
  assert.throws(() => validateCalibration({ ...good, trials: [{}] }), /completion.trials/);
  assert.throws(() => validateCalibration([]), /completion must be an object/);
});

test('calibrateThreshold through the engine: where the model is right, the start is kept', async () => {
  // After "the" the table says "cat" with p and "dog" with 1 − p; the text always has "cat".
  const words = ['<unk>', '<s>', ' the', ' cat', ' dog', ' sat', '.'];
  const vocab = Vocabulary.fromJSON(words);
  const text = Array.from({ length: 60 }, () => ' the cat sat.').join('');
  const chosen = async (p: number) => {
    const table: Record<string, Record<string, number>> = {
      '<s>': { ' the': 1 },
      ' the': { ' cat': p, ' dog': 1 - p },
      ' cat': { ' sat': 1 },
      ' dog': { ' sat': 1 },
      ' sat': { '.': 1 },
      '.': { ' the': 1 },
    };
    const model = new BigramModel(vocab, table);
    return calibrateThreshold(async (minConfidence) => {
      const predictor = new Predictor(model, vocab, 'text');
      const engine = new CompletionEngine({ getPredictor: () => predictor });
      return typePieces([{ text, from: 0 }, { text, from: 0 }, { text, from: text.length / 2 }], new EngineCompleter(engine, { ...DEFAULT_COMPLETION_SETTINGS, minConfidence }));
    });
  };
  const sure = await chosen(0.9);
  assert.equal(sure?.minConfidence, 0.4);
  assert.ok(sure!.trials.every((t) => t.acceptLower >= 0.5 && t.ksr > 0.5), JSON.stringify(sure!.trials));
  assert.equal(sure!.chars, 2.5 * text.length);
  assert.ok(sure!.trials.every((t) => t.files === 3));
});
