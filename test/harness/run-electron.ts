// The same integration suite under desktop VS Code 1.100.3 (npm run test:electron),
// through @vscode/test-electron. It downloads VS Code from the internet, so it works
// only on a machine that has it; it is not part of `npm test`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import { makeWorkspace, REPO_ROOT, VSCODE_VERSION } from './code-server';

const SUMMARY = /^\s*(\d+) passed, (\d+) failed/m;

async function main(): Promise<number> {
  let executable: string;
  try {
    executable = await downloadAndUnzipVSCode({
      version: VSCODE_VERSION,
      cachePath: join(REPO_ROOT, '.vscode-test'),
      timeout: 30_000,
    });
  } catch (err) {
    console.error(
      `electron: could not download VS Code ${VSCODE_VERSION} for @vscode/test-electron ` +
        `(${err instanceof Error ? err.message : String(err)}).\n` +
        'electron: this tier needs internet access to the VS Code download service. On a machine without it, ' +
        'run the same suite with `npm run test:integration` (code-server, offline).',
    );
    console.log('electron: 0 passed, 1 failed');
    return 1;
  }

  const workspace = makeWorkspace();
  const userDataDir = mkdtempSync(join(tmpdir(), 'onbehalf-electron-'));
  let summary: { passed: number; failed: number } | undefined;
  let buffered = '';
  const stdout = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      process.stdout.write(chunk);
      buffered += chunk.toString();
      const m = SUMMARY.exec(buffered.split('\n').slice(-20).join('\n'));
      if (m) summary = { passed: Number(m[1]), failed: Number(m[2]) };
      buffered = buffered.slice(-10_000);
      callback();
    },
  });
  const launchArgs = [workspace, '--disable-extensions', '--disable-gpu', '--user-data-dir', userDataDir];
  if (process.getuid?.() === 0) launchArgs.push('--no-sandbox');
  if (process.platform === 'linux' && !process.env['DISPLAY']) {
    console.warn('electron: DISPLAY is not set; desktop VS Code needs an X server (for example: xvfb-run -a npm run test:electron)');
  }
  try {
    const code = await runTests({
      vscodeExecutablePath: executable,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: join(REPO_ROOT, 'out', 'test', 'integration', 'index.js'),
      extensionTestsEnv: { ONBEHALF_TEST_TIER: 'electron' },
      launchArgs,
      stdout,
    });
    if (code !== 0 && (summary === undefined || summary.failed === 0)) summary = { passed: summary?.passed ?? 0, failed: 1 };
    return code === 0 ? 0 : 1;
  } catch (err) {
    console.error(`electron: the test run failed: ${err instanceof Error ? err.message : String(err)}`);
    summary = { passed: summary?.passed ?? 0, failed: Math.max(1, summary?.failed ?? 0) };
    return 1;
  } finally {
    rmSync(workspace, { recursive: true, force: true });
    rmSync(userDataDir, { recursive: true, force: true });
    console.log(`electron: ${summary?.passed ?? 0} passed, ${summary?.failed ?? 0} failed`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
