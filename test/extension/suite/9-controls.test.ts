// The controls a user reaches for: completions only on request, only in prose (comments and strings in
// code), off everywhere with one command; a renamed setting moved to its new name; the workspace's model
// deleted. Each setting is put back afterwards.
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { acceptInlineCompletion, hasDefaultModel, settledModel, sleep, stats, waitFor, WORD_PROMPT, WORKSPACE_WORD } from '../helpers.js';

async function setting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('nextword').update(key, value, vscode.ConfigurationTarget.Global);
}

/** A new untitled document of `language` holding `text`, the cursor at its end. */
async function editorWith(language: string, text: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument({ language, content: text });
  const editor = await vscode.window.showTextDocument(doc);
  const end = doc.lineAt(doc.lineCount - 1).range.end;
  editor.selection = new vscode.Selection(end, end);
  return editor;
}

async function typeKeys(text: string): Promise<void> {
  for (const ch of text) {
    await vscode.commands.executeCommand('type', { text: ch });
    await sleep(60);
  }
}

/** How many requests were skipped for `reason` once `act` has run and a request for it has come. */
async function skippedAfter(reason: string, act: () => Thenable<unknown>): Promise<number> {
  const before = (await stats()).completions.skipped[reason] ?? 0;
  await act();
  return waitFor(`a request skipped (${reason})`, async () => {
    const now = (await stats()).completions.skipped[reason] ?? 0;
    return now > before ? now - before : undefined;
  });
}

