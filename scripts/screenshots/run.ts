// The README's pictures, made the way a user meets Nextword: the packaged VSIX in a real VS Code
// (code-server) and Chromium, on a real project (this repository's own tracked sources and docs, copied to
// a temporary folder), trained there with Train on Workspace. Each scene waits for what it shows; a
// scene that cannot happen fails the run with what it waited for. Prompts are tried in order and the first
// that the trained model completes is used, so a retrained model still gives pictures (every try is logged).
//
//   npm run screenshots [-- --vsix file.vsix] [--skip-build] [--out DIR] [--minutes N] [--keep]
//
// Writes walkthrough.png, first-run.png, training.png, trained.png, accept-word.png,
// ghost-text-code.png, surprising-words.png, files-by-perplexity.png, status-menu.png, typing.gif,
// savings.png and training-view.png to --out (default media/screenshots),
// and what each scene showed to <out>/scenes.json. Needs code-server and Chromium
// (scripts/e2e/install-code-server.sh). About 4 minutes, most of it training (--minutes, default 3).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { launchChromium, packageVsix, removeDir, ROOT, startCodeServer, tempDir } from '../e2e/code-server.js';
import { waitFor, Workbench } from '../e2e/workbench.js';
import { encodeGif, type Frame } from './gif.js';
import { toPalettePng } from './palette-png.js';

/** What of this repository becomes the pictures' workspace: its sources, tests, scripts and docs. */
const PROJECT_PATHS = ['src', 'test', 'scripts', 'docs', 'bin', 'README.md', 'CHANGELOG.md', 'package.json', 'tsconfig.json'];
/** Left out: the test fixtures' made-up words, and pictures. */
const LEFT_OUT = /^test\/fixtures\/|\.(png|gif|onnx)$/;

const VIEWPORT = { width: 1280, height: 800 };

/** Prose typed at the end of README.md; each ends where the next word is asked for. */
const PROSE_PROMPTS = [
  'Nextword serves the n-gram model while ',
  'The typist types the first 5,000 ',
  'At the end ',
  'Keep the rest ',
];
/** Code typed at the end of a TypeScript source (no quotes or brackets, which the editor closes itself). */
const CODE_FILE = 'src/extension/first-run.ts';
const CODE_PROMPTS = [
  'const config = vscode.workspace.',
  'const model = await ctx.models.',
  'void vscode.commands.',
  'const started = Date.',
];

/**
 * Typed with a typo as its last word, which the trained model should take for "network": two letters of it
 * swapped here rather than spelled out, so that this file (part of the workspace) never teaches the typo.
 */
const TYPO_SENTENCE = `Nextword serves the n-gram model while the ${'network'.slice(0, 4)}${'network'[5]}${'network'[4]}${'network'.slice(6)}`;

interface Options {
  vsix?: string;
  skipBuild: boolean;
  out: string;
  minutes: number;
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const minutes = Number(value('--minutes') ?? 3);
  if (!(minutes > 0)) throw new Error('--minutes must be a positive number');
  return {
    vsix: value('--vsix'),
    skipBuild: argv.includes('--skip-build'),
    out: path.resolve(value('--out') ?? path.join(ROOT, 'media', 'screenshots')),
    minutes,
    keep: argv.includes('--keep'),
  };
}

