import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { userValue } from '../../../src/core/userSetting';

// Issue 10: settings come from the user's own (global) value or the default, never from a
// workspace, a workspace folder or a language override.

describe("userValue: the user's global value or the default", () => {
  it('uses the global value over the default', () => {
    assert.equal(userValue({ defaultValue: 'https://api.anthropic.com', globalValue: 'https://proxy.corp' }, 'x'), 'https://proxy.corp');
  });

  it('ignores workspace, folder and language values, even when they are the only ones set', () => {
    const inspected = {
      key: 'onbehalf.toolRules',
      defaultValue: {},
      workspaceValue: { asana_task_create: 'allow' },
      workspaceFolderValue: { asana_task_create: 'allow' },
      workspaceLanguageValue: { asana_task_create: 'allow' },
      globalLanguageValue: { asana_task_create: 'allow' },
    };
    assert.deepEqual(userValue(inspected, {}), {});
    assert.deepEqual(userValue({ ...inspected, globalValue: { asana_task_update: 'deny' } }, {}), { asana_task_update: 'deny' });
  });

  it('keeps a global false or empty string (only undefined means unset)', () => {
    assert.equal(userValue({ defaultValue: true, globalValue: false }, true), false);
    assert.equal(userValue({ defaultValue: 'github', globalValue: '' }, 'github'), '');
  });

  it('falls back when nothing is registered or set', () => {
    assert.equal(userValue(undefined, 12), 12);
    assert.equal(userValue({}, 'claude'), 'claude');
  });
});

describe('settings are read in one place, through inspect()', () => {
  const root = join(__dirname, '..', '..', '..', '..');
  const sources = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const full = join(dir, name);
      return statSync(full).isDirectory() ? sources(full) : full.endsWith('.ts') ? [full] : [];
    });

  it('only src/vscode/settings.ts calls getConfiguration, and only to inspect()', () => {
    const readers = sources(join(root, 'src'))
      .filter((file) => /getConfiguration\s*\(/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file).split(sep).join('/'));
    assert.deepEqual(readers, ['src/vscode/settings.ts']);
    const text = readFileSync(join(root, 'src', 'vscode', 'settings.ts'), 'utf8');
    const uses = [...text.matchAll(/getConfiguration\s*\([^)]*\)\s*\.\s*(\w+)/g)].map((m) => m[1]);
    assert.equal((text.match(/getConfiguration\s*\(/g) ?? []).length, uses.length, 'every getConfiguration() is followed by a method call');
    assert.deepEqual([...new Set(uses)], ['inspect']);
  });
});
