// Whose code allocated on a thread: reads a V8 sampling heap profile (.heapprofile, e.g. the extension host's
// from the load test with NEXTWORD_LOAD_HEAP_PROFILE=<file>, collected objects included) and splits the
// sampled bytes between Nextword's code (a frame from this repository's dist/ or src/ on the stack) and the
// rest, with the functions that allocated most on each side.
//
//   node --import tsx scripts/bench/allocations.ts out/in-host/large.heapprofile [--top 12]

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  id: number;
  children: HeapNode[];
}

const ROOT = path.resolve(__dirname, '..', '..');

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' } } });
  const file = positionals[0];
  if (!file) throw new Error('usage: allocations.ts <file.heapprofile> [--top N]');
  const top = Number(values.top ?? 12);
  const { head, samples } = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode; samples?: { size: number; nodeId: number }[] };
  const ours = (url: string) => url.includes(path.join(ROOT, 'dist')) || url.includes(path.join(ROOT, 'src'));
  const totals = { nextword: 0, other: 0 };
  const bySite: Record<'nextword' | 'other', Map<string, number>> = { nextword: new Map(), other: new Map() };
  const walk = (node: HeapNode, inOurs: boolean, outermost: string | undefined): void => {
    const f = node.callFrame;
    const mine = inOurs || ours(f.url);
    const site = `${f.functionName || '(anonymous)'} ${path.basename(f.url)}:${f.lineNumber + 1}`;
    const attributed = mine ? (outermost ?? (ours(f.url) ? site : undefined)) : undefined;
    if (node.selfSize > 0) {
      const side = mine ? 'nextword' : 'other';
      totals[side] += node.selfSize;
      const key = mine ? `${attributed} → ${site}` : site;
      bySite[side].set(key, (bySite[side].get(key) ?? 0) + node.selfSize);
    }
    for (const c of node.children) walk(c, mine, attributed);
  };
  walk(head, false, undefined);
  const mb = (b: number) => (b / 1e6).toFixed(1);
  const all = totals.nextword + totals.other;
  console.log(`${mb(all)} MB sampled (${samples?.length ?? '?'} samples): Nextword's code ${mb(totals.nextword)} MB (${((100 * totals.nextword) / all).toFixed(1)} %), the rest ${mb(totals.other)} MB`);
  for (const side of ['nextword', 'other'] as const) {
    console.log(`\n${side === 'nextword' ? "Nextword's (outermost own function → allocating function)" : 'the rest'}:`);
    for (const [site, bytes] of [...bySite[side]].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${mb(bytes).padStart(7)} MB  ${site}`);
  }
}

main();
