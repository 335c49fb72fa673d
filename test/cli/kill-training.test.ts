// Killing `nextword train` (SIGKILL: no handler runs) at random moments, from start-up through reading,
// the n-gram companion, training and saving: the model folder it writes to must always hold a complete
// model that loads and predicts exactly as the previous one did, or as the new one if the run got past its
// commit; no half-written file is ever picked up. KILL_TRIALS=N in the environment sets the number of
// trials (default 16); the delays are drawn from a fixed seed over the run's measured length, half of
// them in its last third, where the model is exported and saved.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import test from 'node:test';
import { mulberry32 } from '../../src/core/support/random.js';
import { BIN, FIXTURE, nextword } from './helpers.js';

const TRIALS = Number(process.env.KILL_TRIALS ?? 16);
const TINY = ['--preset', 'tiny', '--epochs', '3', '--hidden', '16', '--vocab', '200', '--min-count', '1', '--batch', '2', '--bptt', '8', '--threads', '1'];

const work = mkdtempSync(path.join(tmpdir(), 'nextword-kill-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

/** What a model predicts (JSON), the fingerprint two runs are compared by; throws when it does not load. */
function predictions(dir: string): string {
  const r = nextword('predict', '--model', dir, 'The quick brown', '--json');
  if (r.code !== 0) throw new Error(`the model in ${dir} does not load: ${r.stderr}`);
  return r.stdout;
}

test(`SIGKILL at ${TRIALS} random moments of a training run never leaves a broken or half-written model`, async () => {
  // Two distinct complete models: the previous one (A) and what a finished run writes (B, same seed and data).
  const a = path.join(work, 'a');
  assert.equal(nextword('train', FIXTURE, '--out', a, ...TINY, '--epochs', '1').code, 0);
  const t0 = performance.now();
  const b = path.join(work, 'b');
  assert.equal(nextword('train', FIXTURE, '--out', b, ...TINY).code, 0);
  const runMs = performance.now() - t0;
  const before = predictions(a);
  const finished = predictions(b);
  assert.notEqual(before, finished, 'the two models predict differently, so the outcome is visible');

  const rand = mulberry32(7);
  const outcomes = { previous: 0, new: 0 };
  for (let trial = 0; trial < TRIALS; trial++) {
    const out = path.join(work, `trial-${trial}`);
    cpSync(a, out, { recursive: true });
    // Half the trials anywhere in the run, half in its last third (the epochs' end, exporting, saving).
    const delay = Math.round(runMs * (trial % 2 === 0 ? rand() * 1.1 : 0.7 + rand() * 0.4));
    const child = spawn(process.execPath, [BIN, 'train', FIXTURE, '--out', out, ...TINY], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    await new Promise((resolve) => child.on('exit', resolve));
    clearTimeout(timer);

    const now = predictions(out); // loads: model.json names complete, verified files
    if (now === before) outcomes.previous++;
    else {
      assert.equal(now, finished, `trial ${trial} (killed after ${delay} ms): neither the previous model nor the finished one`);
      outcomes.new++;
    }
    // Leftovers may be temp files of the killed writer; readers ignore them and the next save removes them.
    assert.equal(nextword('train', FIXTURE, '--out', out, ...TINY, '--epochs', '1').code, 0, `trial ${trial}: training again over it`);
    const names = readdirSync(out);
    assert.deepEqual(names.filter((n) => n.endsWith('.tmp')), [], `trial ${trial}: the next save cleaned up`);
    assert.equal(names.filter((n) => n.endsWith('.onnx')).length, 1, `trial ${trial}: one ONNX file`);
    assert.ok(JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8')).training, `trial ${trial}: a complete model.json`);
  }
  console.log(`kill trials: ${TRIALS} (a run takes ~${Math.round(runMs)} ms): ${outcomes.previous} left the previous model, ${outcomes.new} the finished one, 0 broken`);
  assert.equal(outcomes.previous + outcomes.new, TRIALS);
});
