// Renders media/icon.svg to media/icon.png (128×128, transparent corners) with headless Chromium.
// Usage: node media/render-icon.mjs   (needs playwright-core and /usr/bin/chromium, or CHROMIUM=path)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';

const here = path.dirname(new URL(import.meta.url).pathname);
const svg = readFileSync(path.join(here, 'icon.svg'), 'utf8');
// Chromium's config and cache folders in a temp folder, not the home folder.
const home = mkdtempSync(path.join(tmpdir(), 'nextword-icon-'));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  env: { ...process.env, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home },
});
try {
  const page = await browser.newPage({ viewport: { width: 128, height: 128 }, deviceScaleFactor: 1 });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
  await page.locator('svg').screenshot({ path: path.join(here, 'icon.png'), omitBackground: true });
} finally {
  await browser.close();
  rmSync(home, { recursive: true, force: true });
}
console.log('wrote media/icon.png');
