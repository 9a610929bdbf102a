// Runs one plain-Node mocha tier (unit, e2e) through mocha's own CLI and its config,
// streams the spec reporter's output, and closes with "<tier>: N passed, N failed".
// A tier that runs no test at all (no file matched, or every test filtered out) fails, and
// so does any skipped (pending) test: a green run means every test ran and passed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './code-server';

const EXIT_GRACE_MS = Number(process.env['MOCHA_EXIT_GRACE_MS'] ?? 20_000);

export interface MochaCounts {
  passed: number;
  failed: number;
  pending: number;
  /** The run produced no counts at all (crash, no files...). */
  noCounts: boolean;
  noTestFiles: boolean;
}

/** Reads the spec reporter's epilogue: "N passing (..)", "N pending", "N failing". */
export function parseMochaCounts(rawOutput: string): MochaCounts {
  const output = rawOutput.replace(/\u001b\[[0-9;]*m/g, '');
  const last = (re: RegExp): number | undefined => {
    const all = [...output.matchAll(re)];
    const m = all[all.length - 1];
    return m ? Number(m[1]) : undefined;
  };
  const passed = last(/^\s*(\d+) passing\b/gm);
  const failed = last(/^\s*(\d+) failing\b/gm);
  const pending = last(/^\s*(\d+) pending\b/gm);
  return {
    passed: passed ?? 0,
    failed: failed ?? 0,
    pending: pending ?? 0,
    noCounts: passed === undefined && failed === undefined && pending === undefined,
    noTestFiles: /No test files found/i.test(output),
  };
}

export async function runMochaTier(tier: string, config: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js'), '--config', config, '--no-color'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let output = '';
  // Once the reporter has printed its epilogue, the run is over; a mocha still alive
  // well after that is held open by handles the tests leaked (servers, timers).
  let hung = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const watchEpilogue = (): void => {
    if (graceTimer !== undefined || !/^\s*\d+ passing \(/m.test(output)) return;
    graceTimer = setTimeout(() => {
      hung = true;
      console.error(
        `${tier}: WARNING mocha printed its results but had not exited ${EXIT_GRACE_MS / 1000}s later: ` +
          'the tests leave open handles (servers, sockets, timers). Stopping it; the counts above stand. ' +
          'Close them in after() hooks (or set "exit": true in the mocharc).',
      );
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        /* gone */
      }
    }, EXIT_GRACE_MS);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stdout.write(chunk);
    watchEpilogue();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stderr.write(chunk);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    console.error(`${tier}: TIMEOUT after ${timeoutMs / 1000}s, stopping mocha`);
    try {
      process.kill(-(child.pid ?? 0), 'SIGTERM');
    } catch {
      /* gone */
    }
    setTimeout(() => {
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 10_000).unref();
  }, timeoutMs);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  clearTimeout(timer);
  if (graceTimer !== undefined) clearTimeout(graceTimer);
  const counts = parseMochaCounts(output);
  let failed = counts.failed;
  let exit = (code === 0 || (hung && !timedOut)) && failed === 0 ? 0 : 1;
  if (counts.noTestFiles && counts.noCounts) {
    console.error(`${tier}: FAILED no test files matched ${config}`);
    exit = 1;
  } else if (!counts.noCounts && counts.passed + counts.failed + counts.pending === 0) {
    console.error(`${tier}: FAILED the tier ran no tests`);
    exit = 1;
  }
  if (counts.pending > 0) {
    console.error(`${tier}: FAILED ${counts.pending} test(s) skipped (it.skip, describe.skip or this.skip()); a skipped test proves nothing`);
    exit = 1;
  }
  if (exit !== 0 && failed === 0 && counts.pending === 0) {
    // mocha stopped without counting a failure (crash, timeout, bad config, no tests): still a failure.
    failed = 1;
  }
  if (timedOut) exit = 1;
  const skipped = counts.pending > 0 ? `, ${counts.pending} skipped` : '';
  const how = hung ? 'was stopped (did not exit by itself)' : timedOut ? 'timed out' : `exited with ${code}`;
  console.log(`${tier}: mocha ${how} after ${((Date.now() - started) / 1000).toFixed(1)}s`);
  console.log(`${tier}: ${counts.passed} passed, ${failed} failed${skipped}`);
  return exit;
}

if (require.main === module) {
  const [tier, config, timeout] = process.argv.slice(2);
  if (!tier || !config) {
    console.error('usage: node out/test/harness/run-mocha.js <tier> <mocharc> [timeoutMs]');
    process.exit(2);
  }
  runMochaTier(tier, config, Number(timeout ?? 10 * 60_000)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
