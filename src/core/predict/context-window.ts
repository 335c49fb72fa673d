// Context window: which cached model state a context continues from, and which token ids remain to be fed.
// The Predictor is asked on every keystroke with the text before the cursor (from a start that stays put:
// the document's, or the editor's window, completion/request-window.ts), so the work of a request
// must not grow with the document's length.
//
// Shapes: n ids, V vocabulary; the recurrent state is opaque here.
//
// An RNN's state already summarises everything fed before it, so a context that extends a cached one needs
// only its new tokens, however long the document has grown: the context is never truncated while it is
// being extended. Only a cold start (no cached context applies) is bounded: the start token, then the last
// maxContextTokens tokens of the last maxContextChars characters (cut at a line start when there is one).
//
// Anchors. Tokenization never looks across a line break (see tokenizer.ts), so the tokens before a text's
// last line are settled. Each cached context hangs from an anchor at the start of its last line: the text
// before that point, and the model state after it. A new context that starts with an anchor's text is
// tokenized from the anchor on (the last line, plus whatever lines were added since), and continues from the
// context on that anchor whose ids are the longest prefix of its own, or else from the anchor itself. So:
//   - typing forward feeds each token once (a line break moves the anchor to the new line);
//   - editing the last line (backspace, retyping, a token that grows such as "3." → "3.14") re-feeds at most
//     the tokens of that line;
//   - a change before the last line (an edit higher up, another document) matches no anchor: a cold start.
// A large paste (more than maxContextChars new characters, or maxContextTokens new tokens) starts cold too:
// a cold start costs less.
//
// Exactness: a context's state depends on how it was reached. Typed forward from the top of a 5,000-token
// file, the state has seen all 5,000 tokens; the same text asked cold is fed its last maxContextTokens
// tokens only. Both approximate p(next | the whole text), the first more closely. (Predictor.score is exact:
// it always feeds the whole text.) A cold start cut inside one huge line may also tokenize the first kept
// token differently from the whole line.
//
// Work per request: tokenizing the text from the anchor on (the last line and what was added since, at most
// maxContextChars more than a cached context), comparing the ids of that line, one comparison of the text
// before the anchor (a memcmp, about 20 µs per MB), and feeding the new ids. Memory: `cacheSize` contexts,
// each with the ids of its last line and one [V] row, and their anchors (one [V] row each).

import type { RecurrentState } from '../model/language-model.js';
import { EOS, tokenize, type TokenizerMode } from '../text/tokenizer.js';

/** The state and next-token distribution after some ids. */
export interface Advanced {
  state: RecurrentState;
  /** [V] */
  logProbs: Float32Array;
}

/** How the window runs the model (the Predictor's model calls). */
export interface ContextFeeder {
  initialState(): RecurrentState;
  /** The state after `ids` (n ≥ 1) fed from `state`, and the distribution of the token after them. */
  advance(state: RecurrentState, ids: Int32Array): Promise<Advanced>;
}

export interface ContextWindowOptions {
  mode: TokenizerMode;
  /** Fed first on a cold start: the start-of-line token (see startTokenId). */
  startId: number;
  /** Most tokens fed on a cold start, the start token aside; also the most new tokens fed when extending. */
  maxContextTokens: number;
  /** Most characters tokenized on a cold start; also the most new characters tokenized when extending. */
  maxContextChars: number;
  /** Contexts kept, least recently used dropped first. */
  cacheSize: number;
  /** Token ids (the vocabulary's encode; unknown tokens are 0). */
  encode: (tokens: readonly string[]) => Int32Array;
  /** The tokenizer, given text that starts at a line start. Default tokenize(text, mode); tests count its work. */
  tokenize?: (text: string) => string[];
}

export interface CachedContext {
  /** The state after the context, and the distribution of the next token. */
  readonly value: Promise<Advanced>;
  /** The last maxContextTokens complete tokens of the context at most (the state may have seen more). */
  tokens(): string[];
}

const LF = 0x0a;
const CR = 0x0d;
const LS = 0x2028;
const PS = 0x2029;

