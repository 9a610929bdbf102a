// Installs and launches code-server (VS Code 1.100.3 as a web server) for the
// integration, e2e and vsix tiers. See shared/offline-vscode.md for the facts
// this relies on; every number here was measured on the project's machines.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const CODE_SERVER_VERSION = '4.100.3';
/** The VS Code version bundled in CODE_SERVER_VERSION. */
export const VSCODE_VERSION = '1.100.3';
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

/** Repository root: this file runs from out/test/harness/. */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const CACHE_DIR = join(REPO_ROOT, '.vscode-test', `code-server-${CODE_SERVER_VERSION}`);
export const RESULTS_DIR = join(REPO_ROOT, 'test-results');
const PACKAGE_DIR = join(CACHE_DIR, 'node_modules', 'code-server');
const ENTRY = join(PACKAGE_DIR, 'out', 'node', 'entry.js');
const INSTALLED_MARKER = join(CACHE_DIR, '.installed');

function log(message: string): void {
  console.log(`[code-server] ${message}`);
}

/** Is a complete install of CODE_SERVER_VERSION in the cache? */
export function isCodeServerInstalled(): boolean {
  if (!existsSync(INSTALLED_MARKER) || !existsSync(ENTRY)) return false;
  try {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version === CODE_SERVER_VERSION;
  } catch {
    return false;
  }
}

/**
 * @vscode/ripgrep's postinstall downloads rg from the internet, which these
 * machines cannot reach. It looks in its cache first, so put Debian's rg there.
 */
