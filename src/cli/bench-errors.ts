// `nextword bench errors`: surprisal as an error finder. Errors of one kind at a time (typos, swapped
// adjacent words, a word replaced by a frequent wrong one: core/scoring/error-injection.ts) are put into the
// given files, each corrupted file is scored by each model (core/scoring/surprisal.ts), and every word of
// every file is ranked as the editor would rank it (compareSuspicion: likely typos first, then surprisal
// above the file's median word). Reported per kind and
// model: the share of the errors that have a word among the top 1 % and 5 % of that ranking (what a reader
// who checks that many words would find), and what the editor's rule flags (its share of the words, and of
// the errors). Models: the one served (network, n-gram companion and document cache mixed), the n-gram
// companion with the cache (what serves while a network trains), and the unigram of the training text's
// word counts (context-free).

import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CACHE } from '../core/predict/cache-model.js';
import { ERROR_KINDS, injectErrors, type ErrorKind } from '../core/scoring/error-injection.js';
import { compareSuspicion, flagSurprising, isCandidate, scoreSurprisal, type SurprisalRule, type TokenSurprisal } from '../core/scoring/surprisal.js';
import { NgramServing } from '../core/serving/ngram-serving.js';
import { UnigramModel } from '../core/ngram/unigram-model.js';
import type { LanguageModel } from '../core/model/language-model.js';
import { mulberry32 } from '../core/support/random.js';
import type { Vocabulary } from '../core/text/vocabulary.js';
import { ModelSession } from '../runtime/serving/model-session.js';
import { num, round, UsageError } from './args.js';
import { BENCH_HELP } from './bench-help.js';
import { readTexts } from './texts.js';
import { RULE_OPTIONS, ruleFromFlags } from './surprisal-command.js';

/** The flag rates reported: the top 1 % and 5 % of a model's ranking of the words. */
const RATES = [0.01, 0.05];
/** Frequent words real-word errors are drawn from. */
const FREQUENT_WORDS = 300;

interface Ranked {
  t: TokenSurprisal;
  /** The median word of its file, in bits. */
  median: number;
  /** Flagged by the editor's rule. */
  flagged: boolean;
  /** Index of the error among the kind's errors whose characters the word overlaps, or −1. */
  error: number;
}

export interface ErrorFigures {
  kind: ErrorKind | 'none';
  method: string;
  errors: number;
  words: number;
  /** Errors found in the top 1 % and 5 % of the words, and their share of the errors. */
  foundErrors: number[];
  found: number[];
  /** The rule: words flagged, errors with a flagged word, and their shares. */
  ruleFlagged: number;
  ruleFoundErrors: number;
  ruleFlagShare: number;
  ruleFound: number;
}

export async function benchErrors(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      chars: { type: 'string' },
      every: { type: 'string' },
      seed: { type: 'string' },
      ...RULE_OPTIONS,
      threads: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(BENCH_HELP);
    return 0;
  }
  if (!values.model) throw new UsageError('bench errors needs --model DIR\n\n' + BENCH_HELP);
  if (positionals.length === 0) throw new UsageError('bench errors needs at least one file or folder\n\n' + BENCH_HELP);
  const chars = num(values.chars, 'chars', { int: true, min: 100 }) ?? 5000;
  const every = num(values.every, 'every', { int: true, min: 1 }) ?? 100;
  const seed = num(values.seed, 'seed', { int: true }) ?? 1;
  const rule = ruleFromFlags(values);
  const texts = (await readTexts(positionals)).map((t) => ({ file: t.file, text: cutAtLine(t.text, chars) })).filter((t) => t.text.trim());
  if (!texts.length) throw new UsageError('bench errors: no text in the given files');
  const session = await ModelSession.open(path.resolve(values.model), { threads: num(values.threads, 'threads', { int: true, min: 0 }) ?? 1 });
  try {
    const { vocab, mode } = session;
    if (mode !== 'text') throw new UsageError('bench errors needs a model of the text tokenizer (a workspace model)');
    const methods: { name: string; lm: LanguageModel }[] = [{ name: 'model', lm: session.model }];
    if (session.ngram) methods.push({ name: 'companion', lm: new NgramServing(session.ngram, vocab, mode, DEFAULT_CACHE).model });
    methods.push({ name: 'unigram', lm: new UnigramModel(vocab) });
    const frequentWords = frequentLetterWords(vocab, FREQUENT_WORDS);

    const results: ErrorFigures[] = [];
    // 'none': the files as they are, for what the rule flags in text without planted errors.
    for (const [k, kind] of (['none', ...ERROR_KINDS] as const).entries()) {
      const corrupted = texts.map((t, i) =>
        kind === 'none' ? { file: t.file, text: t.text, errors: [] } : { file: t.file, ...injectErrors(t.text, kind, { rand: mulberry32(seed * 1009 + k * 101 + i), every, frequentWords }) },
      );
      const errors = corrupted.reduce((n, c) => n + c.errors.length, 0);
      for (const m of methods) {
        const ranked: Ranked[] = [];
        let firstError = 0;
        for (const c of corrupted) {
          const scored = await scoreSurprisal(m.lm, vocab, mode, c.text, { alternatives: 0 });
          const { median, flagged } = flagSurprising(scored, rule);
          const isFlagged = new Set(flagged.map((t) => t.index));
          for (const t of scored) {
            if (!isCandidate(t)) continue;
            const e = c.errors.findIndex((x) => t.start < x.end && x.start < t.end);
            ranked.push({ t, median, flagged: isFlagged.has(t.index), error: e < 0 ? -1 : firstError + e });
          }
          firstError += c.errors.length;
        }
        results.push(figures(kind, m.name, ranked, errors, rule));
      }
    }
    if (values.json) process.stdout.write(JSON.stringify({ model: values.model, files: texts.length, chars, every, seed, rule, results }) + '\n');
    else printTable(results, texts.length, chars);
  } finally {
    await session.release();
  }
  return 0;
}

