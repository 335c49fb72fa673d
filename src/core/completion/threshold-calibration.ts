// The completion threshold of one model, checked at the end of its training run by typing pieces of its
// validation files (keystroke-savings.ts; calibrationPieces): the default, or the lowest step above it at
// which at least TARGET_ACCEPT_RATE of the ghost texts shown are taken, with some confidence. Suggestions
// within a file go together (a file the model knows well has most of its suggestions taken), so the unit
// of evidence is the file: the accept rate is the ratio of the files' sums, and its lower bound (z =
// ACCEPT_Z, one-sided 84 %) takes its standard error from how the files differ (the ratio estimator's
// linearised, cluster-robust variance); fewer than MIN_FILES files choose nothing. The walk never goes below
// the default: the validation files flatter a model whose mixture was fitted and whose training was stopped
// on them. docs/quality.md, "Each model's threshold", has what was tried and the figures behind each choice.

import { DEFAULT_COMPLETION_SETTINGS } from './completion-engine.js';
import { combineKeystrokeFigures, simulateTyping, type Completer, type KeystrokeFigures } from './keystroke-savings.js';

/** The thresholds tried, in order. */
export const THRESHOLD_STEPS: readonly number[] = Object.freeze([0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8]);

/**
 * The share of shown suggestions below which the threshold goes up. Not the product's goal of one half: the
 * validation files flatter the model, and where their pieces are not what the user types (the middle of a
 * long file, not its start) they mislead the other way too, and raising the threshold to reach one half
 * there cost held-out keystroke savings (docs/quality.md). So it catches a model whose suggestions are
 * clearly worse than the default assumes, and no more.
 */
export const TARGET_ACCEPT_RATE = 0.4;

/** How sure: the accept rate's lower bound at this z must reach the target. */
export const ACCEPT_Z = 1;

/** Fewer validation files with suggestions than this, and the default stays. */
export const MIN_FILES = 3;

/**
 * The accept rate over `files` (Σ accepted / Σ shown) less `z` standard errors, the error estimated from
 * the files as clusters: var = n / (n − 1) · Σ (aᵢ − p·sᵢ)² / (Σ s)² over the n files that showed
 * something. NaN with fewer than two such files.
 */
export function acceptLowerBound(files: readonly Pick<KeystrokeFigures, 'accepted' | 'shown'>[], z = ACCEPT_Z): number {
  const shown = files.filter((f) => f.shown > 0);
  const n = shown.length;
  if (n < 2) return NaN;
  const S = shown.reduce((t, f) => t + f.shown, 0);
  const p = shown.reduce((t, f) => t + f.accepted, 0) / S;
  const spread = shown.reduce((t, f) => t + (f.accepted - p * f.shown) ** 2, 0);
  return p - z * Math.sqrt(((n / (n - 1)) * spread) / (S * S));
}

/** With fewer suggestions shown at the start threshold, the files say too little: the default stays. */
export const MIN_SHOWN = 40;

/** What is typed: CALIBRATION_PIECES pieces of CALIBRATION_PIECE_CHARS characters (calibrationPieces). */
export const CALIBRATION_PIECES = 12;
export const CALIBRATION_PIECE_CHARS = 2_000;

