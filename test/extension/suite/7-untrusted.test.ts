// Restricted Mode: the runner opens the fixture workspace without trusting it (run-in-host.ts --untrusted,
// which sets NEXTWORD_UNTRUSTED_TEST=1 and keeps VS Code's workspace trust on). Nextword declares limited
// support for untrusted workspaces: it must not read the workspace to train, while completions and the
// file's perplexity from the model it has keep working.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { acceptInlineCompletion, appendParagraph, hasDefaultModel, openAtEnd, settledModel, sleep, stats, waitFor, WORD_PROMPT } from '../helpers.js';

if (process.env.NEXTWORD_UNTRUSTED_TEST === '1') {
  describe('an untrusted workspace', () => {
    it('is untrusted, and Nextword is active in it', async () => {
      assert.equal(vscode.workspace.isTrusted, false, 'the runner opens the workspace in Restricted Mode');
      const ext = vscode.extensions.all.find((e) => e.packageJSON?.name === 'nextword');
      assert.ok(ext, 'Nextword is installed and enabled in Restricted Mode (limited support)');
      // It activates once startup has finished, as in a trusted workspace.
      await waitFor('Nextword to activate', async () => (ext.isActive ? true : undefined), 30_000);
    });

    it('refuses Train on Workspace without reading anything or writing a model', async () => {
      const before = await settledModel();
      await vscode.commands.executeCommand('nextword.trainWorkspace');
      const s = (await stats()) as unknown as { training: unknown; lastTraining: string | null; model: { origin?: string; dir?: string } };
      assert.equal(s.lastTraining, 'untrusted');
      assert.equal(s.training, null, 'no run started');
      await sleep(1000);
      const later = (await stats()) as unknown as { training: unknown; model: { origin?: string; dir?: string } };
      assert.equal(later.training, null, 'still no run');
      assert.deepEqual({ origin: later.model.origin, dir: later.model.dir }, { origin: before.origin, dir: before.dir });
      const storage = ((await stats()) as unknown as { workspaceModelDir: string | null }).workspaceModelDir;
      assert.ok(storage, 'the window has local storage (so a model could have been written)');
      assert.ok(!existsSync(storage), `no model written to ${storage}`);
    });

    it('does not suggest training', async () => {
      const state = await waitFor('the training suggestion to be decided', async () => {
        const s = ((await stats()) as unknown as { trainingSuggestion: { kind: string; why?: string } }).trainingSuggestion;
        return s.kind === 'waiting' ? undefined : s;
      }, 30_000);
      assert.deepEqual(state, { kind: 'not-needed', why: 'the workspace is not trusted' });
    });

    if (hasDefaultModel()) {
      it('completes and scores the open file with the model it has', async () => {
        const model = await settledModel();
        assert.equal(model.state, 'ready', JSON.stringify(model));
        const editor = await openAtEnd('draft.md');
        await appendParagraph(editor, WORD_PROMPT);
        const inserted = await acceptInlineCompletion(editor, WORD_PROMPT);
        assert.match(inserted, /\S/, 'a completion in Restricted Mode');
        const perplexity = await waitFor('the status bar to show the file\'s perplexity', async () => {
          const p = (await stats()).perplexity;
          return p.kind === 'done' ? p : undefined;
        }, 30_000);
        assert.ok((perplexity.figures?.ppl ?? 0) > 1, JSON.stringify(perplexity));
        await vscode.commands.executeCommand('workbench.action.files.revert');
      });
    }
  });
}
