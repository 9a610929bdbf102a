// Builds four things:
//  1. dist/extension.js      - the extension host bundle (Node, CommonJS, `vscode` external)
//  2. dist/webview/chat.js   - the chat webview bundle (browser, IIFE) + codicons
//  3. out/**                 - tests, emulators and harness, transpiled file by file so
//                              mocha and the extension host can load them directly.
//  4. dist/gateway.js        - the team gateway server (Node, CommonJS; `npx onbehalf-gateway`).
//                              Its npm packages stay external (PGlite loads its WASM files from
//                              its own folder), so it runs where node_modules is installed.
// `--out-only` builds just (3): `npm run mutation` rebuilds out/** from the mutated sources
// in Stryker's sandbox, before node_modules is linked there (so no bundle, no codicons).
// esbuild does not type-check: `npm run typecheck` runs tsc beside it.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
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
    : esbuild.build({
        ...shared,
        entryPoints: ['src/extension.ts'],
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        external: ['vscode'],
        outfile: 'dist/extension.js',
        minify: production,
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
