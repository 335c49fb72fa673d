// Predictor: next-word suggestions, phrase continuation, scoring and sampling on top of any LanguageModel.
//
// Shapes: V vocabulary, n tokens; the recurrent state is opaque here.
//
// Every query starts from the state after the text's complete tokens. The text is split into a context and
// the word still being typed (the "partial", see splitPartialWord); the context is tokenized and fed after a
// start token, and the distribution of the next token is read off. The start token stands for "start of a
// line", which is where a file begins: the newline token "\n" in text mode (or `<unk>` when the vocabulary has
// no "\n"), `<eos>` in whitespace mode (or `<unk>`). Scoring uses the same start token for the first token.
//
// The editor asks on every keystroke with the text before the cursor (from the document's start, or from a
// line above that stays put: completion/request-window.ts), so contexts are cached (a small
// LRU, see context-window.ts): a text that extends a cached context runs only its new tokens, however long
// the document, and typing inside a word runs nothing. Only a cold start (no cached context applies, e.g.
// after an edit higher up) is bounded, to the last `maxContextTokens` tokens. So the state for a text depends
// on its history: extended from the top of a long file it has seen all of it, asked cold it has seen the
// last maxContextTokens tokens. `score` has no such bound: it always feeds the whole text.

import { ContextWindow, type Advanced, type CachedContext } from './context-window.js';
import { startTokenId } from '../scoring/evaluation.js';
import type { LanguageModel, RecurrentState } from '../model/language-model.js';
import { EOS, isWordLike, splitPartialWord, tokenize, type TokenizerMode } from '../text/tokenizer.js';
import type { Vocabulary } from '../text/vocabulary.js';

/** Contexts the editor's predictor caches: a few open documents, each with its alternatives. */
export const EDITOR_CONTEXT_CACHE = 16;

export interface PredictorOptions {
  /**
   * Most context tokens fed on a cold start (no cached context to extend), the start token aside; older text
   * is dropped then. A context that extends a cached one is not truncated. Also the most new tokens fed to
   * extend a cached context (a bigger paste starts cold, which costs less). Default 512.
   */
  maxContextTokens?: number;
  /**
   * Most characters tokenized on a cold start, so a huge file costs no more than a large one (the text is cut
   * at a line start), and the most new characters tokenized to extend a cached context. Default
   * 16 · maxContextTokens (enough for maxContextTokens tokens of ordinary code or prose).
   */
  maxContextChars?: number;
  /** Contexts kept in the cache. Default 8. */
  cacheSize?: number;
  /** Most ids per model call when feeding a context or scoring: bounds the [n, V] log-prob buffer. Default 256. */
  runChunk?: number;
}

export interface ContextState {
  /** The model state after the start token and the context tokens. */
  state: RecurrentState;
  /** [V] log-probabilities of the next token. */
  logProbs: Float32Array;
  /**
   * The last maxContextTokens complete tokens of the text at most. A cold start fed exactly these after the
   * start token; a context extended from a cached one has seen these and possibly many more before them.
   */
  tokens: string[];
  /** The word still being typed at the end of the text ('' when none); not fed to the model. */
  partial: string;
}

export interface Suggestion {
  token: string;
  /** The token's id; 0 (`<unk>`'s) for a word of the document outside the vocabulary. */
  id: number;
  /** What to insert after the text: the token minus the typed partial. '' when the partial is the whole token. */
  text: string;
  /**
   * Probability among the candidates: the suggestible tokens that start with the typed partial (every
   * suggestible token when nothing is typed). The candidates' probs sum to 1.
   */
  prob: number;
  /** The model's own probability of the token as the next one, not conditioned on the partial. */
  rawProb: number;
  /** ln rawProb. */
  logProb: number;
}

export interface TopKOptions {
  /** Also suggest whitespace-only tokens: line breaks, indentation, `<eos>`. Default false. `<unk>` never is. */
  includeWhitespace?: boolean;
}

