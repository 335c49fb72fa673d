// The Kneser-Ney model against expectations that do not come from it: a bigram example worked out by hand,
// a slow Map-based implementation of the same formulas written here from the paper (string keys, sets of
// left neighbours, the recursion as written), the identity Σ p = 1, brute-force ranks, the Predictor and
// evaluation reading it as any LanguageModel, and held-out perplexity on real text falling with the order.
//
// Shapes: V vocabulary, N order, n ids.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { LanguageModelScorer } from '../../../src/core/scoring/language-model-scorer.js';
import { evaluateText, startTokenId } from '../../../src/core/scoring/evaluation.js';
import { KneserNey } from '../../../src/core/ngram/kneser-ney.js';
import { Predictor } from '../../../src/core/predict/predictor.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import { tokenize } from '../../../src/core/text/tokenizer.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';

type Rand = () => number;

/** Skewed random ids in [0, V): low ids far more often, so counts of 1, 2, 3 and 4 all occur. */
function randomCorpus(rand: Rand, V: number, lengths: number[]): Int32Array[] {
  return lengths.map((n) => Int32Array.from({ length: n }, () => Math.min(V - 1, Math.floor(V * rand() ** 3))));
}

const close = (actual: number, expected: number, what: string, tol = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);

// ------------------------------------------------------------------------------------------------
// The slow model: Chen & Goodman's interpolated modified Kneser-Ney, straight from the formulas.

class SlowKneserNey {
  /** Adjusted count of every n-gram, keyed "id id …". */
  readonly adjusted = new Map<string, number>();
  /** Followers of every context (keyed like n-grams, "" for the empty one): word → adjusted count. */
  readonly followers = new Map<string, Map<number, number>>();
  /** [order − 1] D1, D2, D3+; and whether the order fell back to (0.5, 1, 1.5). */
  readonly discounts: number[][] = [];
  readonly fellBack: boolean[] = [];

  constructor(
    sequences: Int32Array[],
    readonly N: number,
    readonly V: number,
    start: number,
  ) {
    const raw = new Map<string, number>();
    const left = new Map<string, Set<number>>();
    const atStart = new Map<string, number>();
    for (const seq of sequences) {
      const s = [start, ...seq];
      for (let i = 1; i < s.length; i++) {
        for (let n = 1; n <= Math.min(i + 1, N); n++) {
          const from = i - n + 1;
          const key = s.slice(from, i + 1).join(' ');
          raw.set(key, (raw.get(key) ?? 0) + 1);
          if (!left.has(key)) left.set(key, new Set());
          if (from === 0) atStart.set(key, (atStart.get(key) ?? 0) + 1);
          else left.get(key)!.add(s[from - 1]!);
        }
      }
    }
    const cocs = Array.from({ length: N }, () => [0, 0, 0, 0, 0]);
    for (const [key, r] of raw) {
      const ids = key.split(' ').map(Number);
      const n = ids.length;
      // N-grams: their count. Shorter: distinct left neighbours, plus each time the n-gram began a sequence.
      const a = n === N ? r : left.get(key)!.size + (atStart.get(key) ?? 0);
      this.adjusted.set(key, a);
      const ctx = ids.slice(0, -1).join(' ');
      if (!this.followers.has(ctx)) this.followers.set(ctx, new Map());
      this.followers.get(ctx)!.set(ids[n - 1]!, a);
      if (a <= 4) cocs[n - 1]![a]!++;
    }
    for (const [, n1, n2, n3, n4] of cocs as [number, number, number, number, number][]) {
      let d = [0.5, 1, 1.5];
      let fellBack = true;
      if (n1 > 0 && n2 > 0 && n3 > 0 && n4 > 0) {
        const Y = n1 / (n1 + 2 * n2);
        const est = [1 - (2 * Y * n2) / n1, 2 - (3 * Y * n3) / n2, 3 - (4 * Y * n4) / n3];
        if (est[0]! > 0 && est[0]! < 1 && est[1]! > 0 && est[1]! < 2 && est[2]! > 0 && est[2]! < 3) [d, fellBack] = [est, false];
      }
      this.discounts.push(d);
      this.fellBack.push(fellBack);
    }
  }

