// Fits the served mixture (core/serving/mixture-model.ts) at the end of a training run, where the network's best
// parameters, its n-gram companion and the validation files all are: the network's log p of each
// validation token comes from its scoring graph (int8 decoder, as it is served), the companion's and the
// cache's from themselves, and EM sets the weights. Then the mixture types the validation files to choose
// its completion threshold (core/completion/threshold-calibration.ts).

import { DEFAULT_CACHE } from '../../core/predict/cache-model.js';
import { CompletionEngine, DEFAULT_COMPLETION_SETTINGS } from '../../core/completion/completion-engine.js';
import { EngineCompleter } from '../../core/completion/keystroke-savings.js';
import { calibrateThreshold, typePieces, type CalibrationPiece, type ThresholdCalibration } from '../../core/completion/threshold-calibration.js';
import { inferenceGraph, quantizeDecoderPaced } from '../../core/graphs/inference-graph.js';
import { pacer } from '../../core/support/event-loop.js';
import { MixtureLanguageModel } from '../../core/serving/mixture-model.js';
import { Predictor } from '../../core/predict/predictor.js';
import type { TokenizerMode } from '../../core/text/tokenizer.js';
import type { Vocabulary } from '../../core/text/vocabulary.js';
import { OnnxLanguageModel } from '../onnx/onnx-language-model.js';
import { fitMixtureSpec, mixtureSamples, COUNT_EDGES, MIXTURE_FIT_TOKENS, type MixtureFit, type MixtureSpec } from '../../core/serving/mixture-model.js';
import type { ModelConfig } from '../../core/model/model-config.js';
import { splitSequences } from '../../core/ngram/companion.js';
import type { KneserNey } from '../../core/ngram/kneser-ney.js';
import { OnnxScorer } from '../onnx/onnx-scorer.js';

export interface MixtureFitInput {
  cfg: ModelConfig;
  params: Float32Array;
  ngram: KneserNey;
  /** [V] 1 for the ids the document cache remembers (cachedIdsOf). */
  cached: Uint8Array;
  /** The token every file is read after (startTokenId). */
  startId: number;
  valid: Int32Array;
  validSizes: readonly number[];
  threads: number;
  signal?: AbortSignal;
}

export async function fitServedMixture(input: MixtureFitInput): Promise<MixtureSpec & { fit: MixtureFit }> {
  if (input.cached.length !== input.cfg.vocab) throw new Error(`the mixture's cache flags cover ${input.cached.length} ids, the vocabulary ${input.cfg.vocab}`);
  if (input.ngram.vocabSize !== input.cfg.vocab) throw new Error(`the n-gram model has ${input.ngram.vocabSize} ids, the network ${input.cfg.vocab}`);
  const sequences: Int32Array[] = [];
  let tokens = 0;
  for (const ids of splitSequences(input.valid, input.validSizes)) {
    if (ids.length === 0) continue;
    if (tokens > 0 && tokens + ids.length > MIXTURE_FIT_TOKENS) break;
    const take = ids.subarray(0, MIXTURE_FIT_TOKENS); // only a first file can be longer: its start
    const seq = new Int32Array(take.length + 1);
    seq[0] = input.startId;
    seq.set(take, 1);
    sequences.push(seq);
    tokens += take.length;
  }
  if (tokens === 0) throw new Error('no validation tokens to fit the mixture on');
  const scorer = await OnnxScorer.create(input.cfg, input.params, { threads: input.threads, decoder: 'int8' });
  try {
    const shape = { order: input.ngram.order, countEdges: [...COUNT_EDGES], window: DEFAULT_CACHE.window };
    const samples = await mixtureSamples(sequences, scorer, input.ngram, input.cached, shape, async () => input.signal?.throwIfAborted());
    const { spec, fit } = fitMixtureSpec(samples, shape, DEFAULT_CACHE.lambda);
    return { ...spec, fit };
  } finally {
    await scorer.release();
  }
}

export interface CalibrationInput {
  cfg: ModelConfig;
  params: Float32Array;
  ngram: KneserNey;
  cached: Uint8Array;
  spec: MixtureSpec;
  vocab: Vocabulary;
  mode: TokenizerMode;
  /** The pieces of the validation files to type (calibrationPieces). */
  pieces: readonly CalibrationPiece[];
  threads: number;
  signal?: AbortSignal;
}

/**
 * The served mixture's completion threshold, chosen by typing `pieces` through the extension's completion
 * code with the model as it will be served (int8 decoder); undefined with too few validation files or suggestions.
 */
export async function calibrateServedThreshold(input: CalibrationInput): Promise<ThresholdCalibration | undefined> {
  const quantized = await quantizeDecoderPaced(input.cfg, input.params, pacer());
  const network = await OnnxLanguageModel.create(inferenceGraph(input.cfg, input.params, { decoder: 'int8', quantized, optionalLogProbs: true }), input.cfg, { threads: input.threads });
  try {
    const model = new MixtureLanguageModel({ network, ngram: input.ngram, cached: input.cached, spec: input.spec });
    return await calibrateThreshold(async (minConfidence) => {
      input.signal?.throwIfAborted();
      const predictor = new Predictor(model, input.vocab, input.mode);
      const engine = new CompletionEngine({ getPredictor: () => predictor });
      return typePieces(input.pieces, new EngineCompleter(engine, { ...DEFAULT_COMPLETION_SETTINGS, minConfidence }), input.signal);
    });
  } finally {
    await network.release();
  }
}
