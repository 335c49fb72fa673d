// "Nextword: Show Model Info": the loaded model's figures (from model.json's `training` record) and this
// session's completion latency, as a plain object (what the command returns, for tests and scripts) and
// as a Markdown page. Pure.

import { parameterCount } from '../core/model/model-config.js';
import type { ModelMeta, TrainingRecord } from '../core/serving/model-format.js';
import { chosenTrial, type ThresholdCalibration } from '../core/completion/threshold-calibration.js';
import type { MixtureFit } from '../core/serving/mixture-model.js';
import type { CompanionFigures } from '../core/ngram/companion.js';
import { compactCount, duration, escapeMarkdown, exactPerplexity, megabytes, millis, thousands } from './format.js';

export interface SessionFigures {
  /** Milliseconds the model took to load. */
  loadMs: number;
  /** Completion latency over the recent requests (ms). */
  latency: { count: number; p50: number; p99: number; max: number };
  /** Requests by outcome since activation: "shown" or the reason nothing was shown. */
  outcomes: Record<string, number>;
  /** Milliseconds from activation to the first completion shown, when there was one. */
  firstCompletionMs?: number;
}

export interface ModelInfo {
  label: string;
  /** The model folder; absent for the interim n-gram model (in memory only). */
  dir?: string;
  architecture: string;
  tokenizer: string;
  vocabularySize: number;
  /** The network's parameters, or the n-gram model's stored n-grams. */
  parameters: number;
  /** The n-gram companion (the status bar's baseline): its figures, or why it is not used. */
  ngram?: CompanionFigures & { problem?: undefined } | { problem: string };
  createdAt: string;
  onnxBytes?: number;
  /** The model's TrainingRecord, flattened for display: the corpus counts inline, the source as a label. */
  training?: Pick<TrainingRecord, 'validPpl' | 'testPpl' | 'epochs' | 'bestEpoch' | 'seconds' | 'tokensPerS'> &
    Omit<TrainingRecord['corpus'], 'source'> & { corpus: string; preset?: string };
  /** What is served when it is not the network alone: the fitted mixture's figures on the validation files. */
  mixture?: MixtureFit;
  /** The completion threshold chosen for the served mixture in training. */
  completion?: ThresholdCalibration;
  session: SessionFigures;
}

/** The interim n-gram model: what it is and how it scored on the workspace's validation files. */
export function interimModelInfo(
  label: string,
  figures: CompanionFigures,
  vocabularySize: number,
  tokenizer: string,
  createdAt: string,
  session: SessionFigures,
): ModelInfo {
  return {
    label,
    createdAt,
    architecture: `Kneser-Ney ${figures.order}-gram (interpolated, modified), serving while the workspace's network trains`,
    tokenizer,
    vocabularySize,
    parameters: figures.ngrams,
    ngram: figures,
    session,
  };
}

export function modelInfo(
  label: string,
  dir: string,
  meta: ModelMeta,
  session: SessionFigures,
  ngram?: { problem?: string },
): ModelInfo {
  const c = meta.config;
  const t = meta.training;
  const preset = t?.options?.preset;
  return {
    label,
    dir,
    architecture: `${c.cell.toUpperCase()}, ${c.layers} ${c.layers === 1 ? 'layer' : 'layers'} × ${c.hidden}, embedding ${c.embed}${c.tied ? ', tied embedding and decoder' : ''}`,
    tokenizer: meta.tokenizer.mode,
    vocabularySize: c.vocab,
    parameters: t?.params ?? parameterCount(c),
    createdAt: meta.createdAt,
    ...(meta.onnx ? { onnxBytes: meta.onnx.bytes } : {}),
    // Served as a mixture only when its companion loaded (ngram.problem says why not).
    ...(meta.mixture?.fit && ngram?.problem === undefined ? { mixture: meta.mixture.fit, ...(meta.completion ? { completion: meta.completion } : {}) } : {}),
    ...(ngram?.problem !== undefined ? { ngram: { problem: ngram.problem } } : t?.ngram ? { ngram: t.ngram } : {}),
    ...(t
      ? {
          training: {
            corpus: t.corpus.source,
            ...(t.corpus.files !== undefined ? { files: t.corpus.files } : {}),
            trainTokens: t.corpus.trainTokens,
            validTokens: t.corpus.validTokens,
            ...(t.corpus.testTokens !== undefined ? { testTokens: t.corpus.testTokens } : {}),
            validPpl: t.validPpl,
            ...(t.testPpl !== undefined ? { testPpl: t.testPpl } : {}),
            epochs: t.epochs,
            bestEpoch: t.bestEpoch,
            seconds: t.seconds,
            tokensPerS: t.tokensPerS,
            ...(typeof preset === 'string' ? { preset } : {}),
          },
        }
      : {}),
    session,
  };
}

