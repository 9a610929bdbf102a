// Issue 3 in the real extension host: sign-in through the OIDC provider, the tree
// following the emulator, the connect + verify flow through the URI handler, and every
// way a callback must be refused.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ConnectionsNode } from '../../src/vscode/connectionsTree';
import type { OnBehalfTestApi } from '../../src/vscode/testApi';
import { ConnectStateError } from '../../src/core/errors';
import {
  type Browser,
  connectThroughConsent,
  type Emulators,
  extensionLogText,
  handlerUriFromCallback,
  oidcIdentifier,
  signInAs,
  statusOf,
  waitFor,
  useWorld,
} from './support';

const ada = () => oidcIdentifier('ada');
const grace = () => oidcIdentifier('grace');

function labels(onbehalf: OnBehalfTestApi, node?: ConnectionsNode): string[] {
  return onbehalf.treeChildren(node).map((n) => {
    const item = onbehalf.treeItem(n);
    const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
    return item.description ? `${label} — ${String(item.description)}` : label;
  });
}

describe('identity, connections and the connect flow', function () {
  this.timeout(60_000);
  let emulators: Emulators;
  let onbehalf: OnBehalfTestApi;
  let browser: Browser;

  const world = useWorld({ anthropicKey: 'sk-ant-integration' });
  before(() => ({ onbehalf, emulators, browser } = world));

  it('starts signed out: empty tree, status bar asks to sign in', async () => {
    await onbehalf.signOut();
    await waitFor('signed out', async () => (await onbehalf.currentIdentity()) === undefined && !onbehalf.connections().loading);
    assert.deepEqual(labels(onbehalf), []);
    assert.match(onbehalf.statusBar().text, /Sign in/);
  });

  it('signs in through the IdP login page; the identifier comes from the session', async () => {
    await signInAs(onbehalf, browser, 'ada');
    const identity = await onbehalf.currentIdentity();
    assert.equal(identity?.identifier, ada());
    assert.ok(browser.opened.some((url) => url.startsWith(`${emulators.idp.issuer}/authorize`)));
    const roots = labels(onbehalf);
    assert.match(roots[0]!, /^Signed in as Ada Lovelace/);
    assert.deepEqual(roots.slice(1), ['PostHog — Not connected yet', 'Asana — Not connected yet']);
    assert.match(onbehalf.statusBar().text, /Connect PostHog/);
  });

  it('follows the emulator through every status', async () => {
    for (const status of ['PENDING_AUTH', 'PENDING_VERIFICATION', 'EXPIRED', 'DISCONNECTED', 'ACTIVE'] as const) {
      emulators.scalekit.setAccountStatus(ada(), 'asana', status);
      await onbehalf.refreshConnections();
      assert.equal(statusOf(onbehalf, 'asana'), status);
    }
    const asana = onbehalf.treeChildren().find((n) => n.kind === 'connection' && n.connection.name === 'asana')!;
    const item = onbehalf.treeItem(asana);
    assert.equal(item.contextValue, 'connection.active');
    assert.match(String(item.description), /Connected · 210 tools/);
    const groups = labels(onbehalf, asana);
    assert.equal(groups.length, 3);
    const counts = groups.map((g) => Number(/— (\d+)$/.exec(g)?.[1]));
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      210,
      `groups: ${groups.join(', ')}`,
    );
    assert.match(groups.join(','), /Read — \d+,Write — \d+,Destructive — \d+/);
    emulators.scalekit.removeAccount(ada(), 'asana');
    await onbehalf.refreshConnections();
    assert.equal(statusOf(onbehalf, 'asana'), 'NOT_CONNECTED');
  });

  it('re-renders the tree only when what it shows changed, so rows stay clickable through refreshes', async () => {
    emulators.scalekit.setAccountStatus(ada(), 'asana', 'ACTIVE');
    try {
      await onbehalf.refreshConnections();
      const before = onbehalf.treeRenders();
      for (let i = 0; i < 3; i++) await onbehalf.refreshConnections();
      assert.equal(onbehalf.treeRenders(), before, 'unchanged refreshes leave the rows alone');
      emulators.scalekit.setAccountStatus(ada(), 'asana', 'EXPIRED');
      await onbehalf.refreshConnections();
      assert.equal(onbehalf.treeRenders(), before + 1, 'a changed status renders once');
    } finally {
      emulators.scalekit.removeAccount(ada(), 'asana');
      await onbehalf.refreshConnections();
    }
  });

  it('connects PostHog through consent and the URI handler, to ACTIVE', async () => {
    browser.consent = 'allow';
    await connectThroughConsent(onbehalf, browser, 'posthog');
    const link = browser.opened.at(-1)!;
    assert.ok(link.startsWith(`${emulators.scalekit.url}/connect/`));
    const verified = browser.delivered.at(-1)!.uri;
    assert.equal(verified.path, '/verify');
    assert.ok(new URLSearchParams(verified.query).get('auth_request_id'));
    assert.equal(emulators.scalekit.getAccount(ada(), 'posthog')?.status, 'ACTIVE');
    assert.match(onbehalf.statusBar().text, /Connect Asana/);
  });

  it('re-checks a pending connection on its own, with backoff, until it is ACTIVE', async () => {
    browser.consent = 'ignore';
    try {
      const logStart = emulators.scalekit.rpcLog.length;
      const logBefore = extensionLogText(onbehalf).length;
      // The timer's own log lines say when a timed re-check ran and after how long: a
      // window-focus re-check (also the product's) may fall between them.
      const timedWaits = () =>
        [
          ...extensionLogText(onbehalf)
            .slice(logBefore)
            .matchAll(/timed re-check (\d+), after (\d+) ms/g),
        ].map((m) => Number(m[2]));
      await onbehalf.connect('asana');
      assert.equal(statusOf(onbehalf, 'asana'), 'PENDING_AUTH');
      // Each load of the connections asks the emulator for Ada's accounts in one burst;
      // the bursts after connect's own load are the timed re-checks.
      const checks = () => {
        const times = emulators.scalekit.rpcLog
          .slice(logStart)
          .filter((entry) => entry.identifier === ada() && /^GetConnectedAccount/.test(entry.method))
          .map((entry) => entry.at);
        return times.filter((at, i) => i === 0 || at - times[i - 1]! > 500);
      };
      const methods = () => [...new Set(emulators.scalekit.rpcLog.slice(logStart).map((entry) => entry.method))].join(', ');
      await waitFor(`a first re-check while Asana is pending (RPCs: ${methods()})`, () => checks().length >= 2, 10_000);
      // The user finishes in a way that never reaches this window (say, on another device),
      // after the first re-check found nothing.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(statusOf(onbehalf, 'asana'), 'PENDING_AUTH', 'nothing re-checked between the timed re-checks');
      // Backoff: the wait before the second timed re-check is longer than before the first.
      await waitFor('a second timed re-check', () => timedWaits().length >= 2, 15_000);
      const waits = timedWaits();
      assert.ok(waits[1]! >= waits[0]! * 1.5, `re-check waits ${waits.join(' ms, ')} ms do not grow`);
      assert.equal(statusOf(onbehalf, 'asana'), 'PENDING_AUTH', 'still pending: nothing was finished yet');
      // Finished only once the second re-check has its answer, so that re-check cannot be the one that finds it.
      await waitFor('the second timed re-check answered', () => /Timed re-check 2 done/.test(extensionLogText(onbehalf).slice(logBefore)), 15_000);
      emulators.scalekit.activateAccount(ada(), 'asana');
      const started = Date.now();
      await waitFor('Asana active without a refresh or a callback', () => statusOf(onbehalf, 'asana') === 'ACTIVE', 20_000);
      assert.ok(Date.now() - started >= 1_000, 'found by a later re-check, not at once');
    } finally {
      browser.consent = 'allow';
      emulators.scalekit.removeAccount(ada(), 'asana');
      await onbehalf.refreshConnections();
    }
  });

  describe('refused callbacks leave the account pending', () => {
    async function startPendingConnect(): Promise<{ callback: vscode.Uri; authRequestId: string }> {
      browser.consent = 'ignore';
      await onbehalf.connect('asana');
      const link = browser.opened.at(-1)!;
      assert.ok(link.startsWith(`${emulators.scalekit.url}/connect/`), `connect did not open a consent link (last opened: ${link})`);
      const answer = await fetch(link, { method: 'POST', body: new URLSearchParams({ decision: 'allow' }), redirect: 'manual' });
      const callback = handlerUriFromCallback(answer.headers.get('location')!);
      return { callback, authRequestId: new URLSearchParams(callback.query).get('auth_request_id')! };
    }
    const withQuery = (uri: vscode.Uri, change: (q: URLSearchParams) => void) => {
      const query = new URLSearchParams(uri.query);
      change(query);
      return uri.with({ query: query.toString() });
    };
    async function expectRefused(uri: vscode.Uri, problem: string): Promise<void> {
      const outcome = await onbehalf.routeUri(uri);
      assert.equal(outcome.ok, false);
      const error = (outcome as { error: unknown }).error;
      assert.ok(ConnectStateError.is(error), `expected a state error, got ${String(error)}`);
      assert.equal(error.problem, problem);
      assert.equal(emulators.scalekit.getAccount(ada(), 'asana')?.status, 'PENDING_VERIFICATION');
    }

    it('a forged state', async () => {
      const { callback } = await startPendingConnect();
      await expectRefused(
        withQuery(callback, (q) => q.set('state', 'forged-by-attacker')),
        'unknown',
      );
    });

    it('a callback without auth_request_id says so plainly and logs which parameters came back', async () => {
      const { callback } = await startPendingConnect();
      const outcome = await onbehalf.routeUri(withQuery(callback, (q) => q.delete('auth_request_id')));
      assert.equal(outcome.ok, false);
      const message = String((outcome as { error: unknown }).error);
      assert.match(message, /without an auth_request_id/);
      assert.match(message, /Connect again/);
      assert.equal(emulators.scalekit.getAccount(ada(), 'asana')?.status, 'PENDING_VERIFICATION');
      // The log channel writes its file asynchronously.
      await waitFor('the callback parameters are logged', () => /Connection callback with parameters: [^\n]*state/.test(extensionLogText(onbehalf)));
      assert.match(extensionLogText(onbehalf), /Scalekit will redirect to \S+verify/);
    });

    it('a missing state', async () => {
      const { callback } = await startPendingConnect();
      await expectRefused(
        withQuery(callback, (q) => q.delete('state')),
        'malformed',
      );
    });

    it('a replayed state', async () => {
      const { callback } = await startPendingConnect();
      const first = await onbehalf.routeUri(callback);
      assert.equal(first.ok, true);
      emulators.scalekit.setAccountStatus(ada(), 'asana', 'PENDING_VERIFICATION');
      await expectRefused(callback, 'replayed');
    });

    it('a state minted for another identity', async () => {
      const { callback } = await startPendingConnect();
      await signInAs(onbehalf, browser, 'grace');
      const outcome = await onbehalf.routeUri(callback);
      assert.equal(outcome.ok, false);
      assert.ok(ConnectStateError.is((outcome as { error: unknown }).error));
      assert.equal((outcome as { error: ConnectStateError }).error.problem, 'otherIdentity');
      const verifies = emulators.scalekit.rpcLog.filter((r) => r.method === 'VerifyConnectedAccountUser');
      assert.ok(
        verifies.every((r) => r.identifier !== grace()),
        'no verify was sent as Grace',
      );
      assert.equal(emulators.scalekit.getAccount(ada(), 'asana')?.status, 'PENDING_VERIFICATION');
      await signInAs(onbehalf, browser, 'ada');
    });

    it('an expired state', async () => {
      // States last ten minutes; the store's clock is real, so age it by editing nothing but time.
      const { callback } = await startPendingConnect();
      const realNow = Date.now;
      Date.now = () => realNow() + 11 * 60 * 1000;
      try {
        await expectRefused(callback, 'expired');
      } finally {
        Date.now = realNow;
      }
    });
  });

  it("switching identity shows the other user's connections, and sign-out empties the tree", async () => {
    emulators.scalekit.activateAccount(grace(), 'asana');
    await signInAs(onbehalf, browser, 'grace');
    assert.equal(statusOf(onbehalf, 'asana'), 'ACTIVE');
    assert.equal(statusOf(onbehalf, 'posthog'), 'NOT_CONNECTED', "Ada's PostHog is not Grace's");
    assert.match(labels(onbehalf)[0]!, /Grace Hopper/);
    await signInAs(onbehalf, browser, 'ada');
    assert.equal(statusOf(onbehalf, 'posthog'), 'ACTIVE');
    await onbehalf.signOut();
    await waitFor('tree emptied', () => onbehalf.connections().identity === undefined && !onbehalf.connections().loading && labels(onbehalf).length === 0);
    assert.match(onbehalf.statusBar().text, /Sign in/);
  });

  it('says what is missing when Scalekit is not set up or unreachable', async () => {
    await signInAs(onbehalf, browser, 'ada');
    await vscode.workspace.getConfiguration('onbehalf').update('scalekit.clientId', '', vscode.ConfigurationTarget.Global);
    await waitFor('missing client id shown', () => /client id/.test(labels(onbehalf).join('|')));
    await vscode.workspace.getConfiguration('onbehalf').update('scalekit.clientId', emulators.scalekit.clientId, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('onbehalf').update('scalekit.environmentUrl', 'http://127.0.0.1:1', vscode.ConfigurationTarget.Global);
    await waitFor('unreachable shown', () => /unreachable/.test(labels(onbehalf).join('|')), 30_000);
    await vscode.workspace.getConfiguration('onbehalf').update('scalekit.environmentUrl', emulators.scalekit.url, vscode.ConfigurationTarget.Global);
    await waitFor('recovered', () => statusOf(onbehalf, 'posthog') === 'ACTIVE', 30_000);
  });

  it('a configured connection name Scalekit does not know says so on its own row; the others still load', async () => {
    const config = vscode.workspace.getConfiguration('onbehalf');
    const original = config.inspect<string[]>('connections')?.globalValue;
    await config.update('connections', ['posthog', 'asana', 'PostHog'], vscode.ConfigurationTarget.Global);
    try {
      const row = () => onbehalf.treeChildren().find((n) => n.kind === 'connection' && n.connection.name === 'PostHog');
      await waitFor(
        'the misnamed connection explained',
        () => {
          const node = row();
          return node && labels(onbehalf, node).some((l) => /Scalekit has no connection named "PostHog"/.test(l) && /exactly/.test(l));
        },
        30_000,
      );
      assert.equal(statusOf(onbehalf, 'posthog'), 'ACTIVE', 'the correctly named connections still load');
    } finally {
      await config.update('connections', original, vscode.ConfigurationTarget.Global);
    }
  });
});
