// The served mixture (network + Kneser-Ney + document cache): EM finds the weights a mixture was drawn
// with; the mixed distribution is a distribution and is exactly the formula over its parts' own numbers;
// the scorer gives the model's own log p and ranks, in any chunking and from any state; specs are checked.

import assert from 'node:assert/strict';
import test from 'node:test';
import { cachedFlagsOf } from '../../../src/core/predict/cache-model.js';
import { LanguageModelScorer } from '../../../src/core/scoring/language-model-scorer.js';
import {
  bucketCount, bucketOf, COUNT_EDGES, fitMixture, fitMixtureSpec, MIXTURE_COMPONENTS, mixtureSamples, MixtureLanguageModel, MixtureScorer, validateMixtureSpec,
  type MixtureSamples, type MixtureSpec,
} from '../../../src/core/serving/mixture-model.js';
import { parseModelMeta } from '../../../src/core/serving/model-format.js';
import { KneserNey } from '../../../src/core/ngram/kneser-ney.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { BigramModel } from '../../support/bigram-model.js';

const words = ['<unk>', '\n', ' the', ' cat', ' sat', ' on', ' mat', '.', ' a', ' dog'];
const vocab = Vocabulary.fromJSON(words);
const V = words.length;
const id = (w: string) => words.indexOf(w);
const network = new BigramModel(vocab, { ' the': { ' cat': 0.5, ' mat': 0.3 }, ' cat': { ' sat': 0.6 }, ' sat': { ' on': 0.8 }, ' on': { ' the': 0.7 } });
const stream = Int32Array.from({ length: 600 }, (_, i) => [2, 3, 4, 5, 2, 6, 7, 1][i % 8]!);
const ngram = KneserNey.train([stream, Int32Array.from([2, 9, 4, 5, 8, 6, 7, 1])], { vocabSize: V, order: 3, startId: 1 });
const cached = cachedFlagsOf(vocab);

/** A spec with different weights in every bucket (rows sum to 1). */
function spec(window = 6): MixtureSpec {
  const B = bucketCount(3, COUNT_EDGES);
  const r = mulberry32(3);
  const weights = Array.from({ length: B }, (_, b) => {
    const w = [0.2 + r(), 0.2 + r(), b >= B / 2 ? 0 : 0.1 + r()]; // no cache weight where the window is empty
    const s = w[0]! + w[1]! + w[2]!;
    return w.map((x) => x / s);
  });
  return { components: [...MIXTURE_COMPONENTS], order: 3, countEdges: [...COUNT_EDGES], window, weights };
}

test('EM recovers the weights a mixture was drawn with, bucket by bucket', () => {
  // Three fixed distributions over 50 outcomes; in bucket b each token comes from part c with truth[b][c].
  const r = mulberry32(11);
  const parts = Array.from({ length: 3 }, () => {
    const x = Array.from({ length: 50 }, () => r() ** 3);
    const s = x.reduce((a, b) => a + b, 0);
    return x.map((v) => v / s);
  });
  const truth = [
    [0.7, 0.2, 0.1],
    [0.1, 0.8, 0.1],
    [0.3, 0.3, 0.4],
  ];
  const T = 60_000;
  const samples: MixtureSamples = { p: [new Float64Array(T), new Float64Array(T), new Float64Array(T)], bucket: new Int32Array(T) };
  for (let t = 0; t < T; t++) {
    const b = t % 3;
    const u = r();
    const c = u < truth[b]![0]! ? 0 : u < truth[b]![0]! + truth[b]![1]! ? 1 : 2;
    // Draw an outcome from part c.
    let v = r();
    let k = 0;
    while (k < 49 && (v -= parts[c]![k]!) > 0) k++;
    for (let j = 0; j < 3; j++) samples.p[j]![t] = parts[j]![k]!;
    samples.bucket[t] = b;
  }
  const { weights } = fitMixture(samples, 3, { prior: 0, iterations: 300 });
  for (let b = 0; b < 3; b++) {
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(weights[b]![c]! - truth[b]![c]!) < 0.06, `bucket ${b}, part ${c}: ${weights[b]![c]} vs ${truth[b]![c]}`);
    assert.ok(Math.abs(weights[b]!.reduce((a, x) => a + x, 0) - 1) < 1e-12);
  }
});

test('the fitted weights beat every other weighting on the data they were fitted on', () => {
  const r = mulberry32(5);
  const T = 2000;
  const samples: MixtureSamples = { p: [0, 1, 2].map(() => Float64Array.from({ length: T }, () => r() ** 2)), bucket: Int32Array.from({ length: T }, () => Math.floor(r() * 4)) };
  const { weights } = fitMixture(samples, 4, { prior: 0, iterations: 500 });
  const ll = (w: number[][]) => {
    let s = 0;
    for (let t = 0; t < T; t++) s += Math.log(w[samples.bucket[t]!]!.reduce((a, x, c) => a + x * samples.p[c]![t]!, 0));
    return s;
  };
  const best = ll(weights);
  for (let k = 0; k < 50; k++) {
    const other = weights.map((row) => {
      const x = row.map((w) => Math.max(1e-9, w + (r() - 0.5) * 0.2));
      const s = x.reduce((a, b) => a + b, 0);
      return x.map((w) => w / s);
    });
    assert.ok(ll(other) <= best + 1e-9, `a perturbed weighting scored higher: ${ll(other)} > ${best}`);
  }
});

