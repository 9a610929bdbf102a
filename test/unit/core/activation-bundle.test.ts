import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// dist/extension.js is what VS Code loads (parses and runs) at activation. Each SDK lives in
// its own dist/vendor/<name>.js, required on first use through src/core/sdkLoader.ts. These
// checks read the files `node esbuild.mjs` wrote (the unit tier builds first) for a string
// only that SDK's code contains, minified or not.

const dist = join(__dirname, '..', '..', '..', '..', 'dist');

const sdks = [
  { sdk: '@anthropic-ai/sdk', vendor: 'anthropic', signature: 'anthropic-version' },
  { sdk: '@scalekit-sdk/node', vendor: 'scalekit', signature: 'ConnectedAccountService' },
  { sdk: '@modelcontextprotocol/sdk', vendor: 'mcp', signature: 'notifications/initialized' },
  { sdk: 'zod', vendor: 'zod', signature: '$ZodType' },
  { sdk: 'ajv', vendor: 'validation', signature: 'strictTuples' },
  { sdk: 're2js', vendor: 'validation', signature: 'RE2JSSyntaxException' },
  { sdk: 'jose', vendor: 'jose', signature: 'ERR_JWT_INVALID' },
] as const;

describe('the activation bundle', () => {
  const activation = readFileSync(join(dist, 'extension.js'), 'utf8');

  for (const { sdk, vendor, signature } of sdks) {
    it(`dist/extension.js does not contain ${sdk}; dist/vendor/${vendor}.js does`, () => {
      // The signature is real: the SDK's own file has it.
      assert.ok(readFileSync(join(dist, 'vendor', `${vendor}.js`), 'utf8').includes(signature), `dist/vendor/${vendor}.js lacks ${JSON.stringify(signature)}`);
      assert.equal(activation.includes(signature), false, `dist/extension.js holds ${sdk} (it contains ${JSON.stringify(signature)})`);
    });
  }

  it('dist/vendor/zod.js is zod/mini with its English messages, not the whole of classic zod', () => {
    const zod = readFileSync(join(dist, 'vendor', 'zod.js'), 'utf8');
    assert.ok(zod.includes('"ZodMiniString"'), "zod/mini's string schema is in dist/vendor/zod.js");
    assert.equal(zod.includes('"ZodString"'), false, "classic zod's string schema is in dist/vendor/zod.js");
    // Without a locale zod/mini answers "Invalid input" to everything; the webview's rejections quote these.
    assert.ok(zod.includes('Too big: expected '), 'the English locale is in dist/vendor/zod.js');
  });

  it('dist/extension.js requires the vscode API once, not once per importing file', () => {
    // Each extra require would be a copy of the ~300-key API object as getters (esbuild's
    // __toESM), about a millisecond of activation time apiece.
    assert.equal([...activation.matchAll(/require\(["']vscode["']\)/g)].length, 1);
    assert.equal(activation.includes('__toESM(require("vscode"))'), false);
  });

  it('dist/extension.js requires each vendor file only by its relative path, so it is never bundled in', () => {
    const required = [...activation.matchAll(/require\(["']\.\/vendor\/([\w-]+)\.js["']\)/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(required)].sort(), [...new Set(sdks.map((s) => s.vendor))].sort());
  });
});
