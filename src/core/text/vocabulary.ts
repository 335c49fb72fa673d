// Vocabulary: the bijection between tokens and the dense ids 0..size−1 the model's embedding and
// decoder rows are indexed by. Id 0 is always `<unk>`, which every unknown token maps to.
//
// Ids follow frequency (most frequent first, ties in plain string order), so a vocabulary built twice
// from the same counts is identical, and truncating it keeps the most useful words.
//
// Serialized form: `toJSON()` gives the word list (id order). `fromJSON` accepts that list, or
// `{ words, counts }` as written by `toJSONWithCounts()` when the corpus counts should travel along.
// The count of `<unk>` is the number of corpus tokens that map to it: literal `<unk>` tokens plus every
// occurrence of the words that were left out.

import { UNK } from './tokenizer.js';

export interface VocabularyBuildOptions {
  /** Most entries in total, `<unk>` included (≥ 1). */
  maxSize: number;
  /** Leave out tokens seen fewer times than this. */
  minCount: number;
}

export interface VocabularyJSON {
  words: string[];
  counts?: number[];
}

/** Plain code-unit order, the same on every machine (unlike localeCompare). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A sorted view of the words for prefix queries: `keys[i]` is the key of word `ids[i]`, ascending. */
interface PrefixIndex {
  keys: string[];
  ids: Int32Array;
}

export class Vocabulary {
  private readonly words: readonly string[];
  private readonly ids: Map<string, number>;
  private readonly counts: Float64Array | undefined;
  private exactIndex: PrefixIndex | undefined;
  private foldedIndex: PrefixIndex | undefined;

  /** `ids`: each word's id, when the caller has that map already (it is kept, not copied). */
  private constructor(words: readonly string[], counts: Float64Array | undefined, ids?: Map<string, number>) {
    this.words = words;
    this.counts = counts;
    if (!ids) {
      ids = new Map();
      for (let i = 0; i < words.length; i++) ids.set(words[i]!, i);
    }
    this.ids = ids;
  }

  /** Adds one to `into` (a new map by default) for every token. */
  static countTokens(tokens: Iterable<string>, into: Map<string, number> = new Map()): Map<string, number> {
    for (const t of tokens) into.set(t, (into.get(t) ?? 0) + 1);
    return into;
  }