test('a bucket with few tokens keeps close to the weights of all tokens (the prior)', () => {
  const T = 10_000;
  const samples: MixtureSamples = { p: [new Float64Array(T).fill(0.5), new Float64Array(T).fill(0.1), new Float64Array(T).fill(0.1)], bucket: new Int32Array(T) };
  // Bucket 1: three tokens where only the cache knew the word.
  for (let t = 0; t < 3; t++) {
    samples.bucket[t] = 1;
    samples.p[0]![t] = 1e-6;
    samples.p[1]![t] = 1e-6;
    samples.p[2]![t] = 0.9;
  }
  const withPrior = fitMixture(samples, 2);
  const without = fitMixture(samples, 2, { prior: 0 });
  assert.ok(without.weights[1]![2]! > 0.99, 'alone, three tokens give the cache everything');
  assert.ok(withPrior.weights[1]![2]! < 0.3, `with the prior the cache gets ${withPrior.weights[1]![2]}`);
});

test('the mixed distribution sums to 1 and is the weighted sum of its parts, for every context', async () => {
  const s = spec();
  const model = new MixtureLanguageModel({ network, ngram, cached, spec: s });
  const ids = Int32Array.from([' the', ' cat', ' sat', ' on', ' the', ' dog', ' sat', '.', '\n', ' a', ' mat'].map(id));
  const { logProbs } = await model.run(ids, model.initialState());
  const pk = new Float64Array(V);
  for (let t = 0; t < ids.length; t++) {
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logProbs[t * V + v]!);
    assert.ok(Math.abs(sum - 1) < 1e-5, `row ${t} sums to ${sum}`);
    // The formula, from the parts' own numbers.
    const history = ids.subarray(0, t + 1);
    const { levels, total } = ngram.context(history, t + 1);
    ngram.distribution(history.subarray(Math.max(0, t + 1 - 2)), pk);
    const window = Array.from(history).filter((x) => cached[x]).slice(-s.window);
    const w = s.weights[bucketOf(s, levels, total, window.length === 0)]!;
    const prev = words[ids[t]!]!;
    for (const next of words) {
      const pc = window.length ? window.filter((x) => x === id(next)).length / window.length : 0;
      const expected = w[0]! * network.prob(prev, next) + w[1]! * Math.exp(pk[id(next)]!) + w[2]! * pc;
      assert.ok(Math.abs(Math.exp(logProbs[t * V + id(next)]!) - expected) < 1e-6, `row ${t}, ${JSON.stringify(next)}`);
    }
  }
});