function seedRipgrepCache(tmp: string): void {
  const cacheDir = join(tmp, `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  const tarball = join(cacheDir, RIPGREP_ASSET);
  if (existsSync(tarball)) return;
  const rg = '/usr/bin/rg';
  if (!existsSync(rg)) {
    throw new Error(`code-server needs ripgrep: ${rg} is missing. Install it with: apt-get install -y ripgrep`);
  }
  const stage = mkdtempSync(join(tmp, 'rg-stage-'));
  try {
    copyFileSync(rg, join(stage, 'rg'));
    mkdirSync(cacheDir, { recursive: true });
    const tar = spawnSync('tar', ['-czf', tarball, '-C', stage, 'rg'], { stdio: 'inherit' });
    if (tar.status !== 0) throw new Error(`could not build the ripgrep cache tarball ${tarball}`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  log(`seeded the ripgrep cache from ${rg}: ${tarball}`);
}

/**
 * Installs code-server@CODE_SERVER_VERSION into .vscode-test/ once (under a minute,
 * about 45 s measured; 300 MB). Later calls return at once.
 */
export async function ensureCodeServer(): Promise<string> {
  if (isCodeServerInstalled()) return ENTRY;
  // Several harnesses may start at once in one tree: one installs, the others wait.
  const lock = `${CACHE_DIR}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  const waitStarted = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (isCodeServerInstalled()) return ENTRY;
      let age: number;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue;
      }
      if (age > 15 * 60_000) {
        log(`removing a stale install lock ${lock}`);
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - waitStarted > 20 * 60_000) throw new Error(`gave up waiting for another code-server install (lock ${lock})`);
      if ((Date.now() - waitStarted) % 30_000 < 1_000) log(`waiting for another process installing code-server (lock ${lock})`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  heldLock = lock;
  try {
    return await install();
  } finally {
    heldLock = undefined;
    rmSync(lock, { recursive: true, force: true });
  }
}

async function install(): Promise<string> {
  if (isCodeServerInstalled()) return ENTRY;
  const started = Date.now();
  log(`installing code-server@${CODE_SERVER_VERSION} into ${CACHE_DIR} (once; usually under a minute)`);
  const missingLibs = [
    '/usr/include/krb5.h',
    '/usr/include/X11/Xlib.h',
    '/usr/include/X11/extensions/XKBfile.h',
    '/usr/include/libsecret-1/libsecret/secret.h',
  ].filter((f) => !existsSync(f));
  if (missingLibs.length > 0) {
    log(
      `warning: headers missing (${missingLibs.join(', ')}); native modules may fail to build. ` +
        'Install: apt-get install -y libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev',
    );
  }
  rmSync(CACHE_DIR, { recursive: true, force: true });
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(join(CACHE_DIR, 'package.json'), JSON.stringify({ name: 'code-server-cache', private: true }, null, 2));
  const tmp = tmpdir();
  seedRipgrepCache(tmp);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TMPDIR: tmp,
    // Its postinstall refuses to run as root without unsafe-perm.
    npm_config_unsafe_perm: 'true',
    // node-pty's postinstall runs `npx node-gyp`; a `yes=false` npmrc would cancel it.
    npm_config_yes: 'true',
    // npm 11's allowScripts gate: this isolated cache install needs every dependency's
    // install script (native modules, ripgrep, code-server's own postinstall).
    npm_config_ignore_scripts: 'false',
    npm_config_strict_allow_scripts: 'false',
    npm_config_dangerously_allow_all_scripts: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_progress: 'false',
  };
  // Build native modules against the machine's own Node headers, never a download.
  if (existsSync('/usr/include/node/node.h')) env['npm_config_nodedir'] = '/usr';

  const logFile = join(dirname(CACHE_DIR), `code-server-${CODE_SERVER_VERSION}-install.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn('npm', ['install', '--prefix', CACHE_DIR, '--no-save', '--loglevel', 'warn', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: CACHE_DIR,
    env,
    stdio: ['ignore', fd, fd],
  });
  const ticker = setInterval(() => log(`still installing... ${Math.round((Date.now() - started) / 1000)}s (log: ${logFile})`), 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(ticker);
  closeSync(fd);
  if (code !== 0 || !existsSync(ENTRY)) {
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
    throw new Error(
      `installing code-server@${CODE_SERVER_VERSION} failed (npm exit ${code}). Last lines of ${logFile}:\n${tail}\n` +
        'It needs: Node 20, the npm registry, apt packages libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep, python3, make, g++.',
    );
  }
  // A smoke check that the install is usable before it is marked good.
  const scratch = mkdtempSync(join(tmp, 'cs-version-'));
  const version = spawnSync(process.execPath, [ENTRY, '--version'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, XDG_CONFIG_HOME: scratch, XDG_DATA_HOME: scratch },
  });
  rmSync(scratch, { recursive: true, force: true });
  const versionLine = (version.stdout ?? '').split('\n').find((line) => line.startsWith(CODE_SERVER_VERSION));
  if (version.status !== 0 || versionLine === undefined) {
    throw new Error(`code-server installed but \`--version\` failed:\n${version.stdout}\n${version.stderr}`);
  }
  writeFileSync(INSTALLED_MARKER, `${versionLine}\n`);
  log(`installed in ${Math.round((Date.now() - started) / 1000)}s: ${versionLine}`);
  return ENTRY;
}

/** Runs the code-server CLI (for example --install-extension) and returns its output. */
export function runCodeServerCli(args: string[], env?: NodeJS.ProcessEnv): { status: number | null; output: string } {
  const scratch = mkdtempSync(join(tmpdir(), 'cs-cli-'));
  const result = spawnSync(process.execPath, [ENTRY, ...args], {
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, XDG_CONFIG_HOME: scratch, XDG_DATA_HOME: scratch, ...env },
  });
  rmSync(scratch, { recursive: true, force: true });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not get a free port');
  return address.port;
}

export interface LaunchOptions {
  /** Folder opened in the workbench. */
  workspace: string;
  /** Defaults to a fresh temp folder. */
  userDataDir?: string;
  /** Defaults to a fresh, empty temp folder. */
  extensionsDir?: string;
  /** Merged over the harness defaults in User/settings.json. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server and so for its extension host. */
  env?: Record<string, string>;
  /** Names the log file test-results/logs/<label>-code-server.log. */
  label?: string;
}

