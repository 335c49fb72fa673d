// A training run, phase by phase, as the training worker runs it for `nextword train` and Train on
// Workspace alike: read the texts, prepare them (vocabulary, ids), plan the run, count the n-gram
// companion, train the network, fit what is served (the mixture, its completion threshold), save. The
// faces only say what to train on and show the progress (training-job.ts carries it to them).

import { CompletionEngine, DEFAULT_COMPLETION_SETTINGS } from '../../core/completion/completion-engine.js';
import { combineKeystrokeFigures, EngineCompleter } from '../../core/completion/keystroke-savings.js';
import { calibrationPieces, MIN_FILES, MIN_SHOWN, typePieces, type CalibrationPiece } from '../../core/completion/threshold-calibration.js';
import { initialParameters } from '../../core/model/model-config.js';
import { recountCompanion, trainCompanion, type CompanionFigures } from '../../core/ngram/companion.js';
import type { KneserNey } from '../../core/ngram/kneser-ney.js';
import { planRun, type RunPlan } from '../../core/pipeline/run-plan.js';
import { startTokenId } from '../../core/scoring/evaluation.js';
import { cachedFlagsOf } from '../../core/predict/cache-model.js';
import { Predictor } from '../../core/predict/predictor.js';
import { pacer, yieldToEventLoop } from '../../core/support/event-loop.js';
import { mulberry32 } from '../../core/support/random.js';
import { capTokens, countTextTokens, encodeTexts, MAX_VALID_TOKENS } from '../../core/text/text-encoding.js';
import { Vocabulary } from '../../core/text/vocabulary.js';
import type { TokenizerMode } from '../../core/text/tokenizer.js';
import type { TrainSettings } from '../../core/train/presets.js';
import { perplexity, train, validateTrainOptions, type TrainEvent } from '../../core/train/trainer.js';
import { projectTexts, readTrainingTexts, type TrainingTexts } from '../../io/corpus-reader.js';
import { exportTrainedModel } from '../../io/export-model.js';
import { writeHandover } from '../../io/handover-file.js';
import { ModelSession } from '../serving/model-session.js';
import { calibrateServedThreshold, fitServedMixture } from './mixture-fit.js';
import { TrainingRunner } from './training-runner.js';
import type {
  CompanionHandover,
  CompanionOutput,
  FilesSource,
  PlannedRun,
  ReadingProgress,
  ReadReport,
  RunOutput,
  SavedRunOutput,
  TrainingRequest,
  TrainJobOutput,
} from './training-protocol.js';

/** What the pipeline tells its caller (the worker posts it to the face), phase by phase. */
export interface PipelineHooks {
  signal: AbortSignal;
  reading(p: ReadingProgress): void;
  /** What was read; resolves once the caller has it (what follows holds the thread for seconds). */
  read(r: ReadReport): Promise<void>;
  /** The run is planned; resolves once the caller has it (the companion's counting holds the thread next). */
  planned(p: PlannedRun): Promise<void>;
  /** The companion is counted: resolves once the caller has it (it serves it while the network trains). */
  companion(c: CompanionOutput | CompanionHandover): Promise<void>;
  event(e: TrainEvent): void;
  /** The network is trained and the model will be saved: from here a cancel is heard up to the save's commit. */
  saving(): void;
}

