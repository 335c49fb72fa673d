// The command line as users and scripts run it: the built bin/nextword.js in a child process.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import test from 'node:test';
import { calibrationPieces } from '../../src/core/completion/threshold-calibration.js';
import { parseModelMeta } from '../../src/core/serving/model-format.js';
import { BIN, FIXTURE, nextword, ROOT } from './helpers.js';


const work = mkdtempSync(path.join(tmpdir(), 'nextword-cli-'));
test.after(() => rmSync(work, { recursive: true, force: true }));
const modelDir = path.join(work, 'model');

const TINY = ['--preset', 'tiny', '--epochs', '2', '--hidden', '16', '--vocab', '200', '--min-count', '1', '--batch', '2', '--bptt', '8', '--threads', '1'];

test('train on a project folder: JSON lines on stdout, a report on stderr, a loadable model', () => {
  const r = nextword('train', FIXTURE, '--out', modelDir, '--json', ...TINY);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines[0].event, 'start');
  const epochs = lines.filter((l) => 'epoch' in l);
  assert.equal(epochs.length, 2);
  const final = lines.at(-1);
  assert.equal(final.final, true);
  for (const k of ['valid_ppl', 'tokens_per_s', 'seconds', 'params']) assert.equal(typeof final[k], 'number', k);
  assert.equal(final.test_ppl, undefined); // a project folder has no test split
  assert.ok(final.valid_ppl > 1 && final.valid_ppl < 200, `valid ppl ${final.valid_ppl}`);
  // What was read and skipped is reported, by reason: the .env secret and the git-ignored file.
  assert.match(r.stderr, /secret/);
  assert.match(r.stderr, /ignored/);
  const meta = parseModelMeta(JSON.parse(readFileSync(path.join(modelDir, 'model.json'), 'utf8')), modelDir);
  assert.ok(!meta.vocabulary.some((w) => w.includes('zorblax')), 'ignored and secret files must not be read');
  assert.equal(meta.training?.validPpl !== undefined, true);
  assert.ok(readdirSync(modelDir).some((f) => /^model-[0-9a-f]+\.onnx$/.test(f)));
  // The n-gram companion: trained first (its line before the first epoch's), saved with the model.
  const ngramAt = lines.findIndex((l) => l.event === 'ngram');
  assert.ok(ngramAt > 0 && ngramAt < lines.findIndex((l) => 'epoch' in l), 'the companion is reported before the first epoch');
  assert.equal(lines[ngramAt].order, 6, 'a small project: 6-grams');
  assert.ok(lines[ngramAt].valid_ppl > 1 && lines[ngramAt].ngrams > 0);
  assert.equal(meta.training?.ngram?.order, 6);
  assert.ok(readdirSync(modelDir).some((f) => /^ngram-[0-9a-f]{16}\.bin$/.test(f)));
});

test('train --split holds out whole files, lists them, and reports their figures as eval would', () => {
  const list = path.join(work, 'held-out.txt');
  const r = nextword('train', FIXTURE, '--out', path.join(work, 'split-model'), '--json', ...TINY, '--epochs', '1', '--split', '0.3', '--split-list', list);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const start = lines[0];
  const final = lines.at(-1);
  const listed = readFileSync(list, 'utf8').trim().split('\n');
  assert.equal(final.heldout.files, 1); // round(0.3 · 4 files)
  assert.equal(listed.length, 1);
  assert.ok(['.gitignore', 'docs/guide.md', 'main.ts', 'notes.md'].includes(listed[0]!), listed[0]);
  for (const k of ['ppl', 'top1', 'top3', 'tokens', 'ksr', 'accept_rate', 'accepted_chars', 'latency_p50_ms', 'latency_p99_ms']) {
    assert.equal(typeof final.heldout[k], 'number', k);
  }
  assert.equal(final.test_ppl, final.heldout.ppl);
  // The held-out file's tokens are in neither training nor validation: with it, they make up the whole folder.
  const whole = nextword('train', FIXTURE, '--out', path.join(work, 'nosplit-model'), '--json', ...TINY, '--epochs', '1', '--no-ngram');
  const all = JSON.parse(whole.stdout.trim().split('\n')[0]!);
  assert.ok(!whole.stdout.includes('"ngram"'), '--no-ngram trains no companion');
  assert.ok(!readdirSync(path.join(work, 'nosplit-model')).some((f) => f.startsWith('ngram-')), '--no-ngram saves none');
  assert.equal(start.trainTokens + start.validTokens + final.heldout.tokens, all.trainTokens + all.validTokens);
  // The same files are held out on every run.
  const again = nextword('train', FIXTURE, '--out', path.join(work, 'split-model-2'), '--json', ...TINY, '--epochs', '1', '--split', '0.3', '--split-list', list + '2');
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readFileSync(list + '2', 'utf8'), readFileSync(list, 'utf8'));
  assert.equal(nextword('train', FIXTURE, '--split', '1').code, 2);
});

