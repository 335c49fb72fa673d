// Tokenizer: turns text into the word-level tokens the language model reads and predicts.
//
// `text` mode (workspaces: code and prose). Tokens keep every character, so `detokenize` is plain
// concatenation and detokenize(tokenize(s)) === s for every string, lone surrogates included.
//   - word:    an identifier-like run of letters (any script), combining marks, digits, `_`, `$`;
//              ZWJ/ZWNJ may continue a word (Persian, Indic). `foo_bar2`, `$el`, `naïve`.
//   - number:  `3.14`, `1e-5`, `0xFF`, `1_000`, plus an identifier suffix glued to it (`100px`, `10n`).
//   - symbol:  one code point with its extenders (combining marks, emoji modifiers, ZWJ + pictograph,
//              tag characters), or a regional-indicator pair: one emoji = one token. A lone surrogate is
//              a symbol of its own.
//   - scripts written without spaces (Han, Hiragana, Katakana, Hangul, Thai, Lao, Khmer, Myanmar):
//              a run of them is cut into words by Intl.Segmenter; each segment is a token.
//   - line break: `\n`, `\r\n`, lone `\r`, U+2028, U+2029, each one token.
//   - whitespace: any other run of horizontal whitespace.
// Spacing rule (GPT-2 style), chosen so a completion inserts words spaced as the workspace spaces them:
//   - Inside a line, when a whitespace run ends with U+0020 and a token follows, that last space is the
//     first character of the token: "x = y" → ["x", " =", " y"]; the rest of the run (if any) is a token
//     of its own: "a  b" → ["a", " ", " b"].
//   - At the start of a line the whole run is indentation, one token, even a single space:
//     "    return x" → ["    ", "return", " x"]. So " * doc" lines tokenize alike at every depth.
//   - Whitespace tokens are at most 16 code units (longer runs are split), every other token at most 48
//     (long words such as base64 blobs are split; a valid surrogate pair is never cut).
// Tokenization never looks across a line break: the tokens of a line do not depend on earlier lines.
//
// `whitespace` mode (pre-tokenised corpora such as Penn Treebank): each line is split on runs of spaces
// and tabs and ends with one `<eos>`; a final newline does not add an empty line. `<unk>` is an ordinary
// word here. detokenize joins words with single spaces and turns `<eos>` into `\n`.

export type TokenizerMode = 'text' | 'whitespace';

/** End of line in `whitespace` mode. */
export const EOS = '<eos>';
/** The out-of-vocabulary word (vocabulary id 0). */
export const UNK = '<unk>';

/** Longest token in `text` mode, in UTF-16 code units. */
export const MAX_TOKEN_LENGTH = 48;
/** Longest whitespace token in `text` mode. */
export const MAX_WHITESPACE_LENGTH = 16;

// Character classes, as regex source for the `v` flag (set subtraction). Built with `new RegExp` because
// the tsconfig targets ES2022, which knows no `v` flag in literals.
const HSPACE = '[\\t\\v\\f\\p{Zs}\\u0085]';
const NO_SPACE_SCRIPT =
  '[[\\p{scx=Han}\\p{scx=Hiragana}\\p{scx=Katakana}\\p{scx=Hangul}\\p{scx=Thai}\\p{scx=Lao}' +
  '\\p{scx=Khmer}\\p{scx=Myanmar}]--[\\p{White_Space}]]';
const WORD_CHAR = `[[\\p{L}\\p{M}\\p{N}_$]--${NO_SPACE_SCRIPT}]`;
const WORD = `${WORD_CHAR}[${WORD_CHAR}\\u200C\\u200D]*`;
const NUMBER =
  '(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*(?:\\.[0-9][0-9_]*)?(?:[eE][+\\-]?[0-9][0-9_]*)?)' +
  `[${WORD_CHAR}\\u200C\\u200D]*`;
const SYMBOL =
  '(?:\\p{RI}\\p{RI}|[\\s\\S])' +
  '(?:\\u200D\\p{Extended_Pictographic}|[\\p{M}\\p{Emoji_Modifier}\\u200C\\u200D\\u{E0020}-\\u{E007F}])*';

// The scanner behind the ASCII fast path in tokenizeText. Group 1: line break, 2: whitespace run, 3: no-space-script run; otherwise the match
// is a number, word or symbol, which are all handled alike. The last alternative matches any code point,
// so exec never fails before the end of the text.
const TOKEN_RE = new RegExp(
  `(\\r\\n|[\\n\\r\\u2028\\u2029])|(${HSPACE}+)|(${NO_SPACE_SCRIPT}[${NO_SPACE_SCRIPT}\\p{M}\\u200C\\u200D]*)` +
    `|${NUMBER}|${WORD}|${SYMBOL}`,
  'vy',
);

const WORD_LIKE_RE = new RegExp(`^ ?[\\p{L}\\p{M}\\p{N}_$]`, 'u');
const HSPACE_RE = new RegExp(`^${HSPACE}$`, 'v');
const SPACE = 0x20;