describe('controls', function () {
  this.timeout(120_000);
  after(async () => {
    for (const key of ['completion.trigger', 'completion.scope', 'completion.bundledModelScope', 'enable']) await setting(key, undefined);
  });

  it('moves a value set under the old name nextword.exclude to nextword.training.exclude', async () => {
    const second = vscode.workspace.workspaceFolders![1]!;
    const moved = await waitFor('the renamed setting to move', async () => {
      const c = vscode.workspace.getConfiguration('nextword', second.uri);
      return c.inspect('exclude')?.workspaceFolderValue === undefined ? c.inspect('training.exclude')?.workspaceFolderValue : undefined;
    }, 20_000);
    assert.deepEqual(moved, ['generated/**'], 'the second folder set nextword.exclude in its .vscode/settings.json');
  });

  if (!hasDefaultModel()) return;

  it('with trigger "onRequest" suggests only when asked', async () => {
    assert.equal((await settledModel()).state, 'ready');
    await setting('completion.trigger', 'onRequest');
    const editor = await editorWith('plaintext', 'The harbour was quiet at dawn.\n');
    // Typed key by key, as a user types: VS Code asks after the keys, and nothing is suggested.
    const skipped = await skippedAfter('on-request-only', () => typeKeys(WORD_PROMPT));
    assert.ok(skipped >= 1, 'typing asked, and nothing was suggested');
    // Asked for (Trigger Inline Suggestion), it suggests.
    assert.match(await acceptInlineCompletion(editor, WORD_PROMPT), /\S/);
    await setting('completion.trigger', undefined);
  });

  it('with scope "prose" suggests in comments and strings of code, not in the code itself', async () => {
    await setting('completion.scope', 'prose');
    const code = await editorWith('typescript', 'const tide = ');
    assert.ok((await skippedAfter('not-prose', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger'))) >= 1);
    const prompt = `// ${WORD_PROMPT}`;
    await code.edit((b) => b.insert(code.selection.active, `1;\n${prompt}`));
    const end = code.document.lineAt(code.document.lineCount - 1).range.end;
    code.selection = new vscode.Selection(end, end);
    assert.match(await acceptInlineCompletion(code, prompt), /\S/, 'a comment is prose');
    await setting('completion.scope', undefined);
  });

  it('with bundledModelScope "prose" keeps the bundled model out of code', async () => {
    assert.equal((await settledModel()).origin, 'default', 'the bundled model serves here');
    await setting('completion.bundledModelScope', 'prose');
    await editorWith('python', 'total = ');
    assert.ok((await skippedAfter('not-prose', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger'))) >= 1);
    await setting('completion.bundledModelScope', undefined);
  });

  it('Turn Completions On or Off turns them off in every language, says so in the status bar, and back on', async () => {
    await vscode.commands.executeCommand('nextword.toggle');
    assert.equal(vscode.workspace.getConfiguration('nextword').inspect('enable')?.globalValue, false);
    const editor = await editorWith('plaintext', WORD_PROMPT);
    assert.ok((await skippedAfter('disabled-language', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger'))) >= 1);
    const view = await waitFor('the status bar to say so', async () => {
      const s = (await stats()).statusBar;
      return s && /turned off/.test(s.tooltip) ? s : undefined;
    });
    assert.match(view.text, /circle-slash/);
    await vscode.commands.executeCommand('nextword.toggle');
    assert.equal(vscode.workspace.getConfiguration('nextword').inspect('enable')?.globalValue, undefined, 'on again: the user setting is removed');
    // VS Code asks again only once the document changes.
    await typeKeys(' And');
    assert.match(await acceptInlineCompletion(editor, `${WORD_PROMPT} And`), /\S/);
  });

  it('looks at the workspace model\'s age (fresh: no hint), and deletes it: the bundled one serves, the folder is gone', async () => {
    const dir = await workspaceModelDir();
    // Once loaded, the model's age is looked at: just trained, it is fresh (no hint).
    const age = await waitFor('the model\'s age to be looked at', async () => {
      const c = ((await stats()) as unknown as { staleCheck: { kind: string; changed?: number; sampled?: number } }).staleCheck;
      return c.kind === 'not-checked' ? undefined : c;
    }, 30_000);
    assert.equal(age.kind, 'fresh', JSON.stringify(age));
    assert.ok((age.sampled ?? 0) > 0, 'it looked at the workspace\'s files');
    await vscode.commands.executeCommand('nextword.deleteWorkspaceModel', 'confirmed');
    const model = await waitFor('the bundled model', async () => {
      const m = (await stats()).model;
      return m.state === 'ready' && m.origin === 'default' ? m : undefined;
    });
    assert.equal(model.origin, 'default');
    await assert.rejects(Promise.resolve(vscode.workspace.fs.stat(vscode.Uri.file(dir))), 'the model folder is gone');
  });

  it('with consent, suggests the workspace\'s own words before any model is trained on it, and stops when asked', async () => {
    // No workspace model now (the test above deleted it): the bundled model cannot know the workspace's word.
    await vscode.commands.executeCommand('nextword.useWorkspaceWords');
    assert.equal(vscode.workspace.getConfiguration('nextword').get('workspaceWords'), true, 'the consent is kept for this workspace');
    const served = await waitFor('the workspace\'s words to serve', async () => {
      const m = (await stats()).model;
      return m.state === 'ready' && m.origin === 'interim' ? m : undefined;
    }, 60_000);
    assert.notEqual(served.servedByPid, process.pid, 'served by the model server');
    const editor = await editorWith('markdown', 'A note.\n\n' + WORD_PROMPT);
    const inserted = await acceptInlineCompletion(editor, WORD_PROMPT);
    assert.ok(inserted.trimStart().startsWith(WORKSPACE_WORD), `after "${WORD_PROMPT}" the workspace's words gave "${inserted}"`);
    await vscode.workspace.getConfiguration('nextword').update('workspaceWords', undefined, vscode.ConfigurationTarget.Workspace);
    await waitFor('the bundled model again', async () => {
      const m = (await stats()).model;
      return m.state === 'ready' && m.origin === 'default' ? m : undefined;
    });
  });
});

/** The folder of this workspace's trained model, trained now (one quick epoch) when there is none yet, and in use. */
async function workspaceModelDir(): Promise<string> {
  await vscode.commands.executeCommand('nextword.trainWorkspace');
  const model = await waitFor('the workspace model', async () => {
    const m = (await stats()).model;
    return m.state === 'ready' && m.origin === 'workspace' ? m : undefined;
  }, 90_000);
  return model.dir!;
}
