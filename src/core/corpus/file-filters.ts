// Which workspace files become training text, and why the others do not. Pure decisions on paths and
// bytes, no file system: the CLI walker (`src/io/workspace-files.ts`) and the VS Code extension (which
// reads through `vscode.workspace.fs`) share them, so both skip the same files for the same named reasons.
//
// Paths are forward-slash and relative to the workspace root ("src/app.ts"); a directory path may end
// with "/". Three kinds of decision:
//   classifyPath     by name only, before anything is read (lock files, secrets, binary extensions…)
//   classifyContent  by the bytes, after reading (binary, not UTF-8, minified, empty…)
//   IgnoreRules      .gitignore files, with git's precedence between nested folders

import ignore from 'ignore';

/**
 * Why a file (or a whole folder) was left out of the training text. Each reason is counted in the scan
 * report and can be logged by name.
 *
 * - `ignored`           matched a .gitignore / .git/info/exclude / extra ignore rule, or an exclude setting
 *                       (files.exclude, search.exclude, nextword.training.exclude) where the walker applies them
 * - `excluded-dir`      inside a folder that never holds the user's own writing (node_modules, .git, dist…)
 * - `lock-file`         a package-manager lock file (generated, huge, no prose)
 * - `secret`            a file or folder that may hold credentials (.env, keys, certificates…); never read
 * - `binary-extension`  an extension that means non-text (images, archives, fonts, model weights…)
 * - `minified`          machine-generated text: a `.min.js` / source-map name, or long dense lines
 * - `binary`            the bytes look binary (a NUL byte, many control characters)
 * - `not-utf8`          text in another encoding (invalid UTF-8, or a UTF-16 byte-order mark)
 * - `too-large`         over the per-file size limit; never read
 * - `empty`             nothing but whitespace
 * - `symlink`           a symbolic link; never followed (avoids cycles and files from outside the root)
 * - `unreadable`        vanished, changed type, permission denied, or not a regular file (FIFO, socket…)
 * - `file-cap`          left over after the file-count limit was reached
 * - `byte-cap`          left over after the total-size limit was reached
 */
export type FileSkipReason =
  | 'ignored'
  | 'excluded-dir'
  | 'lock-file'
  | 'secret'
  | 'binary-extension'
  | 'minified'
  | 'binary'
  | 'not-utf8'
  | 'too-large'
  | 'empty'
  | 'symlink'
  | 'unreadable'
  | 'file-cap'
  | 'byte-cap';

/** Every reason, in the order reports list them. */
export const SKIP_REASONS: readonly FileSkipReason[] = [
  'ignored',
  'excluded-dir',
  'lock-file',
  'secret',
  'binary-extension',
  'minified',
  'binary',
  'not-utf8',
  'too-large',
  'empty',
  'symlink',
  'unreadable',
  'file-cap',
  'byte-cap',
];

export interface ScanLimits {
  /** Larger files are skipped as `too-large` without being read. */
  maxFileBytes: number;
  /** Files taken at most; the rest are counted as `file-cap`. */
  maxFiles: number;
  /** Bytes taken at most (sum of file sizes); the rest are counted as `byte-cap`. */
  maxTotalBytes: number;
}

export const DEFAULT_SCAN_LIMITS: Readonly<ScanLimits> = {
  maxFileBytes: 1024 * 1024,
  maxFiles: 20_000,
  maxTotalBytes: 50 * 1024 * 1024,
};

/**
 * Folder names skipped wherever they appear, without descending: dependencies, build output, caches,
 * editor and tool state. Matched exactly (case-sensitive). `vendor` is here because in Go, PHP and Ruby
 * it holds third-party code; `bin` is not, because it often holds the user's own scripts.
 */