function isLineBreakCode(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;
}

// Created on first use: building a segmenter loads ICU data, and most workspaces never need it.
// `null` means the runtime has no Intl.Segmenter (small-icu builds); we then fall back to code points.
let wordSegmenter: Intl.Segmenter | null | undefined;

function getWordSegmenter(): Intl.Segmenter | null {
  if (wordSegmenter === undefined) {
    wordSegmenter = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter(undefined, { granularity: 'word' }) : null;
  }
  return wordSegmenter;
}

export function tokenize(text: string, mode: TokenizerMode = 'text'): string[] {
  if (typeof text !== 'string') throw new TypeError(`tokenize: text must be a string (got ${typeof text})`);
  switch (mode) {
    case 'text':
      return tokenizeText(text);
    case 'whitespace':
      return tokenizeWhitespace(text);
    default:
      throw new Error(`tokenize: unknown tokenizer mode "${String(mode)}" (expected "text" or "whitespace")`);
  }
}

export function detokenize(tokens: readonly string[], mode: TokenizerMode = 'text'): string {
  switch (mode) {
    case 'text':
      return tokens.join('');
    case 'whitespace': {
      let out = '';
      let lineStart = true;
      for (const t of tokens) {
        if (t === EOS) {
          out += '\n';
          lineStart = true;
        } else {
          out += lineStart ? t : ' ' + t;
          lineStart = false;
        }
      }
      return out;
    }
    default:
      throw new Error(`detokenize: unknown tokenizer mode "${String(mode)}" (expected "text" or "whitespace")`);
  }
}

/** True for words and numbers, with or without their attached leading space (`"foo"`, `" foo"`, `" 42"`). */
export function isWordLike(token: string): boolean {
  return WORD_LIKE_RE.test(token);
}

/**
 * Splits off the token the user is still typing at the end of `text`, as the tokenizer would produce it.
 * Always `context + partial === text`.
 *
 * text mode: `"hello wor"` → `{ context: "hello", partial: " wor" }`; a trailing space inside a line is
 * the start of the next token (`"hello "` → `{ "hello", " " }`); punctuation, line breaks and indentation
 * are complete (`"foo("` → `{ "foo(", "" }`). Then tokenize(text) = tokenize(context) + [partial].
 * Caveat: for scripts cut by Intl.Segmenter, typing on may re-segment earlier characters of the run.
 *
 * whitespace mode: the partial is the text after the last space, tab or line break.
 */
export function splitPartialWord(text: string, mode: TokenizerMode = 'text'): { context: string; partial: string } {
  if (mode === 'whitespace') {
    let i = text.length - 1;
    while (i >= 0) {
      const c = text.charCodeAt(i);
      if (c === SPACE || c === 0x09 || c === 0x0a || c === 0x0d) break;
      i--;
    }
    return { context: text.slice(0, i + 1), partial: text.slice(i + 1) };
  }
  if (mode !== 'text') {
    throw new Error(`splitPartialWord: unknown tokenizer mode "${String(mode)}" (expected "text" or "whitespace")`);
  }
  const n = text.length;
  if (n === 0) return { context: '', partial: '' };
  // Tokens never span a line break, so the last line alone decides the last token.
  let lineStart = n;
  while (lineStart > 0 && !isLineBreakCode(text.charCodeAt(lineStart - 1))) lineStart--;
  if (lineStart === n) return { context: text, partial: '' };

  if (HSPACE_RE.test(text[n - 1])) {
    // A trailing space attaches to whatever comes next, unless the run is the line's indentation.
    let runStart = n - 1;
    while (runStart > lineStart && HSPACE_RE.test(text[runStart - 1])) runStart--;
    if (text.charCodeAt(n - 1) === SPACE && runStart > lineStart) {
      return { context: text.slice(0, n - 1), partial: ' ' };
    }
    return { context: text, partial: '' };
  }
  const lineTokens = tokenizeText(text.slice(lineStart));
  const last = lineTokens[lineTokens.length - 1];
  if (isWordLike(last)) return { context: text.slice(0, n - last.length), partial: last };
  return { context: text, partial: '' };
}

// ASCII character kinds for the fast path; anything else goes through TOKEN_RE.
const enum Kind {
  Symbol,
  Word,
  Digit,
  Space,
  LineFeed,
  CarriageReturn,
}
const ASCII_KIND = new Uint8Array(128).fill(Kind.Symbol);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_$]/.test(ch)) ASCII_KIND[c] = Kind.Word;
  else if (/[0-9]/.test(ch)) ASCII_KIND[c] = Kind.Digit;
  else if (/[ \t\v\f]/.test(ch)) ASCII_KIND[c] = Kind.Space;
}
ASCII_KIND[0x0a] = Kind.LineFeed;
ASCII_KIND[0x0d] = Kind.CarriageReturn;

