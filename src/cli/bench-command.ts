// `nextword bench`: throughput of training (tokens/s, with the share of the machine's matrix-multiply
// rate it reaches), latency of next-word requests (p50/p99 ms) and file scoring (tokens/s), printed as
// figures.

import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { gateCount, initialParameters, layerInputWidth, type ModelConfig } from '../core/model/model-config.js';
import { mulberry32 } from '../core/support/random.js';
import { countIds, SoftmaxSampler } from '../core/train/softmax-sampler.js';
import { Vocabulary } from '../core/text/vocabulary.js';
import { corpusSource, readTrainingTexts } from '../io/corpus-reader.js';
import { matmulGflops } from '../runtime/onnx/matmul-bench.js';
import { TrainingRunner } from '../runtime/training/training-runner.js';
import { num, round, thousands, UsageError } from './args.js';
import { countTextTokens, encodeTexts } from '../core/text/text-encoding.js';
import { SETTINGS_OPTIONS, settingsFromFlags } from './settings-flags.js';
import { trainingPlan } from '../core/train/presets.js';
import { BENCH_HELP } from './bench-help.js';


export async function benchCommand(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (!what || what === '-h' || what === '--help') {
    process.stdout.write(BENCH_HELP);
    return what ? 0 : 2;
  }
  if (what === 'train') return benchTrain(rest);
  if (what === 'predict') return (await import('./bench-predict.js')).benchPredict(rest);
  if (what === 'score') return (await import('./bench-score.js')).benchScore(rest);
  if (what === 'errors') return (await import('./bench-errors.js')).benchErrors(rest);
  throw new UsageError(`bench takes "train", "predict", "score" or "errors" (got "${what}")\n\n${BENCH_HELP}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Multiply-add FLOPs of the matrix products in one training step of N = T·B tokens (K sampled words, or all V). */
export function trainStepFlops(cfg: ModelConfig, N: number, samples = 0): number {
  const G = gateCount(cfg.cell);
  let flops = 3 * 2 * N * cfg.hidden * (samples > 0 ? Math.min(samples, cfg.vocab) : cfg.vocab); // decoder: logits, dW, dX
  for (let l = 0; l < cfg.layers; l++) {
    const I = layerInputWidth(cfg, l);
    // forward P = X·Wᵀ and h·Rᵀ; backward dW, dX, dR, dh·R
    flops += 3 * 2 * N * G * cfg.hidden * (I + cfg.hidden);
  }
  return flops;
}

async function benchTrain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...SETTINGS_OPTIONS,
      batches: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(BENCH_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('bench train takes one corpus or folder\n\n' + BENCH_HELP);
  const { settings: s, threads } = settingsFromFlags(values, 'ptb-small');
  const batches = num(values.batches, 'batches', { int: true, min: 1 }) ?? 100;

  const corpus = await readTrainingTexts(corpusSource(path.resolve(positionals[0]!)), { validFraction: s.validFraction });
  const enc = { mode: s.tokenizer };
  const vocab = Vocabulary.build(await countTextTokens(corpus.train, enc), { maxSize: s.vocab, minCount: s.minCount });
  // The model and the softmax (full, or sampled when K < V) exactly as `nextword train` would set them up.
  const { cfg, options } = trainingPlan(s, vocab.size);
  const { ids } = await encodeTexts(corpus.train, vocab, enc);
  const rand = mulberry32(s.seed);
  const sampler = options.sampled ? new SoftmaxSampler(countIds(ids, cfg.vocab), options.sampled.samples, mulberry32(s.seed)) : undefined;
  const runner = await TrainingRunner.create(cfg, { optimizer: s.optimizer, dropout: s.dropout > 0, bptt: s.bptt, threads, sampled: !!sampler }, initialParameters(cfg, rand, s.initScale));
  const T = s.bptt;
  const B = s.batch;
  const need = (batches + 5) * T * B + B;
  if (ids.length < need) throw new UsageError(`the corpus has ${ids.length} tokens; ${batches} batches of ${T}×${B} need ${need}`);
  // The streams as training lays them out (B streams read top to bottom), windows taken in order.
  const rows = Math.floor(ids.length / B);
  const data = new Int32Array(rows * B);
  for (let b = 0; b < B; b++) for (let r = 0; r < rows; r++) data[r * B + b] = ids[b * rows + r]!;
  const widths = cfg.layers + 1;
  const masks = s.dropout > 0
    ? Array.from({ length: widths }, (_, k) => new Float32Array(T * B * (k === 0 ? cfg.embed : cfg.hidden)).fill(1 / (1 - s.dropout)))
    : undefined;
  runner.resetState(B);
  const times: number[] = [];
  for (let i = 0; i < batches + 5; i++) {
    const t0 = performance.now();
    await runner.step(data.subarray(i * T * B, (i * T + T + 1) * B), T, s.lr, s.clip > 0 ? s.clip : Infinity, masks, sampler?.draw());
    if (i >= 5) times.push(performance.now() - t0);
  }
  await runner.release();
  const stepMs = median(times);
  const tokensPerS = (T * B * 1000) / stepMs;
  const gflops = trainStepFlops(cfg, T * B, sampler ? s.samples : 0) / (stepMs / 1000) / 1e9;
  const peak = await matmulGflops({ M: T * B, K: cfg.hidden, N: cfg.vocab, threads });
  const result = {
    tokens_per_s: Math.round(tokensPerS),
    step_ms_median: round(stepMs, 2),
    step_ms_p90: round([...times].sort((a, b) => a - b)[Math.floor(times.length * 0.9)]!, 2),
    batches,
    config: { ...cfg, batch: B, bptt: T, optimizer: s.optimizer, dropout: s.dropout, samples: sampler ? s.samples : 0 },
    matmul_gflops_in_step: round(gflops, 1),
    matmul_gflops_machine: round(peak, 1),
    share_of_matmul_limit: round(gflops / peak, 3),
    threads: threads || 'all',
  };
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    process.stdout.write(
      `training: ${thousands(tokensPerS)} tokens/s (median step ${stepMs.toFixed(1)} ms over ${batches} steps of ${T}×${B} tokens; ` +
        `${sampler ? `sampled softmax of ${s.samples} words` : 'full softmax'})\n` +
        `matrix products: ${gflops.toFixed(1)} GFLOP/s in the step vs ${peak.toFixed(1)} GFLOP/s for a plain [${T * B}×${cfg.hidden}]·[${cfg.hidden}×${cfg.vocab}] MatMul ` +
        `(${(100 * gflops / peak).toFixed(0)} % of that limit)\n`,
    );
  }
  return 0;
}
