// DocumentPerplexity against evaluateText (what `nextword eval` prints) on the same text, after random edit
// sequences: exactly for a state-free bigram model (chunking cannot change a single bit), within float
// rounding for the float64 reference LSTM (whose state is rounded to float32 between chunks). Then the
// incremental work itself: which tokens an edit re-scores, cancellation, yielding, the unigram baseline.

import test from 'node:test';
import assert from 'node:assert/strict';

import { DocumentPerplexity, type PerplexityUpdate } from '../../../src/core/scoring/document-perplexity.js';
import type { ChunkScorer } from '../../../src/core/scoring/evaluation.js';
import { LanguageModelScorer } from '../../../src/core/scoring/language-model-scorer.js';
import { evaluateText, type EvalFigures } from '../../../src/core/scoring/evaluation.js';
import type { LanguageModel, RecurrentState } from '../../../src/core/model/language-model.js';
import { parameterCount, type ModelConfig } from '../../../src/core/model/model-config.js';
import { mulberry32 } from '../../../src/core/support/random.js';
import { ReferenceLanguageModel } from '../../support/reference-model.js';
import { tokenize, type TokenizerMode } from '../../../src/core/text/tokenizer.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';

/** A bigram model with random (seeded) distributions: no state but the last id, so chunking is exact. */
class RandomBigram implements LanguageModel {
  readonly rows: Float32Array[];
  constructor(readonly vocabSize: number, seed: number) {
    const rand = mulberry32(seed);
    this.rows = Array.from({ length: vocabSize }, () => {
      const logits = Array.from({ length: vocabSize }, () => rand() * 6);
      const z = Math.log(logits.reduce((a, l) => a + Math.exp(l), 0));
      return Float32Array.from(logits, (l) => l - z);
    });
  }
  initialState(): RecurrentState {
    return { h: Float32Array.of(-1) };
  }
  async run(ids: Int32Array, state: RecurrentState) {
    assert.equal(state.h.length, 1);
    const logProbs = new Float32Array(ids.length * this.vocabSize);
    ids.forEach((id, t) => logProbs.set(this.rows[id]!, t * this.vocabSize));
    return { logProbs, state: { h: Float32Array.of(ids[ids.length - 1]!) } };
  }
}

/** Wraps a scorer to record the targets of every call. */
class CountingScorer implements ChunkScorer {
  readonly targets: number[] = [];
  gate: Promise<void> | undefined;
  constructor(private readonly inner: ChunkScorer) {}
  initialState() {
    return this.inner.initialState();
  }
  async scoreChunk(ids: Int32Array, state: RecurrentState) {
    this.targets.push(ids.length - 1);
    if (this.gate) await this.gate;
    return this.inner.scoreChunk(ids, state);
  }
  get total() {
    return this.targets.reduce((a, b) => a + b, 0);
  }
}

// Pieces that random texts and edits are made of: words in and out of the vocabulary, spacing, every kind
// of line break (including "\r" and "\n" that may join into "\r\n"), indentation, CJK, numbers, symbols.
const PIECES = ['the', ' cat', ' sat', ' on', ' mat', '.', ' ', '  ', '\t', '\n', '\r\n', '\r', '    ', 'foo', '(', 'bar', ')', ';',
  ' zebra', 'qux', '我喜欢你', '3.14', 'é', '=', ' x', '\u2028', 'naïve', '<unk>'];

function randomText(rand: () => number, pieces: number): string {
  let s = '';
  for (let i = 0; i < pieces; i++) s += PIECES[Math.floor(rand() * PIECES.length)];
  return s;
}

/** Inserts random pieces, or deletes a random range, at a random place. */
function randomEdit(rand: () => number, text: string): string {
  const at = Math.floor(rand() * (text.length + 1));
  if (rand() < 0.5 && text.length > 0) {
    const len = 1 + Math.floor(rand() * Math.min(20, text.length - at));
    return text.slice(0, at) + text.slice(at + len);
  }
  return text.slice(0, at) + randomText(rand, 1 + Math.floor(rand() * 4)) + text.slice(at);
}

/** A vocabulary from some text: with counts, and small enough that some tokens are out of it. */
function vocabFrom(text: string, mode: TokenizerMode, maxSize = 24): Vocabulary {
  return Vocabulary.build(Vocabulary.countTokens(tokenize(text, mode)), { maxSize, minCount: 1 });
}

function scored(u: PerplexityUpdate) {
  assert.equal(u.status, 'scored', `expected scored, got ${JSON.stringify(u)}`);
  return u as Extract<PerplexityUpdate, { status: 'scored' }>;
}