/** The start of a text's last line, and the model state there; shared by the contexts on that line. */
class Anchor {
  private memo: Promise<Advanced> | undefined;

  constructor(
    /** Where tokenizing resumes: the start of the last line (a cold start's cut, inside one huge line). */
    readonly from: number,
    /** text[0, from): the contexts that start with it may hang from this anchor. */
    readonly text: string,
    /** Leading tokens of text[from, …) never fed: a cold start inside a line of more than maxContextTokens tokens. */
    readonly skip: number,
    /** The last maxContextTokens tokens at most fed before `from` (for CachedContext.tokens). */
    readonly before: readonly string[],
    /** The state after everything fed before `from` (computed on first use when it is just the start token). */
    private readonly compute: () => Promise<Advanced>,
  ) {}

  value(): Promise<Advanced> {
    if (!this.memo) {
      const p = this.compute();
      this.memo = p;
      p.catch(() => {
        if (this.memo === p) this.memo = undefined; // retried by the next request
      });
    }
    return this.memo;
  }
}

class Entry implements CachedContext {
  constructor(
    readonly anchor: Anchor,
    /** The context's length. */
    readonly end: number,
    /** The tokens fed after the anchor: those of text[anchor.from, end) but the first anchor.skip. */
    readonly lineTokens: readonly string[],
    readonly lineIds: Int32Array,
    readonly value: Promise<Advanced>,
    private readonly maxTokens: number,
  ) {}

  tokens(): string[] {
    const line = this.lineTokens;
    if (line.length >= this.maxTokens) return line.slice(line.length - this.maxTokens);
    const before = this.anchor.before;
    return [...before.slice(Math.max(0, before.length - (this.maxTokens - line.length))), ...line];
  }
}

export class ContextWindow {
  private readonly mode: TokenizerMode;
  private readonly startId: number;
  private readonly maxContextTokens: number;
  private readonly maxContextChars: number;
  private readonly cacheSize: number;
  private readonly encode: (tokens: readonly string[]) => Int32Array;
  private readonly tokenize: (text: string) => string[];
  /** Least recently used first. */
  private readonly entries: Entry[] = [];

  constructor(
    private readonly feeder: ContextFeeder,
    opts: ContextWindowOptions,
  ) {
    if (opts.mode !== 'text' && opts.mode !== 'whitespace') {
      throw new Error(`ContextWindow: unknown tokenizer mode "${String(opts.mode)}" (expected "text" or "whitespace")`);
    }
    this.mode = opts.mode;
    this.startId = nonNegativeInteger(opts.startId, 'startId');
    this.maxContextTokens = positiveInteger(opts.maxContextTokens, 'maxContextTokens');
    this.maxContextChars = positiveInteger(opts.maxContextChars, 'maxContextChars');
    this.cacheSize = positiveInteger(opts.cacheSize, 'cacheSize');
    this.encode = opts.encode;
    const mode = opts.mode;
    this.tokenize = opts.tokenize ?? ((text) => tokenize(text, mode));
  }

  /**
   * The cached state for `context` (complete tokens only: the Predictor splits off the word being typed),
   * or a new one extending the best cached context, or a cold start. Returns at once; concurrent callers
   * asking for the same context share its work. A failed feed is dropped from the cache.
   */
  get(context: string): CachedContext {
    const found = this.extend(context);
    if (found?.cached) {
      this.touch(found.entry);
      return found.entry;
    }
    const entry = found?.entry ?? this.coldStart(context);
    this.entries.push(entry);
    if (this.entries.length > this.cacheSize) this.entries.shift();
    entry.value.catch(() => {
      const at = this.entries.indexOf(entry);
      if (at >= 0) this.entries.splice(at, 1);
    });
    return entry;
  }

  // ------------------------------------------------------------------------------------------------

