// End to end, as a user meets it: the packaged VSIX installed into a real VS Code (code-server), a
// fixture workspace whose texts use a made-up word ("zorbulent") that no other text uses, and Chromium
// typing into it. Steps: the status bar's perplexity equals `nextword eval`'s; typing shows the model's
// ghost text and Tab inserts it; Ctrl+Right accepts one word; "Nextword: Train on Workspace" from the
// command palette shows its progress and finishes; then completions come from the new model (the made-up
// word) and the status bar scores with it. Screenshots of each step: out/e2e/.
//
//   node --import tsx scripts/e2e/run-e2e.ts            (packages the VSIX, runs this file)
//   NEXTWORD_E2E_VSIX=x.vsix node --test --import tsx test/e2e/editor.e2e.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { copyWorkspace, FIXTURE_WORKSPACE, launchChromium, packageVsix, removeDir, ROOT, startCodeServer, tempDir, type CodeServer } from '../../scripts/e2e/code-server.js';
import { waitFor, Workbench } from '../../scripts/e2e/workbench.js';

const ARTEFACTS = path.join(ROOT, 'out', 'e2e');
const HAS_DEFAULT_MODEL = existsSync(path.join(ROOT, 'models', 'default', 'model.json'));
/** The fixture's word: no English text uses it, so only a model trained on the workspace can predict it. */
const WORKSPACE_WORD = 'zorbulent';
/** In the fixture this phrase is always followed by the word. */
const WORD_PROMPT = 'At dawn the tide was ';
const DRAFT = 'draft.md';
const SCORED = 'notes/harbour.md';

const E2E_SETTINGS = {
  // Every prediction shows (the confidence cut is unit-tested); phrases of up to four words.
  'nextword.completion.minConfidence': 0,
  'nextword.completion.maxWords': 4,
  'nextword.training.timeBudgetMinutes': 2,
};

interface EvalFigures {
  ppl: number;
  tokens: number;
  oov: number;
}