  /** p(w | history) by the recursion p_n = (a − D)/T + γ p_{n−1}, p_0 = 1/V. */
  prob(history: number[], w: number): number {
    let p = 1 / this.V;
    for (let n = 1; n <= this.N && n - 1 <= history.length; n++) {
      const ctx = history.slice(history.length - (n - 1)).join(' ');
      const f = this.followers.get(n === 1 ? '' : ctx);
      if (!f) continue; // an unseen context passes the lower order on
      const D = (a: number) => this.discounts[n - 1]![Math.min(a, 3) - 1]!;
      let T = 0;
      let mass = 0;
      for (const a of f.values()) {
        T += a;
        mass += D(a);
      }
      const a = f.get(w) ?? 0;
      p = (a > 0 ? (a - D(a)) / T : 0) + (mass / T) * p;
    }
    return p;
  }
}

/** Every history of ≤ N − 1 ids that occurs before a token of the corpus (after the start token), plus unseen ones. */
function historiesOf(sequences: Int32Array[], N: number, start: number, V: number): number[][] {
  const seen = new Map<string, number[]>();
  for (const seq of sequences) {
    const s = [start, ...seq];
    for (let i = 1; i <= s.length; i++) {
      const h = s.slice(Math.max(0, i - (N - 1)), i);
      seen.set(h.join(' '), h);
    }
  }
  const extra = [[], [V - 1], [V - 1, V - 1, V - 1, V - 1], [start, V - 1], [0, start]];
  return [...seen.values(), ...extra];
}

// ------------------------------------------------------------------------------------------------
// Training and probabilities.

test('a bigram model worked out by hand, discounts falling back on a tiny corpus', () => {
  // Ids: 0 <unk>, 1 start, 2 a, 3 b. Sequences "a b a" and "a a", each after the start token S.
  // Bigram counts: S a 2, a b 1, b a 1, a a 1 → n1 = 3, n2 = 1, n3 = 0: fallback D = (0.5, 1, 1.5).
  // Unigram continuation counts: a follows S, b and a → 3; b follows a → 1 → n2 = 0: fallback.
  // Unigrams: T = 4, γ = (1.5 + 0.5)/4 = 0.5: p(a) = 1.5/4 + 0.5/4 = 0.5, p(b) = 0.5/4 + 0.125 = 0.25,
  // p(<unk>) = p(S) = 0.125.
  // After a: b 1, a 1 → T = 2, γ = 0.5: p(b|a) = 0.25 + 0.5·0.25 = 0.375, p(a|a) = 0.25 + 0.25 = 0.5, others 0.0625.
  // After S: a 2 → T = 2, γ = 1/2: p(a|S) = 0.5 + 0.25 = 0.75, p(b|S) = 0.125, others 0.0625.
  // After b: a 1 → T = 1, γ = 0.5: p(a|b) = 0.5 + 0.25 = 0.75, p(b|b) = 0.125.
  // After <unk> (never seen): the unigrams.
  const model = KneserNey.train([Int32Array.of(2, 3, 2), Int32Array.of(2, 2)], { vocabSize: 4, order: 2, startId: 1 });
  const expected: [number[], number[]][] = [
    [[], [0.125, 0.125, 0.5, 0.25]],
    [[2], [0.0625, 0.0625, 0.5, 0.375]],
    [[1], [0.0625, 0.0625, 0.75, 0.125]],
    [[3], [0.0625, 0.0625, 0.75, 0.125]],
    [[0], [0.125, 0.125, 0.5, 0.25]],
    [[3, 0, 2], [0.0625, 0.0625, 0.5, 0.375]], // only the last id matters to a bigram model
  ];
  for (const [ctx, probs] of expected) probs.forEach((p, w) => close(model.logProb(ctx, w), Math.log(p), `ln p(${w} | ${ctx})`));
});

