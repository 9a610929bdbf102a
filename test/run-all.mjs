#!/usr/bin/env node
// `npm test`: build, typecheck, lint, format check, then the unit, gateway, load, ui, integration and e2e tiers in sequence.
// A failing tier does not stop the next one, so every count prints; the exit code is
// non-zero when anything failed. The last line is the totals, "N passed, N failed".
//
//   node test/run-all.mjs                 every tier
//   node test/run-all.mjs unit e2e        build + typecheck + the named tiers only
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = process.execPath;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const ALL_TIERS = ['unit', 'gateway', 'load', 'ui', 'integration', 'e2e'];

const requested = process.argv.slice(2);
for (const name of requested) {
  if (!ALL_TIERS.includes(name)) {
    console.error(`unknown tier "${name}"; tiers: ${ALL_TIERS.join(', ')}`);
    process.exit(2);
  }
}
const tiers = requested.length > 0 ? ALL_TIERS.filter((t) => requested.includes(t)) : ALL_TIERS;
const needsCodeServer = tiers.some((t) => t === 'integration' || t === 'e2e');

/** Runs a command with output streamed through; resolves with its exit code and output. */
function run(command, args) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
      process.stderr.write(chunk);
    });
    child.on('error', (err) => {
      output += String(err);
    });
    child.on('close', (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : 1), output, seconds: (Date.now() - started) / 1000 });
    });
  });
}

function banner(text) {
  console.log(`\n==== ${text} ${'='.repeat(Math.max(0, 70 - text.length))}`);
}

/** The tier's own closing line, "<tier>: N passed, N failed[, N skipped]". */
function tierCounts(tier, output) {
  const re = new RegExp(`^${tier}: (\\d+) passed, (\\d+) failed(?:, (\\d+) skipped)?\\s*$`, 'gm');
  const all = [...output.matchAll(re)];
  const last = all[all.length - 1];
  if (!last) return undefined;
  return { passed: Number(last[1]), failed: Number(last[2]), skipped: Number(last[3] ?? 0) };
}

const rows = [];
const startedAll = Date.now();

async function step(name, command, args) {
  banner(name);
  const result = await run(command, args);
  const ok = result.code === 0;
  rows.push({ name, passed: null, failed: ok ? 0 : 1, skipped: null, seconds: result.seconds, status: ok ? 'ok' : `FAILED (exit ${result.code})` });
  return ok;
}

async function tier(name, command, args) {
  banner(`${name} tier`);
  const result = await run(command, args);
  const counts = tierCounts(name, result.output) ?? { passed: 0, failed: 0, skipped: 0 };
  let status = result.code === 0 ? 'ok' : `FAILED (exit ${result.code})`;
  if (result.code !== 0 && counts.failed === 0) counts.failed = 1; // crashed before counting
  if (result.code === 0 && counts.failed > 0) status = 'FAILED';
  // A tier that ran nothing, or skipped anything, proves nothing: it fails the run.
  if (counts.passed + counts.failed + counts.skipped === 0) status = 'FAILED (no tests)';
  if (counts.skipped > 0) status = `FAILED (${counts.skipped} skipped)`;
  rows.push({ name, ...counts, seconds: result.seconds, status });
}

function skip(name, why) {
  rows.push({ name, passed: 0, failed: 1, skipped: 0, seconds: 0, status: `NOT RUN (${why})` });
}

const built = await step('build', node, ['esbuild.mjs']);
if (built) {
  await step('typecheck', npm, ['run', '--silent', 'typecheck']);
  await step('lint', npm, ['run', '--silent', 'lint']);
  await step('format check', npm, ['run', '--silent', 'format:check']);
  let codeServerReady = true;
  if (needsCodeServer) {
    codeServerReady = await step('code-server install', node, ['out/test/harness/code-server.js']);
  }
  for (const name of tiers) {
    if (name === 'unit') {
      await tier('unit', node, ['out/test/harness/run-mocha.js', 'unit', 'test/unit/.mocharc.json']);
    } else if (name === 'gateway') {
      // The team gateway against the emulators, on PGlite and on a real Postgres server it starts itself.
      await tier('gateway', node, ['out/test/harness/run-mocha.js', 'gateway', 'test/gateway/.mocharc.json']);
    } else if (name === 'load') {
      // Two gateway processes on one real Postgres under load and faults; prints its figures on "measured:" lines.
      await tier('load', node, ['out/test/harness/run-mocha.js', 'load', 'test/load/.mocharc.json']);
    } else if (name === 'ui') {
      // The chat webview bundle in chromium under its real CSP (no VS Code needed).
      await tier('ui', node, ['out/test/harness/run-mocha.js', 'ui', 'test/ui/.mocharc.json']);
    } else if (!codeServerReady) {
      skip(name, 'code-server install failed');
    } else if (name === 'integration') {
      await tier('integration', node, ['out/test/harness/run-integration.js']);
    } else {
      await tier('e2e', node, ['out/test/harness/run-e2e.js']);
    }
  }
} else {
  for (const name of tiers) skip(name, 'build failed');
}

const totals = rows.reduce((sum, r) => ({ passed: sum.passed + (r.passed ?? 0), failed: sum.failed + r.failed, skipped: sum.skipped + (r.skipped ?? 0) }), {
  passed: 0,
  failed: 0,
  skipped: 0,
});
const anyFailed = rows.some((r) => !r.status.startsWith('ok'));
// Skipped tests fail the run (see tier()); the totals line counts them beside the failures.

const cell = (v, w) => String(v ?? '-').padStart(w);
banner('summary');
console.log(`${'step'.padEnd(22)}${cell('passed', 8)}${cell('failed', 8)}${cell('skipped', 9)}${cell('time', 10)}  status`);
for (const r of rows) {
  console.log(`${r.name.padEnd(22)}${cell(r.passed, 8)}${cell(r.failed, 8)}${cell(r.skipped, 9)}${cell(`${r.seconds.toFixed(1)}s`, 10)}  ${r.status}`);
}
const wall = `${((Date.now() - startedAll) / 1000).toFixed(1)}s`;
console.log(
  `${'total'.padEnd(22)}${cell(totals.passed, 8)}${cell(totals.failed, 8)}${cell(totals.skipped, 9)}${cell(wall, 10)}  ${anyFailed ? 'FAILED' : 'ok'}`,
);
console.log('');
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(anyFailed || totals.failed > 0 ? 1 : 0);
