// The n-gram companion's order against its size (docs/quality.md, "The companion's order"): for a project
// run of scripts/bench/ksr-projects.sh, a Kneser-Ney model of each order counted on the training side (its
// `rest` folder, with the trained model's vocabulary) and scored on the held-out files: n-grams, saved
// bytes, seconds to count, held-out perplexity (each file read from its start, as the companion is).
//
//   node --import tsx scripts/bench/companion-order.ts runs/ksr-o6/commander [--orders 4,5,6,7]

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { startTokenId } from '../../src/core/scoring/evaluation.js';
import { sequencesPerplexity, splitSequences } from '../../src/core/ngram/companion.js';
import { KneserNey } from '../../src/core/ngram/kneser-ney.js';
import { encodeTexts } from '../../src/core/text/text-encoding.js';
import { Vocabulary } from '../../src/core/text/vocabulary.js';
import { readTexts } from '../../src/cli/texts.js';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { orders: { type: 'string' } } });
  const run = positionals[0];
  if (!run) throw new Error('usage: companion-order.ts RUN_DIR [--orders 4,5,6,7]');
  const orders = (values.orders ?? '4,5,6,7').split(',').map(Number);
  const meta = JSON.parse(readFileSync(path.join(run, 'model', 'model.json'), 'utf8')) as { vocabulary: unknown; tokenizer: { mode: 'text' | 'whitespace' } };
  const vocab = Vocabulary.fromJSON(meta.vocabulary);
  const mode = meta.tokenizer.mode;
  const startId = startTokenId(vocab, mode);
  const encode = async (folder: string) => {
    const { ids, sizes } = await encodeTexts((await readTexts([path.join(run, folder)])).map((t) => t.text), vocab, { mode });
    return splitSequences(ids, sizes);
  };
  const train = await encode('rest');
  const heldOut = await encode('held-out');
  const tokens = train.reduce((s, q) => s + q.length, 0);
  console.log(`${run}: ${tokens.toLocaleString('en')} training tokens`);
  for (const order of orders) {
    const t0 = performance.now();
    const kn = KneserNey.train(train, { vocabSize: vocab.size, order, startId });
    const seconds = (performance.now() - t0) / 1000;
    const bytes = kn.toBytes().length;
    console.log(
      `order ${order}: ${kn.ngramCount.toLocaleString('en')} n-grams, ${(bytes / 1e6).toFixed(1)} MB (${(bytes / tokens).toFixed(1)} bytes a token), ` +
        `counted in ${seconds.toFixed(2)} s; held-out perplexity ${sequencesPerplexity(kn, heldOut, startId).toFixed(2)}`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
