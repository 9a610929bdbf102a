// Team mode end to end in the real extension host: Ada and Grace through ONE real OnBehalf
// gateway (src/gateway, in its own process on PGlite) in front of the Scalekit emulator, with
// identity from the IdP emulator. The organisation's Scalekit secret is a canary that only
// the gateway is given; the extension never holds it.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { openDatabase } from '../../src/gateway/database';
import type { OnBehalfTestApi } from '../../src/vscode/testApi';
import { startAnthropicEmulator } from '../emulators/anthropic/server';
import { startIdpEmulator } from '../emulators/idp/server';
import { startScalekitEmulator } from '../emulators/scalekit/server';
import { spawnGateway, type GatewayProcess } from './gatewayProcess';
import {
  api,
  connectThroughConsent,
  extensionLogText,
  filesUnder,
  installBrowser,
  oidcIdentifier,
  resetSettings,
  setSetting,
  signInAs,
  statusOf,
  stopEmulators,
  tapWire,
  waitFor,
  type Browser,
  type Emulators,
  type WireTap,
} from './support';

const canary = 'sk-scalekit-TEAM-CANARY-4d1f0c9e7b2a';
const anthropicKey = 'sk-ant-team-mode';
/** The organisation's Anthropic key, held by the gateway for its model relay. */
const orgAnthropicKey = 'sk-ant-ORG-RELAY-7c2e';

