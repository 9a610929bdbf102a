// Issue 5's security and reliability suites, in the real extension host. Each suite
// prints its figure; the README's security section reports them.
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as vscode from 'vscode';
import type { OnBehalfTestApi } from '../../src/vscode/testApi';
import { startScalekitEmulator } from '../emulators/scalekit/server';
import { startAnthropicEmulator } from '../emulators/anthropic/server';
import { startEnterpriseWorld } from '../emulators/posthog-mcp/harness';
import {
  extensionLogText,
  filesUnder,
  handlerUriFromCallback,
  idpLoginRedirect,
  oidcIdentifier,
  setSetting,
  tapWire,
  type WireRequest,
  signInAs,
  statusOf,
  useSignedInWorld,
  waitFor,
  type Browser,
  type Emulators,
} from './support';

const ada = () => oidcIdentifier('ada');
const grace = () => oidcIdentifier('grace');
import { startIdpEmulator } from '../emulators/idp/server';

const canary = {
  anthropicKey: `sk-ant-CANARY${randomBytes(6).toString('hex')}`,
  wrongAnthropicKey: `sk-ant-CANARYWRONG${randomBytes(6).toString('hex')}`,
  scalekitSecret: `CANARY-scalekit-${randomBytes(6).toString('hex')}`,
  wrongScalekitSecret: `CANARY-wrong-scalekit-${randomBytes(6).toString('hex')}`,
  enterpriseSecret: `CANARY-enterprise-${randomBytes(6).toString('hex')}`,
};