export interface PhraseOptions {
  /** Most tokens in the phrase, the completed partial word included (1: complete the current word only). */
  maxWords: number;
  /** Stop before a token that would bring the geometric mean of the phrase's probabilities below this. */
  minProb: number;
  /** Stop before a line break (`<eos>` in whitespace mode) instead of continuing on the next line. */
  stopAtNewline: boolean;
}

export interface Phrase {
  /** What to insert after the text. */
  text: string;
  /** The tokens of the phrase; the first one completes the partial when a word was being typed. */
  tokens: string[];
  /**
   * The probability of each token given what precedes it. For the token completing a partial, the
   * probability among the tokens that start with the partial (the user has typed it, so it is given).
   */
  probs: number[];
  /** Geometric mean of probs; 0 for an empty phrase. */
  meanProb: number;
}

export interface SampleOptions {
  /** Tokens to generate, the completion of a partial word included. */
  words: number;
  /** Sampling from softmax(log p / temperature); 0 picks the most likely token (greedy). */
  temperature: number;
  /** Uniform numbers in [0, 1) (e.g. mulberry32(seed), for reproducible output). */
  rand: () => number;
}

export interface TextScore {
  /** Tokens scored: every token of the text (whitespace mode: each line's words and its `<eos>`). */
  tokens: number;
  /** Mean negative log-likelihood per token, in nats (the cross-entropy); NaN when there are no tokens. */
  nll: number;
  /** exp(nll). */
  perplexity: number;
  /** [tokens] surprisal of each token, −ln p(token | the tokens before it), in nats. */
  surprisal: Float64Array;
  /** Tokens that map to `<unk>` (words outside the vocabulary, and literal `<unk>`); they are scored as `<unk>`. */
  oov: number;
}

// Per-token flags, computed once per vocabulary.
const UNK_FLAG = 1;
const BLANK_FLAG = 2; //      whitespace only (indentation, line breaks, `<eos>`)
const LINE_BREAK_FLAG = 4; // a line break, or `<eos>` in whitespace mode

const LINE_BREAK_TOKEN = /^(?:\r\n|[\n\r\u2028\u2029])$/;
const BLANK_TOKEN = /^\s+$/u;

interface Context extends Advanced {
  cached: CachedContext;
  partial: string;
}

/** d and θ of the Pitman–Yor estimate of which unknown word comes next (documentWords). */
const UNKNOWN_DISCOUNT = 0.5;
const UNKNOWN_CONCENTRATION = 1;

export class Predictor {
  private readonly V: number;
  private readonly startId: number;
  private readonly flags: Uint8Array; //                                             [V]
  private readonly runChunk: number;
  private readonly window: ContextWindow;

  constructor(
    private readonly model: LanguageModel,
    private readonly vocab: Vocabulary,
    private readonly mode: TokenizerMode,
    opts: PredictorOptions = {},
  ) {
    if (mode !== 'text' && mode !== 'whitespace') throw new Error(`Predictor: unknown tokenizer mode "${String(mode)}" (expected "text" or "whitespace")`);
    if (model.vocabSize !== vocab.size) {
      throw new Error(`Predictor: the model predicts ${model.vocabSize} tokens but the vocabulary has ${vocab.size}; were they saved together?`);
    }
    this.V = vocab.size;
    const maxContextTokens = positiveInteger(opts.maxContextTokens ?? 512, 'maxContextTokens');
    const maxContextChars = positiveInteger(opts.maxContextChars ?? 16 * maxContextTokens, 'maxContextChars');
    const cacheSize = positiveInteger(opts.cacheSize ?? 8, 'cacheSize');
    this.runChunk = positiveInteger(opts.runChunk ?? 256, 'runChunk');

    this.startId = startTokenId(vocab, mode);
    const feeder = { initialState: () => model.initialState(), advance: (s: RecurrentState, ids: Int32Array) => this.advance(s, ids) };
    const encode = (tokens: readonly string[]) => vocab.encode(tokens);
    this.window = new ContextWindow(feeder, { mode, startId: this.startId, maxContextTokens, maxContextChars, cacheSize, encode });
    this.flags = new Uint8Array(this.V);
    this.flags[0] = UNK_FLAG;
    for (let id = 1; id < this.V; id++) {
      const w = vocab.word(id);
      if (mode === 'whitespace' ? w === EOS : BLANK_TOKEN.test(w)) this.flags[id] |= BLANK_FLAG;
      if (mode === 'whitespace' ? w === EOS : LINE_BREAK_TOKEN.test(w)) this.flags[id] |= LINE_BREAK_FLAG;
    }
  }

