// A real VS Code for the tests: code-server (VS Code in the browser, its extension host in Node 24)
// started on loopback with throw-away user data, and Debian's Chromium driven by playwright-core.
// Shared by run-in-host.ts (the in-host mocha suite) and test/e2e/ (the browser test).
// The facts behind each choice: scripts/e2e/README.md.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CODE_SERVER_VERSION = '4.139.1';
export const ROOT = path.resolve(__dirname, '..', '..');
export const FIXTURE_WORKSPACE = path.join(ROOT, 'test', 'fixtures', 'e2e-workspace');
/** The second folder of the in-host tests' multi-root workspace. */
export const SECOND_FIXTURE_FOLDER = path.join(ROOT, 'test', 'fixtures', 'e2e-second-folder');

/** Settings that keep VS Code quiet and let Tab accept ghost text (no suggest widget in the way). */
export const TEST_SETTINGS: Record<string, unknown> = {
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'files.autoSave': 'off',
  'editor.inlineSuggest.enabled': true,
  'editor.wordBasedSuggestions': 'off',
  'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
  'editor.suggestOnTriggerCharacters': false,
  'editor.acceptSuggestionOnEnter': 'off',
  // code-server runs the extension host as a remote one, and VS Code then looks for ports to forward by
  // spawning a process every few seconds from that host's thread (40-170 ms each while a model trains,
  // seen in the load test's profile): its cost, not the extension's, and absent from a desktop VS Code.
  // (The scan runs while a tunnel provider is registered, as in code-server, unless ports are found from
  // terminal output instead.)
  'remote.autoForwardPorts': false,
  'remote.autoForwardPortsSource': 'output',
};

