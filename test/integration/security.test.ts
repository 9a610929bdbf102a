// Issue 5's security and reliability suites, in the real extension host. Each suite
// prints its figure; the README's security section reports them.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { OnBehalfTestApi } from '../../src/vscode/testApi';
import { startScalekitEmulator } from '../emulators/scalekit/server';
import { startAnthropicEmulator } from '../emulators/anthropic/server';
import { startEnterpriseWorld } from '../emulators/posthog-mcp/harness';
import { type Browser, type Emulators, filesUnder, handlerUriFromCallback, oidcIdentifier, setSetting, signInAs, statusOf, useSignedInWorld, waitFor } from './support';

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
      { type: 'ready' }, { type: 'send', text: 'hello' }, { type: 'stop' }, { type: 'retry' }, { type: 'newConversation' },
      { type: 'switchConversation', conversationId: 'c1' }, { type: 'deleteConversation', conversationId: 'c1' },
      { type: 'decide', toolUseId: 't1', decision: 'approve' }, { type: 'connect', connection: 'asana', reauthorize: false },
      { type: 'runCommand', command: 'signIn' }, { type: 'copy', text: 'x' }, { type: 'openLink', url: 'https://example.com' },
    ];
    const fields: Record<string, unknown>[] = [{ identifier: grace() }, { user: 'grace' }, { userId: 'grace' }, { account: { id: 'grace' } }, { onBehalfOf: grace() }];
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
      await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: card.id, decision: 'approve' });
      await pending;
      const execution = emulators.scalekit.executions.at(-1)!;
      record(`tool input ${input.name}`, execution.identifier === ada());
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
    // Forged OIDC callbacks do not sign anyone in.
    for (const query of ['code=stolen&state=forged', 'code=x', 'error=access_denied&state=y', 'id_token=forged&state=z']) {
      await onbehalf.routeUri(vscode.Uri.parse(`${vscode.env.uriScheme}://onbehalf.onbehalf/oidc-callback?${query}`));
      record(`oidc callback ${query}`, (await onbehalf.currentIdentity())?.identifier === ada());
    }

    // 4. Settings values.
    const config = vscode.workspace.getConfiguration('onbehalf');
    for (const [key, value] of [['identifier', grace()], ['user', 'grace'], ['identity.account', 'grace']] as const) {
      await config.update(key, value, vscode.ConfigurationTarget.Global).then(undefined, () => undefined);
      record(`setting ${key}`, (await onbehalf.currentIdentity())?.identifier === ada());
      await config.update(key, undefined, vscode.ConfigurationTarget.Global).then(undefined, () => undefined);
    }
    for (const key of ['scalekit.environmentUrl', 'anthropic.baseUrl', 'identity.provider', 'oidc.issuer']) {
      // Application-scoped: a workspace cannot set them.
      const wrote = await config.update(key, 'http://attacker.invalid', vscode.ConfigurationTarget.Workspace).then(() => true, () => false);
      const effective = vscode.workspace.getConfiguration('onbehalf').get<string>(key);
      record(`workspace setting ${key}`, !wrote || effective !== 'http://attacker.invalid');
      await config.update(key, undefined, vscode.ConfigurationTarget.Workspace).then(undefined, () => undefined);
    }

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
    console.log(`    figure: identifier spoofing: ${attempts} attempts, ${refused} refused or run as the signed-in user, ${spoofed.length} ran as another user`);
    assert.ok(attempts >= 50, `${attempts} attempts`);
    assert.equal(spoofed.length, 0);
    assert.deepEqual(notRefused, []);
  });

  it('the webview CSP: default-src none, a nonce on the only script, no inline script, no eval', () => {
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
    console.log(`    figure: CSP: ${pages.length} rendered webview page(s) checked, 0 violations`);
  });

  it('faults leave the conversation intact with a clear message and Retry', async () => {
    const figures: string[] = [];
    conversation().loadedTools = ['asana_workspaces_list', 'asana_users_list'];
    const workspace = emulators.scalekit.data.asana.workspace.gid;
    const lastCard = () => [...conversation().items].reverse().find((i) => i.kind === 'tool');

    // Scalekit unavailable mid-turn.
    emulators.scalekit.injectFault({ kind: 'unavailable', rpc: 'ExecuteTool', times: 4 });
    emulators.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {} } }, { text: 'Scalekit is down.' });
    await send('workspaces');
    const down = lastCard();
    assert.ok(down?.kind === 'tool' && down.card.status === 'failed' && /unreachable/i.test(down.card.error ?? '') && down.card.retryable === true, JSON.stringify(down));
    // Retry answers the same message again once Scalekit is back; the message is kept, the failed try is replaced.
    emulators.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {} } }, { text: 'Here are your workspaces.' });
    await onbehalf.chat.handleMessage({ type: 'retry' });
    await onbehalf.chat.whenIdle();
    const retried = lastCard();
    assert.ok(retried?.kind === 'tool' && retried.card.status === 'succeeded', JSON.stringify(retried));
    assert.equal(conversation().items.filter((i) => i.kind === 'user' && i.text === 'workspaces').length, 1, 'the message is kept once');
    assert.ok(!conversation().items.some((i) => i.kind === 'tool' && i.card.status === 'failed' && i.card.toolName === 'asana_workspaces_list'), 'the failed try is gone');
    figures.push('Scalekit unavailable');

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
    assert.deepEqual(conversation().items.flatMap((i) => (i.kind === 'tool' ? [i.card.status] : [])).slice(-2), ['succeeded', 'succeeded']);
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
    assert.ok(huge?.kind === "tool" && huge.card.outputTruncated === true, JSON.stringify(huge).slice(0, 600));
    const largest = Math.max(...onbehalf.chat.postedMessages().slice(postedBefore).map((m) => JSON.stringify(m).length));
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
    console.log(`    figure: faults: ${figures.length} of 6 kinds handled (${figures.join('; ')}); window reload mid-stream is covered in the unit tier (settleInterruptedItems)`);
  });

  it('fuzz: random webview messages and random URI callbacks cause 0 crashes and 0 tool calls', async () => {
    const executions = emulators.scalekit.executions.length;
    const modelRequests = emulators.anthropic.requests.length;
    const identity = (await onbehalf.currentIdentity())?.identifier;
    const statuses = JSON.stringify(onbehalf.connections().connections.map((c) => c.status));
    const random = (n: number) => Math.floor(Math.random() * n);
    const values: (() => unknown)[] = [
      () => null, () => undefined, () => random(1e9), () => -1, () => NaN, () => true, () => '', () => 'x'.repeat(random(100_000)),
      () => randomBytes(random(64)).toString('latin1'), () => [], () => ({}), () => ({ __proto__: { polluted: true } }),
      () => ({ toString: 'no' }), () => '<img src=x onerror=alert(1)>', () => '../../etc/passwd', () => grace(),
    ];
    const types = ['ready', 'send', 'stop', 'retry', 'newConversation', 'switchConversation', 'deleteConversation', 'decide', 'connect', 'runCommand', 'copy', 'openLink', 'SEND', 'eval', '', 'constructor', '__proto__'];
    const keys = ['text', 'conversationId', 'toolUseId', 'decision', 'connection', 'reauthorize', 'command', 'url', 'identifier', 'type', 'constructor'];
    let messages = 0;
    const rejectedBefore = rejectedCount();
    for (let i = 0; i < 400; i++) {
      const pick = <T>(list: readonly T[]) => list[random(list.length)]!;
      let message: unknown;
      if (i % 5 === 0) message = pick(values)();
      else {
        const object: Record<string, unknown> = { type: random(4) === 0 ? pick(values)() : pick(types) };
        for (let k = random(4); k > 0; k--) object[pick(keys)] = pick(values)();
        // Never let the fuzzer send a well-formed "send"/"retry"/"connect"/"runCommand"/"openLink": those are real actions.
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
      for (const key of ['state', 'auth_request_id', 'code', 'error', 'identifier', 'iss']) if (random(2)) query.set(key, randomBytes(random(40)).toString('base64url'));
      callbacks++;
      await onbehalf.routeUri(vscode.Uri.from({ scheme: vscode.env.uriScheme, authority: 'onbehalf.onbehalf', path, query: query.toString() }));
    }
    await onbehalf.chat.whenIdle();
    assert.equal(emulators.scalekit.executions.length, executions, 'no tool call');
    assert.equal(emulators.anthropic.requests.length, modelRequests, 'no model call');
    assert.equal((await onbehalf.currentIdentity())?.identifier, identity);
    assert.equal(JSON.stringify(onbehalf.connections().connections.map((c) => c.status)), statuses);
    // Still responsive afterwards.
    emulators.anthropic.queue({ text: 'still here' });
    await send('are you ok?');
    assert.equal(conversation().items.at(-1)?.kind, 'assistant');
    console.log(`    figure: fuzz: ${messages} webview messages (${rejected} rejected and logged), ${callbacks} URI callbacks; 0 crashes, 0 tool calls, 0 model calls`);
    assert.ok(rejected >= 300, `${rejected} rejections`);
  });

  it('secret leaks: canaries appear nowhere but SecretStorage, even after failures', async () => {
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
    // The enterprise IdP client secret goes out in a token exchange that the enterprise IdP refuses.
    const enterprise = await startEnterpriseWorld();
    try {
      await onbehalf.storeSecret('enterpriseClientSecret', canary.enterpriseSecret);
      await setSetting('enterprise.posthogMcp', { mcpServerUrl: enterprise.posthog.mcpUrl, idpTokenEndpoint: `${enterprise.idp.issuer}/token`, clientId: enterprise.clientId });
      await waitFor('enterprise exchange refused', () => onbehalf.enterprise().status?.state === 'error', 30_000);
      assert.ok(enterprise.idp.log.some((entry) => entry.method === 'POST' && entry.path.endsWith('/token')), 'the exchange reached the enterprise IdP');
    } finally {
      await setSetting('enterprise.posthogMcp', undefined);
      await enterprise.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 1500)); // let the log and audit writers flush

    const needles = [canary.anthropicKey, canary.wrongAnthropicKey, canary.scalekitSecret, canary.wrongScalekitSecret, canary.enterpriseSecret];
    const tokens = emulators.idp.issued.tokens.flatMap((t) => [t.accessToken, t.idToken, t.refreshToken].filter((v): v is string => typeof v === 'string' && v.length > 20));
    const places: [string, string][] = [
      ['settings', JSON.stringify(vscode.workspace.getConfiguration('onbehalf'))],
      ['settings inspect', JSON.stringify(['anthropic.baseUrl', 'scalekit.environmentUrl', 'scalekit.clientId'].map((k) => vscode.workspace.getConfiguration('onbehalf').inspect(k)))],
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
    console.log(`    figure: secret leaks: ${needles.length} canaries + ${tokens.length} IdP tokens, ${places.length} places scanned (${scannedFiles} files incl. logs, audit, conversations), ${hits.length} hits`);
    assert.ok(scannedFiles >= 3, 'log, audit and conversation files were scanned');
    assert.deepEqual(hits, []);
  });
});