  /**
   * The state and next-token distribution after the complete tokens of `text` (the partial word is left
   * out). Cached: asking again for the same context, or for one that extends it, is cheap.
   */
  async contextState(text: string): Promise<ContextState> {
    const ctx = await this.context(text, 'contextState');
    // A copy: the cached row must not be changed by a caller.
    return { state: ctx.state, logProbs: ctx.logProbs.slice(), tokens: ctx.cached.tokens(), partial: ctx.partial };
  }

  /**
   * The k most likely next tokens, best first (ties: the lower id, the more frequent word). When the text
   * ends in a partial word, only tokens that start with it. `<unk>` is never suggested; the document's own
   * words outside the vocabulary are, as in continuePhrase (each with p(`<unk>`) times its share of them).
   */
  async topK(text: string, k: number, opts: TopKOptions = {}): Promise<Suggestion[]> {
    if (!Number.isInteger(k) || k < 0) throw new Error(`Predictor.topK: k must be an integer ≥ 0 (got ${k})`);
    const ctx = await this.context(text, 'topK');
    if (k === 0) return [];
    const lp = ctx.logProbs;
    const skip = opts.includeWhitespace ? UNK_FLAG : UNK_FLAG | BLANK_FLAG;
    const heap = new TopHeap(k);
    const norm = new LogSumExp();
    const consider = (id: number) => {
      if (this.flags[id]! & skip) return;
      const l = lp[id]!;
      norm.add(l);
      heap.offer(id, l);
    };
    if (ctx.partial) for (const id of this.vocab.idsWithPrefix(ctx.partial)) consider(id);
    else for (let id = 0; id < this.V; id++) consider(id);
    // The document's unknown words go into the heap as −1, −2, …: below every id, so they win ties.
    const unknown = this.documentWords(ctx).withPrefix(ctx.partial);
    unknown.forEach((w, i) => {
      const l = lp[0]! + w.logShare;
      norm.add(l);
      heap.offer(-1 - i, l);
    });

    const logZ = norm.value();
    return heap.drainBestFirst().map(({ id, score }) => {
      const token = id < 0 ? unknown[-1 - id]!.token : this.vocab.word(id);
      return { token, id: Math.max(0, id), text: this.insertion([token], ctx.partial, false), prob: Math.exp(score - logZ), rawProb: Math.exp(score), logProb: score };
    });
  }

