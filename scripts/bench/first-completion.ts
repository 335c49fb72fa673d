// The first completion after activation, without an editor: what the extension does when it activates
// (the model server started, the bundled model opened in it) with a completion asked for at that moment,
// which waits for the model as the editor's does. Each round is a fresh Node.js process (its modules
// loaded before the clock starts, as the extension's bundle is by the time it activates) and so a fresh
// server. Prints, per round and as medians: the model ready, and the first completion answered, in ms
// after "activation"; the machine should be idle.
//
//   node --import tsx scripts/bench/first-completion.ts [--model models/default] [--rounds 7] [--json]

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { RemoteServing } from '../../src/runtime/serving/remote-serving.js';

const ROOT = path.join(__dirname, '..', '..');
const TEXT = 'It was a dark and stormy night; the ';

async function once(dir: string): Promise<void> {
  const t0 = performance.now();
  const opened = RemoteServing.openSaved(dir, { threads: 1, scoringThreads: 2 });
  const ready = opened.then(() => performance.now() - t0);
  const answer = await (await opened).predictor.answer({ textBefore: TEXT, character: TEXT.length, explicit: false, maxWords: 4, minConfidence: 0 });
  const answered = performance.now() - t0;
  process.stdout.write(JSON.stringify({ readyMs: await ready, answeredMs: answered, kind: answer.kind }) + '\n');
  await (await opened).release();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, rounds: { type: 'string' }, json: { type: 'boolean' }, once: { type: 'boolean' } } });
  const dir = path.resolve(values.model ?? path.join(ROOT, 'models', 'default'));
  if (values.once) return once(dir);
  const rounds: { readyMs: number; answeredMs: number }[] = [];
  for (let r = 0; r < Number(values.rounds ?? 7); r++) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--once', '--model', dir], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`round ${r + 1} failed: ${run.stderr}`);
    rounds.push(JSON.parse(run.stdout.trim().split('\n').pop()!) as { readyMs: number; answeredMs: number });
  }
  const out = { model: dir, rounds, readyMs: median(rounds.map((r) => r.readyMs)), answeredMs: median(rounds.map((r) => r.answeredMs)) };
  if (values.json) return void console.log(JSON.stringify(out));
  console.log(`model ${dir}; ${rounds.length} fresh processes`);
  console.log(`model ready after ${rounds.map((r) => r.readyMs.toFixed(0)).join(', ')} ms (median ${out.readyMs.toFixed(0)})`);
  console.log(`first completion answered after ${rounds.map((r) => r.answeredMs.toFixed(0)).join(', ')} ms (median ${out.answeredMs.toFixed(0)})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