  /**
   * A cached context with the same ids (`cached`), or a new one continuing the best cached state; undefined
   * when no anchor applies or a cold start costs less.
   */
  private extend(text: string): { entry: Entry; cached: boolean } | undefined {
    const anchor = this.anchorFor(text);
    if (!anchor) return undefined;
    const siblings = this.entries.filter((e) => e.anchor === anchor);
    let known = anchor.from;
    for (const e of siblings) known = Math.max(known, e.end);
    if (text.length - known > this.maxContextChars) return undefined; // a large paste: start cold

    const lineFrom = lastLineStart(text, anchor.from, this.mode);
    const head = lineFrom > anchor.from ? this.tokenize(text.slice(anchor.from, lineFrom)) : [];
    const line = this.lineTokens(text.slice(lineFrom));
    // k: how many of the ids lie before the new line start (0 while the text is on the anchor's line).
    const crossed = lineFrom > anchor.from;
    const k = crossed ? head.length - anchor.skip : 0;
    // The skipped tokens must still be there (and, past a line break, the anchor's line with its break).
    if (crossed ? k < 1 : line.length < anchor.skip) return undefined;
    const all = head.length ? head.concat(line) : line;
    const tokens = anchor.skip ? all.slice(anchor.skip) : all;
    const ids = this.encode(tokens);

    // The context on this anchor whose ids are the longest prefix of ids; its state is the state after them.
    let base: Entry | undefined;
    for (const e of siblings) {
      if (e.lineIds.length <= ids.length && (!base || e.lineIds.length > base.lineIds.length) && isPrefix(e.lineIds, ids)) base = e;
    }
    let p = base ? base.lineIds.length : 0;
    if (k === 0 && base && p === ids.length) return { entry: base, cached: true };
    if (ids.length - p > this.maxContextTokens) return undefined; // more to feed than a cold start
    let baseValue = base ? base.value : anchor.value();
    const N = this.maxContextTokens;
    if (!crossed) {
      // Nothing to feed only when the context ends at the anchor itself (e.g. a line start).
      const value = p < ids.length ? this.feed(baseValue, ids.subarray(p)) : baseValue;
      return { entry: new Entry(anchor, text.length, tokens, ids, value, N), cached: false };
    }

    // Line breaks were added: the last one becomes this context's anchor.
    if (p > k) {
      // A cached context past the new line start would be a line break inside a line; never so, but be safe.
      p = 0;
      baseValue = anchor.value();
    }
    const anchorValue = p < k ? this.feed(baseValue, ids.subarray(p, k)) : baseValue;
    const before = anchor.before.concat(tokens.slice(Math.max(0, k - N), k));
    const next = new Anchor(lineFrom, text.slice(0, lineFrom), 0, before.slice(Math.max(0, before.length - N)), () => anchorValue);
    const value = ids.length > k ? this.feed(anchorValue, ids.subarray(k)) : anchorValue;
    return { entry: new Entry(next, text.length, tokens.slice(k), ids.slice(k), value, N), cached: false };
  }

  /** The last maxContextTokens tokens of the last maxContextChars characters, after the start token. */
  private coldStart(text: string): Entry {
    const N = this.maxContextTokens;
    const cut = cutStart(text, this.maxContextChars, this.mode);
    const lineFrom = lastLineStart(text, cut, this.mode);
    let line = this.lineTokens(text.slice(lineFrom));
    const skip = Math.max(0, line.length - N);
    if (skip) line = line.slice(skip);
    const head = lineFrom > cut && line.length < N ? this.tokenize(text.slice(cut, lineFrom)) : [];
    const before = head.slice(Math.max(0, head.length - (N - line.length)));
    const lineIds = this.encode(line);
    const initial = this.feeder.initialState();
    const anchorText = text.slice(0, lineFrom);

    if (before.length === 0 && line.length > 0) {
      // One run for the whole context; the anchor (the start token alone) is run only if a later edit needs it.
      const anchor = new Anchor(lineFrom, anchorText, skip, [], () => this.feeder.advance(initial, Int32Array.of(this.startId)));
      const value = this.feeder.advance(initial, prepend(this.startId, lineIds));
      return new Entry(anchor, text.length, line, lineIds, value, N);
    }
    const anchorValue = this.feeder.advance(initial, prepend(this.startId, this.encode(before)));
    const anchor = new Anchor(lineFrom, anchorText, skip, before, () => anchorValue);
    const value = line.length > 0 ? this.feed(anchorValue, lineIds) : anchorValue;
    return new Entry(anchor, text.length, line, lineIds, value, N);
  }

