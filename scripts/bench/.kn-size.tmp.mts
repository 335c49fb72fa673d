// scratch: n-gram companion size and held-out perplexity by order
import { readFileSync } from 'node:fs';
import { KneserNey } from '../../src/core/ngram/kneser-ney.js';
import { Vocabulary } from '../../src/core/vocabulary.js';
import { tokenize } from '../../src/core/tokenizer.js';
import { startTokenId } from '../../src/core/evaluation.js';
import { readTexts } from '../../src/cli/texts.js';
const [run] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(`${run}/model/model.json`, 'utf8'));
const vocab = Vocabulary.fromJSON(meta.vocabulary);
const mode = meta.tokenizer.mode;
const start = startTokenId(vocab, mode);
const enc = async (f: string) => (await readTexts([f])).map((t) => { const ids = vocab.encode(tokenize(t.text, mode)); const s = new Int32Array(ids.length + 1); s[0] = start; s.set(ids, 1); return s; });
const train = await enc(`${run}/rest`), held = await enc(`${run}/held-out`);
const n = train.reduce((s, q) => s + q.length, 0);
for (const order of [4, 5, 6, 7]) {
  const t0 = performance.now();
  const kn = KneserNey.train(train.map((s) => s.subarray(1)), { vocabSize: vocab.size, order, startId: start });
  const dt = performance.now() - t0;
  const bytes = kn.toBytes().length;
  let ll = 0, m = 0;
  for (const s of held) { ll += kn.logLikelihood(s); m += s.length - 1; }
  console.log(`order ${order}: ${n} tokens, ${kn.ngramCount} n-grams, ${(bytes / 1e6).toFixed(1)} MB (${(bytes / n).toFixed(1)} B/token), ${(dt / 1000).toFixed(2)} s; held-out ppl ${Math.exp(-ll / m).toFixed(2)}`);
}