  /**
   * Keeps the tokens seen at least `minCount` times, most frequent first (ties in string order), at most
   * `maxSize` entries including `<unk>`. A corpus token `<unk>` is id 0, not a second entry.
   */
  static build(counts: Map<string, number>, opts: VocabularyBuildOptions): Vocabulary {
    const { maxSize, minCount } = opts;
    if (!Number.isInteger(maxSize) || maxSize < 1) {
      throw new Error(`Vocabulary.build: maxSize must be an integer ≥ 1, since <unk> takes one entry (got ${maxSize})`);
    }
    if (typeof minCount !== 'number' || Number.isNaN(minCount)) {
      throw new Error(`Vocabulary.build: minCount must be a number (got ${minCount})`);
    }
    let kept: [string, number][] = [];
    let total = 0;
    for (const [word, count] of counts) {
      if (typeof word !== 'string' || word === '') {
        throw new Error(`Vocabulary.build: tokens must be non-empty strings (got ${JSON.stringify(word)})`);
      }
      if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) {
        throw new Error(`Vocabulary.build: the count of ${JSON.stringify(word)} must be a finite number ≥ 0 (got ${count})`);
      }
      total += count;
      if (word !== UNK && count >= minCount) kept.push([word, count]);
    }
    if (kept.length > maxSize - 1) {
      // Only the maxSize − 1 most frequent survive: drop everything rarer than the last of them before the
      // sort (a workspace has hundreds of thousands of distinct tokens; sorting them all held the thread).
      const sorted = Float64Array.from(kept, (e) => e[1]).sort();
      const threshold = sorted[sorted.length - (maxSize - 1)]!;
      kept = kept.filter((e) => e[1] >= threshold);
    }
    kept.sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]));
    if (kept.length > maxSize - 1) kept.length = maxSize - 1;

    const words = [UNK];
    const wordCounts = new Float64Array(kept.length + 1);
    let known = 0;
    for (const [word, count] of kept) {
      wordCounts[words.length] = count;
      words.push(word);
      known += count;
    }
    wordCounts[0] = total - known;
    return new Vocabulary(words, wordCounts);
  }

  /** Restores a vocabulary from `toJSON()` (a word list) or `toJSONWithCounts()` output, checking it. */
  static fromJSON(json: unknown): Vocabulary {
    const fail = (msg: string): never => {
      throw new Error(`invalid vocabulary: ${msg}`);
    };
    let words: unknown = json;
    let counts: unknown;
    if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
      words = (json as { words?: unknown }).words;
      counts = (json as { counts?: unknown }).counts;
      if (words === undefined) fail('expected an array of words or an object with a "words" array');
    }
    if (!Array.isArray(words)) fail(`expected an array of words, got ${describe(words)}`);
    const list = words as unknown[];
    if (list.length === 0) fail(`the word list is empty; it must start with "${UNK}"`);
    const seen = new Map<string, number>();
    for (let i = 0; i < list.length; i++) {
      const w = list[i];
      if (typeof w !== 'string') fail(`word ${i} is ${describe(w)}, not a string`);
      if (w === '') fail(`word ${i} is the empty string`);
      const earlier = seen.get(w as string);
      if (earlier !== undefined) fail(`word ${JSON.stringify(w)} appears twice (ids ${earlier} and ${i})`);
      seen.set(w as string, i);
    }
    if (list[0] !== UNK) fail(`the first word (id 0) must be "${UNK}", not ${JSON.stringify(list[0])}`);

    let countArray: Float64Array | undefined;
    if (counts !== undefined) {
      if (!Array.isArray(counts)) fail(`"counts" must be an array of numbers, got ${describe(counts)}`);
      const c = counts as unknown[];
      if (c.length !== list.length) fail(`"counts" has ${c.length} entries but there are ${list.length} words`);
      countArray = new Float64Array(c.length);
      for (let i = 0; i < c.length; i++) {
        const v = c[i];
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(`count ${i} must be a finite number ≥ 0, got ${describe(v)}`);
        countArray[i] = v as number;
      }
    }
    // The map of the duplicate check is the vocabulary's index: built once (a 10,000-word model's vocabulary
    // is read on the editor's thread when it switches models).
    return new Vocabulary((list as string[]).slice(), countArray, seen);
  }

  /** The word list in id order (what JSON.stringify writes). */
  toJSON(): string[] {
    return this.words.slice();
  }

  /** Words and, when known, their corpus counts. */
  toJSONWithCounts(): VocabularyJSON {
    return this.counts === undefined ? { words: this.toJSON() } : { words: this.toJSON(), counts: Array.from(this.counts) };
  }

  get size(): number {
    return this.words.length;
  }

  /** True when `token` has an id of its own (`<unk>` included). */
  has(token: string): boolean {
    return this.ids.has(token);
  }

  /** The id of `token`; 0 (`<unk>`) when it is not in the vocabulary. */
  id(token: string): number {
    return this.ids.get(token) ?? 0;
  }

  word(id: number): string {
    this.checkId(id);
    return this.words[id];
  }

  /** The corpus count behind `id`, or undefined when the vocabulary was loaded without counts. */
  count(id: number): number | undefined {
    this.checkId(id);
    return this.counts?.[id];
  }

  encode(tokens: readonly string[]): Int32Array {
    const out = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) out[i] = this.ids.get(tokens[i]) ?? 0;
    return out;
  }

  decode(ids: ArrayLike<number>): string[] {
    const out = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = this.word(ids[i]);
    return out;
  }

  /**
   * Ids of every word starting with `prefix` (case-sensitive), in ascending word order. `<unk>` is a word
   * like any other here (prefix "<"). Binary search over a sorted index built on first use.
   */
  idsWithPrefix(prefix: string): Int32Array {
    this.exactIndex ??= this.buildIndex((w) => w);
    return prefixRange(this.exactIndex, prefix);
  }

  /**
   * Ids of every word whose lower-cased form starts with the lower-cased `prefix`
   * (`word.toLowerCase().startsWith(prefix.toLowerCase())`), in ascending lower-cased order.
   */
  idsWithPrefixIgnoringCase(prefix: string): Int32Array {
    this.foldedIndex ??= this.buildIndex((w) => w.toLowerCase());
    return prefixRange(this.foldedIndex, prefix.toLowerCase());
  }

  private buildIndex(key: (word: string) => string): PrefixIndex {
    const byId = this.words.map(key);
    const order = Array.from(byId.keys()).sort((a, b) => compareStrings(byId[a], byId[b]) || a - b);
    return { keys: order.map((id) => byId[id]), ids: Int32Array.from(order) };
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.words.length) {
      throw new RangeError(`vocabulary id ${id} is out of range (size ${this.words.length})`);
    }
  }
}

/** Ids of the keys starting with `prefix`: they form one run in sorted order, found by two binary searches. */
function prefixRange(index: PrefixIndex, prefix: string): Int32Array {
  const { keys, ids } = index;
  // First key ≥ prefix.
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < prefix) lo = mid + 1;
    else hi = mid;
  }
  const start = lo;
  // First key after the run: keys below it are < prefix or start with it.
  hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid].startsWith(prefix)) lo = mid + 1;
    else hi = mid;
  }
  // A copy, so callers may sort or overwrite it without corrupting the index.
  return ids.slice(start, lo);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
