// The training text's word frequencies as a language model: the same distribution after every token (the
// add-one smoothed unigram of document-perplexity.ts). The baseline that knows which words are common
// and nothing of context, for `nextword bench errors`.

import type { LanguageModel, RecurrentState } from '../model/language-model.js';
import { unigramLogProbs } from '../scoring/document-perplexity.js';
import type { Vocabulary } from '../text/vocabulary.js';

export class UnigramModel implements LanguageModel {
  readonly vocabSize: number;
  private readonly row: Float32Array; //                                             [V]

  constructor(vocab: Vocabulary) {
    const logp = unigramLogProbs(vocab);
    if (!logp) throw new Error('UnigramModel: the vocabulary was saved without its counts');
    this.vocabSize = vocab.size;
    this.row = Float32Array.from(logp);
  }

  initialState(): RecurrentState {
    return { h: new Float32Array(0) };
  }

  async run(ids: Int32Array, state: RecurrentState): Promise<{ logProbs: Float32Array; state: RecurrentState }> {
    const V = this.vocabSize;
    const logProbs = new Float32Array(ids.length * V);
    for (let t = 0; t < ids.length; t++) logProbs.set(this.row, t * V);
    return { logProbs, state };
  }
}