test('run in pieces, and advance then run, give what one run gives', async () => {
  const model = new MixtureLanguageModel({ network, ngram, cached, spec: spec(4) });
  const ids = Int32Array.from([' the', ' cat', ' sat', ' on', ' the', ' mat', '.', '\n', ' the', ' dog', ' sat'].map(id));
  const whole = await model.run(ids, model.initialState());
  const first = await model.run(ids.subarray(0, 5), model.initialState());
  const second = await model.run(ids.subarray(5), first.state);
  assert.deepEqual(Array.from(second.logProbs), Array.from(whole.logProbs.subarray(5 * V)));
  const advanced = await model.advance(ids.subarray(0, 7), model.initialState());
  const rest = await model.run(ids.subarray(7), advanced);
  assert.deepEqual(Array.from(rest.logProbs), Array.from(whole.logProbs.subarray(7 * V)));
  await assert.rejects(() => model.run(ids, network.initialState()), /not this model's/);
});

test('the scorer gives the model\'s log p of each target, its rank on request, in any chunking', async () => {
  const s = spec(5);
  const model = new MixtureLanguageModel({ network, ngram, cached, spec: s });
  const networkScorer = new LanguageModelScorer(network);
  const plain = new MixtureScorer({ networkScorer, ngram, cached, spec: s });
  const ranked = new MixtureScorer({ networkScorer, ngram, cached, spec: s }, { network });
  const seq = Int32Array.from(['\n', ' the', ' cat', ' sat', ' on', ' the', ' mat', '.', '\n', ' a', ' dog', ' sat', ' on', ' a', ' cat'].map(id));
  const { logProbs } = await model.run(seq.subarray(0, seq.length - 1), model.initialState());
  const whole = await ranked.scoreSequence(seq);
  for (let t = 0; t < seq.length - 1; t++) {
    const row = logProbs.subarray(t * V, (t + 1) * V);
    const target = row[seq[t + 1]!]!;
    assert.ok(Math.abs(whole.logp[t]! - target) < 1e-5, `target ${t}: ${whole.logp[t]} vs ${target}`);
    const higher = Array.from(row).filter((x) => x > target + 1e-6).length;
    assert.equal(whole.rank![t], higher, `target ${t}: rank`);
  }
  const fast = await plain.scoreSequence(seq);
  assert.equal(fast.rank, undefined, 'no ranks unless asked');
  assert.deepEqual(Array.from(fast.logp), Array.from(whole.logp));
  // Two chunks: the second starts at the first's last target, from the state after its inputs.
  const a = await plain.scoreChunk(seq.subarray(0, 7), plain.initialState());
  const b = await plain.scoreChunk(seq.subarray(6), a.state);
  assert.deepEqual([...a.logp, ...b.logp], Array.from(whole.logp));
});

test('a long text is scored in pieces, each from the state the one before ended in: the same figures', async () => {
  const s = spec(5);
  const model = new MixtureLanguageModel({ network, ngram, cached, spec: s });
  const ranked = new MixtureScorer({ networkScorer: new LanguageModelScorer(network), ngram, cached, spec: s }, { network });
  const r = mulberry32(9);
  const seq = Int32Array.from({ length: 700 }, () => 1 + Math.floor(r() * (V - 1)));
  const { logProbs } = await model.run(seq.subarray(0, seq.length - 1), model.initialState());
  const { logp, rank } = await ranked.scoreSequence(seq);
  assert.equal(logp.length, 699);
  for (let t = 0; t < 699; t++) {
    const row = logProbs.subarray(t * V, (t + 1) * V);
    assert.ok(Math.abs(logp[t]! - row[seq[t + 1]!]!) < 1e-5, `target ${t}`);
    assert.equal(rank![t], Array.from(row).filter((x) => x > row[seq[t + 1]!]! + 1e-6).length, `rank ${t}`);
  }
});

test('samples and the fit: the figures are the parts\' and the mixture\'s perplexities on the validation tokens', async () => {
  const seqs = [Int32Array.from(['\n', ' the', ' cat', ' sat', ' on', ' the', ' mat', '.'].map(id)), Int32Array.from(['\n', ' a', ' dog', ' sat', ' on', ' a', ' mat', '.'].map(id))];
  const shape = { order: 3, countEdges: [...COUNT_EDGES], window: 5 };
  const samples = await mixtureSamples(seqs, new LanguageModelScorer(network), ngram, cached, shape);
  assert.equal(samples.bucket.length, 14);
  const { spec: fitted, fit } = fitMixtureSpec(samples, shape, 0.1);
  validateMixtureSpec(fitted);
  assert.equal(fit.tokens, 14);
  // The network alone, from its own table: exp of the mean −ln p over both sequences' targets.
  let nll = 0;
  for (const q of seqs) for (let t = 1; t < q.length; t++) nll -= Math.log(network.prob(words[q[t - 1]!]!, words[q[t]!]!));
  assert.ok(Math.abs(fit.ppl.network - Math.exp(nll / 14)) < 1e-4, `${fit.ppl.network}`);
  // The n-gram model's, as it scores the same sequences.
  let kn = 0;
  for (const q of seqs) kn -= ngram.logLikelihood(q);
  assert.ok(Math.abs(fit.ppl.ngram - Math.exp(kn / 14)) < 1e-6);
  // The fitted mixture is at least as good as either part alone, and as the fixed network + cache.
  assert.ok(fit.ppl.model <= Math.min(fit.ppl.network, fit.ppl.ngram, fit.ppl.networkCache, fit.ppl.ngramCache) + 1e-9, JSON.stringify(fit.ppl));
});

test('a mixture spec is checked, in model.json too', () => {
  const good = spec();
  assert.equal(validateMixtureSpec(good), good);
  assert.throws(() => validateMixtureSpec({ ...good, weights: good.weights.slice(1) }), /weights must hold 18 rows/);
  assert.throws(() => validateMixtureSpec({ ...good, weights: good.weights.map((w) => w.map((x) => x * 2)) }), /sums to/);
  assert.throws(() => validateMixtureSpec({ ...good, components: ['ngram', 'network', 'cache'] }), /components/);
  assert.throws(() => validateMixtureSpec({ ...good, countEdges: [32, 4] }), /ascending/);
  const meta = {
    format: 'nextword-model', formatVersion: 1, createdAt: '', tokenizer: { mode: 'text' },
    config: { cell: 'lstm', layers: 1, vocab: V, embed: 8, hidden: 8, tied: true }, vocabulary: words,
  };
  assert.ok(parseModelMeta({ ...meta, mixture: good, ngram: { file: 'ngram-x.bin', bytes: 1, sha256: 'x' } }, 'm').mixture);
  assert.throws(() => parseModelMeta({ ...meta, mixture: good }, 'm'), /no n-gram companion/);
  assert.throws(() => parseModelMeta({ ...meta, mixture: { ...good, window: 0 }, ngram: {} }, 'm'), /m: mixture: window/);
  assert.throws(() => new MixtureLanguageModel({ network, ngram, cached, spec: { ...good, order: 4, weights: Array.from({ length: bucketCount(4, COUNT_EDGES) }, () => [0.5, 0.5, 0]) } }), /order-4/);
});