describe('security and reliability suites', function () {
  this.timeout(120_000);
  // Every request the extension host sends during the suite, for the leak suite (registered
  // before the world starts, so its first token requests are seen too).
  let wire: ReturnType<typeof tapWire>;
  before(() => {
    wire = tapWire();
  });
  after(() => wire.dispose());
  // Scalekit and Anthropic accept only the canary secrets, so any leak of them is findable.
  const world = useSignedInWorld({
    anthropicKey: canary.anthropicKey,
    emulators: async () => {
      const [scalekit, anthropic, idp] = await Promise.all([
        startScalekitEmulator({ clientSecret: canary.scalekitSecret }),
        startAnthropicEmulator({ apiKeys: [canary.anthropicKey] }),
        startIdpEmulator(),
      ]);
      return { scalekit, anthropic, idp };
    },
  });
  let emulators: Emulators;
  let onbehalf: OnBehalfTestApi;
  let browser: Browser;
  const rejectedCount = () => onbehalf.chat.postedMessages().filter((m) => m.type === 'rejected').length;
  const conversation = () => onbehalf.chat.activeConversation()!;
  const send = async (text: string) => {
    await onbehalf.chat.handleMessage({ type: 'send', text });
    await onbehalf.chat.whenIdle();
  };

  before(() => ({ emulators, onbehalf, browser } = world));

  /** A read call the scripted model makes; returns the executions it caused (none when refused). */
  const readCall = async (label: string) => {
    const before = emulators.scalekit.executions.length;
    const active = onbehalf.chat.activeConversation();
    if (active) active.loadedTools = ['asana_workspaces_list'];
    emulators.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {} } }, { text: `read for ${label}` });
    await send(`list my workspaces (${label})`);
    emulators.anthropic.reset(); // a refused send leaves the queue unanswered
    return emulators.scalekit.executions.slice(before);
  };
  /** Registered settings the extension reads, set to values naming another user. */
  const settingsSpoofs: [string, unknown][] = [
    ['connections', ['posthog', 'asana', 'oidc:grace']],
    ['connections', ['posthog', 'asana', 'asana?identifier=oidc:grace']],
    ['toolRules', { 'oidc:grace': 'allow', asana_workspaces_list: 'allow' }],
    ['identity.provider', 'github'],
    ['oidc.clientId', 'grace'],
    ['oidc.issuer', 'http://127.0.0.1:9/oidc:grace'],
  ];

  /**
   * Starts a sign-in through the OIDC provider and leaves it waiting for its callback, then
   * delivers forged callbacks (wrong state, a code minted with another nonce, a code from
   * another authorization request) while it waits. Each must be refused and never complete
   * the sign-in as Grace; at the end the genuine callback completes it as Ada.
   */
  async function forgedOidcCallbacks(record: (name: string, refused: boolean) => void): Promise<void> {
    const callbackUri = (params: Record<string, string> | string) =>
      vscode.Uri.parse(
        `${vscode.env.uriScheme}://onbehalf.onbehalf/oidc-callback?${typeof params === 'string' ? params : new URLSearchParams(params).toString()}`,
      );
    const pendingSignIn = async () => {
      const openedBefore = browser.opened.length;
      let settled: { ok: boolean; identifier?: string; error?: string } | undefined;
      const signing = onbehalf.signIn().then(
        (identity) => (settled = { ok: true, ...(identity ? { identifier: identity.identifier } : {}) }),
        (error: unknown) => (settled = { ok: false, error: String(error) }),
      );
      const url = new URL(await waitFor('the IdP authorize page opened', () => browser.opened.slice(openedBefore).find((u) => u.includes('/authorize'))));
      return { url, signing, settled: () => settled };
    };
    /** Grace logs in at the IdP for an authorization request an attacker made from `url`; returns her code and the state the IdP echoed. */
    const graceCode = async (url: URL, change: (q: URLSearchParams) => void) => {
      const attacker = new URL(url);
      change(attacker.searchParams);
      const location = await idpLoginRedirect(attacker.toString(), 'grace');
      const query = new URLSearchParams(handlerUriFromCallback(location!).query);
      assert.ok(query.get('code'), `the IdP gave Grace a code (${location})`);
      return query.get('code')!;
    };
    const still = async (what: string) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return (await onbehalf.currentIdentity())?.identifier === ada() && what.length > 0;
    };
    browser.idpLogin = 'hold';
    try {
      // a) A wrong state, with a code that would otherwise sign Grace in: minted for this very
      //    request's PKCE challenge and nonce (both visible in the authorize URL), so only the
      //    state stands between it and the pending sign-in.
      let pending = await pendingSignIn();
      const genuineState = pending.url.searchParams.get('state')!;
      const wrongStates: [string, string][] = [
        ['forged', 'forged'],
        ['random', randomBytes(24).toString('base64url')],
        ['state + x', `${genuineState}x`],
        ['upper-cased', genuineState.toUpperCase()],
        ['empty', ''],
      ];
      for (const [name, state] of wrongStates) {
        const code = await graceCode(pending.url, (q) => q.set('state', state || 'attacker'));
        await onbehalf.routeUri(callbackUri({ code, state }));
        record(`oidc callback while pending: ${name} state`, (await still(name)) && pending.settled() === undefined);
      }
      {
        const code = await graceCode(pending.url, (q) => q.set('state', 'attacker'));
        await onbehalf.routeUri(callbackUri({ code }));
        record('oidc callback while pending: no state', (await still('no state')) && pending.settled() === undefined);
        await onbehalf.routeUri(callbackUri(`code=${code}&state=${genuineState}&state=${genuineState}`));
        record('oidc callback while pending: repeated state', (await still('repeated')) && pending.settled() === undefined);
        await onbehalf.routeUri(callbackUri({ id_token: 'forged', identifier: 'oidc:grace', state: 'forged' }));
        record('oidc callback while pending: id_token + identifier', (await still('id_token')) && pending.settled() === undefined);
      }
      // b) The genuine state with a code minted for another nonce (the attacker's own), same
      //    PKCE challenge: the IdP exchanges it; the ID token's nonce must refuse it.
      {
        const code = await graceCode(pending.url, (q) => q.set('nonce', randomBytes(24).toString('base64url')));
        await onbehalf.routeUri(callbackUri({ code, state: genuineState }));
        await pending.signing;
        record(
          'oidc callback while pending: wrong nonce',
          (await still('nonce')) && pending.settled()?.ok === false && /nonce/i.test(pending.settled()?.error ?? ''),
        );
      }
      // c) The genuine state with a foreign code: from another authorization request (its own
      //    PKCE challenge), carrying this sign-in's nonce: the PKCE verifier must refuse it.
      pending = await pendingSignIn();
      {
        const attackerVerifier = randomBytes(48).toString('base64url');
        const code = await graceCode(pending.url, (q) => {
          q.set('code_challenge', createHash('sha256').update(attackerVerifier).digest('base64url'));
          q.set('state', 'attacker');
        });
        await onbehalf.routeUri(callbackUri({ code, state: pending.url.searchParams.get('state')! }));
        await pending.signing;
        record('oidc callback while pending: foreign code', (await still('foreign')) && pending.settled()?.ok === false);
      }
      // d) An error answer with the genuine state cancels the sign-in, nobody signs in.
      pending = await pendingSignIn();
      await onbehalf.routeUri(callbackUri({ error: 'access_denied', state: pending.url.searchParams.get('state')! }));
      await pending.signing;
      record('oidc callback while pending: error answer', (await still('error')) && pending.settled()?.ok === false);
      // The genuine callback still completes a pending sign-in, as Ada.
      pending = await pendingSignIn();
      const location = await idpLoginRedirect(pending.url.toString(), 'ada');
      await onbehalf.routeUri(handlerUriFromCallback(location!));
      await pending.signing;
      assert.deepEqual(pending.settled(), { ok: true, identifier: ada() }, 'the genuine callback completes the sign-in');
    } finally {
      browser.idpLogin = 'click';
    }
    await waitFor('connections loaded for Ada', () => onbehalf.connections().identity?.identifier === ada() && !onbehalf.connections().loading);
  }

  beforeEach(async () => {
    emulators.anthropic.reset();
    emulators.scalekit.clearFaults();
    await onbehalf.chat.handleMessage({ type: 'newConversation' });
  });

  it('identifier spoofing: at least 50 attempts, none runs as anyone but the signed-in user', async () => {
    let attempts = 0;
    let refused = 0;
    const notRefused: string[] = [];
    const record = (name: string, wasRefused: boolean) => {
      attempts++;
      if (wasRefused) refused++;
      else notRefused.push(name);
    };
    const executionsBefore = emulators.scalekit.executions.length;

    // 1. Webview messages carrying identity fields.
    const shapes: Record<string, unknown>[] = [
      { type: 'ready' },
      { type: 'send', text: 'hello' },
      { type: 'stop' },
      { type: 'retry' },
      { type: 'newConversation' },
      { type: 'switchConversation', conversationId: 'c1' },
      { type: 'deleteConversation', conversationId: 'c1' },
      { type: 'decide', toolUseId: 't1', decision: 'approve' },
      { type: 'connect', connection: 'asana', reauthorize: false },
      { type: 'runCommand', command: 'signIn' },
      { type: 'copy', text: 'x' },
      { type: 'openLink', url: 'https://example.com' },
    ];
    const fields: Record<string, unknown>[] = [
      { identifier: grace() },
      { user: 'grace' },
      { userId: 'grace' },
      { account: { id: 'grace' } },
      { onBehalfOf: grace() },
    ];
    for (const shape of shapes) {
      for (const field of fields) {
        const before = rejectedCount();
        await onbehalf.chat.handleMessage({ ...shape, ...field });
        record(`webview ${String(shape.type)} + ${Object.keys(field)[0]}`, rejectedCount() === before + 1);
      }
    }

    // 2. The user's own words and the model's tool input naming another user.
    conversation().loadedTools = ['asana_task_create', 'asana_workspaces_list'];
    const workspace = emulators.scalekit.data.asana.workspace.gid;
    const spoofInputs = [
      { name: 'as grace', workspace_gid: workspace, identifier: grace() },
      { name: 'as grace 2', workspace_gid: workspace, assignee: 'grace', user: grace() },
      { name: 'as grace 3', workspace_gid: workspace, connected_account_id: 'ca_grace', onBehalfOf: grace() },
    ];
    await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: 'nothing-pending', decision: 'approve' });
    for (const input of spoofInputs) {
      emulators.anthropic.queue({ toolUse: { name: 'asana_task_create', input } }, { text: 'done' });
      const pending = send(`I am ${grace()}, act as Grace and create a task`);
      await waitFor('approval card', () => conversation().items.some((i) => i.kind === 'tool' && i.card.status === 'awaitingApproval'));
      const card = conversation().items.find((i) => i.kind === 'tool' && i.card.status === 'awaitingApproval')!;
      const before = emulators.scalekit.executions.length;
      await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: card.id, decision: 'approve' });
      await pending;
      // Exactly one NEW execution, and it ran as the signed-in user.
      const fresh = emulators.scalekit.executions.slice(before);
      record(`tool input ${input.name}`, fresh.length === 1 && fresh[0]!.identifier === ada() && fresh[0]!.toolName === 'asana_task_create');
    }

    // 3. URI callbacks with forged or foreign state, or an identifier parameter.
    browser.consent = 'ignore';
    emulators.scalekit.setAccountStatus(ada(), 'asana', 'PENDING_AUTH');
    await onbehalf.connect('asana');
    const link = browser.opened.at(-1)!;
    assert.ok(link.startsWith(emulators.scalekit.url), `consent link opened (${link.slice(0, 60)})`);
    const answer = await fetch(link, { method: 'POST', body: new URLSearchParams({ decision: 'allow' }), redirect: 'manual' });
    const callback = handlerUriFromCallback(answer.headers.get('location')!);
    const variants: ((q: URLSearchParams) => void)[] = [
      (q) => q.set('state', 'forged'),
      (q) => q.set('state', randomBytes(32).toString('base64url')),
      (q) => q.delete('state'),
      (q) => q.set('state', ''),
      (q) => q.set('state', `${q.get('state')}x`),
      (q) => q.set('state', (q.get('state') ?? '').toUpperCase()),
      (q) => q.append('state', 'second'),
    ];
    for (const [index, change] of variants.entries()) {
      const query = new URLSearchParams(callback.query);
      change(query);
      const outcome = await onbehalf.routeUri(callback.with({ query: query.toString() }));
      record(`verify callback variant ${index}`, !outcome.ok);
    }
    // A valid state with an identifier parameter: it verifies, and only as Ada.
    const withIdentifier = new URLSearchParams(callback.query);
    withIdentifier.set('identifier', grace());
    withIdentifier.set('user', 'grace');
    const verifiesBefore = emulators.scalekit.rpcLog.filter((r) => r.method === 'VerifyConnectedAccountUser').length;
    await onbehalf.routeUri(callback.with({ query: withIdentifier.toString() }));
    const verifies = emulators.scalekit.rpcLog.filter((r) => r.method === 'VerifyConnectedAccountUser').slice(verifiesBefore);
    record('verify callback with identifier=oidc:grace', verifies.length === 1 && verifies[0]!.identifier === ada());
    // Forged OIDC callbacks, delivered while a sign-in is pending (waiting for its callback).
    await forgedOidcCallbacks(record);

    // 4. Settings values: registered settings the extension reads, written (the write must
    // succeed, so the attempt reaches the extension), each followed by a real tool call.
    const config = vscode.workspace.getConfiguration('onbehalf');
    for (const [key, value] of settingsSpoofs) {
      const original = config.inspect(key)?.globalValue;
      await setSetting(key, value);
      await onbehalf.refreshConnections();
      const fresh = await readCall(`setting ${key}`);
      const who = (await onbehalf.currentIdentity())?.identifier;
      record(`setting ${key}=${JSON.stringify(value)}`, (who === ada() || who === undefined) && fresh.every((e) => e.identifier === ada()));
      await setSetting(key, original);
      await onbehalf.refreshConnections();
      await waitFor(
        'Ada again',
        async () =>
          (await onbehalf.currentIdentity())?.identifier === ada() && onbehalf.connections().identity?.identifier === ada() && !onbehalf.connections().loading,
      );
    }
    // Workspace overrides are tested with a real .vscode/settings.json in workspace-settings.test.ts.

    // 5. Calls right after a switch and after sign-out.
    conversation().loadedTools = ['asana_task_create'];
    emulators.anthropic.queue({ toolUse: { name: 'asana_task_create', input: { name: 'switch race', workspace_gid: workspace } } }, { text: 'ok' });
    const racing = send('create a task');
    await waitFor('approval card', () => conversation().items.some((i) => i.kind === 'tool' && i.card.status === 'awaitingApproval'));
    const racingCard = conversation().items.find((i) => i.kind === 'tool' && i.card.status === 'awaitingApproval')!;
    const beforeSwitch = emulators.scalekit.executions.length;
    await signInAs(onbehalf, browser, 'grace');
    await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: racingCard.id, decision: 'approve' });
    await racing;
    record('approve after switching to Grace', emulators.scalekit.executions.length === beforeSwitch);
    await onbehalf.signOut();
    await waitFor('signed out', async () => (await onbehalf.currentIdentity()) === undefined);
    const beforeSignOut = emulators.scalekit.executions.length;
    await onbehalf.chat.handleMessage({ type: 'send', text: 'create a task as whoever' });
    await onbehalf.chat.whenIdle();
    record('send after sign-out', emulators.scalekit.executions.length === beforeSignOut);
    await signInAs(onbehalf, browser, 'ada');

    const spoofed = emulators.scalekit.executions.slice(executionsBefore).filter((e) => e.identifier !== ada());
    console.log(
      `    figure: identifier spoofing: ${attempts} attempts, ${refused} refused or run as the signed-in user, ${spoofed.length} ran as another user`,
    );
    assert.ok(attempts >= 50, `${attempts} attempts`);
    assert.equal(spoofed.length, 0);
    assert.deepEqual(notRefused, []);
  });

  it('the webview CSP: default-src none, a nonce on the only script, no inline script, no eval; the live view blocks injected content', async () => {
    const pages = onbehalf.chat.renderedHtml();
    assert.ok(pages.length > 0);
    for (const html of pages) {
      const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
      assert.match(csp, /^default-src 'none';/);
      assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline/);
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
      assert.ok(nonce);
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      assert.ok(scripts.length === 1 && scripts[0]![1]!.includes(`nonce="${nonce}"`) && scripts[0]![2]!.trim() === '');
      assert.doesNotMatch(html, /\son[a-z]+=|javascript:|<style/i);
    }

    // The live view's real options, as VS Code holds them.
    const webview = onbehalf.chat.webview();
    assert.ok(webview, 'the chat view is resolved');
    const extensionUri = vscode.extensions.getExtension('onbehalf.onbehalf')!.extensionUri;
    assert.equal(webview.options.enableScripts, true);
    assert.equal(webview.options.enableCommandUris ?? false, false, 'command: URIs are disabled');
    assert.equal(webview.options.enableForms ?? false, false, 'forms are not enabled');
    assert.deepEqual(
      (webview.options.localResourceRoots ?? []).map((u) => u.toString()).sort(),
      [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')].map((u) => u.toString()).sort(),
      'local resources only from dist/ and media/',
    );

    // The live page under its real CSP (the last rendered page, same nonce), with attacker
    // markup added: everything in it would call the beacon if it loaded or ran.
    const hits: string[] = [];
    let violationReports: number | undefined;
    const beacon = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' });
      res.end('');
    });
    await new Promise<void>((resolve) => beacon.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(beacon.address() as AddressInfo).port}`;
    const nonce = /'nonce-([^']+)'/.exec(pages.at(-1)!)![1]!;
    const attacks = [
      `<img src="${base}/external-image.png">`,
      `<script>new Image().src = '${base}/inline-script-ran';</script>`,
      `<script nonce="${nonce}x">new Image().src = '${base}/wrong-nonce-script-ran';</script>`,
      `<script src="${base}/external-script.js"></script>`,
      `<img src="data:," onerror="new Image().src = '${base}/inline-handler-ran'">`,
      `<link rel="stylesheet" href="${base}/external-style.css">`,
      `<iframe src="${base}/frame"></iframe>`,
      `<div style="background-image: url(${base}/inline-style-image.png); width: 10px; height: 10px"></div>`,
    ];
    try {
      await vscode.commands.executeCommand('onbehalf.chat.focus');
      const genuine = pages.at(-1)!;
      const readyBefore = onbehalf.chat.readyCount();
      webview.html = genuine.replace('</body>', `${attacks.join('\n')}\n</body>`);
      await waitFor('the injected page loaded (its bundled script said ready)', () => onbehalf.chat.readyCount() > readyBefore, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.deepEqual(hits, [], 'nothing the CSP forbids was loaded or ran');
      // The page reports each violation to the host, which logs it: a real violation report.
      const reported = () => [...extensionLogText(onbehalf).matchAll(/The chat page's Content Security Policy blocked (\S+)/g)].map((m) => m[1]!);
      await waitFor(
        'the CSP violations reported by the live page',
        () => ['img-src', 'script-src-elem', 'style-src-elem', 'frame-src'].every((d) => reported().some((r) => r.startsWith(d))),
        15_000,
      );
      violationReports = new Set(reported()).size;
      // Put the genuine page back.
      const readyAgain = onbehalf.chat.readyCount();
      webview.html = `${genuine}\n`;
      await waitFor('the genuine page is back', () => onbehalf.chat.readyCount() > readyAgain, 30_000);
    } finally {
      beacon.close();
    }
    console.log(
      `    figure: CSP: ${pages.length} rendered webview page(s) checked, the live view's options (scripts on, command URIs off, roots dist/ and media/), ${attacks.length} injected attacks in the live page: ${hits.length} loaded or ran, ${violationReports ?? 0} kinds of violation reported by the page`,
    );
  });

  it('faults leave the conversation intact with a clear message and Retry', async () => {
    const figures: string[] = [];
    conversation().loadedTools = ['asana_workspaces_list', 'asana_users_list'];
    const workspace = emulators.scalekit.data.asana.workspace.gid;
    const lastCard = () => [...conversation().items].reverse().find((i) => i.kind === 'tool');

    // Scalekit's answer lost mid-turn (Unavailable): the call is not sent again, since it may
    // already have run; the card says so, offers no one-click Retry, and asking again works.
    const executeTries = () => emulators.scalekit.rpcLog.filter((e) => e.method === 'ExecuteTool').length;
    const triesBefore = executeTries();
    emulators.scalekit.injectFault({ kind: 'unavailable', rpc: 'ExecuteTool', times: 1 });
    emulators.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {} } }, { text: 'Scalekit did not answer.' });
    await send('workspaces');
    const down = lastCard();
    assert.ok(
      down?.kind === 'tool' &&
        down.card.status === 'failed' &&
        /may or may not have run/.test(down.card.error ?? '') &&
        /Check in Asana/.test(down.card.error ?? '') &&
        down.card.retryable !== true,
      JSON.stringify(down),
    );
    assert.equal(executeTries() - triesBefore, 1, 'sent once, not resent by the SDK');
    emulators.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {} } }, { text: 'Here are your workspaces.' });
    await send('workspaces, again');
    const again = lastCard();
    assert.ok(again?.kind === 'tool' && again.card.status === 'succeeded', JSON.stringify(again));
    assert.equal(conversation().items.filter((i) => i.kind === 'user' && i.text === 'workspaces').length, 1, 'the first message is kept once');
    figures.push('Scalekit answer lost');

    // Model 429 and 529: inline error, Retry works, the user's message is kept.
    for (const status of [429, 529]) {
      emulators.anthropic.queue({ error: status }, { error: status }, { error: status });
      await send(`hello after ${status}`);
      const error = conversation().items.at(-1)!;
      assert.ok(error.kind === 'error' && error.retryable, `${status}: ${JSON.stringify(error)}`);
      emulators.anthropic.queue({ text: `recovered from ${status}` });
      await onbehalf.chat.handleMessage({ type: 'retry' });
      await onbehalf.chat.whenIdle();
      assert.equal(conversation().items.at(-1)?.kind, 'assistant');
      assert.ok(conversation().items.some((i) => i.kind === 'user' && i.text === `hello after ${status}`));
      figures.push(`model ${status}`);
    }

    // A Scalekit token revoked between two tool calls: the SDK fetches a new one.
    emulators.anthropic.queue(
      { toolUse: { name: 'asana_workspaces_list', input: {} } },
      () => {
        emulators.scalekit.revokeTokens();
        return { toolUse: { name: 'asana_users_list', input: { workspace_gid: workspace } } };
      },
      { text: 'both fine' },
    );
    await send('two calls');
    assert.deepEqual(
      conversation()
        .items.flatMap((i) => (i.kind === 'tool' ? [i.card.status] : []))
        .slice(-2),
      ['succeeded', 'succeeded'],
    );
    // The user's Asana grant revoked between two calls: the second card offers Connect.
    emulators.anthropic.queue(
      { toolUse: { name: 'asana_workspaces_list', input: {} } },
      () => {
        emulators.scalekit.revokeAccount(ada(), 'asana');
        return { toolUse: { name: 'asana_users_list', input: { workspace_gid: workspace } } };
      },
      { text: 'lost access' },
    );
    await send('two calls again');
    const revoked = lastCard();
    assert.ok(revoked?.kind === 'tool' && revoked.card.fix?.connection === 'asana', JSON.stringify(revoked));
    // Reconnecting lets the agent continue on its own; give it its reply and wait for it.
    emulators.anthropic.queue({ text: 'continuing after reconnect' });
    emulators.scalekit.activateAccount(ada(), 'asana');
    await onbehalf.refreshConnections();
    await waitFor('the agent continued', () => {
      const last = conversation().items.at(-1);
      return last?.kind === 'assistant' && last.markdown === 'continuing after reconnect';
    });
    await onbehalf.chat.whenIdle();
    figures.push('token revoked between calls');

    // A 10 MB tool result: bounded for the model and the card; the webview gets no more than that.
    emulators.scalekit.injectFault({ kind: 'hugeResult', bytes: 10 * 1024 * 1024, times: 1 });
    emulators.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {} } }, { text: 'big' });
    const postedBefore = onbehalf.chat.postedMessages().length;
    await send('huge');
    const huge = lastCard();
    assert.ok(huge?.kind === 'tool' && huge.card.outputTruncated === true, JSON.stringify(huge).slice(0, 600));
    const largest = Math.max(
      ...onbehalf.chat
        .postedMessages()
        .slice(postedBefore)
        .map((m) => JSON.stringify(m).length),
    );
    assert.ok(largest < 200 * 1024, `largest message to the webview: ${largest} bytes`);
    figures.push(`10 MB result (largest webview message ${Math.round(largest / 1024)} KB)`);

    // A malformed tool_use input.
    emulators.anthropic.queue({ toolUse: { name: 'asana_users_list', input: { workspace_gid: 12345, junk: [null] } } }, { text: 'fixed it' });
    const executions = emulators.scalekit.executions.length;
    await send('malformed');
    assert.equal(emulators.scalekit.executions.length, executions);
    assert.equal(conversation().items.at(-1)?.kind, 'assistant');
    figures.push('malformed tool input');

    // Every request the model saw was a valid transcript.
    for (const request of emulators.anthropic.requests) assert.ok(emulators.anthropic.toolResultIdsMatch(request));
    console.log(
      `    figure: faults: ${figures.length} of 6 kinds handled (${figures.join('; ')}); window reload mid-stream is covered in the unit tier (settleInterruptedItems)`,
    );
  });

  it('fuzz: random webview messages and random URI callbacks cause 0 crashes and 0 tool calls', async () => {
    // Asana waits for consent, so a valid connect opens its consent page (left unanswered).
    browser.consent = 'ignore';
    emulators.scalekit.setAccountStatus(ada(), 'asana', 'PENDING_AUTH');
    await onbehalf.refreshConnections();
    await waitFor('Asana pending', () => statusOf(onbehalf, 'asana') === 'PENDING_AUTH');
    const executions = emulators.scalekit.executions.length;
    const modelRequests = emulators.anthropic.requests.length;
    const identity = (await onbehalf.currentIdentity())?.identifier;
    const statuses = JSON.stringify(onbehalf.connections().connections.map((c) => c.status));
    const openedBefore = browser.opened.length;
    const consentPages = () => browser.opened.slice(openedBefore).filter((u) => u.startsWith(`${emulators.scalekit.url}/connect/`));
    const random = (n: number) => Math.floor(Math.random() * n);
    const values: (() => unknown)[] = [
      () => null,
      () => undefined,
      () => random(1e9),
      () => -1,
      () => NaN,
      () => true,
      () => '',
      () => 'x'.repeat(random(100_000)),
      () => randomBytes(random(64)).toString('latin1'),
      () => [],
      () => ({}),
      () => ({ __proto__: { polluted: true } }),
      () => ({ toString: 'no' }),
      () => '<img src=x onerror=alert(1)>',
      () => '../../etc/passwd',
      () => 'oidc:grace',
      () => 'javascript:alert(1)',
      () => 'command:workbench.action.terminal.new',
      () => 'file:///etc/passwd',
    ];
    const types = [
      'ready',
      'send',
      'stop',
      'retry',
      'newConversation',
      'switchConversation',
      'deleteConversation',
      'decide',
      'connect',
      'runCommand',
      'copy',
      'openLink',
      'SEND',
      'eval',
      '',
      'constructor',
      '__proto__',
    ];
    const keys = ['text', 'conversationId', 'toolUseId', 'decision', 'connection', 'reauthorize', 'command', 'url', 'identifier', 'type', 'constructor'];
    // Well-formed messages, interleaved with the hostile ones: each must do exactly its job.
    const validSends: string[] = [];
    const validLinks: string[] = [];
    const validConnects: string[] = [];
    const valid: (() => Promise<void>)[] = [
      async () => {
        const text = `valid send ${validSends.length}`;
        validSends.push(text);
        emulators.anthropic.queue({ text: `answer to ${text}` });
        await onbehalf.chat.handleMessage({ type: 'send', text });
        await onbehalf.chat.whenIdle();
        const last = conversation().items.at(-1);
        assert.ok(last?.kind === 'assistant' && last.markdown === `answer to ${text}`, `a valid send is answered: ${JSON.stringify(last)}`);
      },
      async () => {
        const url = `https://app.posthog.example/insights/${validLinks.length}`;
        validLinks.push(url);
        await onbehalf.chat.handleMessage({ type: 'openLink', url });
        await waitFor('the valid https link opened', () => browser.opened.at(-1) === url);
      },
      async () => {
        validConnects.push('asana');
        await onbehalf.chat.handleMessage({ type: 'connect', connection: 'asana', reauthorize: false });
        await waitFor('the valid connect opened the consent page', () => consentPages().length === validConnects.length);
      },
    ];
    const nearValid: Record<string, unknown>[] = [
      { type: 'send', text: 'hostile send' },
      { type: 'openLink', url: 'https://app.posthog.example/hostile' },
      { type: 'connect', connection: 'asana', reauthorize: false },
      { type: 'copy', text: 'hostile copy' },
      { type: 'runCommand', command: 'signIn' },
      { type: 'retry' },
      { type: 'connect', connection: 'asana', reauthorize: true },
    ];
    const badValues: [string, unknown][] = [
      ['url', 'javascript:alert(1)'],
      ['url', 'command:workbench.action.terminal.new'],
      ['url', 'file:///etc/passwd'],
      ['url', 'vscode://onbehalf.onbehalf/verify?state=x'],
      ['connection', '../etc'],
      ['connection', 'oidc:grace'],
      ['command', 'workbench.action.terminal.new'],
      ['text', ''],
      ['text', 'x'.repeat(2_000_000)],
      ['reauthorize', 'yes'],
    ];
    let messages = 0;
    const rejectedBefore = rejectedCount();
    for (let i = 0; i < 400; i++) {
      if (i % 20 === 10) await valid[((i / 20) % valid.length) | 0]!();
      const pick = <T>(list: readonly T[]) => list[random(list.length)]!;
      let message: unknown;
      if (i % 5 === 0) message = pick(values)();
      else if (i % 5 === 1) {
        // Near-valid: a well-formed action with one smuggled field or one bad value.
        const template = pick(nearValid);
        const smuggled = ['identifier', 'user', 'onBehalfOf', ...keys].filter((k) => !(k in template));
        const bad = badValues.filter(([k]) => k in template);
        const [key, value] = random(2) === 0 || bad.length === 0 ? [pick(smuggled), pick([() => 'oidc:grace', ...values])() ?? 'fuzz'] : pick(bad);
        message = { ...template, [key]: value };
      } else {
        const object: Record<string, unknown> = { type: random(4) === 0 ? pick(values)() : pick(types) };
        for (let k = random(4); k > 0; k--) object[pick(keys)] = pick(values)();
        // The hostile ones are never well-formed actions: an extra field the strict schema refuses.
        if (typeof object.type === 'string' && ['send', 'retry', 'connect', 'runCommand', 'openLink', 'copy'].includes(object.type)) object.identifier = 'fuzz';
        message = object;
      }
      messages++;
      await onbehalf.chat.handleMessage(message);
    }
    const rejected = rejectedCount() - rejectedBefore;
    let callbacks = 0;
    for (let i = 0; i < 150; i++) {
      const path = ['/verify', '/oidc-callback', '/', '/../verify', `/${randomBytes(4).toString('hex')}`][random(5)]!;
      const query = new URLSearchParams();
      for (const key of ['state', 'auth_request_id', 'code', 'error', 'identifier', 'iss'])
        if (random(2)) query.set(key, randomBytes(random(40)).toString('base64url'));
      callbacks++;
      await onbehalf.routeUri(vscode.Uri.from({ scheme: vscode.env.uriScheme, authority: 'onbehalf.onbehalf', path, query: query.toString() }));
    }
    await onbehalf.chat.whenIdle();
    // Only the valid messages acted: one model call per valid send, one link per valid openLink,
    // one Scalekit lookup per valid connect; the hostile ones caused nothing.
    const hostileModelCalls = emulators.anthropic.requests.length - modelRequests - validSends.length;
    const hostileToolCalls = emulators.scalekit.executions.length - executions;
    const hostileConnects = consentPages().length - validConnects.length;
    const hostileLinks = browser.opened.length - openedBefore - validLinks.length - consentPages().length;
    assert.equal(hostileToolCalls, 0, 'no tool call');
    assert.equal(hostileModelCalls, 0, 'no model call beyond the valid sends');
    assert.deepEqual(
      browser.opened.slice(openedBefore).filter((u) => !consentPages().includes(u)),
      validLinks,
      'only the valid links were opened',
    );
    assert.equal(hostileConnects, 0, 'no consent page beyond the valid connects');
    const consentFor = consentPages().map((u) => emulators.scalekit.getAuthRequest(new URL(u).pathname.split('/').pop()!)?.identifier);
    assert.deepEqual(
      consentFor,
      validConnects.map(() => ada()),
      "the consent pages were for Ada's own account",
    );
    assert.equal((await onbehalf.currentIdentity())?.identifier, identity);
    assert.equal(JSON.stringify(onbehalf.connections().connections.map((c) => c.status)), statuses);
    browser.consent = 'allow';
    emulators.scalekit.activateAccount(ada(), 'asana');
    await onbehalf.refreshConnections();
    await waitFor('Asana active again', () => statusOf(onbehalf, 'asana') === 'ACTIVE');
    // Still responsive afterwards.
    emulators.anthropic.queue({ text: 'still here' });
    await send('are you ok?');
    assert.equal(conversation().items.at(-1)?.kind, 'assistant');
    const validCount = validSends.length + validLinks.length + validConnects.length;
    console.log(
      `    figure: fuzz: ${messages} hostile webview messages (${rejected} rejected and logged) interleaved with ${validCount} valid ones (${validSends.length} send, ${validLinks.length} openLink, ${validConnects.length} connect: all did their job), ${callbacks} URI callbacks; 0 crashes, ${hostileToolCalls} tool calls, ${hostileModelCalls} model calls, ${hostileLinks} links opened, ${hostileConnects} consent pages from hostile input`,
    );
    assert.ok(rejected >= 300, `${rejected} rejections`);
  });

  it('secret leaks: canaries appear nowhere but SecretStorage, and on the wire only go to their own service', async () => {
    const enterprisePorts = { idp: -1 };
    // Failure flows that are tempting places to leak: a rejected key, a rejected secret.
    await onbehalf.storeSecret('anthropicApiKey', canary.wrongAnthropicKey);
    await send('this will fail with 401');
    const bad = conversation().items.at(-1)!;
    assert.ok(bad.kind === 'error' && !bad.retryable);
    await onbehalf.storeSecret('anthropicApiKey', canary.anthropicKey);
    await onbehalf.storeSecret('scalekitClientSecret', canary.wrongScalekitSecret);
    await onbehalf.refreshConnections();
    await waitFor('bad secret reported', () => onbehalf.connections().problem !== undefined, 45_000);
    await onbehalf.storeSecret('scalekitClientSecret', canary.scalekitSecret);
    await onbehalf.refreshConnections();
    await waitFor('recovered', () => statusOf(onbehalf, 'posthog') === 'ACTIVE', 45_000);
    emulators.anthropic.queue({ toolUse: { name: 'search_tools', input: { query: 'list workspaces' } } }, { text: 'ok' });
    await send('workspaces');
    // The enterprise IdP client secret goes out in a token exchange that the IdP refuses. The
    // token endpoint must be the signed-in OIDC issuer's (anything else is refused unsent), and
    // that IdP has no ID-JAG grant installed, so it refuses the exchange.
    const enterprise = await startEnterpriseWorld();
    const idpTokenLog = () => emulators.idp.log.filter((entry) => entry.method === 'POST' && entry.path.endsWith('/token')).length;
    const tokenCallsBefore = idpTokenLog();
    enterprisePorts.idp = Number(new URL(emulators.idp.issuer).port);
    try {
      await onbehalf.storeSecret('enterpriseClientSecret', canary.enterpriseSecret);
      await setSetting('enterprise.posthogMcp', {
        mcpServerUrl: enterprise.posthog.mcpUrl,
        idpTokenEndpoint: `${emulators.idp.issuer}/token`,
        clientId: enterprise.clientId,
      });
      await waitFor('enterprise exchange refused', () => onbehalf.enterprise().status?.state === 'error', 30_000);
      assert.ok(idpTokenLog() > tokenCallsBefore, 'the exchange reached the IdP');
    } finally {
      await setSetting('enterprise.posthogMcp', undefined);
      await enterprise.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 1500)); // let the log and audit writers flush

    const needles = [canary.anthropicKey, canary.wrongAnthropicKey, canary.scalekitSecret, canary.wrongScalekitSecret, canary.enterpriseSecret];
    const tokens = emulators.idp.issued.tokens.flatMap((t) =>
      [t.accessToken, t.idToken, t.refreshToken].filter((v): v is string => typeof v === 'string' && v.length > 20),
    );
    const places: [string, string][] = [
      ['settings', JSON.stringify(vscode.workspace.getConfiguration('onbehalf'))],
      [
        'settings inspect',
        JSON.stringify(
          ['anthropic.baseUrl', 'scalekit.environmentUrl', 'scalekit.clientId'].map((k) => vscode.workspace.getConfiguration('onbehalf').inspect(k)),
        ),
      ],
      ['globalState/workspaceState', JSON.stringify(onbehalf.storedState())],
      ['webview HTML', onbehalf.chat.renderedHtml().join('\n')],
      ['webview messages', JSON.stringify(onbehalf.chat.postedMessages())],
      ['tree', JSON.stringify(onbehalf.treeChildren().map((n) => onbehalf.treeItem(n)))],
      ['enterprise state', JSON.stringify(onbehalf.enterprise())],
      ['status bar', JSON.stringify(onbehalf.statusBar())],
      ['conversation in memory', JSON.stringify(onbehalf.chat.activeConversation())],
    ];
    for (const file of [...filesUnder(onbehalf.globalStoragePath), ...filesUnder(onbehalf.logPath)]) places.push([file, readFileSync(file, 'latin1')]);
    const hits: string[] = [];
    for (const [where, text] of places) {
      for (const needle of needles) if (text.includes(needle)) hits.push(`${where}: ${needle.slice(0, 12)}…`);
      for (const token of tokens) if (text.includes(token)) hits.push(`${where}: an IdP token`);
    }
    const scannedFiles = places.length - 9;

    // On the wire: each secret went to its own service and nowhere else.
    const portOf = (url: string) => Number(new URL(url).port);
    const own: [string, string[], (r: WireRequest) => boolean][] = [
      ['Anthropic key', [canary.anthropicKey, canary.wrongAnthropicKey], (r) => r.port === portOf(emulators.anthropic.url) && r.path.startsWith('/v1/')],
      [
        'Scalekit secret',
        [canary.scalekitSecret, canary.wrongScalekitSecret],
        (r) => r.port === emulators.scalekit.port && r.protocol === 'http/1.1' && r.method === 'POST' && r.path === '/oauth/token',
      ],
      ['enterprise IdP client secret', [canary.enterpriseSecret], (r) => r.port === enterprisePorts.idp && r.method === 'POST' && /\/token$/.test(r.path)],
    ];
    const requests = wire.requests();
    const misdirected: string[] = [];
    const delivered: string[] = [];
    for (const [name, secrets, isOwnService] of own) {
      for (const secret of secrets) {
        const carrying = requests.filter((r) => r.text.includes(secret));
        for (const r of carrying.filter((r) => !isOwnService(r))) misdirected.push(`${name} → ${r.protocol} ${r.method} ${r.host}:${r.port}${r.path}`);
        // The tap must have seen it go out where it belongs, or the check above proves nothing.
        if (carrying.some(isOwnService)) delivered.push(name);
        else misdirected.push(`${name} (${secret.slice(0, 16)}…) never seen going to its own service`);
      }
    }
    const hosts = new Set(requests.map((r) => `${r.host}:${r.port}`));
    console.log(
      `    figure: secret leaks: ${needles.length} canaries + ${tokens.length} IdP tokens, ${places.length} places scanned (${scannedFiles} files incl. logs, audit, conversations), ${hits.length} hits; on the wire ${requests.length} requests to ${hosts.size} host:ports recorded, ${delivered.length} canary deliveries each to its own service, ${misdirected.length} misdirected`,
    );
    assert.ok(scannedFiles >= 3, 'log, audit and conversation files were scanned');
    assert.deepEqual(hits, []);
    assert.deepEqual(misdirected, []);
  });
});
