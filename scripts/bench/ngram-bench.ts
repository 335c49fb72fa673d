// Training time and memory of the Kneser-Ney n-gram model on Penn Treebank (train.txt, ~930k tokens in
// whitespace mode, one sequence after the `<eos>` start token), its size serialized, the time to load it,
// and the perplexity of valid.txt through evaluateText. One order per run, so the peak memory is its own:
//   for o in 1 2 3 4 5; do node --expose-gc --import tsx scripts/bench/ngram-bench.ts ../shared/corpora/ptb $o; done
// `rss+` is the growth of the peak resident set over the resident set before training: the hash tables and
// sorting buffers at their largest. The trained model keeps about its serialized size plus 16 bytes a context.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { evaluateText, startTokenId } from '../../src/core/scoring/evaluation.js';
import { KneserNey } from '../../src/core/ngram/kneser-ney.js';
import { tokenize } from '../../src/core/text/tokenizer.js';
import { Vocabulary } from '../../src/core/text/vocabulary.js';

const MB = 2 ** 20;

async function main(): Promise<void> {
  const dir = process.argv[2] ?? path.join(__dirname, '..', '..', '..', 'shared', 'corpora', 'ptb');
  const order = Number(process.argv[3] ?? 4);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc, so the memory figures mean something');

  const tokens = tokenize(readFileSync(path.join(dir, 'train.txt'), 'utf8'), 'whitespace');
  const vocab = Vocabulary.build(Vocabulary.countTokens(tokens), { maxSize: 1e6, minCount: 1 });
  const ids = vocab.encode(tokens);
  const valid = readFileSync(path.join(dir, 'valid.txt'), 'utf8');
  gc();
  const rss0 = process.memoryUsage().rss;

  const t0 = performance.now();
  const model = KneserNey.train([ids], { vocabSize: vocab.size, order, startId: startTokenId(vocab, 'whitespace') });
  const trainS = (performance.now() - t0) / 1000;
  const peakGrowth = process.resourceUsage().maxRSS * 1024 - rss0;

  const bytes = model.toBytes();
  const t1 = performance.now();
  const loaded = KneserNey.fromBytes(bytes);
  const loadS = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  const { ppl, tokens: scored } = await evaluateText(loaded, vocab, 'whitespace', valid);
  const evalS = (performance.now() - t2) / 1000;
  console.log(
    `order ${order}: ${ids.length} tokens, V ${vocab.size}, train ${trainS.toFixed(2)} s, rss+ ${(peakGrowth / MB).toFixed(0)} MB, ` +
      `${model.ngramCount} n-grams, ${(bytes.length / MB).toFixed(1)} MB serialized, load ${loadS.toFixed(2)} s, ` +
      `valid ppl ${ppl.toFixed(1)} (${scored} tokens, ${evalS.toFixed(1)} s)`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
