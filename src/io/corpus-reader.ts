// The first phase of a training run (runtime/training/pipeline.ts), and of `nextword bench train`: what a
// run is pointed at, read into texts split by whole file. Either project folders (one, or a multi-root
// workspace's), walked with their ignore rules, skips and caps (workspace-files.ts) and split
// (core/pipeline/run-plan.ts's splitProject), or a corpus given already split: train.txt / valid.txt
// (/ test.txt), or folders train/ valid/ (/ test/) of .txt files, used whole.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { ScanLimits } from '../core/corpus/file-filters.js';
import { splitProject, TrainingRefused } from '../core/pipeline/run-plan.js';
import { formatScanReport, readWorkspaceFolders, scanFigures, type FolderToRead, type ScanFigures, type ScanProgress } from './workspace-files.js';

/** Project folders to walk (a multi-root workspace: each with its prefix and exclude globs). */
export interface FoldersSource {
  kind: 'folders';
  folders: FolderToRead[];
  limits?: Pick<ScanLimits, 'maxFiles' | 'maxTotalBytes'>;
}

/** A corpus folder already split into training, validation (and test) text. */
export interface CorpusDirSource {
  kind: 'corpus';
  dir: string;
}

/** Texts to train on, split; what was read, in words. */
export interface TrainingTexts {
  /** A project's files (capped validation, keystroke savings on held-out files) or a corpus given split. */
  kind: 'project' | 'corpus';
  /** The training texts (files, or a corpus's train.txt), each read from its own start. */
  train: string[];
  valid: string[];
  test?: string[];
  /** With a test fraction: the held-out files of a project (relPath and text), in input order. */
  heldOut?: { relPath: string; text: string }[];
  /** A project's: what was read and skipped. */
  scan?: ScanFigures;
  /** One line (or two) for logs: what was read and skipped. */
  report: string;
}

export interface ReadTextsOptions {
  validFraction: number;
  /** Projects only: a share of whole files held out before the split, returned as `heldOut`. */
  testFraction?: number;
  signal?: AbortSignal;
  onProgress?: (p: ScanProgress) => void;
}

export async function readTrainingTexts(source: FoldersSource | CorpusDirSource, opts: ReadTextsOptions): Promise<TrainingTexts> {
  if (source.kind === 'corpus') {
    if (opts.testFraction) throw new TrainingRefused(`${source.dir} is a corpus folder already split into train/valid(/test): a test share is for project folders`);
    return readSplitCorpus(source.dir);
  }
  const scan = await readWorkspaceFolders(source.folders, { ...source.limits, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const texts = projectTexts(scan.files, scanFigures(scan), opts);
  scan.files.length = 0;
  return texts;
}

/**
 * A project's files (read here, or by the editor through VS Code) as training texts: split by whole file
 * (run-plan.ts's splitProject: refused when too few), with `scan`, what was read, in words.
 */
export function projectTexts(files: readonly { relPath: string; text: string }[], scan: ScanFigures, opts: Pick<ReadTextsOptions, 'validFraction' | 'testFraction'>): TrainingTexts {
  const report = formatScanReport(scan);
  const { train, valid, heldOut } = splitProject(files, { validFraction: opts.validFraction, testFraction: opts.testFraction ?? 0, where: scan.root, report });
  return {
    kind: 'project',
    train: train.map((f) => f.text),
    valid: valid.map((f) => f.text),
    ...(opts.testFraction ? { heldOut: heldOut.map((f) => ({ relPath: f.relPath, text: f.text })) } : {}),
    scan,
    report,
  };
}

/** The files of one split of a corpus folder, in name order, or undefined when it has none. */
function corpusSplit(dir: string, split: 'train' | 'valid' | 'test'): string[] | undefined {
  const file = path.join(dir, `${split}.txt`);
  if (existsSync(file)) return [file];
  const sub = path.join(dir, split);
  if (!existsSync(sub) || !statSync(sub).isDirectory()) return undefined;
  return readdirSync(sub)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => path.join(sub, f));
}

/** What `dir` is read as: a corpus folder already split, or a project folder. */
export function corpusSource(dir: string): FoldersSource | CorpusDirSource {
  return isSplitCorpus(dir) ? { kind: 'corpus', dir } : { kind: 'folders', folders: [{ root: dir, prefix: '' }] };
}

/** Whether `dir` holds a corpus already split (training and validation text at least). */
export function isSplitCorpus(dir: string): boolean {
  return corpusSplit(dir, 'train') !== undefined && corpusSplit(dir, 'valid') !== undefined;
}

/** Read whole, in name order: a book is not a project file, so no size cap applies. */
function readSplitCorpus(dir: string): TrainingTexts {
  const read = (split: 'train' | 'valid' | 'test') => corpusSplit(dir, split)?.map((f) => readFileSync(f, 'utf8'));
  const train = read('train');
  const valid = read('valid');
  if (!train || !valid) throw new TrainingRefused(`${dir} is not a corpus folder: it needs train.txt and valid.txt, or train/ and valid/ folders of .txt files`);
  const test = read('test');
  const mb = (texts: string[]) => `${(texts.reduce((n, t) => n + t.length, 0) / 1e6).toFixed(1)} M characters`;
  return {
    kind: 'corpus',
    train,
    valid,
    ...(test ? { test } : {}),
    report: `corpus ${dir}: train ${mb(train)}, valid ${mb(valid)}${test ? `, test ${mb(test)}` : ''}`,
  };
}