export function modelInfoMarkdown(info: ModelInfo): string {
  const network = info.dir !== undefined;
  const rows: [string, string][] = [
    ['Model', escapeMarkdown(info.label)],
    ['Folder', network ? escapeMarkdown(info.dir!) : 'none (in memory while the network trains)'],
    ['Architecture', escapeMarkdown(info.architecture)],
    ['Vocabulary', `${thousands(info.vocabularySize)} tokens (${info.tokenizer} tokenizer)`],
    [network ? 'Parameters' : 'N-grams', `${compactCount(info.parameters)} (${thousands(info.parameters)})`],
  ];
  const g = info.ngram;
  if (g) {
    rows.push([
      network ? 'N-gram baseline' : 'Validation perplexity',
      g.problem !== undefined
        ? `not used: ${escapeMarkdown(g.problem)}`
        : network
          ? g.withValidation
            ? `Kneser-Ney ${g.order}-gram of the same training text and the validation files, ${compactCount(g.ngrams)} n-grams; validation perplexity ${exactPerplexity(g.validPpl)} before it counted them (trained in ${g.seconds.toFixed(1)} s)`
            : `Kneser-Ney ${g.order}-gram of the same training text, ${compactCount(g.ngrams)} n-grams, validation perplexity ${exactPerplexity(g.validPpl)} (trained in ${g.seconds.toFixed(1)} s)`
          : `**${exactPerplexity(g.validPpl)}** (trained in ${g.seconds.toFixed(1)} s)`,
    ]);
  }
  const m = info.mixture;
  if (m) {
    rows.push([
      'Served',
      `the network, its n-gram companion and the document cache mixed, with weights fitted on ${thousands(m.tokens)} validation tokens: ` +
        `validation perplexity **${exactPerplexity(m.ppl.model)}** (the network alone ${exactPerplexity(m.ppl.network)}, with the cache ${exactPerplexity(m.ppl.networkCache)}; ` +
        `the n-gram model alone ${exactPerplexity(m.ppl.ngram)}, with the cache ${exactPerplexity(m.ppl.ngramCache)})`,
    ]);
  }
  const c = info.completion;
  if (c) {
    const at = chosenTrial(c);
    rows.push([
      'Completion threshold',
      `**${c.minConfidence}**, chosen on ${thousands(c.chars)} characters of the validation files: the default, or the lowest step above it at which at least ${(c.targetAcceptRate * 100).toFixed(0)} % of the suggestions are taken (with 84 % confidence)` +
        (at ? ` (${(at.acceptRate * 100).toFixed(1)} % of ${thousands(at.shown)} taken in ${at.files} files, keystroke savings ${(at.ksr * 100).toFixed(1)} %)` : '') +
        '; `nextword.completion.minConfidence`, when set, applies instead',
    ]);
  }
  if (info.onnxBytes !== undefined) rows.push(['ONNX file', megabytes(info.onnxBytes)]);
  rows.push(['Created', escapeMarkdown(info.createdAt)]);

  const t = info.training;
  const trainingRows: [string, string][] = t
    ? [
        ['Corpus', `${escapeMarkdown(t.corpus)}${t.files !== undefined ? `, ${thousands(t.files)} files` : ''}`],
        [
          'Corpus size',
          `${thousands(t.trainTokens)} training tokens, ${thousands(t.validTokens)} validation tokens` +
            (t.testTokens !== undefined ? `, ${thousands(t.testTokens)} test tokens` : ''),
        ],
        ['Validation perplexity', `${m ? 'the network: ' : ''}**${exactPerplexity(t.validPpl)}** (best epoch ${t.bestEpoch} of ${t.epochs})`],
        ...(t.testPpl !== undefined ? ([['Test perplexity', exactPerplexity(t.testPpl)]] as [string, string][]) : []),
        ['Training time', `${duration(t.seconds)} at ${thousands(t.tokensPerS)} tokens/s${t.preset ? `, preset ${escapeMarkdown(t.preset)}` : ''}`],
      ]
    : [['Training record', 'none (model.json has no `training` section)']];

  const s = info.session;
  const outcomes = Object.entries(s.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${escapeMarkdown(k)} ${thousands(n)}`)
    .join(', ');
  const sessionRows: [string, string][] = [
    ['Load time', millis(s.loadMs)],
    [
      'Completion latency',
      s.latency.count > 0
        ? `p50 ${millis(s.latency.p50)}, p99 ${millis(s.latency.p99)}, max ${millis(s.latency.max)} over the last ${thousands(s.latency.count)} requests`
        : 'no requests yet',
    ],
    ['Requests', outcomes || 'none yet'],
  ];
  if (s.firstCompletionMs !== undefined) sessionRows.push(['First completion', `${millis(s.firstCompletionMs)} after activation`]);

  const table = (r: [string, string][]) => `| | |\n|---|---|\n${r.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}`;
  return [
    '# Nextword model',
    table(rows),
    '## Training',
    table(trainingRows),
    '## This session',
    table(sessionRows),
    'Perplexity: how many tokens the model hesitates between, on average, before each token of text it has not seen (lower is better). ' +
      'Requests that show nothing are counted by their reason; the log (**Nextword: Open Log**, level Debug or Trace) names each one.',
  ].join('\n\n') + '\n';
}
