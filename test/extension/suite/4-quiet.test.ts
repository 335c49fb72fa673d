// Keeping completions out of the way: snooze, and switching them off for one language. Each must stop
// the ghost text (with its named reason counted) and give it back when undone. Needs a model: the bundled
// one (it runs alone: --grep "quiet modes"), or, in a build without it, the one 3-training.test.ts trains.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { acceptInlineCompletion, appendParagraph, openAtEnd, settledModel, sleep, stats, waitFor, WORD_PROMPT } from '../helpers.js';

/**
 * Types the prompt on a new line and asks for completions until the engine has counted `reason` once
 * more; checks that accepting then inserts nothing. The typing comes after the quiet mode is on, so no
 * earlier suggestion is still showing.
 */
async function expectSkipped(editor: vscode.TextEditor, reason: string): Promise<void> {
  await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
  const before = (await stats()).completions.skipped[reason] ?? 0;
  await appendParagraph(editor, WORD_PROMPT);
  const text = editor.document.getText();
  await waitFor(`a completion request skipped as "${reason}"`, async () => {
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    await sleep(200);
    return ((await stats()).completions.skipped[reason] ?? 0) > before ? true : undefined;
  }, 10_000, 0);
  await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
  assert.equal(editor.document.getText(), text, 'nothing was inserted');
}

describe('quiet modes', function () {
  this.timeout(60_000);

  it('snooze stops completions until resumed', async () => {
    assert.equal((await settledModel()).state, 'ready', 'these tests need a model (the bundled one, or the one 3-training.test.ts trains)');
    const editor = await openAtEnd('draft.md');
    await vscode.commands.executeCommand('nextword.snooze', 5);
    try {
      await expectSkipped(editor, 'snoozed');
    } finally {
      await vscode.commands.executeCommand('nextword.snooze', 'resume');
    }
    // VS Code asks again only when the text changes: type on.
    await appendParagraph(editor, WORD_PROMPT);
    assert.match(await acceptInlineCompletion(editor, WORD_PROMPT), /\S/, 'completions are back after resume');
  });

  it('switching a language off writes the language setting and stops completions there', async () => {
    const editor = await openAtEnd('draft.md');
    assert.equal(editor.document.languageId, 'markdown');
    const enabled = () => vscode.workspace.getConfiguration('nextword', { languageId: 'markdown' }).get<boolean>('enable');
    assert.equal(enabled(), true);
    await vscode.commands.executeCommand('nextword.toggleLanguage', 'markdown');
    try {
      assert.equal(enabled(), false, '[markdown] nextword.enable is false');
      await expectSkipped(editor, 'disabled-language');
    } finally {
      await vscode.commands.executeCommand('nextword.toggleLanguage', 'markdown');
    }
    assert.equal(enabled(), true, 'switched back on');
    await appendParagraph(editor, WORD_PROMPT);
    assert.match(await acceptInlineCompletion(editor, WORD_PROMPT), /\S/, 'completions are back');
  });
});
