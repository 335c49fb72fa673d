// The model the extension starts with: the bundled default (models/default), scored and used for
// completions before any training, and loaded again if its model server dies; without it, a "no model"
// state that says why.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import {
  acceptInlineCompletion, appendParagraph, expectPerplexityAsEval, hasDefaultModel, openAtEnd, repoRoot,
  settledModel, stats, waitFor, WORD_PROMPT, WORKSPACE_WORD,
} from '../helpers.js';

describe('a first run', function () {
  this.timeout(60_000);

  it('suggests Train on Workspace once, in a trusted workspace with enough text and no model of its own', async () => {
    const state = await waitFor('the training suggestion to be decided', async () => {
      const s = ((await stats()) as unknown as { trainingSuggestion: { kind: string; why?: string } }).trainingSuggestion;
      return s.kind === 'waiting' ? undefined : s;
    }, 30_000);
    assert.deepEqual(state, { kind: 'shown' }, 'the fixture workspace is trusted, has enough text and no model yet');
  });

  it('opens its walkthrough, Get Started with Nextword', async () => {
    await vscode.commands.executeCommand('nextword.openWalkthrough');
    const tab = await waitFor('the walkthrough to open', async () => {
      const active = vscode.window.tabGroups.activeTabGroup.activeTab;
      return active && /Welcome|Walkthrough|Get Started/i.test(active.label) ? active : undefined;
    });
    await vscode.window.tabGroups.close(tab);
  });
});

describe('the model at startup', () => {
  if (hasDefaultModel()) {
    it('is the bundled default model', async () => {
      const model = await settledModel();
      assert.equal(model.state, 'ready', JSON.stringify(model));
      assert.equal(model.origin, 'default');
      assert.equal(model.dir, path.join(repoRoot(), 'models', 'default'));
    });

    it('scores the active file as nextword eval does', async () => {
      await openAtEnd('notes/harbour.md');
      await expectPerplexityAsEval('notes/harbour.md', path.join(repoRoot(), 'models', 'default'));
    });

    it('completes a sentence, and accepting inserts the completion', async () => {
      const editor = await openAtEnd('draft.md');
      await appendParagraph(editor, WORD_PROMPT);
      const inserted = await acceptInlineCompletion(editor, WORD_PROMPT);
      assert.match(inserted, /\S/, 'the completion inserts words');
      assert.ok(!inserted.includes(WORKSPACE_WORD), `the bundled model cannot know "${WORKSPACE_WORD}", it inserted "${inserted}"`);
      assert.ok(!inserted.includes('\n'), 'a completion stops at the end of the line');
    });

    it('loads the model again in a new server when its model server is killed, and completes again', async () => {
      const before = await settledModel();
      const pid = before.servedByPid;
      assert.ok(typeof pid === 'number' && pid !== process.pid, `served by process ${pid}`);
      process.kill(pid, 'SIGKILL');
      const after = await waitFor('the model served by a new process', async () => {
        const m = (await stats()).model;
        return m.state === 'ready' && typeof m.servedByPid === 'number' && m.servedByPid !== pid ? m : undefined;
      }, 30_000);
      assert.equal(after.origin, before.origin);
      assert.notEqual(after.servedByPid, process.pid, 'still out of the extension host');
      const editor = await openAtEnd('draft.md');
      await appendParagraph(editor, WORD_PROMPT);
      assert.match(await acceptInlineCompletion(editor, WORD_PROMPT), /\S/, 'it completes again');
    });
  } else {
    // models/default/ is built by its own npm script; until it exists the extension must say so.
    it('has no model and says the bundled one is missing', async () => {
      const model = await settledModel();
      assert.equal(model.state, 'none', JSON.stringify(model));
      assert.match(model.reason ?? '', /default model/i);
    });
  }
});