export interface CodeServer {
  url: string;
  port: number;
  userDataDir: string;
  extensionsDir: string;
  logFile: string;
  /** vscode-remote://127.0.0.1:<port><absolute path>, the form the workbench payload wants. */
  remoteUri(absolutePath: string): string;
  close(): Promise<void>;
}

const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
};

const liveGroups = new Set<number>();
let heldLock: string | undefined;
function killLiveGroups(): void {
  if (heldLock !== undefined) rmSync(heldLock, { recursive: true, force: true });
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  liveGroups.clear();
}
// Last resort when a harness dies without calling close(): never leave servers behind.
process.on('exit', killLiveGroups);
for (const [signal, number] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
] as const) {
  process.once(signal, () => {
    console.error(`[code-server] ${signal}: stopping ${liveGroups.size} code-server process group(s)`);
    killLiveGroups();
    process.exit(128 + number);
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForHttp(url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new Error(`code-server exited with ${exited} before serving. Log ${logFile}:\n${readTail(logFile)}`);
    }
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer HTTP on ${url} within ${timeoutMs / 1000}s. Log ${logFile}:\n${readTail(logFile)}`);
}

function readTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts code-server in its own process group on a free loopback port. */
export async function launchCodeServer(options: LaunchOptions): Promise<CodeServer> {
  const entry = await ensureCodeServer();
  const root = mkdtempSync(join(tmpdir(), 'onbehalf-cs-'));
  const userDataDir = options.userDataDir ?? join(root, 'user-data');
  const extensionsDir = options.extensionsDir ?? join(root, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...options.settings }, null, 2));
  const configFile = join(root, 'config.yaml');
  writeFileSync(configFile, 'auth: none\ncert: false\n');

  const logsDir = join(RESULTS_DIR, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const logFile = join(logsDir, `${options.label ?? 'code-server'}-code-server.log`);

  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const fd = openSync(logFile, 'w');
    const child = spawn(
      process.execPath,
      [
        entry,
        '--config',
        configFile,
        '--auth',
        'none',
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        '--user-data-dir',
        userDataDir,
        '--extensions-dir',
        extensionsDir,
        options.workspace,
      ],
      {
        detached: true,
        stdio: ['ignore', fd, fd],
        env: {
          ...process.env,
          // Keep code-server's own state (logs, heartbeat) out of $HOME.
          XDG_DATA_HOME: join(root, 'xdg-data'),
          XDG_CONFIG_HOME: join(root, 'xdg-config'),
          ...options.env,
        },
      },
    );
    closeSync(fd);
    const pgid = child.pid;
    if (pgid === undefined) throw new Error('could not start code-server');
    liveGroups.add(pgid);
    const close = async (): Promise<void> => {
      if (!liveGroups.has(pgid)) return;
      try {
        process.kill(-pgid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const deadline = Date.now() + 5_000;
      while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (groupAlive(pgid)) {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      liveGroups.delete(pgid);
      // root holds only what this launch made; caller-given folders live elsewhere.
      rmSync(root, { recursive: true, force: true });
    };
    try {
      await waitForHttp(url, child, logFile, 60_000);
    } catch (err) {
      lastError = err;
      await close();
      // A port taken between freePort() and the bind is the only retryable failure.
      if (!/EADDRINUSE/.test(readTail(logFile, 200))) break;
      continue;
    }
    return {
      url,
      port,
      userDataDir,
      extensionsDir,
      logFile,
      close,
      remoteUri: (absolutePath: string) => `vscode-remote://127.0.0.1:${port}${absolutePath.startsWith('/') ? '' : '/'}${absolutePath}`,
    };
  }
  rmSync(root, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/** A fresh temp workspace folder holding the given files. */
export function makeWorkspace(files: Record<string, string> = { 'README.md': '# OnBehalf test workspace\n' }): string {
  const dir = mkdtempSync(join(tmpdir(), 'onbehalf-ws-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

if (require.main === module) {
  // `node out/test/harness/code-server.js`: install only (run-all's setup step).
  ensureCodeServer().then(
    (entry) => console.log(`[code-server] ready: ${entry}`),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