function sameFigures(got: { tokens: number; nll: number; ppl: number; top1: number; top3: number; oov: number }, want: EvalFigures, what: string, tol: number) {
  assert.equal(got.tokens, want.tokens, `${what}: tokens`);
  assert.equal(got.oov, want.oov, `${what}: oov`);
  if (want.tokens === 0) {
    assert.ok(Number.isNaN(got.ppl) && Number.isNaN(want.ppl), `${what}: ppl of nothing is NaN`);
    return;
  }
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));
  assert.ok(rel(got.nll, want.nll) <= tol, `${what}: nll ${got.nll} ≠ ${want.nll}`);
  assert.ok(rel(got.ppl, want.ppl) <= tol, `${what}: ppl ${got.ppl} ≠ ${want.ppl}`);
  assert.equal(got.top1, want.top1, `${what}: top1`);
  assert.equal(got.top3, want.top3, `${what}: top3`);
}

for (const mode of ['text', 'whitespace'] as const) {
  test(`${mode} mode: equals evaluateText exactly after random insertions and deletions (bigram model)`, async () => {
    const rand = mulberry32(mode === 'text' ? 1 : 2);
    let text = randomText(rand, 120);
    const vocab = vocabFrom(text, mode);
    const model = new RandomBigram(vocab.size, 5);
    // Small checkpoints and blocks, so that edits land in every position relative to them.
    const doc = new DocumentPerplexity(new LanguageModelScorer(model), vocab, mode, { checkpointEvery: 8, blockChars: 24 });
    const reference = new LanguageModelScorer(model, { chunk: 100_000 });
    for (let step = 0; step < 60; step++) {
      const u = scored(await doc.update(text));
      const want = await evaluateText(reference, vocab, mode, text);
      sameFigures(u.figures, want, `step ${step}`, 0);
      assert.equal(u.figures.oovShare, want.tokens ? want.oov / want.tokens : NaN);
      text = step === 30 ? '' : randomEdit(rand, text); // one empty document on the way
    }
  });
}

test('a "\n" typed right after a "\r" that ended a block joins it into one "\r\n" token, as in the whole text', async () => {
  // Blocks of 2 characters end at line starts: "ab\r" | "cd\n" | "ef". Typing "\n" at 3 makes "\r\n".
  for (const mode of ['text', 'whitespace'] as const) {
    const vocab = vocabFrom('ab\r\ncd\nef\r', mode, 100);
    const model = new RandomBigram(vocab.size, 4);
    const doc = new DocumentPerplexity(new LanguageModelScorer(model), vocab, mode, { checkpointEvery: 2, blockChars: 2 });
    for (const text of ['ab\rcd\nef', 'ab\r\ncd\nef', 'ab\rcd\nef']) {
      const want = await evaluateText(new LanguageModelScorer(model), vocab, mode, text);
      sameFigures(scored(await doc.update(text)).figures, want, `${mode}: ${JSON.stringify(text)}`, 0);
    }
  }
});

test('equals evaluateText within float rounding for the reference LSTM, after edits', async () => {
  const rand = mulberry32(11);
  let text = randomText(rand, 80);
  const vocab = vocabFrom(text, 'text', 30);
  const cfg: ModelConfig = { cell: 'lstm', layers: 2, vocab: vocab.size, embed: 8, hidden: 8, tied: true };
  const wr = mulberry32(3);
  const model = new ReferenceLanguageModel(cfg, Float32Array.from({ length: parameterCount(cfg) }, () => (wr() * 2 - 1) * 0.8));
  const doc = new DocumentPerplexity(new LanguageModelScorer(model), vocab, 'text', { checkpointEvery: 16, blockChars: 32 });
  for (let step = 0; step < 12; step++) {
    const u = scored(await doc.update(text));
    const want = await evaluateText(new LanguageModelScorer(model, { chunk: 100_000 }), vocab, 'text', text);
    sameFigures(u.figures, want, `step ${step}`, 1e-5);
    text = randomEdit(rand, text);
  }
});

test('an edit re-scores from the last checkpoint at or before the first changed token, and nothing before it', async () => {
  const rand = mulberry32(7);
  const K = 16;
  const base = randomText(rand, 200);
  const vocab = vocabFrom(base, 'text');
  const counting = new CountingScorer(new LanguageModelScorer(new RandomBigram(vocab.size, 9)));
  const doc = new DocumentPerplexity(counting, vocab, 'text', { checkpointEvery: K, blockChars: 64 });
  const first = scored(await doc.update(base));
  const n = tokenize(base).length;
  assert.deepEqual([first.rescoredFrom, first.tokensScored, counting.total], [0, n, n]);

  const again = scored(await doc.update(base));
  assert.deepEqual([again.rescoredFrom, again.tokensScored], [n, 0], 'the same text costs nothing');

  // The first changed token, from the tokens of both texts; the re-scoring starts at the checkpoint before it.
  const expectFrom = (before: string, after: string) => {
    const a = tokenize(before);
    const b = tokenize(after);
    let p = 0;
    while (p < a.length && p < b.length && vocab.id(a[p]!) === vocab.id(b[p]!)) p++;
    return { from: Math.floor(p / K) * K, n: b.length };
  };
  let text = base;
  for (const edited of [text + ' the cat sat', text.slice(0, -3), text.slice(0, text.length - 40) + 'qux' + text.slice(text.length - 40), 'the ' + text]) {
    const { from, n: m } = expectFrom(text, edited);
    counting.targets.length = 0;
    const u = scored(await doc.update(edited));
    assert.equal(u.rescoredFrom, from);
    assert.equal(u.tokensScored, m - from);
    assert.equal(counting.total, m - from, 'the scorer saw exactly those targets');
    text = edited;
  }
  // The edits near the end cost at most K tokens plus the new ones; the one at the start re-scored all.
  assert.ok(expectFrom(base, base + ' the cat sat').from >= n - K);
  assert.equal(expectFrom(text.slice(4), text).from, 0);
});