test('equals the slow Map-based implementation of the formulas, orders 1 to 7', () => {
  const rand = mulberry32(11);
  const V = 24;
  const start = 5; // also an ordinary token inside the sequences
  const corpus = randomCorpus(rand, V, [300, 0, 1, 2, 40, 1500, 7, 600]);
  let computed = 0;
  let fellBack = 0;
  for (let N = 1; N <= 7; N++) {
    const model = KneserNey.train(corpus, { vocabSize: V, order: N, startId: start });
    const slow = new SlowKneserNey(corpus, N, V, start);
    computed += slow.fellBack.filter((f) => !f).length;
    fellBack += slow.fellBack.filter((f) => f).length;
    for (const h of historiesOf(corpus, N, start, V)) {
      for (let w = 0; w < V; w++) close(model.logProb(h, w), Math.log(slow.prob(h, w)), `order ${N}, ln p(${w} | ${h})`);
    }
  }
  // Both kinds of discount were exercised: estimated (orders ≥ 2 here) and the fallback (the unigrams: the
  // 24 ids each follow many others, so some of n1..n4 is 0).
  assert.ok(computed >= 3 && fellBack >= 1, `${computed} orders had estimated discounts, ${fellBack} the fallback`);
});

test('every distribution sums to 1 and gives every id p > 0, orders 1 to 7', () => {
  const rand = mulberry32(3);
  const V = 50;
  const corpus = randomCorpus(rand, V, [2000, 500, 3]);
  for (let N = 1; N <= 7; N++) {
    const model = KneserNey.train(corpus, { vocabSize: V, order: N, startId: 0 });
    const histories = historiesOf(corpus, N, 0, V);
    for (let i = 0; i < histories.length; i += Math.ceil(histories.length / 300)) {
      let sum = 0;
      for (let w = 0; w < V; w++) {
        const lp = model.logProb(histories[i]!, w);
        assert.ok(lp > -Infinity && lp < 0, `order ${N}: ln p(${w} | ${histories[i]}) = ${lp}`);
        sum += Math.exp(lp);
      }
      assert.ok(Math.abs(sum - 1) < 1e-9, `order ${N}, context ${histories[i]}: Σ p = ${sum}`);
    }
  }
});

test('an empty corpus gives the uniform distribution; a context token outside the vocabulary is an error', () => {
  const model = KneserNey.train([new Int32Array(0)], { vocabSize: 7, startId: 0 });
  for (let w = 0; w < 7; w++) close(model.logProb([1, 2, 3], w), -Math.log(7), `ln p(${w})`);
  assert.throws(() => model.logProb([7], 0), /id 7 is outside the vocabulary \[0, 7\)/);
  assert.throws(() => model.logProb([], -1), /id -1 is outside/);
});

test('distribution() gives logProb() for every id', () => {
  const V = 40;
  const corpus = randomCorpus(mulberry32(5), V, [1200, 300]);
  const model = KneserNey.train(corpus, { vocabSize: V, order: 3, startId: 1 });
  const out64 = new Float64Array(V);
  const out32 = new Float32Array(V);
  for (const h of historiesOf(corpus, 3, 1, V).slice(0, 200)) {
    model.distribution(h, out64);
    model.distribution(h, out32);
    for (let w = 0; w < V; w++) {
      const lp = model.logProb(h, w);
      assert.equal(out64[w], lp, `context ${h}, id ${w}`);
      assert.equal(out32[w], Math.fround(lp), `context ${h}, id ${w} (float32)`);
    }
  }
  assert.throws(() => model.distribution([], new Float32Array(V - 1)), /out holds 39 numbers, expected the vocabulary size 40/);
});

test('training rejects bad options and ids', () => {
  const seq = [Int32Array.of(1, 2)];
  assert.throws(() => KneserNey.train(seq, { vocabSize: 3, order: 0, startId: 0 }), /order must be an integer in \[1, 7\]/);
  assert.throws(() => KneserNey.train(seq, { vocabSize: 3, order: 8, startId: 0 }), /order must be an integer in \[1, 7\]/);
  assert.throws(() => KneserNey.train(seq, { vocabSize: 0, startId: 0 }), /vocabSize must be an integer/);
  assert.throws(() => KneserNey.train(seq, { vocabSize: 3, startId: 3 }), /startId 3 is outside the vocabulary \[0, 3\)/);
  assert.throws(() => KneserNey.train([Int32Array.of(1, 3)], { vocabSize: 3, startId: 0 }), /sequence 0 holds id 3/);
  assert.equal(KneserNey.train(seq, { vocabSize: 3, startId: 0 }).order, 4, 'the default order');
});

