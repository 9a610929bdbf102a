// Entry point the extension host loads as extensionTestsPath, both under code-server
// (test/harness/run-integration.ts) and under desktop VS Code (run-electron.ts).
// Output goes through console.log: the host forwards it to the workbench, which hands
// it to the harness through codeAutomationLog (code-server) or stdout (electron).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';
import * as vscode from 'vscode';

function findTests(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.js'))
    .map((name) => join(dir, name))
    .sort();
}

export async function run(): Promise<void> {
  // ONBEHALF_TEST_GREP narrows a local run to matching suites or tests (never set in CI).
  const grep = process.env['ONBEHALF_TEST_GREP'];
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec', ...(grep ? { grep } : {}) });
  // The spec reporter writes printf-style through this. Format here, so that one finished
  // string per line crosses to the workbench (it does not apply %s/%d substitutions).
  Mocha.reporters.Base.consoleLog = (...data: unknown[]) => console.log(format(...data));
  // The ✔/✖ symbols come pre-coloured when the host's environment looks like CI; keep them plain.
  Mocha.reporters.Base.symbols.ok = '✔';
  Mocha.reporters.Base.symbols.err = '✖';
  const files = findTests(__dirname);
  // The harness starts forwarding output at this line (see run-integration.ts).
  console.log(`mocha: ${files.length} test file${files.length === 1 ? '' : 's'} in VS Code ${vscode.version} (${vscode.env.appName})`);
  for (const file of files) mocha.addFile(file);
  await mocha.loadFilesAsync();
  const failed: string[] = [];
  const stats = await new Promise<{ passes: number; failures: number; pending: number }>((resolve) => {
    const runner = mocha.run(() => {
      resolve({ passes: runner.stats?.passes ?? 0, failures: runner.stats?.failures ?? 0, pending: runner.stats?.pending ?? 0 });
    });
    runner.on('fail', (test: Mocha.Test, error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      failed.push(`${test.fullTitle()}: ${message.split('\n')[0] ?? ''}`);
    });
  });
  if (stats.failures > 0) await printExtensionLog();
  // Again after the log, so the last lines of a red run (all a CI summary may keep) name what failed.
  for (const line of failed) console.log(`✖ failed: ${line}`);
  const pending = stats.pending > 0 ? `, ${stats.pending} skipped` : '';
  console.log(`${stats.passes} passed, ${stats.failures} failed${pending}`);
  if (files.length === 0) throw new Error(`no integration tests found under ${__dirname}`);
  if (stats.failures > 0) throw new Error(`${stats.failures} integration test(s) failed`);
  // A run that ran nothing (a grep matching no test) or skipped a test proves nothing.
  if (stats.passes + stats.pending === 0) throw new Error(`no integration test ran${grep ? ` (ONBEHALF_TEST_GREP=${grep} matched none)` : ''}`);
  if (stats.pending > 0) throw new Error(`${stats.pending} integration test(s) skipped; a skipped test proves nothing`);
}

/** On failure, the tail of OnBehalf's own log, so a red run in CI says what the extension saw. */
async function printExtensionLog(): Promise<void> {
  try {
    const extension = vscode.extensions.getExtension<{ logPath: string }>('onbehalf.onbehalf');
    const logPath = extension?.isActive ? extension.exports.logPath : undefined;
    if (!logPath) return;
    const files = readdirSync(logPath, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.log'));
    for (const file of files) {
      const lines = readFileSync(join(logPath, file), 'utf8').trimEnd().split('\n');
      console.log(`---- last ${Math.min(lines.length, 120)} lines of ${file} ----`);
      for (const line of lines.slice(-120)) console.log(`  ${line}`);
    }
  } catch (error) {
    console.log(`(could not read the extension log: ${String(error)})`);
  }
}
