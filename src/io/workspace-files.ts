// Reads a workspace folder into training text: a deterministic depth-first walk that honours .gitignore
// files and the decisions of `core/corpus/file-filters.ts` by path, then reads the files that pass one at a time
// in a deterministic sample order (core/corpus/file-split.ts's sampleOrder) until a cap is reached, so that a
// capped workspace is represented by a spread of its files rather than its first folders; every file left
// out is accounted for by a named reason.
//
// Walk rules:
// - Entries are visited in code-unit order of their names, folders descended where they appear, so the
//   same tree always yields the same files, listed in that order.
// - .gitignore files apply at every level (nested rules are relative to their own folder, deeper files
//   override shallower ones, as in git); `.git/info/exclude` applies below the root .gitignore;
//   `extraIgnore` (gitignore syntax, relative to the root) excludes on top and cannot re-include; so do a
//   folder's VS Code exclude globs (files.exclude, search.exclude, nextword.training.exclude: core/corpus/exclude-globs.ts),
//   which Train on Workspace passes for the folders it has the training process read.
// - Several folders (a multi-root workspace) are walked one after the other, each with its own rules, and
//   sampled as one workspace; their files' relPaths start with the folder's prefix.
// - Symbolic links are never followed, neither to folders (cycles) nor to files (a link inside the root
//   duplicates a file that is read anyway; one outside leaks text from outside the workspace).
// - Excluded, secret and ignored folders are skipped without descending and counted once each.
// - Sizes come from fstat on the open handle before reading; too-large files are never read, and a file
//   that grows past the limit while being read is dropped. Files that vanish or change type between the
//   listing and the read are counted as `unreadable`; nothing but cancellation and an unreadable root
//   makes the walk throw.

import { constants as fsConstants, promises as fsp, type Dirent } from 'node:fs';
import path from 'node:path';
import {
  classifyPath,
  DEFAULT_SCAN_LIMITS,
  IgnoreRules,
  isExcludedDirName,
  SECRET_DIRS,
  SKIP_REASONS,
  type ScanLimits,
  type FileSkipReason,
} from '../core/corpus/file-filters.js';
import { ExcludeGlobs } from '../core/corpus/exclude-globs.js';
import { sampleOrder } from '../core/corpus/file-split.js';
import { ScanLedger, type Scan, type SkipTally } from '../core/corpus/scan-ledger.js';

export interface ScannedFile {
  /** Forward-slash path relative to the root. */
  relPath: string;
  /** The decoded text (UTF-8, BOM stripped). */
  text: string;
  /** Size on disk in bytes. */
  bytes: number;
}

export type { SkipTally };

/** A reading of folders on disk: the files taken (in walk order) and everything left out, by reason. */
export type WorkspaceScan = Scan<ScannedFile>;

export interface ScanProgress {
  /** The path just decided on (taken or skipped). */
  relPath: string;
  taken: number;
  skipped: number;
  totalBytes: number;
}

export interface ReadWorkspaceOptions extends Partial<ScanLimits> {
  /** More patterns in .gitignore syntax, relative to the root (e.g. a user setting). */
  extraIgnore?: readonly string[];
  /** Cancels the walk: checked before every entry, it rejects with the signal's reason (an AbortError). */
  signal?: AbortSignal;
  /** Called after every decision; keep it cheap. */
  onProgress?: (progress: ScanProgress) => void;
  /** Case-insensitive ignore patterns. Default: true on macOS and Windows, as git's core.ignorecase. */
  ignoreCase?: boolean;
}

/** .gitignore files larger than this are read only this far. */
const MAX_RULES_FILE_BYTES = 1024 * 1024;

export async function readWorkspaceFiles(root: string, opts: ReadWorkspaceOptions = {}): Promise<WorkspaceScan> {
  return readWorkspaceFolders([{ root, prefix: '' }], opts);
}

/** A folder to walk: its files' relPaths get `prefix` (a multi-root workspace: the folder's name and "/"). */
export interface FolderToRead {
  root: string;
  prefix: string;
  /** VS Code exclude globs for this folder (files.exclude, search.exclude, nextword.training.exclude; core/corpus/exclude-globs.ts). */
  exclude?: readonly string[];
}

/**
 * Several folders as one workspace (a multi-root workspace): each walked with its own ignore rules and
 * exclude globs, the caps applied over all of them in one sample order, the files listed by folder, then in
 * walk order. `root` of the result is the folders' roots joined by ", ".
 */