/** Chromium as root in a container: no sandbox, no GPU, no network chatter. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

export interface Install {
  codeServer: string;
  node24: string;
  chromiumPath: string;
}

/** Where install-code-server.sh put Node 24 and code-server ($CODE_SERVER, $NODE24, $CHROMIUM override). */
export function locateInstall(): Install {
  const cache = process.env.NEXTWORD_E2E_CACHE || path.join(homedir(), '.cache', 'nextword-e2e');
  const codeServer = process.env.CODE_SERVER || path.join(cache, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', '.bin', 'code-server');
  const node24 = process.env.NODE24 || path.join(cache, 'node24', 'node_modules', 'node', 'bin', 'node');
  const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
  const missing = ([[codeServer, 'code-server'], [node24, 'Node 24'], [chromiumPath, 'Chromium']] as const).filter(([p]) => !existsSync(p));
  if (missing.length) {
    throw new Error(
      `${missing.map(([p, what]) => `${what} not found at ${p}`).join('; ')}. ` +
        `Run scripts/e2e/install-code-server.sh ${cache} (or set NEXTWORD_E2E_CACHE, CODE_SERVER, NODE24, CHROMIUM).`,
    );
  }
  return { codeServer, node24, chromiumPath };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `nextword-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Copies a fixture workspace into `into`, so the tests may edit and train on it freely. */
export function copyWorkspace(fixture: string, into: string): string {
  const target = path.join(into, path.basename(fixture));
  cpSync(fixture, target, { recursive: true });
  return target;
}

/** Writes `<into>/<name>.code-workspace`, a multi-root workspace of `folders` (absolute paths); returns its path. */
export function writeMultiRootWorkspace(into: string, name: string, folders: string[]): string {
  const file = path.join(into, `${name}.code-workspace`);
  writeFileSync(file, JSON.stringify({ folders: folders.map((f) => ({ path: f })), settings: {} }, null, 2));
  return file;
}

// Every code-server started here dies with this process, even on Ctrl-C or an uncaught error.
const live = new Set<ChildProcess>();
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}
process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of live) killGroup(child, 'SIGKILL');
    process.exit(130);
  });
}

export interface CodeServerOptions {
  /** The folder to open, or a `.code-workspace` file (a multi-root workspace). */
  workspace: string;
  /** A temp folder of this run: user data, extensions and config go inside. */
  dir: string;
  /** A VSIX to install before starting. */
  vsix?: string;
  /** Honour the URL payload's extensionDevelopmentPath / extensionTestsPath (a released build ignores them otherwise). */
  smokeTestDriver?: boolean;
  /** User settings on top of TEST_SETTINGS. */
  settings?: Record<string, unknown>;
  /** Where code-server's output goes (default <dir>/code-server.log). */
  logFile?: string;
  env?: Record<string, string>;
  /**
   * Keep VS Code's workspace trust on (the runners otherwise start with --disable-workspace-trust): the
   * workspace opens in Restricted Mode, untrusted, without asking.
   */
  workspaceTrust?: boolean;
}

export interface CodeServer {
  port: number;
  /** The server's pid, also the id of the process group of everything it starts (extension host included). */
  pid: number;
  origin: string;
  userDataDir: string;
  extensionsDir: string;
  logFile: string;
  /** The workbench URL of the workspace; payload entries are [key, value] string pairs. */
  workbenchUrl(payload?: [string, string][]): string;
  /** A server-side path as the workbench addresses it: the remote authority is the page's own host. */
  remoteUri(file: string): string;
  /** Ends code-server's whole process group (server, extension host, pty host, workers). */
  stop(): Promise<void>;
}

/** Starts code-server and resolves once it listens (the port is picked by the OS). */
export async function startCodeServer(o: CodeServerOptions): Promise<CodeServer> {
  const { codeServer, node24 } = locateInstall();
  const userDataDir = path.join(o.dir, 'user-data');
  const extensionsDir = path.join(o.dir, 'extensions');
  const config = path.join(o.dir, 'config.yaml');
  const logFile = o.logFile ?? path.join(o.dir, 'code-server.log');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  mkdirSync(path.dirname(logFile), { recursive: true });
  // An explicit config file: without one code-server writes ~/.config/code-server/config.yaml.
  writeFileSync(config, 'auth: none\n');
  const trust = o.workspaceTrust ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' } : {};
  writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...TEST_SETTINGS, ...trust, ...o.settings }, null, 2));
  writeFileSync(logFile, '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Node 24 first, so whatever code-server starts by name runs under it.
    PATH: `${path.dirname(node24)}${path.delimiter}${process.env.PATH ?? ''}`,
    EXTENSIONS_GALLERY: '{"serviceUrl":""}',
    ...o.env,
  };
  const common = ['--config', config, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  if (o.vsix) {
    const started = Date.now();
    const r = spawnSync(node24, [codeServer, ...common, '--force', '--install-extension', o.vsix], { env, encoding: 'utf8', timeout: 120_000 });
    appendFileSync(logFile, `$ code-server --install-extension ${o.vsix}\n${r.stdout}${r.stderr}\n`);
    if (r.status !== 0 || !/successfully installed/i.test(`${r.stdout}${r.stderr}`)) {
      throw new Error(`code-server --install-extension ${o.vsix} failed (${r.status ?? r.error}):\n${r.stdout}${r.stderr}`);
    }
    console.log(`code-server: installed ${path.basename(o.vsix)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  const args = [
    codeServer, ...common,
    '--bind-addr', '127.0.0.1:0', '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', ...(o.workspaceTrust ? [] : ['--disable-workspace-trust']), '--disable-getting-started-override',
    ...(o.smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    o.workspace,
  ];
  // detached: a process group of its own, so stop() reaches the extension host and its workers too.
  const child = spawn(node24, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not listen within 60 s:\n${output.slice(-3000)}`)), 60_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      appendFileSync(logFile, text);
      const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited (${code ?? signal}) before listening:\n${output.slice(-3000)}`));
    });
  }).catch((err: unknown) => {
    killGroup(child, 'SIGKILL');
    throw err;
  });

  const origin = `http://127.0.0.1:${port}`;
  return {
    port,
    pid: child.pid!,
    origin,
    userDataDir,
    extensionsDir,
    logFile,
    workbenchUrl(payload) {
      const query = `${o.workspace.endsWith('.code-workspace') ? 'workspace' : 'folder'}=${encodeURIComponent(o.workspace)}`;
      return `${origin}/?${query}${payload ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : ''}`;
    },
    remoteUri(file) {
      return `vscode-remote://127.0.0.1:${port}${path.resolve(file)}`;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, 'SIGTERM');
        const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
        if (!done) {
          killGroup(child, 'SIGKILL');
          await exited;
        }
      }
      // The extension host may outlive the server for a moment: the group id still reaches it.
      killGroup(child, 'SIGKILL');
    },
  };
}

/**
 * Packages the extension for linux-x64 into `name` under dist/vsix/ (scripts/package.mjs) and returns its
 * path. Without a trained default model in models/ it packages without one only when `allowMissingModel`.
 */
export function packageVsix(name: string, o: { skipBuild?: boolean; allowMissingModel?: boolean } = {}): string {
  const out = path.join(ROOT, 'dist', 'vsix', name);
  const missing = o.allowMissingModel && !existsSync(path.join(ROOT, 'models', 'default', 'model.json'));
  const args = ['scripts/package.mjs', '--target', 'linux-x64', '--out', out, ...(o.skipBuild ? ['--skip-build'] : []), ...(missing ? ['--allow-missing-model'] : [])];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`packaging the VSIX failed (node ${args.join(' ')})`);
  return out;
}

/** Debian's Chromium through playwright-core; its config and cache folders go inside `dir`, not the home folder. */
export async function launchChromium(dir: string): Promise<Browser> {
  const { chromiumPath } = locateInstall();
  const home = path.join(dir, 'chromium-home');
  mkdirSync(home, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home },
  });
}
