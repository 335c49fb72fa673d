// Driving VS Code's workbench (1.139, inside code-server) like a user: keyboard and what the screen shows.
// Selectors: /work/shared/notes/vscode-e2e.md. Every wait has a deadline and says what it waited for.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';

/** Ghost text as the editor draws it: spaces may come as no-break spaces. */
function clean(text: string): string {
  return text.replace(/\u00a0/g, ' ');
}

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
    const parts = await this.page.locator('.editor-group-container.active .monaco-editor .ghost-text-decoration').allTextContents();
    return clean(parts.join(''));
  }

  /**
   * Types `text`, then waits for ghost text that satisfies `ok`. `ms` is the time from pressing the last
   * key to that ghost text on screen, polled in the page on every animation frame — what the user waits —
   * when the first ghost text drawn after the key is the one waited for (undefined otherwise: it was
   * replaced by a later one, so the time would not be one answer's).
   */
  async typeAndTimeGhostText(text: string, what: string, ok: (ghost: string) => boolean, timeoutMs = 15_000): Promise<{ ghost: string; ms: number | undefined }> {
    await this.type(text.slice(0, -1));
    const before = await this.ghostText();
    const selector = '.editor-group-container.active .monaco-editor .ghost-text-decoration';
    const started = Date.now();
    await this.page.keyboard.type(text.slice(-1));
    let ms: number | undefined;
    try {
      const handle = await this.page.waitForFunction(
        ([sel, prev]) => {
          const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> } }).document;
          const t = Array.from(doc.querySelectorAll(sel)).map((e) => e.textContent ?? '').join('').replace(/\u00a0/g, ' ');
          return t.trim() !== '' && t !== prev ? t : undefined;
        },
        [selector, before] as const,
        { polling: 'raf', timeout: timeoutMs },
      );
      const first = clean((await handle.jsonValue()) as string);
      if (ok(first)) ms = Date.now() - started;
    } catch {
      // No new ghost text in time: the wait below reports what was expected.
    }
    return { ghost: await this.waitForGhostText(what, ok, timeoutMs), ms };
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
