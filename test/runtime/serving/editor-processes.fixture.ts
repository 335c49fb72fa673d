// Run by test/cli/no-network-syscalls.test.ts under strace: does what the extension does with processes and
// onnxruntime, without VS Code. The model server serves the bundled model (a completion and a scoring
// asked of it), starts a training process that reads a folder, counts its n-gram model and trains and
// saves a network (the n-gram model served meanwhile by the server, loaded from its hand-over file), and
// serves the trained model; then the extension host's fallback opens the bundled model in this process and
// completes and scores with it. Everything stays open until `holdSeconds` have passed since the first
// session (onnxruntime's telemetry, when on, uploads seconds after it starts). Prints one JSON line: the
// process ids that served each model and what each model answered.
//
//   node --import tsx test/runtime/serving/editor-processes.fixture.ts <folder> <out dir> <hold seconds>

import * as path from 'node:path';
import { answerQuery } from '../../../src/core/completion/completion-answer.js';
import { Predictor } from '../../../src/core/predict/predictor.js';
import { PRESETS } from '../../../src/core/train/presets.js';
import { Vocabulary } from '../../../src/core/text/vocabulary.js';
import { ModelSession } from '../../../src/runtime/serving/model-session.js';
import { RemoteServing } from '../../../src/runtime/serving/remote-serving.js';
import { startTraining } from '../../../src/runtime/training/training-job.js';
import type { CompanionHandover, CompanionOutput } from '../../../src/runtime/training/training-protocol.js';
import { ServerProcess } from '../../../src/runtime/serving/server-process.js';

const [folder, outDir, hold] = process.argv.slice(2);
if (!folder || !outDir || !hold) throw new Error('usage: editor-processes.fixture.ts <folder> <out dir> <hold seconds>');
const DEFAULT_MODEL = path.join(__dirname, '..', '..', '..', 'models', 'default');
const QUERY = { character: 18, explicit: true, maxWords: 4, minConfidence: 0.3 };
const TEXT = 'It was a dark and ';
const served = { threads: 1, scoringThreads: 1 };

async function main() {
  const started = performance.now();
  const pids: Record<string, number | undefined> = {};
  const answers: Record<string, string> = {};

  // The bundled model, served as at activation.
  const bundled = await RemoteServing.openSaved(DEFAULT_MODEL, served);
  pids.server = ServerProcess.runningPid();
  pids.bundledServer = bundled.pid;
  answers.bundled = JSON.stringify(await bundled.predictor.answer({ textBefore: TEXT, ...QUERY }));
  await bundled.scorer.scoreSequence(Int32Array.from({ length: 64 }, (_, i) => (i * 7) % 100));

  // Train on Workspace: the training process reads the folder, the n-gram model serves while it trains.
  const s = { ...PRESETS.tiny!, epochs: 1, hidden: 16, embed: 16, vocab: 300, minCount: 1, batch: 2, bptt: 8, validFraction: 0.3 };
  let vocab: Vocabulary | undefined;
  let interim: Promise<void> | undefined;
  const job = startTraining(
    {
      source: { kind: 'folders', folders: [{ root: folder, prefix: '', exclude: [] }], limits: { maxFiles: 1000, maxTotalBytes: 1 << 24 } },
      settings: s,
      preset: 'tiny',
      threads: 1,
      companion: { handoverFile: `${outDir}.ngram-handover.tmp` },
      save: { dir: outDir, source: 'fixture' },
      background: true,
    },
    {
      onPlanned: (planned) => (vocab = Vocabulary.fromJSON(planned.vocab)),
      onNgram: (posted: CompanionOutput | CompanionHandover) => {
        if (!('file' in posted)) throw new Error('the n-gram model came without a hand-over file');
        interim = RemoteServing.openNgram(posted.file, vocab!, 'text').then(async (server) => {
          pids.ngramServer = server.pid;
          answers.ngram = JSON.stringify(await server.predictor.answer({ textBefore: TEXT, ...QUERY }));
          await server.release();
        });
      },
    },
    { isolation: 'process' },
  );
  const result = await job.result;
  await interim;
  if (!('saved' in result)) throw new Error('the training process did not save the model');
  const trained = await RemoteServing.openSaved(result.saved.dir, served);
  pids.trainedServer = trained.pid;
  answers.trained = JSON.stringify(await trained.predictor.answer({ textBefore: TEXT, ...QUERY }));

  // The extension host's fallback: the model opened in this process.
  const local = await ModelSession.open(DEFAULT_MODEL, { ...served, companion: 'server' });
  answers.inHost = JSON.stringify(await answerQuery(new Predictor(local.model, local.vocab, local.mode), { textBefore: TEXT, ...QUERY }));
  await local.scorer.scoreSequence(Int32Array.from({ length: 64 }, (_, i) => (i * 7) % 100));

  const left = Number(hold) * 1000 - (performance.now() - started);
  if (left > 0) await new Promise((r) => setTimeout(r, left));
  await Promise.all([bundled.release(), trained.release(), local.release()]);
  process.stdout.write(JSON.stringify({ pids, answers }) + '\n');
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
