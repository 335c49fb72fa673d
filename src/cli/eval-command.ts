// `nextword eval`: perplexity, next-word accuracy and keystroke savings of a model on files and folders,
// as the extension serves it, optionally side by side with its parts and the built-in baselines (an n-gram
// model and word-frequency completion) trained on a given folder.

import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CACHE } from '../core/predict/cache-model.js';
import { DEFAULT_COMPLETION_SETTINGS } from '../core/completion/completion-engine.js';
import { NgramServing } from '../core/serving/ngram-serving.js';
import { MAX_ORDER } from '../core/ngram/kneser-ney.js';
import { DECODERS, DEFAULT_DECODER, ModelSession } from '../runtime/serving/model-session.js';
import { num, oneOf, thousands, UsageError } from './args.js';
import { readTexts } from './texts.js';
import { evaluateMethod, modelMethod, ngramMethod, roundedFigures, wordFrequencyMethod, type Figures, type Method, type MethodResult } from './evaluate.js';

export const EVAL_HELP = `Usage: nextword eval --model DIR <files|folders…> [options]

Scores every token of the given files (folders are read like \`nextword train\` reads a project:
ignore rules, no binary, minified, huge or secret files) with the model as the extension serves it (a
model trained with its n-gram companion: the network, the companion and the document cache mixed with the
weights fitted on its validation files; else the network with the document cache), each token predicted from the
tokens before it (the first from the start of a line), and types each file with a simulated typist who
accepts the extension's ghost text whenever it is right (the README's "Keystroke savings" gives the
rules). Prints per file and overall:
  ppl          perplexity, exp(mean cross-entropy in nats)
  top1, top3   share of tokens that were the model's first guess / among its three first guesses
  tokens, oov  tokens scored (tokenised as the model was trained) / outside its vocabulary (<unk>)
  ksr          keystroke savings rate: 1 − keys pressed / characters
  accept_rate  share of the suggestions shown that the typist accepted (some or all of)
  accepted_chars  characters inserted by accepting
  latency_p50_ms, latency_p90_ms, latency_p99_ms  time of each completion request while typing

Options:
  --compare            also evaluate, on the same files: "network" (the network with the document cache,
                       as served before mixtures), "companion" (the model's n-gram companion with the
                       cache, as served while the network trains), and the baselines trained on --train:
                       an interpolated modified Kneser-Ney n-gram model of the model's tokens ("ngram")
                       and VS Code's word-based suggestions ("wordfreq": the most frequent known word with
                       the typed prefix; its ppl and top-k are the unigram distribution's)
  --train FOLDER       the files the baselines learn from (those the model was trained on)
  --order N            the ngram baseline's order, 1 to ${MAX_ORDER} (default 4)
  --companion          evaluate the model's n-gram companion (saved by \`nextword train\` next to the
                       network) instead of the model, served as the extension serves it while the
                       network trains (with the document cache unless --no-cache)
  --no-cache           the network alone: no document cache (which mixes in the distribution of the
                       words among the last tokens of the file) and no n-gram companion
  --cache-lambda X     the cache's share of the mixture (default ${DEFAULT_CACHE.lambda})
  --cache-window N     the tokens the cache remembers (default ${DEFAULT_CACHE.window})
  --decoder P          int8 (default: weights quantised per word when the model is loaded, 2–3 times
                       faster) or float32 (the saved weights as they are)
  --no-ksr             skip the typing simulation
  --ksr-chars N        type only the first N characters of each file
  --max-words N        the typist's ghost text adds at most N words (the setting
                       nextword.completion.maxWords; default ${DEFAULT_COMPLETION_SETTINGS.maxWords})
  --min-confidence X   and only while their geometric mean probability stays at or above X
                       (nextword.completion.minConfidence; default: for a mixture, the threshold chosen
                       for it in training, else ${DEFAULT_COMPLETION_SETTINGS.minConfidence})
  --threads K          onnxruntime threads (0: all cores)
  --json               one JSON object: the figures above and per-file figures in "files"; with
                       --compare, one object with keys "model", "network", "companion", "ngram" and
                       "wordfreq", each such an object
`;

