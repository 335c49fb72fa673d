// Reads what `nextword train` is pointed at into texts (core/text/text-encoding.ts turns them into ids): a corpus folder with train.txt /
// valid.txt (/ test.txt), or train/ valid/ (test/) folders of .txt files, used as given, or any other folder read as a project (ignore rules, skips,
// caps) and split into training and validation by whole file.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { splitByFile } from '../core/corpus/file-split.js';
import { formatScanReport, readWorkspaceFiles } from '../io/workspace-files.js';
import { UsageError } from './args.js';

export interface TextCorpus {
  kind: 'corpus' | 'folder';
  source: string;
  /** The training texts (files, or a corpus's train.txt), each read from its own start. */
  train: string[];
  valid: string[];
  test?: string[];
  files?: number;
  /** With a test fraction: the held-out files of a project folder (relPath and text), in input order. */
  heldOut?: { relPath: string; text: string }[];
  /** Human summary of what was read and skipped. */
  report: string;
}

/**
 * A corpus given already split: train.txt / valid.txt (/ test.txt), or folders train/ valid/ (/ test/)
 * of .txt files (read whole, in name order: a book is not a project file, so no size cap applies).
 */
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

export function isSplitCorpus(dir: string): boolean {
  return corpusSplit(dir, 'train') !== undefined && corpusSplit(dir, 'valid') !== undefined;
}

/** The seed of the held-out (test) split, so it differs from the validation split's (seed 0). */
export const TEST_SPLIT_SEED = 1;

/**
 * `testFraction` (project folders only): a deterministic share of whole files is held out first (the
 * file-split rule with seed TEST_SPLIT_SEED), and the rest split into training and validation as usual.
 */
export async function loadCorpus(
  target: string,
  validFraction: number,
  signal?: AbortSignal,
  testFraction = 0,
): Promise<TextCorpus> {
  const dir = path.resolve(target);
  if (!existsSync(dir)) throw new UsageError(`${target} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${target} is not a folder (train takes a project folder or a corpus folder with train.txt and valid.txt)`);
  if (isSplitCorpus(dir)) {
    if (testFraction > 0) throw new UsageError(`${target} is a corpus folder already split into train/valid(/test): --split is for project folders`);
    const read = (split: 'train' | 'valid' | 'test') => corpusSplit(dir, split)?.map((f) => readFileSync(f, 'utf8'));
    const test = read('test');
    const train = read('train')!;
    const valid = read('valid')!;
    const mb = (texts: string[]) => `${(texts.reduce((n, t) => n + t.length, 0) / 1e6).toFixed(1)} M characters`;
    return {
      kind: 'corpus',
      source: dir,
      train,
      valid,
      ...(test ? { test } : {}),
      report: `corpus ${dir}: train ${mb(train)}, valid ${mb(valid)}${test ? `, test ${mb(test)}` : ''}`,
    };
  }
  const scan = await readWorkspaceFiles(dir, { signal });
  if (scan.files.length === 0) throw new UsageError(`no text files to train on in ${dir}\n${formatScanReport(scan)}`);
  const needed = testFraction > 0 ? 3 : 2;
  if (scan.files.length < needed) {
    throw new UsageError(
      `only ${scan.files.length} usable file${scan.files.length === 1 ? '' : 's'} in ${dir}: at least ${needed} are needed (one is held out for validation${testFraction > 0 ? ', one for --split' : ''})\n${formatScanReport(scan)}`,
    );
  }
  const { train: rest, valid: heldOut } = testFraction > 0 ? splitByFile(scan.files, testFraction, TEST_SPLIT_SEED) : { train: scan.files, valid: [] };
  if (rest.length < 2) throw new UsageError(`--split ${testFraction} leaves ${rest.length} file to train and validate on; at least two are needed`);
  const { train, valid } = splitByFile(rest, validFraction);
  return {
    kind: 'folder',
    source: dir,
    train: train.map((f) => f.text),
    valid: valid.map((f) => f.text),
    files: scan.files.length,
    ...(testFraction > 0 ? { heldOut: heldOut.map((f) => ({ relPath: f.relPath, text: f.text })) } : {}),
    report: formatScanReport(scan) + (testFraction > 0 ? `\nheld out for --split: ${heldOut.length} of ${scan.files.length} files` : ''),
  };
}

