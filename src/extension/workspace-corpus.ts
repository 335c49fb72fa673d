// Reads the training text of a (multi-root) workspace through VS Code, for the workspaces the training
// process cannot read from the disk itself (remote or virtual folders; a workspace on this machine's disk
// is read by the training process, io/workspace-files.ts, with the same decisions): `workspace.findFiles` lists the
// candidates (with files.exclude, search.exclude, nextword.training.exclude and the default excluded folders as its
// exclude glob; a large folder in replies of bounded size, chunked-listing.ts), `.gitignore` files found the
// same way decide with git's precedence, and every file is judged by the same rules as `nextword train`
// (core/corpus/file-filters.ts: secrets, lock files, binaries, minified, too large), under the file and byte caps. Going through `workspace.fs` rather than the disk
// keeps remote and virtual workspaces working.
//
// Path decisions first, over every folder; then the files that pass are read a few at a time in the caps'
// sample order (core/corpus/file-split.ts's sampleOrder), so a capped workspace is represented by a spread of its
// files, the same ones every time, rather than its first folders. The files are listed in path order, as
// bytes (the training worker decodes them).

import * as vscode from 'vscode';
import {
  classifyPath,
  DEFAULT_SCAN_LIMITS,
  IgnoreRules,
  type ScanLimits,
  type FileSkipReason,
} from '../core/corpus/file-filters.js';
import { pacer } from '../core/support/event-loop.js';
import { orderByKeysPaced, SAMPLE_SEED, splitKey } from '../core/corpus/file-split.js';
import { ScanLedger, type Scan } from '../core/corpus/scan-ledger.js';
import type { FolderToRead } from '../io/workspace-files.js';
import type { ReadingProgress } from '../runtime/training/training-protocol.js';
import { listInChunks } from './chunked-listing.js';
import { excludePatternsFor } from './config.js';
import { excludeGlob } from './exclude-glob.js';

export interface ReadCorpusOptions {
  limits: Pick<ScanLimits, 'maxFiles' | 'maxTotalBytes'>;
  token: vscode.CancellationToken;
  onProgress?: (p: ReadingProgress) => void;
  /** Lines for the log (what was excluded and why). */
  log?: (line: string) => void;
  /** Details for the log at debug level. */
  debug?: (line: string) => void;
}

/**
 * A file taken, as its bytes: they go to the training worker as they are (it decodes them), and bytes held
 * outside the JavaScript heap cost the extension host's garbage collector nothing, where strings of the same
 * text would be copied by every young-generation collection.
 */
export interface CorpusFile {
  relPath: string;
  /** Size in bytes. */
  bytes: number;
  /** The file's content: valid UTF-8, checked by classifyContent (a BOM may lead). */
  data: Uint8Array;
}

/** What was read, as the training process's walk reports it (formatScanReport describes both); relPaths of a multi-root workspace start with the folder's name. */
export type WorkspaceCorpus = Scan<CorpusFile>;

/**
 * The folders as the training process reads them from the disk (io/workspace-files.ts), each with its
 * exclude settings; undefined when one is not on this machine's disk (a remote or virtual folder: read
 * with readWorkspaceCorpus then). relPaths of a multi-root workspace start with the folder's name.
 */
export function foldersOnDisk(folders: readonly vscode.WorkspaceFolder[]): FolderToRead[] | undefined {
  if (!folders.every((f) => f.uri.scheme === 'file')) return undefined;
  return folders.map((folder) => {
    const patterns = excludePatternsFor(folder);
    return { root: folder.uri.fsPath, prefix: folders.length > 1 ? `${folder.name}/` : '', exclude: [...patterns.settings, ...patterns.nextword] };
  });
}

/** Raised when the token is cancelled. */
export class CorpusCancelled extends Error {
  constructor() {
    super('reading the workspace was cancelled');
    this.name = 'CorpusCancelled';
  }
}

/** Files per findFiles reply at most (5,000 URIs cost the extension host ~25 ms to receive). */
const LISTING_CHUNK = 5000;
/** Files read at once. */
const READ_BATCH = 16;
/** .gitignore files larger than this are read only this far (as the CLI does). */
const MAX_RULES_FILE_BYTES = 1024 * 1024;

