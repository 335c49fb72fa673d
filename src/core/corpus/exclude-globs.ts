// VS Code's exclude globs (`files.exclude`, `search.exclude`, `nextword.training.exclude`), matched against paths
// relative to a workspace folder as `workspace.findFiles` matches its exclude pattern: the training process
// walks `file:` folders itself (io/workspace-files.ts) and must leave out what the editor would. Pure.
//
// VS Code's glob syntax: `*` and `?` within a path segment (a leading dot included), `**` any number of
// segments, `{a,b}` alternatives (nested too), `[a-z]` and `[!a-z]` character ranges; no negation, no
// escapes, no extglobs. A pattern is anchored at the folder (`node_modules` is only the top-level one;
// `**/node_modules` is every one), and a folder that matches excludes everything in it.

import picomatch from 'picomatch';

/** A pattern as written in the settings → as matched: trimmed, forward slashes, no leading "./". */
export function normalizeGlob(pattern: string): string {
  return pattern.trim().replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

export class ExcludeGlobs {
  private constructor(
    private readonly matchers: readonly ((path: string) => boolean)[],
    /** The patterns in use, normalized. */
    readonly patterns: readonly string[],
  ) {}

  static readonly none = new ExcludeGlobs([], []);

  /**
   * `ignoreCase`: match regardless of case (macOS and Windows file systems, as IgnoreRules). Empty patterns
   * are dropped; a pattern picomatch cannot compile is dropped too and named in `dropped`.
   */
  static compile(patterns: readonly string[], opts: { ignoreCase?: boolean } = {}): { globs: ExcludeGlobs; dropped: string[] } {
    const matchers: ((path: string) => boolean)[] = [];
    const kept: string[] = [];
    const dropped: string[] = [];
    for (const raw of patterns) {
      const pattern = normalizeGlob(raw);
      if (pattern === '' || kept.includes(pattern)) continue;
      try {
        // `[!…]` is VS Code's negated range; picomatch reads `!` there otherwise.
        const source = pattern.replace(/\[!/g, '[^');
        matchers.push(picomatch(source, { dot: true, nocase: !!opts.ignoreCase, nonegate: true, noextglob: true }));
        kept.push(pattern);
      } catch {
        dropped.push(raw);
      }
    }
    return { globs: new ExcludeGlobs(matchers, kept), dropped };
  }

  get size(): number {
    return this.matchers.length;
  }

  /**
   * Whether `relPath` (forward-slash, relative to the folder, no trailing slash) matches a pattern. Only the
   * path itself: a walker asks for each folder before descending and leaves out a matching one whole.
   */
  matches(relPath: string): boolean {
    for (const m of this.matchers) if (m(relPath)) return true;
    return false;
  }
}
