// Packages the extension as a platform-specific VSIX that carries one platform's onnxruntime binaries.
//
//   node scripts/package.mjs [--target linux-x64] [--out file.vsix] [--skip-build] [--allow-missing-model] [--max-mb 25]
//
// The target defaults to $NEXTWORD_TARGET, else this machine's platform. Steps: bundle with esbuild
// (scripts/build.mjs), write an ignore file = .vscodeignore (the allow-list) + this target's native files,
// run `vsce package --target`, then open the VSIX and check what it holds: the bundle, the model, exactly
// one platform's binaries, no GPU provider libraries, nothing else from node_modules, and its size.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync, closeSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const ORT_BIN = 'node_modules/onnxruntime-node/bin/napi-v6';

// The files onnxruntime-node's binding loads on each platform (checked with objdump/strings: the binding
// links libonnxruntime; DirectML.dll is delay-loaded and dxcompiler/dxil are WebGPU's, both GPU-only).
// darwin ships the same dylib twice (libonnxruntime.1.30.0.dylib); the binding's rpath names only .1.dylib.
const NATIVE_FILES = {
  linux: ['onnxruntime_binding.node', 'libonnxruntime.so.1'],
  darwin: ['onnxruntime_binding.node', 'libonnxruntime.1.dylib'],
  win32: ['onnxruntime_binding.node', 'onnxruntime.dll'],
};
const GPU_LIBRARY = /(directml|dxcompiler|dxil|cuda|cudnn|cublas|tensorrt|providers_shared|providers_rocm|providers_migraphx|providers_openvino|providers_webgpu)/i;
const TARGETS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];

