// Run by training-job.test.ts: starts a long training job in a child process, says so, and waits to be killed.
import { dropoutMaskWidths, type ModelConfig } from '../../../src/core/model/model-config.js';
import { startTrainingOnTexts } from '../../../src/runtime/training/training-job.js';

const text = Array.from({ length: 20_000 }, (_, i) => `word${i % 50}`).join(' ');
const bytes = new TextEncoder().encode(text);
startTrainingOnTexts(
  { bytes, trainLengths: [bytes.length - 2000], validLengths: [2000], tokenizer: 'text', vocab: { maxSize: 100, minCount: 1 }, maxValidTokens: 250_000 },
  (prepared) => {
    process.stdout.write('prepared\n');
    const cfg: ModelConfig = { cell: 'lstm', layers: 1, vocab: prepared.vocab.words.length, embed: 8, hidden: 8, tied: true };
    return {
      cfg,
      options: { batch: 4, bptt: 8, lr: 0.02, clip: 1, optimizer: 'adam', schedule: { kind: 'plateau', factor: 4 }, dropout: 0, maskWidths: dropoutMaskWidths(cfg), epochs: 1000, timeBudget: 0, seed: 1, evalBatch: 2, evalBptt: 16 },
      threads: 1,
    };
  },
  () => {},
  () => {},
  { isolation: 'process' },
).result.catch(() => undefined);
