// What ghost text saved: accepting a suggestion whole (Tab) and word by word (Ctrl+Right) is counted, and
// the status item's tooltip says it; typing is not counted.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { acceptInlineCompletion, hasDefaultModel, settledModel, sleep, stats, waitFor } from '../helpers.js';

describe('keystrokes saved', function () {
  this.timeout(60_000);
  if (!hasDefaultModel()) return;

  it('counts what Tab and Ctrl+Right accept, not what is typed, and the status item tells it', async () => {
    assert.equal((await settledModel()).state, 'ready');
    const prompt = 'It was the best of times, it was the worst of ';
    const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: prompt });
    const editor = await vscode.window.showTextDocument(doc);
    const end = doc.lineAt(0).range.end;
    editor.selection = new vscode.Selection(end, end);

    const before = (await stats()).savings.total;
    // Typing (one key at a time) is not an accept.
    await vscode.commands.executeCommand('type', { text: 't' });
    await sleep(200);
    await vscode.commands.executeCommand('deleteLeft');
    await sleep(200);
    assert.deepEqual((await stats()).savings.total, before, 'typing is not counted');

    const accepted = await acceptInlineCompletion(editor, prompt);
    const afterTab = await waitFor('the accept to be counted', async () => {
      const t = (await stats()).savings.total;
      return t.accepts > before.accepts ? t : undefined;
    });
    // After "the worst of " the suggestion is a word or more (one character accepted would not count).
    assert.ok(accepted.length >= 2, `accepted "${accepted}"`);
    assert.deepEqual(afterTab, { accepts: before.accepts + 1, chars: before.chars + accepted.length }, `accepted "${accepted}"`);

    // Word by word: a new line, a suggestion, then the next word only.
    await vscode.commands.executeCommand('type', { text: '\nIt was the best of ' });
    const line = editor.selection.active.line;
    const lineBefore = doc.lineAt(line).text;
    const word = await waitFor('a word accepted with Ctrl+Right', async () => {
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await sleep(300);
      await vscode.commands.executeCommand('editor.action.inlineSuggest.acceptNextWord');
      const now = doc.lineAt(line).text;
      return now.length > lineBefore.length ? now.slice(lineBefore.length) : undefined;
    });
    assert.ok(word.length >= 2, `accepted the word "${word}"`);
    const afterWord = await waitFor('the word to be counted', async () => {
      const t = (await stats()).savings.total;
      return t.accepts > afterTab.accepts ? t : undefined;
    });
    assert.deepEqual(afterWord, { accepts: afterTab.accepts + 1, chars: afterTab.chars + word.length }, `accepted the word "${word}"`);
    const tooltip = (await stats()).statusBar?.tooltip ?? '';
    assert.match(tooltip, /Ghost text saved you \*\*[\d,]+\*\* keystrokes? today/);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