function parseArgs(argv) {
  const opts = { target: process.env.NEXTWORD_TARGET || `${process.platform}-${process.arch}`, out: undefined, build: true, allowMissingModel: false, maxMb: 25 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) fail(`${a} needs a value`);
      return v;
    };
    if (a === '--target') opts.target = value();
    else if (a === '--out') opts.out = path.resolve(value());
    else if (a === '--skip-build') opts.build = false;
    else if (a === '--allow-missing-model') opts.allowMissingModel = true;
    else if (a === '--max-mb') opts.maxMb = Number(value());
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/package.mjs [--target <os-arch>] [--out file.vsix] [--skip-build] [--allow-missing-model] [--max-mb N]');
      console.log(`targets: ${TARGETS.join(', ')}`);
      process.exit(0);
    } else fail(`unknown argument ${a} (try --help)`);
  }
  if (!TARGETS.includes(opts.target)) {
    fail(`target ${opts.target} is not supported: onnxruntime-node ${ortVersion()} ships binaries for ${TARGETS.join(', ')}`);
  }
  if (!(opts.maxMb > 0)) fail('--max-mb must be a positive number');
  return opts;
}

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function ortVersion() {
  return JSON.parse(readFileSync(path.join(ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version;
}

function run(command, args) {
  const r = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) fail(`${command} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** The ignore file for one target: the allow-list plus that target's native files, one by one. */
function ignoreFileFor(target) {
  const [os, arch] = target.split('-');
  const dir = path.join(ROOT, ORT_BIN, os, arch);
  if (!existsSync(dir)) fail(`${path.relative(ROOT, dir)} is missing: is onnxruntime-node installed (npm ci)?`);
  const wanted = NATIVE_FILES[os];
  for (const f of wanted) if (!existsSync(path.join(dir, f))) fail(`${ORT_BIN}/${os}/${arch}/${f} is missing`);
  const left = readdirSync(dir).filter((f) => !wanted.includes(f));
  if (left.length) console.log(`package: leaving out ${left.join(', ')} (GPU providers or duplicates)`);
  const base = readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8');
  return `${base}\n# ${target} (added by scripts/package.mjs)\n${wanted.map((f) => `!${ORT_BIN}/${os}/${arch}/${f}`).join('\n')}\n`;
}

/** Entry names of a zip file, read from its central directory. */
function zipEntries(file) {
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const tailLength = Math.min(size, 65557);
    const tail = Buffer.alloc(tailLength);
    readSync(fd, tail, 0, tailLength, size - tailLength);
    const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (eocd < 0) throw new Error(`${file} is not a zip file`);
    const count = tail.readUInt16LE(eocd + 10);
    const dirSize = tail.readUInt32LE(eocd + 12);
    const dirOffset = tail.readUInt32LE(eocd + 16);
    const dir = Buffer.alloc(dirSize);
    readSync(fd, dir, 0, dirSize, dirOffset);
    const entries = [];
    for (let p = 0, i = 0; i < count; i++) {
      if (dir.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${i}`);
      const nameLength = dir.readUInt16LE(p + 28);
      const extraLength = dir.readUInt16LE(p + 30);
      const commentLength = dir.readUInt16LE(p + 32);
      entries.push({ name: dir.toString('utf8', p + 46, p + 46 + nameLength), size: dir.readUInt32LE(p + 24) });
      p += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

/** What the VSIX must and must not hold; returns the problems found. */
function checkContents(entries, target, opts) {
  const [os, arch] = target.split('-');
  const names = new Set(entries.map((e) => e.name));
  const problems = [];
  const required = [
    'extension/package.json',
    'extension/dist/extension.js',
    'extension/dist/training-worker.js',
    'extension/dist/model-server.js',
    'extension/media/icon.png',
    'extension/node_modules/onnxruntime-node/dist/index.js',
    'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
    ...NATIVE_FILES[os].map((f) => `extension/${ORT_BIN}/${os}/${arch}/${f}`),
  ];
  const modelJson = path.join(ROOT, 'models', 'default', 'model.json');
  if (existsSync(modelJson)) {
    // The weights file model.json names must travel with it.
    const onnx = JSON.parse(readFileSync(modelJson, 'utf8')).onnx?.file;
    if (typeof onnx !== 'string') problems.push('models/default/model.json names no onnx file');
    required.push('extension/models/default/model.json', ...(typeof onnx === 'string' ? [`extension/models/default/${onnx}`] : []));
  } else if (!opts.allowMissingModel) required.push('extension/models/default/model.json');
  for (const r of required) if (!names.has(r)) problems.push(`missing ${r}`);
  for (const { name } of entries) {
    const inExtension = name.startsWith('extension/') ? name.slice('extension/'.length) : undefined;
    if (inExtension === undefined) continue;
    if (inExtension.startsWith(`${ORT_BIN}/`) && !inExtension.startsWith(`${ORT_BIN}/${os}/${arch}/`)) problems.push(`another platform's binary: ${name}`);
    if (GPU_LIBRARY.test(path.basename(name))) problems.push(`GPU provider library: ${name}`);
    if (inExtension.startsWith('node_modules/') && !/^node_modules\/onnxruntime-(node|common)\//.test(inExtension)) problems.push(`unexpected dependency: ${name}`);
    if (/^(src|test|scripts|runs|tmp|corpora)\//.test(inExtension)) problems.push(`source or work file: ${name}`);
  }
  return problems;
}

const opts = parseArgs(process.argv.slice(2));
const { name, version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const out = opts.out ?? path.join(ROOT, 'dist', 'vsix', `${name}-${version}-${opts.target}.vsix`);
const started = Date.now();

if (opts.build) run(process.execPath, ['scripts/build.mjs']);
for (const f of ['dist/extension.js', 'dist/training-worker.js', 'dist/model-server.js']) {
  if (!existsSync(path.join(ROOT, f))) fail(`${f} is missing after the build (does src/extension/extension.ts exist?)`);
}
if (!existsSync(path.join(ROOT, 'models/default/model.json'))) {
  if (!opts.allowMissingModel) fail('models/default/model.json is missing: the VSIX would ship without its default model (pass --allow-missing-model to package anyway)');
  console.warn('package: WARNING models/default/ is missing: this VSIX has no bundled model');
}

const work = mkdtempSync(path.join(tmpdir(), 'nextword-package-'));
try {
  const ignoreFile = path.join(work, 'vscodeignore');
  writeFileSync(ignoreFile, ignoreFileFor(opts.target));
  mkdirSync(path.dirname(out), { recursive: true });
  rmSync(out, { force: true });
  const vsceArgs = [
    path.join(ROOT, 'node_modules/@vscode/vsce/vsce'), 'package',
    '--target', opts.target,
    '--out', out,
    '--ignoreFile', ignoreFile,
    // The allow-list picks the runtime files; npm's dependency walk only lists candidates.
    '--dependencies',
    '--no-yarn',
    // README images stay relative: VS Code shows them from the installed extension's folder.
    '--no-rewrite-relative-links',
    '--allow-missing-repository',
  ];
  if (!readdirSync(ROOT).some((f) => /^licen[cs]e/i.test(f))) {
    console.warn('package: WARNING no LICENSE file at the repository root; packaging with --skip-license');
    vsceArgs.push('--skip-license');
  }
  run(process.execPath, vsceArgs);
} finally {
  rmSync(work, { recursive: true, force: true });
}

const entries = zipEntries(out);
const problems = checkContents(entries, opts.target, opts);
const mb = statSync(out).size / 1e6;
if (mb > opts.maxMb) problems.push(`the VSIX is ${mb.toFixed(1)} MB, over the ${opts.maxMb} MB limit`);
if (problems.length) {
  console.error(problems.map((p) => `package: ${p}`).join('\n'));
  fail(`${path.relative(ROOT, out)} failed its checks`);
}
const unpacked = entries.reduce((s, e) => s + e.size, 0) / 1e6;
console.log(`package: ${path.relative(process.cwd(), out)}: ${mb.toFixed(1)} MB (${entries.length} files, ${unpacked.toFixed(1)} MB unpacked), target ${opts.target}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