export async function evalCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
      compare: { type: 'boolean' },
      train: { type: 'string' },
      order: { type: 'string' },
      'no-ksr': { type: 'boolean' },
      'no-cache': { type: 'boolean' },
      companion: { type: 'boolean' },
      'cache-lambda': { type: 'string' },
      'cache-window': { type: 'string' },
      'ksr-chars': { type: 'string' },
      'max-words': { type: 'string' },
      'min-confidence': { type: 'string' },
      decoder: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(EVAL_HELP);
    return 0;
  }
  if (!values.model) throw new UsageError('eval needs --model DIR\n\n' + EVAL_HELP);
  if (positionals.length === 0) throw new UsageError('eval needs at least one file or folder\n\n' + EVAL_HELP);
  if (values.compare && !values.train) throw new UsageError('--compare needs --train FOLDER (what the baselines learn from)');
  if (values.train && !values.compare) throw new UsageError('--train is for --compare');
  const threads = num(values.threads, 'threads', { int: true, min: 0 }) ?? 0;
  const order = num(values.order, 'order', { int: true, min: 1, max: MAX_ORDER }) ?? 4;
  const ksrChars = num(values['ksr-chars'], 'ksr-chars', { int: true, min: 1 });
  const maxWords = num(values['max-words'], 'max-words', { int: true, min: 0, max: 12 });
  const minConfidence = num(values['min-confidence'], 'min-confidence', { min: 0, max: 1 });
  const typing = { ...(maxWords !== undefined ? { maxWords } : {}), ...(minConfidence !== undefined ? { minConfidence } : {}) };
  const cache = values['no-cache']
    ? false
    : {
        lambda: num(values['cache-lambda'], 'cache-lambda', { min: 0, max: 0.99 }) ?? DEFAULT_CACHE.lambda,
        window: num(values['cache-window'], 'cache-window', { int: true, min: 1 }) ?? DEFAULT_CACHE.window,
      };
  const decoder = oneOf(values.decoder, 'decoder', DECODERS) ?? DEFAULT_DECODER;
  const texts = await readTexts(positionals);
  if (texts.length === 0) throw new UsageError('no text files to evaluate');
  const trainTexts = values.train ? await readTexts([values.train]) : [];
  if (values.compare && trainTexts.length === 0) throw new UsageError(`no text files to train the baselines on in ${values.train}`);

  const dir = path.resolve(values.model);
  const model = await ModelSession.open(dir, { threads, cache, decoder, ranks: true });
  const sessions = [model];
  const results: Record<string, MethodResult> = {};
  const progress = (name: string) => (done: number, total: number) => {
    if (process.stderr.isTTY) process.stderr.write(`\r${name}: ${done}/${total} files\x1b[K${done === total ? '\r\x1b[K' : ''}`);
  };
  try {
    const methods: Method[] = [];
    const companion = () => {
      if (!model.ngram) throw new UsageError(`${values.model} has no n-gram companion${model.ngramProblem ? ` (${model.ngramProblem})` : ' (it was trained with --no-ngram, or before companions existed)'}`);
      return modelMethod('companion', new NgramServing(model.ngram, model.vocab, model.mode, cache), typing);
    };
    if (values.companion) methods.push(companion());
    else methods.push(modelMethod('model', model, typing));
    if (values.compare) {
      if (!values.companion) {
        const network = await ModelSession.open(dir, { threads, cache, decoder, ranks: true, mixture: false });
        sessions.push(network);
        methods.push(modelMethod('network', network, typing));
        if (model.ngram) methods.push(companion());
      }
      methods.push(ngramMethod(trainTexts, model.vocab, model.mode, order, typing));
      methods.push(wordFrequencyMethod(trainTexts, model.vocab, model.mode));
    }
    for (const m of methods) {
      results[m.name] = await evaluateMethod(m, texts, { ksr: !values['no-ksr'], ...(ksrChars ? { ksrChars } : {}), onText: progress(m.name) });
    }
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }

  if (values.json) {
    const json = (r: MethodResult) => ({
      ...roundedFigures(r.all),
      ...(r.all.tokens !== undefined && r.scoreSeconds > 0 ? { tokens_per_s: Math.round(r.all.tokens / r.scoreSeconds) } : {}),
      files: r.files.map((f) => ({ file: f.file, ...roundedFigures(f) })),
    });
    const out = values.compare ? Object.fromEntries(Object.entries(results).map(([k, r]) => [k, json(r)])) : json(Object.values(results)[0]!);
    process.stdout.write(JSON.stringify(out) + '\n');
    return 0;
  }
  process.stdout.write(table(results, texts.length > 1) + '\n');
  const lstm = Object.values(results)[0]!;
  if (lstm.all.tokens) process.stdout.write(`(scoring: ${thousands(lstm.all.tokens / lstm.scoreSeconds)} tokens/s)\n`);
  return 0;
}

function table(results: Record<string, MethodResult>, perFile: boolean): string {
  const names = Object.keys(results);
  const rows: { label: string; f: Figures }[] = [];
  for (const name of names) {
    const r = results[name]!;
    const prefix = names.length > 1 ? `${name} ` : '';
    if (perFile) for (const f of r.files) rows.push({ label: prefix + f.file, f });
    rows.push({ label: prefix + (perFile ? 'all' : r.files[0]!.file), f: r.all });
  }
  const w = Math.min(60, Math.max(4, ...rows.map((r) => r.label.length)));
  const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)} %`);
  const cols = ['ppl', 'top-1', 'top-3', 'tokens', 'oov', 'ksr', 'accepted', 'p50 ms', 'p99 ms'];
  const widths = [9, 7, 7, 10, 8, 7, 9, 7, 7];
  const lines = [`${'file'.padEnd(w)}  ${cols.map((c, i) => c.padStart(widths[i]!)).join('  ')}`];
  for (const { label, f } of rows) {
    const cells = [
      f.ppl === undefined ? '–' : f.ppl.toFixed(2),
      pct(f.top1),
      pct(f.top3),
      f.tokens === undefined ? '–' : thousands(f.tokens),
      f.oov === undefined ? '–' : thousands(f.oov),
      pct(f.ksr),
      pct(f.accept_rate),
      f.latency_p50_ms === undefined ? '–' : f.latency_p50_ms.toFixed(2),
      f.latency_p99_ms === undefined ? '–' : f.latency_p99_ms.toFixed(2),
    ];
    const name = label.length > w ? '…' + label.slice(-(w - 1)) : label;
    lines.push(`${name.padEnd(w)}  ${cells.map((c, i) => c.padStart(widths[i]!)).join('  ')}`);
  }
  return lines.join('\n');
}
