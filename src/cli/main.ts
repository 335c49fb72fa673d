// The `nextword` command line: the headless face of the product. Everything the extension does can be
// run and measured from here.

import { TrainingRefused } from '../core/pipeline/run-plan.js';
import { UsageError } from './args.js';
import { trainCommand } from './train-command.js';

const HELP = `Usage: nextword <command> [options]

Predictive typing that learns from your own text: a word-level LSTM language model trained and run
locally with ONNX Runtime. Nothing leaves the machine.

Commands:
  train <folder>             train a model on a project folder or a corpus (train.txt/valid.txt/test.txt)
  eval --model DIR <paths>   perplexity and next-word accuracy of a model on files or folders
  predict --model DIR "text" the most likely next words after the text
  generate --model DIR "prompt" --words N --temperature T
                             continue a prompt by sampling
  surprisal --model DIR FILE how unexpected each word of a file is, and what the model expected
  bench train|predict|score  training throughput, prediction latency, file scoring speed

Run \`nextword <command> --help\` for a command's options.
`;

type Command = (argv: string[]) => Promise<number>;

async function lazy(name: string): Promise<Command | undefined> {
  switch (name) {
    case 'train':
      return trainCommand;
    case 'eval':
      return (await import('./eval-command.js')).evalCommand;
    case 'predict':
      return (await import('./predict-command.js')).predictCommand;
    case 'generate':
      return (await import('./predict-command.js')).generateCommand;
    case 'surprisal':
      return (await import('./surprisal-command.js')).surprisalCommand;
    case 'bench':
      return (await import('./bench-command.js')).benchCommand;
    default:
      return undefined;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(HELP);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = await lazy(name);
  if (!command) {
    process.stderr.write(`nextword: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (e) {
    // Nothing, or too little, to learn from (TrainingRefused) is the input's fault, as a usage error is.
    if (e instanceof UsageError || e instanceof TrainingRefused || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`nextword ${name}: ${(e as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`nextword ${name}: ${(e as Error).message}\n`);
    if (process.env.NEXTWORD_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  }
}

declare const VERSION: string;

// A reader that stops early (`nextword predict … | head`) closes the pipe: stop quietly, as Unix tools do.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`nextword: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
