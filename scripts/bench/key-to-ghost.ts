// Key to ghost text on screen, as a user waits for it, in a real VS Code (code-server) and Chromium: the
// end-to-end test's figure with enough keys to compare two builds. Each round starts a fresh code-server
// on a copy of the fixture workspace (test/fixtures/e2e-workspace) with the packaged VSIX (its bundled
// default model), opens draft.md and types prompts like a person (40 ms between keys). Before the last key
// of a prompt the ghost text is dismissed (Escape), so what appears after it is that key's answer, not the
// rest of an earlier suggestion. Timed in the page: from the key's keydown event to the first animation
// frame that shows ghost text; and, within that, to the last message the page received from the server
// before the frame (the answer's arrival: the rest is the workbench drawing it). VS Code itself waits 50 ms
// after a key before it asks the provider.
//
// With several VSIXs the rounds alternate between them (A B A B …), so each is measured under the same
// conditions of this session. Medians and quartiles per VSIX; --json for the raw figures.
//
//   node --import tsx scripts/bench/key-to-ghost.ts [--vsix a.vsix [--vsix b.vsix …]] [--rounds N] [--keys N] [--setting key=json …] [--json]
//
// Without --vsix it packages linux-x64 first (scripts/package.mjs). Needs code-server and Chromium
// (scripts/e2e/install-code-server.sh).
import * as path from 'node:path';
import { copyWorkspace, FIXTURE_WORKSPACE, launchChromium, packageVsix, removeDir, startCodeServer, tempDir } from '../e2e/code-server.js';
import { Workbench } from '../e2e/workbench.js';

/** Prompts whose last key is a space: the next word is asked for. Plain English, as the bundled model knows. */
const PROMPTS = [
  'At dawn the tide was ', 'The ferry came in and ', 'She looked out of the ', 'It was the end of the ',
  'He said that he would ', 'They walked along the ', 'In the morning we went ', 'There was nothing in the ',
  'I do not know what ', 'The old man sat by the ', 'We could see the ', 'She opened the door and ',
  'All of a sudden the ', 'When the rain stopped ', 'The boat was tied to the ', 'It seemed to me that ',
  'After a long time ', 'The children ran down to the ', 'He took off his ', 'Nobody knew where the ',
];

interface KeyTiming {
  /** keydown → first frame showing ghost text. */
  screenMs: number;
  /** keydown → the last message from the server before that frame (the answer's arrival). */
  answerMs: number | null;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function options(args: string[], name: string): string[] {
  return args.flatMap((a, i) => (a === name && args[i + 1] ? [args[i + 1]!] : []));
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function summary(values: number[]): { n: number; p25: number; median: number; p75: number } {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p25: quantile(s, 0.25), median: quantile(s, 0.5), p75: quantile(s, 0.75) };
}

async function round(vsix: string, keys: number, offset: number, extra: Record<string, unknown>): Promise<KeyTiming[]> {
  const dir = tempDir('key-to-ghost');
  const workspace = copyWorkspace(FIXTURE_WORKSPACE, dir);
  const server = await startCodeServer({
    workspace,
    dir,
    vsix,
    settings: { 'nextword.completion.minConfidence': 0, 'nextword.completion.maxWords': 4, ...extra },
  });
  const browser = await launchChromium(dir);
  const timings: KeyTiming[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const wb = new Workbench(page, workspace, dir);
    await wb.goto(server.workbenchUrl());
    await wb.ready();
    await wb.openFile('draft.md');
    await wb.newParagraphAtEnd();
    // Nextword activates after startup and then loads its model: wait for a first ghost text before timing.
    // A request made before the model is ready shows nothing, and the editor asks again only at the next key.
    for (let tries = 0; ; tries++) {
      await wb.type('The sea was ');
      try {
        await wb.waitForGhostText('a first ghost text (the model loaded)', undefined, 5000);
        break;
      } catch (e) {
        if (tries === 11) throw e;
      }
    }
    for (let k = 0; k < keys; k++) {
      const prompt = PROMPTS[(offset + k) % PROMPTS.length]!;
      await page.keyboard.press('Escape');
      await page.keyboard.press('Enter');
      await wb.type(prompt.slice(0, -1));
      // Whatever the earlier keys showed is dismissed: the ghost text timed is the last key's answer.
      await page.waitForTimeout(150);
      await wb.dismissGhostText();
      await page.waitForTimeout(100);
      const r = await wb.pressAndTimeGhostText(prompt.slice(-1));
      if (r) timings.push({ screenMs: r.screenMs, answerMs: r.answerMs ?? null });
    }
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
    removeDir(dir);
  }
  return timings;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rounds = Number(option(args, '--rounds') ?? 2);
  const keys = Number(option(args, '--keys') ?? 20);
  const extra = Object.fromEntries(
    options(args, '--setting').map((kv) => {
      const eq = kv.indexOf('=');
      if (eq < 1) throw new Error(`--setting wants key=value (JSON), got ${kv}`);
      return [kv.slice(0, eq), JSON.parse(kv.slice(eq + 1)) as unknown];
    }),
  );
  let vsixes = options(args, '--vsix').map((v) => path.resolve(v));
  if (!vsixes.length) vsixes = [packageVsix('nextword-bench-linux-x64.vsix')];
  const all = new Map<string, KeyTiming[]>(vsixes.map((v) => [v, []]));
  for (let i = 0; i < rounds; i++) {
    for (const v of vsixes) {
      let t: KeyTiming[];
      try {
        t = await round(v, keys, i * keys, extra);
      } catch (e) {
        // One round's failure (a slow start) loses that round, not the others'.
        console.error(`round ${i + 1} ${path.basename(v)} failed: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      all.get(v)!.push(...t);
      const s = summary(t.map((x) => x.screenMs));
      console.log(`round ${i + 1} ${path.basename(v)}: ${t.length}/${keys} keys, key to screen median ${s.median.toFixed(1)} ms`);
    }
  }
  const report = vsixes.map((v) => {
    const t = all.get(v)!;
    return {
      vsix: path.basename(v),
      keyToScreenMs: summary(t.map((x) => x.screenMs)),
      keyToAnswerMs: summary(t.flatMap((x) => (x.answerMs === null ? [] : [x.answerMs]))),
      answerToScreenMs: summary(t.flatMap((x) => (x.answerMs === null ? [] : [x.screenMs - x.answerMs]))),
      ...(args.includes('--json') ? { raw: t } : {}),
    };
  });
  if (args.includes('--json')) console.log(JSON.stringify(report, null, 2));
  else {
    const f = (s: { p25: number; median: number; p75: number }) => `${s.median.toFixed(1)} (${s.p25.toFixed(1)}–${s.p75.toFixed(1)})`;
    console.log('\nmedian (quartiles), ms      key → screen         key → answer arrives   answer → screen');
    for (const r of report) console.log(`${r.vsix.padEnd(26)} ${f(r.keyToScreenMs).padEnd(20)} ${f(r.keyToAnswerMs).padEnd(22)} ${f(r.answerToScreenMs)}   n=${r.keyToScreenMs.n}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`key-to-ghost: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