  /**
   * Greedy continuation: completes the partial word with its most likely completion, then appends the most
   * likely next token one at a time while the geometric mean of the probabilities stays ≥ minProb. Stops at
   * maxWords, and before a line break when stopAtNewline. `<unk>` is never shown: the document's own words
   * outside the vocabulary stand for it (each with p(<unk>) times its share of them; see documentWords), and
   * without such words the phrase stops before `<unk>`. Trailing whitespace-only tokens are dropped from the
   * result. Empty when no token qualifies.
   */
  async continuePhrase(text: string, opts: PhraseOptions): Promise<Phrase> {
    const { maxWords, minProb, stopAtNewline } = opts;
    if (!Number.isInteger(maxWords) || maxWords < 0) throw new Error(`Predictor.continuePhrase: maxWords must be an integer ≥ 0 (got ${maxWords})`);
    if (!(minProb >= 0 && minProb <= 1)) throw new Error(`Predictor.continuePhrase: minProb must lie in [0, 1] (got ${minProb})`);
    const ctx = await this.context(text, 'continuePhrase');
    const ids: number[] = [];
    const logs: number[] = []; // ln of each token's probability
    let sumLog = 0;
    const accept = (id: number, logP: number): boolean => {
      if (Math.exp((sumLog + logP) / (ids.length + 1)) < minProb) return false;
      ids.push(id);
      logs.push(logP);
      sumLog += logP;
      return true;
    };

    let { state, logProbs: lp } = ctx;
    // A word of the document outside the vocabulary may stand for `<unk>` (see documentWords): its text here.
    const oovText = new Map<number, string>();
    const oov = this.documentWords(ctx);
    if (maxWords > 0 && ctx.partial) {
      const best = this.bestCompletion(lp, ctx.partial, oov);
      if (!best || !accept(best.id, best.logP)) return emptyPhrase();
      if (best.word !== undefined) oovText.set(0, best.word);
    }
    while (ids.length < maxWords) {
      if (ids.length > 0) ({ state, logProbs: lp } = await this.step(state, ids[ids.length - 1]!));
      let id = argmax(lp, 0, this.V);
      let logP = lp[id]!;
      if (this.flags[id]! & UNK_FLAG) {
        // `<unk>` is never shown. When the document has unknown words, its most frequent one stands for it
        // (or the best known token, if that is more likely); otherwise the phrase stops here.
        const word = oov.best();
        if (!word) break;
        const known = argmax(lp, 1, this.V);
        if (lp[0]! + word.logShare > lp[known]!) {
          if (!accept(0, lp[0]! + word.logShare)) break;
          oovText.set(ids.length - 1, word.token);
          continue;
        }
        id = known;
        logP = lp[id]!;
      }
      if (stopAtNewline && this.flags[id]! & LINE_BREAK_FLAG) break;
      if (!accept(id, logP)) break;
    }

    // Every prefix passed the threshold when it was accepted, so the trimmed phrase still does.
    let n = ids.length;
    while (n > 0 && this.flags[ids[n - 1]!]! & BLANK_FLAG && !oovText.has(n - 1)) n--;
    if (n === 0) return emptyPhrase();
    const tokens = ids.slice(0, n).map((id, i) => oovText.get(i) ?? this.vocab.word(id));
    const kept = logs.slice(0, n);
    return {
      text: this.insertion(tokens, ctx.partial, false),
      tokens,
      probs: kept.map(Math.exp),
      meanProb: Math.exp(kept.reduce((a, b) => a + b, 0) / n),
    };
  }

  /**
   * Perplexity of `text` under the model: every token predicted from the ones before it, the first from the
   * start token. The whole text is scored (no context bound), in chunks of runChunk ids carrying the state.
   */
  async score(text: string): Promise<TextScore> {
    checkText(text, 'score');
    const ids = this.vocab.encode(tokenize(text, this.mode));
    const n = ids.length;
    let oov = 0;
    for (const id of ids) if (id === 0) oov++;
    if (n === 0) return { tokens: 0, nll: NaN, perplexity: NaN, surprisal: new Float64Array(0), oov: 0 };

    // Inputs [start, ids 0..n−2], targets ids 0..n−1.
    const inputs = new Int32Array(n);
    inputs[0] = this.startId;
    inputs.set(ids.subarray(0, n - 1), 1);
    const surprisal = new Float64Array(n);
    let state = this.model.initialState();
    let sum = 0;
    for (let start = 0; start < n; start += this.runChunk) {
      const part = inputs.subarray(start, Math.min(n, start + this.runChunk));
      const out = await this.run(part, state);
      for (let t = 0; t < part.length; t++) {
        const s = -out.logProbs[t * this.V + ids[start + t]!]!;
        surprisal[start + t] = s;
        sum += s;
      }
      state = out.state;
    }
    const nll = sum / n;
    return { tokens: n, nll, perplexity: Math.exp(nll), surprisal, oov };
  }