test('a corpus folder with train/valid/test is used as given and reports test perplexity', () => {
  const corpus = path.join(work, 'corpus');
  cpSync(path.join(ROOT, 'samples', 'alice'), corpus, { recursive: true });
  // A validation text of about a tenth of the whole, as a workspace's.
  writeFileSync(path.join(corpus, 'train.txt'), readFileSync(path.join(corpus, 'train.txt'), 'utf8').slice(0, 80000));
  const r = nextword('train', corpus, '--out', path.join(work, 'corpus-model'), '--json', ...TINY, '--epochs', '1');
  assert.equal(r.code, 0, r.stderr);
  const final = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(typeof final.test_ppl, 'number');
});

test('the model is served as the mixture fitted at the end of training, better on unseen text than its parts; the companion saved counted the validation text', () => {
  const corpus = path.join(work, 'corpus'); // the previous test's
  const dir = path.join(work, 'corpus-model');
  const meta = parseModelMeta(JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')), dir);
  assert.ok(meta.mixture?.fit, 'model.json records the mixture and its fit');
  const { ppl, tokens } = meta.mixture.fit;
  const evalOf = (file: string, ...flags: string[]) => {
    const r = nextword('eval', '--model', dir, path.join(corpus, file), '--no-ksr', '--json', ...flags);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { ppl: number; tokens: number; top1: number; top3: number };
  };
  // The network's part of the fit, end to end: eval of the network alone on the validation text gives it.
  const network = evalOf('valid.txt', '--no-cache');
  assert.equal(network.tokens, tokens, 'the fit read the whole validation text');
  assert.ok(Math.abs(network.ppl - ppl.network) / ppl.network < 1e-4, `the network alone: eval ${network.ppl} vs the fit's ${ppl.network}`);
  // On the validation text the fit's mixture beat each of its parts.
  assert.ok(ppl.model < Math.min(ppl.network, ppl.ngram, ppl.networkCache, ppl.ngramCache), JSON.stringify(ppl));
  // On the test text, seen by none of them, the served mixture beats the network and the companion.
  const served = evalOf('test.txt');
  const companion = evalOf('test.txt', '--companion');
  const alone = evalOf('test.txt', '--no-cache');
  assert.ok(served.ppl < Math.min(alone.ppl, companion.ppl), `mixture ${served.ppl}, network ${alone.ppl}, companion ${companion.ppl}`);
  assert.ok(served.top1 > 0 && served.top1 <= served.top3, 'eval ranks the mixture\'s distributions');
  // The companion saved was counted again with the validation text: it knows it better than the fit's did.
  assert.equal(meta.training?.ngram?.withValidation, true);
  assert.ok(evalOf('valid.txt', '--companion', '--no-cache').ppl < ppl.ngram, 'the saved companion has read the validation text');
});

test('the served mixture\'s completion threshold is chosen by typing the validation text, and eval types with it', () => {
  const corpus = path.join(work, 'corpus'); // as above
  const dir = path.join(work, 'corpus-model');
  const meta = parseModelMeta(JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')), dir);
  const c = meta.completion;
  assert.ok(c, 'model.json records the threshold chosen');
  // The walk started at the default and chose a threshold it typed, the lowest of those whose bound held.
  assert.equal(c.trials[0]!.minConfidence, 0.4);
  const held = c.trials.filter((t) => t.acceptLower >= c.targetAcceptRate).map((t) => t.minConfidence);
  assert.ok(c.trials.some((t) => t.minConfidence === c.minConfidence));
  if (held.length > 0) assert.equal(c.minConfidence, Math.min(...held));
  // What was typed: pieces of the validation text (calibrationPieces), each in a document of its own.
  const typedPieces = calibrationPieces([readFileSync(path.join(corpus, 'valid.txt'), 'utf8')]);
  assert.ok(typedPieces.length >= 3 && typedPieces.length <= 12, `${typedPieces.length} pieces`);
  assert.equal(typedPieces.reduce((n, p) => n + p.text.length - p.from, 0), c.chars);
  assert.ok(c.trials.every((t) => t.files <= typedPieces.length));
  // eval types with the model's own threshold unless given one. (The figures differ from the trials': the
  // companion saved has read the validation text since.)
  const typed = (...flags: string[]) => {
    const r = nextword('eval', '--model', dir, path.join(corpus, 'test.txt'), '--ksr-chars', '3000', '--json', ...flags);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { ksr: number; accept_rate: number };
    return [out.ksr, out.accept_rate];
  };
  assert.deepEqual(typed(), typed('--min-confidence', String(c.minConfidence)));
  const other = c.minConfidence === 0.8 ? 0.25 : 0.8;
  assert.notDeepEqual(typed(), typed('--min-confidence', String(other)), 'a different threshold types differently');
});

test('eval --json gives overall and per-file figures, consistent with each other', () => {
  const r = nextword('eval', '--model', modelDir, FIXTURE, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const k of ['ppl', 'top1', 'top3', 'tokens']) assert.equal(typeof out[k], 'number', k);
  // Not .env (a secret), not ignored.txt (git-ignored).
  assert.deepEqual(out.files.map((f: { file: string }) => path.relative(FIXTURE, f.file)).sort(), ['.gitignore', 'docs/guide.md', 'main.ts', 'notes.md']);
  assert.equal(out.tokens, out.files.reduce((s: number, f: { tokens: number }) => s + f.tokens, 0));
  const nll = out.files.reduce((s: number, f: { tokens: number; ppl: number }) => s + f.tokens * Math.log(f.ppl), 0);
  assert.ok(Math.abs(Math.exp(nll / out.tokens) - out.ppl) / out.ppl < 1e-3);
  assert.ok(out.top1 <= out.top3 && out.top3 <= 1);
  // The typing simulation: keys pressed never exceed the characters, and KSR is exactly what they give.
  for (const k of ['ksr', 'accept_rate', 'accepted_chars', 'latency_p50_ms', 'latency_p99_ms']) assert.equal(typeof out[k], 'number', k);
  assert.equal(out.chars, out.files.reduce((s: number, f: { chars: number }) => s + f.chars, 0));
  assert.ok(out.keys <= out.chars && out.accepted_chars <= out.chars);
  assert.equal(out.ksr, Math.round((1 - out.keys / out.chars) * 1e4) / 1e4);
  assert.ok(out.latency_p50_ms <= out.latency_p99_ms);
});

test('eval --compare: the served model, the network, the companion, the n-gram and the word-frequency baselines on the same files', () => {
  const r = nextword('eval', '--model', modelDir, path.join(FIXTURE, 'docs', 'guide.md'), '--compare', '--train', FIXTURE, '--order', '3', '--ksr-chars', '100', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out).sort(), ['companion', 'model', 'network', 'ngram', 'wordfreq']);
  for (const m of ['model', 'network', 'companion', 'ngram', 'wordfreq']) {
    for (const k of ['ppl', 'top1', 'top3', 'tokens', 'ksr', 'accept_rate', 'accepted_chars', 'latency_p50_ms', 'latency_p99_ms']) {
      assert.equal(typeof out[m][k], 'number', `${m}.${k}`);
    }
    assert.equal(out[m].chars, 100, `${m} typed the first 100 characters`);
  }
  for (const m of ['network', 'companion', 'ngram', 'wordfreq']) assert.equal(out[m].tokens, out.model.tokens, `${m}: the same tokens`);
  // The served model is the fitted mixture: not the network's figure, nor the companion's.
  assert.notEqual(out.model.ppl, out.network.ppl);
  assert.notEqual(out.model.ppl, out.companion.ppl);
  // The n-gram model learnt the very file it is scored on (it is in --train): far below the unigram.
  assert.ok(out.ngram.ppl < out.wordfreq.ppl, `ngram ${out.ngram.ppl} vs unigram ${out.wordfreq.ppl}`);
  // The companion saved with the model, as the extension serves it while a network trains.
  const companion = nextword('eval', '--model', modelDir, path.join(FIXTURE, 'docs', 'guide.md'), '--companion', '--no-cache', '--no-ksr', '--json');
  assert.equal(companion.code, 0, companion.stderr);
  const c = JSON.parse(companion.stdout);
  assert.equal(c.tokens, out.model.tokens);
  assert.ok(c.ppl > 1 && c.ppl !== out.model.ppl, `the companion's own figure (${c.ppl})`);
  const cached = JSON.parse(nextword('eval', '--model', modelDir, path.join(FIXTURE, 'docs', 'guide.md'), '--companion', '--no-ksr', '--json').stdout);
  assert.notEqual(cached.ppl, c.ppl, 'with the document cache the figure differs');
  assert.ok(Math.abs(cached.ppl - out.companion.ppl) < 1e-9, 'eval --companion is --compare\'s "companion"');
  const none = nextword('eval', '--model', path.join(work, 'nosplit-model'), FIXTURE, '--companion');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /has no n-gram companion/);
  const bad = nextword('eval', '--model', modelDir, FIXTURE, '--compare');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--train/);
});

