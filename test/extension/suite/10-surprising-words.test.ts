// Surprising words in the editor: off until the user turns them on; then a likely typo gets a hover that
// names the word the model expected, and a quick fix that puts it in; turned off, the hover goes. The
// hover and the quick fix are read through VS Code's own commands (executeHoverProvider,
// executeCodeActionProvider), as the editor asks for them.
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { hasDefaultModel, settledModel, sleep, waitFor } from '../helpers.js';

const TEXT = 'She walked to the end of teh road and looked back at the house where she had lived as a child.\n';
const TYPO = 'teh';

async function setting(value: boolean | undefined): Promise<void> {
  await vscode.workspace.getConfiguration('nextword').update('surprisingWords.enable', value, vscode.ConfigurationTarget.Global);
}

/** Nextword's hover at `pos`, as markdown text, or '' when it gives none. */
async function nextwordHover(doc: vscode.TextDocument, pos: vscode.Position): Promise<string> {
  const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos)) ?? [];
  const texts = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value)));
  return texts.find((t) => t.includes('Nextword')) ?? '';
}

describe('surprising words', function () {
  this.timeout(90_000);
  after(() => setting(undefined));

  if (!hasDefaultModel()) return;

  it('are not shown until turned on; then a typo gets a hover with the expected word, and a quick fix', async () => {
    assert.equal((await settledModel()).state, 'ready');
    const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: TEXT });
    await vscode.window.showTextDocument(doc);
    const at = doc.positionAt(TEXT.indexOf(TYPO) + 1);

    // Off by default: no hover, even after longer than an update takes.
    await sleep(2500);
    assert.equal(await nextwordHover(doc, at), '', 'no hover while the setting is off');

    await vscode.commands.executeCommand('nextword.toggleSurprisingWords');
    assert.equal(vscode.workspace.getConfiguration('nextword').get('surprisingWords.enable'), true, 'the command turns the setting on');
    let hover: string;
    try {
      hover = await waitFor('Nextword\'s hover on the typo', async () => (await nextwordHover(doc, at)) || undefined, 30_000);
    } catch (e) {
      // What the extension did meanwhile: its model, and what the highlight scored or why it failed.
      const s = (await vscode.commands.executeCommand<Record<string, unknown>>('nextword._stats')) ?? {};
      throw new Error(`${(e as Error).message}; the extension: ${JSON.stringify({ model: s.model, surprisingWords: s.surprisingWords, active: vscode.window.activeTextEditor?.document.uri.toString() })}`, { cause: e });
    }
    assert.match(hover, /did you mean \*\*the\*\*/, hover);
    assert.match(hover, /Expected: /, 'the hover lists what the model expected');
    // Nothing else in this plain sentence stands out that much.
    const elsewhere = await nextwordHover(doc, doc.positionAt(TEXT.indexOf('house') + 1));
    assert.equal(elsewhere, '', `an ordinary word has no hover: ${elsewhere}`);

    const range = new vscode.Range(at, at);
    const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, range)) ?? [];
    const fix = actions.find((a) => a.title === 'Replace “teh” with “the” (Nextword)');
    assert.ok(fix?.edit, `the quick fix is offered: ${JSON.stringify(actions.map((a) => a.title))}`);
    assert.equal(fix.isPreferred, true, 'a typo\'s fix is the preferred one');
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.equal(doc.getText(), TEXT.replace(' teh ', ' the '));

    // Turned off: the hover goes (on a document that has the typo again).
    await vscode.commands.executeCommand('undo');
    await waitFor('the typo back and its hover', async () => (doc.getText() === TEXT && (await nextwordHover(doc, at))) || undefined, 30_000);
    await vscode.commands.executeCommand('nextword.toggleSurprisingWords');
    await waitFor('the hover gone once turned off', async () => ((await nextwordHover(doc, at)) === '' ? true : undefined), 10_000);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
