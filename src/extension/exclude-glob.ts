// The `exclude` glob that Train on Workspace passes to `workspace.findFiles`: with an explicit exclude,
// findFiles applies no setting of its own, so `files.exclude`, `search.exclude`, `nextword.training.exclude` and
// the folders that never hold the user's writing are merged into one `{a,b,…}` group here. Pure.
//
// VS Code globs do not nest braces (`{a,{b,c}}` ends the group at the first `}`), so each pattern's own
// brace groups are expanded first: `**/*.{js,map}` becomes `**/*.js` and `**/*.map`.

import { normalizeGlob } from '../core/corpus/exclude-globs.js';
import { DEFAULT_EXCLUDED_DIRS } from '../core/corpus/file-filters.js';

/** Patterns expanded from one brace group at most; a pathological pattern is kept as it is beyond that. */
const MAX_EXPANSION = 256;

/**
 * The patterns of a `files.exclude` / `search.exclude` value that are switched on: keys whose value is
 * `true`. Sibling clauses (`{ "when": "$(basename).ts" }`) cannot be expressed in a findFiles glob and are
 * left out, as are `false` entries (a user switching a default off).
 */
export function enabledPatterns(setting: unknown): string[] {
  if (typeof setting !== 'object' || setting === null || Array.isArray(setting)) return [];
  return Object.entries(setting as Record<string, unknown>)
    .filter(([pattern, on]) => on === true && pattern.trim() !== '')
    .map(([pattern]) => pattern);
}

/** `a{b,c}d{e,f}` → `abde`, `abdf`, `acde`, `acdf`. Unbalanced braces are taken literally. */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  // The matching close, counting nested groups.
  let depth = 0;
  let close = -1;
  for (let i = open; i < pattern.length; i++) {
    if (pattern[i] === '{') depth++;
    else if (pattern[i] === '}' && --depth === 0) {
      close = i;
      break;
    }
  }
  if (close < 0) return [pattern];
  const head = pattern.slice(0, open);
  const tails = expandBraces(pattern.slice(close + 1));
  const out: string[] = [];
  for (const choice of splitTopLevel(pattern.slice(open + 1, close))) {
    for (const mid of expandBraces(choice)) {
      for (const tail of tails) {
        out.push(head + mid + tail);
        if (out.length > MAX_EXPANSION) return [pattern];
      }
    }
  }
  return out;
}

/** Splits on commas outside nested braces. */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

/**
 * One glob excluding every pattern given plus the default excluded folders (node_modules, .git, dist…,
 * see file-filters.ts), for findFiles. Patterns are trimmed, brace-expanded, stripped of a leading "./"
 * and deduplicated; ones holding a comma after expansion cannot sit in a group and are dropped (they are
 * returned in `dropped` so the caller can log them).
 */
export function excludeGlob(patterns: readonly string[]): { glob: string; dropped: string[] } {
  const seen = new Set<string>();
  const dropped: string[] = [];
  const add = (p: string) => {
    const clean = normalizeGlob(p);
    if (clean === '') return;
    if (clean.includes(',') || clean.includes('{') || clean.includes('}')) dropped.push(p);
    else seen.add(clean);
  };
  for (const dir of [...DEFAULT_EXCLUDED_DIRS].sort()) add(`**/${dir}`);
  for (const p of patterns) for (const e of expandBraces(p)) add(e);
  return { glob: `{${[...seen].join(',')}}`, dropped };
}