  /** The anchor nearest the end of `text` whose text `text` starts with. */
  private anchorFor(text: string): Anchor | undefined {
    const anchors = [...new Set(this.entries.map((e) => e.anchor))].sort((a, b) => b.from - a.from);
    for (const a of anchors) {
      if (a.from > text.length || !startsWith(text, a.text)) continue;
      // An anchor after a lone "\r" does not hold when the text goes on with "\n": "\r\n" is one line break.
      if (a.text.charCodeAt(a.from - 1) === CR && text.charCodeAt(a.from) === LF) continue;
      return a;
    }
    return undefined;
  }

  /** Tokens of the text from a line start to the end of the context; in whitespace mode an unfinished line has no <eos> yet. */
  private lineTokens(segment: string): string[] {
    const tokens = this.tokenize(segment);
    if (this.mode === 'whitespace' && tokens.length > 0 && tokens[tokens.length - 1] === EOS) {
      const last = segment.charCodeAt(segment.length - 1);
      if (last !== LF && last !== CR) tokens.pop();
    }
    return tokens;
  }

  private feed(base: Promise<Advanced>, ids: Int32Array): Promise<Advanced> {
    return base.then((b) => this.feeder.advance(b.state, ids));
  }

  private touch(entry: Entry): void {
    const at = this.entries.indexOf(entry);
    if (at >= 0) this.entries.splice(at, 1);
    this.entries.push(entry);
  }
}

// --------------------------------------------------------------------------------------------------
// Helpers.

/** A line break ends just before `i + 1`; a `\r` at the very end may still become `\r\n`, so it does not count. */
function endsLineAt(text: string, i: number, mode: TokenizerMode): boolean {
  const c = text.charCodeAt(i);
  if (c === LF) return true;
  if (c === CR) return i + 1 < text.length && text.charCodeAt(i + 1) !== LF;
  // whitespace mode splits lines on \n, \r\n and \r only.
  return mode === 'text' && (c === LS || c === PS);
}

/** The start of the last line of text[from, …): just after its last line break, or `from`. */
export function lastLineStart(text: string, from: number, mode: TokenizerMode): number {
  for (let i = text.length - 1; i >= from; i--) if (endsLineAt(text, i, mode)) return i + 1;
  return from;
}

/**
 * Where a cold start begins tokenizing: 0 for a text of at most `maxChars`, else the first line start in
 * its last `maxChars` characters, or (one huge line) just `maxChars` before the end.
 */
export function cutStart(text: string, maxChars: number, mode: TokenizerMode): number {
  const lo = text.length - maxChars;
  if (lo <= 0) return 0;
  for (let i = lo - 1; i < text.length; i++) if (endsLineAt(text, i, mode)) return i + 1;
  return lo;
}

/** text.startsWith(prefix), as a memcmp: V8's startsWith compares one character at a time. */
function startsWith(text: string, prefix: string): boolean {
  const n = prefix.length;
  if (n === 0) return true;
  if (n > text.length || text.charCodeAt(n - 1) !== prefix.charCodeAt(n - 1)) return false;
  return text.slice(0, n) === prefix;
}

function isPrefix(prefix: Int32Array, of: Int32Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== of[i]) return false;
  return true;
}

function prepend(id: number, ids: Int32Array): Int32Array {
  const out = new Int32Array(ids.length + 1);
  out[0] = id;
  out.set(ids, 1);
  return out;
}

function positiveInteger(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`ContextWindow: ${name} must be a positive integer (got ${v})`);
  return v;
}

function nonNegativeInteger(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 0) throw new Error(`ContextWindow: ${name} must be an integer ≥ 0 (got ${v})`);
  return v;
}
