// Run by training-job.test.ts: starts a long training job in a child process, says so once it is planned, and
// waits to be killed.
import { PRESETS } from '../../../src/core/train/presets.js';
import { startTraining } from '../../../src/runtime/training/training-job.js';

const text = Array.from({ length: 20_000 }, (_, i) => `word${i % 50}`).join(' ');
const bytes = new TextEncoder().encode(text);
const half = Math.floor(bytes.length / 2);
startTraining(
  {
    source: { kind: 'files', bytes, lengths: [half, bytes.length - half], relPaths: ['a.txt', 'b.txt'], scan: { root: 'fixture', files: { length: 2 }, skipped: new Map(), totalBytes: bytes.length, limits: { maxFileBytes: 1 << 20, maxFiles: 10, maxTotalBytes: 1 << 24 } } },
    settings: { ...PRESETS.tiny!, hidden: 8, embed: 8, vocab: 100, minCount: 1, batch: 4, bptt: 8, epochs: 1000, patience: 0, timeBudget: 0, validFraction: 0.5 },
    preset: 'tiny',
    threads: 1,
  },
  { onPlanned: () => void process.stdout.write('prepared\n') },
  { isolation: 'process' },
).result.catch(() => undefined);
