// `npm run mutation`: Stryker mutates the security-critical modules the unit tier covers
// in plain Node and runs the unit specs against each mutant. Two runs, one after the other
// (this file, then stryker.tables.config.mjs), each printing a score per file.
//
// Build arrangement: Stryker copies the repository into .stryker-tmp/sandbox-*, writes the
// instrumented TypeScript (every mutant behind a runtime switch) over the files in `mutate`,
// then `buildCommand` runs our own esbuild step there (`--out-only`: just out/**, as
// node_modules is linked into the sandbox only after the build), so out/src/** is
// transpiled from the mutated sources and the unit specs in out/test/unit/** load it.
// The TypeScript checker drops mutants that do not compile.
//
// Why two runs: a mutant in module-level code (a zod schema, a word table) is "static",
// so it gets a fresh process running every spec of its run. The modules made of tables
// (protocol, toolRisk, destructiveSummary) therefore run with the fast core specs only,
// and the emulator-driven OIDC specs serve the run whose mutants sit inside functions
// (each of those runs only the tests that cover it: coverageAnalysis perTest).
// A mutant only a spec outside its run would kill counts as survived, never the reverse.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export const base = {
  packageManager: 'npm',
  testRunner: 'mocha',
  buildCommand: 'node esbuild.mjs --out-only',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  // Never copy build output, browsers, screenshots or the code-server symlink into a sandbox.
  ignorePatterns: ['dist', 'out', '.vscode-test', 'test-results', 'reports', '*.vsix'],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 20000,
  reporters: ['clear-text', 'progress-append-only', 'html'],
  thresholds: { high: 90, low: 80, break: null },
};

export default {
  ...base,
  mutate: ['src/agent/policy.ts', 'src/core/connectState.ts', 'src/core/identifier.ts', 'src/core/oidc.ts'],
  mochaOptions: {
    config: 'test/unit/.mocharc.json',
    spec: [
      'out/test/unit/agent/catalog-and-policy.test.js',
      'out/test/unit/core/connect-state.test.js',
      'out/test/unit/core/identifier.test.js',
      'out/test/unit/adapters/storage-carry-over.test.js',
      'out/test/unit/adapters/oidc-client.test.js',
    ],
  },
  htmlReporter: { fileName: 'reports/mutation/logic.html' },
};
