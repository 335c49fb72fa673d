// The extension as VS Code sees it: found, activated without error, every command it declares
// registered, its status bar item drawn.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { EXTENSION_ID, stats } from '../helpers.js';

interface CommandContribution {
  command: string;
}

describe('activation', () => {
  it('is installed under its publisher.name id', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not among ${vscode.extensions.all.map((e) => e.id).filter((id) => !id.startsWith('vscode.')).join(', ')}`);
  });

  it('activates on startup without an error', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    // onStartupFinished: usually active by now; activate() resolves at once then, or rejects with activate()'s error.
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  it('registers every command its package.json declares', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    await ext.activate();
    const declared = (ext.packageJSON.contributes.commands as CommandContribution[]).map((c) => c.command);
    assert.ok(declared.length >= 5, `expected the declared commands, found ${declared.join(', ')}`);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(declared.filter((c) => !registered.has(c)), [], 'declared but not registered');
  });

  it('shows its status bar item', async () => {
    const view = (await stats()).statusBar;
    assert.ok(view && view.text && /Nextword|PPL/.test(`${view.text} ${view.ariaLabel}`), `status bar: ${JSON.stringify(view)}`);
  });
});
