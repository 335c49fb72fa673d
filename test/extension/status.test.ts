// What the status bar item says for each state: the short text, and a label and tooltip that carry the
// exact perplexity (the end-to-end test reads the label).

import test from 'node:test';
import assert from 'node:assert/strict';

import { renderStatus, type FilePerplexity, type ModelSummary } from '../../src/extension/status.js';

const model: ModelSummary = { label: 'the workspace model', name: 'Workspace model', validPpl: 64.1, vocabSize: 10_000, params: 2_700_000 };
/** What the item shows with `nextword.statusBar.perplexity` on. */
const withPpl = { perplexity: true };
const figures: FilePerplexity = { fileName: 'notes/harbour.md', ppl: 87.2345, tokens: 1234, oov: 37, baseline: { kind: 'unigram', ppl: 412.5, source: 'word frequencies' } };
const NOW = 1_000_000;
/** The tooltip's Markdown without its escapes. */
const plainText = (md: string) => md.replace(/\\(.)/g, '$1');

test('the text names the model in words; the exact figures are in the label and the tooltip, "PPL 87" in the text when asked', () => {
  const v = renderStatus({ kind: 'ready', model, file: { kind: 'done', figures } }, NOW);
  assert.equal(v.text, '$(pencil) Workspace model');
  assert.equal(renderStatus({ kind: 'ready', model, file: { kind: 'done', figures } }, NOW, withPpl).text, '$(pencil) Workspace model · PPL 87');
  assert.match(v.tooltip, /Perplexity is how many tokens the model hesitates between/);
  assert.match(v.ariaLabel, /perplexity 87\.23 for notes\/harbour\.md/);
  assert.match(v.ariaLabel, /1,234 tokens/);
  assert.match(v.ariaLabel, /3\.0 % out of vocabulary/); // 37 / 1234
  assert.match(v.ariaLabel, /unigram baseline 412\.50/);
  assert.match(v.ariaLabel, /model validation perplexity 64\.10/);
  for (const cell of ['| Perplexity | **87.23** |', '| Tokens scored | 1,234 |', '| Out of vocabulary | 3.0 % |', "| Model's validation perplexity | 64.10 |", '| Unigram baseline on this file | 412.50 |']) {
    assert.ok(v.tooltip.includes(cell), `tooltip has ${cell}`);
  }
  assert.equal(v.warning, false);
});

