// e2e tier (npm run test:e2e): plain-Node mocha over out/test/e2e/**/*.test.js with
// test/e2e/.mocharc.json; e2e-session.ts owns the one code-server + chromium it uses.
import { ensureCodeServer } from './code-server';
import { runMochaTier } from './run-mocha';

const TIMEOUT_MS = Number(process.env['E2E_TIMEOUT_MS'] ?? 10 * 60_000);

ensureCodeServer()
  .then(() => runMochaTier('e2e', 'test/e2e/.mocharc.json', TIMEOUT_MS))
  .then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`e2e: ${err instanceof Error ? err.message : String(err)}`);
      console.log('e2e: 0 passed, 1 failed');
      process.exit(1);
    },
  );