export async function readWorkspaceFolders(folders: readonly FolderToRead[], opts: ReadWorkspaceOptions = {}): Promise<WorkspaceScan> {
  const limits = resolveLimits(opts);
  const { signal, onProgress } = opts;
  signal?.throwIfAborted();
  const ignoreCase = opts.ignoreCase ?? (process.platform === 'darwin' || process.platform === 'win32');
  const extraRules = IgnoreRules.empty({ ignoreCase }).withFile('', (opts.extraIgnore ?? []).join('\n'));

  const roots: { absRoot: string; prefix: string; exclude: ExcludeGlobs }[] = [];
  for (const folder of folders) {
    const absRoot = path.resolve(folder.root);
    const rootStat = await fsp.stat(absRoot).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`cannot read workspace folder ${absRoot}: ${err.code ?? err.message}`);
    });
    if (!rootStat.isDirectory()) throw new Error(`not a folder: ${absRoot}`);
    roots.push({ absRoot, prefix: folder.prefix, exclude: ExcludeGlobs.compile(folder.exclude ?? [], { ignoreCase }).globs });
  }

  const ledger = new ScanLedger<ScannedFile>(roots.map((r) => r.absRoot).join(', '), limits);
  const scan = ledger.scan;
  const progress = (relPath: string): void => {
    onProgress?.({ relPath, taken: scan.files.length, skipped: ledger.skipped, totalBytes: scan.totalBytes });
  };
  const skip = (relPath: string, reason: FileSkipReason, bytes: number): void => {
    ledger.skip(relPath, reason, bytes);
    progress(relPath);
  };
  const sizeOf = async (absPath: string): Promise<number> => {
    try {
      return (await fsp.lstat(absPath)).size;
    } catch {
      return 0;
    }
  };

  // The walk decides by path; files that pass are read afterwards, in the caps' sample order. relPaths
  // here carry the folder's prefix.
  const candidates: { absPath: string; relPath: string }[] = [];

  const readFile = async (absPath: string, relPath: string): Promise<void> => {
    const capped = ledger.capped();
    if (capped) return skip(relPath, capped, await sizeOf(absPath));
    let handle: fsp.FileHandle;
    try {
      // O_NONBLOCK: a file swapped for a FIFO after the listing must not hang the walk.
      handle = await fsp.open(absPath, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
    } catch {
      return skip(relPath, 'unreadable', 0);
    }
    let verdict: { skip: FileSkipReason; bytes: number } | ScannedFile;
    try {
      const stat = await handle.stat();
      const before = stat.isFile() ? ledger.beforeRead(stat.size) : 'unreadable';
      if (before) verdict = { skip: before, bytes: before === 'unreadable' ? 0 : stat.size };
      else {
        const bytes = await readUpTo(handle, stat.size, limits.maxFileBytes + 1);
        const judged = ledger.judge(bytes);
        verdict = 'skip' in judged ? { skip: judged.skip, bytes: bytes.length } : { relPath, text: judged.text, bytes: bytes.length };
      }
    } catch {
      verdict = { skip: 'unreadable', bytes: 0 };
    } finally {
      await handle.close().catch(() => undefined);
    }
    if ('skip' in verdict) return skip(relPath, verdict.skip, verdict.bytes);
    ledger.take(verdict);
    progress(relPath);
  };

  for (const { absRoot, prefix, exclude } of roots) {
    // Ignore rules and exclude globs see paths relative to their folder; reports see the prefixed path.
    const isIgnored = (relPath: string, isDir: boolean, rules: IgnoreRules): boolean =>
      rules.ignores(relPath, isDir) || extraRules.ignores(relPath, isDir) || exclude.matches(relPath);
    const walkDir = async (absDir: string, relDir: string, parentRules: IgnoreRules): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await fsp.readdir(absDir, { withFileTypes: true });
      } catch (err) {
        if (relDir === '') throw new Error(`cannot read workspace folder ${absDir}: ${(err as NodeJS.ErrnoException).code}`);
        return skip(prefix + relDir + '/', 'unreadable', 0);
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

      let rules = parentRules;
      if (entries.some((e) => e.name === '.gitignore' && e.isFile())) {
        rules = rules.withFile(relDir, await readRulesFile(path.join(absDir, '.gitignore')));
      }

      for (const entry of entries) {
        signal?.throwIfAborted();
        const relPath = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
        const absPath = path.join(absDir, entry.name);
        if (entry.isSymbolicLink()) skip(prefix + relPath, 'symlink', 0);
        else if (entry.isDirectory()) {
          const dirReason: FileSkipReason | undefined = isExcludedDirName(entry.name)
            ? 'excluded-dir'
            : SECRET_DIRS.has(entry.name)
              ? 'secret'
              : isIgnored(relPath, true, rules)
                ? 'ignored'
                : undefined;
          if (dirReason) skip(prefix + relPath + '/', dirReason, 0);
          else await walkDir(absPath, relPath, rules);
        } else if (entry.isFile()) {
          const pathReason = classifyPath(relPath) ?? (isIgnored(relPath, false, rules) ? 'ignored' : undefined);
          if (pathReason) skip(prefix + relPath, pathReason, await sizeOf(absPath));
          else candidates.push({ absPath, relPath: prefix + relPath });
        } else skip(prefix + relPath, 'unreadable', 0); // FIFO, socket, device
      }
    };
    const rootRules = IgnoreRules.empty({ ignoreCase }).withFile('', await readRulesFile(path.join(absRoot, '.git', 'info', 'exclude')));
    await walkDir(absRoot, '', rootRules);
  }

  // Within the caps, a deterministic sample over every folder (sampleOrder); the files are listed in walk
  // order, folder by folder.
  const order = sampleOrder(candidates.map((c) => c.relPath));
  const walkIndex = new Map(candidates.map((c, i) => [c.relPath, i]));
  for (const i of order) {
    signal?.throwIfAborted();
    await readFile(candidates[i]!.absPath, candidates[i]!.relPath);
  }
  scan.files.sort((a, b) => walkIndex.get(a.relPath)! - walkIndex.get(b.relPath)!);
  signal?.throwIfAborted();
  return ledger.finish();
}

