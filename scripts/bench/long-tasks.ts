// What held a thread busy: reads a V8 CPU profile (.cpuprofile, e.g. the extension host's from the load
// test with NEXTWORD_LOAD_PROFILE=<file>) and lists every stretch of samples without an idle one that lasts
// longer than --min ms (default 50), with the functions that took its time, by self time and by the
// outermost function of our own code on the stack. A stretch may hold several turns of the event loop
// (work that yields with setImmediate never shows idle); with --turns <metrics.json>, it lists instead
// what ran in each turn that the load test saw come late (its `lateTurns`), which is what a user feels.
//
//   node --import tsx scripts/bench/long-tasks.ts out/in-host/large.cpuprofile [--min 50] [--top 6]
//   node --import tsx scripts/bench/long-tasks.ts out/in-host/large.cpuprofile --turns out/in-host/metrics.json

import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  console.error('usage: long-tasks.ts <file.cpuprofile> [--min MS] [--top N]');
  process.exit(2);
}
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const minMs = option('--min', 50);
const top = option('--top', 6);

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n: ProfileNode) => {
  const f = n.callFrame;
  const where = f.url ? ` ${f.url.replace(/^.*\/(out|dist|src|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'}${where}`;
};
const isIdle = (n: ProfileNode) => n.callFrame.functionName === '(idle)';
/** The outermost frame from our bundles (dist/ or out/), else the outermost frame with a URL. */
const origin = (id: number): string => {
  let ours: ProfileNode | undefined;
  let any: ProfileNode | undefined;
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur)!;
    if (/\/(dist|out)\/[^/]+\.js/.test(n.callFrame.url) && !n.callFrame.url.includes('node_modules')) ours = n;
    if (n.callFrame.url) any = n;
  }
  return ours ? label(ours) : any ? label(any) : label(byId.get(id)!);
};

// Sample i ran for timeDeltas[i + 1] µs (the delta of the next sample).
const times: number[] = [];
let t = profile.startTime;
for (const d of profile.timeDeltas) times.push((t += d));
const stretches: { from: number; to: number; late?: string }[] = [];
const turnsFile = (() => {
  const i = args.indexOf('--turns');
  return i >= 0 ? args[i + 1] : undefined;
})();
if (turnsFile) {
  // The last record with late turns (the load test's), on the profile's clock.
  const records = JSON.parse(readFileSync(turnsFile, 'utf8')) as { lateTurns?: { atS: number; ms: number; cpuMs?: number }[]; monotonicStartUs?: number }[];
  const record = records.filter((r) => r.lateTurns && r.monotonicStartUs).at(-1);
  if (!record) throw new Error(`${turnsFile} has no record with lateTurns and monotonicStartUs`);
  for (const turn of record.lateTurns!) {
    const endUs = record.monotonicStartUs! + turn.atS * 1e6;
    const startUs = endUs - turn.ms * 1000;
    const inside = times.map((t, i) => [t, i] as const).filter(([t]) => t >= startUs && t <= endUs);
    const computing = turn.cpuMs === undefined ? '' : `, ${turn.cpuMs} ms of it computing`;
    if (inside.length > 1) stretches.push({ from: inside[0]![1], to: inside.at(-1)![1], late: `${turn.ms} ms late${computing}` });
    else console.log(`\n  at ${turn.atS} s into the run: ${turn.ms} ms late${computing}; no samples (the thread was not running)`);
  }
} else {
  let from = -1;
  for (let i = 0; i < profile.samples.length; i++) {
    const idle = isIdle(byId.get(profile.samples[i]!)!);
    if (!idle && from < 0) from = i;
    if ((idle || i === profile.samples.length - 1) && from >= 0) {
      if ((times[i]! - times[from]!) / 1000 >= minMs) stretches.push({ from, to: i });
      from = -1;
    }
  }
}

const fmt = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `      ${(us / 1000).toFixed(1).padStart(6)} ms  ${k}`)
    .join('\n');
console.log(
  turnsFile
    ? `${stretches.length} late turns in ${((times.at(-1)! - profile.startTime) / 1e6).toFixed(1)} s of profile`
    : `${stretches.length} stretches over ${minMs} ms in ${((times.at(-1)! - profile.startTime) / 1e6).toFixed(1)} s of profile`,
);
for (const s of stretches) {
  const self = new Map<string, number>();
  const outer = new Map<string, number>();
  for (let i = s.from; i < s.to; i++) {
    const dt = times[i + 1]! - times[i]!;
    const id = profile.samples[i]!;
    const k = label(byId.get(id)!);
    self.set(k, (self.get(k) ?? 0) + dt);
    const o = origin(id);
    outer.set(o, (outer.get(o) ?? 0) + dt);
  }
  console.log(`\n  at ${((times[s.from]! - profile.startTime) / 1e6).toFixed(2)} s: ${s.late ?? `${((times[s.to]! - times[s.from]!) / 1000).toFixed(0)} ms busy`}`);
  console.log(`    self time:\n${fmt(self)}`);
  console.log(`    from:\n${fmt(outer)}`);
}
