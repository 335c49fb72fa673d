// Keystroke savings: a simulated typist types a text character by character while a completer shows ghost
// text, and accepts the ghost text whenever it matches what comes next. The figure users feel: how many of
// the keys they would have pressed Nextword saves them.
//
// The rules (the README's "Keystroke savings" section states them for users):
// - The typist types the text from its first character to its last into an empty document, so the text
//   before the cursor is the text typed so far and nothing follows the cursor on its line. Each request
//   carries the window of it the editor sends (request-window.ts: all of it up to 1,000 lines).
// - Before every key the typist looks at the ghost text the completer shows at the cursor (the extension
//   asks on every keystroke; typing faster than VS Code asks is not modelled).
// - If the whole ghost text is what comes next, the typist accepts it: one key (Tab), all of its characters.
// - Otherwise, if it begins with whole words that come next, the typist accepts those words one key each
//   (Ctrl+Right, "accept next word"), when that saves keys (more characters than keys). A word for this
//   purpose is optional leading white space, then a run of word characters or a run of other non-space
//   characters (punctuation).
// - Otherwise the typist types the next character: one key.
// - Keystroke savings rate (KSR) = 1 − keys pressed / characters of the text.
// - A suggestion is shown when the completer shows ghost text that does not continue the one before it
//   (typing through a suggestion, or accepting part of it, keeps it the same suggestion); it is accepted
//   when the typist accepted any of it. accept rate = accepted / shown; accepted characters are the
//   characters inserted by accepting.
//
// Completers: the CompletionEngine (the extension's code path, whatever model its predictor runs), and the
// word-frequency baseline (what VS Code's word-based suggestions offer: the most frequent known word that
// starts with the typed part of the word, accepted with one key).

import type { CompletionEngine, CompletionSettings } from './completion-engine.js';
import { GrowingDocument } from './request-window.js';

/** What the typist sees at the cursor. */
export interface Ghost {
  /** The ghost text: what accepting inserts after the cursor (non-empty). */
  text: string;
  /** True when it is a new suggestion, false when it continues the one shown before (typed through). */
  fresh: boolean;
}

export interface Completer {
  /** The ghost text at the end of `textBefore` (the document so far), or undefined when none is shown. */
  suggest(textBefore: string, signal: AbortSignal): Promise<Ghost | undefined>;
  /** A new document starts (forget the last one's suggestion). */
  reset(): void;
}

export interface KeystrokeFigures {
  /** Characters typed (UTF-16 code units, as an editor counts columns): the text's, or from `from` on. */
  chars: number;
  /** Keys pressed: characters typed plus accept keys. */
  keys: number;
  /** 1 − keys / chars (0 for an empty text). */
  ksr: number;
  /** Suggestions shown (see the rules above). */
  shown: number;
  /** Suggestions of which the typist accepted something. */
  accepted: number;
  /** accepted / shown (NaN when nothing was shown). */
  acceptRate: number;
  /** Characters inserted by accepting. */
  acceptedChars: number;
  /** Time of every completer call, ms. */
  latenciesMs: number[];
}

export interface SimulationOptions {
  /**
   * Where typing starts: the text before it is in the document already (a file the user goes on with), and
   * only what follows is typed and counted. Default 0.
   */
  from?: number;
  /** Stops (rejecting with an AbortError) when aborted. */
  signal?: AbortSignal;
  /** Clock for the latencies, ms. Default performance.now(). */
  now?: () => number;
}

/** One accept-next-word step: optional white space, then word characters or other non-space characters. */
const WORD_STEP = /\s*(?:[\p{L}\p{M}\p{N}_]+|[^\s\p{L}\p{M}\p{N}_]+)|\s+$/uy;

/** The lengths of the accept-next-word steps of `ghost`, in order (their sum is ghost.length). */
export function wordSteps(ghost: string): number[] {
  const steps: number[] = [];
  let at = 0;
  while (at < ghost.length) {
    WORD_STEP.lastIndex = at;
    const m = WORD_STEP.exec(ghost);
    // The pattern matches any non-empty rest; the guard keeps a pattern bug from looping forever.
    const len = m ? m[0].length : ghost.length - at;
    steps.push(len);
    at += len;
  }
  return steps;
}

