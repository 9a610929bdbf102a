// npm run verify:vsix: proves the packaged onbehalf.vsix installs and activates in
// VS Code 1.100.3 (code-server) as a user would get it: `code-server --install-extension`
// into an empty extensions dir, then a workbench opened WITHOUT extensionDevelopmentPath.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { launchBrowser, openWorkbench, screenshot, workbenchUrl, type BrowserSession } from './browser';
import { ensureCodeServer, launchCodeServer, makeWorkspace, REPO_ROOT, runCodeServerCli, type CodeServer } from './code-server';
import { activationFailure, EXTENSION_ID, extensionHostLogs, waitForActivationInLogs } from './e2e-session';

const VSIX = process.argv[2] ?? join(REPO_ROOT, 'onbehalf.vsix');

let passed = 0;
let failed = 0;
function check(name: string, ok: boolean, detail = ''): void {
  if (ok) passed++;
  else failed++;
  console.log(`  ${ok ? '✔' : '✘'} ${name}${detail ? `: ${detail}` : ''}`);
}

async function main(): Promise<void> {
  if (!existsSync(VSIX)) {
    console.error(`vsix: ${VSIX} is missing; run \`npm run package\` first`);
    failed++;
    return;
  }
  checkDetailsPage();
  checkVendorFiles();
  await ensureCodeServer();
  const root = mkdtempSync(join(tmpdir(), 'onbehalf-vsix-'));
  const extensionsDir = join(root, 'extensions');
  const userDataDir = join(root, 'user-data');
  const workspace = makeWorkspace();
  let server: CodeServer | undefined;
  let browser: BrowserSession | undefined;
  try {
    console.log(`vsix: code-server --install-extension ${VSIX} --extensions-dir ${extensionsDir}`);
    const install = runCodeServerCli(['--install-extension', VSIX, '--extensions-dir', extensionsDir, '--user-data-dir', join(root, 'cli-user-data')]);
    console.log(
      install.output
        .trim()
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n'),
    );
    const installed = existsSync(extensionsDir) ? readdirSync(extensionsDir).filter((d) => d.startsWith(`${EXTENSION_ID}-`)) : [];
    check('code-server --install-extension succeeds', install.status === 0 && /successfully installed/i.test(install.output), `exit ${install.status}`);
    check('the extension folder is in the extensions dir', installed.length === 1, installed.join(', ') || 'none');

    server = await launchCodeServer({ workspace, userDataDir, extensionsDir, label: 'vsix' });
    browser = await launchBrowser();
    // No payload: the extension can only come from the extensions dir.
    await openWorkbench(browser.page, workbenchUrl(server.url, workspace));
    const title = await browser.page.title();
    check('the workbench is a normal window, not an Extension Development Host', !title.includes('Extension Development Host'), JSON.stringify(title));

    let activation = '';
    try {
      activation = await waitForActivationInLogs(userDataDir, EXTENSION_ID, 60_000);
    } catch (err) {
      activation = err instanceof Error ? err.message : String(err);
    }
    check('the extension host activated it', activation.includes('_doActivateExtension'), activation.trim());

    const item = browser.page.locator('.part.activitybar').getByRole('tab', { name: 'OnBehalf', exact: true });
    await item.click({ timeout: 30_000 });
    const sidebar = browser.page.locator('.part.sidebar');
    for (const name of ['Connections', 'Chat']) {
      const header = sidebar.locator('.pane-header h3.title', { hasText: new RegExp(`^${name}$`, 'i') });
      const visible = await header.waitFor({ state: 'visible', timeout: 15_000 }).then(
        () => true,
        () => false,
      );
      check(`the ${name} view shows in the OnBehalf container`, visible);
    }
    // The extension's own log channel, created in activate(), has a log file by now.
    // The file appears with the channel's first write, so poll for it a little.
    const logs = join(userDataDir, 'logs');
    let channelFiles: string[] = [];
    for (let i = 0; i < 60 && channelFiles.length === 0; i++) {
      channelFiles = readdirSync(logs, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes(`${EXTENSION_ID}/`));
      if (channelFiles.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    check('activate() created its OnBehalf log channel', channelFiles.length > 0, channelFiles.join(', ') || 'no file');
    const failure = activationFailure(userDataDir);
    check('activate() did not throw', failure === undefined, failure?.split('\n')[0] ?? '');
    const shot = await screenshot(browser.page, 'vsix-activity-bar');
    console.log(`vsix: screenshot ${shot}`);
    if (failed > 0) console.log(extensionHostLogs(userDataDir).split('\n').slice(-40).join('\n'));
  } catch (err) {
    check('verification ran to the end', false, err instanceof Error ? err.message : String(err));
  } finally {
    await browser?.close();
    await server?.close();
    rmSync(workspace, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Each SDK is a file of its own (dist/vendor/*.js) that dist/extension.js requires on first use:
 * activation succeeds without them, so only this check notices a package that left one out.
 */
function checkVendorFiles(): void {
  const entries = new Set(execFileSync('unzip', ['-Z1', VSIX], { encoding: 'utf8' }).split('\n').filter(Boolean));
  const main = execFileSync('unzip', ['-p', VSIX, 'extension/dist/extension.js'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const required = [...new Set([...main.matchAll(/require\(["']\.\/(vendor\/[\w-]+\.js)["']\)/g)].map((m) => `extension/dist/${m[1]!}`))];
  check('dist/extension.js loads its SDKs from dist/vendor', required.length > 0, `${required.length} vendor files required`);
  const missing = required.filter((file) => !entries.has(file));
  check('the package ships every vendor file dist/extension.js requires', missing.length === 0, missing.join(', '));
}

/**
 * The package's README is the extension's Details page: it must be the user-facing one, and
 * every image it shows must be a file inside the package (VS Code resolves relative paths
 * against the installed extension's folder; nothing is fetched from a repository).
 */
function checkDetailsPage(): void {
  const entries = execFileSync('unzip', ['-Z1', VSIX], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const readmeEntry = entries.find((e) => e.toLowerCase() === 'extension/readme.md');
  check('the package has a README', readmeEntry !== undefined);
  if (!readmeEntry) return;
  const readme = execFileSync('unzip', ['-p', VSIX, readmeEntry], { encoding: 'utf8' });
  const images = [
    ...[...readme.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
    ...[...readme.matchAll(/<img\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1]!),
    ...[...readme.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?\.(?:png|jpe?g|gif|svg|webp))>?/gim)].map((m) => m[1]!),
  ];
  check('the README shows at least one image', images.length > 0, `${images.length} found`);
  const inside = new Set(entries);
  const missing = images.filter((src) => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(src) || src.startsWith('/')) return true; // remote or absolute: not in the package
    const path = posix.normalize(posix.join('extension', decodeURI(src.split(/[?#]/)[0]!)));
    return !path.startsWith('extension/') || !inside.has(path);
  });
  check('every image the README references is inside the package', missing.length === 0, missing.join(', '));
  const developerOnly = ['npm start', 'npm test', 'npm run', 'example.invalid'].filter((s) => readme.includes(s));
  check('the README is for users: no developer commands or placeholder hosts', developerOnly.length === 0, developerOnly.join(', '));
  for (const wanted of ['extension/changelog.md', 'extension/media/icon.png']) {
    check(`the package has ${wanted.slice('extension/'.length)}`, inside.has(wanted));
  }
}

main().then(
  () => {
    console.log(`vsix: ${passed} passed, ${failed} failed`);
    process.exit(failed > 0 ? 1 : 0);
  },
  (err: unknown) => {
    console.error(err);
    console.log(`vsix: ${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  },
);