// ------------------------------------------------------------------------------------------------
// As a LanguageModel and a scorer.

test('run() and advance() read the history off the state: the numbers of logProb, however the ids are split', async () => {
  const V = 30;
  const corpus = randomCorpus(mulberry32(8), V, [800]);
  const model = KneserNey.train(corpus, { vocabSize: V, order: 3, startId: 2 });
  const ids = Int32Array.of(2, ...corpus[0]!.subarray(100, 130), 29, 29);
  const whole = await model.run(ids, model.initialState());
  assert.equal(whole.logProbs.length, ids.length * V);
  for (let t = 0; t < ids.length; t++) {
    for (let w = 0; w < V; w++) assert.equal(whole.logProbs[t * V + w], Math.fround(model.logProb(ids.subarray(0, t + 1), w)), `t ${t}, id ${w}`);
  }
  // In pieces, and with advance() for a prefix: the same last rows and the same state.
  let state = model.initialState();
  assert.deepEqual(Array.from(state.h), [0, 0, 0], 'the initial state is zeros');
  state = await model.advance(ids.subarray(0, 10), state);
  assert.deepEqual(Array.from(state.h), [2, ids[8], ids[9]], 'the last two ids, oldest first');
  const rest = await model.run(ids.subarray(10), state);
  assert.deepEqual(rest.logProbs, whole.logProbs.subarray(10 * V));
  assert.deepEqual(rest.state, whole.state);
  const short = await model.run(Int32Array.of(7), model.initialState());
  assert.deepEqual(Array.from(short.state.h), [1, 7, 0], 'one id so far');
  await assert.rejects(model.run(Int32Array.of(1), { h: new Float32Array(4) }), /not the history of an order-3 model/);
  await assert.rejects(model.run(Int32Array.of(V), model.initialState()), /id 30 is outside/);
});

test('the Predictor works on it unchanged: its suggestions and scores are the model\'s probabilities', async () => {
  const words = ['<unk>', '<eos>', 'the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran'];
  const vocab = Vocabulary.fromJSON(words);
  const text = 'the cat sat on the mat\nthe dog sat on the cat\nthe cat ran\nthe dog ran on the mat\n';
  const ids = vocab.encode(tokenize(text, 'whitespace'));
  const start = startTokenId(vocab, 'whitespace');
  const model = KneserNey.train([ids], { vocabSize: vocab.size, order: 3, startId: start });
  const predictor = new Predictor(model, vocab, 'whitespace', { runChunk: 3 });
  const id = (w: string) => vocab.id(w);

  const got = await predictor.topK('the cat sat on ', 3);
  const context = [start, id('the'), id('cat'), id('sat'), id('on')];
  const expected = words
    .map((w, i) => ({ w, lp: model.logProb(context, i) }))
    .filter(({ w }) => w !== '<unk>' && w !== '<eos>')
    .sort((a, b) => b.lp - a.lp)
    .slice(0, 3);
  assert.deepEqual(got.map((s) => s.token), expected.map((e) => e.w));
  got.forEach((s, i) => close(s.logProb, expected[i]!.lp, `logProb of ${s.token}`, 1e-6));

  const typed = 'the dog ran on the mat';
  const score = await predictor.score(typed);
  const tokens = vocab.encode(tokenize(typed, 'whitespace'));
  const seq = [start, ...tokens];
  tokens.forEach((w, t) => close(score.surprisal[t]!, -model.logProb(seq.slice(0, t + 1), w), `surprisal ${t}`, 1e-6));
});