/** Simulates typing `text` with `completer`; see the rules at the top of the file. */
export async function simulateTyping(completer: Completer, text: string, opts: SimulationOptions = {}): Promise<KeystrokeFigures> {
  const now = opts.now ?? (() => performance.now());
  const signal = opts.signal ?? new AbortController().signal;
  completer.reset();
  const from = opts.from ?? 0;
  if (!(Number.isInteger(from) && from >= 0 && from <= text.length)) throw new RangeError(`from must be an offset into the text (got ${from})`);
  let pos = from;
  let keys = 0;
  let shown = 0;
  let accepted = 0;
  let acceptedChars = 0;
  /** Whether the typist accepted part of the suggestion now shown. */
  let acceptedCurrent = false;
  const latenciesMs: number[] = [];
  while (pos < text.length) {
    signal.throwIfAborted();
    const t0 = now();
    const ghost = await completer.suggest(text.slice(0, pos), signal);
    latenciesMs.push(now() - t0);
    if (ghost && ghost.text.length > 0) {
      if (ghost.fresh) {
        shown++;
        acceptedCurrent = false;
      }
      const take = charsToAccept(ghost.text, text, pos);
      if (take) {
        keys += take.keys;
        pos += take.chars;
        acceptedChars += take.chars;
        if (!acceptedCurrent) accepted++;
        acceptedCurrent = true;
        continue;
      }
    }
    // Typed, not accepted: a whole code point is one key (a surrogate pair is one character typed).
    const cp = text.codePointAt(pos)!;
    pos += cp > 0xffff ? 2 : 1;
    keys++;
  }
  const chars = text.length - from;
  return {
    chars,
    keys,
    ksr: chars > 0 ? 1 - keys / chars : 0,
    shown,
    accepted,
    acceptRate: shown > 0 ? accepted / shown : NaN,
    acceptedChars,
    latenciesMs,
  };
}

/** What accepting `ghost` at `pos` of `text` gains: all of it with one key, or whole words a key each; undefined if nothing pays. */
function charsToAccept(ghost: string, text: string, pos: number): { chars: number; keys: number } | undefined {
  if (text.startsWith(ghost, pos)) return { chars: ghost.length, keys: 1 };
  let chars = 0;
  let keys = 0;
  let best: { chars: number; keys: number } | undefined;
  for (const len of wordSteps(ghost)) {
    if (!text.startsWith(ghost.slice(chars, chars + len), pos + chars)) break;
    chars += len;
    keys++;
    if (chars > keys) best = { chars, keys };
  }
  return best;
}

/** Sums the figures of several texts (latencies concatenated). */
export function combineKeystrokeFigures(parts: KeystrokeFigures[]): KeystrokeFigures {
  const sum = (k: 'chars' | 'keys' | 'shown' | 'accepted' | 'acceptedChars') => parts.reduce((s, p) => s + p[k], 0);
  const chars = sum('chars');
  const keys = sum('keys');
  const shown = sum('shown');
  const accepted = sum('accepted');
  return {
    chars,
    keys,
    ksr: chars > 0 ? 1 - keys / chars : 0,
    shown,
    accepted,
    acceptRate: shown > 0 ? accepted / shown : NaN,
    acceptedChars: sum('acceptedChars'),
    latenciesMs: parts.flatMap((p) => p.latenciesMs),
  };
}

// ------------------------------------------------------------------------------------------------
// Completers.

/**
 * The extension's completions: every request goes through `engine` exactly as the inline completion
 * provider sends it (an automatic request at the end of the document), and the first item is the ghost
 * text. The engine's type-through cache decides whether a suggestion continues the previous one.
 */
export class EngineCompleter implements Completer {
  private docCount = 0;
  private docKey = 'typist:0';
  /** Each request carries the window of the text the editor would send (request-window.ts). */
  private document = new GrowingDocument();

  constructor(
    private readonly engine: CompletionEngine,
    private readonly settings: CompletionSettings,
  ) {}

  reset(): void {
    this.engine.forget(this.docKey);
    this.docKey = `typist:${++this.docCount}`;
    this.document = new GrowingDocument();
  }

  async suggest(textBefore: string, signal: AbortSignal): Promise<Ghost | undefined> {
    const lineStart = Math.max(textBefore.lastIndexOf('\n'), textBefore.lastIndexOf('\r')) + 1;
    const character = textBefore.length - lineStart;
    const from = this.document.windowStart(textBefore);
    const windowed = from === 0 ? textBefore : textBefore.slice(from);
    const outcome = await this.engine.complete({ docKey: this.docKey, textBefore: windowed, lineSuffix: '', character, explicit: false, settings: this.settings }, signal);
    if (outcome.kind !== 'items') return undefined;
    const item = outcome.items[0]!;
    const text = item.insertText.slice(character - item.startCharacter);
    return text ? { text, fresh: !outcome.cached } : undefined;
  }
}

