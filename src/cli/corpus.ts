// Reads what `nextword train` is pointed at into token streams: a corpus folder with train.txt /
// valid.txt (/ test.txt), or train/ valid/ (test/) folders of .txt files, used as given, or any other folder read as a project (ignore rules, skips,
// caps) and split into training and validation by whole file.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { splitByFile } from '../core/file-split.js';
import { tokenize, type TokenizerMode } from '../core/tokenizer.js';
import { formatScanReport, readWorkspaceFiles } from '../io/workspace-files.js';
import { UsageError } from './args.js';

export interface TokenCorpus {
  kind: 'corpus' | 'folder';
  source: string;
  train: string[];
  valid: string[];
  test?: string[];
  files?: number;
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

export async function loadCorpus(target: string, mode: TokenizerMode, validFraction: number, signal?: AbortSignal): Promise<TokenCorpus> {
  const dir = path.resolve(target);
  if (!existsSync(dir)) throw new UsageError(`${target} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${target} is not a folder (train takes a project folder or a corpus folder with train.txt and valid.txt)`);
  if (isSplitCorpus(dir)) {
    const read = (split: 'train' | 'valid' | 'test') => {
      const files = corpusSplit(dir, split);
      return files && files.flatMap((f) => tokenize(readFileSync(f, 'utf8'), mode));
    };
    const test = read('test');
    const train = read('train')!;
    const valid = read('valid')!;
    return {
      kind: 'corpus',
      source: dir,
      train,
      valid,
      ...(test ? { test } : {}),
      report: `corpus ${dir}: train ${train.length} tokens, valid ${valid.length}${test ? `, test ${test.length}` : ''}`,
    };
  }
  const scan = await readWorkspaceFiles(dir, { signal });
  if (scan.files.length === 0) throw new UsageError(`no text files to train on in ${dir}\n${formatScanReport(scan)}`);
  if (scan.files.length < 2) throw new UsageError(`only one usable file in ${dir}: at least two are needed (one is held out for validation)\n${formatScanReport(scan)}`);
  const { train, valid } = splitByFile(scan.files, validFraction);
  const toks = (files: typeof scan.files) => files.flatMap((f) => tokenize(f.text, mode));
  return { kind: 'folder', source: dir, train: toks(train), valid: toks(valid), files: scan.files.length, report: formatScanReport(scan) };
}
