// `nextword predict` and `nextword generate`: the model's next words for a text, and sampled text.

import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_COMPLETION_SETTINGS } from '../core/completion/completion-engine.js';
import { mulberry32 } from '../core/support/random.js';
import { num, UsageError } from './args.js';
import { Predictor } from '../core/predict/predictor.js';
import { ModelSession } from '../runtime/serving/model-session.js';

export const PREDICT_HELP = `Usage: nextword predict --model DIR "text" [--top K] [--json]

Prints the K most likely next words after the text, with their probabilities. When the text ends in
the middle of a word ("the qu"), only words that start with it are listed, with probabilities
renormalised over them; end the text with a space to ask for the next word instead. Also prints the
phrase the editor would suggest (greedy, while the mean word probability stays above --min-prob).

  --top K          how many words (default 10)
  --max-words N    longest suggested phrase (default 4)
  --min-prob P     confidence threshold of the phrase (default: the editor's, the threshold chosen for
                   the model in training, else ${DEFAULT_COMPLETION_SETTINGS.minConfidence})
  --json           { "words": [{ "word", "prob", "logprob" }], "phrase": { "text", "prob" } }
`;

export const GENERATE_HELP = `Usage: nextword generate --model DIR "prompt" [--words N] [--temperature T] [--seed S] [--json]

Continues the prompt by sampling one word at a time from the model's distribution sharpened or
flattened by the temperature (0: always the most likely word).

  --words N        words to generate (default 30)
  --temperature T  default 0.8
  --seed S         random seed (default: time-based)
`;

export async function predictCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      top: { type: 'string' },
      'max-words': { type: 'string' },
      'min-prob': { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(PREDICT_HELP);
    return 0;
  }
  if (!values.model) throw new UsageError('predict needs --model DIR\n\n' + PREDICT_HELP);
  if (positionals.length !== 1) throw new UsageError('predict takes one text argument\n\n' + PREDICT_HELP);
  const k = num(values.top, 'top', { int: true, min: 1 }) ?? 10;
  const maxWords = num(values['max-words'], 'max-words', { int: true, min: 0 }) ?? 4;
  const minProbFlag = num(values['min-prob'], 'min-prob', { min: 0, max: 1 });
  const model = await ModelSession.open(path.resolve(values.model), { threads: num(values.threads, 'threads', { int: true, min: 0 }) ?? 0 });
  const minProb = minProbFlag ?? model.minConfidence;
  const predictor = new Predictor(model.model, model.vocab, model.mode);
  try {
    const text = positionals[0]!;
    const words = await predictor.topK(text, k);
    const phrase = await predictor.continuePhrase(text, { maxWords, minProb, stopAtNewline: true });
    if (values.json) {
      process.stdout.write(
        JSON.stringify({
          words: words.map((w) => ({ word: w.token, insert: w.text, prob: w.prob, logprob: w.logProb })),
          phrase: { text: phrase.text, prob: phrase.meanProb },
        }) + '\n',
      );
    } else {
      // Quoted, so that a token's leading space (it is part of the word: see the README) shows.
      for (const w of words) process.stdout.write(`${(w.prob * 100).toFixed(1).padStart(5)} %  ${JSON.stringify(w.token)}\n`);
      process.stdout.write(phrase.text ? `phrase: ${text}[${phrase.text}]  (mean p ${phrase.meanProb.toFixed(2)})\n` : 'phrase: (none above the threshold)\n');
    }
  } finally {
    await model.release();
  }
  return 0;
}

export async function generateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      words: { type: 'string' },
      temperature: { type: 'string' },
      seed: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(GENERATE_HELP);
    return 0;
  }
  if (!values.model) throw new UsageError('generate needs --model DIR\n\n' + GENERATE_HELP);
  if (positionals.length > 1) throw new UsageError('generate takes one prompt argument\n\n' + GENERATE_HELP);
  const words = num(values.words, 'words', { int: true, min: 1 }) ?? 30;
  const temperature = num(values.temperature, 'temperature', { min: 0 }) ?? 0.8;
  const seed = num(values.seed, 'seed', { int: true }) ?? Date.now() % 2 ** 31;
  const model = await ModelSession.open(path.resolve(values.model), { threads: num(values.threads, 'threads', { int: true, min: 0 }) ?? 0 });
  const predictor = new Predictor(model.model, model.vocab, model.mode);
  try {
    const prompt = positionals[0] ?? '';
    const text = await predictor.sample(prompt, { words, temperature, rand: mulberry32(seed) });
    if (values.json) process.stdout.write(JSON.stringify({ prompt, text, seed, temperature }) + '\n');
    else process.stdout.write(`${prompt}${text}\n`);
  } finally {
    await model.release();
  }
  return 0;
}
