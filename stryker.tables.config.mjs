// The second half of `npm run mutation` (see stryker.config.mjs): the modules made mostly
// of module-level tables and schemas, against the fast unit specs.
import { base } from './stryker.config.mjs';

export default {
  ...base,
  mutate: ['src/shared/protocol.ts', 'src/core/toolRisk.ts', 'src/shared/destructiveSummary.ts'],
  mochaOptions: {
    config: 'test/unit/.mocharc.json',
    spec: ['out/test/unit/core/*.test.js', 'out/test/unit/agent/catalog-and-policy.test.js', 'out/test/unit/enterprise/tools.test.js'],
  },
  htmlReporter: { fileName: 'reports/mutation/tables.html' },
};
