// Reads what `nextword train` is pointed at into token streams: a corpus folder with train.txt /
// valid.txt (/ test.txt) used as given, or any other folder read as a project (ignore rules, skips,
// caps) and split into training and validation by whole file.

import { existsSync, readFileSync, statSync } from 'node:fs';
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

export function isSplitCorpus(dir: string): boolean {
  return existsSync(path.join(dir, 'train.txt')) && existsSync(path.join(dir, 'valid.txt'));
}

export async function loadCorpus(target: string, mode: TokenizerMode, validFraction: number, signal?: AbortSignal): Promise<TokenCorpus> {
  const dir = path.resolve(target);
  if (!existsSync(dir)) throw new UsageError(`${target} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${target} is not a folder (train takes a project folder or a corpus folder with train.txt and valid.txt)`);
  if (isSplitCorpus(dir)) {
    const read = (name: string) => tokenize(readFileSync(path.join(dir, name), 'utf8'), mode);
    const test = existsSync(path.join(dir, 'test.txt')) ? read('test.txt') : undefined;
    const train = read('train.txt');
    const valid = read('valid.txt');
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
