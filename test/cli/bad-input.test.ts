// Bad input, end to end through the command line: a workspace of awkward files trains, every skipped file is
// named with its reason, and the model reads emoji, CJK and mixed line endings back exactly; workspaces with
// nothing (or too little) to learn from are refused with a message that says so, never a stack trace.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import test from 'node:test';
import { parseModelMeta } from '../../src/core/serving/model-format.js';
import { nextword } from './helpers.js';

const TINY = ['--preset', 'tiny', '--epochs', '1', '--hidden', '16', '--vocab', '500', '--min-count', '1', '--batch', '2', '--bptt', '8', '--threads', '1'];

const work = mkdtempSync(path.join(tmpdir(), 'nextword-bad-input-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string | Uint8Array>): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

const PROSE = 'The keeper climbed the stairs of the lighthouse and lit the lamp before the storm came in. ';
const EMOJI_CJK = '# 灯台の記録 🌊\n\n今日は風が強い。The keeper 👩🏽‍🚒 lit the lamp 🔦 at dawn.\n北风很大，渔船都回港了。 مرحبا بالعالم\n';

test('a workspace of awkward files trains; each skip is reported with its reason; emoji, CJK and line endings survive', () => {
  // A 50 MB minified file on one line: judged by its size, never read.
  const huge = Buffer.alloc(50 * 1024 * 1024, 'var a=1;');
  const dir = tree('awkward', {
    'story.md': PROSE.repeat(40),
    'notes/crlf.txt': `${PROSE}\r\n${PROSE}\r${PROSE}\n\r\n${PROSE}\r\n`.repeat(10),
    'notes/long-line.md': PROSE.repeat(25), // a paragraph kept on one line (~2,300 characters): taken
    'notes/very-long-line.md': PROSE.repeat(2000), // ~180 KB on one line: machine-like (≥ 10,000), skipped
    'intl.md': EMOJI_CJK.repeat(20),
    'blank.txt': ' \n\t\r\n   \n',
    'latin1.txt': Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), // "café" in Latin-1: not UTF-8
    'image.dat': Uint8Array.from({ length: 4096 }, (_, i) => (i * 37) % 256),
    'lib/bundle.js': huge,
  });
  const model = path.join(work, 'awkward-model');
  const r = nextword('train', dir, '--out', model, ...TINY);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /took 4 files/, 'the story, the line-ending and paragraph notes and the international file; nothing else');
  for (const reason of [/1 not-utf8/, /1 binary-extension/, /1 empty/, /1 too-large/, /1 minified/]) assert.match(r.stderr, reason, `the report names ${reason}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');

  // The model reads the international file back token for token (eval tokenises and scores it).
  const intl = path.join(dir, 'intl.md');
  const e = nextword('eval', '--model', model, intl, '--json', '--no-ksr');
  assert.equal(e.code, 0, e.stderr);
  const figures = JSON.parse(e.stdout);
  assert.ok(figures.tokens > 100 && Number.isFinite(figures.ppl), JSON.stringify(figures));
  const meta = parseModelMeta(JSON.parse(readFileSync(path.join(model, 'model.json'), 'utf8')), model);
  assert.ok(meta.vocabulary.includes(' 🌊') && meta.vocabulary.includes(' 👩🏽‍🚒'), 'an emoji, even a joined sequence, is one token (with its space)');
  assert.ok(meta.vocabulary.some((w) => /[\u4e00-\u9fff]/.test(w)), 'CJK text is in the vocabulary');
  assert.ok(meta.vocabulary.includes('\r\n') && meta.vocabulary.includes('\r'), 'each line ending is its own token');
  assert.ok(!meta.vocabulary.includes('a=1;'), 'the minified file was never read');
  const p = nextword('predict', '--model', model, '今日は風が強い。The keeper 👩🏽‍🚒 lit the', '--json');
  assert.equal(p.code, 0, p.stderr);
});

test('a workspace with nothing, or too little, to learn from is refused with a message that says why', () => {
  const empty = tree('empty', {});
  const e = nextword('train', empty, '--out', path.join(work, 'm1'), ...TINY);
  assert.equal(e.code, 2, e.stderr);
  assert.match(e.stderr, /no text files to train on/);

  const onlySkipped = tree('only-skipped', { 'a.bin': Uint8Array.from([0, 1, 2, 3, 0, 0, 0]), '.env': 'KEY=1\n', 'b.txt': '   \n' });
  const s = nextword('train', onlySkipped, '--out', path.join(work, 'm2'), ...TINY);
  assert.equal(s.code, 2, s.stderr);
  assert.match(s.stderr, /no text files to train on/);
  assert.match(s.stderr, /secret/);

  const one = tree('one-file', { 'only.md': PROSE });
  const o = nextword('train', one, '--out', path.join(work, 'm3'), ...TINY);
  assert.equal(o.code, 2, o.stderr);
  assert.match(o.stderr, /only 1 usable file/);
  for (const r of [e, s, o]) assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('two short files: a vocabulary smaller than the configured size trains and says so', () => {
  const dir = tree('short', { 'a.md': 'the lamp is lit\n'.repeat(30), 'b.md': 'the lamp is out\n'.repeat(30) });
  const model = path.join(work, 'short-model');
  const r = nextword('train', dir, '--out', model, ...TINY);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /vocab \d{1,2},/, 'the report gives the real vocabulary size');
  const meta = parseModelMeta(JSON.parse(readFileSync(path.join(model, 'model.json'), 'utf8')), model);
  assert.ok(meta.config.vocab < 20, `vocabulary ${meta.config.vocab} (configured 500)`);
  const p = nextword('predict', '--model', model, 'the lamp is', '--json');
  assert.equal(p.code, 0, p.stderr);
});