/** A scan without its files' texts, only their number: what the training process tells the editor of its reading. */
export type ScanFigures = Omit<WorkspaceScan, 'files'> & { files: { readonly length: number } };

export function scanFigures(scan: ScanFigures): ScanFigures {
  const { files, ...rest } = scan;
  return { ...rest, files: { length: files.length } };
}

/**
 * One line for logs and the CLI, e.g.
 * "took 123 files (4.5 MB); skipped: 12 ignored, 3 binary, 40 file-cap (limit 20000 files)".
 */
export function formatScanReport(scan: ScanFigures): string {
  const took = `took ${scan.files.length} ${scan.files.length === 1 ? 'file' : 'files'} (${formatBytes(scan.totalBytes)})`;
  const parts: string[] = [];
  for (const reason of SKIP_REASONS) {
    const tally = scan.skipped.get(reason);
    if (!tally || tally.count === 0) continue;
    let part = `${tally.count} ${reason}`;
    if (reason === 'too-large') part += ` (over ${formatBytes(scan.limits.maxFileBytes)})`;
    if (reason === 'file-cap') part += ` (limit ${scan.limits.maxFiles} files)`;
    if (reason === 'byte-cap') part += ` (limit ${formatBytes(scan.limits.maxTotalBytes)})`;
    parts.push(part);
  }
  return parts.length === 0 ? `${took}; nothing skipped` : `${took}; skipped: ${parts.join(', ')}`;
}

/** Binary units (1 KB = 1024 B), one decimal: "812 B", "4.5 KB", "50.0 MB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function resolveLimits(opts: Partial<ScanLimits>): ScanLimits {
  const limits: ScanLimits = {
    maxFileBytes: opts.maxFileBytes ?? DEFAULT_SCAN_LIMITS.maxFileBytes,
    maxFiles: opts.maxFiles ?? DEFAULT_SCAN_LIMITS.maxFiles,
    maxTotalBytes: opts.maxTotalBytes ?? DEFAULT_SCAN_LIMITS.maxTotalBytes,
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${name} must be a non-negative integer (got ${value})`);
    }
  }
  return limits;
}

/** A .gitignore-syntax file's text, or "" when it is missing or unreadable. */
async function readRulesFile(absPath: string): Promise<string> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(absPath, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
    const stat = await handle.stat();
    if (!stat.isFile()) return '';
    const bytes = await readUpTo(handle, stat.size, MAX_RULES_FILE_BYTES);
    return new TextDecoder('utf-8').decode(bytes);
  } catch {
    return '';
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Reads from the start until end of file or `limit` bytes, whichever comes first. `expected` (the
 * stat size) sizes the first buffer; a file that grew meanwhile is read on, up to the limit.
 */
async function readUpTo(handle: fsp.FileHandle, expected: number, limit: number): Promise<Uint8Array> {
  // +1 so that reaching the expected size still leaves room to see end of file in the same buffer.
  let buffer = Buffer.allocUnsafe(Math.max(1, Math.min(limit, expected + 1)));
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length >= limit) break;
      const grown = Buffer.allocUnsafe(Math.min(limit, buffer.length * 2));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return buffer.subarray(0, length);
}