export async function runPipeline(request: TrainingRequest, hooks: PipelineHooks): Promise<RunOutput> {
  const started = performance.now();
  const s = request.settings;
  const texts = await readTexts(request, hooks);
  await phaseDone(hooks.signal);
  const prepared = await prepareTexts(texts, s, hooks.signal);
  await phaseDone(hooks.signal);
  // Phase 3: the plan (core/pipeline/run-plan.ts), the time budget counted from the caller's start.
  const spentS = (performance.now() - started) / 1000 + (request.wholeRun?.spentS ?? 0);
  const plan = planRun(s, { vocabSize: prepared.vocab.size, trainTokens: prepared.train.length, validTokens: prepared.valid.length }, request.wholeRun && { spentS });
  validateTrainOptions(plan.options);
  await hooks.planned({
    ...plan,
    vocab: prepared.vocab.toJSONWithCounts(),
    trainTokens: prepared.train.length,
    validTokens: prepared.valid.length,
    ...(prepared.test ? { testTokens: prepared.test.length } : {}),
  });
  const companion = request.companion ? await countCompanion(prepared, request.companion, !!request.save, hooks) : undefined;
  if (request.countOnly) {
    if (!companion) throw new Error('a run that only counts needs `companion`');
    return { counted: companion.figures };
  }
  const network = await trainNetwork(plan, prepared, request.threads, hooks);
  if (request.save) hooks.saving();
  const served = companion ? await fitServing(plan, prepared, network.params, companion, request.threads, hooks.signal) : {};
  const compared = served.completion && request.compareWith ? await compareKeystrokes(request.compareWith, prepared.pieces, request.threads, hooks.signal) : undefined;
  const output: TrainJobOutput = { ...network, ...served, ...(compared !== undefined ? { comparedKsr: compared } : {}) };
  if (!request.save) return output;
  return saveModel(request, request.save, plan, prepared, texts, output, served.recounted ?? companion?.output, hooks.signal);
}

/** Between two phases: a turn of the event loop, so that a 'cancel' that came meanwhile is heard. */
async function phaseDone(signal: AbortSignal): Promise<void> {
  await yieldToEventLoop();
  signal.throwIfAborted();
}

/** Reading progress posted at most this often. */
const READING_PROGRESS_MS = 200;

/** Phase 1: the texts, split by whole file (io/corpus-reader.ts; files the caller read are decoded here). */
async function readTexts(request: TrainingRequest, hooks: PipelineHooks): Promise<TrainingTexts> {
  const opts = { validFraction: request.settings.validFraction, ...(request.testFraction ? { testFraction: request.testFraction } : {}) };
  let texts: TrainingTexts;
  if (request.source.kind === 'files') texts = decodeFiles(request.source, opts);
  else {
    let lastPosted = performance.now();
    texts = await readTrainingTexts(request.source, {
      ...opts,
      signal: hooks.signal,
      onProgress: ({ taken, skipped, totalBytes }) => {
        const now = performance.now();
        if (now - lastPosted < READING_PROGRESS_MS) return;
        lastPosted = now;
        hooks.reading({ taken, skipped, totalBytes });
      },
    });
  }
  await hooks.read({ kind: texts.kind, report: texts.report, ...(texts.scan ? { scan: texts.scan } : {}), ...(texts.heldOut ? { heldOut: texts.heldOut } : {}) });
  // Handed to the caller: not needed here.
  delete texts.heldOut;
  return texts;
}

function decodeFiles(source: FilesSource, opts: { validFraction: number; testFraction?: number }): TrainingTexts {
  const decoder = new TextDecoder('utf-8');
  let at = 0;
  const files = source.lengths.map((n, i) => ({ relPath: source.relPaths[i]!, text: decoder.decode(source.bytes.subarray(at, (at += n))) }));
  return projectTexts(files, source.scan, opts);
}

/** The texts as the network and the companion take them. */
interface Prepared {
  vocab: Vocabulary;
  mode: TokenizerMode;
  train: Int32Array;
  valid: Int32Array;
  test?: Int32Array;
  trainSizes: number[];
  validSizes: number[];
  /** Pieces of the validation files the completion threshold is chosen on. */
  pieces: CalibrationPiece[];
}