export const DEFAULT_EXCLUDED_DIRS: ReadonlySet<string> = new Set([
  // version control
  '.git', '.hg', '.svn',
  // dependencies
  'node_modules', 'bower_components', 'jspm_packages', 'vendor', '.yarn', '.pnpm-store', 'Pods',
  // build output
  'dist', 'build', 'out', 'target', 'obj', '_build', 'zig-out', 'coverage', '.nyc_output',
  // framework and tool caches
  '.next', '.nuxt', '.svelte-kit', '.angular', '.turbo', '.parcel-cache', '.vercel', '.docusaurus',
  '.cache', '.sass-cache', '.terraform', '.dart_tool', '.stack-work', 'elm-stuff', '.zig-cache', 'zig-cache',
  // Python
  '__pycache__', '.venv', 'venv', '.tox', '.nox', '.mypy_cache', '.pytest_cache', '.ruff_cache',
  '.ipynb_checkpoints', '.eggs',
  // JVM
  '.gradle',
  // editors: IDE state, downloaded VS Code test builds, Local History copies of every saved file
  '.idea', '.vs', '.vscode-test', '.history',
  // our own models and caches
  '.nextword',
]);

/** Folders that hold credentials; skipped as `secret` without descending. */
export const SECRET_DIRS: ReadonlySet<string> = new Set(['.ssh', '.gnupg', '.aws', '.azure', '.kube', '.docker']);

/** Lock files by exact (lower-cased) name; any `*.lock` counts as well. */
const LOCK_FILES: ReadonlySet<string> = new Set([
  'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'bun.lockb',
  'deno.lock', 'cargo.lock', 'poetry.lock', 'pipfile.lock', 'pdm.lock', 'uv.lock', 'conda-lock.yml',
  'composer.lock', 'gemfile.lock', 'go.sum', 'go.work.sum', 'flake.lock', 'packages.lock.json',
  'paket.lock', 'mix.lock', 'pubspec.lock', 'podfile.lock', 'package.resolved', 'gradle.lockfile',
]);

/** Secret files by exact (lower-cased) name. */
const SECRET_NAMES: ReadonlySet<string> = new Set([
  '.env', '.envrc', '.npmrc', '.yarnrc.yml', '.pypirc', '.netrc', '_netrc', '.htpasswd', '.git-credentials',
  '.dockercfg', '.pgpass', '.s3cfg', '.boto',
]);

/** Secret files by extension (lower-cased, without the dot). */
const SECRET_EXTENSIONS: ReadonlySet<string> = new Set([
  'env', 'pem', 'key', 'p12', 'pfx', 'crt', 'cer', 'der', 'p8', 'jks', 'keystore', 'kdbx', 'gpg', 'pgp', 'ovpn',
  'tfvars', 'tfstate',
]);

/** Extensions of non-text files (lower-cased, without the dot). SVG is text and left to the content checks. */
const BINARY_EXTENSIONS: ReadonlySet<string> = new Set([
  // images
  'png', 'jpg', 'jpeg', 'gif', 'bmp', 'ico', 'icns', 'tif', 'tiff', 'webp', 'avif', 'heic', 'heif', 'psd',
  'ai', 'eps', 'xcf', 'sketch', 'fig', 'raw', 'cr2', 'nef', 'dng',
  // audio and video
  'mp3', 'wav', 'flac', 'ogg', 'oga', 'opus', 'm4a', 'aac', 'wma', 'aiff', 'mid', 'midi',
  'mp4', 'm4v', 'mov', 'avi', 'mkv', 'webm', 'wmv', 'flv', 'mpg', 'mpeg', '3gp',
  // archives and packages
  'zip', 'tar', 'gz', 'tgz', 'bz2', 'tbz2', 'xz', 'txz', 'zst', '7z', 'rar', 'lz', 'lz4', 'lzma', 'cab',
  'iso', 'dmg', 'jar', 'war', 'ear', 'apk', 'aab', 'ipa', 'deb', 'rpm', 'msi', 'vsix', 'nupkg', 'whl',
  'egg', 'gem', 'crx', 'xpi', 'snap', 'appimage',
  // fonts
  'ttf', 'otf', 'woff', 'woff2', 'eot',
  // documents
  'pdf', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'odt', 'ods', 'odp', 'rtf', 'epub', 'mobi',
  // executables, libraries, object and byte code
  'exe', 'dll', 'so', 'dylib', 'a', 'lib', 'o', 'obj', 'ko', 'elf', 'class', 'pyc', 'pyo', 'pyd', 'wasm',
  'node', 'pdb', 'ilk',
  // data, databases and model weights
  'bin', 'dat', 'db', 'sqlite', 'sqlite3', 'db3', 'mdb', 'accdb', 'onnx', 'pt', 'pth', 'ckpt',
  'safetensors', 'h5', 'hdf5', 'pb', 'tflite', 'npy', 'npz', 'pkl', 'pickle', 'joblib', 'parquet',
  'arrow', 'feather', 'avro', 'orc', 'gguf', 'ggml', 'mlmodel', 'caffemodel',
  // 3D and design
  'blend', 'fbx', 'glb', 'stl', '3ds', 'swf', 'fla', 'unitypackage',
]);