describe('team mode: Ada and Grace through one real gateway', function () {
  this.timeout(180_000);
  let onbehalf: OnBehalfTestApi;
  let emulators: Emulators;
  let gateway: GatewayProcess;
  let browser: Browser;
  let wire: WireTap;
  let workDir = '';
  const ada = () => oidcIdentifier('ada');
  const grace = () => oidcIdentifier('grace');
  const conversation = () => onbehalf.chat.activeConversation()!;

  /** Sends a message whose scripted reply calls `tool`; answers the approval card if one appears. */
  async function callTool(
    tool: string,
    input: Record<string, unknown>,
    answer?: 'approve' | 'deny',
  ): Promise<{ asked: boolean; canAlwaysAllow?: boolean; status: string }> {
    const id = `toolu_${Math.random().toString(36).slice(2)}`;
    emulators.anthropic.queue({ toolUse: { name: tool, input, id } }, { text: 'done' });
    const pending = onbehalf.chat.handleMessage({ type: 'send', text: `please run ${tool}` });
    const card = () => {
      const item = conversation().items.find((i) => i.kind === 'tool' && i.id === id);
      return item && item.kind === 'tool' ? item.card : undefined;
    };
    const asked = await waitFor(`card of ${tool}`, () => {
      const status = card()?.status;
      if (status === 'awaitingApproval') return 'asked';
      if (status !== undefined && status !== 'running') return 'ran';
      return undefined;
    });
    const canAlwaysAllow = card()?.canAlwaysAllow;
    if (asked === 'asked') await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: id, decision: answer ?? 'deny' });
    await pending;
    await onbehalf.chat.whenIdle();
    return { asked: asked === 'asked', ...(canAlwaysAllow === undefined ? {} : { canAlwaysAllow }), status: card()?.status ?? 'missing' };
  }

  async function newChat(): Promise<void> {
    await onbehalf.chat.handleMessage({ type: 'newConversation' });
    conversation().loadedTools = ['asana_workspaces_list', 'asana_task_create'];
  }

  /** tools/call requests this window sent to the gateway's MCP endpoint. */
  const toolCallsSent = () => wire.requests().filter((r) => r.method === 'POST' && r.path === '/mcp' && r.text.includes('"method":"tools/call"'));

  before(async () => {
    onbehalf = await api();
    workDir = mkdtempSync(join(tmpdir(), 'onbehalf-team-'));
    const [scalekit, anthropic, idp] = await Promise.all([
      startScalekitEmulator({ clientSecret: canary }),
      startAnthropicEmulator({ apiKeys: [anthropicKey, orgAnthropicKey] }),
      startIdpEmulator(),
    ]);
    emulators = { scalekit, anthropic, idp };
    // The organisation asks every time for one write tool: the card must not offer "Always allow".
    gateway = await spawnGateway({
      scalekit,
      idp,
      dataDir: workDir,
      policy: { connections: { asana: { tools: { asana_task_create: 'ask' } } } },
      relay: { apiKey: orgAnthropicKey, baseUrl: anthropic.url },
    });
    wire = tapWire();
    const target = vscode.ConfigurationTarget.Global;
    const config = vscode.workspace.getConfiguration('onbehalf');
    await config.update('identity.provider', 'oidc', target);
    await config.update('oidc.issuer', idp.issuer, target);
    await config.update('oidc.clientId', idp.clientId, target);
    await config.update('anthropic.baseUrl', anthropic.url, target);
    // No Scalekit settings at all: team mode needs none.
    await config.update('scalekit.environmentUrl', undefined, target);
    await config.update('scalekit.clientId', undefined, target);
    await config.update('connections', undefined, target);
    browser = installBrowser(onbehalf);
    await onbehalf.storeSecret('anthropicApiKey', anthropicKey);
    // A secret left over from direct mode: team mode must remove it (the canary test scans SecretStorage).
    await onbehalf.storeSecret('scalekitClientSecret', canary);
    await setSetting('gateway.url', gateway.url);
  });

  after(async () => {
    wire?.dispose();
    await onbehalf?.signOut();
    onbehalf?.setExternalOpener(undefined);
    await resetSettings();
    await gateway?.close();
    await stopEmulators(emulators);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('Ada and Grace each connect, verify, read and write through the gateway, and see only their own connections and audit rows', async () => {
    const host = new URL(gateway.url).host;
    await signInAs(onbehalf, browser, 'ada');
    assert.equal(onbehalf.connections().problem, undefined, onbehalf.connections().problem?.message);
    assert.equal(onbehalf.connections().gateway?.host, host);
    const gatewayRow = onbehalf.treeChildren().find((n) => n.kind === 'gateway');
    assert.ok(gatewayRow, 'the tree names the gateway');
    assert.equal(onbehalf.treeItem(gatewayRow).label, `Team gateway: ${host}`);
    assert.deepEqual(
      onbehalf.connections().connections.map((c) => c.name),
      ['posthog', 'asana'],
      "the gateway's connections, with no onbehalf.connections setting",
    );

    await connectThroughConsent(onbehalf, browser, 'posthog');
    await connectThroughConsent(onbehalf, browser, 'asana');
    assert.equal(emulators.scalekit.getAccount(ada(), 'asana')?.status, 'ACTIVE');
    assert.match(onbehalf.statusBar().text, /OnBehalf \(team\)/);
    await vscode.commands.executeCommand('onbehalf.chat.focus');
    await waitFor('chat view rendered', () => onbehalf.chat.renderedHtml().length > 0);

    const workspace = emulators.scalekit.data.asana.workspace.gid;
    await newChat();
    assert.deepEqual(await callTool('asana_workspaces_list', {}), { asked: false, status: 'succeeded' });
    // The organisation's "ask": asked, with no "Always allow".
    assert.deepEqual(await callTool('asana_task_create', { name: 'Ada via the gateway', workspace_gid: workspace }, 'approve'), {
      asked: true,
      canAlwaysAllow: false,
      status: 'succeeded',
    });
    assert.ok([...emulators.scalekit.data.asana.tasks.values()].some((t) => t.name === 'Ada via the gateway'));
    const adaRows = await onbehalf.shownAuditRecords();
    assert.deepEqual(
      adaRows.map((r) => [r.identifier, r.tool, r.decision, r.outcome]),
      [
        [ada(), 'asana_workspaces_list', 'auto', 'success'],
        [ada(), 'asana_task_create', 'user-approved', 'success'],
      ],
    );

    await onbehalf.signOut();
    await signInAs(onbehalf, browser, 'grace');
    assert.equal(onbehalf.connections().problem, undefined, onbehalf.connections().problem?.message);
    assert.deepEqual(
      onbehalf.connections().connections.map((c) => [c.name, c.status]),
      [
        ['posthog', 'NOT_CONNECTED'],
        ['asana', 'NOT_CONNECTED'],
      ],
      "none of Ada's connections",
    );
    assert.deepEqual(await onbehalf.shownAuditRecords(), [], "none of Ada's audit rows");
    await connectThroughConsent(onbehalf, browser, 'asana');
    await newChat();
    assert.deepEqual(await callTool('asana_workspaces_list', {}), { asked: false, status: 'succeeded' });
    assert.deepEqual(await callTool('asana_task_create', { name: 'Grace via the gateway', workspace_gid: workspace }, 'approve'), {
      asked: true,
      canAlwaysAllow: false,
      status: 'succeeded',
    });
    const graceRows = await onbehalf.shownAuditRecords();
    assert.deepEqual(
      graceRows.map((r) => [r.identifier, r.tool, r.outcome]),
      [
        [grace(), 'asana_workspaces_list', 'success'],
        [grace(), 'asana_task_create', 'success'],
      ],
    );
    // Scalekit ran each call as the person who made it.
    assert.deepEqual(
      emulators.scalekit.executions.map((e) => [e.identifier, e.toolName, e.ok]),
      [
        [ada(), 'asana_workspaces_list', true],
        [ada(), 'asana_task_create', true],
        [grace(), 'asana_workspaces_list', true],
        [grace(), 'asana_task_create', true],
      ],
    );
    assert.equal(statusOf(onbehalf, 'posthog'), 'NOT_CONNECTED');
  });

  it("a URI carrying an identifier or someone else's state cannot verify as another user; the attempt reaches the gateway's verify", async () => {
    // Grace starts connecting PostHog and consents, but her redirect never arrives.
    if ((await onbehalf.currentIdentity())?.identifier !== grace()) {
      await onbehalf.signOut();
      await signInAs(onbehalf, browser, 'grace');
    }
    browser.consent = 'ignore';
    const opened = browser.opened.length;
    await vscode.commands.executeCommand('onbehalf.connect', 'posthog');
    const link = await waitFor('consent link opened', () => browser.opened.slice(opened).find((u) => u.includes('/connect/')));
    const graceRequest = /\/connect\/([A-Za-z0-9_-]+)/.exec(link)![1]!;
    const graceState = emulators.scalekit.getAuthRequest(graceRequest)?.state;
    assert.ok(graceState, "the gateway's state went to Scalekit");
    emulators.scalekit.decideConsent(graceRequest, 'allow');
    assert.equal(emulators.scalekit.getAuthRequest(graceRequest)?.phase, 'approved');

    await onbehalf.signOut();
    await signInAs(onbehalf, browser, 'ada');
    const verifies = () => wire.requests().filter((r) => r.method === 'POST' && r.path === '/v1/connections/verify').length;
    const verifyRpcs = () => emulators.scalekit.rpcLog.filter((e) => e.method === 'VerifyConnectedAccountUser');
    const callbackUri = (params: Record<string, string>) =>
      vscode.Uri.from({ scheme: vscode.env.uriScheme, authority: 'onbehalf.onbehalf', path: '/verify', query: new URLSearchParams(params).toString() });

    // 1. Grace's state and auth request, plus an identifier parameter naming Grace.
    const before1 = verifies();
    const rpcsBefore1 = verifyRpcs().length;
    const first = await onbehalf.routeUri(callbackUri({ state: graceState, auth_request_id: graceRequest, identifier: grace() }));
    assert.equal(first.ok, false);
    assert.match(String((first as { error: unknown }).error), /different signed-in user/);
    assert.equal(verifies(), before1 + 1, "the attempt reached the gateway's verify");
    assert.equal(verifyRpcs().length, rpcsBefore1, 'the gateway refused the state before asking Scalekit');

    // 2. Ada's own fresh state with Grace's auth request: Scalekit is asked, as Ada, and refuses.
    const openedAda = browser.opened.length;
    await vscode.commands.executeCommand('onbehalf.reauthorize', 'asana');
    const adaLink = await waitFor("Ada's consent link", () => browser.opened.slice(openedAda).find((u) => u.includes('/connect/')));
    const adaState = emulators.scalekit.getAuthRequest(/\/connect\/([A-Za-z0-9_-]+)/.exec(adaLink)![1]!)?.state;
    assert.ok(adaState);
    const before2 = verifies();
    const second = await onbehalf.routeUri(callbackUri({ state: adaState, auth_request_id: graceRequest, identifier: grace() }));
    assert.equal(second.ok, false);
    assert.equal(verifies(), before2 + 1, "the attempt reached the gateway's verify");
    const rpc = verifyRpcs().at(-1);
    assert.deepEqual([rpc?.identifier, rpc?.code === 'ok'], [ada(), false], 'Scalekit was asked as Ada, never as Grace, and refused');

    // Scalekit's record: Grace's request was never verified, her account is not active.
    assert.equal(emulators.scalekit.getAuthRequest(graceRequest)?.phase, 'approved');
    assert.notEqual(emulators.scalekit.getAccount(grace(), 'posthog')?.status, 'ACTIVE');
    assert.ok(
      !verifyRpcs()
        .slice(rpcsBefore1)
        .some((e) => e.identifier === grace()),
      'no verification of these attempts ran as Grace',
    );
    browser.consent = 'allow';
  });

  it('the "Set Scalekit Client Secret" command refuses in team mode and stores nothing', async () => {
    const answer = await Promise.race([
      vscode.commands.executeCommand<boolean | undefined>('onbehalf.setScalekitSecret'),
      new Promise<string>((resolve) => setTimeout(() => resolve('still asking after 5 s'), 5_000)),
    ]);
    assert.equal(answer, false);
    assert.equal((await onbehalf.storedSecrets())['scalekitClientSecret'], undefined);
    await waitFor('refusal logged', () => extensionLogText(onbehalf).includes('Refused "Set Scalekit Client Secret"'));
  });

  it("the organisation's Scalekit secret reaches no user: 0 hits in SecretStorage, logs, webview state, storage or outgoing requests", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1500)); // let the log and audit writers flush
    const places: [string, string][] = [
      ['SecretStorage', JSON.stringify(await onbehalf.storedSecrets())],
      ['settings', JSON.stringify(vscode.workspace.getConfiguration('onbehalf'))],
      ['globalState/workspaceState', JSON.stringify(onbehalf.storedState())],
      ['webview HTML', onbehalf.chat.renderedHtml().join('\n')],
      ['webview messages', JSON.stringify(onbehalf.chat.postedMessages())],
      ['tree', JSON.stringify(onbehalf.treeChildren().map((n) => onbehalf.treeItem(n)))],
      ['status bar', JSON.stringify(onbehalf.statusBar())],
      ['conversation in memory', JSON.stringify(onbehalf.chat.activeConversation())],
    ];
    for (const file of [...filesUnder(onbehalf.globalStoragePath), ...filesUnder(onbehalf.logPath)]) places.push([file, readFileSync(file, 'latin1')]);
    const requests = wire.requests();
    for (const r of requests) places.push([`${r.protocol} ${r.method} ${r.host}:${r.port}${r.path}`, r.text]);
    const hits = places.filter(([, text]) => text.includes(canary)).map(([where]) => where);
    const toGateway = requests.filter((r) => r.port === Number(new URL(gateway.url).port)).length;
    console.log(
      `    figure: team-mode secret canary: ${places.length} places scanned (SecretStorage, settings, state, webview, tree, status bar, ${filesUnder(onbehalf.globalStoragePath).length + filesUnder(onbehalf.logPath).length} files, ${requests.length} outgoing requests of which ${toGateway} to the gateway), ${hits.length} hits`,
    );
    assert.ok(toGateway > 0, 'the tap saw the traffic to the gateway, so it would have seen a leak');
    assert.deepEqual(hits, []);
  });

  it("the gateway's audit table has exactly one row per tool call, each the caller's own", async () => {
    const sent = toolCallsSent().length;
    const executions = emulators.scalekit.executions.map((e) => `${e.identifier} ${e.toolName}`);
    await gateway.close();
    const database = await openDatabase({ kind: 'pglite', dataDir: gateway.dataDir });
    try {
      const rows = await database.query<{ identifier: string; tool: string; decision: string; decision_source: string; outcome: string }>(
        'SELECT identifier, tool, decision, decision_source, outcome FROM audit ORDER BY seq',
      );
      console.log(`    figure: team-mode audit: ${sent} tools/call requests sent, ${executions.length} Scalekit executions, ${rows.length} gateway audit rows`);
      assert.equal(sent, 4);
      assert.equal(rows.length, sent);
      assert.deepEqual(
        rows.map((r) => `${r.identifier} ${r.tool}`),
        executions,
      );
      assert.deepEqual(
        rows.map((r) => [r.decision, r.decision_source, r.outcome]),
        [
          ['auto', 'client-reported', 'ok'],
          ['user-approved', 'client-reported', 'ok'],
          ['auto', 'client-reported', 'ok'],
          ['user-approved', 'client-reported', 'ok'],
        ],
      );
    } finally {
      await database.close();
    }
  });

  it('with the gateway unreachable, a tool call fails with its words and the message stays; Retry works once it is back', async () => {
    // The previous test stopped the gateway. The rows stay (a transient failure), the problem says why.
    await onbehalf.refreshConnections();
    assert.match(onbehalf.connections().problem?.message ?? '', /The OnBehalf gateway is unreachable/);
    assert.ok(
      onbehalf.connections().connections.some((c) => c.status === 'ACTIVE'),
      "the signed-in person's rows stay",
    );
    await newChat();
    const result = await callTool('asana_workspaces_list', {});
    assert.equal(result.status, 'failed');
    const item = conversation().items.find((i) => i.kind === 'tool');
    assert.ok(item && item.kind === 'tool');
    assert.match(item.card.error ?? '', /The OnBehalf gateway is unreachable/);
    assert.equal(item.card.retryable, true);
    assert.match(JSON.stringify(conversation().messages[0]), /please run asana_workspaces_list/);

    // The gateway comes back at the same URL, on the same database; Retry answers the same message again.
    gateway = await spawnGateway({
      scalekit: emulators.scalekit,
      idp: emulators.idp,
      dataDir: workDir,
      port: Number(new URL(gateway.url).port),
      policy: { connections: { asana: { tools: { asana_task_create: 'ask' } } } },
      relay: { apiKey: orgAnthropicKey, baseUrl: emulators.anthropic.url },
    });
    const retried = `toolu_${Math.random().toString(36).slice(2)}`;
    emulators.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {}, id: retried } }, { text: 'done' });
    await onbehalf.chat.handleMessage({ type: 'retry' });
    await onbehalf.chat.whenIdle();
    const again = conversation().items.find((i) => i.kind === 'tool' && i.id === retried);
    assert.ok(again && again.kind === 'tool');
    assert.equal(again.card.status, 'succeeded', again.card.error);
    assert.match(JSON.stringify(conversation().messages[0]), /please run asana_workspaces_list/);
  });

  it('with the model relayed through the gateway, a message is answered with no Anthropic key on this machine; the model sees only the organisation key', async () => {
    await onbehalf.clearSecret('anthropicApiKey');
    await setSetting('gateway.relayModel', true);
    try {
      await newChat();
      const sentBefore = wire.requests().length;
      const modelBefore = emulators.anthropic.requests.length;
      emulators.anthropic.queue({ text: 'Answered through the relay.' });
      await onbehalf.chat.handleMessage({ type: 'send', text: 'hello through the relay' });
      await onbehalf.chat.whenIdle();
      assert.match(JSON.stringify(conversation().messages), /Answered through the relay\./);
      assert.ok(!conversation().items.some((i) => i.kind === 'error'), JSON.stringify(conversation().items.filter((i) => i.kind === 'error')));
      const seen = emulators.anthropic.requests.slice(modelBefore);
      assert.ok(seen.length > 0, 'the model was asked');
      assert.deepEqual([...new Set(seen.map((r) => r.apiKey))], [orgAnthropicKey], 'only the gateway, with the organisation key, reached the model');
      const sent = wire.requests().slice(sentBefore);
      const modelPort = Number(new URL(emulators.anthropic.url).port);
      assert.equal(sent.filter((r) => r.port === modelPort).length, 0, 'this window sent nothing to the model service itself');
      const relayed = sent.filter((r) => r.method === 'POST' && r.path === '/v1/messages' && r.port === Number(new URL(gateway.url).port));
      assert.ok(relayed.length > 0, 'the request went to the gateway');
      assert.ok(
        relayed.every((r) => !r.text.includes(orgAnthropicKey) && !r.text.includes(anthropicKey)),
        'no model key in what this window sent',
      );
    } finally {
      await setSetting('gateway.relayModel', undefined);
      await onbehalf.storeSecret('anthropicApiKey', anthropicKey);
    }
  });
});