/** Phase 2: the vocabulary of the training texts, and every text's ids (core/text/text-encoding.ts's two passes). */
async function prepareTexts(texts: TrainingTexts, s: TrainSettings, signal: AbortSignal): Promise<Prepared> {
  // Breaks for the worker's event loop, so that a 'cancel' message is heard during the passes.
  const pace = pacer(100);
  const enc = {
    mode: s.tokenizer,
    between: async () => {
      await pace();
      signal.throwIfAborted();
    },
  };
  const vocab = Vocabulary.build(await countTextTokens(texts.train, enc), { maxSize: s.vocab, minCount: s.minCount });
  const train = await encodeTexts(texts.train, vocab, enc);
  // A project's validation files are capped (a corpus's own validation text is used whole).
  const encodedValid = await encodeTexts(texts.valid, vocab, enc);
  const valid = texts.kind === 'project' ? capTokens(encodedValid, MAX_VALID_TOKENS) : encodedValid;
  const test = texts.test ? (await encodeTexts(texts.test, vocab, enc)).ids : undefined;
  const pieces = calibrationPieces(texts.valid);
  // The texts are not needed any more: free them before training.
  texts.train.length = texts.valid.length = 0;
  if (texts.test) texts.test.length = 0;
  return { vocab, mode: s.tokenizer, train: train.ids, valid: valid.ids, ...(test ? { test } : {}), trainSizes: train.sizes, validSizes: valid.sizes, pieces };
}

interface Companion {
  model: KneserNey;
  figures: CompanionFigures;
  /** What is saved with the model: its bytes (a copy of those posted), or its hand-over file. */
  output?: CompanionOutput | CompanionHandover;
  handoverFile?: string;
}

/** Phase 4: the n-gram companion (core/ngram/companion.ts; seconds), handed to the caller before the network trains. */
async function countCompanion(prepared: Prepared, asked: { handoverFile?: string }, save: boolean, hooks: PipelineHooks): Promise<Companion> {
  const plan = companionPlan(prepared);
  const { model, figures } = trainCompanion(prepared.train, prepared.valid, plan);
  const bytes = model.toBytes();
  let output: CompanionOutput | CompanionHandover | undefined;
  if (asked.handoverFile) {
    writeHandover(asked.handoverFile, bytes);
    output = { file: asked.handoverFile, figures };
    await hooks.companion(output);
  } else {
    // Posted bytes are transferred: the save, if any, keeps its own.
    if (save) output = { bytes: bytes.slice(), figures };
    await hooks.companion({ bytes, figures });
  }
  hooks.signal.throwIfAborted();
  return { model, figures, ...(output ? { output } : {}), ...(asked.handoverFile ? { handoverFile: asked.handoverFile } : {}) };
}

function companionPlan(prepared: Prepared) {
  return { vocabSize: prepared.vocab.size, startId: startTokenId(prepared.vocab, prepared.mode), trainSizes: prepared.trainSizes, validSizes: prepared.validSizes };
}

/** Phase 5: the network, on the ONNX training graph (training-runner.ts), and the test text's perplexity. */
async function trainNetwork(plan: RunPlan, prepared: Prepared, threads: number, hooks: PipelineHooks) {
  const { cfg, options } = plan;
  const runner = await TrainingRunner.create(
    cfg,
    { optimizer: options.optimizer, dropout: options.dropout > 0, bptt: options.bptt, threads, sampled: !!options.sampled && options.epochs > options.sampled.fullEpochs },
    initialParameters(cfg, mulberry32(options.seed)),
  );
  try {
    hooks.signal.throwIfAborted();
    const result = await train(runner, { train: prepared.train, valid: prepared.valid }, options, { signal: hooks.signal, onEvent: hooks.event });
    let testPpl: number | undefined;
    if (prepared.test && prepared.test.length >= 2) {
      runner.setParams(result.params);
      testPpl = await perplexity(runner, prepared.test, options.evalBatch, options.evalBptt, hooks.signal);
    }
    hooks.signal.throwIfAborted();
    return { ...result, ...(testPpl === undefined ? {} : { testPpl }) };
  } finally {
    // The training session's memory goes before the fit's scoring session comes.
    await runner.release();
  }
}

/**
 * Phase 6: what is served. The mixture of the network, the companion and the document cache fitted on the
 * validation files, its completion threshold chosen by typing pieces of them, and the companion counted
 * again with them. A mixture or threshold that cannot be had costs the run nothing else: the network is
 * served with the cache, or the default threshold applies.
 */
