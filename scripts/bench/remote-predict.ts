// Completions from the n-gram server (the workspace's n-gram model while its network trains), as the editor
// asks for them: a CompletionEngine typing a held-out text a character at a time, with the default settings.
// Two ways to reach the model, alternating in rounds in one session:
//   calls — a Predictor in this process over the server's model: one message per model call (the context's
//           new tokens, then each word of the phrase);
//   whole — the server's own predictor: one message per request (`answer`).
// `--busy N` runs N busy loops at nice 10 meanwhile (as training does: the machine's cores taken, below the
// editor). Figures per request that reached the model (type-through-cache hits excluded): the predict
// latency's p50/p90/p99/max, and the messages sent to the server per request.
//
//   node --import tsx scripts/bench/remote-predict.ts [--busy 2] [--rounds 3] [--chars 3000]
// Model: the 4-gram companion of corpora/gutenberg/train (text mode, vocabulary 10,000), as a workspace of
// those books would get; typed text: corpora/gutenberg/valid/frankenstein.txt from its middle.

import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { CompletionPredictor } from '../../src/core/completion/completion-engine.js';
import { startTokenId } from '../../src/core/scoring/evaluation.js';
import type { LanguageModel } from '../../src/core/model/language-model.js';
import { trainCompanion } from '../../src/core/ngram/companion.js';
import { EDITOR_CONTEXT_CACHE, Predictor } from '../../src/core/predict/predictor.js';
import { countTextTokens, encodeTexts } from '../../src/core/text/text-encoding.js';
import { Vocabulary } from '../../src/core/text/vocabulary.js';
import { RemoteServing } from '../../src/runtime/serving/remote-serving.js';
import { typeThrough } from './type-through.js';

const ROOT = path.join(__dirname, '..', '..');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { busy: { type: 'string' }, rounds: { type: 'string' }, chars: { type: 'string' } } });
  const busy = Number(values.busy ?? 0);
  const rounds = Number(values.rounds ?? 3);
  const chars = Number(values.chars ?? 3000);

  const trainDir = path.join(ROOT, 'corpora', 'gutenberg', 'train');
  const texts = readdirSync(trainDir).sort().map((f) => readFileSync(path.join(trainDir, f), 'utf8'));
  const vocab = Vocabulary.build(await countTextTokens(texts, { mode: 'text' }), { maxSize: 10_000, minCount: 1 });
  const train = await encodeTexts(texts, vocab, { mode: 'text' });
  const { model, figures } = trainCompanion(train.ids, new Int32Array(0), { vocabSize: vocab.size, startId: startTokenId(vocab, 'text'), trainSizes: train.sizes, validSizes: [] });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nextword-remote-predict-'));
  const file = path.join(dir, 'model.ngram');
  writeFileSync(file, model.toBytes());
  const typed = readFileSync(path.join(ROOT, 'corpora', 'gutenberg', 'valid', 'frankenstein.txt'), 'utf8');
  const start = typed.indexOf('\n', Math.floor(typed.length / 2)) + 1;
  const text = typed.slice(start, start + chars);
  console.log(`model: ${figures.order}-gram, ${figures.ngrams} n-grams, V ${vocab.size}; typing ${text.length} characters; ${busy} busy loop(s) at nice 10`);

  const loops: ChildProcess[] = [];
  for (let i = 0; i < busy; i++) {
    const child = fork('-e', ['for(;;){}'], { execArgv: [], stdio: 'ignore' });
    os.setPriority(child.pid!, 10);
    loops.push(child);
  }
  const results: Record<string, { predict: number[]; messages: number; requests: number }> = { calls: { predict: [], messages: 0, requests: 0 }, whole: { predict: [], messages: 0, requests: 0 } };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const way of round % 2 === 0 ? ['calls', 'whole'] : ['whole', 'calls']) {
        const remote = await RemoteServing.openNgram(file, vocab, 'text');
        try {
          let messages = 0;
          const counted: LanguageModel = {
            vocabSize: remote.model.vocabSize,
            initialState: () => remote.model.initialState(),
            run: (ids, s) => (messages++, remote.model.run(ids, s)),
            advance: (ids, s) => (messages++, remote.model.advance!(ids, s)),
          };
          const whole = remote.predictor;
          const predictor: CompletionPredictor =
            way === 'calls'
              ? new Predictor(counted, vocab, 'text', { cacheSize: EDITOR_CONTEXT_CACHE })
              : { ...whole, answer: (q) => (messages++, whole.answer(q)) };
          const r = await typeThrough(predictor, text);
          const out = results[way]!;
          // The first 100 requests warm up (compilation in both processes).
          out.predict.push(...r.predict.slice(100));
          out.messages += messages;
          out.requests += r.predict.length;
        } finally {
          await remote.release();
        }
      }
    }
  } finally {
    for (const l of loops) l.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [way, r] of Object.entries(results)) {
    const s = r.predict.sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(2);
    console.log(
      `${way}: ${s.length} requests predicted; predict ms p50 ${q(0.5)}, p90 ${q(0.9)}, p99 ${q(0.99)}, max ${s.at(-1)!.toFixed(2)}; ` +
        `${(r.messages / r.requests).toFixed(2)} messages a request`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
