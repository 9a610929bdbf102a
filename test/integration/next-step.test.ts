// Issue 14 item 3: right after signing in, before the Scalekit client secret is set, the
// Connections tree shows the next step plainly (an actionable row, not a cut-off warning)
// and no "Status unknown" rows while the statuses cannot be known.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { OnBehalfTestApi } from '../../src/vscode/testApi';
import { signInAs, statusOf, waitFor, type Browser, type Emulators, useWorld } from './support';

describe('connections tree: the next step before the Scalekit secret', function () {
  this.timeout(90_000);
  let onbehalf: OnBehalfTestApi;
  let emulators: Emulators;
  let browser: Browser;
  const world = useWorld({ anthropicKey: 'sk-ant-next-step', scalekitSecret: false });
  before(() => ({ onbehalf, emulators, browser } = world));

  const rows = () =>
    onbehalf.treeChildren().map((node) => {
      const item = onbehalf.treeItem(node);
      const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
      const icon = item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined;
      return { label, description: item.description, icon, command: item.command?.command, tooltip: item.tooltip };
    });

  it('signed in without the secret: "Set your Scalekit client secret", a key row that runs the command; no warning, no "Status unknown"', async () => {
    await signInAs(onbehalf, browser, 'ada');
    await waitFor('the missing secret noticed', () => onbehalf.connections().problem !== undefined);
    const shown = rows();
    const step = shown.find((r) => /Scalekit client secret/i.test(r.label));
    assert.ok(step, `a next-step row: ${JSON.stringify(shown)}`);
    assert.equal(step.label, 'Set your Scalekit client secret');
    assert.equal(step.description, 'to see your connections');
    assert.equal(step.icon, 'key');
    assert.equal(step.command, 'onbehalf.setScalekitSecret');
    assert.ok(step.label.length <= 40, 'short enough not to be cut in the sidebar');
    assert.ok(
      shown.every((r) => r.icon !== 'warning' && r.icon !== 'question'),
      `no warning or question-mark rows: ${JSON.stringify(shown)}`,
    );
    assert.ok(
      shown.every((r) => !/Status unknown/.test(`${r.label} ${String(r.description ?? '')}`)),
      `no "Status unknown" rows: ${JSON.stringify(shown)}`,
    );
    assert.ok(
      shown.every((r) => !/^OnBehalf is missing/.test(r.label)),
      'no cut-off warning label',
    );

    // With the secret set, the connections appear.
    await onbehalf.storeSecret('scalekitClientSecret', emulators.scalekit.clientSecret);
    await onbehalf.refreshConnections();
    await waitFor('statuses known', () => statusOf(onbehalf, 'posthog') !== undefined && statusOf(onbehalf, 'posthog') !== 'UNKNOWN', 45_000);
    assert.ok(!rows().some((r) => /Scalekit client secret/i.test(r.label)), 'the next step is gone once done');
  });
});
