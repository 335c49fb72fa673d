// Surprisal as an error finder on real projects: `nextword bench errors` on each project's held-out files
// with the model trained on the rest (the runs of scripts/bench/ksr-projects.sh: OUT/<project>/model and
// OUT/<project>/held-out), for several seeds (different errors in the same files), pooled per kind and model.
// Prints a Markdown table per group of projects: the projects the rule was chosen on (--tune) and the others.
//
//   npm run bench:surprisal -- [--out runs/ksr-o6] [--tune ajv,npm-cli,python-stdlib] [--seeds 3] [--every 100]
//                              [--margin BITS] [--near-miss P] [project…]
//
// Default projects: every folder of OUT that holds model/ and held-out/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { ErrorFigures } from '../../src/cli/bench-errors.js';

const ROOT = path.resolve(__dirname, '..', '..');

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

interface Pool {
  errors: number;
  words: number;
  found: number[];
  flagged: number;
  ruleFound: number;
}

function main(): void {
  const args = process.argv.slice(2);
  const out = path.resolve(option(args, '--out') ?? path.join(ROOT, 'runs', 'ksr-o6'));
  const tune = new Set((option(args, '--tune') ?? 'ajv,npm-cli,python-stdlib').split(',').filter(Boolean));
  const seeds = Number(option(args, '--seeds') ?? 3);
  const every = option(args, '--every') ?? '100';
  const rule = ['--margin', '--near-miss'].flatMap((o) => (option(args, o) ? [o, option(args, o)!] : []));
  const named = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const projects = named.length
    ? named
    : readdirSync(out).filter((p) => existsSync(path.join(out, p, 'model', 'model.json')) && existsSync(path.join(out, p, 'held-out'))).sort();
  if (!projects.length) throw new Error(`no project runs in ${out} (scripts/bench/ksr-projects.sh makes them)`);

  const pools = new Map<string, Map<string, Pool>>(); // group → "kind method" → pool
  for (const project of projects) {
    for (let seed = 1; seed <= seeds; seed++) {
      const r = spawnSync(
        process.execPath,
        [path.join(ROOT, 'bin', 'nextword.js'), 'bench', 'errors', '--model', path.join(out, project, 'model'), path.join(out, project, 'held-out'), '--seed', String(seed), '--every', every, ...rule, '--json'],
        { encoding: 'utf8', maxBuffer: 64 << 20 },
      );
      if (r.status !== 0) throw new Error(`bench errors failed on ${project}: ${r.stderr}`);
      const { results } = JSON.parse(r.stdout) as { results: ErrorFigures[] };
      const group = tune.has(project) ? 'chosen on' : 'held out';
      const pool = pools.get(group) ?? new Map<string, Pool>();
      pools.set(group, pool);
      for (const f of results) {
        // The files as they are do not change with the seed: counted once.
        if (f.kind === 'none' && seed > 1) continue;
        const key = `${f.kind} ${f.method}`;
        const p = pool.get(key) ?? { errors: 0, words: 0, found: f.foundErrors.map(() => 0), flagged: 0, ruleFound: 0 };
        p.errors += f.errors;
        p.words += f.words;
        f.foundErrors.forEach((n, i) => (p.found[i]! += n));
        p.flagged += f.ruleFlagged;
        p.ruleFound += f.ruleFoundErrors;
        pool.set(key, p);
      }
      console.error(`surprisal-errors: ${project} seed ${seed} done`);
    }
  }
  const pct = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)} %` : '—');
  for (const [group, pool] of [...pools.entries()].sort()) {
    const members = projects.filter((p) => (tune.has(p) ? 'chosen on' : 'held out') === group);
    console.log(`\n### Projects the rule was ${group === 'chosen on' ? 'chosen on' : 'not chosen on'}: ${members.join(', ')} (${seeds} seeds, one error per ${every} words)\n`);
    console.log('| errors | model | errors planted | found in the top 1 % | top 5 % | the rule flags | of the errors |');
    console.log('|---|---|---|---|---|---|---|');
    for (const [key, p] of pool) {
      const [kind, method] = key.split(' ');
      if (kind === 'none') console.log(`| none | ${method} | 0 | | | ${pct(p.flagged, p.words)} of ${p.words.toLocaleString('en-US')} words | |`);
      else console.log(`| ${kind} | ${method} | ${p.errors} | ${pct(p.found[0]!, p.errors)} | ${pct(p.found[1]!, p.errors)} | ${pct(p.flagged, p.words)} | ${pct(p.ruleFound, p.errors)} |`);
    }
  }
}

main();