export async function readWorkspaceCorpus(folders: readonly vscode.WorkspaceFolder[], opts: ReadCorpusOptions): Promise<WorkspaceCorpus> {
  const limits: ScanLimits = { maxFileBytes: DEFAULT_SCAN_LIMITS.maxFileBytes, ...opts.limits };
  const ledger = new ScanLedger<CorpusFile>(folders.map((f) => f.name).join(', '), limits);
  const corpus = ledger.scan;
  const checkCancelled = () => {
    if (opts.token.isCancellationRequested) throw new CorpusCancelled();
  };
  const report = () => opts.onProgress?.({ taken: corpus.files.length, skipped: ledger.skipped, totalBytes: corpus.totalBytes });
  const skip = (relPath: string, reason: FileSkipReason, bytes: number) => ledger.skip(relPath, reason, bytes);

  /** Candidates by path only (`rel` with the folder's prefix, `inFolder` without): a URI object each, for 100,000 files, weighed on the heap and its collections; the few read get theirs then. */
  const toRead: { rel: string; inFolder: string; folder: number }[] = [];
  /** Lets the event loop run once a stretch of work passes SLICE_MS (or now, with `force`), then checks for cancellation. */
  const pace = pacer();
  const pause = async (force = false): Promise<void> => {
    await pace(force);
    checkCancelled();
  };
  let folderIndex = 0;
  /** The folder of each file taken (by position in corpus.files), for the final order. */
  const folderOfFile: number[] = [];
  for (const folder of folders) {
    checkCancelled();
    const prefix = folders.length > 1 ? `${folder.name}/` : '';
    const patterns = excludePatternsFor(folder);
    const { glob, dropped } = excludeGlob([...patterns.settings, ...patterns.nextword]);
    if (dropped.length) opts.log?.(`${folder.name}: exclude patterns that cannot be combined were left out: ${dropped.join(', ')}`);
    const exclude = new vscode.RelativePattern(folder, glob);

    const rules = await gitignoreRules(folder, exclude, opts.token);
    opts.log?.(`${folder.name}: ${rules.size} ignore rules from .gitignore files; ${patterns.settings.length + patterns.nextword.length} exclude patterns from the settings`);
    opts.debug?.(`${folder.name}: findFiles excludes ${glob}`);

    // Listing more candidates than the cap allows for files that are skipped on the way; in replies of at
    // most LISTING_CHUNK files, as one reply of 100,000 stalls the extension host for half a second.
    const maxResults = Math.min(2_000_000, limits.maxFiles * 10 + 10_000);
    const listStart = Date.now();
    const listing = await listInChunks<string, FileSkipReason>(
      {
        // Paths below the folder, at once: the URIs of a reply die young.
        find: async (include, max) =>
          (await vscode.workspace.findFiles(new vscode.RelativePattern(folder, include), exclude, max, opts.token))
            .map((uri) => relativePath(folder.uri, uri))
            .filter((rel): rel is string => rel !== undefined),
        readDirectory: async (rel) =>
          (await vscode.workspace.fs.readDirectory(rel === '' ? folder.uri : vscode.Uri.joinPath(folder.uri, rel))).map(([name, type]) => ({
            name,
            dir: (type & vscode.FileType.Directory) !== 0,
          })),
        key: (rel) => rel,
      },
      {
        chunk: LISTING_CHUNK,
        maxResults,
        skipDir: (rel) => classifyPath(rel) ?? (rules.ignores(rel.slice(0, -1), true) ? 'ignored' : undefined),
        onSkipDir: (rel, reason) => skip(prefix + rel, reason, 0),
        pause: () => pause(true),
      },
    );
    checkCancelled();
    const paths = listing.files;
    opts.debug?.(`${folder.name}: listed ${paths.length} files in ${listing.requests} requests, ${Date.now() - listStart} ms`);
    if (listing.truncated) opts.log?.(`${folder.name}: listed the first ${maxResults} files only`);
    // Path decisions first (cheap, but a large workspace lists 100,000 files: with breaks for the event
    // loop); the rest are read below, with every folder's.
    for (const rel of paths) {
      const reason = classifyPath(rel) ?? (rules.ignores(rel, false) ? 'ignored' : undefined);
      if (reason) skip(prefix + rel, reason, 0);
      else toRead.push({ rel: prefix + rel, inFolder: rel, folder: folderIndex });
      await pause();
    }
    folderIndex++;
  }

  // Stat and read in batches, in sample order, deciding in that order.
  const keys = new Uint32Array(toRead.length);
  for (let i = 0; i < toRead.length; i++) {
    keys[i] = splitKey(toRead[i]!.rel, SAMPLE_SEED);
    await pause();
  }
  const order = (
    await orderByKeysPaced(
      toRead.map((c) => c.rel),
      keys,
      () => pause(),
    )
  ).map((i) => toRead[i]!);
  await pause(true);
  for (let start = 0; start < order.length; start += READ_BATCH) {
    checkCancelled();
    const batch = order.slice(start, start + READ_BATCH);
    const capped = ledger.capped();
    if (capped) {
      for (const c of batch) skip(c.rel, capped, 0);
      await pause();
      continue;
    }
    const uris = batch.map((c) => vscode.Uri.joinPath(folders[c.folder]!.uri, c.inFolder));
    const stats = await Promise.all(uris.map((uri) => statOrUndefined(uri)));
    // Which of the batch fit under the caps, in order; those are read.
    const wanted: (number | FileSkipReason)[] = [];
    const planned = { files: 0, bytes: 0 };
    for (const st of stats) {
      const before =
        !st || (st.type & vscode.FileType.File) === 0 ? 'unreadable' : st.type & vscode.FileType.SymbolicLink ? 'symlink' : ledger.beforeRead(st.size, planned);
      if (before) wanted.push(before);
      else {
        wanted.push(st!.size);
        planned.files++;
        planned.bytes += st!.size;
      }
    }
    const contents = await Promise.all(uris.map((uri, i) => (typeof wanted[i] === 'number' ? readOrUndefined(uri) : undefined)));
    batch.forEach((c, i) => {
      const rel = c.rel;
      const w = wanted[i]!;
      if (typeof w !== 'number') return skip(rel, w, stats[i]?.size ?? 0);
      const bytes = contents[i];
      if (!bytes) return skip(rel, 'unreadable', 0);
      // The file may have changed since stat: the caps hold for what was read.
      const verdict = ledger.judge(bytes);
      if ('skip' in verdict) return skip(rel, verdict.skip, bytes.length);
      folderOfFile.push(c.folder);
      ledger.take({ relPath: rel, bytes: bytes.length, data: bytes });
    });
    report();
  }
  // Listed by folder, then path (a folder's relPaths share its prefix, so path order within it is theirs).
  const byFolder = corpus.files.map((f, i) => ({ f, folder: folderOfFile[i]! }));
  await pause();
  byFolder.sort((a, b) => a.folder - b.folder || (a.f.relPath < b.f.relPath ? -1 : a.f.relPath > b.f.relPath ? 1 : 0));
  corpus.files = byFolder.map((x) => x.f);
  await pause(true);
  checkCancelled();
  return ledger.finish();
}

