// What `nextword eval` (and `train --split`) measure for one method on a set of texts: perplexity and
// next-word accuracy from its scorer, and keystroke savings from typing each text with its completer
// (core/completion/keystroke-savings.ts: the rules), with the latency of every completion request.
//
// Methods: the trained model (the extension's code path: a Predictor behind a CompletionEngine with the
// extension's default settings), the Kneser-Ney n-gram model (the same code path over the n-gram) and the
// word-frequency baseline (VS Code's word-based suggestions; its perplexity and accuracy are those of the
// unigram distribution of the same tokens).

import { CompletionEngine, DEFAULT_COMPLETION_SETTINGS, type CompletionSettings } from '../core/completion/completion-engine.js';
import {
  combineKeystrokeFigures, EngineCompleter, simulateTyping, WordFrequencyCompleter, type Completer, type KeystrokeFigures,
} from '../core/completion/keystroke-savings.js';
import { combineFigures, evaluateText, startTokenId, type EvalFigures, type SequenceScorer } from '../core/scoring/evaluation.js';
import type { LanguageModel } from '../core/model/language-model.js';
import { KneserNey } from '../core/ngram/kneser-ney.js';
import { Predictor } from '../core/predict/predictor.js';
import { tokenize, type TokenizerMode } from '../core/text/tokenizer.js';
import type { Vocabulary } from '../core/text/vocabulary.js';
import { round } from './args.js';

export interface Text {
  file: string;
  text: string;
}

export interface Method {
  name: string;
  vocab: Vocabulary;
  mode: TokenizerMode;
  /** Perplexity and accuracy; absent for a method without a distribution. */
  scorer?: SequenceScorer;
  /** A fresh completer for the typing simulation. */
  completer: () => Completer;
}

export interface Figures {
  ppl?: number;
  top1?: number;
  top3?: number;
  tokens?: number;
  oov?: number;
  ksr?: number;
  accept_rate?: number;
  accepted_chars?: number;
  chars?: number;
  keys?: number;
  latency_p50_ms?: number;
  latency_p90_ms?: number;
  latency_p99_ms?: number;
}

export interface EvaluateOptions {
  /** Simulate typing (keystroke savings); default true. */
  ksr?: boolean;
  /** Type at most this many characters of each text (its start); default all. */
  ksrChars?: number;
  /** Called after each text, for progress. */
  onText?: (done: number, total: number) => void;
}

export interface MethodResult {
  all: Figures;
  files: (Figures & { file: string })[];
  /** Seconds spent scoring and typing. */
  scoreSeconds: number;
  typeSeconds: number;
}

export async function evaluateMethod(method: Method, texts: Text[], opts: EvaluateOptions = {}): Promise<MethodResult> {
  const evals: EvalFigures[] = [];
  const typed: KeystrokeFigures[] = [];
  const files: (Figures & { file: string })[] = [];
  let scoreSeconds = 0;
  let typeSeconds = 0;
  const completer = opts.ksr === false ? undefined : method.completer();
  for (let i = 0; i < texts.length; i++) {
    const { file, text } = texts[i]!;
    const f: Figures & { file: string } = { file };
    if (method.scorer) {
      const t0 = performance.now();
      const e = await evaluateText(method.scorer, method.vocab, method.mode, text);
      scoreSeconds += (performance.now() - t0) / 1000;
      evals.push(e);
      Object.assign(f, evalFields(e));
    }
    if (completer) {
      const t0 = performance.now();
      const k = await simulateTyping(completer, opts.ksrChars !== undefined ? text.slice(0, opts.ksrChars) : text);
      typeSeconds += (performance.now() - t0) / 1000;
      typed.push(k);
      Object.assign(f, keystrokeFields(k));
    }
    files.push(f);
    opts.onText?.(i + 1, texts.length);
  }
  const all: Figures = {};
  if (method.scorer) Object.assign(all, evalFields(combineFigures(evals)));
  if (completer) Object.assign(all, keystrokeFields(combineKeystrokeFigures(typed)));
  return { all, files, scoreSeconds, typeSeconds };
}