test('eval --decoder float32 scores within 1 % of the default int8 decoder; bench score prints its figures', () => {
  const q = JSON.parse(nextword('eval', '--model', modelDir, FIXTURE, '--no-ksr', '--json').stdout);
  const f = JSON.parse(nextword('eval', '--model', modelDir, FIXTURE, '--no-ksr', '--json', '--decoder', 'float32').stdout);
  assert.equal(q.tokens, f.tokens);
  assert.ok(Math.abs(q.ppl - f.ppl) / f.ppl < 0.01, `int8 ${q.ppl} vs float32 ${f.ppl}`);
  const bad = nextword('eval', '--model', modelDir, FIXTURE, '--decoder', 'int4');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--decoder must be one of int8, float32/);
  const bench = nextword('bench', 'score', '--model', modelDir, FIXTURE, '--repeats', '1', '--json');
  assert.equal(bench.code, 0, bench.stderr);
  const b = JSON.parse(bench.stdout);
  assert.equal(b.tokens, q.tokens);
  assert.ok(b.tokens_per_s > 0 && b.decoder === 'int8' && b.cache === true);
});

test('predict lists next words by probability and honours a partial word', () => {
  const r = nextword('predict', '--model', modelDir, 'The quick brown fox jumps over the la', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.words.length > 0);
  for (const w of out.words) assert.ok(w.word.startsWith(' la'), `"${w.word}" should start with " la"`);
  const probs = out.words.map((w: { prob: number }) => w.prob);
  assert.deepEqual([...probs].sort((a, b) => b - a), probs);
});