  /**
   * Generates `words` tokens after `prompt` by sampling, and returns the text to append to the prompt. A
   * partial word at the end of the prompt is completed first (among the tokens that start with it, the word
   * itself included when it is a token); when no token starts with it, it is taken as a complete word.
   * `<unk>` is never generated. Each token is drawn by inverse CDF over the ids in order, so a given rand
   * sequence always gives the same text.
   */
  async sample(prompt: string, opts: SampleOptions): Promise<string> {
    const { words, temperature, rand } = opts;
    if (!Number.isInteger(words) || words < 0) throw new Error(`Predictor.sample: words must be an integer ≥ 0 (got ${words})`);
    if (!(temperature >= 0 && Number.isFinite(temperature))) throw new Error(`Predictor.sample: temperature must be a finite number ≥ 0 (got ${temperature})`);
    if (typeof rand !== 'function') throw new Error('Predictor.sample: rand must be a function returning numbers in [0, 1)');
    let ctx = await this.context(prompt, 'sample');
    let candidates: Int32Array | undefined;
    let spaceBefore = false; // whitespace mode: the prompt ends in a complete word with no space after it
    if (ctx.partial) {
      candidates = this.vocab.idsWithPrefix(ctx.partial).filter((id) => !(this.flags[id]! & (UNK_FLAG | BLANK_FLAG)));
      if (candidates.length === 0) {
        ctx = await this.context(prompt, 'sample', true);
        candidates = undefined;
        spaceBefore = true;
      }
    }
    const partial = candidates ? ctx.partial : '';
    const ids: number[] = [];
    let { state, logProbs: lp } = ctx;
    while (ids.length < words) {
      if (ids.length > 0) ({ state, logProbs: lp } = await this.step(state, ids[ids.length - 1]!));
      ids.push(this.draw(lp, candidates, temperature, rand));
      candidates = undefined;
    }
    if (ids.length === 0) return '';
    return this.insertion(
      ids.map((id) => this.vocab.word(id)),
      partial,
      spaceBefore,
    );
  }

  // ------------------------------------------------------------------------------------------------
  // Contexts and the cache.

  private async context(text: string, caller: string, wholeText = false): Promise<Context> {
    checkText(text, caller);
    const { context, partial } = wholeText ? { context: text, partial: '' } : splitPartialWord(text, this.mode);
    const cached = this.window.get(context);
    const { state, logProbs } = await cached.value;
    return { state, logProbs, cached, partial };
  }

  /** Feeds ids (≥ 1) in chunks, keeping only the last row of log-probabilities. */
  private async advance(state: RecurrentState, ids: Int32Array): Promise<Advanced> {
    if (ids.length > 1 && this.model.advance) {
      // Only the last distribution is wanted: run the others through the recurrent layers alone.
      state = await this.model.advance(ids.subarray(0, ids.length - 1), state);
      return this.run(ids.subarray(ids.length - 1), state);
    }
    let logProbs: Float32Array = new Float32Array(0);
    for (let start = 0; start < ids.length; start += this.runChunk) {
      const part = ids.subarray(start, Math.min(ids.length, start + this.runChunk));
      const out = await this.run(part, state);
      state = out.state;
      // A copy of the last row, so the [n, V] buffer is not kept alive by the cache.
      logProbs = part.length === 1 ? out.logProbs : out.logProbs.slice((part.length - 1) * this.V);
    }
    return { state, logProbs };
  }

  private step(state: RecurrentState, id: number): Promise<Advanced> {
    return this.run(Int32Array.of(id), state);
  }