test('with the n-gram companion the tooltip compares with the Kneser-Ney baseline, "computing…" until it is scored', () => {
  const ngram = { kind: 'ngram', source: "a 4-gram of the model's training text" } as const;
  const pending = renderStatus({ kind: 'ready', model, file: { kind: 'done', figures: { ...figures, baseline: ngram } } }, NOW);
  assert.ok(pending.tooltip.includes('| Kneser-Ney baseline on this file | computing… |'), pending.tooltip);
  assert.doesNotMatch(pending.ariaLabel, /baseline/);
  const done = renderStatus({ kind: 'ready', model, file: { kind: 'done', figures: { ...figures, baseline: { ...ngram, ppl: 131.25 } } } }, NOW);
  assert.ok(done.tooltip.includes('| Kneser-Ney baseline on this file | 131.25 |'));
  assert.match(plainText(done.tooltip), /counts the n-grams of the same text \(a 4-gram of the model's training text\)/);
  assert.match(done.ariaLabel, /kneser-ney baseline 131\.25/);
  assert.doesNotMatch(done.tooltip, /Unigram/);
});

test('the short perplexity keeps a decimal below 10 and abbreviates thousands above 10,000', () => {
  const text = (ppl: number) => renderStatus({ kind: 'ready', model, file: { kind: 'done', figures: { ...figures, ppl } } }, NOW, withPpl).text;
  assert.equal(text(8.44), '$(pencil) Workspace model · PPL 8.4');
  assert.equal(text(9999.4), '$(pencil) Workspace model · PPL 9999');
  assert.equal(text(56_400), '$(pencil) Workspace model · PPL 56k');
});

test('without a baseline or a recorded validation perplexity the tooltip says so', () => {
  const { baseline: _b, ...bare } = figures;
  const v = renderStatus({ kind: 'ready', model: { label: 'm', name: 'Model: m', vocabSize: 5 }, file: { kind: 'done', figures: bare } }, NOW);
  assert.ok(v.tooltip.includes('| Unigram baseline on this file | not available |'));
  assert.ok(v.tooltip.includes("| Model's validation perplexity | not recorded |"));
  assert.doesNotMatch(v.ariaLabel, /unigram/);
});

test('while the network trains, the interim n-gram model\'s perplexity of the file shows next to the progress', () => {
  const interim: ModelSummary = { label: 'the n-gram model of this workspace', name: 'Workspace n-gram model', vocabSize: 5000, validPpl: 48.5, detail: 'Kneser-Ney 4-gram, 1.2M n-grams', interim: true };
  const progress = { phase: 'training', fraction: 0.25, etaS: 300 } as const;
  const v = renderStatus({ kind: 'training', progress, model: interim, file: { kind: 'done', figures } }, NOW, withPpl);
  assert.equal(v.text, '$(sync~spin) Learning 25% · 5:00 left · PPL 87');
  assert.match(plainText(v.tooltip), /Meanwhile, completions and the file's perplexity come from the n-gram model of this workspace \(Kneser-Ney 4-gram, 1\.2M n-grams, validation perplexity 48\.50\)/);
  assert.match(plainText(v.tooltip), /Perplexity of notes\/harbour\.md under the n-gram model of this workspace: \*\*87\.23\*\*/);
  assert.match(v.ariaLabel, /training, 25% done, 5:00 left\. Perplexity 87\.23 for notes\/harbour\.md/);
  // Another model serving (not interim): the old sentence, and no figure while nothing is scored.
  const plain = renderStatus({ kind: 'training', progress, model, file: { kind: 'none' } }, NOW, withPpl);
  assert.equal(plain.text, '$(sync~spin) Learning 25% · 5:00 left');
  assert.match(plain.tooltip, /Completions keep using the current model until the new one is ready/);
});

test('while a file is re-scored the previous figure of the same file stays; another file shows an ellipsis', () => {
  const same = renderStatus({ kind: 'ready', model, file: { kind: 'computing', fileName: figures.fileName, previous: figures } }, NOW, withPpl);
  assert.equal(same.text, '$(pencil) Workspace model · PPL 87');
  assert.match(same.tooltip, /updating/);
  const other = renderStatus({ kind: 'ready', model, file: { kind: 'computing', fileName: 'b.md', previous: figures } }, NOW, withPpl);
  assert.equal(other.text, '$(pencil) Workspace model · PPL …');
  assert.match(other.ariaLabel, /scoring b\.md/);
});

test('snoozed and disabled states say so in words and explain themselves', () => {
  const snoozed = renderStatus({ kind: 'ready', model, file: { kind: 'done', figures }, quiet: { kind: 'snoozed', until: NOW + 14 * 60_000 + 1 } }, NOW);
  assert.equal(snoozed.text, '$(bell-slash) Nextword snoozed');
  assert.match(snoozed.ariaLabel, /snoozed for 15 more minutes/);
  const restart = renderStatus({ kind: 'ready', model, file: { kind: 'none' }, quiet: { kind: 'snoozed', until: 'restart' } }, NOW);
  assert.match(restart.tooltip, /until VS Code restarts/);
  const off = renderStatus({ kind: 'ready', model, file: { kind: 'none' }, quiet: { kind: 'language-disabled', languageId: 'markdown' } }, NOW);
  assert.equal(off.text, '$(circle-slash) Nextword off for markdown');
  assert.match(off.ariaLabel, /off for markdown/);
  const everywhere = renderStatus({ kind: 'ready', model, file: { kind: 'none' }, quiet: { kind: 'disabled' } }, NOW);
  assert.equal(everywhere.text, '$(circle-slash) Nextword off');
  assert.match(everywhere.ariaLabel, /turned off \(Nextword: Turn Completions On or Off\)/);
});

test('training says it is learning: its phase, share done and time left', () => {
  const v = renderStatus({ kind: 'training', progress: { phase: 'training', fraction: 0.456, etaS: 190, epoch: 2, tokensPerS: 12_345, validPpl: 123.456 } }, NOW);
  assert.equal(v.text, '$(sync~spin) Learning 45% · 3:10 left');
  assert.match(v.ariaLabel, /training, 45% done, 3:10 left/);
  assert.ok(v.tooltip.includes('| Validation perplexity | 123.46 |'));
  assert.ok(v.tooltip.includes('| Speed | 12,345 tokens/s |'));
  const reading = renderStatus({ kind: 'training', progress: { phase: 'reading', files: 1500 } }, NOW);
  assert.equal(reading.text, '$(sync~spin) Reading workspace · 1,500 files');
  const start = renderStatus({ kind: 'training', progress: { phase: 'training', fraction: 0 } }, NOW);
  assert.equal(start.text, '$(sync~spin) Learning 0%');
});

test('no model says why, on the warning background; loading says so', () => {
  const none = renderStatus({ kind: 'no-model', reason: 'the bundled default model is missing' }, NOW);
  assert.equal(none.text, '$(circle-slash) Nextword');
  assert.match(none.ariaLabel, /no model\. the bundled default model is missing/);
  assert.equal(none.warning, true);
  const loading = renderStatus({ kind: 'loading' }, NOW);
  assert.match(loading.ariaLabel, /loading/);
  assert.equal(loading.warning, false);
});

test('file names are escaped in the Markdown tooltip but not in the label', () => {
  const v = renderStatus({ kind: 'ready', model, file: { kind: 'done', figures: { ...figures, fileName: 'a_b*c|d.md' } } }, NOW);
  assert.ok(v.tooltip.includes('a\\_b\\*c\\|d\\.md'));
  assert.match(v.ariaLabel, /for a_b\*c\|d\.md/);
});

test('the tooltip tells what accepted ghost text saved, today and in all, once anything was accepted', () => {
  const status = { kind: 'ready', model, file: { kind: 'none' } } as const;
  assert.ok(!renderStatus(status, 0).tooltip.includes('saved you'), 'nothing without a ledger');
  assert.ok(!renderStatus(status, 0, { savings: { total: { accepts: 0, chars: 0 } } }).tooltip.includes('saved you'), 'nothing before the first accept');
  // Today: 12 accepts of 160 characters → 148 keys saved; in all 1,200 accepts of 15,000 → 13,800.
  const v = renderStatus(status, 0, { savings: { today: { accepts: 12, chars: 160 }, total: { accepts: 1200, chars: 15000 } } });
  assert.match(v.tooltip, /Ghost text saved you \*\*148\*\* keystrokes today \(13,800 in all, 15,000 characters accepted; counted on this machine only\)\./);
  assert.match(renderStatus(status, 0, { savings: { total: { accepts: 2, chars: 9 } } }).tooltip, /saved you none today \(7 in all/);
  assert.equal(v.ariaLabel, renderStatus(status, 0).ariaLabel, 'the label stays as it was');
});
