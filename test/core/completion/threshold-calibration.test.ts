// Choosing a model's completion threshold: the walk over the steps against scripted figures (the accept
// rate each threshold gives), the texts typed, the record's validation, and one real run through the
// extension's engine over a bigram model, whose suggestions and their confidences follow from its table.

import assert from 'node:assert/strict';
import test from 'node:test';
import { CompletionEngine, DEFAULT_COMPLETION_SETTINGS } from '../../../src/core/completion/completion-engine.js';
import { EngineCompleter, type KeystrokeFigures } from '../../../src/core/completion/keystroke-savings.js';
import {
  calibrateThreshold, calibrationTexts, MIN_SHOWN, THRESHOLD_STEPS, typeTexts, validateCalibration, wilsonLower,
} from '../../../src/core/completion/threshold-calibration.js';
import { Predictor } from '../../../src/core/predictor.js';
import { Vocabulary } from '../../../src/core/vocabulary.js';
import { BigramModel } from './bigram-model.js';

/** Figures whose accept rate at each threshold is `rate(t)`, with `shown` suggestions; records the thresholds typed. */
function scriptedTyping(rate: (t: number) => number, shown = 100) {
  const typed: number[] = [];
  const typeAt = async (t: number): Promise<KeystrokeFigures> => {
    typed.push(t);
    const accepted = Math.round(rate(t) * shown);
    return { chars: 1000, keys: 1000 - 300 * t, ksr: 0.3 * t, shown, accepted, acceptRate: accepted / shown, acceptedChars: 0, latenciesMs: [] };
  };
  return { typeAt, typed };
}

test('wilsonLower: the Wilson score interval\'s lower end, narrowing with more trials', () => {
  // By hand: k = 60 of n = 100 at z = 1: (0.6 + 0.005 − sqrt(0.0024 + 0.000025)) / 1.01.
  assert.ok(Math.abs(wilsonLower(60, 100, 1) - (0.605 - Math.sqrt(0.002425)) / 1.01) < 1e-12);
  assert.ok(wilsonLower(30, 50) < wilsonLower(300, 500));
  assert.ok(wilsonLower(300, 500) < 0.6);
  assert.equal(wilsonLower(0, 0), 0);
  assert.ok(wilsonLower(10, 10) < 1 && wilsonLower(10, 10) > 0.9);
});

test('calibrateThreshold: a rate just over the target on few suggestions does not hold, on many it does', async () => {
  const few = scriptedTyping(() => 0.55, 50);
  assert.notEqual((await calibrateThreshold(few.typeAt))?.minConfidence, 0.4);
  const many = scriptedTyping(() => 0.55, 2000);
  assert.equal((await calibrateThreshold(many.typeAt))?.minConfidence, THRESHOLD_STEPS[0]);
});

test('calibrateThreshold: walks down from 0.4 while the accept rate holds, and keeps the last that held', async () => {
  const { typeAt, typed } = scriptedTyping((t) => (t >= 0.3 ? 0.6 : 0.45));
  const c = await calibrateThreshold(typeAt);
  assert.deepEqual(typed, [0.4, 0.35, 0.3, 0.25]);
  assert.equal(c?.minConfidence, 0.3);
  assert.deepEqual(c?.trials.map((t) => t.minConfidence), typed);
  assert.equal(c?.chars, 1000);
});

test('calibrateThreshold: walks up from 0.4 until the accept rate holds', async () => {
  const { typeAt, typed } = scriptedTyping((t) => (t >= 0.55 ? 0.56 : 0.44));
  const c = await calibrateThreshold(typeAt);
  assert.deepEqual(typed, [0.4, 0.45, 0.5, 0.55]);
  assert.equal(c?.minConfidence, 0.55);
});

test('calibrateThreshold: stops at the last step when no threshold reaches the target, and at the first when all do', async () => {
  const never = scriptedTyping(() => 0.3);
  assert.equal((await calibrateThreshold(never.typeAt))?.minConfidence, THRESHOLD_STEPS.at(-1));
  assert.deepEqual(never.typed, THRESHOLD_STEPS.slice(THRESHOLD_STEPS.indexOf(0.4)));
  const always = scriptedTyping(() => 0.9);
  assert.equal((await calibrateThreshold(always.typeAt))?.minConfidence, THRESHOLD_STEPS[0]);
});

test('calibrateThreshold: the target and the start can be given; too few suggestions choose nothing', async () => {
  const { typeAt, typed } = scriptedTyping((t) => t + 0.05);
  const c = await calibrateThreshold(typeAt, { start: 0.5, target: 0.7 });
  assert.deepEqual(typed, [0.5, 0.55, 0.6, 0.7]);
  assert.equal(c?.minConfidence, 0.7);
  assert.equal(c?.targetAcceptRate, 0.7);
  const few = scriptedTyping(() => 0.9, MIN_SHOWN - 1);
  assert.equal(await calibrateThreshold(few.typeAt), undefined);
  assert.deepEqual(few.typed, [0.4]);
  await assert.rejects(calibrateThreshold(typeAt, { start: 0.42 }), /start threshold/);
});

test('calibrationTexts: the first characters of each file, up to a total, never half a surrogate pair', () => {
  assert.deepEqual(calibrationTexts(['abcdef', '', 'ghij', 'klmnop'], 3, 10), ['abcd', 'ghij', 'kl']); // 10 / 3 files: 4 each
  assert.deepEqual(calibrationTexts(['abcdef', 'ghij', 'klmnop', 'qr', 'st'], 3, 10), ['abc', 'ghi', 'klm', 'q']);
  assert.deepEqual(calibrationTexts(['ab\u{1F600}cd'], 1, 3), ['ab']);
  assert.deepEqual(calibrationTexts([], 4, 10), []);
});

test('validateCalibration: accepts a chosen threshold and names what is wrong', () => {
  const good = { minConfidence: 0.45, targetAcceptRate: 0.5, chars: 100, trials: [{ minConfidence: 0.45, ksr: 0.3, acceptRate: 0.6, shown: 50, acceptLower: 0.53 }], seconds: 2 };
  validateCalibration(good);
  assert.throws(() => validateCalibration({ ...good, minConfidence: 2 }), /completion.minConfidence/);
  assert.throws(() => validateCalibration({ ...good, trials: [{}] }), /completion.trials/);
  assert.throws(() => validateCalibration([]), /completion must be an object/);
});

test('calibrateThreshold through the engine: where the model is right, the lowest step is kept', async () => {
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
      return typeTexts([text, text], new EngineCompleter(engine, { ...DEFAULT_COMPLETION_SETTINGS, minConfidence }));
    });
  };
  const sure = await chosen(0.9);
  assert.equal(sure?.minConfidence, THRESHOLD_STEPS[0]);
  assert.ok(sure!.trials.every((t) => t.acceptLower >= 0.5 && t.ksr > 0.5), JSON.stringify(sure!.trials));
  assert.equal(sure!.chars, 2 * text.length);
});
