// The account of one reading of a workspace: the files taken, every file left out under its named reason
// (a few examples each), and the caps. One account for both readers: the training process's walk of folders
// on disk (io/workspace-files.ts) and the editor's reading through VS Code (extension/workspace-corpus.ts),
// so that they decide alike and report alike.

import { classifyContent, type FileSkipReason, type ScanLimits } from './file-filters.js';

export interface SkipTally {
  /** Files skipped; a skipped folder counts once, whatever it holds. */
  count: number;
  /** Their size in bytes, where known (skipped folders and symlinks add 0). */
  bytes: number;
  /** The first few relPaths met, sorted at the end; folders end with "/". */
  examples: string[];
}

/** What a reading took and left out. */
export interface Scan<F> {
  /** The folders read (their roots or names, joined by ", "). */
  root: string;
  files: F[];
  /** Only reasons that occurred have an entry. */
  skipped: Map<FileSkipReason, SkipTally>;
  /** The taken files' bytes. */
  totalBytes: number;
  limits: ScanLimits;
}

/** Examples kept per skip reason. */
const MAX_EXAMPLES = 5;

export class ScanLedger<F extends { bytes: number }> {
  readonly scan: Scan<F>;
  private skippedCount = 0;
  /** Once a cap is reached every later candidate (in sample order) is counted under it, unread. */
  private capReached: 'file-cap' | 'byte-cap' | undefined;

  constructor(root: string, limits: ScanLimits) {
    this.scan = { root, files: [], skipped: new Map(), totalBytes: 0, limits };
  }

  get skipped(): number {
    return this.skippedCount;
  }

  skip(relPath: string, reason: FileSkipReason, bytes: number): void {
    let tally = this.scan.skipped.get(reason);
    if (!tally) this.scan.skipped.set(reason, (tally = { count: 0, bytes: 0, examples: [] }));
    tally.count++;
    tally.bytes += bytes;
    if (tally.examples.length < MAX_EXAMPLES) tally.examples.push(relPath);
    this.skippedCount++;
  }

  take(file: F): void {
    this.scan.files.push(file);
    this.scan.totalBytes += file.bytes;
  }

  /** The cap that leaves a file out before anything of it is known: one reached already, or the file cap now. */
  capped(plannedFiles = 0): 'file-cap' | 'byte-cap' | undefined {
    if (!this.capReached && this.scan.files.length + plannedFiles >= this.scan.limits.maxFiles) this.capReached = 'file-cap';
    return this.capReached;
  }

  /**
   * Why a file of `size` bytes on disk is not to be read, if it is not: a cap (capped), too large, or over
   * the byte cap now. `planned`: files and bytes already chosen to read but not yet taken (a batch).
   */
  beforeRead(size: number, planned = { files: 0, bytes: 0 }): FileSkipReason | undefined {
    const { limits, totalBytes } = this.scan;
    const cap = this.capped(planned.files);
    if (cap) return cap;
    if (size > limits.maxFileBytes) return 'too-large';
    if (totalBytes + planned.bytes + size > limits.maxTotalBytes) return (this.capReached = 'byte-cap');
    return undefined;
  }

  /** The verdict on a file's bytes as read (it may have changed since its size was known): why it is left out, or its text. */
  judge(bytes: Uint8Array): { skip: FileSkipReason } | { text: string } {
    const { limits, totalBytes } = this.scan;
    if (bytes.length > limits.maxFileBytes) return { skip: 'too-large' };
    if (totalBytes + bytes.length > limits.maxTotalBytes) return { skip: (this.capReached = 'byte-cap') };
    return classifyContent(bytes, { maxFileBytes: limits.maxFileBytes });
  }

  /** The account, its examples in code-unit order. */
  finish(): Scan<F> {
    for (const tally of this.scan.skipped.values()) tally.examples.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this.scan;
  }
}
