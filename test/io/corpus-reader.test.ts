import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import test from 'node:test';
import { splitProject, TrainingRefused } from '../../src/core/pipeline/run-plan.js';
import { corpusSource, readTrainingTexts } from '../../src/io/corpus-reader.js';

function tree(t: { after: (fn: () => void) => void }, files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'nextword-corpus-reader-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

test('a corpus folder given split is read whole, as train/valid(/test) files or folders of .txt files in name order', async (t) => {
  const files = tree(t, { 'train.txt': 'the train text\n', 'valid.txt': 'the valid text\n', 'test.txt': 'the test text\n' });
  assert.deepEqual(corpusSource(files), { kind: 'corpus', dir: files });
  const texts = await readTrainingTexts(corpusSource(files), { validFraction: 0.1 });
  assert.deepEqual({ kind: texts.kind, train: texts.train, valid: texts.valid, test: texts.test }, { kind: 'corpus', train: ['the train text\n'], valid: ['the valid text\n'], test: ['the test text\n'] });
  assert.match(texts.report, /^corpus .*: train 0\.0 M characters, valid 0\.0 M characters, test 0\.0 M characters$/);
  const folders = tree(t, { 'train/b.txt': 'b\n', 'train/a.txt': 'a\n', 'train/notes.md': 'not text of the corpus', 'valid/v.txt': 'v\n' });
  const byFolder = await readTrainingTexts(corpusSource(folders), { validFraction: 0.1 });
  assert.deepEqual([byFolder.train, byFolder.valid, byFolder.test], [['a\n', 'b\n'], ['v\n'], undefined]);
  await assert.rejects(readTrainingTexts(corpusSource(files), { validFraction: 0.1, testFraction: 0.2 }), TrainingRefused);
});

test('a project folder is walked and split by whole file as the pipeline splits files, its held-out share handed back', async (t) => {
  const files: Record<string, string> = { '.gitignore': 'drafts/\n', 'drafts/old.md': 'not for training\n' };
  for (let i = 0; i < 12; i++) files[`docs/p${i}.md`] = `paragraph ${i} of the project\n`;
  const root = tree(t, files);
  const source = corpusSource(root);
  assert.equal(source.kind, 'folders');
  const texts = await readTrainingTexts(source, { validFraction: 0.25, testFraction: 0.2 });
  const walked = ['.gitignore', ...Array.from({ length: 12 }, (_, i) => `docs/p${i}.md`)].sort().map((relPath) => ({ relPath }));
  const expected = splitProject(walked, { validFraction: 0.25, testFraction: 0.2, where: '', report: '' });
  assert.equal(texts.kind, 'project');
  assert.deepEqual(texts.heldOut?.map((f) => f.relPath), expected.heldOut.map((f) => f.relPath));
  assert.equal(texts.train.length, expected.train.length);
  assert.equal(texts.valid.length, expected.valid.length);
  assert.equal(texts.scan?.files.length, 13, 'every file taken, held out ones included');
  assert.equal(texts.scan?.skipped.get('ignored')?.count, 1);
  assert.match(texts.report, /^took 13 files .*; skipped: 1 ignored$/);
  const one = tree(t, { 'only.md': 'one file\n' });
  await assert.rejects(readTrainingTexts(corpusSource(one), { validFraction: 0.1 }), (e: Error) => e instanceof TrainingRefused && /only 1 usable file in .*: at least 2 are needed/.test(e.message));
});
