// The completion threshold of one model, chosen at the end of its training run by typing its validation
// files (keystroke-savings.ts): the lowest confidence at which at least TARGET_ACCEPT_RATE of the ghost texts
// shown are taken, with some confidence: the Wilson score interval's lower end (z = ACCEPT_Z, one-sided
// 84 %) must reach it, so that a few hundred characters of validation text cannot talk the threshold down.
// A lower threshold saves more keys but shows more suggestions that are not taken, and where that balance
// lies differs between models and workspaces (code needed a higher one than prose: docs/quality.md). The
// search walks the steps from the default: down while the target holds, or up until it does, so a run
// types the files two or three times.

import { combineKeystrokeFigures, simulateTyping, type Completer, type KeystrokeFigures } from './keystroke-savings.js';

/** The thresholds tried, in order. */
export const THRESHOLD_STEPS: readonly number[] = Object.freeze([0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8]);

/** The share of shown suggestions that must be taken (the product's goal). */
export const TARGET_ACCEPT_RATE = 0.5;

/** How sure: the accept rate's Wilson lower bound at this z must reach the target. */
export const ACCEPT_Z = 1;

/** The lower end of the Wilson score interval of `k` successes in `n` trials at `z` (0 for n = 0). */
export function wilsonLower(k: number, n: number, z = ACCEPT_Z): number {
  if (n <= 0) return 0;
  const p = k / n;
  const z2 = z * z;
  return (p + z2 / (2 * n) - z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
}

/** With fewer suggestions shown at the start threshold, the files say too little: the default stays. */
export const MIN_SHOWN = 40;

/** What is typed: the first CALIBRATION_FILE_CHARS characters of each file, CALIBRATION_CHARS at most in all. */
export const CALIBRATION_FILE_CHARS = 4_000;
export const CALIBRATION_CHARS = 24_000;

export interface ThresholdTrial {
  minConfidence: number;
  ksr: number;
  acceptRate: number;
  shown: number;
  /** The accept rate's lower bound (wilsonLower), what is held against the target. */
  acceptLower: number;
}

export interface ThresholdCalibration {
  /** The threshold chosen. */
  minConfidence: number;
  /** The accept rate it was chosen for (its lower bound at ACCEPT_Z reaches this). */
  targetAcceptRate: number;
  /** Characters typed per trial. */
  chars: number;
  /** Every threshold typed, in the order tried. */
  trials: ThresholdTrial[];
  /** How long the typing took. */
  seconds: number;
}

/**
 * The pieces of `texts` that are typed (in order; empty texts skipped): the start of each, `perFile`
 * characters or, with fewer files than `total` needs at that, an even share of `total`.
 */
export function calibrationTexts(texts: readonly string[], perFile = CALIBRATION_FILE_CHARS, total = CALIBRATION_CHARS): string[] {
  const out: string[] = [];
  const files = texts.filter((t) => t.length > 0).length;
  if (files > 0) perFile = Math.max(perFile, Math.ceil(total / files));
  let left = total;
  for (const t of texts) {
    if (left <= 0) break;
    if (t.length === 0) continue;
    const piece = cutAtCodePoint(t, Math.min(perFile, left));
    out.push(piece);
    left -= piece.length;
  }
  return out;
}

/** `text` cut to at most `n` code units without splitting a surrogate pair. */
function cutAtCodePoint(text: string, n: number): string {
  if (text.length <= n) return text;
  const last = text.charCodeAt(n - 1);
  return text.slice(0, last >= 0xd800 && last < 0xdc00 ? n - 1 : n);
}

/** Types every text with `completer` (each a new document) and sums the figures. */
export async function typeTexts(texts: readonly string[], completer: Completer, signal?: AbortSignal): Promise<KeystrokeFigures> {
  const parts: KeystrokeFigures[] = [];
  for (const text of texts) parts.push(await simulateTyping(completer, text, signal ? { signal } : {}));
  return combineKeystrokeFigures(parts);
}

/**
 * Chooses the threshold (see the top of the file) with `typeAt(minConfidence)`, which types the validation
 * texts. Undefined when fewer than MIN_SHOWN suggestions were shown at `start`.
 */
export async function calibrateThreshold(
  typeAt: (minConfidence: number) => Promise<KeystrokeFigures>,
  opts: { start?: number; target?: number } = {},
): Promise<ThresholdCalibration | undefined> {
  const t0 = performance.now();
  const target = opts.target ?? TARGET_ACCEPT_RATE;
  let at = THRESHOLD_STEPS.indexOf(opts.start ?? 0.4);
  if (at < 0) throw new RangeError(`the start threshold must be one of ${THRESHOLD_STEPS.join(', ')}`);
  const trials: ThresholdTrial[] = [];
  let chars = 0;
  const tryStep = async (i: number): Promise<ThresholdTrial> => {
    const minConfidence = THRESHOLD_STEPS[i]!;
    const k = await typeAt(minConfidence);
    chars = k.chars;
    // Nothing shown at all: nothing is refused either.
    const trial = { minConfidence, ksr: k.ksr, acceptRate: k.shown > 0 ? k.acceptRate : 1, shown: k.shown, acceptLower: k.shown > 0 ? wilsonLower(k.accepted, k.shown) : 1 };
    trials.push(trial);
    return trial;
  };
  const first = await tryStep(at);
  if (first.shown < MIN_SHOWN) return undefined;
  let chosen = first.minConfidence;
  if (first.acceptLower >= target) {
    // Down while the target holds.
    while (at > 0) {
      const t = await tryStep(--at);
      if (t.acceptLower < target) break;
      chosen = t.minConfidence;
    }
  } else {
    // Up until it holds (or the last step).
    while (at < THRESHOLD_STEPS.length - 1) {
      const t = await tryStep(++at);
      chosen = t.minConfidence;
      if (t.acceptLower >= target) break;
    }
  }
  return { minConfidence: chosen, targetAcceptRate: target, chars, trials, seconds: (performance.now() - t0) / 1000 };
}

/** Checks model.json's `completion` record (a parsed, untrusted value); throws what is wrong. */
export function validateCalibration(c: unknown): asserts c is ThresholdCalibration {
  const o = c as Partial<ThresholdCalibration> | null;
  const share = (x: unknown) => typeof x === 'number' && x >= 0 && x <= 1;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('completion must be an object');
  if (!share(o.minConfidence)) throw new Error('completion.minConfidence must be a number in [0, 1]');
  if (!share(o.targetAcceptRate)) throw new Error('completion.targetAcceptRate must be a number in [0, 1]');
  if (!(typeof o.chars === 'number' && o.chars >= 0)) throw new Error('completion.chars must be a number ≥ 0');
  if (!(typeof o.seconds === 'number' && o.seconds >= 0)) throw new Error('completion.seconds must be a number ≥ 0');
  if (!Array.isArray(o.trials) || !o.trials.every((t: ThresholdTrial) => typeof t === 'object' && t !== null && share(t.minConfidence) && typeof t.ksr === 'number' && share(t.acceptRate) && share(t.acceptLower) && typeof t.shown === 'number')) {
    throw new Error('completion.trials must list the thresholds typed');
  }
}
