// One sandbox world (the emulators with demo data + code-server configured against them,
// see sandbox-world.ts) and one chromium page for the whole e2e tier. The extension is
// loaded as a development extension: the workbench URL payload carries
// extensionDevelopmentPath (the repository root, so dist/extension.js as built) and no
// extensionTestsPath, so the workbench stays up for a person-like session. Specs call
// e2eSession() and may assert on the emulators' state through `world`; the root hook
// below closes it once after the last spec.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser, openWorkbench, screenshot, type BrowserSession } from './browser';
import { RESULTS_DIR, type CodeServer } from './code-server';
import { startSandboxWorld, type SandboxWorld } from './sandbox-world';

export const EXTENSION_ID = 'onbehalf.onbehalf';

export interface E2ESession {
  server: CodeServer;
  browser: BrowserSession;
  page: Page;
  workspace: string;
  /** The emulators (Scalekit with its PostHog and Asana data, Anthropic, IdP) the workbench is configured against. */
  world: SandboxWorld;
  /** Resolves once the extension host logged the activation of EXTENSION_ID. */
  waitForActivation(timeoutMs?: number): Promise<void>;
}

let current: Promise<E2ESession> | undefined;
let closeCurrent: (() => Promise<void>) | undefined;

/** The text of every log file under the server's user-data-dir whose path matches `path`, or '' before there is one. */
function logsMatching(userDataDir: string, path: RegExp): string {
  const logs = join(userDataDir, 'logs');
  try {
    const names = readdirSync(logs, { recursive: true, encoding: 'utf8' }).filter((name) => path.test(name));
    return names.map((name) => readFileSync(join(logs, name), 'utf8')).join('');
  } catch {
    return '';
  }
}

/** Text of every extension host log under the server's user-data-dir. */
export function extensionHostLogs(userDataDir: string): string {
  return logsMatching(userDataDir, /exthost\d*[/\\]remoteexthost\.log$/);
}

/** OnBehalf's own log (its LogOutputChannel's file under the user-data-dir), or '' before it exists. */
export function onBehalfLog(userDataDir: string): string {
  return logsMatching(userDataDir, /(^|[/\\])(\d+-)?OnBehalf\.log$/);
}

/** Polls the extension host log for "ExtensionService#_doActivateExtension <id>". */
export async function waitForActivationInLogs(userDataDir: string, extensionId: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const pattern = new RegExp(`^.*_doActivateExtension ${extensionId.replace('.', '\\.')}\\b.*$`, 'm');
  for (;;) {
    const match = pattern.exec(extensionHostLogs(userDataDir));
    if (match) return match[0];
    if (Date.now() > deadline) {
      throw new Error(`${extensionId} did not activate within ${timeoutMs / 1000}s (no activation line in ${userDataDir}/logs/**/remoteexthost.log)`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The extension host's error text when activating extensionId threw, else undefined. */
export function activationFailure(userDataDir: string, extensionId = EXTENSION_ID): string | undefined {
  const logs = extensionHostLogs(userDataDir);
  const at = logs.indexOf(`Activating extension ${extensionId} failed`);
  return at < 0 ? undefined : logs.slice(at, at + 2_000);
}

async function start(): Promise<E2ESession> {
  const world = await startSandboxWorld({ label: 'e2e', env: { ONBEHALF_TEST_TIER: 'e2e' } });
  const { server, workspace } = world;
  let browser: BrowserSession | undefined;
  closeCurrent = async () => {
    await browser?.close();
    await world.close();
  };
  browser = await launchBrowser();
  await openWorkbench(browser.page, world.workbenchUrl);
  return {
    server,
    browser,
    page: browser.page,
    workspace,
    world,
    waitForActivation: async (timeoutMs?: number) => {
      await waitForActivationInLogs(server.userDataDir, EXTENSION_ID, timeoutMs);
    },
  };
}

export function e2eSession(): Promise<E2ESession> {
  current ??= start();
  return current;
}

export async function closeE2ESession(): Promise<void> {
  const close = closeCurrent;
  current = undefined;
  closeCurrent = undefined;
  await close?.();
}

/** Mocha root hook plugin: loaded through "require" in test/e2e/.mocharc.json. */
export const mochaHooks = {
  async afterEach(this: Mocha.Context): Promise<void> {
    // A failed spec leaves a picture of the workbench as it was.
    const test = this.currentTest;
    if (test?.state !== 'failed' || current === undefined) return;
    const session = await current.catch(() => undefined);
    if (session === undefined) return;
    const name = `e2e-FAILED-${test
      .fullTitle()
      .replace(/[^a-z0-9]+/gi, '-')
      .slice(0, 80)}`;
    const file = await screenshot(session.page, name).catch(() => undefined);
    if (file !== undefined) console.log(`      failure screenshot: ${file}`);
    // ...and what the extension itself said, which a picture cannot show.
    const log = onBehalfLog(session.server.userDataDir);
    const logFile = join(RESULTS_DIR, 'logs', `${name}.onbehalf.log`);
    mkdirSync(join(RESULTS_DIR, 'logs'), { recursive: true });
    writeFileSync(logFile, log);
    const tail = log.trimEnd().split('\n').slice(-25);
    console.log(`      OnBehalf log (${logFile}), last ${tail.length} lines:\n${tail.map((line) => `        ${line}`).join('\n')}`);
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(30_000);
    await closeE2ESession();
  },
};
