// Driving VS Code's workbench (1.139, inside code-server) like a user: keyboard and what the screen shows.
// Selectors: scripts/e2e/README.md. Every wait has a deadline and says what it waited for.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';

/** Ghost text as the editor draws it: spaces may come as no-break spaces. */
function clean(text: string): string {
  return text.replace(/\u00a0/g, ' ');
}

/** The active editor's ghost text, as the editor draws it. */
const GHOST_SELECTOR = '.editor-group-container.active .monaco-editor .ghost-text-decoration';

/**
 * Run in the page before the workbench loads: records the time of every keydown (capture phase, first)
 * and of every message the page receives on a WebSocket (the last 2,000), for pressAndTimeGhostText.
 */
const KEY_PROBE = `(() => {
  const probe = { keys: [], messages: [] };
  globalThis.__nextwordProbe = probe;
  addEventListener('keydown', (e) => probe.keys.push(e.timeStamp), true);
  const add = WebSocket.prototype.addEventListener;
  WebSocket.prototype.addEventListener = function (type, listener, options) {
    if (type === 'message' && !this.__nextwordProbe) {
      this.__nextwordProbe = true;
      add.call(this, 'message', () => {
        probe.messages.push(performance.now());
        if (probe.messages.length > 2000) probe.messages.splice(0, 1000);
      });
    }
    return add.call(this, type, listener, options);
  };
})();`;

