// Issue 14 item 7: after the first connect, code-server's "open the external website?"
// dialog was reported showing the first consent link. The extension's side: every connect
// hands the opener a fresh link string of its own (no reused URI object, no cached link).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { OnBehalfTestApi } from '../../src/vscode/testApi';
import { connectThroughConsent, signInAs, waitFor, type Browser, type Emulators, useWorld } from './support';

describe('consent links: each connect opens its own fresh link', function () {
  this.timeout(90_000);
  let onbehalf: OnBehalfTestApi;
  let emulators: Emulators;
  let browser: Browser;
  const world = useWorld({ anthropicKey: 'sk-ant-consent-links' });
  before(() => ({ onbehalf, emulators, browser } = world));

  it('PostHog, Asana, then PostHog re-authorized: three different consent links, each a string the opener gets as it is', async () => {
    await signInAs(onbehalf, browser, 'ada');
    await connectThroughConsent(onbehalf, browser, 'posthog');
    await connectThroughConsent(onbehalf, browser, 'asana');
    // PostHog is ACTIVE now: Re-authorize opens its consent page again.
    const before = browser.delivered.length;
    await vscode.commands.executeCommand('onbehalf.reauthorize', 'posthog');
    await waitFor('posthog re-authorized', () => browser.delivered.length > before);
    assert.ok(browser.delivered.at(-1)!.ok);
    const consent = browser.opened.filter((url) => url.includes('/connect/'));
    assert.equal(consent.length, 3, JSON.stringify(browser.opened));
    assert.ok(
      consent.every((url) => typeof url === 'string' && url.startsWith(emulators.scalekit.url)),
      JSON.stringify(consent),
    );
    assert.equal(new Set(consent).size, 3, `no link opened twice: ${JSON.stringify(consent)}`);
  });
});
