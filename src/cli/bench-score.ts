// `nextword bench score`: how fast a file's perplexity is computed, as the status bar and `nextword eval`
// compute it (ModelSession's scorer: the model as served, its mixture or the network with its document cache, the scoring graph in chunks, on
// one thread by default like the editor). The texts are tokenised once, outside the timing; each repeat scores
// every text from its start, and the median repeat is reported.

import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CACHE } from '../core/predict/cache-model.js';
import { scoringSequence } from '../core/scoring/evaluation.js';
import { DECODERS, DEFAULT_DECODER, ModelSession, SERVED } from '../runtime/serving/model-session.js';
import { EDITOR_SCORING_THREADS } from '../runtime/serving/remote-serving.js';
import { num, oneOf, round, thousands, UsageError } from './args.js';
import { BENCH_HELP } from './bench-help.js';
import { readTexts } from './texts.js';

export async function benchScore(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      decoder: { type: 'string' },
      'no-cache': { type: 'boolean' },
      repeats: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(BENCH_HELP);
    return 0;
  }
  if (!values.model) throw new UsageError('bench score needs --model DIR\n\n' + BENCH_HELP);
  if (positionals.length === 0) throw new UsageError('bench score needs at least one file or folder\n\n' + BENCH_HELP);
  const decoder = oneOf(values.decoder, 'decoder', DECODERS) ?? DEFAULT_DECODER;
  const repeats = num(values.repeats, 'repeats', { int: true, min: 1 }) ?? 5;
  const threads = num(values.threads, 'threads', { int: true, min: 0 }) ?? EDITOR_SCORING_THREADS;
  const texts = await readTexts(positionals);
  const session = await ModelSession.open(path.resolve(values.model), { threads, decoder, cache: values['no-cache'] ? false : DEFAULT_CACHE });
  try {
    const t0 = performance.now();
    const seqs = texts.map((t) => scoringSequence(session.vocab, session.mode, t.text));
    const tokenizeMs = performance.now() - t0;
    const tokens = seqs.reduce((n, s) => n + Math.max(0, s.length - 1), 0);
    if (tokens === 0) throw new UsageError('the texts hold no tokens');
    const run = async () => {
      const t = performance.now();
      for (const s of seqs) if (s.length > 1) await session.scorer.scoreSequence(s);
      return performance.now() - t;
    };
    await run(); // warm-up: builds the scoring session, sizes onnxruntime's buffers
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) times.push(await run());
    times.sort((a, b) => a - b);
    const ms = times[times.length >> 1]!;
    const result = {
      tokens_per_s: Math.round((tokens * 1000) / ms),
      tokenize_tokens_per_s: Math.round((tokens * 1000) / tokenizeMs),
      tokens,
      files: texts.length,
      score_ms_median: round(ms, 1),
      repeats,
      decoder,
      cache: !values['no-cache'],
      served: session.served,
      threads: threads || 'all',
      model: session.dir,
    };
    if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      process.stdout.write(
        `scoring: ${thousands(result.tokens_per_s)} tokens/s (median of ${repeats} passes over ${thousands(tokens)} tokens in ${texts.length} files; ` +
          `decoder ${decoder}, served as ${SERVED[session.served]}, ${threads || 'all'} thread${threads === 1 ? '' : 's'})\n` +
          `tokenising: ${thousands(result.tokenize_tokens_per_s)} tokens/s\n`,
      );
    }
  } finally {
    await session.release();
  }
  return 0;
}