/** Copies the project's tracked files into `<into>/nextword` and returns that folder. */
function projectWorkspace(into: string): string {
  const r = spawnSync('git', ['ls-files', '-z', '--', ...PROJECT_PATHS], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ls-files failed (the harness copies this repository's tracked files): ${r.stderr || r.error}`);
  const files = r.stdout.split('\0').filter((f) => f && !LEFT_OUT.test(f));
  const workspace = path.join(into, 'nextword');
  for (const f of files) {
    mkdirSync(path.dirname(path.join(workspace, f)), { recursive: true });
    copyFileSync(path.join(ROOT, f), path.join(workspace, f));
  }
  console.log(`screenshots: the workspace is ${files.length} files of this repository`);
  return workspace;
}

type Clip = { x: number; y: number; width: number; height: number };

/** The window region around the active editor's cursor: `above` pixels over its line, `below` under it. */
async function aroundCursor(page: Page, above = 190, below = 70): Promise<Clip> {
  const group = await page.locator('.editor-group-container.active').boundingBox();
  const cursor = await page.locator('.editor-group-container.active .monaco-editor .cursors-layer .cursor').first().boundingBox();
  if (!group || !cursor) throw new Error('no active editor with a cursor to frame');
  const top = Math.max(group.y, cursor.y - above);
  const bottom = Math.min(group.y + group.height, cursor.y + cursor.height + below);
  return { x: Math.round(group.x), y: Math.round(top), width: Math.round(Math.min(group.width, 980)), height: Math.round(bottom - top) };
}

/** The bottom-right corner of the window: notifications and the status bar's right end. */
async function notificationCorner(page: Page, toastText: string): Promise<Clip> {
  const toast = await page.locator('.notifications-toasts .notification-toast', { hasText: toastText }).first().boundingBox();
  if (!toast) throw new Error(`no notification with "${toastText}" to frame`);
  const x = Math.max(0, Math.round(toast.x) - 220);
  const y = Math.max(0, Math.round(toast.y) - 24);
  return { x, y, width: VIEWPORT.width - x, height: VIEWPORT.height - y };
}

class Scenes {
  readonly shown: Record<string, unknown> = {};

  constructor(
    readonly wb: Workbench,
    readonly out: string,
    readonly minutes: number,
  ) {}

  get page(): Page {
    return this.wb.page;
  }

  async shoot(name: string, clip?: Clip): Promise<void> {
    await this.page.mouse.move(200, 8); // over the empty title bar: no hover on what is shown
    await this.page.waitForTimeout(300);
    this.save(name, await this.page.screenshot(clip ? { clip } : {}));
  }

  /** A screenshot as `<name>.png` in the output folder, with a palette (palette-png.ts). */
  save(name: string, png: Buffer): void {
    const file = path.join(this.out, `${name}.png`);
    const small = toPalettePng(png);
    // Read back: the picture written is the one taken, pixel for pixel within the palette's rounding.
    const [taken, written] = [PNG.sync.read(png), PNG.sync.read(small)];
    let worst = 0;
    for (let i = 0; i < taken.data.length; i++) if (i % 4 !== 3) worst = Math.max(worst, Math.abs(taken.data[i]! - written.data[i]!));
    if (written.width !== taken.width || written.height !== taken.height || worst > 48) throw new Error(`${name}.png: the palette picture differs from the screenshot (${written.width}×${written.height}, a channel off by ${worst})`);
    writeFileSync(file, small);
    console.log(`screenshots: ${path.relative(ROOT, file)}`);
  }

  /** The walkthrough, opened from the command palette. */
  async walkthrough(): Promise<void> {
    await this.wb.runCommand('Nextword: Get Started');
    await this.page.getByText('Type, and take what you want').first().waitFor({ state: 'visible', timeout: 15_000 });
    // Without the side bar the page is wide enough to show each step's page beside the steps.
    await this.page.keyboard.press('Control+B');
    // The step's page (media/walkthrough/type.md) is drawn in a webview: its text lives in a nested frame.
    await waitFor("the walkthrough step's page", () => this.wb.webviewText((t) => t.includes('take the next word')), 20_000, 250);
    await this.page.waitForTimeout(500);
    await this.shoot('walkthrough');
    await this.page.keyboard.press('Control+B');
  }

  /** The one suggestion to train (10 s after activation in a trusted workspace with text and no model); Train Now. */
  async firstRunSuggestion(): Promise<void> {
    const toast = this.wb.toast('Train Now');
    await toast.waitFor({ state: 'visible', timeout: 40_000 });
    await this.page.waitForTimeout(800); // the toast slides in
    this.shown.firstRun = (await this.wb.toastTexts()).find((t) => t.includes('Train Now'));
    await this.shoot('first-run', await notificationCorner(this.page, 'Train Now'));
    await toast.getByRole('button', { name: 'Train Now' }).click();
    await this.page.mouse.move(200, 8); // no tooltip left where the button was
  }

  /** Training's notification once it reports progress and time left, then its success message. */
  async training(): Promise<void> {
    // Once a tenth is done, when the time left is an estimate worth showing.
    const progress = /Learning from .+ · (\d+)% · about .+ left/;
    const text = await waitFor('training to report its progress and time left', async () => (await this.wb.toastTexts()).find((t) => Number(progress.exec(t)?.[1] ?? 0) >= 10), (this.minutes * 60 + 90) * 1000, 250);
    this.shown.training = text;
    await this.page.waitForTimeout(300);
    await this.shoot('training', await notificationCorner(this.page, 'Learning from'));
    // The notification's link opens the training view, which draws the run as it goes.
    await this.wb.toast('Learning from').getByRole('link', { name: 'Show Training' }).click();
    const live = await waitFor('the training view to draw the run under way', () => this.wb.webviewText((t) => /Learning from .+ · \d+%/.test(t)), 30_000, 250);
    this.shown.trainingViewLive = /Learning from[^\n]*/.exec(live)?.[0];
    const done = await waitFor('training to finish with its success message', async () => (await this.wb.toastTexts()).find((t) => /keystrokes/.test(t)), (this.minutes * 60 + 180) * 1000, 1000);
    this.shown.trained = done;
    await this.page.waitForTimeout(800);
    await this.shoot('trained', await notificationCorner(this.page, 'keystrokes'));
    await this.dismissToasts();
  }

  async dismissToasts(): Promise<void> {
    await this.wb.runCommand('Notifications: Clear All Notifications');
    await this.page.waitForTimeout(300);
  }

  /**
   * Types each prompt on a new last line of `file` until one brings ghost text that `ok` accepts; the
   * prompts that did not are removed again. Returns the prompt and its ghost text, the ghost text still shown.
   */
  async firstCompleted(file: string, prompts: string[], ok: (ghost: string) => boolean): Promise<{ prompt: string; ghost: string }> {
    await this.wb.openFile(file);
    await this.wb.newParagraphAtEnd();
    const tried: { prompt: string; ghost: string }[] = [];
    for (const prompt of prompts) {
      await this.wb.type(prompt);
      const ghost = await this.wb.waitForGhostText(`ghost text after "${prompt}"`, ok, 3000).catch(() => this.wb.ghostText());
      tried.push({ prompt, ghost });
      console.log(`screenshots: ${file}: "${prompt}" → "${ghost}"`);
      if (ok(ghost)) {
        this.shown[`tried ${file}`] = tried;
        return { prompt, ghost };
      }
      await this.page.keyboard.press('Escape');
      await this.page.keyboard.press('Shift+Home');
      await this.page.keyboard.press('Backspace');
    }
    throw new Error(`no prompt brought ghost text in ${file}: ${JSON.stringify(tried)}`);
  }

  /** Prose ghost text after one word is taken with Ctrl+Right: the rest still waits. */
  async acceptWord(): Promise<void> {
    const { prompt, ghost } = await this.firstCompleted('README.md', PROSE_PROMPTS, (g) => g.trim().split(/\s+/).length >= 2);
    this.shown.prose = prompt + ghost;
    await this.page.keyboard.press('Control+ArrowRight');
    const rest = await waitFor('the ghost text to shrink by one word', async () => {
      const g = await this.wb.ghostText();
      return g !== ghost && ghost.endsWith(g) ? g : undefined;
    }, 5000);
    this.shown.acceptWord = { took: ghost.slice(0, ghost.length - rest.length), left: rest };
    await this.shoot('accept-word', await aroundCursor(this.page));
    await this.revert();
  }

  /** The active editor back to the file on disk: each scene types into an unchanged file. */
  async revert(): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.wb.runCommand('File: Revert File');
    await waitFor('the file to be reverted', async () => ((await this.page.locator('.tab.active.dirty').count()) === 0 ? true : undefined), 5000);
  }

  async ghostTextCode(): Promise<void> {
    const { prompt, ghost } = await this.firstCompleted(CODE_FILE, CODE_PROMPTS, (g) => g.trim().length >= 3);
    this.shown.code = prompt + ghost;
    await this.shoot('ghost-text-code', await aroundCursor(this.page));
    await this.revert();
  }

  /**
   * Surprising words, turned on from the command palette: a sentence with a typo typed at the end of
   * README.md, and the typo's hover.
   */
  async surprisingWords(): Promise<void> {
    await this.wb.runCommand('Nextword: Highlight Surprising Words On or Off');
    await this.wb.openFile('README.md');
    await this.wb.newParagraphAtEnd();
    await this.wb.type(TYPO_SENTENCE);
    const clip = await aroundCursor(this.page, 190, 70);
    // The typo is underlined once the model has scored the view; its hover, asked for from the keyboard
    // with the cursor in the word, says what the model expected.
    await this.page.keyboard.press('ArrowLeft');
    const hover = this.page.locator('.monaco-hover', { hasText: 'did you mean' });
    await waitFor('the hover of the typo', async () => {
      await this.wb.runCommand('Show or Focus Hover');
      await this.page.waitForTimeout(500);
      if (await hover.isVisible()) return true;
      await this.page.keyboard.press('Escape');
      return undefined;
    }, 30_000, 1000);
    this.shown.surprisingWords = (await hover.innerText()).replace(/\s+/g, ' ').trim();
    await this.page.waitForTimeout(300);
    await this.page.screenshot({ path: path.join(this.out, 'surprising-words.png'), clip });
    console.log(`screenshots: ${path.relative(ROOT, path.join(this.out, 'surprising-words.png'))}`);
    await this.revert();
    await this.wb.runCommand('Nextword: Highlight Surprising Words On or Off');
    await this.dismissToasts();
  }

  /** Show Files by Perplexity: the workspace's files, highest perplexity first, in a quick pick. */
  async filesByPerplexity(): Promise<void> {
    await this.wb.runCommand('Nextword: Show Files by Perplexity');
    // The quick pick comes once every file is scored (the notification counts them meanwhile).
    const title = this.page.locator('.quick-input-widget .quick-input-title', { hasText: 'Files by perplexity under' });
    await title.waitFor({ state: 'visible', timeout: 300_000 });
    await this.page.locator('.quick-input-list .monaco-list-row').first().waitFor({ state: 'visible', timeout: 10_000 });
    await this.page.waitForTimeout(400);
    this.shown.filesByPerplexity = (await this.page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).slice(0, 5).map((t) => t.replace(/\s+/g, ' ').trim());
    const box = await this.page.locator('.quick-input-widget').boundingBox();
    if (!box) throw new Error('no quick pick to frame');
    await this.shoot('files-by-perplexity', { x: Math.round(box.x) - 12, y: 0, width: Math.round(box.width) + 24, height: Math.round(box.y + box.height) + 12 });
    await this.page.keyboard.press('Escape');
  }

  /** The status item's tooltip once ghost text was accepted: the keystrokes it saved. */
  async savingsTooltip(): Promise<void> {
    const item = this.page.locator('.part.statusbar [aria-label^="Nextword"]').first();
    const saved = this.page.locator('.monaco-hover, .workbench-hover', { hasText: 'saved you' }).first();
    await waitFor('the status item\'s tooltip with the keystrokes saved', async () => {
      await item.hover();
      await this.page.waitForTimeout(800);
      if (await saved.isVisible()) return true;
      await this.page.mouse.move(200, 8);
      return undefined;
    }, 20_000, 500);
    this.shown.savings = (await saved.innerText()).replace(/\s+/g, ' ').trim().slice(-200);
    const box = await saved.boundingBox();
    if (!box) throw new Error('no tooltip to frame');
    const x = Math.max(0, Math.round(box.x) - 12);
    const y = Math.max(0, Math.round(box.y) - 12);
    // Not shoot(): the mouse stays on the item, or the tooltip goes.
    this.save('savings', await this.page.screenshot({ clip: { x, y, width: Math.min(VIEWPORT.width - x, Math.round(box.width) + 24), height: VIEWPORT.height - y } }));
    await this.page.mouse.move(200, 8);
  }

  /**
   * The training view, from the status menu, once the run is over and ghost text was taken: the run's
   * chart, what it read, what ghost text saved, the runs. A taller window for it: the page is long.
   */
  async trainingView(): Promise<void> {
    await this.page.setViewportSize({ width: VIEWPORT.width, height: 1400 });
    try {
      await this.page.locator('.part.statusbar [aria-label^="Nextword"]').first().click();
      await this.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show Training' }).first().click();
      const text = await waitFor('the training view with the finished run and the keystrokes saved', () => this.wb.webviewText((t) => /Learned from/.test(t) && /keystrokes today/.test(t)), 30_000, 250);
      this.shown.trainingView = text.split('\n').filter((l) => /Learned from|keystrokes today|validation files, typing/.test(l));
      await this.page.waitForTimeout(500);
      const editor = await this.page.locator('.part.editor').boundingBox();
      if (!editor) throw new Error('no editor area to frame');
      await this.shoot('training-view', { x: Math.round(editor.x), y: Math.round(editor.y), width: Math.round(Math.min(editor.width, 860)), height: Math.round(editor.height) });
    } finally {
      await this.page.setViewportSize(VIEWPORT);
    }
  }

  /** The status item and its menu. */
  async statusMenu(): Promise<void> {
    const item = this.page.locator('.part.statusbar [aria-label^="Nextword"]').first();
    this.shown.statusItem = await item.getAttribute('aria-label');
    await item.click();
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show Model Info' }).first().waitFor({ state: 'visible', timeout: 10_000 });
    await this.page.waitForTimeout(400); // the menu fades in
    this.shown.statusMenu = (await this.page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    const menu = await this.page.locator('.quick-input-widget').boundingBox();
    if (!menu) throw new Error('no menu to frame');
    const pad = 12;
    await this.shoot('status-menu', { x: Math.round(menu.x) - pad, y: 0, width: Math.round(menu.width) + 2 * pad, height: Math.round(menu.y + menu.height) + pad });
    await this.page.keyboard.press('Escape');
  }

  /**
   * An animated capture: typing a sentence at the end of README.md key by key, taking the ghost text word
   * by word (Ctrl+Right) and whole (Tab). One frame per key, captured 120 ms after it (ghost text is on
   * screen about 85 ms after a key: scripts/bench/key-to-ghost.ts).
   */
  async typingAnimation(): Promise<void> {
    const { prompt } = await this.firstCompleted('README.md', PROSE_PROMPTS, (g) => g.trim().split(/\s+/).length >= 2);
    // Start over on an empty line with the prompt that works, and frame the lines above it.
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Shift+Home');
    await this.page.keyboard.press('Backspace');
    await this.page.waitForTimeout(300);
    const clip = await aroundCursor(this.page, 150, 60);
    const frames: Frame[] = [];
    const frame = async (delayMs: number) => frames.push({ png: await this.page.screenshot({ clip }), delayMs });
    await frame(800);
    for (const ch of prompt) {
      await this.page.keyboard.type(ch);
      await this.page.waitForTimeout(120);
      await frame(110);
    }
    const ghost = await this.wb.waitForGhostText('ghost text in the animation', (g) => g.trim().split(/\s+/).length >= 2, 5000);
    await frame(1400);
    await this.page.keyboard.press('Control+ArrowRight');
    await this.page.waitForTimeout(150);
    await frame(900);
    await this.page.keyboard.press('Tab');
    await this.page.waitForTimeout(150);
    await frame(2500);
    await this.revert();
    this.shown.animation = { typed: prompt, ghost, frames: frames.length };
    const file = path.join(this.out, 'typing.gif');
    writeFileSync(file, encodeGif(frames));
    console.log(`screenshots: ${path.relative(ROOT, file)} (${frames.length} frames)`);
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const vsix = o.vsix ? path.resolve(o.vsix) : packageVsix('nextword-screenshots-linux-x64.vsix', { skipBuild: o.skipBuild });
  mkdirSync(o.out, { recursive: true });
  const dir = tempDir('screenshots');
  const workspace = projectWorkspace(dir);
  const server = await startCodeServer({
    workspace,
    dir,
    vsix,
    settings: {
      'nextword.training.timeBudgetMinutes': o.minutes,
      'editor.fontSize': 15,
      'editor.minimap.enabled': false,
      'editor.cursorBlinking': 'solid',
      'workbench.colorTheme': 'Default Dark Modern',
      'workbench.welcomePage.walkthroughs.openOnInstall': false,
    },
  });
  const browser = await launchChromium(dir);
  let ok = false;
  try {
    const page = await browser.newPage({ viewport: VIEWPORT });
    const wb = new Workbench(page, workspace, o.out);
    await wb.goto(server.workbenchUrl());
    await wb.ready();
    await waitFor('the Nextword status bar item', async () => ((await wb.statusBarLabels('Nextword')).length ? true : undefined), 30_000);
    const scenes = new Scenes(wb, o.out, o.minutes);
    try {
      await scenes.walkthrough();
      await scenes.firstRunSuggestion();
      await scenes.training();
      await scenes.acceptWord();
      await scenes.ghostTextCode();
      await scenes.surprisingWords();
      await scenes.filesByPerplexity();
      await scenes.statusMenu();
      await scenes.typingAnimation();
      await scenes.savingsTooltip();
      await scenes.trainingView();
      ok = true;
    } catch (err) {
      await page.screenshot({ path: path.join(dir, 'FAILED.png') }).catch(() => undefined);
      throw err;
    } finally {
      writeFileSync(path.join(o.out, 'scenes.json'), JSON.stringify(scenes.shown, null, 2) + '\n');
    }
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
    if (ok && !o.keep) removeDir(dir);
    else console.log(`screenshots: kept ${dir} (code-server.log${ok ? '' : ', FAILED.png'})`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`screenshots: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
