// `model.json`: what a saved model is (format version, tokenizer, vocabulary, configuration) and how it
// was trained (corpus, options, figures). Checked on load, so that an old, newer or damaged model fails
// with a message that says what to do instead of producing nonsense.

import { validateModelConfig, type ModelConfig } from '../model/model-config.js';
import { validateCalibration, type ThresholdCalibration } from '../completion/threshold-calibration.js';
import { validateMixtureSpec, type MixtureFit, type MixtureSpec } from './mixture-model.js';
import type { CompanionFigures } from '../ngram/companion.js';
import type { TokenizerMode } from '../text/tokenizer.js';
import { Vocabulary } from '../text/vocabulary.js';

export const MODEL_FORMAT = 'nextword-model';
export const MODEL_FORMAT_VERSION = 1;

export interface TrainingRecord {
  corpus: { source: string; files?: number; trainTokens: number; validTokens: number; testTokens?: number };
  options: Record<string, unknown>;
  validPpl: number;
  testPpl?: number;
  epochs: number;
  bestEpoch: number;
  seconds: number;
  tokensPerS: number;
  params: number;
  /** The n-gram companion trained on the same tokens (saved as the model's `ngram` file). */
  ngram?: CompanionFigures;
}

export interface ModelMeta {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  createdAt: string;
  tokenizer: { mode: TokenizerMode };
  config: ModelConfig;
  vocabulary: string[];
  /** Training-corpus count of each vocabulary entry (for the unigram baseline); optional. */
  vocabularyCounts?: number[];
  training?: TrainingRecord;
  /** Added by the model store: the ONNX file this metadata describes. */
  onnx?: { file: string; bytes: number; sha256: string };
  /** Added by the model store: the n-gram companion file, when the model was saved with one. */
  ngram?: { file: string; bytes: number; sha256: string };
  /**
   * What is served: the network, its n-gram companion and the document cache interpolated with these
   * weights (core/serving/mixture-model.ts), fitted on the validation files; `fit` says how each did on them. Absent:
   * the network with the document cache.
   */
  mixture?: MixtureSpec & { fit?: MixtureFit };
  /**
   * The completion threshold chosen for the mixture by typing the validation files
   * (core/completion/threshold-calibration.ts): what completions use unless the user set one. Absent: the
   * default.
   */
  completion?: ThresholdCalibration;
}

/** Validates parsed model.json content; `where` names the model in error messages. */
export function parseModelMeta(json: unknown, where: string): ModelMeta {
  const fail = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('model.json is not a JSON object');
  const m = json as Record<string, unknown>;
  if (m.format !== MODEL_FORMAT) fail(`not a Nextword model (format is ${JSON.stringify(m.format)}, expected "${MODEL_FORMAT}")`);
  if (m.formatVersion !== MODEL_FORMAT_VERSION) {
    const v = m.formatVersion;
    const newer = typeof v === 'number' && v > MODEL_FORMAT_VERSION;
    fail(
      `model format version ${JSON.stringify(v)} is not supported (this Nextword reads version ${MODEL_FORMAT_VERSION}); ` +
        (newer ? 'update Nextword to use this model' : 'train the model again with this version'),
    );
  }
  const tok = m.tokenizer as { mode?: unknown } | undefined;
  if (!tok || (tok.mode !== 'text' && tok.mode !== 'whitespace')) fail('tokenizer.mode must be "text" or "whitespace"');
  const cfg = m.config as ModelConfig;
  if (typeof cfg !== 'object' || cfg === null) fail('config is missing');
  try {
    validateModelConfig(cfg);
  } catch (e) {
    fail((e as Error).message);
  }
  const vocab = m.vocabulary;
  if (!Array.isArray(vocab) || !vocab.every((w) => typeof w === 'string')) fail('vocabulary must be an array of strings');
  if ((vocab as string[]).length !== cfg.vocab) {
    fail(`vocabulary has ${(vocab as string[]).length} words but the model expects ${cfg.vocab}`);
  }
  const counts = m.vocabularyCounts;
  if (counts !== undefined && (!Array.isArray(counts) || counts.length !== (vocab as string[]).length || !counts.every((c) => typeof c === 'number' && c >= 0))) {
    fail('vocabularyCounts must hold one count ≥ 0 per vocabulary word');
  }
  if (m.mixture !== undefined) {
    try {
      validateMixtureSpec(m.mixture);
    } catch (e) {
      fail((e as Error).message);
    }
    if (m.ngram === undefined) fail('mixture: the model has no n-gram companion to mix');
  }
  if (m.completion !== undefined) {
    try {
      validateCalibration(m.completion);
    } catch (e) {
      fail((e as Error).message);
    }
  }
  return m as unknown as ModelMeta;
}

/** The completion threshold of the model: the one chosen for it at the end of its training, else `fallback`. */
export function modelMinConfidence(meta: Pick<ModelMeta, 'completion'>, fallback: number): number {
  return meta.completion?.minConfidence ?? fallback;
}

/** The validation perplexity of what is served: the mixture's when the model has one, else the network's. */
export function servedValidPpl(meta: Pick<ModelMeta, 'mixture' | 'training'>): number | undefined {
  return meta.mixture?.fit?.ppl.model ?? meta.training?.validPpl;
}

/** The vocabulary a model was saved with (with its counts when recorded). */
export function vocabularyOf(meta: ModelMeta): Vocabulary {
  return Vocabulary.fromJSON(meta.vocabularyCounts ? { words: meta.vocabulary, counts: meta.vocabularyCounts } : meta.vocabulary);
}