export interface ThresholdTrial {
  minConfidence: number;
  ksr: number;
  acceptRate: number;
  shown: number;
  /** The accept rate's lower bound (acceptLowerBound), what is held against the target. */
  acceptLower: number;
  /** Files that showed a suggestion. */
  files: number;
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

/** A piece of a validation file to type: `text` up to the piece's end, typed from `from` on (what comes before is in the document). */
export interface CalibrationPiece {
  text: string;
  from: number;
}

/**
 * The pieces of `texts` that are typed: `pieces` at most, each of at most `chars` characters, standing for
 * the files as a typist types them whole: a file that short is a piece from its start; from a longer one, a
 * window of `chars` from a line start part of the way through it (file j of `pieces` at (j + ½) / pieces of
 * the room there is), going on from the text above it, as a user goes on with a file. Neither the files'
 * beginnings (licence headers, imports: their easiest text) nor their ends are favoured. With fewer files
 * than pieces, a file gives more, spread through it (a corpus's one validation text gives them all); empty
 * texts are skipped.
 */
export function calibrationPieces(texts: readonly string[], pieces = CALIBRATION_PIECES, chars = CALIBRATION_PIECE_CHARS): CalibrationPiece[] {
  const files = texts.filter((t) => t.length > 0).slice(0, pieces);
  const n = files.length;
  const out: CalibrationPiece[] = [];
  files.forEach((t, j) => {
    const count = t.length <= chars ? 1 : n >= pieces ? 1 : Math.floor(pieces / n) + (j < pieces % n ? 1 : 0);
    let after = 0; // a piece starts past the one before it in the same text
    for (let k = 0; k < count; k++) {
      const part = n >= pieces ? (j + 0.5) / pieces : (k + 0.5) / count;
      let at = Math.max(after, lineStartFrom(t, Math.floor(part * Math.max(0, t.length - chars))));
      if (at >= t.length) {
        if (k > 0) break;
        at = 0; // no line starts there: the file's start
      }
      const piece = cutAtCodePoint(t.slice(at), chars);
      out.push({ text: t.slice(0, at + piece.length), from: at });
      after = at + piece.length;
    }
  });
  return out;
}

/** The first line start at or after `at` (t.length if none). */
function lineStartFrom(t: string, at: number): number {
  if (at <= 0) return 0;
  const nl = t.indexOf('\n', at - 1);
  return nl < 0 ? t.length : nl + 1;
}

/** `text` cut to at most `n` code units without splitting a surrogate pair. */
function cutAtCodePoint(text: string, n: number): string {
  if (text.length <= n) return text;
  const last = text.charCodeAt(n - 1);
  return text.slice(0, last >= 0xd800 && last < 0xdc00 ? n - 1 : n);
}

/** Types every piece with `completer` (each in a document of its own): the figures of each. */
export async function typePieces(pieces: readonly CalibrationPiece[], completer: Completer, signal?: AbortSignal): Promise<KeystrokeFigures[]> {
  const parts: KeystrokeFigures[] = [];
  for (const p of pieces) parts.push(await simulateTyping(completer, p.text, { from: p.from, ...(signal ? { signal } : {}) }));
  return parts;
}

/**
 * Chooses the threshold (see the top of the file) with `typeAt(minConfidence)`, which types the validation
 * pieces and gives each one's figures: `start`, or the first step above it at which the target holds.
 * Undefined when fewer than MIN_FILES files, or fewer than MIN_SHOWN suggestions, were shown at `start`.
 */
export async function calibrateThreshold(
  typeAt: (minConfidence: number) => Promise<KeystrokeFigures[]>,
  opts: { start?: number; target?: number } = {},
): Promise<ThresholdCalibration | undefined> {
  const t0 = performance.now();
  const target = opts.target ?? TARGET_ACCEPT_RATE;
  let at = THRESHOLD_STEPS.indexOf(opts.start ?? DEFAULT_COMPLETION_SETTINGS.minConfidence);
  if (at < 0) throw new RangeError(`the start threshold must be one of ${THRESHOLD_STEPS.join(', ')}`);
  const trials: ThresholdTrial[] = [];
  let chars = 0;
  const tryStep = async (i: number): Promise<ThresholdTrial> => {
    const minConfidence = THRESHOLD_STEPS[i]!;
    const files = await typeAt(minConfidence);
    const k = combineKeystrokeFigures(files);
    chars = k.chars;
    const shownIn = files.filter((f) => f.shown > 0).length;
    // Nothing shown at all: nothing is refused either.
    const acceptLower = k.shown === 0 ? 1 : shownIn < 2 ? 0 : Math.max(0, acceptLowerBound(files));
    const trial = { minConfidence, ksr: k.ksr, acceptRate: k.shown > 0 ? k.acceptRate : 1, shown: k.shown, acceptLower, files: shownIn };
    trials.push(trial);
    return trial;
  };
  const first = await tryStep(at);
  if (first.shown < MIN_SHOWN || first.files < MIN_FILES) return undefined;
  let chosen = first.minConfidence;
  // Up until the target holds (or the last step); never down: the validation files flatter the model
  // that was fitted on them, so a target met there is no proof it will be met elsewhere.
  if (first.acceptLower < target) {
    while (at < THRESHOLD_STEPS.length - 1) {
      const t = await tryStep(++at);
      chosen = t.minConfidence;
      if (t.acceptLower >= target) break;
    }
  }
  return { minConfidence: chosen, targetAcceptRate: target, chars, trials, seconds: (performance.now() - t0) / 1000 };
}

/** The trial of the threshold chosen (undefined only in a record not written by calibrateThreshold). */
export function chosenTrial(c: Pick<ThresholdCalibration, 'minConfidence' | 'trials'>): ThresholdTrial | undefined {
  return c.trials.find((t) => t.minConfidence === c.minConfidence);
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
  if (!Array.isArray(o.trials) || !o.trials.every((t: ThresholdTrial) => typeof t === 'object' && t !== null && share(t.minConfidence) && typeof t.ksr === 'number' && share(t.acceptRate) && share(t.acceptLower) && typeof t.shown === 'number' && typeof t.files === 'number')) {
    throw new Error('completion.trials must list the thresholds typed');
  }
}
