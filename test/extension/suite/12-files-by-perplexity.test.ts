// Files by perplexity: the workspace's files as training reads them (never what .gitignore leaves out),
// each scored as `nextword eval` scores it, highest first.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';
import { evalWithCli, hasDefaultModel, settledModel, stats, workspaceRoot } from '../helpers.js';

interface FileScore {
  relPath: string;
  ppl: number;
  tokens: number;
  oovShare: number;
}

describe('files by perplexity', function () {
  this.timeout(120_000);
  if (!hasDefaultModel()) return;

  it('lists the workspace\'s files highest perplexity first, each as nextword eval scores it', async () => {
    assert.equal((await settledModel()).state, 'ready');
    const scores = await vscode.commands.executeCommand<FileScore[]>('nextword.filesByPerplexity', 'silent');
    assert.ok(scores && scores.length >= 3, `scores: ${JSON.stringify(scores)}`);
    for (let i = 1; i < scores.length; i++) assert.ok(scores[i - 1]!.ppl >= scores[i]!.ppl, 'highest first');
    assert.ok(!scores.some((s) => s.relPath.includes('private/')), 'the git-ignored folder is not read');
    // The first and the last file, as the CLI scores them with the same model. In a multi-root workspace a
    // path starts with its folder's name.
    const { dir } = (await stats()).model;
    assert.ok(dir, 'a saved model serves');
    const folders = vscode.workspace.workspaceFolders ?? [];
    const fileOf = (rel: string) => {
      const f = folders.length > 1 ? folders.find((x) => rel.startsWith(`${x.name}/`)) : undefined;
      return f ? path.join(f.uri.fsPath, rel.slice(f.name.length + 1)) : path.join(workspaceRoot(), rel);
    };
    for (const s of [scores[0]!, scores[scores.length - 1]!]) {
      const expected = evalWithCli(dir, fileOf(s.relPath));
      assert.equal(s.tokens, expected.tokens, s.relPath);
      assert.ok(Math.abs(s.ppl - expected.ppl) / expected.ppl < 1e-3, `${s.relPath}: ${s.ppl} vs nextword eval ${expected.ppl}`);
    }
  });
});
