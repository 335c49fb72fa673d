// Texts (files) to what training takes, in two passes that never hold every token as a string: count the
// tokens of the training texts (for the vocabulary), then encode each text's tokens to ids. Memory stays
// at the texts themselves plus 4 bytes a token, where one list of token strings takes about ten times that.
//
// Texts are tokenised in pieces that end at line breaks (lineBlocks: the same tokens as the whole text),
// and `between` is awaited after each piece: the extension yields to its event loop there and checks for
// cancellation; the CLI passes nothing.

import { lineBlocks, tokenize, type TokenizerMode } from './tokenizer.js';
import { Vocabulary } from './vocabulary.js';

/** Characters tokenised at a time (a piece ends at the next line break). */
export const TOKENIZE_BLOCK_CHARS = 16_384;

export interface EncodeOptions {
  mode: TokenizerMode;
  /** Awaited after every piece of text (yield, check for cancellation…). */
  between?: () => Promise<void> | void;
}

/** Adds the tokens of `texts` to `counts` (token → occurrences) and returns it. */
export async function countTextTokens(texts: Iterable<string>, opts: EncodeOptions, counts: Map<string, number> = new Map()): Promise<Map<string, number>> {
  for (const text of texts) {
    for (const block of lineBlocks(text, TOKENIZE_BLOCK_CHARS)) {
      Vocabulary.countTokens(tokenize(block, opts.mode), counts);
      await opts.between?.();
    }
  }
  return counts;
}

/** The ids of `texts` as one stream, and each text's token count (in order; Σ = ids.length). */
export async function encodeTexts(texts: readonly string[], vocab: Vocabulary, opts: EncodeOptions): Promise<{ ids: Int32Array; sizes: number[] }> {
  const parts: Int32Array[] = [];
  const sizes: number[] = [];
  for (const text of texts) {
    let n = 0;
    for (const block of lineBlocks(text, TOKENIZE_BLOCK_CHARS)) {
      const ids = vocab.encode(tokenize(block, opts.mode));
      parts.push(ids);
      n += ids.length;
      await opts.between?.();
    }
    sizes.push(n);
  }
  const ids = new Int32Array(sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const p of parts) {
    ids.set(p, at);
    at += p.length;
  }
  return { ids, sizes };
}

/**
 * Validation text of a project folder is capped at whole files: measuring every epoch on a tenth of a large
 * workspace takes longer than an epoch's training, for a figure that a few hundred thousand tokens already
 * pin down. The files are kept in order while they fit; the first is cut if it
 * alone is larger.
 */
export const MAX_VALID_TOKENS = 250_000;

/** The first texts of a stream whose tokens fit in `maxTokens` (at least part of the first one). */
export function capTokens(stream: { ids: Int32Array; sizes: number[] }, maxTokens: number): { ids: Int32Array; sizes: number[] } {
  if (stream.ids.length <= maxTokens) return stream;
  const sizes: number[] = [];
  let total = 0;
  for (const n of stream.sizes) {
    if (total + n > maxTokens) break;
    sizes.push(n);
    total += n;
  }
  if (sizes.length === 0) {
    sizes.push(maxTokens);
    total = maxTokens;
  }
  return { ids: stream.ids.slice(0, total), sizes };
}
