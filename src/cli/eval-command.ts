// `nextword eval`: perplexity and next-word accuracy of a model on files and folders.

import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { combineFigures, evaluateText, type EvalFigures } from '../core/evaluation.js';
import { readWorkspaceFiles } from '../io/workspace-files.js';
import { num, round, thousands, UsageError } from './args.js';
import { ModelSession } from '../runtime/model-session.js';

export const EVAL_HELP = `Usage: nextword eval --model DIR <files|folders…> [--threads K] [--json]

Scores every token of the given files (folders are read like \`nextword train\` reads a project:
ignore rules, no binary, minified, huge or secret files) with the model, each token predicted from the
tokens before it (the first from the start of a line), and prints per file and overall:
  ppl     perplexity, exp(mean cross-entropy in nats)
  top1    share of tokens that were the model's first guess
  top3    share of tokens among its three first guesses
  tokens  tokens scored (tokenised as the model was trained: see the README)
  oov     tokens outside the model's vocabulary (scored as <unk>)

  --json   one JSON object: ppl, top1, top3, tokens, oov, and per-file figures in "files"
`;

interface FileResult extends EvalFigures {
  file: string;
}

export async function evalCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(EVAL_HELP);
    return 0;
  }
  if (!values.model) throw new UsageError('eval needs --model DIR\n\n' + EVAL_HELP);
  if (positionals.length === 0) throw new UsageError('eval needs at least one file or folder\n\n' + EVAL_HELP);
  const threads = num(values.threads, 'threads', { int: true, min: 0 }) ?? 0;
  const texts: { file: string; text: string }[] = [];
  for (const p of positionals) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`${p} does not exist`);
    }
    if (st.isDirectory()) {
      const scan = await readWorkspaceFiles(p);
      for (const f of scan.files) texts.push({ file: path.join(p, f.relPath), text: f.text });
    } else {
      // Without a byte-order mark, as editors (and the folder reader) present the text.
      texts.push({ file: p, text: readFileSync(p, 'utf8').replace(/^\uFEFF/, '') });
    }
  }
  if (texts.length === 0) throw new UsageError('no text files to evaluate');
  const model = await ModelSession.open(path.resolve(values.model), { threads });
  const files: FileResult[] = [];
  const t0 = performance.now();
  try {
    for (const { file, text } of texts) files.push({ file, ...(await evaluateText(model.scorer, model.vocab, model.mode, text)) });
  } finally {
    await model.release();
  }
  const seconds = (performance.now() - t0) / 1000;
  const all = combineFigures(files);
  const fig = (f: EvalFigures) => ({ ppl: round(f.ppl, 3), top1: round(f.top1, 4), top3: round(f.top3, 4), tokens: f.tokens, oov: f.oov });
  if (values.json) {
    process.stdout.write(
      JSON.stringify({ ...fig(all), tokens_per_s: Math.round(all.tokens / seconds), files: files.map((f) => ({ file: f.file, ...fig(f) })) }) + '\n',
    );
    return 0;
  }
  const w = Math.min(60, Math.max(4, ...files.map((f) => f.file.length)));
  const row = (name: string, f: EvalFigures) =>
    `${name.padEnd(w)}  ${f.ppl.toFixed(2).padStart(9)}  ${(f.top1 * 100).toFixed(1).padStart(5)} %  ${(f.top3 * 100).toFixed(1).padStart(5)} %  ${thousands(f.tokens).padStart(10)}  ${thousands(f.oov).padStart(8)}`;
  const lines = [`${'file'.padEnd(w)}  ${'ppl'.padStart(9)}  ${'top-1'.padStart(7)}  ${'top-3'.padStart(7)}  ${'tokens'.padStart(10)}  ${'oov'.padStart(8)}`];
  if (files.length > 1) for (const f of files) lines.push(row(f.file.length > w ? '…' + f.file.slice(-(w - 1)) : f.file, f));
  lines.push(row(files.length > 1 ? 'all' : files[0]!.file, all));
  process.stdout.write(lines.join('\n') + `\n(${thousands(all.tokens / seconds)} tokens/s)\n`);
  return 0;
}