  private async run(ids: Int32Array, state: RecurrentState): Promise<Advanced> {
    const out = await this.model.run(ids, state);
    if (out.logProbs.length !== ids.length * this.V) {
      throw new Error(`Predictor: the model returned ${out.logProbs.length} log-probabilities for ${ids.length} ids, expected ${ids.length}·${this.V}`);
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------
  // Choosing tokens.

  /**
   * The most likely token that starts with `partial`, with its probability among those tokens: the
   * vocabulary's, and the document's own unknown words (each `<unk>`'s probability times its share of the
   * document's unknown words). `word` is set when the winner is such a word (its id is then 0).
   */
  private bestCompletion(lp: Float32Array, partial: string, oov?: DocumentWords): { id: number; logP: number; word?: string } | undefined {
    const norm = new LogSumExp();
    let best = -1;
    let bestLog = -Infinity;
    let word: string | undefined;
    for (const id of this.vocab.idsWithPrefix(partial)) {
      if (this.flags[id]! & (UNK_FLAG | BLANK_FLAG)) continue;
      const l = lp[id]!;
      norm.add(l);
      if (best < 0 || l > bestLog || (l === bestLog && id < best)) {
        best = id;
        bestLog = l;
      }
    }
    if (oov) {
      for (const w of oov.withPrefix(partial)) {
        const l = lp[0]! + w.logShare;
        norm.add(l);
        if (l > bestLog) {
          best = 0;
          bestLog = l;
          word = w.token;
        }
      }
    }
    if (best < 0 || bestLog === -Infinity) return undefined;
    return word !== undefined ? { id: 0, logP: bestLog - norm.value(), word } : { id: best, logP: bestLog - norm.value() };
  }

  /**
   * The document's words outside the vocabulary (word-like tokens of the context that encode to `<unk>`),
   * with the probability that the next unknown word is each of them: where the model predicts `<unk>`, the
   * document says which word (the names and identifiers a file keeps using). Counted over the context's last
   * tokens (≤ maxContextTokens). As a Pitman–Yor process predicts a draw from what it has seen, n seen
   * unknown words (of which word w n_w times) give w (n_w − d)/(n + θ), and a word not seen yet the rest: a
   * name seen once stands for `<unk>` with a quarter of its probability, one seen ten times with 86 %.
   */
  private documentWords(ctx: Context): DocumentWords {
    const counts = new Map<string, number>();
    let total = 0;
    for (const t of ctx.cached.tokens()) {
      if (!isWordLike(t) || this.vocab.has(t)) continue;
      counts.set(t, (counts.get(t) ?? 0) + 1);
      total++;
    }
    const entries = [...counts].map(([token, n]) => ({ token, logShare: Math.log((n - UNKNOWN_DISCOUNT) / (total + UNKNOWN_CONCENTRATION)) }));
    return {
      best: () => entries.reduce<(typeof entries)[number] | undefined>((a, e) => (!a || e.logShare > a.logShare || (e.logShare === a.logShare && e.token < a.token) ? e : a), undefined),
      withPrefix: (prefix) => entries.filter((e) => e.token.startsWith(prefix) && e.token.length > prefix.length),
    };
  }

  /** One token from softmax(lp / temperature) over `candidates` (default: every id but `<unk>`). */
  private draw(lp: Float32Array, candidates: Int32Array | undefined, temperature: number, rand: () => number): number {
    const n = candidates ? candidates.length : this.V;
    const idAt = candidates ? (i: number) => candidates[i]! : (i: number) => i;
    if (temperature === 0) {
      let best = -1;
      for (let i = 0; i < n; i++) {
        const id = idAt(i);
        if (id !== 0 && (best < 0 || lp[id]! > lp[best]! || (lp[id] === lp[best] && id < best))) best = id;
      }
      return best;
    }
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const id = idAt(i);
      if (id !== 0 && lp[id]! > max) max = lp[id]!;
    }
    if (max === -Infinity) return this.draw(lp, candidates, 0, rand); // nothing has weight: take the first
    let total = 0;
    for (let i = 0; i < n; i++) {
      const id = idAt(i);
      if (id !== 0) total += Math.exp((lp[id]! - max) / temperature);
    }
    const u = rand();
    if (!(u >= 0 && u < 1)) throw new Error(`Predictor.sample: rand() must return a number in [0, 1) (got ${u})`);
    const target = u * total;
    let acc = 0;
    let last = -1;
    for (let i = 0; i < n; i++) {
      const id = idAt(i);
      if (id === 0) continue;
      const w = Math.exp((lp[id]! - max) / temperature);
      if (w === 0) continue;
      acc += w;
      last = id;
      if (acc > target) return id;
    }
    return last; // rounding left target at the very top
  }

  /**
   * The text that appends `tokens` after the typed text: the first token minus the typed `partial`.
   * whitespace mode joins words with single spaces and writes `<eos>` as a line break; `spaceBefore` says
   * the typed text ends in a word that the first token does not complete.
   */
  private insertion(tokens: string[], partial: string, spaceBefore: boolean): string {
    if (this.mode === 'text') return tokens[0]!.slice(partial.length) + tokens.slice(1).join('');
    let out = '';
    let atBoundary = !spaceBefore;
    tokens.forEach((t, i) => {
      if (t === EOS) {
        out += '\n';
        atBoundary = true;
        return;
      }
      if (i === 0 && partial) out += t.slice(partial.length);
      else out += (atBoundary ? '' : ' ') + t;
      atBoundary = false;
    });
    return out;
  }
}

// --------------------------------------------------------------------------------------------------
// Helpers.

/** A document's words outside the vocabulary, each with ln(its count / all such tokens). */
interface DocumentWords {
  best(): { token: string; logShare: number } | undefined;
  withPrefix(prefix: string): { token: string; logShare: number }[];
}

/** k best (id, score) pairs in one pass: a min-heap whose root is the worst kept. O(V log k), no sort of V. */
class TopHeap {
  private readonly ids: Int32Array;
  private readonly scores: Float64Array;
  private size = 0;