test('generate continues a prompt, reproducibly with a seed', () => {
  const a = nextword('generate', '--model', modelDir, 'The quick', '--words', '8', '--seed', '3', '--json');
  const b = nextword('generate', '--model', modelDir, 'The quick', '--words', '8', '--seed', '3', '--json');
  assert.equal(a.code, 0, a.stderr);
  assert.equal(JSON.parse(a.stdout).text, JSON.parse(b.stdout).text);
  assert.ok(JSON.parse(a.stdout).text.length > 0);
});

test('surprisal: every token with its bits, rank and alternatives; their mean is eval\'s perplexity', () => {
  const file = path.join(FIXTURE, readdirSync(FIXTURE).filter((f) => f.endsWith('.md'))[0]!);
  const r = nextword('surprisal', '--model', modelDir, file, '--top', '4', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { medianBits: number; tokens: { token: string; bits: number; rank: number; oov: boolean; flagged: boolean; alternatives: { word: string; p: number }[] }[] };
  // --json lists every token, white space included: they make up the file.
  assert.equal(out.tokens.map((t) => t.token).join(''), readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  for (const t of out.tokens) {
    assert.ok(t.bits >= 0 && Number.isInteger(t.rank) && t.rank >= 0, JSON.stringify(t));
    assert.equal(t.alternatives.length, 4);
    const ps = t.alternatives.map((a) => a.p);
    assert.deepEqual([...ps].sort((a, b) => b - a), ps, 'alternatives most likely first');
    // The first guess is the token itself (or <unk> for an unknown word), with the token's probability.
    if (t.rank === 0) {
      assert.equal(t.alternatives[0]!.word, t.oov ? '<unk>' : t.token);
      assert.ok(Math.abs(t.alternatives[0]!.p - 2 ** -t.bits) < 1e-3, `${t.alternatives[0]!.p} vs 2^-${t.bits}`);
    }
  }
  const meanBits = out.tokens.reduce((s, t) => s + t.bits, 0) / out.tokens.length;
  const ev = JSON.parse(nextword('eval', '--model', modelDir, file, '--no-ksr', '--json').stdout);
  assert.ok(Math.abs(2 ** meanBits - ev.ppl) / ev.ppl < 0.01, `2^mean bits ${2 ** meanBits} vs eval ${ev.ppl}`);
  // The text listing: one line per token that is not white space, and a summary.
  const text = nextword('surprisal', '--model', modelDir, file);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /surprising of \d+ tokens; the median word: [\d.]+ bits\n$/);
  assert.equal(text.stdout.trim().split('\n').length - 1, out.tokens.filter((t) => t.token.trim() !== '').length);
  // Not a text file: a clear refusal, exit 2.
  const binary = path.join(work, 'blob.bin');
  writeFileSync(binary, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0xff]));
  assert.match(nextword('surprisal', '--model', modelDir, binary).stderr, /is binary/);
  const latin1 = path.join(work, 'latin1.txt');
  writeFileSync(latin1, Buffer.from('caf\xe9 au lait', 'latin1'));
  const bad = nextword('surprisal', '--model', modelDir, latin1);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /is not UTF-8 text/);
  assert.match(nextword('surprisal', '--model', modelDir, path.join(work, 'nope.md')).stderr, /does not exist/);
});

