// Builds the corpus the bundled default model is trained on (`npm run train:default-model`): the
// public-domain books of corpora/gutenberg and the permissively licensed packages of sources.json, each
// fetched at its pinned version (npm pack from the npm registry, apt-get download from Debian's archive),
// checked (version, declared licence, its archive's sha256 recorded), read as a workspace is read (ignore
// rules, binary, minified and generated files skipped: io/workspace-files.ts) and capped by the same
// deterministic sample of its files. Writes OUT/{train,valid,test}/*.txt (a corpus folder `nextword train`
// reads as given) and OUT/PROVENANCE.json (every file taken, from which archive).
//
//   node --import tsx scripts/default-model/build-corpus.ts [--out corpora/default-model] [--cache DIR]

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { sampleOrder } from '../../src/core/corpus/file-split.js';
import { readWorkspaceFiles } from '../../src/io/workspace-files.js';

interface Source {
  npm?: string;
  deb?: string;
  version: string;
  license: string;
  split: 'train' | 'valid' | 'test';
  /** The folder of the unpacked archive that is read. */
  under: string;
  /** File name endings taken. */
  ext: string[];
  /** Path prefixes (from the archive's root) left out. */
  exclude?: string[];
  /** Bytes taken at most: a deterministic sample of the files (sampleOrder), whole files. */
  maxBytes: number;
}

const ROOT = path.join(__dirname, '..', '..');
const SPLITS = ['train', 'valid', 'test'] as const;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, cache: { type: 'string' } } });
  const out = path.resolve(values.out ?? path.join(ROOT, 'corpora', 'default-model'));
  const cache = path.resolve(values.cache ?? path.join(os.tmpdir(), 'nextword-default-model-sources'));
  const manifest = JSON.parse(readFileSync(path.join(__dirname, 'sources.json'), 'utf8')) as { books: string; packages: Source[] };
  rmSync(out, { recursive: true, force: true });
  for (const split of SPLITS) mkdirSync(path.join(out, split), { recursive: true });
  mkdirSync(cache, { recursive: true });

  // The books, as corpora/gutenberg splits them (its README has their provenance).
  const books = path.join(ROOT, manifest.books);
  for (const split of SPLITS) {
    for (const f of readdirSync(path.join(books, split)).filter((f) => f.endsWith('.txt'))) cpSync(path.join(books, split, f), path.join(out, split, `book--${f}`));
  }

  const provenance: Record<string, unknown>[] = [];
  for (const source of manifest.packages) {
    const name = source.npm ?? source.deb!;
    const archive = fetchArchive(source, cache);
    const unpacked = mkdtempSync(path.join(os.tmpdir(), 'nextword-corpus-'));
    try {
      unpack(source, archive, unpacked);
      checkPackage(source, unpacked);
      const taken = await takeFiles(source, unpacked);
      const slug = name.replace(/^@/, '').replace(/\//g, '-');
      for (const f of taken) writeFileSync(path.join(out, source.split, `${slug}--${f.relPath.replace(/\//g, '__')}.txt`), f.text);
      const bytes = taken.reduce((n, f) => n + f.bytes, 0);
      provenance.push({
        [source.npm ? 'npm' : 'deb']: name,
        version: source.version,
        license: source.license,
        split: source.split,
        archive: path.basename(archive),
        sha256: createHash('sha256').update(readFileSync(archive)).digest('hex'),
        files: taken.map((f) => f.relPath),
        bytes,
      });
      console.log(`${source.split.padEnd(5)} ${name}@${source.version}: ${taken.length} files, ${(bytes / 1e6).toFixed(2)} MB`);
    } finally {
      rmSync(unpacked, { recursive: true, force: true });
    }
  }
  writeFileSync(path.join(out, 'PROVENANCE.json'), JSON.stringify({ books: manifest.books, packages: provenance }, null, 1) + '\n');
  for (const split of SPLITS) {
    const files = readdirSync(path.join(out, split));
    const bytes = files.reduce((n, f) => n + readFileSync(path.join(out, split, f)).length, 0);
    console.log(`${split}: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB`);
  }
  console.log(`corpus written to ${path.relative(process.cwd(), out) || out}`);
}

/** The package's archive in the cache, fetched at its pinned version if it is not there yet. */
function fetchArchive(source: Source, cache: string): string {
  if (source.npm) {
    const file = path.join(cache, `${source.npm.replace(/^@/, '').replace(/\//g, '-')}-${source.version}.tgz`);
    if (!existsSync(file)) execFileSync('npm', ['pack', `${source.npm}@${source.version}`, '--silent', '--pack-destination', cache], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (!existsSync(file)) throw new Error(`npm pack ${source.npm}@${source.version} did not write ${file}`);
    return file;
  }
  const found = () => readdirSync(cache).find((f) => f.startsWith(`${source.deb}_`) && f.endsWith('.deb') && debVersion(path.join(cache, f)) === source.version);
  if (!found()) {
    try {
      execFileSync('apt-get', ['download', `${source.deb}=${source.version}`], { cwd: cache, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      throw new Error(`apt-get download ${source.deb}=${source.version} failed (is this Debian 12 with its archive reachable?): ${(e as { stderr?: Buffer }).stderr?.toString().trim() ?? e}`);
    }
  }
  const file = found();
  if (!file) throw new Error(`apt-get download did not give ${source.deb} ${source.version}`);
  return path.join(cache, file);
}

function debVersion(file: string): string {
  return execFileSync('dpkg-deb', ['-f', file, 'Version'], { encoding: 'utf8' }).trim();
}

function unpack(source: Source, archive: string, to: string): void {
  if (source.npm) execFileSync('tar', ['-xzf', archive, '-C', to]);
  else execFileSync('dpkg-deb', ['-x', archive, to]);
}

/** The archive is what sources.json says: its version, and its declared licence (npm) or copyright file (Debian). */
function checkPackage(source: Source, root: string): void {
  if (source.npm) {
    const pkgJson = [path.join(root, 'package', 'package.json'), ...readdirSync(root).map((d) => path.join(root, d, 'package.json'))].find((f) => existsSync(f))!;
    const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { name: string; version: string; license?: string };
    if (pkg.name !== source.npm || pkg.version !== source.version) throw new Error(`${pkgJson}: ${pkg.name}@${pkg.version}, expected ${source.npm}@${source.version}`);
    if (pkg.license !== source.license) throw new Error(`${source.npm}: licence ${pkg.license}, sources.json says ${source.license}`);
  } else if (!existsSync(path.join(root, 'usr', 'share', 'doc', source.deb!, 'copyright'))) {
    throw new Error(`${source.deb}: no usr/share/doc/${source.deb}/copyright in the package`);
  }
}

/** The files of `under` with the wanted endings, read as a workspace, up to maxBytes in sample order; listed in path order. */
async function takeFiles(source: Source, root: string) {
  const dir = path.join(root, source.under);
  const scan = await readWorkspaceFiles(dir, { maxTotalBytes: 1 << 30, maxFiles: 1_000_000 });
  const prefix = source.under.replace(/\/?$/, '/');
  const wanted = scan.files.filter((f) => source.ext.some((e) => f.relPath.endsWith(e)) && !(source.exclude ?? []).some((x) => (prefix + f.relPath).startsWith(x)));
  const taken: typeof wanted = [];
  let bytes = 0;
  for (const i of sampleOrder(wanted.map((f) => f.relPath))) {
    const f = wanted[i]!;
    if (bytes + f.bytes > source.maxBytes) continue;
    taken.push(f);
    bytes += f.bytes;
  }
  return taken.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