  constructor(private readonly k: number) {
    this.ids = new Int32Array(k);
    this.scores = new Float64Array(k);
  }

  offer(id: number, score: number): void {
    if (this.size < this.k) {
      let i = this.size++;
      // Sift up: move parents that are better down.
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.worse(id, score, this.ids[parent]!, this.scores[parent]!)) break;
        this.ids[i] = this.ids[parent]!;
        this.scores[i] = this.scores[parent]!;
        i = parent;
      }
      this.ids[i] = id;
      this.scores[i] = score;
    } else if (this.worse(this.ids[0]!, this.scores[0]!, id, score)) {
      this.replaceRoot(id, score);
    }
  }

  /** The kept pairs, best first; empties the heap. */
  drainBestFirst(): { id: number; score: number }[] {
    const out = new Array<{ id: number; score: number }>(this.size);
    for (let i = this.size - 1; i >= 0; i--) {
      out[i] = { id: this.ids[0]!, score: this.scores[0]! };
      const lastId = this.ids[this.size - 1]!;
      const lastScore = this.scores[this.size - 1]!;
      this.size--;
      if (this.size > 0) this.replaceRoot(lastId, lastScore);
    }
    return out;
  }

  /** Lower score is worse; on a tie the higher id (the rarer word) is. */
  private worse(idA: number, a: number, idB: number, b: number): boolean {
    return a < b || (a === b && idA > idB);
  }

  private replaceRoot(id: number, score: number): void {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) break;
      const r = l + 1;
      const child = r < this.size && this.worse(this.ids[r]!, this.scores[r]!, this.ids[l]!, this.scores[l]!) ? r : l;
      if (!this.worse(this.ids[child]!, this.scores[child]!, id, score)) break;
      this.ids[i] = this.ids[child]!;
      this.scores[i] = this.scores[child]!;
      i = child;
    }
    this.ids[i] = id;
    this.scores[i] = score;
  }
}

/** ln Σ exp(x) over a stream, rescaled as the maximum grows so nothing underflows. */
class LogSumExp {
  private max = -Infinity;
  private sum = 0;

  add(x: number): void {
    if (x === -Infinity) return;
    if (x <= this.max) {
      this.sum += Math.exp(x - this.max);
    } else {
      this.sum = this.sum * Math.exp(this.max - x) + 1;
      this.max = x;
    }
  }

  value(): number {
    return this.max + Math.log(this.sum);
  }
}

/** The first id with the largest value in lp[from, to). */
function argmax(lp: Float32Array, from: number, to: number): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if (lp[i]! > lp[best]!) best = i;
  return best;
}

function emptyPhrase(): Phrase {
  return { text: '', tokens: [], probs: [], meanProb: 0 };
}

function positiveInteger(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`Predictor: ${name} must be a positive integer (got ${v})`);
  return v;
}

function checkText(text: unknown, caller: string): void {
  if (typeof text !== 'string') throw new TypeError(`Predictor.${caller}: text must be a string (got ${typeof text})`);
}