test('bench errors plants each kind of error and reports what each model finds', () => {
  const r = nextword('bench', 'errors', '--model', modelDir, FIXTURE, '--every', '20', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { results: { kind: string; method: string; errors: number; words: number; foundErrors: number[]; ruleFlagged: number }[] };
  assert.deepEqual([...new Set(out.results.map((x) => x.kind))], ['none', 'typo', 'swap', 'real-word']);
  assert.deepEqual([...new Set(out.results.map((x) => x.method))], ['model', 'companion', 'unigram']);
  for (const x of out.results) {
    assert.equal(x.errors > 0, x.kind !== 'none', `${x.kind}: ${x.errors} errors`);
    // More words checked never finds fewer errors; never more errors than planted.
    assert.ok(x.foundErrors[0]! <= x.foundErrors[1]! && x.foundErrors[1]! <= x.errors, JSON.stringify(x));
    assert.ok(x.ruleFlagged <= x.words);
  }
});

test('every command has --help; bad usage exits 2 with a clear message', () => {
  for (const cmd of ['train', 'eval', 'predict', 'generate', 'surprisal', 'bench']) {
    const r = nextword(cmd, '--help');
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, /Usage: nextword/, cmd);
  }
  const bad = nextword('train', FIXTURE, '--layers', '5');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--layers must be at most 3/);
  assert.equal(nextword('frobnicate').code, 2);
  assert.match(nextword('train', path.join(work, 'nope')).stderr, /does not exist/);
});

test('a model of another format version, or a damaged one, is refused with a clear message', () => {
  const other = path.join(work, 'other-version');
  cpSync(modelDir, other, { recursive: true });
  const metaPath = path.join(other, 'model.json');
  const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
  writeFileSync(metaPath, JSON.stringify({ ...meta, formatVersion: 99 }));
  const r = nextword('predict', '--model', other, 'The quick');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /model format version 99 is not supported/);

  const damaged = path.join(work, 'damaged');
  cpSync(modelDir, damaged, { recursive: true });
  const onnx = readdirSync(damaged).find((f) => f.endsWith('.onnx'))!;
  const bytes = readFileSync(path.join(damaged, onnx));
  writeFileSync(path.join(damaged, onnx), bytes.subarray(0, bytes.length >> 1));
  const d = nextword('eval', '--model', damaged, FIXTURE);
  assert.equal(d.code, 1);
  assert.match(d.stderr, /corrupt|incomplete/);
});

test('Ctrl-C during training stops it, writes nothing, and leaves the previous model as it was', async () => {
  const out = path.join(work, 'interrupted');
  cpSync(modelDir, out, { recursive: true });
  const before = readFileSync(path.join(out, 'model.json'), 'utf8');
  const child = spawn(process.execPath, [BIN, 'train', FIXTURE, '--out', out, '--json', ...TINY, '--epochs', '100000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('"epoch":1,')) resolve(); // training is under way
    });
  });
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /training cancelled; nothing was written/);
  assert.equal(readFileSync(path.join(out, 'model.json'), 'utf8'), before);
  const r = nextword('predict', '--model', out, 'The quick brown', '--json');
  assert.equal(r.code, 0, r.stderr);
});