test('a newer update cancels an older one at its next chunk and keeps what it scored; an aborted signal cancels', async () => {
  const rand = mulberry32(13);
  const text = randomText(rand, 150);
  const vocab = vocabFrom(text, 'text');
  const counting = new CountingScorer(new LanguageModelScorer(new RandomBigram(vocab.size, 1)));
  let yields = 0;
  const doc = new DocumentPerplexity(counting, vocab, 'text', {
    checkpointEvery: 8,
    yieldToEventLoop: () => new Promise((r) => setImmediate(() => (yields++, r()))),
  });
  const n = tokenize(text).length;
  assert.ok(n > 40);
  let open!: () => void;
  counting.gate = new Promise((r) => (open = r));
  const older = doc.update(text);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(counting.targets, [8], 'the first chunk is being scored');
  const newer = doc.update(text + ' cat');
  counting.gate = undefined;
  open();
  assert.deepEqual(await older, { status: 'cancelled' });
  const u = scored(await newer);
  assert.equal(u.rescoredFrom, 8, 'the chunk the older update finished is kept');
  const want = await evaluateText(new LanguageModelScorer(new RandomBigram(vocab.size, 1)), vocab, 'text', text + ' cat');
  sameFigures(u.figures, want, 'after the cancel', 0);
  assert.equal(yields, Math.ceil((u.figures.tokens - 8) / 8) - 1, 'a yield between every two chunks');

  const ac = new AbortController();
  ac.abort();
  assert.deepEqual(await doc.update('the cat', ac.signal), { status: 'cancelled' });
  assert.deepEqual(doc.figures, u.figures, 'the figures of the last finished update stay');
});

test('the unigram baseline: add-one smoothed corpus counts; unknown without counts; too-large and bad scorers', async () => {
  // Corpus counts: the ×3, " cat" ×2, "." ×1, and "\n" ×1 (Vocabulary.build counts every token).
  const counts = new Map([['the', 3], [' cat', 2], ['.', 1], ['\n', 1]]);
  const vocab = Vocabulary.build(counts, { maxSize: 10, minCount: 1 });
  const N = 7;
  const V = vocab.size; // <unk> + 4
  assert.equal(V, 5);
  const model = new RandomBigram(V, 3);
  const doc = new DocumentPerplexity(new LanguageModelScorer(model), vocab, 'text');
  // "the cat dog": the, " cat", " dog" (<unk>, count 0).
  const u = scored(await doc.update('the cat dog'));
  const p = [(3 + 1) / (N + V), (2 + 1) / (N + V), (0 + 1) / (N + V)];
  const expected = Math.exp(-p.reduce((a, x) => a + Math.log(x), 0) / 3);
  assert.ok(Math.abs(u.figures.unigramPpl! - expected) < 1e-9, `${u.figures.unigramPpl} ≠ ${expected}`);
  assert.equal(u.figures.oov, 1);

  const noCounts = new DocumentPerplexity(new LanguageModelScorer(model), Vocabulary.fromJSON(vocab.toJSON()), 'text');
  assert.equal(scored(await noCounts.update('the cat dog')).figures.unigramPpl, undefined);

  const small = new DocumentPerplexity(new LanguageModelScorer(model), vocab, 'text', { maxChars: 5 });
  assert.deepEqual(await small.update('the cat'), { status: 'too-large', chars: 7, maxChars: 5 });

  const broken: ChunkScorer = {
    initialState: () => ({ h: new Float32Array(1) }),
    scoreChunk: async (_ids, state) => ({ logp: new Float32Array(1), rank: new Int32Array(1), state }),
  };
  await assert.rejects(new DocumentPerplexity(broken, vocab, 'text').update('the cat the cat'), /returned 1 scores and 1 ranks for 4 targets/);

  const disposed = new DocumentPerplexity(new LanguageModelScorer(model), vocab, 'text');
  disposed.dispose();
  assert.deepEqual(await disposed.update('the'), { status: 'cancelled' });
});
