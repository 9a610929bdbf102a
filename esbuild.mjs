// Builds four things:
//  1. dist/extension.js      - the extension host bundle (Node, CommonJS, `vscode` external),
//     dist/vendor/*.js       - one file per SDK (src/vendor/*.ts), required on first use through
//                              src/core/sdkLoader.ts, so activation loads only OnBehalf's own code
//  2. dist/webview/chat.js   - the chat webview bundle (browser, IIFE) + codicons, and
//     dist/webview/charts.js - Chart.js, which the webview loads on its first chart
//  3. out/**                 - tests, emulators and harness, transpiled file by file so
//                              mocha and the extension host can load them directly.
//  4. dist/gateway.js        - the team gateway server (Node, CommonJS; `npx onbehalf-gateway`).
//                              Its npm packages stay external (PGlite loads its WASM files from
//                              its own folder), so it runs where node_modules is installed.
// `--out-only` builds just (3): `npm run mutation` rebuilds out/** from the mutated sources
// in Stryker's sandbox, before node_modules is linked there (so no bundle, no codicons).
// esbuild does not type-check: `npm run typecheck` runs tsc beside it.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const outOnly = process.argv.includes('--out-only');
// `--gateway-only`: just (4), for the gateway's Docker image (no extension, webview or tests).
const gatewayOnly = process.argv.includes('--gateway-only');
// A packaged build starts clean, so no stale source map from a dev build ends up in the .vsix.
if (production) rmSync('dist', { recursive: true, force: true });

function listFiles(dir, accept) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) found.push(...listFiles(full, accept));
    else if (accept(full)) found.push(full);
  }
  return found;
}

const shared = { logLevel: 'warning', sourcemap: !production, target: 'es2022' };

// src/core/sdkLoader.ts requires '../vendor/<name>'; in the bundle that becomes a require of
// the separate file dist/vendor/<name>.js, loaded (parsed and run) only when first called.
const vendorOnFirstUse = {
  name: 'vendor-on-first-use',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/vendor\/[\w-]+$/ }, (args) => ({ path: `./vendor/${args.path.slice('../vendor/'.length)}.js`, external: true }));
  },
};
// Every `import * as vscode from 'vscode'` would otherwise become its own __toESM(require('vscode')):
// a copy of the ~300-key API object as getters, once per importing file (20 of them), a large
// part of the bundle's load time. Instead one module takes each API name out of the object once
// (the names @types/vscode exports: classes, enums, namespaces, `version`).
// Read when the extension is bundled only: `--out-only` and `--gateway-only` run without @types/vscode.
const vscodeApiNames = () =>
  [
    ...readFileSync('node_modules/@types/vscode/index.d.ts', 'utf8').matchAll(/^\texport (?:declare )?(?:class|enum|namespace|const|function|let|var) (\w+)/gm),
  ].map((match) => match[1]);
const vscodeOnce = {
  name: 'vscode-once',
  setup(build) {
    build.onResolve({ filter: /^vscode$/ }, (args) =>
      args.namespace === 'vscode-once' ? { path: 'vscode', external: true } : { path: 'vscode', namespace: 'vscode-once' },
    );
    build.onLoad({ filter: /.*/, namespace: 'vscode-once' }, () => ({
      contents: `export const { ${vscodeApiNames().join(', ')} } = require('vscode');`,
      loader: 'js',
    }));
  },
};
const extensionHost = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['vscode'], minify: production };
const gatewayBuild = {
  ...shared,
  entryPoints: ['src/gateway/main.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  banner: { js: '#!/usr/bin/env node' },
  outfile: 'dist/gateway.js',
  minify: production,
};

if (gatewayOnly) {
  await esbuild.build(gatewayBuild);
  process.exit(0);
}

await Promise.all([
  outOnly
    ? Promise.resolve()
    : esbuild.build({ ...shared, ...extensionHost, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', plugins: [vendorOnFirstUse, vscodeOnce] }),
  outOnly
    ? Promise.resolve()
    : esbuild.build({
        ...shared,
        ...extensionHost,
        entryPoints: listFiles(join('src', 'vendor'), (f) => f.endsWith('.ts')),
        outdir: join('dist', 'vendor'),
      }),
  outOnly ? Promise.resolve() : esbuild.build(gatewayBuild),
  outOnly
    ? Promise.resolve()
    : esbuild.build({
        ...shared,
        entryPoints: ['src/webview/main.ts'],
        bundle: true,
        platform: 'browser',
        format: 'iife',
        outfile: 'dist/webview/chat.js',
        minify: production,
      }),
  // Chart.js, loaded by the chat webview on its first chart (src/webview/chartLoader.ts).
  outOnly
    ? Promise.resolve()
    : esbuild.build({
        ...shared,
        entryPoints: ['src/webview/chartDraw.ts'],
        bundle: true,
        platform: 'browser',
        format: 'iife',
        globalName: 'OnBehalfCharts',
        outfile: 'dist/webview/charts.js',
        minify: production,
      }),
  production
    ? Promise.resolve()
    : esbuild.build({
        ...shared,
        entryPoints: [
          ...listFiles('src', (f) => f.endsWith('.ts') && !f.startsWith(join('src', 'webview'))),
          ...listFiles('test', (f) => f.endsWith('.ts') || f.endsWith('.json') || f.endsWith('.html')),
        ],
        outbase: '.',
        outdir: 'out',
        bundle: false,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        loader: { '.json': 'copy', '.html': 'copy' },
      }),
]);

if (!outOnly) {
  mkdirSync('dist/codicons', { recursive: true });
  for (const file of ['codicon.css', 'codicon.ttf']) {
    cpSync(join('node_modules/@vscode/codicons/dist', file), join('dist/codicons', file));
  }
}
