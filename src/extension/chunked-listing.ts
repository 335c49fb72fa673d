// Lists a workspace folder's files in replies of bounded size. `workspace.findFiles` hands its whole result
// to the extension host in one message, deserialised in one go: a large workspace's listing stalls the
// host's event loop (docs/design-figures.md). Listed a few top-level folders at a time instead, each reply
// holds at most `chunk` files and the event loop runs between them.
//
// The first request covers everything, so a workspace of fewer than `chunk` files costs one reply, as
// before. If it comes back full, the folder is listed by directory, with globs still relative to the
// workspace folder so that exclude patterns keep their meaning: `{*,src/**,docs/**}` covers the files at
// the root and two folders. A request that comes back full is split: a group of folders in halves, a single
// folder into its own files (`src/*`) and its subfolders. Group sizes follow the files per folder seen so
// far. Pure: VS Code's calls come in through `ListingSource`.

/** A directory entry: its name and whether it is a folder (symbolic links to folders count as folders). */
export interface ListingEntry {
  name: string;
  dir: boolean;
}

export interface ListingSource<F> {
  /** Files matching `include` (a glob relative to the workspace folder), at most `max` of them. */
  find(include: string, max: number): Promise<F[]>;
  /** A folder's entries, by its path relative to the workspace folder ('' for the folder itself). */
  readDirectory(rel: string): Promise<ListingEntry[]>;
  /** A file's identity, to drop one listed twice (a folder name with glob characters is matched loosely). */
  key(file: F): string;
}

export interface ListingOptions<R extends string = string> {
  /** Files per reply at most (a full reply is split and asked again). */
  chunk: number;
  /** Files listed in all at most. */
  maxResults: number;
  /** A reason to leave out a folder (path relative to the workspace folder, ending in '/'), never listing it. */
  skipDir?: (rel: string) => R | undefined;
  /** Called with each folder left out and its reason. */
  onSkipDir?: (rel: string, reason: R) => void;
  /** Awaited between requests: lets the event loop run, and throws to cancel. */
  pause?: () => Promise<void>;
}

export interface Listing<F> {
  files: F[];
  /** Stopped at maxResults. */
  truncated: boolean;
  /** Requests made (findFiles and readDirectory), for the log. */
  requests: number;
}

/**
 * `rel/**` (a folder and everything in it) or `rel/*` (only the files directly in it; `*` for the root).
 * `whole`: a folder whose entries could not be read, listed in one request however large.
 */
type Unit = { rel: string; deep: boolean; whole?: boolean };

export async function listInChunks<F, R extends string = string>(src: ListingSource<F>, opts: ListingOptions<R>): Promise<Listing<F>> {
  const files: F[] = [];
  const seen = new Set<string>();
  let requests = 0;
  let truncated = false;
  const pause = opts.pause ?? (async () => {});

  /** The units for a folder's contents: its own files, then each subfolder not left out; the folder whole if it cannot be read. */
  const expand = async (rel: string): Promise<Unit[]> => {
    requests++;
    let entries: ListingEntry[];
    try {
      entries = await src.readDirectory(rel);
    } catch {
      return [{ rel, deep: true, whole: true }];
    }
    const units: Unit[] = [{ rel, deep: false }];
    for (const e of entries.filter((e) => e.dir).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      const reason = opts.skipDir?.(child + '/');
      if (reason) opts.onSkipDir?.(child + '/', reason);
      else units.push({ rel: child, deep: true });
    }
    return units;
  };

  // One request first, for the whole folder: a workspace of fewer than `chunk` files is listed in one.
  requests++;
  const first = Math.min(opts.chunk, opts.maxResults);
  const all = await src.find('**', first);
  if (all.length < first || first === opts.maxResults) {
    addAll(all);
    // A full reply at the total cap: there may be more.
    return { files, truncated: all.length >= opts.maxResults, requests };
  }
  await pause();
  const queue: Unit[] = await expand('');
  /**
   * Units per request: a few at first, then as many as should fill half a reply at the files per unit seen,
   * at most MAX_GROUP (VS Code matches every file found against the include glob, so a glob of many
   * alternatives costs the extension host in proportion).
   */
  let groupSize = FIRST_GROUP;
  while (queue.length > 0) {
    await pause();
    const budget = opts.maxResults - files.length;
    if (budget <= 0) {
      truncated = true;
      break;
    }
    const group = queue.splice(0, Math.max(1, groupSize));
    const max = Math.min(opts.chunk, budget);
    requests++;
    const found = await src.find(includeGlob(group), max);
    if (found.length >= max && max === opts.chunk) {
      // Full: there may be more. Split and ask again (this reply is dropped).
      if (group.length > 1) {
        const half = Math.ceil(group.length / 2);
        queue.unshift(...group);
        groupSize = half;
      } else if (group[0]!.deep && !group[0]!.whole) {
        await pause();
        queue.unshift(...(await expand(group[0]!.rel)));
        groupSize = 1;
      } else {
        // One folder's own files overflow a reply (or a folder that could not be read): nothing left to
        // split by; take them in one reply.
        requests++;
        addAll(await src.find(includeGlob(group), budget));
        groupSize = 1;
      }
      continue;
    }
    addAll(found);
    if (files.length >= opts.maxResults) {
      // The total cap: more may remain if this reply was full or folders are left.
      truncated = found.length >= max || queue.length > 0;
      break;
    }
    // Next group: as many units as fill half a reply at this group's files per unit (at most twice as many).
    const perUnit = found.length / group.length;
    groupSize = Math.max(1, Math.min(MAX_GROUP, group.length * 2, perUnit === 0 ? group.length * 2 : Math.floor(opts.chunk / 2 / perUnit)));
  }
  return { files, truncated, requests };

  function addAll(found: F[]): void {
    for (const f of found) {
      if (files.length >= opts.maxResults) {
        truncated = true;
        return;
      }
      const k = src.key(f);
      if (seen.has(k)) continue;
      seen.add(k);
      files.push(f);
    }
  }
}

/** Units in the first request of a folder too large for one reply. */
const FIRST_GROUP = 16;
/** Units per request at most. */
const MAX_GROUP = 64;

/** One glob for a group of units: `{*,src/**,docs/*}`, or the unit's own glob alone. */
export function includeGlob(units: readonly Unit[]): string {
  const globs = units.map((u) => (u.rel === '' ? (u.deep ? '**' : '*') : `${escapeGlob(u.rel)}/${u.deep ? '**' : '*'}`));
  return globs.length === 1 ? globs[0]! : `{${globs.join(',')}}`;
}

/**
 * A path as a glob matching it. VS Code globs have no escape character, so each glob character (`*?[]{},`
 * and `\`) becomes `?`, which matches it and any other single character: a sibling such as `a_b` for
 * `a{b` may then be listed twice, which listInChunks drops by key.
 */
export function escapeGlob(path: string): string {
  return path.replace(/[*?[\]{},\\]/g, '?');
}