/** Polls `probe` until it returns a value other than undefined, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export class Workbench {
  private shot = 0;

  constructor(
    readonly page: Page,
    /** The workspace folder on disk (the server runs on this machine). */
    readonly workspace: string,
    /** Where screenshots go. */
    readonly artefacts: string,
  ) {}

  async ready(timeoutMs = 60_000): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
    // The status bar is drawn late; once it is there, the workbench takes keys.
    await this.page.locator('.part.statusbar').waitFor({ timeout: timeoutMs });
  }

  /** A numbered screenshot of the whole window, e.g. 03-ghost-text.png. */
  async screenshot(name: string): Promise<string> {
    this.shot++;
    const file = path.join(this.artefacts, `${String(this.shot).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Opens a workspace file with Quick Open and waits for its tab. */
  async openFile(relPath: string): Promise<void> {
    const name = path.basename(relPath);
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(relPath);
    // Quick Open fills its list asynchronously (recent files first): click the file's own row rather
    // than pressing Enter on whatever row is first at that moment.
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
    await row.waitFor({ timeout: 10_000 });
    await row.click();
    await this.page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 10_000 });
    await this.editor().click();
  }

  /** The active editor's text area. */
  editor(): Locator {
    return this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
  }

  /** Moves the cursor to the end of the document and starts a new paragraph. */
  async newParagraphAtEnd(): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Control+End');
    await this.page.keyboard.press('Enter');
    await this.page.keyboard.press('Enter');
  }

  /** Types like a person (one key event per character, with a short pause). */
  async type(text: string): Promise<void> {
    await this.page.keyboard.type(text, { delay: 40 });
  }

  /** The ghost text now shown in the active editor, or '' when there is none. */
  async ghostText(): Promise<string> {
    const parts = await this.page.locator(GHOST_SELECTOR).allTextContents();
    return clean(parts.join(''));
  }

  /** Opens the workbench at `url`, with the page's key timing in place (see pressAndTimeGhostText). */
  /** The text of the first webview's page (a frame other than the workbench's) that passes `ok`; undefined if none does. */
  async webviewText(ok: (text: string) => boolean): Promise<string | undefined> {
    for (const frame of this.page.frames()) {
      if (frame === this.page.mainFrame()) continue;
      const text = await frame.locator('body').innerText({ timeout: 500 }).catch(() => '');
      if (ok(text)) return text;
    }
    return undefined;
  }

  async goto(url: string): Promise<void> {
    await this.page.addInitScript({ content: KEY_PROBE });
    await this.page.goto(url);
  }

  /**
   * Presses `key` (one character) and times it in the page: from its keydown event to the first animation
   * frame that shows ghost text (what the user waits), and to the last message from the server before that
   * frame (the answer's arrival; the rest is the workbench drawing it). Undefined when no ghost text shows
   * within `timeoutMs`. Needs goto (the probe is installed before the workbench loads).
   */
  async pressAndTimeGhostText(key: string, timeoutMs = 5000): Promise<{ ghost: string; screenMs: number; answerMs: number | undefined } | undefined> {
    const keysBefore = (await this.page.evaluate('globalThis.__nextwordProbe.keys.length')) as number;
    // A string, not a function: a bundler's helpers for named functions do not exist in the page.
    const seen = this.page.evaluate(`new Promise((resolve) => {
      const probe = globalThis.__nextwordProbe, sel = ${JSON.stringify(GHOST_SELECTOR)}, before = ${keysBefore};
      const deadline = performance.now() + ${timeoutMs};
      function poll(t) {
        const keyAt = probe.keys.length > before ? probe.keys[before] : undefined;
        const text = keyAt === undefined ? '' : Array.from(document.querySelectorAll(sel)).map((e) => e.textContent || '').join('');
        if (keyAt !== undefined && t > keyAt && text.trim() !== '') {
          const msgs = probe.messages.filter((m) => m > keyAt && m <= t);
          resolve({ ghost: text, screenMs: t - keyAt, answerMs: msgs.length ? msgs[msgs.length - 1] - keyAt : undefined });
        } else if (performance.now() > deadline) resolve(undefined);
        else requestAnimationFrame(poll);
      }
      requestAnimationFrame(poll);
    })`) as Promise<{ ghost: string; screenMs: number; answerMs?: number } | undefined>;
    await this.page.keyboard.type(key);
    const r = await seen;
    return r ? { ghost: clean(r.ghost), screenMs: r.screenMs, answerMs: r.answerMs } : undefined;
  }

  /**
   * Types `text`, then waits for ghost text that satisfies `ok`. Before the last key any ghost text is
   * dismissed (Escape, once the earlier keys' answers are in), so what shows after it is that key's answer, not the rest of an earlier suggestion
   * kept as the user types through it. `ms`: the last key to that ghost text on screen
   * (pressAndTimeGhostText), when the first ghost text drawn after the key is the one waited for
   * (undefined otherwise: it was replaced by a later one, so the time would not be one answer's).
   */
  async typeAndTimeGhostText(text: string, what: string, ok: (ghost: string) => boolean, timeoutMs = 15_000): Promise<{ ghost: string; ms: number | undefined }> {
    await this.type(text.slice(0, -1));
    // The earlier keys' answers arrive first (VS Code asks 50 ms after a key), then go.
    await this.page.waitForTimeout(150);
    await this.dismissGhostText();
    const timed = await this.pressAndTimeGhostText(text.slice(-1), timeoutMs);
    const ms = timed && ok(timed.ghost) ? timed.screenMs : undefined;
    return { ghost: await this.waitForGhostText(what, ok, timeoutMs), ms };
  }

  /** Escape, until no ghost text is drawn. */
  async dismissGhostText(): Promise<void> {
    await waitFor('the ghost text to be dismissed', async () => {
      if ((await this.ghostText()) === '') return true;
      await this.page.keyboard.press('Escape');
      return undefined;
    }, 5000, 50);
  }

  /** Waits for ghost text that satisfies `ok` (default: any), and returns it. */
  async waitForGhostText(what: string, ok: (ghost: string) => boolean = (g) => g.trim().length > 0, timeoutMs = 15_000): Promise<string> {
    return waitFor(what, async () => {
      const g = await this.ghostText();
      return ok(g) ? g : undefined;
    }, timeoutMs);
  }

  /** Saves the active editor (Ctrl+S) and returns the file's text on disk once the save has landed. */
  async saveAndRead(relPath: string, mustContain: string): Promise<string> {
    await this.page.keyboard.press('Control+S');
    const file = path.join(this.workspace, relPath);
    return waitFor(`${relPath} to be saved with "${mustContain}"`, async () => {
      const text = readFileSync(file, 'utf8');
      return text.includes(mustContain) ? text : undefined;
    }, 10_000);
  }

  /** Runs a command from the command palette (F1) by its title, e.g. "Nextword: Train on Workspace". */
  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ timeout: 10_000 });
    await row.click();
  }

  /** The aria-labels of the status bar items whose label starts with `prefix`. */
  async statusBarLabels(prefix: string): Promise<string[]> {
    const labels = await this.page.locator('.part.statusbar [aria-label]').evaluateAll((els) =>
      els.map((e) => (e as unknown as { getAttribute(n: string): string | null }).getAttribute('aria-label') ?? ''),
    );
    return [...new Set(labels.filter((l) => l.startsWith(prefix)))];
  }

  /** The notification toast whose text contains `text`. */
  toast(text: string): Locator {
    return this.page.locator('.notifications-toasts .notification-toast', { hasText: text });
  }

  /** Texts of the visible notification toasts. */
  async toastTexts(): Promise<string[]> {
    return (await this.page.locator('.notifications-toasts .notification-toast').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }
}
