// The training view in a real VS Code: opened by its command, it draws a Train on Workspace run while it
// runs and, once it ends, a point per epoch beside the n-gram companion's level, what was left out, and the
// run in the history; its page breaks no rule of its content security policy (the page reports any
// violation and what it drew: training-view-html.ts).
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { setEpochs, settledModel, stats, waitFor } from '../helpers.js';

const EPOCHS = 3;

async function closeView(): Promise<void> {
  for (const group of vscode.window.tabGroups.all) {
    for (const tab of group.tabs) {
      if (tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('nextword.training')) await vscode.window.tabGroups.close(tab);
    }
  }
}

describe('training view', function () {
  this.timeout(180_000);
  after(async () => {
    await setEpochs(undefined);
    await closeView();
  });

  it('draws a run as it goes and, once done, each epoch beside the n-gram companion, within its content security policy', async () => {
    await settledModel();
    await vscode.commands.executeCommand('nextword.showTraining');
    const opened = await waitFor('the page to draw', async () => (await stats()).trainingView.rendered ?? undefined, 30_000);
    assert.equal(opened.violations, 0, 'no content security policy violation');
    const runsBefore = (await stats()).trainingView.history.length;

    await setEpochs(EPOCHS);
    await vscode.commands.executeCommand('nextword.trainWorkspace');
    const view = await waitFor('the finished run drawn', async () => {
      const v = (await stats()).trainingView;
      return v.rendered && !v.rendered.running && v.rendered.version === v.posted && v.rendered.points === EPOCHS ? v : undefined;
    }, 30_000);
    const drawn = view.rendered!;
    assert.ok(view.renderedRunning, 'the page drew the run while it ran');
    assert.equal(drawn.violations, 0, 'no content security policy violation');
    assert.ok(drawn.levels.includes('ngram'), `the n-gram companion's level is drawn: ${drawn.levels.join(', ')}`);
    const run = view.history[0]!;
    assert.equal(view.history.length, Math.min(runsBefore + 1, 20));
    assert.equal(run.outcome, 'done');
    assert.equal(run.epochs, EPOCHS);
    assert.ok(run.ngramPpl !== null && run.ngramPpl > 1, `the companion's validation perplexity: ${run.ngramPpl}`);
    if (run.servedPpl !== null) assert.ok(drawn.levels.includes('served'), 'the served mixture\'s level is drawn');
    assert.match(drawn.headline ?? '', new RegExp(`^Learned from ${run.files} files in `));
    // The fixture's git-ignored folder and its secrets are left out, by reason.
    assert.ok(drawn.skippedRows >= 2, `left-out reasons drawn: ${drawn.skippedRows}`);
    assert.equal(drawn.historyRows, view.history.length);
    assert.match(drawn.savings ?? '', /keystrokes|No ghost text accepted yet/);
  });
});