function tokenizeText(text: string): string[] {
  const out: string[] = [];
  const n = text.length;
  let pos = 0;
  let lineStart = true;
  // Index of a space that becomes the first character of the next token, or -1.
  let attachFrom = -1;
  while (pos < n) {
    // Find the next token [pos, end) and its kind. ASCII words, spaces, line breaks and punctuation
    // (the bulk of code and English prose) are scanned by hand; the regex decides everything else,
    // including an ASCII run that continues with a non-ASCII character.
    const c = text.charCodeAt(pos);
    let kind = c < 128 ? ASCII_KIND[c] : Kind.Symbol;
    let end = -1;
    let noSpaceRun = false;
    if (c < 128) {
      if (kind === Kind.Word || kind === Kind.Space) {
        end = pos + 1;
        for (; end < n; end++) {
          const k = text.charCodeAt(end);
          if (k >= 128 || (ASCII_KIND[k] !== kind && !(kind === Kind.Word && ASCII_KIND[k] === Kind.Digit))) break;
        }
        if (end < n && text.charCodeAt(end) >= 128) end = -1;
      } else if (kind === Kind.LineFeed) {
        end = pos + 1;
      } else if (kind === Kind.CarriageReturn) {
        end = pos + 1 < n && text.charCodeAt(pos + 1) === 0x0a ? pos + 2 : pos + 1;
        kind = Kind.LineFeed;
      } else if (kind === Kind.Symbol && !(pos + 1 < n && text.charCodeAt(pos + 1) >= 128)) {
        end = pos + 1;
      }
    }
    if (end < 0) {
      TOKEN_RE.lastIndex = pos;
      const m = TOKEN_RE.exec(text)!;
      end = TOKEN_RE.lastIndex;
      kind = m[1] !== undefined ? Kind.LineFeed : m[2] !== undefined ? Kind.Space : Kind.Word;
      noSpaceRun = m[3] !== undefined;
    }

    if (kind === Kind.LineFeed) {
      out.push(text.slice(pos, end));
      lineStart = true;
    } else if (kind === Kind.Space) {
      const attaches = !lineStart && text.charCodeAt(end - 1) === SPACE && end < n && !isLineBreakCode(text.charCodeAt(end));
      if (attaches) {
        pushPieces(out, text, pos, end - 1, MAX_WHITESPACE_LENGTH);
        attachFrom = end - 1;
      } else {
        pushPieces(out, text, pos, end, MAX_WHITESPACE_LENGTH);
      }
      lineStart = false;
    } else {
      const start = attachFrom >= 0 ? attachFrom : pos;
      if (noSpaceRun) pushSegments(out, text, start, pos, end);
      else pushPieces(out, text, start, end, MAX_TOKEN_LENGTH);
      attachFrom = -1;
      lineStart = false;
    }
    pos = end;
  }
  return out;
}

/** Pushes text[start, end) in pieces of at most `max` code units, never cutting a surrogate pair. */
function pushPieces(out: string[], text: string, start: number, end: number, max: number): void {
  while (end - start > max) {
    let cut = start + max;
    const before = text.charCodeAt(cut - 1);
    const after = text.charCodeAt(cut);
    if (before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff) cut--;
    out.push(text.slice(start, cut));
    start = cut;
  }
  if (end > start) out.push(text.slice(start, end));
}

/** Segments the no-space-script run text[runStart, end); text[tokenStart, runStart) (a space) leads the first. */
function pushSegments(out: string[], text: string, tokenStart: number, runStart: number, end: number): void {
  const segmenter = getWordSegmenter();
  const run = text.slice(runStart, end);
  let start = tokenStart;
  let at = runStart;
  if (segmenter === null) {
    for (const ch of run) {
      at += ch.length;
      pushPieces(out, text, start, at, MAX_TOKEN_LENGTH);
      start = at;
    }
    return;
  }
  for (const { segment } of segmenter.segment(run)) {
    at += segment.length;
    pushPieces(out, text, start, at, MAX_TOKEN_LENGTH);
    start = at;
  }
}

function tokenizeWhitespace(text: string): string[] {
  const out: string[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  // "a\nb\n" is two lines, not three; "" is none.
  if (lines[lines.length - 1] === '') lines.pop();
  const wordRe = /[^ \t]+/g;
  for (const line of lines) {
    const words = line.match(wordRe);
    if (words !== null) for (const w of words) out.push(w);
    out.push(EOS);
  }
  return out;
}

/**
 * `text` cut into pieces of about `blockChars` characters, each ending just after a "\n" (the last piece
 * ends with the text): since no token spans a line break, tokenising the pieces one by one gives exactly
 * the tokens of the whole text, in either mode. Lets a long text be tokenised with breaks in between.
 */
export function* lineBlocks(text: string, blockChars: number): Generator<string> {
  if (!(blockChars >= 1)) throw new Error(`lineBlocks: blockChars must be at least 1 (got ${blockChars})`);
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start + blockChars - 1);
    const end = nl < 0 ? text.length : nl + 1;
    yield text.slice(start, end);
    start = end;
  }
}
