import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, openWorkbench, workbenchUrl } from '../harness/browser';
import { ensureCodeServer, launchCodeServer, makeWorkspace, REPO_ROOT } from '../harness/code-server';

// Activation time of the extension inside real VS Code (code-server), as the extension
// itself logs it, over a few cold starts of the workbench.

function activationLine(userDataDir: string): number | undefined {
  const logs = join(userDataDir, 'logs');
  let files: string[];
  try {
    files = readdirSync(logs, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('OnBehalf.log'));
  } catch {
    return undefined;
  }
  for (const file of files) {
    const match = /OnBehalf activated in ([\d.]+) ms/.exec(readFileSync(join(logs, file), 'utf8'));
    if (match) return Number(match[1]);
  }
  return undefined;
}

export async function benchActivation(runs = 3): Promise<{ runs: number[]; median: number }> {
  await ensureCodeServer();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const workspace = makeWorkspace();
    const server = await launchCodeServer({ workspace, label: 'bench-activation' });
    const browser = await launchBrowser();
    try {
      await openWorkbench(browser.page, workbenchUrl(server.url, workspace, [['extensionDevelopmentPath', server.remoteUri(REPO_ROOT)]]));
      const deadline = Date.now() + 60_000;
      let ms: number | undefined;
      while (ms === undefined && Date.now() < deadline) {
        ms = activationLine(server.userDataDir);
        if (ms === undefined) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      if (ms === undefined) throw new Error('the extension never logged its activation');
      times.push(ms);
    } finally {
      await browser.close().catch(() => undefined);
      await server.close();
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { runs: times, median: sorted[Math.floor(sorted.length / 2)]! };
}

export function printActivation(figures: { runs: number[]; median: number }): void {
  console.log('\n== Activation time in VS Code 1.100.3 (code-server), measured by activate() itself ==');
  console.log(`runs: ${figures.runs.map((t) => `${t.toFixed(1)} ms`).join(', ')}; median ${figures.median.toFixed(1)} ms`);
}