/** Names that say "minified" or "source map" (checked on the lower-cased name). */
const MINIFIED_SUFFIXES: readonly string[] = [
  '.min.js', '.min.mjs', '.min.cjs', '.min.css', '.js.map', '.mjs.map', '.cjs.map', '.css.map', '.ts.map',
];

/** True for a folder name skipped wherever it appears (see DEFAULT_EXCLUDED_DIRS). */
export function isExcludedDirName(name: string): boolean {
  return DEFAULT_EXCLUDED_DIRS.has(name) || name.endsWith('.egg-info');
}

/**
 * Path-only decision, before reading: `excluded-dir` or `secret` when any folder on the path is one,
 * then (for a file) `lock-file`, `secret`, `minified` (by name) or `binary-extension`; undefined when
 * the path gives no reason to skip. A path ending in "/" is a folder and only its segments are checked.
 */
export function classifyPath(relPath: string): FileSkipReason | undefined {
  const isDir = relPath.endsWith('/');
  const segments = relPath.split('/').filter((s) => s !== '' && s !== '.');
  const dirs = isDir ? segments : segments.slice(0, -1);
  for (const dir of dirs) {
    if (isExcludedDirName(dir)) return 'excluded-dir';
    if (SECRET_DIRS.has(dir)) return 'secret';
  }
  if (isDir || segments.length === 0) return undefined;
  return classifyFileName(segments[segments.length - 1]!);
}

function classifyFileName(name: string): FileSkipReason | undefined {
  const lower = name.toLowerCase();
  const dot = lower.lastIndexOf('.');
  // ".env" has no extension; "a.tar.gz" has "gz".
  const ext = dot > 0 ? lower.slice(dot + 1) : '';
  // The part before the first dot: "secrets" for "secrets.prod.yaml".
  const stem = lower.startsWith('.') ? lower : lower.split('.')[0]!;

  if (LOCK_FILES.has(lower) || ext === 'lock') return 'lock-file';
  if (isSecretName(lower, stem, ext)) return 'secret';
  if (MINIFIED_SUFFIXES.some((s) => lower.endsWith(s))) return 'minified';
  if (BINARY_EXTENSIONS.has(ext)) return 'binary-extension';
  return undefined;
}

function isSecretName(lower: string, stem: string, ext: string): boolean {
  if (SECRET_NAMES.has(lower) || SECRET_EXTENSIONS.has(ext)) return true;
  // .env.local, .env.production, .env.example: templates too, since they are often filled in for real.
  if (lower.startsWith('.env.')) return true;
  // SSH private (and public) keys: id_rsa, id_ed25519.pub, id_ecdsa_work…
  if (/^id_(rsa|dsa|ecdsa|ed25519)/.test(lower)) return true;
  // credentials, credentials.json, secrets.yaml, secret.txt, client_secret_123.json; a source file such
  // as "credentialStore.ts" has a different stem and is kept.
  if (stem === 'credentials' || stem === 'secrets' || stem === 'secret') return true;
  return lower.startsWith('client_secret');
}

// Content checks ------------------------------------------------------------------------------------

export interface ContentOptions {
  /** Default DEFAULT_SCAN_LIMITS.maxFileBytes. */
  maxFileBytes?: number;
}

export type ContentVerdict = { text: string } | { skip: FileSkipReason };

