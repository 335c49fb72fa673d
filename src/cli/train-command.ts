// `nextword train`: the training pipeline (runtime/training/pipeline.ts) in a worker thread, on a project or
// corpus folder, with a progress bar and the figures of each phase; then, with --split, the saved model
// measured on the held-out files.

import { existsSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_COMPLETION_SETTINGS } from '../core/completion/completion-engine.js';
import { chosenTrial } from '../core/completion/threshold-calibration.js';
import { DEFAULT_PRESET, epochLabel, PRESETS, type TrainSettings } from '../core/train/presets.js';
import type { TrainEvent, TrainResult } from '../core/train/trainer.js';
import { corpusSource } from '../io/corpus-reader.js';
import { ModelSession } from '../runtime/serving/model-session.js';
import { startTraining, TrainingCancelled } from '../runtime/training/training-job.js';
import type { PlannedRun, ReadReport, TrainingRequest } from '../runtime/training/training-protocol.js';
import { duration, num, round, thousands, UsageError } from './args.js';
import { evaluateMethod, modelMethod, roundedFigures, type Figures } from './evaluate.js';
import { SETTINGS_OPTIONS, settingsFromFlags } from './settings-flags.js';

export const TRAIN_HELP = `Usage: nextword train <folder> [options]

Trains a word-level language model on <folder> and writes it to --out.
<folder> is either a corpus folder holding train.txt and valid.txt (and test.txt, whose
perplexity is reported at the end) or train/, valid/ (and test/) folders of .txt files, used as
given, or any project folder: its files are read
honouring .gitignore, skipping binary, minified, generated, huge and secret files, and a
deterministic share of whole files is held out for validation (at most 250,000 tokens of them,
whole files, are scored after each epoch).

Options (defaults come from --preset; flags override them):
  --preset NAME          ${Object.keys(PRESETS).join(' | ')} (default ${DEFAULT_PRESET})
  --out DIR              where to write the model (default ./nextword-model)
  --tokenizer MODE       text | whitespace (pre-tokenised corpora such as Penn Treebank)
  --cell TYPE            lstm | rnn
  --layers L             1 to 3
  --hidden H             hidden units per layer
  --embed E              embedding width
  --vocab V              maximum vocabulary size (<unk> included)
  --min-count N          rarer words become <unk>
  --tie / --no-tie       share the embedding and decoder weights (needs embed = hidden)
  --dropout P            dropout between layers and before the decoder (small, medium: 0.4 below
                         300,000 training tokens, else 0.2)
  --batch B              parallel streams
  --bptt T               window length of truncated backpropagation through time
  --lr X                 learning rate (of the mean cross-entropy)
  --optimizer NAME       sgd | adam
  --clip C               global gradient-norm bound (0: none)
  --samples K            train on a sampled softmax of K words per step (0: the full softmax); the
                         validation perplexity is always exact
  --full-softmax-epochs N  with --samples: the last N epochs use the full softmax
  --epochs N             passes over the training text, at most
  --patience N           stop once N epochs in a row bring no progress on validation (0: run every epoch)
  --time-budget SECONDS  stop training after this long (0: none)
  --threads K            onnxruntime threads (0: all cores)
  --seed S               random seed (weights, dropout)
  --weights PRECISION    float32 | float16: how the exported model stores its weights
  --split F              project folders: hold out a deterministic share F (0 < F < 1) of whole files
                         before training, and evaluate the model on them at the end as \`nextword eval\`
                         does (perplexity, accuracy, keystroke savings)
  --split-list FILE      with --split: write the held-out files' paths to FILE, one per line
  --ksr-chars N          with --split: type only the first N characters of each held-out file
  --no-ngram             do not train and save the n-gram companion (an interpolated Kneser-Ney model of
                         the same tokens, 6-grams up to 1.5 M tokens, 5-grams up to 4 M, else 4-grams;
                         counted in seconds before the network): the network is then served alone with
                         the document cache, not in a mixture
  --json                 one JSON object per line on stdout (the last has "final": true)
  -h, --help             show this help
`;