/**
 * `.git/info/exclude` and every `.gitignore` of the folder (outside excluded and ignored folders),
 * shallow ones first so deeper rules take precedence, as in git.
 */
async function gitignoreRules(folder: vscode.WorkspaceFolder, exclude: vscode.RelativePattern, token: vscode.CancellationToken): Promise<IgnoreRules> {
  const ignoreCase = process.platform === 'darwin' || process.platform === 'win32';
  let rules = IgnoreRules.empty({ ignoreCase }).withFile('', await readText(vscode.Uri.joinPath(folder.uri, '.git', 'info', 'exclude')));
  const found = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/.gitignore'), exclude, 10_000, token);
  const files = found
    .map((uri) => ({ uri, rel: relativePath(folder.uri, uri) }))
    .filter((f): f is { uri: vscode.Uri; rel: string } => f.rel !== undefined)
    .map((f) => ({ ...f, dir: f.rel.includes('/') ? f.rel.slice(0, f.rel.lastIndexOf('/')) : '' }))
    .sort((a, b) => depth(a.dir) - depth(b.dir) || (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
  for (const f of files) {
    // A .gitignore inside an ignored or excluded folder has no say, as git never reads it.
    if (f.dir !== '' && (classifyPath(f.dir + '/') || rules.ignores(f.dir, true))) continue;
    rules = rules.withFile(f.dir, await readText(f.uri));
  }
  return rules;
}

function depth(dir: string): number {
  return dir === '' ? 0 : dir.split('/').length;
}

/** `uri`'s path below `folder`, forward-slash; undefined when it is not below it. */
function relativePath(folder: vscode.Uri, uri: vscode.Uri): string | undefined {
  if (uri.scheme !== folder.scheme || uri.authority !== folder.authority) return undefined;
  const base = folder.path.endsWith('/') ? folder.path : folder.path + '/';
  if (!uri.path.startsWith(base)) return undefined;
  const rel = uri.path.slice(base.length);
  return rel === '' ? undefined : rel;
}

async function statOrUndefined(uri: vscode.Uri): Promise<vscode.FileStat | undefined> {
  try {
    return await vscode.workspace.fs.stat(uri);
  } catch {
    return undefined;
  }
}

async function readOrUndefined(uri: vscode.Uri): Promise<Uint8Array | undefined> {
  try {
    return await vscode.workspace.fs.readFile(uri);
  } catch {
    return undefined;
  }
}

/** A rules file's text ('' when missing), at most MAX_RULES_FILE_BYTES. */
async function readText(uri: vscode.Uri): Promise<string> {
  const bytes = await readOrUndefined(uri);
  return bytes ? new TextDecoder('utf-8').decode(bytes.subarray(0, MAX_RULES_FILE_BYTES)) : '';
}
