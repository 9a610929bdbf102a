// Runs inside the real extension host (code-server or desktop VS Code).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'onbehalf.onbehalf';

interface Manifest {
  contributes?: {
    commands?: Array<{ command: string }>;
    viewsContainers?: { activitybar?: Array<{ id: string; title: string }> };
    views?: Record<string, Array<{ id: string; name: string; type?: string }>>;
  };
}

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed in this host`);
  return ext;
}

describe('activation', () => {
  it(`finds the extension ${EXTENSION_ID}`, () => {
    const ext = extension();
    assert.equal(ext.id, EXTENSION_ID);
    assert.equal((ext.packageJSON as { name?: string }).name, 'onbehalf');
  });

  it('activates without throwing', async () => {
    const ext = extension();
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  it('registers every command declared in package.json', async () => {
    const ext = extension();
    await ext.activate();
    const declared = ((ext.packageJSON as Manifest).contributes?.commands ?? []).map((c) => c.command);
    assert.ok(declared.length > 0, 'package.json declares no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = declared.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `declared in package.json but not registered: ${missing.join(', ')}`);
  });

  it('opens the OnBehalf view container', async () => {
    const ext = extension();
    await ext.activate();
    const containers = (ext.packageJSON as Manifest).contributes?.viewsContainers?.activitybar ?? [];
    assert.ok(containers.length > 0, 'package.json declares no activity bar container');
    for (const container of containers) {
      await vscode.commands.executeCommand(`workbench.view.extension.${container.id}`);
    }
  });

  it('opens every view declared in package.json', async () => {
    const ext = extension();
    await ext.activate();
    const views = Object.values((ext.packageJSON as Manifest).contributes?.views ?? {}).flat();
    assert.ok(views.length > 0, 'package.json declares no views');
    for (const view of views) {
      await assert.doesNotReject(Promise.resolve(vscode.commands.executeCommand(`${view.id}.focus`)), `could not open the view ${view.id} (${view.name})`);
    }
  });
});

describe('harness', () => {
  it('hands its environment to the extension host', () => {
    // run-integration.ts and run-electron.ts set this; tests may read their own variables the same way.
    assert.ok(
      ['integration', 'electron'].includes(process.env['ONBEHALF_TEST_TIER'] ?? ''),
      `ONBEHALF_TEST_TIER is ${JSON.stringify(process.env['ONBEHALF_TEST_TIER'])}`,
    );
  });
});