test('scoreSequence: log p of each target and ranks by brute-force counting; chunks carry the state', async () => {
  const V = 25;
  const corpus = randomCorpus(mulberry32(21), V, [1500]);
  for (const N of [1, 2, 4]) {
    const model = KneserNey.train(corpus, { vocabSize: V, order: N, startId: 0 });
    const ids = Int32Array.of(0, ...randomCorpus(mulberry32(N), V, [60])[0]!);
    const { logp, rank } = await model.scoreSequence(ids);
    assert.equal(logp.length, ids.length - 1);
    for (let t = 0; t < ids.length - 1; t++) {
      const ctx = ids.subarray(0, t + 1);
      const target = model.logProb(ctx, ids[t + 1]!);
      let higher = 0;
      for (let w = 0; w < V; w++) if (model.logProb(ctx, w) > target) higher++;
      assert.equal(logp[t], Math.fround(target), `order ${N}, t ${t}: log p`);
      assert.equal(rank[t], higher, `order ${N}, t ${t}: rank`);
    }
    // Two chunks from the state in between give the same figures; so does the generic LanguageModelScorer.
    const first = await model.scoreChunk(ids.subarray(0, 31), model.initialState());
    const second = await model.scoreChunk(ids.subarray(30), first.state);
    assert.deepEqual([...first.logp, ...second.logp], [...logp]);
    assert.deepEqual([...first.rank, ...second.rank], [...rank]);
    const generic = await new LanguageModelScorer(model, { chunk: 7 }).scoreSequence(ids);
    assert.deepEqual(generic.logp, logp);
  }
});

test('held-out perplexity falls from order 1 to 3 on real text, through evaluateText', async () => {
  const books = path.join(__dirname, '..', '..', '..', 'corpora', 'gutenberg');
  const read = (file: string, chars: number) => readFileSync(path.join(books, file), 'utf8').slice(0, chars);
  const train = [read('train/pride_and_prejudice.txt', 400_000), read('train/alice_in_wonderland.txt', 150_000)];
  const heldOut = read('valid/frankenstein.txt', 40_000);
  const tokens = train.map((t) => tokenize(t, 'text'));
  const counts = new Map<string, number>();
  for (const t of tokens) Vocabulary.countTokens(t, counts);
  const vocab = Vocabulary.build(counts, { maxSize: 6000, minCount: 2 });
  const sequences = tokens.map((t) => vocab.encode(t));
  const ppl: number[] = [];
  for (const order of [1, 2, 3]) {
    const model = KneserNey.train(sequences, { vocabSize: vocab.size, order, startId: startTokenId(vocab, 'text') });
    const figures = await evaluateText(model, vocab, 'text', heldOut);
    assert.ok(figures.tokens > 5000 && Number.isFinite(figures.ppl), `order ${order}: ${JSON.stringify(figures)}`);
    ppl.push(figures.ppl);
  }
  assert.ok(ppl[0]! > 1.3 * ppl[1]! && ppl[1]! > ppl[2]!, `perplexity by order: ${ppl.map((p) => p.toFixed(1)).join(', ')}`);
});

// ------------------------------------------------------------------------------------------------
// Serialization.

function smallModel(order = 3): KneserNey {
  return KneserNey.train(randomCorpus(mulberry32(2), 12, [200, 30]), { vocabSize: 12, order, startId: 1 });
}

test('toBytes / fromBytes round trip: the same bytes and the same probabilities', () => {
  for (const order of [1, 3, 5, 7]) {
    const model = smallModel(order);
    const bytes = model.toBytes();
    const loaded = KneserNey.fromBytes(bytes);
    assert.equal(loaded.order, order);
    assert.equal(loaded.vocabSize, 12);
    assert.deepEqual(loaded.toBytes(), bytes);
    const rand = mulberry32(order);
    for (let i = 0; i < 50; i++) {
      const ctx = Array.from({ length: Math.floor(rand() * 6) }, () => Math.floor(rand() * 12));
      for (let w = 0; w < 12; w++) assert.equal(loaded.logProb(ctx, w), model.logProb(ctx, w));
    }
  }
  // A view into a larger buffer reads the same.
  const bytes = smallModel().toBytes();
  const padded = new Uint8Array(bytes.length + 3);
  padded.set(bytes, 3);
  assert.deepEqual(KneserNey.fromBytes(padded.subarray(3)).toBytes(), bytes);
});