/** Git's binary test looks at the first 8000 bytes for a NUL; we look at 8 KiB. */
const SNIFF_BYTES = 8 * 1024;
/** Share of control bytes (other than tab, newlines, form feed, escape) above which a file is binary. */
const MAX_CONTROL_SHARE = 0.1;
/** Lines at least this long are candidates for "machine-generated". */
const MACHINE_LINE_MIN_CHARS = 500;
/**
 * Whitespace share below which a long line is dense code or data: minified bundles sit far below it, prose
 * (one-line Markdown paragraphs with links too) far above (docs/design-figures.md).
 */
const MACHINE_LINE_MAX_WHITESPACE_SHARE = 0.08;
/**
 * Lines with at least this share of non-ASCII characters are natural language (CJK prose has no
 * spaces); minified code and base64 are almost entirely ASCII.
 */
const NATURAL_LINE_MIN_NON_ASCII_SHARE = 0.3;
/** Lines this long are machine-made whatever their whitespace (source maps embed spaced source code). */
const MACHINE_LINE_ALWAYS_CHARS = 10_000;
/** A file is minified when more than this share of its characters sits on machine-made lines. */
const MINIFIED_MIN_SHARE = 0.5;

/**
 * Decides from a file's bytes whether it is training text. Returns the decoded text (UTF-8, BOM
 * stripped, line endings untouched) or the reason to skip it. Checks, in order: too-large; empty (no
 * bytes); not-utf8 for a UTF-16 byte-order mark; binary (a NUL in the first 8 KiB, or over 10% control
 * bytes there); not-utf8 when strict decoding fails; empty (whitespace only); minified (`looksMinified`).
 */
export function classifyContent(bytes: Uint8Array, opts: ContentOptions = {}): ContentVerdict {
  const maxFileBytes = opts.maxFileBytes ?? DEFAULT_SCAN_LIMITS.maxFileBytes;
  if (bytes.length > maxFileBytes) return { skip: 'too-large' };
  if (bytes.length === 0) return { skip: 'empty' };
  if (hasUtf16Bom(bytes)) return { skip: 'not-utf8' };
  if (looksBinary(bytes)) return { skip: 'binary' };
  let text: string;
  try {
    // fatal: reject invalid sequences instead of inserting U+FFFD; the BOM is stripped by default.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { skip: 'not-utf8' };
  }
  if (text.trim() === '') return { skip: 'empty' };
  if (looksMinified(text)) return { skip: 'minified' };
  return { text };
}

function hasUtf16Bom(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
}

/** A NUL byte, or too many control bytes, in the first SNIFF_BYTES. */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, SNIFF_BYTES);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0) return true;
    // Allowed: \t \n \v \f \r (9–13) and ESC (27, colour codes in logs).
    if ((b < 9 || (b > 13 && b < 32 && b !== 27)) || b === 127) control++;
  }
  return control > n * MAX_CONTROL_SHARE;
}

/**
 * Machine-generated text: more than half of the characters sit on "machine lines", i.e. lines of at
 * least 500 characters that are either dense (under 8% spaces and tabs, and under 30% non-ASCII) or
 * 10,000 characters or longer. A Markdown paragraph kept on one line (hundreds to a few thousand
 * characters, ~15–20% spaces) does not qualify; a minified bundle (1–3% spaces) does.
 */
export function looksMinified(text: string): boolean {
  if (text.length < MACHINE_LINE_MIN_CHARS) return false;
  let machineChars = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const length = end - start;
    if (length >= MACHINE_LINE_MIN_CHARS && isMachineLine(text, start, end)) machineChars += length;
    start = end + 1;
  }
  return machineChars > text.length * MINIFIED_MIN_SHARE;
}

function isMachineLine(text: string, start: number, end: number): boolean {
  const length = end - start;
  if (length >= MACHINE_LINE_ALWAYS_CHARS) return true;
  let whitespace = 0;
  let nonAscii = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9) whitespace++;
    else if (c > 127) nonAscii++;
  }
  if (nonAscii >= length * NATURAL_LINE_MIN_NON_ASCII_SHARE) return false;
  return whitespace < length * MACHINE_LINE_MAX_WHITESPACE_SHARE;
}