export async function trainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...SETTINGS_OPTIONS,
      out: { type: 'string' },
      split: { type: 'string' },
      'split-list': { type: 'string' },
      'ksr-chars': { type: 'string' },
      'no-ngram': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(TRAIN_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('train takes exactly one folder\n\n' + TRAIN_HELP);
  const { name: presetName, settings: s, threads } = settingsFromFlags(values);
  const out = path.resolve(values.out ?? 'nextword-model');
  const json = values.json === true;
  const log = (line: string) => process.stderr.write(line + '\n');

  const split = num(values.split, 'split', { min: 0, max: 1 });
  if (split !== undefined && !(split > 0 && split < 1)) throw new UsageError(`--split must lie strictly between 0 and 1 (got ${values.split})`);
  if (values['split-list'] && split === undefined) throw new UsageError('--split-list needs --split');
  const ksrChars = num(values['ksr-chars'], 'ksr-chars', { int: true, min: 1 });

  const target = positionals[0]!;
  const dir = path.resolve(target);
  if (!existsSync(dir)) throw new UsageError(`${target} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${target} is not a folder (train takes a project folder or a corpus folder with train.txt and valid.txt)`);
  const source = corpusSource(dir);
  if (source.kind === 'corpus' && split !== undefined) throw new UsageError(`${target} is a corpus folder already split into train/valid(/test): --split is for project folders`);

  const request: TrainingRequest = {
    source,
    settings: s,
    preset: presetName,
    threads,
    ...(split !== undefined ? { testFraction: split } : {}),
    // With its n-gram companion, the model is served as their mixture with the document cache, fitted at
    // the end, and its completion threshold chosen by typing validation files with it.
    ...(values['no-ngram'] ? {} : { companion: {} }),
    // Relative when under the working folder, so that a model made in a checkout does not carry its path.
    save: { dir: out, source: displayPath(dir) },
  };
  const bar = new ProgressLine(process.stderr, s);
  let read: ReadReport | undefined;
  let planned: PlannedRun | undefined;
  const job = startTraining(request, {
    onRead: (r) => {
      read = r;
      const heldOut = r.heldOut;
      log(r.report + (heldOut ? `\nheld out for --split: ${heldOut.length} of ${r.scan!.files.length} files` : ''));
      if (values['split-list'] && heldOut) writeFileSync(values['split-list'], heldOut.map((f) => f.relPath).join('\n') + (heldOut.length ? '\n' : ''));
    },
    onPlanned: (p) => {
      planned = p;
      const { cfg, options, params } = p;
      log(
        `model: ${cfg.cell} ${cfg.layers}×${cfg.hidden}, embed ${cfg.embed}, vocab ${thousands(cfg.vocab)}${cfg.tied ? ', tied' : ''}, ` +
          `${thousands(params)} parameters; ${s.optimizer} lr ${s.lr}, clip ${s.clip || 'none'}, dropout ${options.dropout}, batch ${s.batch}, bptt ${s.bptt}`,
      );
      if (json) emit({ event: 'start', preset: presetName, config: cfg, params, ...counts(p), files: read?.scan?.files.length, options: { ...s, dropout: options.dropout } });
    },
    onNgram: ({ figures: f }) => {
      bar.clear();
      log(`n-gram companion: Kneser-Ney ${f.order}-gram, ${thousands(f.ngrams)} n-grams, valid ppl ${f.validPpl.toFixed(2)} (${f.seconds.toFixed(1)} s)`);
      if (json) emit({ event: 'ngram', order: f.order, ngrams: f.ngrams, valid_ppl: round(f.validPpl, 3), seconds: round(f.seconds, 2) });
    },
    onEvent: (e) => {
      bar.update(e);
      if (e.kind !== 'epoch') return;
      bar.clear();
      log(
        `epoch ${String(e.epoch).padStart(3)} | ${duration(e.seconds).padStart(7)} | ${thousands(e.tokensPerS).padStart(7)} tok/s | ` +
          `train ppl ${e.trainPpl.toFixed(2).padStart(8)}${e.sampled ? ' (sampled)' : ''} | valid ppl ${e.validPpl.toFixed(2).padStart(8)} | lr ${round(e.lr, 6)}${e.best ? ' *' : ''}`,
      );
      if (json) emit({ epoch: e.epoch, train_ppl: round(e.trainPpl, 3), ...(e.sampled ? { sampled: true } : {}), valid_ppl: round(e.validPpl, 3), lr: e.lr, seconds: round(e.seconds, 2), tokens_per_s: Math.round(e.tokensPerS) });
    },
  });
  const onSignal = () => {
    bar.clear();
    log('cancelling: stopping after the current step; the previous model (if any) is left as it was');
    job.cancel();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result;
  try {
    result = await job.result;
  } catch (e) {
    bar.clear();
    if (e instanceof TrainingCancelled) {
      log('training cancelled; nothing was written');
      return 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  bar.clear();
  if (!('saved' in result)) throw new Error('the training worker finished without saving the model');
  log(
    `best valid ppl ${result.bestValidPpl.toFixed(2)} (epoch ${result.bestEpoch})` +
      (result.testPpl !== undefined ? `, test ppl ${result.testPpl.toFixed(2)}` : '') +
      `; ${thousands(result.tokensPerS)} tok/s; ${duration(result.seconds)}${STOPPED_BY[result.stoppedBy]}`,
  );
  if (result.mixtureProblem) log(`the mixture could not be fitted (${result.mixtureProblem}): the network is served with the document cache`);
  if (result.mixture) {
    const { ppl, tokens } = result.mixture.fit;
    log(
      `served: the network, the n-gram companion and the document cache mixed, validation ppl ${ppl.model.toFixed(2)} on ${thousands(tokens)} tokens ` +
        `(network ${ppl.network.toFixed(2)}, with the cache ${ppl.networkCache.toFixed(2)}; n-gram ${ppl.ngram.toFixed(2)}, with the cache ${ppl.ngramCache.toFixed(2)})`,
    );
  }
  if (result.saved.companion?.withValidation) log(`the n-gram companion saved counts the validation files too: ${thousands(result.saved.companion.ngrams)} n-grams`);
  if (result.completion) {
    const c = result.completion;
    const at = chosenTrial(c)!; // calibrateThreshold chooses a threshold it typed
    log(
      `completion threshold ${c.minConfidence} (the default, or the lowest step above it at which at least ${(c.targetAcceptRate * 100).toFixed(0)} % of the suggestions are taken, with 84 % confidence, on ` +
        `${thousands(c.chars)} characters of the validation files: ${(at.acceptRate * 100).toFixed(1)} % of ${thousands(at.shown)} taken in ${at.files} files, keystroke savings ${(at.ksr * 100).toFixed(1)} %; ${c.seconds.toFixed(1)} s)`,
    );
  } else if (result.completionProblem) log(`no completion threshold was chosen (${result.completionProblem}): the default ${DEFAULT_COMPLETION_SETTINGS.minConfidence} applies`);
  log(`model written to ${result.saved.dir}`);
  let heldOut: Figures | undefined;
  if (read?.heldOut) {
    const texts = read.heldOut.map((f) => ({ file: path.join(dir, f.relPath), text: f.text }));
    const session = await ModelSession.open(result.saved.dir, { threads, ranks: true });
    try {
      heldOut = (await evaluateMethod(modelMethod('model', session), texts, ksrChars ? { ksrChars } : {})).all;
    } finally {
      await session.release();
    }
    log(
      `held-out files (${texts.length}): ppl ${heldOut.ppl!.toFixed(2)}, top-1 ${(heldOut.top1! * 100).toFixed(1)} %, ` +
        `keystroke savings ${(heldOut.ksr! * 100).toFixed(1)} % (accepted ${(heldOut.accept_rate! * 100).toFixed(1)} % of ${thousands(heldOut.accepted_chars!)} characters' suggestions)`,
    );
  }
  if (json) {
    emit({
      final: true,
      valid_ppl: round(result.bestValidPpl, 3),
      ...(result.testPpl !== undefined ? { test_ppl: round(result.testPpl, 3) } : {}),
      ...(heldOut ? { test_ppl: round(heldOut.ppl!, 3), heldout: { files: read!.heldOut!.length, ...roundedFigures(heldOut) } } : {}),
      tokens_per_s: Math.round(result.tokensPerS),
      seconds: round(result.seconds, 2),
      params: planned!.params,
      epochs: result.epochs,
      best_epoch: result.bestEpoch,
      stopped_by: result.stoppedBy,
      ...(result.mixture ? { mixture: { tokens: result.mixture.fit.tokens, valid_ppl: Object.fromEntries(Object.entries(result.mixture.fit.ppl).map(([k, v]) => [k, round(v, 3)])) } } : {}),
      ...(result.completion ? { completion: { min_confidence: result.completion.minConfidence, chars: result.completion.chars, seconds: round(result.completion.seconds, 2), trials: result.completion.trials } } : {}),
      model: result.saved.dir,
    });
  }
  return 0;
}

/** The token counts of a planned run, as the JSON output names them. */
function counts(p: PlannedRun): { trainTokens: number; validTokens: number; testTokens?: number } {
  return { trainTokens: p.trainTokens, validTokens: p.validTokens, ...(p.testTokens !== undefined ? { testTokens: p.testTokens } : {}) };
}

function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

function emit(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const STOPPED_BY: Record<TrainResult['stoppedBy'], string> = { epochs: '', 'time-budget': ' (time budget)', 'no-improvement': ' (validation stopped improving)' };

/** One self-rewriting progress line on a terminal; occasional plain lines otherwise. */
class ProgressLine {
  private lastPlain = 0;
  private shown = false;
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly s: Pick<TrainSettings, 'epochs' | 'patience'>,
  ) {}

  update(e: TrainEvent): void {
    if (e.kind !== 'step') return;
    const frac = e.step / e.steps;
    const width = 20;
    const filled = Math.round(frac * width);
    const line =
      `${epochLabel(e.epoch, this.s)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% | ` +
      `${thousands(e.tokensPerS)} tok/s | loss ${e.loss.toFixed(3)}${e.sampled ? ' (sampled)' : ''} | ppl ${e.ppl.toFixed(1)} | lr ${round(e.lr, 6)} | ETA ${duration(e.etaS)}`;
    if (this.out.isTTY) {
      this.out.write(`\r${line.slice(0, (this.out.columns || 120) - 1)}\x1b[K`);
      this.shown = true;
    } else if (e.elapsedS - this.lastPlain >= 30) {
      this.lastPlain = e.elapsedS;
      this.out.write(line + '\n');
    }
  }

  clear(): void {
    if (this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }
}
