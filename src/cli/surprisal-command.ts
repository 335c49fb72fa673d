// `nextword surprisal`: how unexpected each token of a file is to a model, and the words it expected there
// (core/scoring/surprisal.ts, the code behind the editor's surprising-words highlight).

import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { classifyContent } from '../core/corpus/file-filters.js';
import { DEFAULT_SURPRISAL_RULE, flagSurprising, scoreSurprisal, type SurprisalRule, type TokenSurprisal } from '../core/scoring/surprisal.js';
import { ModelSession } from '../runtime/serving/model-session.js';
import { num, UsageError } from './args.js';

/** Larger files are refused: every token's whole distribution is read (tokens × vocabulary). */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

export const SURPRISAL_HELP = `Usage: nextword surprisal --model DIR FILE [--json] [--flagged] [--top K]

Scores every token of FILE under the model as the editor serves it, and lists each with its surprisal
(−log2 p, in bits: 1 more bit is half as likely), its rank (0: the model's first guess) and the words the
model expected there, with their probabilities. Surprising words are marked "!" (the rule of the
editor's surprising words): a word whose surprisal is at least --margin bits above the median of the
file's words, and an unknown word of letters one letter edit from a word the model expected there with
probability --near-miss or more, other than by case or a final "s" (a likely typo; "did you mean" names
that word; a word of three letters or fewer only if likelier than every unknown word together). White space is scored but not
listed (it is in --json).

  --top K          alternatives per token (default 3)
  --flagged        list only the surprising words
  --margin BITS    bits above the file's median word (default ${DEFAULT_SURPRISAL_RULE.marginBits})
  --near-miss P    the expected word's least probability for a likely typo (default ${DEFAULT_SURPRISAL_RULE.nearMissMinP}; 0: off)
  --threads K      onnxruntime threads (0: all cores)
  --json           { "file", "medianBits", "rule", "tokens": [{ "line", "column", "token", "bits", "rank",
                   "oov", "flagged", "alternatives": [{ "word", "p" }], "nearMiss"?: { "word", "p" } }] }
                   (line and column from 1)
`;

/** The flags of the surprising-words rule, shared with `bench errors`. */
export const RULE_OPTIONS = { margin: { type: 'string' }, 'near-miss': { type: 'string' } } as const;

/** The rule the flags give, the defaults where they are absent. */
export function ruleFromFlags(values: { margin?: string | undefined; 'near-miss'?: string | undefined }): SurprisalRule {
  return {
    marginBits: num(values.margin, 'margin', { min: 0 }) ?? DEFAULT_SURPRISAL_RULE.marginBits,
    nearMissMinP: num(values['near-miss'], 'near-miss', { min: 0, max: 1 }) ?? DEFAULT_SURPRISAL_RULE.nearMissMinP,
  };
}

export async function surprisalCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      top: { type: 'string' },
      flagged: { type: 'boolean' },
      ...RULE_OPTIONS,
      threads: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(SURPRISAL_HELP);
    return 0;
  }
  if (!values.model) throw new UsageError('surprisal needs --model DIR\n\n' + SURPRISAL_HELP);
  if (positionals.length !== 1) throw new UsageError('surprisal takes one file\n\n' + SURPRISAL_HELP);
  const top = num(values.top, 'top', { int: true, min: 0 }) ?? 3;
  const rule = ruleFromFlags(values);
  const file = positionals[0]!;
  const text = readTextFile(file);
  const model = await ModelSession.open(path.resolve(values.model), { threads: num(values.threads, 'threads', { int: true, min: 0 }) ?? 0 });
  try {
    const tokens = await scoreSurprisal(model.model, model.vocab, model.mode, text, { alternatives: top });
    const { median, flagged } = flagSurprising(tokens, rule);
    const isFlagged = new Set(flagged.map((t) => t.index));
    const lines = lineStarts(text);
    const shown = tokens.filter((t) => (values.flagged ? isFlagged.has(t.index) : t.token.trim() !== '' || values.json));
    if (values.json) {
      const out = {
        file,
        medianBits: round(median),
        rule,
        tokens: shown.map((t) => ({ ...position(lines, t.start), token: t.token, bits: round(t.bits, 4), rank: t.rank, oov: t.oov, flagged: isFlagged.has(t.index), alternatives: t.alternatives.map((a) => ({ word: a.word, p: round(a.p, 4) })), ...(t.nearMiss ? { nearMiss: { word: t.nearMiss.word, p: round(t.nearMiss.p, 4) } } : {}) })),
      };
      process.stdout.write(JSON.stringify(out) + '\n');
    } else {
      for (const t of shown) process.stdout.write(describe(t, lines, isFlagged.has(t.index)) + '\n');
      process.stdout.write(`${flagged.length} surprising of ${tokens.filter((t) => t.token.trim() !== '').length} tokens; the median word: ${median.toFixed(1)} bits\n`);
    }
  } finally {
    await model.release();
  }
  return 0;
}

/** The file's text, or a usage error that says why it is not one. */
function readTextFile(file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new UsageError(`${file} does not exist`);
  }
  if (!st.isFile()) throw new UsageError(`${file} is not a file`);
  const verdict = classifyContent(readFileSync(file), { maxFileBytes: MAX_FILE_BYTES });
  if ('text' in verdict) return verdict.text;
  const why: Record<string, string> = {
    'too-large': `is over ${MAX_FILE_BYTES / 1024 / 1024} MB`,
    empty: 'holds no text',
    binary: 'is binary',
    'not-utf8': 'is not UTF-8 text',
    minified: 'is minified (machine-made lines)',
  };
  throw new UsageError(`${file} ${why[verdict.skip] ?? `cannot be scored (${verdict.skip})`}`);
}

function describe(t: TokenSurprisal, lines: number[], flagged: boolean): string {
  const { line, column } = position(lines, t.start);
  const alts = t.alternatives.map((a) => `${JSON.stringify(a.word)} ${(a.p * 100).toFixed(a.p < 0.1 ? 1 : 0)}%`).join(', ');
  const where = `${line}:${column}`.padEnd(9);
  const meant = t.nearMiss ? `  did you mean ${JSON.stringify(t.nearMiss.word)}?` : '';
  return `${where}${flagged ? '!' : ' '} ${JSON.stringify(t.token).padEnd(18)} ${t.bits.toFixed(1).padStart(5)} bits  rank ${String(t.rank).padEnd(6)}${t.oov ? ' (unknown word)' : ''}${alts ? `  expected ${alts}` : ''}${meant}`;
}

/** Offsets where each line starts (after \n, \r\n or a lone \r). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) starts.push(i + 1);
  }
  return starts;
}

function position(lines: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lines[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - lines[lo]! + 1 };
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
