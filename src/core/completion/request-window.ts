// How much of a document a completion request carries: the text before the cursor from a line that moves
// only now and then, not from the document's start. Reading the whole text before the cursor on every key
// cost the extension host time and garbage in proportion to the document: VS Code's getText builds the
// string, and comparing it with the last text sent reads all of it (common-prefix.ts). The
// model needs far less: a cold start feeds the last maxContextTokens (512) tokens, and a cached context is
// extended by what was typed since.
//
// The window starts at a line start (where the predictor's start token stands) that stays put while the user
// types: a multiple of WINDOW_STEP lines, at least WINDOW_LINES lines above the cursor's line. The predictor's
// cached contexts hang from the text before their line (context-window.ts), so they keep applying until the
// start moves (every WINDOW_STEP lines typed forward); then one cold start, bounded. A window over
// WINDOW_CHARS characters (long lines above) starts further down, by steps too; when no step fits, at the
// cursor's line (its length is bounded by the maxLineLength setting).

/** Lines above the cursor's line a window holds at least (when the characters allow). */
export const WINDOW_LINES = 1000;
/** The window's start line is a multiple of this. */
export const WINDOW_STEP = 250;
/** Most characters a window holds above the cursor's line, when a step can keep it under. */
export const WINDOW_CHARS = 256 * 1024;

/**
 * The first line of the text a request at `cursorLine` carries; `charsBetween(from, to)` is the number of
 * characters of lines [from, to), their line breaks included: the difference of the two lines' start offsets
 * (VS Code's offsetAt), so a request looks at no line's text.
 */
export function windowStartLine(cursorLine: number, charsBetween: (from: number, to: number) => number): number {
  if (!(Number.isInteger(cursorLine) && cursorLine >= 0)) throw new RangeError(`cursorLine must be an integer ≥ 0 (got ${cursorLine})`);
  let start = Math.max(0, Math.floor((cursorLine - WINDOW_LINES) / WINDOW_STEP) * WINDOW_STEP);
  while (start < cursorLine && charsBetween(start, cursorLine) > WINDOW_CHARS) start += WINDOW_STEP;
  return Math.min(start, cursorLine);
}

/**
 * The window of a document that grows at its end (the simulated typist's, keystroke-savings.ts), with its
 * lines found incrementally: each call scans only what was added since the last. Line breaks as the editor
 * counts them: "\n", "\r\n" or "\r".
 */
export class GrowingDocument {
  /** Offsets where each line starts. */
  private readonly starts: number[] = [0];
  private scanned = 0;

  /**
   * The offset in `text` where the window of a request at its end starts. `text` extends the one given
   * before (a shorter one starts the count over).
   */
  windowStart(text: string): number {
    if (text.length < this.scanned) this.restart();
    for (let i = this.scanned; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x0a && i > 0 && text.charCodeAt(i - 1) === 0x0d) {
        // "\r\n": the line that "\r" ended starts after the "\n" instead.
        this.starts[this.starts.length - 1] = i + 1;
      } else if (c === 0x0a || c === 0x0d) {
        this.starts.push(i + 1);
      }
    }
    this.scanned = text.length;
    const { starts } = this;
    return starts[windowStartLine(starts.length - 1, (from, to) => starts[to]! - starts[from]!)]!;
  }

  private restart(): void {
    this.starts.length = 1;
    this.scanned = 0;
  }
}
