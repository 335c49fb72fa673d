// Errors put into a text on purpose, to measure how well surprisal finds them (`nextword bench errors`):
//   typo       one letter of a word of 4+ letters substituted, deleted, inserted or swapped with its neighbour;
//   swap       two adjacent words on a line exchanged ("the model runs" → "model the runs");
//   real-word  a word replaced by another word that is frequent in the project ("run the model" → "run the
//              which"): spelled right, wrong in its place.
// Only words of letters are touched (no numbers, identifiers with digits or underscores, punctuation), each
// error on words no other error touches. Seeded: the same text, kind and seed give the same errors.
//
// Shapes: the text's tokens in text mode (tokenizer.ts), whose concatenation is the text.

import { tokenize } from '../text/tokenizer.js';

export type ErrorKind = 'typo' | 'swap' | 'real-word';
export const ERROR_KINDS: readonly ErrorKind[] = ['typo', 'swap', 'real-word'];

export interface InjectedError {
  kind: ErrorKind;
  /** Characters of the corrupted text that the error changed: [start, end). */
  start: number;
  end: number;
  /** The text there before, and after. */
  original: string;
  replacement: string;
}

export interface InjectionOptions {
  /** A uniform random number in [0, 1). */
  rand: () => number;
  /** One error per this many eligible words (at least one error when any word is eligible). Default 100. */
  every?: number;
  /** real-word: the words to replace with (without leading space). */
  frequentWords?: readonly string[];
}

const LETTERS_WORD = /^( ?)(\p{L}+)$/u;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';

/** `text` with errors of `kind`, and where they are in the result. */
export function injectErrors(text: string, kind: ErrorKind, opts: InjectionOptions): { text: string; errors: InjectedError[] } {
  const every = opts.every ?? 100;
  if (!(every >= 1)) throw new Error(`injectErrors: every must be ≥ 1 (got ${every})`);
  const frequent = (opts.frequentWords ?? []).filter((w) => /^\p{L}+$/u.test(w));
  if (kind === 'real-word' && frequent.length < 2) throw new Error('injectErrors: real-word errors need at least two frequent words');
  const tokens = tokenize(text, 'text');
  const parts = tokens.map((t) => LETTERS_WORD.exec(t));
  // Eligible positions: the first token of each error.
  const eligible: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const p = parts[i];
    if (!p) continue;
    if (kind === 'typo' && p[2]!.length < 4) continue;
    if (kind === 'swap') {
      const q = parts[i + 1];
      // Adjacent words on one line: the second follows after its one space; different words.
      if (!q || q[1] !== ' ' || q[2] === p[2]) continue;
    }
    eligible.push(i);
  }
  const wanted = eligible.length ? Math.max(1, Math.floor(eligible.length / every)) : 0;
  const chosen = pickApart(eligible, wanted, kind === 'swap' ? 2 : 1, opts.rand);

  const out = [...tokens];
  const changed = new Map<number, { kind: ErrorKind; last: number }>();
  for (const i of chosen) {
    const [, lead, word] = parts[i]!;
    if (kind === 'typo') out[i] = lead! + typo(word!, opts.rand);
    else if (kind === 'real-word') {
      const others = frequent.filter((w) => w !== word);
      out[i] = lead! + others[Math.floor(opts.rand() * others.length)]!;
    } else {
      const [, lead2, word2] = parts[i + 1]!;
      out[i] = lead! + word2!;
      out[i + 1] = lead2! + word!;
    }
    changed.set(i, { kind, last: kind === 'swap' ? i + 1 : i });
  }
  const errors: InjectedError[] = [];
  let at = 0;
  let result = '';
  for (let i = 0; i < out.length; i++) {
    const c = changed.get(i);
    if (c) {
      const original = tokens.slice(i, c.last + 1).join('');
      const replacement = out.slice(i, c.last + 1).join('');
      errors.push({ kind: c.kind, start: at, end: at + replacement.length, original, replacement });
    }
    result += out[i]!;
    at += out[i]!.length;
  }
  return { text: result, errors };
}

/** One random edit of a word of 4+ letters, never leaving it unchanged. */
function typo(word: string, rand: () => number): string {
  const chars = Array.from(word);
  for (;;) {
    const op = Math.floor(rand() * 4);
    const i = Math.floor(rand() * chars.length);
    const letter = ALPHABET[Math.floor(rand() * ALPHABET.length)]!;
    const next = [...chars];
    if (op === 0) next[i] = letter; //                                               substitute
    else if (op === 1) next.splice(i, 1); //                                          delete
    else if (op === 2) next.splice(i, 0, letter); //                                  insert
    else if (i + 1 < next.length) [next[i], next[i + 1]] = [next[i + 1]!, next[i]!]; //   transpose
    const out = next.join('');
    if (out !== word && out.length > 0) return out;
  }
}

/** `count` positions from `eligible` (sorted), each at least `span` tokens after the one before, at random. */
function pickApart(eligible: readonly number[], count: number, span: number, rand: () => number): number[] {
  const pool = [...eligible];
  // Fisher–Yates, then take greedily what does not overlap an earlier pick.
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  const taken: number[] = [];
  for (const p of pool) {
    if (taken.length === count) break;
    if (taken.every((q) => p >= q + span || q >= p + span)) taken.push(p);
  }
  return taken.sort((a, b) => a - b);
}
