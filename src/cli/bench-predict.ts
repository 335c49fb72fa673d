// `nextword bench predict`: latency of next-word requests as the editor makes them while a user types.
// Each request extends the text by one word; the predictor advances its cached state by the new tokens
// and returns the top words. Figures are per request, after a warm-up.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initialParameters, type ModelConfig } from '../core/model/model-config.js';
import { Predictor } from '../core/predict/predictor.js';
import { mulberry32 } from '../core/support/random.js';
import { tokenize } from '../core/text/tokenizer.js';
import { Vocabulary } from '../core/text/vocabulary.js';
import { inferenceGraph } from '../core/graphs/inference-graph.js';
import { OnnxLanguageModel } from '../runtime/onnx/onnx-language-model.js';
import { num, oneOf, round, UsageError } from './args.js';
import { BENCH_HELP } from './bench-help.js';
import { DECODERS, DEFAULT_DECODER, ModelSession, SERVED } from '../runtime/serving/model-session.js';
import type { LanguageModel } from '../core/model/language-model.js';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function benchPredict(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      layers: { type: 'string' },
      hidden: { type: 'string' },
      vocab: { type: 'string' },
      cell: { type: 'string' },
      text: { type: 'string' },
      requests: { type: 'string' },
      threads: { type: 'string' },
      decoder: { type: 'string' },
      'no-cache': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(BENCH_HELP);
    return 0;
  }
  if (positionals.length) throw new UsageError('bench predict takes no positional arguments\n\n' + BENCH_HELP);
  const requests = num(values.requests, 'requests', { int: true, min: 10 }) ?? 1000;
  const threads = num(values.threads, 'threads', { int: true, min: 0 }) ?? 0;
  const rand = mulberry32(7);
  let lm: LanguageModel;
  let release: () => Promise<void>;
  let vocab: Vocabulary;
  let cfg: ModelConfig;
  let mode: 'text' | 'whitespace' = 'text';
  let source: string;
  if (values.model) {
    const decoder = oneOf(values.decoder, 'decoder', DECODERS) ?? DEFAULT_DECODER;
    const m = await ModelSession.open(values.model, { threads, decoder, ...(values['no-cache'] ? { cache: false as const } : {}) });
    cfg = m.meta.config;
    vocab = m.vocab;
    mode = m.mode;
    lm = m.model;
    release = () => m.release();
    source = `${m.dir}, decoder ${decoder}, served as ${SERVED[m.served]}`;
  } else {
    const V = num(values.vocab, 'vocab', { int: true, min: 3 }) ?? 20000;
    const H = num(values.hidden, 'hidden', { int: true, min: 1 }) ?? 256;
    const L = num(values.layers, 'layers', { int: true, min: 1, max: 3 }) ?? 2;
    cfg = { cell: values.cell === 'rnn' ? 'rnn' : 'lstm', layers: L, vocab: V, embed: H, hidden: H, tied: true };
    // A vocabulary of made-up words; latency depends on the sizes, not on the weights or the words.
    vocab = Vocabulary.fromJSON(['<unk>', '\n', ...Array.from({ length: V - 2 }, (_, i) => ` w${i}`)]);
    const onnx = await OnnxLanguageModel.create(inferenceGraph(cfg, initialParameters(cfg, rand)), cfg, { threads });
    lm = onnx;
    release = () => onnx.release();
    source = `random weights, ${cfg.cell} ${L}×${H}, vocabulary ${V}`;
  }
  const predictor = new Predictor(lm, vocab, mode);
  // The words typed: a file given with --text, else words drawn from the vocabulary, in lines of 12.
  const words = values.text
    ? tokenize(readFileSync(values.text, 'utf8'), mode)
    : Array.from({ length: requests + 50 }, (_, i) => (i % 12 === 11 ? '\n' : vocab.word(1 + Math.floor(rand() * (vocab.size - 1)))));
  if (words.length < requests + 50) throw new UsageError(`--text has ${words.length} tokens; ${requests + 50} are needed`);
  let text = '';
  const times: number[] = [];
  for (let i = 0; i < requests + 50; i++) {
    text += words[i]!;
    const t0 = performance.now();
    await predictor.topK(text, 5);
    if (i >= 50) times.push(performance.now() - t0);
  }
  await release();
  times.sort((a, b) => a - b);
  const result = {
    p50_ms: round(percentile(times, 50), 3),
    p90_ms: round(percentile(times, 90), 3),
    p99_ms: round(percentile(times, 99), 3),
    max_ms: round(times[times.length - 1]!, 3),
    requests,
    model: source,
    config: cfg,
    threads: threads || 'all',
  };
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    process.stdout.write(
      `next-word requests (${source}): p50 ${result.p50_ms} ms, p90 ${result.p90_ms} ms, p99 ${result.p99_ms} ms, max ${result.max_ms} ms over ${requests} requests\n`,
    );
  }
  return 0;
}
