// Integration tier: runs out/test/integration/index.js inside the real VS Code 1.100.3
// extension host that code-server spawns when headless chromium opens the workbench
// with extensionDevelopmentPath + extensionTestsPath in the URL payload.
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, workbenchUrl, screenshot, type BrowserSession } from './browser';
import { ensureCodeServer, launchCodeServer, makeWorkspace, REPO_ROOT, RESULTS_DIR, type CodeServer } from './code-server';

const TIMEOUT_MS = Number(process.env['INTEGRATION_TIMEOUT_MS'] ?? 5 * 60_000);
const TESTS_ENTRY = join(REPO_ROOT, 'out', 'test', 'integration', 'index.js');
const EXTENSION_BUNDLE = join(REPO_ROOT, 'dist', 'extension.js');
const SUMMARY = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/;
/** Printed by test/integration/index.ts before mocha starts. */
const START_MARKER = /^mocha: \d+ test files? in VS Code /;
const ANSI = /\u001b\[[0-9;]*m/g;
/** The workbench's failed calls to the extension gallery: expected offline. */
const GALLERY_NOISE = /ENOTFOUND|open-vsx|marketplace/;

/** One log line from the workbench: args are strings or JSON-ish values. */
function toText(args: unknown): string {
  const list = Array.isArray(args) ? args : [args];
  return list.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
}

async function main(): Promise<number> {
  for (const required of [TESTS_ENTRY, EXTENSION_BUNDLE]) {
    if (!existsSync(required)) {
      console.error(`integration: ${required} is missing; run \`node esbuild.mjs\` first`);
      return 1;
    }
  }
  await ensureCodeServer();
  const logsDir = join(RESULTS_DIR, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const workbenchLog = join(logsDir, 'integration-workbench.log');
  writeFileSync(workbenchLog, '');

  const workspace = makeWorkspace();
  let server: CodeServer | undefined;
  let browser: BrowserSession | undefined;
  let timer: NodeJS.Timeout | undefined;
  let summary: { passed: number; failed: number; skipped?: number } | undefined;
  const cleanup = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    await browser?.close();
    await server?.close();
    rmSync(workspace, { recursive: true, force: true });
  };
  try {
    server = await launchCodeServer({ workspace, label: 'integration', env: { ONBEHALF_TEST_TIER: 'integration' } });
    browser = await launchBrowser();
    const { page } = browser;
    let resolveExit!: (code: number) => void;
    const exited = new Promise<number>((resolve) => {
      resolveExit = resolve;
    });

    // The workbench hands every log line here, extension-host console output included, as
    // plain lines. Lines from index.ts's start marker to its summary line are the suite's
    // output and go to stdout; everything is also kept in the workbench log file.
    let forwarding = false;
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => {
      const text = toText(args).replace(ANSI, '');
      appendFileSync(workbenchLog, `[${type}] ${text}\n`);
      for (const line of text.split('\n')) {
        if (START_MARKER.test(line)) forwarding = true;
        if (!forwarding) continue;
        if (GALLERY_NOISE.test(line)) continue;
        console.log(`  ${line}`);
        const counts = SUMMARY.exec(line.trim());
        if (counts) {
          summary = { passed: Number(counts[1]), failed: Number(counts[2]), skipped: Number(counts[3] ?? 0) };
          forwarding = false;
        }
      }
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
    page.on('pageerror', (err) => appendFileSync(workbenchLog, `[pageerror] ${err.message}\n`));

    const url = workbenchUrl(server.url, workspace, [
      ['extensionDevelopmentPath', server.remoteUri(REPO_ROOT)],
      ['extensionTestsPath', server.remoteUri(TESTS_ENTRY)],
    ]);
    console.log(`integration: VS Code 1.100.3 (code-server) at ${server.url}, tests ${TESTS_ENTRY}`);
    const started = Date.now();
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const timeout = new Promise<number>((resolve) => {
      timer = setTimeout(() => resolve(-1), TIMEOUT_MS);
    });
    const code = await Promise.race([exited, timeout]);
    if (code === -1) {
      await screenshot(page, 'integration-timeout').catch(() => undefined);
      console.error(
        `integration: TIMEOUT after ${TIMEOUT_MS / 1000}s: the extension host never reported the end of the suite. ` +
          `See ${workbenchLog}, ${server.logFile} and test-results/screenshots/integration-timeout.png`,
      );
      summary = { passed: summary?.passed ?? 0, failed: Math.max(1, summary?.failed ?? 0) };
      return 1;
    }
    console.log(`integration: suite finished with code ${code} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    if (summary === undefined) {
      console.error(`integration: the suite printed no "N passed, N failed" line (run() failed before mocha ran?). See ${workbenchLog}`);
      summary = { passed: 0, failed: 1 };
    } else if (code !== 0 && summary.failed === 0 && !summary.skipped) {
      // run() rejected although mocha counted no failure (for example: no tests found).
      summary = { ...summary, failed: 1 };
    }
    // Zero tests run, or any skipped, fails the tier whatever the suite's exit code said.
    if (summary.passed + summary.failed + (summary.skipped ?? 0) === 0) {
      console.error('integration: FAILED the suite ran no tests');
      summary = { ...summary, failed: 1 };
    }
    if (summary.skipped) console.error(`integration: FAILED ${summary.skipped} test(s) skipped; a skipped test proves nothing`);
    return code === 0 && summary.failed === 0 && !summary.skipped ? 0 : 1;
  } catch (err) {
    console.error(`integration: harness error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    summary = { passed: summary?.passed ?? 0, failed: Math.max(1, summary?.failed ?? 0) };
    return 1;
  } finally {
    await cleanup();
    const skipped = summary?.skipped ? `, ${summary.skipped} skipped` : '';
    console.log(`integration: ${summary?.passed ?? 0} passed, ${summary?.failed ?? 0} failed${skipped}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