/** The found shares of one kind and model from its ranked words. */
export function figures(kind: ErrorKind | 'none', method: string, ranked: readonly Ranked[], errors: number, rule: SurprisalRule): ErrorFigures {
  const order = [...ranked].sort((a, b) => compareSuspicion(a, b, rule));
  const foundIn = (words: readonly Ranked[]) => new Set(words.filter((r) => r.error >= 0).map((r) => r.error)).size;
  const foundErrors = RATES.map((rate) => foundIn(order.slice(0, Math.ceil(rate * order.length))));
  const flagged = ranked.filter((r) => r.flagged);
  const ruleFoundErrors = foundIn(flagged);
  return {
    kind,
    method,
    errors,
    words: ranked.length,
    foundErrors,
    found: foundErrors.map((f) => round(f / Math.max(errors, 1), 3)),
    ruleFlagged: flagged.length,
    ruleFoundErrors,
    ruleFlagShare: round(flagged.length / Math.max(ranked.length, 1), 4),
    ruleFound: round(ruleFoundErrors / Math.max(errors, 1), 3),
  };
}

function printTable(results: readonly ErrorFigures[], files: number, chars: number): void {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`.padStart(8);
  process.stdout.write(`${files} files (the first ${chars} characters of each); words ranked likely typos first, then by surprisal above their file's median word\n`);
  process.stdout.write(`${'kind'.padEnd(10)}${'model'.padEnd(11)}${'errors'.padStart(7)}${'words'.padStart(8)}${RATES.map((r) => `top ${r * 100} %`.padStart(10)).join('')}   rule: flags / finds\n`);
  for (const r of results) {
    if (r.kind === 'none') {
      process.stdout.write(`${'none'.padEnd(10)}${r.method.padEnd(11)}${'0'.padStart(7)}${String(r.words).padStart(8)}${' '.repeat(10 * RATES.length)}   ${pct(r.ruleFlagShare)} flagged in the files as they are\n`);
      continue;
    }
    process.stdout.write(`${r.kind.padEnd(10)}${r.method.padEnd(11)}${String(r.errors).padStart(7)}${String(r.words).padStart(8)}${r.found.map((f) => pct(f).padStart(10)).join('')}   ${pct(r.ruleFlagShare)} / ${pct(r.ruleFound)}\n`);
  }
}

/** The first `chars` characters of a text, ended at the last line break within them (the whole text if shorter). */
function cutAtLine(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const end = text.lastIndexOf('\n', chars);
  return text.slice(0, end > 0 ? end + 1 : chars);
}

/** The `n` most frequent words of letters in the vocabulary, without their leading space. */
function frequentLetterWords(vocab: Vocabulary, n: number): string[] {
  const seen = new Map<string, number>();
  for (let id = 0; id < vocab.size; id++) {
    const m = /^ ?(\p{L}+)$/u.exec(vocab.word(id));
    if (m) seen.set(m[1]!, (seen.get(m[1]!) ?? 0) + (vocab.count(id) ?? 0));
  }
  return [...seen.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([w]) => w);
}