async function fitServing(plan: RunPlan, prepared: Prepared, params: Float32Array, companion: Companion, threads: number, signal: AbortSignal) {
  const { cfg } = plan;
  const cached = cachedFlagsOf(prepared.vocab);
  const out: Pick<TrainJobOutput, 'mixture' | 'mixtureProblem' | 'completion' | 'completionProblem' | 'recounted'> = {};
  try {
    out.mixture = await fitServedMixture({ cfg, params, ngram: companion.model, cached, startId: companionPlan(prepared).startId, valid: prepared.valid, validSizes: prepared.validSizes, threads, signal });
  } catch (e) {
    signal.throwIfAborted();
    out.mixtureProblem = (e as Error).message;
    return out;
  }
  try {
    out.completion = await calibrateServedThreshold({ cfg, params, ngram: companion.model, cached, spec: out.mixture, vocab: prepared.vocab, mode: prepared.mode, pieces: prepared.pieces, threads, signal });
    if (!out.completion) out.completionProblem = `too little validation text to choose one on (at least ${MIN_FILES} files and ${MIN_SHOWN} suggestions)`;
  } catch (e) {
    signal.throwIfAborted();
    out.completionProblem = (e as Error).message;
  }
  // The validation files have served: the companion that is saved counts them too (in the hand-over file,
  // when it came as one).
  const { model, figures } = recountCompanion(prepared.train, prepared.valid, companionPlan(prepared), companion.figures);
  const bytes = model.toBytes();
  if (companion.handoverFile) writeHandover(companion.handoverFile, bytes);
  out.recounted = companion.handoverFile ? { file: companion.handoverFile, figures } : { bytes, figures };
  signal.throwIfAborted();
  return out;
}

/**
 * What the run gained: the keystroke savings of another saved model (the bundled one) typing the same
 * validation pieces the threshold was chosen on, as the editor serves it. Undefined when it cannot be had
 * (the comparison costs the run nothing else).
 */
async function compareKeystrokes(dir: string, pieces: readonly CalibrationPiece[], threads: number, signal: AbortSignal): Promise<number | undefined> {
  let session: ModelSession | undefined;
  try {
    session = await ModelSession.open(dir, { threads });
    const predictor = new Predictor(session.model, session.vocab, session.mode);
    const engine = new CompletionEngine({ getPredictor: () => predictor });
    const minConfidence = session.meta.completion?.minConfidence ?? DEFAULT_COMPLETION_SETTINGS.minConfidence;
    return combineKeystrokeFigures(await typePieces(pieces, new EngineCompleter(engine, { ...DEFAULT_COMPLETION_SETTINGS, minConfidence }), signal)).ksr;
  } catch {
    signal.throwIfAborted();
    return undefined;
  } finally {
    await session?.release();
  }
}

/**
 * Phase 7: the model, saved atomically with its vocabulary, companion and training record. A cancel is
 * heard up to the save's commit (the previous model then stays); after it, the run has succeeded.
 */
async function saveModel(
  request: TrainingRequest,
  save: NonNullable<TrainingRequest['save']>,
  plan: RunPlan,
  prepared: Prepared,
  texts: TrainingTexts,
  output: TrainJobOutput,
  companion: CompanionOutput | CompanionHandover | undefined,
  signal: AbortSignal,
): Promise<SavedRunOutput> {
  const s = request.settings;
  const counts = { trainTokens: prepared.train.length, validTokens: prepared.valid.length, ...(prepared.test ? { testTokens: prepared.test.length } : {}) };
  const about = {
    corpus: { source: save.source, ...(texts.scan ? { files: texts.scan.files.length } : {}), ...counts },
    options: { preset: request.preset, ...s, dropout: plan.options.dropout, threads: request.threads },
    params: plan.params,
  };
  await exportTrainedModel(save.dir, { cfg: plan.cfg, vocab: prepared.vocab, tokenizer: s.tokenizer, precision: s.weights }, { ...output, ...(companion ? { ngram: companion } : {}) }, about, { signal });
  const { params: _saved, recounted: _bytes, ...figures } = output;
  return { ...figures, saved: { dir: save.dir, ...(companion ? { companion: companion.figures } : {}) } };
}