/** The figures for JSON: ratios to 4 digits, perplexity to 3, latencies to 0.01 ms; NaN (nothing to measure) left out. */
export function roundedFigures(f: Figures): Figures {
  const out: Record<string, number> = {};
  const digits: Record<string, number> = { ppl: 3, top1: 4, top3: 4, ksr: 4, accept_rate: 4, latency_p50_ms: 2, latency_p90_ms: 2, latency_p99_ms: 2 };
  for (const [k, v] of Object.entries(f)) {
    if (typeof v !== 'number' || Number.isNaN(v)) continue;
    out[k] = digits[k] !== undefined ? round(v, digits[k]!) : v;
  }
  return out as Figures;
}

function evalFields(e: EvalFigures): Figures {
  return { ppl: e.ppl, top1: e.top1, top3: e.top3, tokens: e.tokens, oov: e.oov };
}

function keystrokeFields(k: KeystrokeFigures): Figures {
  const sorted = Float64Array.from(k.latenciesMs).sort();
  const q = (p: number) => (sorted.length ? sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]! : NaN);
  return {
    ksr: k.ksr,
    accept_rate: k.acceptRate,
    accepted_chars: k.acceptedChars,
    chars: k.chars,
    keys: k.keys,
    latency_p50_ms: q(0.5),
    latency_p90_ms: q(0.9),
    latency_p99_ms: q(0.99),
  };
}

// ------------------------------------------------------------------------------------------------
// The methods.

/** The completion settings a typing simulation uses: the extension's defaults, or those given. */
export type TypingSettings = Partial<Pick<CompletionSettings, 'maxWords' | 'minConfidence'>>;

/** Typing with `lm` through the extension's own code path. */
function engineCompleter(lm: LanguageModel, vocab: Vocabulary, mode: TokenizerMode, settings: TypingSettings = {}): () => Completer {
  return () => {
    const predictor = new Predictor(lm, vocab, mode);
    const engine = new CompletionEngine({ getPredictor: () => predictor });
    return new EngineCompleter(engine, { ...DEFAULT_COMPLETION_SETTINGS, ...settings });
  };
}

/**
 * A trained model as ModelSession opened it (with or without the document cache): what predicts and what
 * scores; typed at its own threshold (ModelSession.minConfidence) unless `settings` set one.
 */
export function modelMethod(
  name: string,
  model: { model: LanguageModel; scorer: SequenceScorer; vocab: Vocabulary; mode: TokenizerMode; minConfidence?: number },
  settings: TypingSettings = {},
): Method {
  const typing = { ...(model.minConfidence !== undefined ? { minConfidence: model.minConfidence } : {}), ...settings };
  return { name, vocab: model.vocab, mode: model.mode, scorer: model.scorer, completer: engineCompleter(model.model, model.vocab, model.mode, typing) };
}

/** The ids of `texts` under `vocab` (each a sequence read after the start token). */
export function textIds(texts: Text[], vocab: Vocabulary, mode: TokenizerMode): Int32Array[] {
  return texts.map((t) => vocab.encode(tokenize(t.text, mode)));
}

/** An interpolated modified Kneser-Ney model of `order` over `train`, on the model's vocabulary and tokens. */
export function ngramMethod(train: Text[], vocab: Vocabulary, mode: TokenizerMode, order: number, settings: TypingSettings = {}): Method & { model: KneserNey } {
  const model = KneserNey.train(textIds(train, vocab, mode), { vocabSize: vocab.size, order, startId: startTokenId(vocab, mode) });
  return { name: 'ngram', vocab, mode, scorer: model, completer: engineCompleter(model, vocab, mode, settings), model };
}

/** VS Code's word-based suggestions over the words of `train`; scored as the unigram distribution of its tokens. */
export function wordFrequencyMethod(train: Text[], vocab: Vocabulary, mode: TokenizerMode): Method {
  const unigram = KneserNey.train(textIds(train, vocab, mode), { vocabSize: vocab.size, order: 1, startId: startTokenId(vocab, mode) });
  const counts = WordFrequencyCompleter.countWords(train.map((t) => t.text));
  return { name: 'wordfreq', vocab, mode, scorer: unigram, completer: () => new WordFrequencyCompleter(counts) };
}