test('fromBytes rejects a wrong magic, version, size or structure with a clear error', () => {
  const bytes = smallModel().toBytes();
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const edited = (edit: (b: Uint8Array) => void) => {
    const b = bytes.slice();
    edit(b);
    return b;
  };
  const C = view(bytes).getUint32(16, true);
  const reject = (b: Uint8Array, message: RegExp) => assert.throws(() => KneserNey.fromBytes(b), message);
  reject(new TextEncoder().encode('{"format": "nextword-model"}'), /not a Kneser-Ney model/);
  reject(new Uint8Array(10), /truncated: 10 bytes, the header alone takes 24/);
  reject(edited((b) => view(b).setUint32(4, 2, true)), /format version 2 is not supported/);
  reject(edited((b) => view(b).setUint32(8, 8, true)), /order 8 is outside \[1, 7\]/);
  reject(edited((b) => view(b).setUint32(12, 0, true)), /vocabulary size 0/);
  reject(edited((b) => view(b).setUint32(16, C + 1, true)), /truncated/);
  reject(edited((b) => view(b).setUint32(16, C - 1, true)), /unexpected bytes after the model/);
  reject(Uint8Array.of(...bytes, 0), /1 unexpected bytes after the model/);
  reject(edited((b) => view(b).setFloat64(24, 1, true)), /discount D1 of order 1 is 1, not in \(0, 1\)/);
  reject(edited((b) => view(b).setUint32(12, 11, true)), /include id 11, outside the vocabulary \[0, 11\)/); // id 11 occurs
  reject(edited((b) => view(b).setUint32(8, 2, true)), /truncated|unexpected bytes/);
  reject(edited((b) => view(b).setUint32(b.length - 4, 0, true)), /count 0, outside \[1, 2\^31\)/);
  for (let n = 0; n < bytes.length; n++) reject(bytes.subarray(0, n), /KneserNey\.fromBytes: (truncated|not a Kneser-Ney)/);
});

test('fuzz: random and damaged bytes either fail with an Error or load a model whose distributions sum to 1', () => {
  const rand = mulberry32(99);
  const bytes = smallModel().toBytes();
  let loaded = 0;
  for (let i = 0; i < 3000; i++) {
    let b: Uint8Array;
    if (i % 3 === 0) {
      b = Uint8Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256));
      if (rand() < 0.5 && b.length >= 8) b.set(bytes.subarray(0, 8)); // past the magic and version
    } else {
      b = bytes.slice(0, i % 3 === 1 ? bytes.length : Math.floor(rand() * bytes.length));
      for (let k = 1 + Math.floor(rand() * 3); k > 0 && b.length > 0; k--) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    }
    let model: KneserNey;
    try {
      model = KneserNey.fromBytes(b);
    } catch (e) {
      assert.ok(e instanceof Error && e.message.startsWith('KneserNey.fromBytes: '), String(e));
      continue;
    }
    loaded++;
    const out = new Float64Array(model.vocabSize); // a damaged model may have another vocabulary size
    for (const ctx of [[], [1], [2, 3], [1, 0, 4]].map((c) => c.filter((id) => id < model.vocabSize))) {
      model.distribution(ctx, out);
      const sum = out.reduce((s, lp) => s + Math.exp(lp), 0);
      assert.ok(Math.abs(sum - 1) < 1e-9, `a damaged model that loaded sums to ${sum}`);
    }
  }
  assert.ok(loaded > 0, 'some damage (a count, say) leaves a valid model');
});

test('fromBytesAsync reads what fromBytes reads, pausing between pieces; damaged bytes fail the same way', async () => {
  const rand = mulberry32(31);
  const V = 300;
  const model = KneserNey.train(randomCorpus(rand, V, [60_000, 30_000, 40_000]), { vocabSize: V, order: 4, startId: 1 });
  const bytes = model.toBytes();
  let pauses = 0;
  const read = await KneserNey.fromBytesAsync(bytes, async () => void pauses++);
  assert.deepEqual(read.toBytes(), bytes);
  assert.ok(pauses >= 5, `${pauses} pauses`);
  const p = new Float64Array(V);
  const q = new Float64Array(V);
  read.distribution([5, 6, 7], p);
  model.distribution([5, 6, 7], q);
  assert.deepEqual(p, q);
  const damaged = bytes.slice(0, bytes.length - 4);
  await assert.rejects(KneserNey.fromBytesAsync(damaged, async () => {}), (e: Error) => {
    assert.throws(() => KneserNey.fromBytes(damaged), { message: e.message });
    return /truncated/.test(e.message);
  });
});