/** Word characters of the word-frequency baseline (VS Code's default word definition, without its number rule). */
const WORD_CHARS = /[\p{L}\p{M}\p{N}_]+/gu;
const WORD_CHAR = /^[\p{L}\p{M}\p{N}_]$/u;

/** The word characters at the end of `text` (scanned backwards: a `…$` pattern would scan the whole text). */
function trailingWord(text: string): string {
  let start = text.length;
  while (start > 0) {
    const low = text.charCodeAt(start - 1);
    const pair = low >= 0xdc00 && low <= 0xdfff && start >= 2 ? 2 : 1;
    if (!WORD_CHAR.test(text.slice(start - pair, start))) break;
    start -= pair;
  }
  return text.slice(start);
}

/**
 * VS Code's word-based suggestions as a baseline: while a word is being typed (one character or more), the
 * suggestion is the most frequent word starting with the typed part (ties: the shorter, then code-unit
 * order), among the words of the workspace (`counts`) and the words of the document typed so far (VS Code
 * offers the words of open documents). Accepting inserts the rest of the word (one key).
 */
export class WordFrequencyCompleter implements Completer {
  /** Workspace words, sorted, for prefix ranges. */
  private readonly sorted: string[];
  private readonly counts: Map<string, number>;
  /** Words of the document typed so far, counted up to `scanned`; those the workspace lacks, sorted. */
  private doc = new Map<string, number>();
  private docOnly: string[] = [];
  private scanned = 0;
  private last: string | undefined;

  constructor(counts: Map<string, number>) {
    this.counts = counts;
    this.sorted = [...counts.keys()].sort(compareStrings);
  }

  /** Counts the words of `texts` (the workspace's files). */
  static countWords(texts: Iterable<string>): Map<string, number> {
    const counts = new Map<string, number>();
    for (const t of texts) for (const m of t.matchAll(WORD_CHARS)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
    return counts;
  }

  reset(): void {
    this.doc = new Map();
    this.docOnly = [];
    this.scanned = 0;
    this.last = undefined;
  }

  async suggest(textBefore: string): Promise<Ghost | undefined> {
    const typed = trailingWord(textBefore);
    this.countDocumentWords(textBefore, textBefore.length - typed.length);
    const word = typed ? this.best(typed) : undefined;
    if (!word) {
      this.last = undefined;
      return undefined;
    }
    // The same word still on offer, typed further: the same suggestion.
    const fresh = this.last !== word;
    this.last = word;
    return { text: word.slice(typed.length), fresh };
  }

  /** Counts the document's complete words before `end` (the word being typed is not one yet). */
  private countDocumentWords(text: string, end: number): void {
    if (end < this.scanned) {
      const last = this.last;
      this.reset();
      this.last = last;
    }
    if (end === this.scanned) return;
    // The scan stopped before the word being typed then, at a word boundary, so words are counted whole.
    for (const m of text.slice(this.scanned, end).matchAll(WORD_CHARS)) {
      const w = m[0];
      const n = this.doc.get(w) ?? 0;
      this.doc.set(w, n + 1);
      if (n === 0 && !this.counts.has(w)) this.docOnly.splice(lowerBound(this.docOnly, w), 0, w);
    }
    this.scanned = end;
  }

  private best(typed: string): string | undefined {
    let best: string | undefined;
    let bestCount = 0;
    const consider = (word: string, count: number) => {
      if (word.length <= typed.length || !word.startsWith(typed)) return;
      if (count > bestCount || (count === bestCount && best !== undefined && (word.length < best.length || (word.length === best.length && word < best)))) {
        best = word;
        bestCount = count;
      }
    };
    for (let i = lowerBound(this.sorted, typed); i < this.sorted.length && this.sorted[i]!.startsWith(typed); i++) {
      const w = this.sorted[i]!;
      consider(w, this.counts.get(w)! + (this.doc.get(w) ?? 0));
    }
    for (let i = lowerBound(this.docOnly, typed); i < this.docOnly.length && this.docOnly[i]!.startsWith(typed); i++) {
      consider(this.docOnly[i]!, this.doc.get(this.docOnly[i]!)!);
    }
    return best;
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First index of `sorted` whose word is ≥ key. */
function lowerBound(sorted: string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
