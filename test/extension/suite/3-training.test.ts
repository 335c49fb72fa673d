// Train on Workspace inside a real VS Code, on the fixture workspace: a second request while one runs is
// refused, the n-gram model of the workspace serves completions and the status bar while the network
// trains, cancel goes back to the previous model, a finished run switches completions and the status bar
// to the new model without a reload, and what .gitignore excludes is never learnt.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { foldersOnDisk, readWorkspaceCorpus } from '../../../src/extension/workspace-corpus.js';
import { readWorkspaceFolders } from '../../../src/io/workspace-files.js';
import {
  acceptInlineCompletion, appendParagraph, expectPerplexityAsEval, hasDefaultModel, IGNORED_WORD, openAtEnd, recordMetrics,
  repoRoot, SECOND_FOLDER_EXCLUDED_WORDS, SECOND_FOLDER_WORD, setEpochs, settledModel, sleep, stats, waitFor, WORD_PROMPT, WORKSPACE_WORD,
} from '../helpers.js';

const TRAIN = 'nextword.trainWorkspace';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForTrainingToStart(): Promise<void> {
  await waitFor('training to start', async () => ((await stats()).training ? true : undefined), 15_000);
}

describe('Train on Workspace', function () {
  this.timeout(180_000);
  after(() => setEpochs(undefined));

  it('refuses a second run while one is running, serves the n-gram model meanwhile, and cancel keeps the previous model', async () => {
    const before = await settledModel();
    let interimModel: number | undefined;
    // A run long enough to act on while it runs (the fixture alone trains in seconds).
    await setEpochs(200);
    const first = Promise.resolve(vscode.commands.executeCommand(TRAIN));
    await waitForTrainingToStart();
    if (before.origin !== 'workspace') {
      // Seconds into the run, the n-gram model of the workspace answers with the workspace's own word,
      // and the status bar shows the open file's perplexity under it next to the training progress.
      const interim = await waitFor('the n-gram model to serve', async () => {
        const m = (await stats()).model;
        return m.state === 'ready' && m.origin === 'interim' ? m : undefined;
      }, 30_000);
      assert.ok(typeof interim.validPpl === "number" && interim.validPpl > 1, `its validation perplexity is recorded (${interim.validPpl})`);
      // Served by the model server, not loaded into the extension host.
      assert.ok(typeof interim.servedByPid === 'number' && interim.servedByPid !== process.pid, `served by process ${interim.servedByPid}, not the host (${process.pid})`);
      interimModel = interim.serverModel ?? undefined;
      const server = (await stats({ server: true })).server;
      assert.ok(interimModel !== undefined && server && server.pid === interim.servedByPid && server.models.includes(interimModel), `the server holds it: ${JSON.stringify(server)}`);
      const editor = await openAtEnd('draft.md');
      await appendParagraph(editor, WORD_PROMPT);
      const inserted = await acceptInlineCompletion(editor, WORD_PROMPT);
      assert.ok(inserted.trimStart().startsWith(WORKSPACE_WORD), `after "${WORD_PROMPT}" the n-gram model inserted "${inserted}"`);
      const view = await waitFor('the file\'s perplexity under the n-gram model, with the training progress', async () => {
        const v = (await stats()).statusBar;
        return v && /Learning/.test(v.text) && /Perplexity [\d.]+ for draft\.md/.test(v.ariaLabel) ? v : undefined;
      });
      assert.match(view.tooltip, /Meanwhile, completions and the file/);
      assert.ok((await stats()).training, 'still training');
    }
    // A second request while the first runs is answered with a message (left pending here: nobody
    // dismisses it) and must neither restart nor queue a run.
    void vscode.commands.executeCommand(TRAIN);
    await sleep(500);
    assert.ok((await stats()).training, 'the first run is still training');
    await vscode.commands.executeCommand('nextword.cancelTraining');
    await first;
    // Had the second request been queued, it would start now.
    await sleep(2000);
    const now = await stats();
    assert.equal(now.training, null, 'no training after cancel');
    assert.deepEqual(
      { state: now.model.state, origin: now.model.origin, dir: now.model.dir },
      { state: before.state, origin: before.origin, dir: before.dir },
      'the previous model stays',
    );
    if (interimModel !== undefined) {
      const server = (await stats({ server: true })).server;
      assert.ok(server && !server.models.includes(interimModel) && server.children.length === 0, `the server let go of the n-gram model and the training process ended with the run: ${JSON.stringify(server)}`);
    }
  });

  let trainedDir: string;

  it('trains on the workspace and switches to the new model without a reload, the event loop never stalled', async () => {
    await setEpochs(undefined);
    await stats({ reset: true }); // the event-loop figures from here on
    const t0 = Date.now();
    await vscode.commands.executeCommand(TRAIN);
    const loop = (await stats()).eventLoopDelayMs;
    recordMetrics('training', { seconds: (Date.now() - t0) / 1000, eventLoopDelayMs: loop });
    // Reading, vocabulary, the n-gram model's switch, training (a worker), saving and the switch: the
    // extension host's loop is never held long (a stall of a second or more would be a bug, not noise).
    assert.ok(loop.max < 250, `the event loop stalled ${loop.max} ms during Train on Workspace`);
    const model = await settledModel();
    assert.equal(model.state, 'ready', JSON.stringify(model));
    assert.equal(model.origin, 'workspace');
    trainedDir = model.dir!;
    const meta = JSON.parse(readFileSync(path.join(trainedDir, 'model.json'), 'utf8')) as { vocabulary: string[] };
    const words = meta.vocabulary.map((w) => w.trim());
    assert.ok(words.includes(WORKSPACE_WORD), `the workspace's word "${WORKSPACE_WORD}" is in the vocabulary`);
    // private/ is git-ignored in the fixture: its word is never read.
    assert.ok(!words.some((w) => w.includes(IGNORED_WORD)), `"${IGNORED_WORD}" (git-ignored) must not be learnt`);
    // Completions use the threshold chosen for the model in training (when its validation files showed
    // enough suggestions to choose one), unless the setting is set.
    const chosen = (JSON.parse(readFileSync(path.join(trainedDir, 'model.json'), 'utf8')) as { completion?: { minConfidence: number } }).completion;
    assert.deepEqual((await stats()).completionThreshold, chosen ? { value: chosen.minConfidence, from: 'model' } : { value: 0.4, from: 'default' });
    const config = vscode.workspace.getConfiguration('nextword');
    await config.update('completion.minConfidence', 0.7, vscode.ConfigurationTarget.Global);
    try {
      await waitFor('the setting to apply', async () => ((await stats()).completionThreshold.from === 'setting' ? true : undefined));
      assert.deepEqual((await stats()).completionThreshold, { value: 0.7, from: 'setting' });
    } finally {
      await config.update('completion.minConfidence', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('read every folder of the multi-root workspace, each with its own .gitignore, and no secrets', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 2, 'the runners open a two-folder workspace (scripts/e2e/run-in-host.ts)');
    const meta = JSON.parse(readFileSync(path.join(trainedDir, 'model.json'), 'utf8')) as { vocabulary: string[] };
    const words = meta.vocabulary.map((w) => w.trim());
    assert.ok(words.includes(SECOND_FOLDER_WORD), `the second folder's word "${SECOND_FOLDER_WORD}" is in the vocabulary`);
    for (const excluded of SECOND_FOLDER_EXCLUDED_WORDS) {
      assert.ok(!words.some((w) => w.includes(excluded)), `"${excluded}" (git-ignored or a secret in the second folder) must not be learnt`);
    }
  });

  it('reads from the disk in the training process exactly the files VS Code\'s own reader (for remote and virtual folders) takes', async () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const onDisk = foldersOnDisk(folders);
    assert.ok(onDisk, 'the fixture folders are on this machine\'s disk');
    const limits = { maxFiles: 20_000, maxTotalBytes: 50 * 1024 * 1024 };
    const viaEditor = await readWorkspaceCorpus(folders, { limits, token: new vscode.CancellationTokenSource().token });
    const fromDisk = await readWorkspaceFolders(onDisk, limits);
    const paths = (files: readonly { relPath: string }[]) => files.map((f) => f.relPath).sort();
    assert.deepEqual(paths(fromDisk.files), paths(viaEditor.files));
    assert.equal(fromDisk.totalBytes, viaEditor.totalBytes);
    // The settings' exclusions, seen by the disk reader (VS Code's findFiles never lists them at all).
    const second = folders[1]!.name;
    assert.deepEqual(
      fromDisk.skipped.get('ignored')?.examples.filter((p) => p.startsWith(`${second}/`)).sort(),
      [`${second}/archive/`, `${second}/drafts/`, `${second}/generated/`, `${second}/notes.tmp.md`],
    );
  });

  it('then completes with the workspace\'s own word', async () => {
    const editor = await openAtEnd('draft.md');
    await appendParagraph(editor, WORD_PROMPT);
    const inserted = await acceptInlineCompletion(editor, WORD_PROMPT);
    assert.ok(inserted.trimStart().startsWith(WORKSPACE_WORD), `after "${WORD_PROMPT}" the trained model inserted "${inserted}"`);
    assert.ok(editor.document.getText().includes(`${WORD_PROMPT}${inserted}`));
  });

  it('and scores the active file with it as nextword eval does, against its n-gram baseline', async () => {
    await openAtEnd('notes/harbour.md');
    const figures = await expectPerplexityAsEval('notes/harbour.md', trainedDir);
    assert.equal((await stats()).model.baseline, 'ngram-6', 'the model was saved with its n-gram companion (6-grams: a small workspace)');
    const served = (await stats()).model.baselineServedByPid;
    assert.ok(typeof served === 'number' && served !== process.pid && processAlive(served), `the baseline is served by process ${served}, not the host (${process.pid})`);
    const baseline = await waitFor('the Kneser-Ney baseline in the tooltip', async () => {
      const v = (await stats()).statusBar;
      const m = v && /\| Kneser-Ney baseline on this file \| ([\d.,]+) \|/.exec(v.tooltip.replace(/\\(.)/g, '$1'));
      return m ? Number(m[1]!.replace(/,/g, '')) : undefined;
    });
    assert.ok(baseline > 1 && Number.isFinite(baseline), `baseline ${baseline} (the model: ${figures.ppl})`);
  });

  if (hasDefaultModel()) {
    it('goes back to the bundled default model on request', async () => {
      await vscode.commands.executeCommand('nextword.useDefaultModel');
      const model = await waitFor('the default model', async () => {
        const m = (await stats()).model;
        return m.state === 'ready' && m.origin === 'default' ? m : undefined;
      });
      assert.equal(model.dir, path.join(repoRoot(), 'models', 'default'));
    });
  }
});