// .gitignore rules ----------------------------------------------------------------------------------

export interface IgnoreRulesOptions {
  /** Match case-insensitively, as git does on macOS and Windows (core.ignorecase). Default false. */
  ignoreCase?: boolean;
}

/**
 * .gitignore-syntax rules from nested folders, with git's precedence: a deeper file's rules override
 * its ancestors', and within a file the last matching line wins. Each file's rules are rebased onto the
 * root ("/x" in `a/.gitignore` becomes "a/x", an unanchored "x" becomes "a/**\/x") and appended, so one
 * matcher applies them in precedence order. Immutable: `withFile` returns a new set, so a walker keeps
 * one per folder on its stack and sibling folders never see each other's rules.
 *
 * As in git, a file inside an ignored folder cannot be re-included; walkers do not descend into
 * ignored folders anyway.
 */
export class IgnoreRules {
  private constructor(
    private readonly matcher: ReturnType<typeof ignore>,
    private readonly ignoreCase: boolean,
    private readonly count: number,
  ) {}

  static empty(opts: IgnoreRulesOptions = {}): IgnoreRules {
    const ignoreCase = opts.ignoreCase ?? false;
    return new IgnoreRules(ignore({ ignorecase: ignoreCase }), ignoreCase, 0);
  }

  /** Rules from a .gitignore-syntax file in folder `dirRelPath` ("" for the root, else "a/b"). */
  withFile(dirRelPath: string, text: string): IgnoreRules {
    const dir = dirRelPath.replace(/^\/+|\/+$/g, '');
    const prefix = dir === '' ? '' : escapeGlob(dir) + '/';
    const lines: string[] = [];
    for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
      const line = prefix === '' ? raw : rebaseLine(raw, prefix);
      if (line !== undefined && line.trim() !== '' && !line.startsWith('#')) lines.push(line);
    }
    if (lines.length === 0) return this;
    const matcher = ignore({ ignorecase: this.ignoreCase }).add(this.matcher).add(lines);
    return new IgnoreRules(matcher, this.ignoreCase, this.count + lines.length);
  }

  /** Number of rule lines held (comments and blank lines excluded). */
  get size(): number {
    return this.count;
  }

  /** Whether the rules exclude `relPath` (forward-slash, relative to the root). */
  ignores(relPath: string, isDir: boolean): boolean {
    if (this.count === 0) return false;
    const p = relPath.replace(/^\/+|\/+$/g, '');
    if (p === '') return false;
    return this.matcher.ignores(isDir ? p + '/' : p);
  }
}

/** Escapes a literal folder path for use as a pattern prefix. */
function escapeGlob(dir: string): string {
  // "!" and "#" only mean something at the start of a pattern.
  return dir.replace(/[\\*?[\]]/g, (c) => '\\' + c).replace(/^[!#]/, (c) => '\\' + c);
}

/**
 * One line of a nested .gitignore, rebased onto the root. Git: a pattern with a slash at the start or
 * in the middle is relative to the file's folder; one without may match at any depth below it.
 */
function rebaseLine(raw: string, prefix: string): string | undefined {
  if (raw === '' || raw.startsWith('#')) return undefined;
  let negate = '';
  let body = raw;
  if (body.startsWith('!')) {
    negate = '!';
    body = body.slice(1);
  }
  body = trimUnescapedTrailingSpaces(body);
  const dirOnly = body.endsWith('/');
  if (dirOnly) body = body.slice(0, -1);
  if (body === '' || body === '/') return undefined;
  const anchored = body.includes('/');
  if (body.startsWith('/')) body = body.slice(1);
  return negate + prefix + (anchored ? '' : '**/') + body + (dirOnly ? '/' : '');
}

function trimUnescapedTrailingSpaces(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === ' ') {
    let backslashes = 0;
    while (end - 2 - backslashes >= 0 && s[end - 2 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 1) break; // "\ " is a literal space
    end--;
  }
  return s.slice(0, end);
}