/** `nextword eval --json` on one file: the reference the status bar must match. */
function evalWithCli(modelDir: string, file: string): EvalFigures {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'nextword.js'), 'eval', '--model', modelDir, file, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `nextword eval failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as EvalFigures;
  return { ppl: out.ppl, tokens: out.tokens, oov: out.oov };
}

/** The status bar's figures, parsed from its accessible label (status.ts writes the exact perplexity there). */
function parsePerplexityLabel(label: string): { ppl: number; file: string; tokens: number } | undefined {
  const m = /^Nextword perplexity ([\d.]+) for (.+?): ([\d,]+) tokens/.exec(label);
  return m ? { ppl: Number(m[1]), file: m[2]!, tokens: Number(m[3]!.replace(/,/g, '')) } : undefined;
}

/** Folders under `root` that hold a model.json, newest first (the trained model lives in the workspace storage). */
function findModelDirs(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'model.json') found.push(dir);
    }
  };
  if (existsSync(root)) walk(root);
  return found.sort((a, b) => statSync(path.join(b, 'model.json')).mtimeMs - statSync(path.join(a, 'model.json')).mtimeMs);
}

describe('Nextword in VS Code (code-server)', { timeout: 280_000 }, () => {
  let dir: string;
  let workspace: string;
  let server: CodeServer;
  let browser: Browser;
  let wb: Workbench;
  let failures = 0;

  before(async () => {
    rmSync(ARTEFACTS, { recursive: true, force: true });
    mkdirSync(ARTEFACTS, { recursive: true });
    const vsix = process.env.NEXTWORD_E2E_VSIX || packageVsix('e2e.vsix', { allowMissingModel: true });
    dir = tempDir('e2e');
    workspace = copyWorkspace(FIXTURE_WORKSPACE, dir);
    server = await startCodeServer({ workspace, dir, vsix, settings: E2E_SETTINGS, logFile: path.join(ARTEFACTS, 'code-server.log') });
    browser = await launchChromium(dir);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const consoleLog = path.join(ARTEFACTS, 'browser-console.log');
    writeFileSync(consoleLog, '');
    page.on('console', (msg) => appendFileSync(consoleLog, `[${msg.type()}] ${msg.text()}\n`));
    page.on('pageerror', (err) => appendFileSync(consoleLog, `[pageerror] ${err.stack ?? String(err)}\n`));
    wb = new Workbench(page, workspace, ARTEFACTS);
    await wb.goto(server.workbenchUrl());
    await wb.ready();
    // Activation (onStartupFinished) ends with the status bar item.
    await waitFor('the Nextword status bar item', async () => ((await wb.statusBarLabels('Nextword')).length ? true : undefined), 30_000);
    await wb.screenshot('workbench');
  });

  after(async () => {
    // What the user waited, for the issue's figures (not asserted: a browser's frame timing is not a test).
    writeFileSync(path.join(ARTEFACTS, 'metrics.json'), JSON.stringify({ keyToGhostTextMs: ghostTimes }, null, 2) + '\n');
    if (ghostTimes.length) console.log(`e2e: key to ghost text on screen: ${ghostTimes.map((g) => `${g.ms.toFixed(1)} ms`).join(', ')}`);
    // The extension's own log (a LogOutputChannel) and the workbench's, for the artefacts.
    if (server) {
      const logs = path.join(server.userDataDir, 'logs');
      if (existsSync(logs)) cpSync(logs, path.join(ARTEFACTS, 'vscode-logs'), { recursive: true });
    }
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (dir) {
      if (failures > 0) console.log(`e2e: kept ${dir} for inspection`);
      else removeDir(dir);
    }
  });

  /** A step: a screenshot when it fails too. */
  const step = (name: string, shot: string, body: () => Promise<void>) =>
    it(name, async () => {
      try {
        await body();
      } catch (err) {
        failures++;
        await wb?.screenshot(`FAILED-${shot}`).catch(() => undefined);
        throw err;
      }
    });

  /** The status bar shows `file`'s perplexity under the model in `modelDir`, as `nextword eval` computes it. */
  async function expectPerplexityOf(relPath: string, modelDir: string, shot: string): Promise<void> {
    const expected = evalWithCli(modelDir, path.join(workspace, relPath));
    await wb.openFile(relPath);
    // The item may first show an older figure (another file, the previous model): wait for this one.
    let seen: string[] = [];
    let figures;
    try {
      figures = await waitFor(
        `the status bar to show the perplexity of ${relPath} (nextword eval: ${expected.ppl.toFixed(2)}, ${expected.tokens} tokens)`,
        async () => {
          seen = await wb.statusBarLabels('Nextword');
          return seen.map(parsePerplexityLabel).find((f) => f && f.file.endsWith(path.basename(relPath)) && Math.abs(f.ppl - expected.ppl) <= 0.006);
        },
        30_000,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; the status bar said ${JSON.stringify(seen)}`);
    }
    // Hover the item so the screenshot shows its tooltip (the figures explained).
    await wb.page.locator('.part.statusbar [aria-label^="Nextword perplexity"]').first().hover();
    await wb.page.getByText('Tokens scored').first().waitFor({ state: 'visible', timeout: 5000 }).catch(() => undefined);
    await wb.screenshot(shot);
    await wb.page.mouse.move(700, 400);
    // The label's two decimals against eval's three: within rounding, and the same tokens counted.
    assert.ok(Math.abs(figures.ppl - expected.ppl) <= 0.006, `status bar ${figures.ppl}, nextword eval ${expected.ppl}`);
    assert.equal(figures.tokens, expected.tokens, 'tokens scored');
  }

  /** Key to ghost text on screen, per prompt typed (see Workbench.typeAndTimeGhostText). */
  const ghostTimes: { prompt: string; ms: number }[] = [];

  /** Types `prompt` on a new line of the draft, waits for ghost text, accepts it with Tab; returns what was accepted. */
  async function typeAndAcceptWithTab(prompt: string, shot: string, accept: (ghost: string) => boolean, what: string): Promise<string> {
    await wb.openFile(DRAFT);
    await wb.newParagraphAtEnd();
    const { ghost, ms } = await wb.typeAndTimeGhostText(prompt, what, accept);
    if (ms !== undefined) ghostTimes.push({ prompt, ms });
    await wb.screenshot(`${shot}-ghost-text`);
    await wb.page.keyboard.press('Tab');
    await waitFor('the ghost text to be inserted', async () => ((await wb.ghostText()) !== ghost ? true : undefined), 5000);
    await wb.page.keyboard.press('Escape');
    const text = await wb.saveAndRead(DRAFT, prompt + ghost);
    await wb.screenshot(`${shot}-accepted`);
    assert.ok(text.includes(`${prompt}${ghost}`), `the draft should contain the prompt followed by the ghost text "${ghost}"`);
    return ghost;
  }

  async function acceptOneWord(prompt: string): Promise<void> {
    await wb.openFile(DRAFT);
    await wb.newParagraphAtEnd();
    const { ghost, ms } = await wb.typeAndTimeGhostText(prompt, 'ghost text of two words or more', (g) => g.trim().split(/\s+/).length >= 2);
    if (ms !== undefined) ghostTimes.push({ prompt, ms });
    await wb.screenshot('next-word-before');
    await wb.page.keyboard.press('Control+ArrowRight');
    // What is left of the ghost text is a proper suffix of what was shown; the part before it is one word.
    const rest = await waitFor('the ghost text to shrink by one word', async () => {
      const g = await wb.ghostText();
      return g !== ghost && ghost.endsWith(g) ? g : undefined;
    }, 5000);
    await wb.screenshot('next-word-after');
    const accepted = ghost.slice(0, ghost.length - rest.length);
    assert.match(accepted.trim(), /^\S+$/, `one word accepted, got "${accepted}" of "${ghost}"`);
    await wb.page.keyboard.press('Escape');
    const text = await wb.saveAndRead(DRAFT, prompt + accepted);
    assert.ok(text.includes(`${prompt}${accepted}`) && !text.includes(`${prompt}${ghost}`), `the draft holds "${prompt}${accepted}" and not the whole ghost text`);
  }

  function installedDefaultModel(): string {
    const ext = readdirSync(server.extensionsDir).find((d) => d.startsWith('nextword.nextword-'));
    assert.ok(ext, `the VSIX is not installed in ${server.extensionsDir}`);
    return path.join(server.extensionsDir, ext, 'models', 'default');
  }

  let trainedModel: string | undefined;
  const train = () =>
    step('Train on Workspace from the command palette shows its progress and finishes', 'train', async () => {
      const storage = path.join(server.userDataDir, 'User', 'workspaceStorage');
      const before = new Set(findModelDirs(storage));
      await wb.runCommand('Nextword: Train on Workspace');
      const toast = wb.toast('Training on the workspace');
      await toast.waitFor({ state: 'visible', timeout: 15_000 });
      // Let the toast finish sliding in, so the screenshot shows its progress message.
      await wb.page.waitForTimeout(800);
      await wb.screenshot('training-progress');
      await toast.waitFor({ state: 'detached', timeout: 180_000 });
      await wb.screenshot('training-done');
      const errors = (await wb.toastTexts()).filter((t) => /fail|error|could not/i.test(t));
      assert.deepEqual(errors, [], 'no error notification after training');
      trainedModel = await waitFor('the trained model in the workspace storage', async () => findModelDirs(storage).find((d) => !before.has(d)), 10_000);
    });

  const workspaceWord = () =>
    step(`completions then come from the new model: "${WORKSPACE_WORD}"`, 'workspace-word', async () => {
      assert.ok(trainedModel, 'training did not produce a model');
      const ghost = await typeAndAcceptWithTab(WORD_PROMPT, 'trained', (g) => g.trimStart().startsWith(WORKSPACE_WORD), `ghost text starting with "${WORKSPACE_WORD}"`);
      assert.ok(ghost.trimStart().startsWith(WORKSPACE_WORD));
    });

  const trainedPerplexity = () =>
    step('the status bar shows the perplexity nextword eval gives with the trained model', 'ppl-trained', async () => {
      assert.ok(trainedModel, 'training did not produce a model');
      await expectPerplexityOf(SCORED, trainedModel, 'perplexity-trained-model');
    });

  // Before training: the bundled model (or, without one, a status that says so).
  if (HAS_DEFAULT_MODEL) {
    step('the status bar shows the perplexity nextword eval gives with the bundled model', 'ppl-default', async () => {
      await expectPerplexityOf(SCORED, installedDefaultModel(), 'perplexity-default-model');
    });
    step('typing shows the bundled model\'s ghost text, and Tab inserts it', 'ghost-default', async () => {
      const ghost = await typeAndAcceptWithTab(WORD_PROMPT, 'default', (g) => g.trim().length > 0, 'ghost text');
      // The bundled model has never seen the workspace's word: it must come from training later.
      assert.ok(!ghost.includes(WORKSPACE_WORD), `the bundled model predicted "${ghost}"`);
    });
  } else {
    console.warn(
      'e2e: models/default/model.json is missing, so the VSIX has no bundled model: the perplexity comparison and the ' +
        'ghost-text steps run against the model trained on the workspace only (after "Train on Workspace").',
    );
    step('without a bundled model the status bar says there is no model', 'no-model', async () => {
      const labels = await waitFor('a "no model" status', async () => {
        const l = await wb.statusBarLabels('Nextword');
        return l.some((x) => /no model/i.test(x)) ? l : undefined;
      });
      assert.ok(labels.length > 0);
      await wb.screenshot('no-model');
    });
  }
  train();
  workspaceWord();
  // The trained model continues the fixture's phrases over several words, which the next-word step needs.
  step('Ctrl+Right accepts one word of the ghost text', 'next-word', () => acceptOneWord('The ferry came in and '));
  trainedPerplexity();
  step('the status bar item opens the Nextword menu, and Show Model Info shows the trained model', 'model-info', async () => {
    await wb.page.locator('.part.statusbar [aria-label^="Nextword perplexity"]').first().click();
    const row = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show Model Info' }).first();
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    const menu = (await wb.page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    await wb.page.waitForTimeout(400); // the menu fades in
    await wb.screenshot('status-menu');
    for (const entry of ['Train on Workspace Again', 'Show Training', 'Snooze for 5 minutes', 'Disable for markdown', 'Show Model Info', 'Use the Bundled Default Model', 'Open Log']) {
      assert.ok(menu.some((m) => m.includes(entry)), `the menu offers "${entry}": ${JSON.stringify(menu)}`);
    }
    await row.click();
    // The Markdown preview is a webview: its text lives in a nested frame.
    const figures = await waitFor('the model info preview with the trained model\'s figures', () => wb.webviewText((t) => t.includes('Nextword model') && t.includes('Validation perplexity')), 15_000);
    await wb.screenshot('model-info');
    assert.match(figures, /Vocabulary/, 'the model info names the vocabulary');
    assert.match(figures, /trained on this workspace|workspace/i, 'the model info says the model is the workspace\'s');
  });

  step('Show Training draws the run, and the view comes back when the window reloads', 'training-view', async () => {
    await wb.runCommand('Nextword: Show Training');
    const drawn = (t: string) => t.includes('Nextword Training') && /Learned from \d+ files/.test(t) && t.includes('Runs on this workspace');
    await waitFor('the training view with the trained run', () => wb.webviewText(drawn), 20_000, 250);
    await wb.screenshot('training-view');
    // As a user reloads: the workbench saves which editors are open, then loads again.
    const reloaded = wb.page.waitForEvent('load', { timeout: 60_000 });
    await wb.runCommand('Developer: Reload Window');
    await reloaded;
    await wb.ready();
    const again = await waitFor('the training view again after the reload', () => wb.webviewText(drawn), 60_000, 500);
    assert.match(again, /Validation perplexity by epoch/);
    await wb.screenshot('training-view-reloaded');
  });
});
