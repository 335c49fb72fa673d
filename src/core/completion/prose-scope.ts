// Where prose is written (`nextword.completion.scope: "prose"`): everywhere in a prose language (plain
// text, Markdown, LaTeX, …), and in code only inside comments and string literals. The cursor's place is
// found by scanning the request's text before the cursor (which starts at a line start: request-window.ts)
// with the language's comment and string syntax: a small lexer, not a parser, so a construct opened above
// the window, or a language it does not know, is taken as prose (nothing is withheld by mistake there).

/** Languages written as prose throughout. */
const PROSE_LANGUAGES = new Set([
  'plaintext', 'markdown', 'mdx', 'latex', 'tex', 'bibtex', 'restructuredtext', 'asciidoc', 'org', 'typst',
  'git-commit', 'git-rebase', 'scminput', 'html', 'xml', 'text',
]);

interface Syntax {
  /** Line comment openers. */
  line: string[];
  /** Block comments: opener and closer. */
  block: [string, string][];
  /** String quotes that end at a line break unless escaped. */
  quotes: string[];
  /** Quotes whose strings may span lines (template literals, triple quotes, raw strings). */
  multiline: string[];
}

const C_LIKE: Syntax = { line: ['//'], block: [['/*', '*/']], quotes: ['"', "'"], multiline: ['`'] };
/** Rust's `'` also starts a lifetime (`'a`): only double quotes are strings. */
const RUST: Syntax = { ...C_LIKE, quotes: ['"'], multiline: [] };
const HASH: Syntax = { line: ['#'], block: [], quotes: ['"', "'"], multiline: [] };
const PYTHON: Syntax = { line: ['#'], block: [], quotes: ['"', "'"], multiline: ['"""', "'''"] };
const DASH: Syntax = { line: ['--'], block: [['/*', '*/']], quotes: ['"', "'"], multiline: [] };
const LUA: Syntax = { line: ['--'], block: [['--[[', ']]']], quotes: ['"', "'"], multiline: ['[['] };
const HASKELL: Syntax = { line: ['--'], block: [['{-', '-}']], quotes: ['"'], multiline: [] };
const LISP: Syntax = { line: [';'], block: [], quotes: ['"'], multiline: [] };

const SYNTAX: Record<string, Syntax> = {
  ...Object.fromEntries(
    [
      'javascript', 'typescript', 'javascriptreact', 'typescriptreact', 'java', 'c', 'cpp', 'csharp', 'go',
      'swift', 'kotlin', 'scala', 'dart', 'php', 'css', 'scss', 'less', 'jsonc', 'groovy', 'objective-c',
      'objective-cpp', 'zig', 'vue', 'svelte', 'proto', 'solidity', 'd',
    ].map((l) => [l, C_LIKE]),
  ),
  ...Object.fromEntries(
    ['shellscript', 'ruby', 'perl', 'r', 'yaml', 'toml', 'dockerfile', 'makefile', 'powershell', 'coffeescript', 'julia', 'elixir', 'nim', 'cmake', 'properties', 'ini'].map(
      (l) => [l, HASH],
    ),
  ),
  rust: RUST,
  python: PYTHON,
  sql: DASH,
  ada: DASH,
  lua: LUA,
  haskell: HASKELL,
  elm: HASKELL,
  clojure: LISP,
  lisp: LISP,
  scheme: LISP,
};

/** True where the cursor (the end of `textBefore`) is in prose for `languageId`. */
export function isProseAt(textBefore: string, languageId: string): boolean {
  if (PROSE_LANGUAGES.has(languageId)) return true;
  const syntax = SYNTAX[languageId];
  // A language this lexer does not know: nothing is withheld.
  return syntax ? insideCommentOrString(textBefore, syntax) : true;
}

interface Opener {
  token: string;
  end: string;
  kind: 'line' | 'block' | 'quote' | 'multiline';
}

/** Each syntax's openers by their first character, longest first (`"""` before `"`, `--[[` before `--`): built once. */
const OPENERS = new Map<Syntax, Map<string, Opener[]>>();

function openersOf(s: Syntax): Map<string, Opener[]> {
  let byFirst = OPENERS.get(s);
  if (byFirst) return byFirst;
  const all: Opener[] = [
    ...s.block.map(([o, c]) => ({ token: o, end: c, kind: 'block' as const })),
    ...s.multiline.map((q) => ({ token: q, end: q === '[[' ? ']]' : q, kind: 'multiline' as const })),
    ...s.line.map((t) => ({ token: t, end: '\n', kind: 'line' as const })),
    ...s.quotes.map((q) => ({ token: q, end: q, kind: 'quote' as const })),
  ].sort((a, b) => b.token.length - a.token.length);
  byFirst = new Map();
  for (const o of all) byFirst.set(o.token[0]!, [...(byFirst.get(o.token[0]!) ?? []), o]);
  OPENERS.set(s, byFirst);
  return byFirst;
}

/** Scans `text` from its start and says whether its end lies inside a comment or a string literal. */
function insideCommentOrString(text: string, s: Syntax): boolean {
  // What is open at the scan's position: a closer to look for, or nothing (code).
  let open: Pick<Opener, 'end' | 'kind'> | undefined;
  const startsWith = (i: number, token: string) => text.startsWith(token, i);
  const openers = openersOf(s);
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (!open) {
      const opener = openers.get(ch)?.find((o) => startsWith(i, o.token));
      if (opener) {
        open = { end: opener.end, kind: opener.kind };
        i += opener.token.length;
      } else i++;
      continue;
    }
    if (open.kind === 'line') {
      if (ch === '\n' || ch === '\r') open = undefined;
      i++;
    } else if (open.kind === 'block') {
      if (startsWith(i, open.end)) {
        i += open.end.length;
        open = undefined;
      } else i++;
    } else {
      // A string: an escape takes the next character; a plain quote's string ends at a line break.
      if (ch === '\\') i += 2;
      else if (startsWith(i, open.end)) {
        i += open.end.length;
        open = undefined;
      } else {
        if (open.kind === 'quote' && (ch === '\n' || ch === '\r')) open = undefined;
        i++;
      }
    }
  }
  return open !== undefined;
}
