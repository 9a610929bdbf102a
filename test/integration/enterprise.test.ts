// Issue 7 in the real extension host: PostHog's MCP server through enterprise-managed
// authorization (ID-JAG), driven by the OIDC session, inside the same agent, approval
// gate and audit log as the Scalekit tools.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { OnBehalfTestApi } from '../../src/vscode/testApi';
import { startAnthropicEmulator } from '../emulators/anthropic/server';
import { startEnterpriseWorld, type EnterpriseWorld } from '../emulators/posthog-mcp/harness';
import { startScalekitEmulator } from '../emulators/scalekit/server';
import {
  api,
  extensionLogText,
  oidcIdentifier,
  installBrowser,
  resetSettings,
  setSetting,
  signInAs,
  useSignedInWorld,
  waitFor,
  type Emulators,
} from './support';
import { startAnthropicEmulator as startAnthropic, type AnthropicEmulator } from '../emulators/anthropic/server';
import type { ChatStateView } from '../../src/shared/protocol';

describe('enterprise PostHog through ID-JAG', function () {
  this.timeout(90_000);
  let enterprise: EnterpriseWorld;
  const world = useSignedInWorld({
    anthropicKey: 'sk-ant-enterprise',
    emulators: async () => {
      // The enterprise IdP is the OIDC issuer the user signs in with.
      enterprise = await startEnterpriseWorld();
      const [scalekit, anthropic] = await Promise.all([startScalekitEmulator(), startAnthropicEmulator()]);
      return { scalekit, anthropic, idp: enterprise.idp };
    },
  });
  let onbehalf: OnBehalfTestApi;
  let emulators: Emulators;
  const enterpriseNode = () => onbehalf.treeChildren().find((n) => n.kind === 'enterprise');
  const describeNode = () => {
    const node = enterpriseNode();
    return node ? String(onbehalf.treeItem(node).description ?? '') : '';
  };

  before(async () => {
    ({ onbehalf, emulators } = world);
    await onbehalf.storeSecret('enterpriseClientSecret', enterprise.clientSecret);
    await setSetting('enterprise.posthogMcp', {
      mcpServerUrl: enterprise.posthog.mcpUrl,
      idpTokenEndpoint: `${enterprise.idp.issuer}/token`,
      clientId: enterprise.clientId,
    });
  });

  after(async () => {
    await setSetting('enterprise.posthogMcp', undefined);
    await enterprise.close();
  });

  it('connects with no consent prompt: discovery, token exchange, jwt-bearer, MCP initialize with the extension', async () => {
    await waitFor('enterprise connected', () => /^Connected · \d+ tools$/.test(describeNode()), 30_000);
    assert.equal(onbehalf.enterprise().tools.length, 14);
    assert.equal(enterprise.grant.exchanges, 1);
    assert.equal(enterprise.posthog.counters.jwtBearerGrants, 1);
    const init = enterprise.posthog.initializations.at(-1)!;
    assert.ok(JSON.stringify(init).includes('io.modelcontextprotocol/enterprise-managed-authorization'), JSON.stringify(init).slice(0, 300));
    const groups = onbehalf.treeChildren(enterpriseNode()).map((n) => String(onbehalf.treeItem(n).label));
    assert.deepEqual(groups, ['Read', 'Write', 'Destructive']);
  });

  it('its tools run through the same approval gate and audit log', async () => {
    await onbehalf.chat.handleMessage({ type: 'newConversation' });
    const conversation = onbehalf.chat.activeConversation()!;
    conversation.loadedTools = ['posthogent_feature_flag_get_all', 'posthogent_delete_feature_flag'];
    emulators.anthropic.queue(
      { toolUse: { name: 'posthogent_feature_flag_get_all', input: {} } },
      { toolUse: { name: 'posthogent_delete_feature_flag', input: { id: 1 }, id: 'toolu_delete_flag' } },
      { text: 'Listed, and asked before deleting.' },
    );
    const pending = onbehalf.chat.handleMessage({ type: 'send', text: 'list flags then delete flag 1' });
    await waitFor('destructive approval card', () =>
      conversation.items.some((i) => i.kind === 'tool' && i.id === 'toolu_delete_flag' && i.card.status === 'awaitingApproval'),
    );
    const card = conversation.items.find((i) => i.kind === 'tool' && i.id === 'toolu_delete_flag')!;
    assert.ok(card.kind === 'tool' && card.card.risk === 'destructive' && card.card.canAlwaysAllow === false);
    await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: 'toolu_delete_flag', decision: 'deny' });
    await pending;
    await onbehalf.chat.whenIdle();
    const calls = enterprise.posthog.toolCalls.map((c) => (c as { name?: string; tool?: string }).name ?? (c as { tool?: string }).tool);
    assert.ok(calls.includes('feature-flag-get-all') && !calls.includes('delete-feature-flag'), JSON.stringify(calls));
    const audit = (await onbehalf.auditRecords()).slice(-2);
    assert.deepEqual(
      audit.map((r) => [r.connection, r.tool, r.decision, r.outcome]),
      [
        ['posthog-enterprise', 'posthogent_feature_flag_get_all', 'auto', 'success'],
        ['posthog-enterprise', 'posthogent_delete_feature_flag', 'denied', 'cancelled'],
      ],
    );
  });

  it('a rejected access token (expired or revoked) leads to a fresh exchange, never a reused ID-JAG', async () => {
    const exchanges = enterprise.grant.exchanges;
    const assertions = new Set(enterprise.posthog.assertions);
    // The server now answers 401 invalid_token, as for an expired token. (Clock-driven expiry
    // is covered in the unit tier, where the client, IdP and AS share one clock.)
    enterprise.posthog.revokeTokens();
    await onbehalf.chat.handleMessage({ type: 'newConversation' });
    onbehalf.chat.activeConversation()!.loadedTools = ['posthogent_insights_list'];
    emulators.anthropic.queue({ toolUse: { name: 'posthogent_insights_list', input: {} } }, { text: 'ok' });
    await onbehalf.chat.handleMessage({ type: 'send', text: 'insights' });
    await onbehalf.chat.whenIdle();
    assert.ok(enterprise.grant.exchanges > exchanges, 're-exchanged');
    assert.equal(new Set(enterprise.posthog.assertions).size, enterprise.posthog.assertions.length, 'every ID-JAG presented once');
    assert.ok(enterprise.posthog.assertions.some((a) => !assertions.has(a)));
    const last = onbehalf.chat.activeConversation()!.items.find((i) => i.kind === 'tool');
    assert.ok(last?.kind === 'tool' && last.card.status === 'succeeded', JSON.stringify(last));
  });

  it('turns each documented error into its own actionable message in the tree', async () => {
    // The status's own message and hint are checked, not its JSON (which holds the kind's name).
    const cases: [error: string, kind: string, message: RegExp, hint: RegExp][] = [
      [
        'access_denied',
        'enterpriseAccessDenied',
        /^PostHog denied access for your account \(it said: "forced access_denied"\)\.$/,
        /add your account to the organization/,
      ],
      [
        'invalid_client',
        'enterpriseInvalidClient',
        /^PostHog does not accept OnBehalf's client id ".+" for enterprise-managed authorization/,
        /register this client id/,
      ],
      ['invalid_target', 'enterpriseInvalidTarget', /^PostHog's authorization server does not issue tokens for \S+/, /MCP server URL setting/],
      ['invalid_grant', 'enterpriseInvalidGrant', /^The identity assertion \(ID-JAG\) was refused as an invalid grant/, /^Retry\. If it keeps failing/],
    ];
    const errorStatus = () => {
      const status = onbehalf.enterprise().status;
      return status?.state === 'error' ? status : undefined;
    };
    const rebuildAndWait = async (label: string, check: () => boolean) => {
      await vscode.commands.executeCommand('onbehalf.refresh');
      await waitFor(label, () => check(), 20_000).catch(() => {
        throw new Error(`${label}: ${JSON.stringify(onbehalf.enterprise().status)}`);
      });
    };
    for (const [error, kind, message, hint] of cases) {
      enterprise.posthog.failNextToken(error);
      await rebuildAndWait(`${error} shown`, () => errorStatus()?.kind === kind);
      const status = errorStatus()!;
      assert.match(status.message, message, `${error} message`);
      assert.match(status.hint ?? '', hint, `${error} hint`);
    }
    enterprise.posthog.failNextMcp({ status: 403, error: 'insufficient_scope', scope: 'user:read organization:read project:read', times: 1 });
    await rebuildAndWait('insufficient_scope shown', () => errorStatus()?.kind === 'enterpriseInsufficientScope');
    const scoped = errorStatus()!;
    assert.match(scoped.message, /^PostHog's MCP server needs scopes that were not granted: .*user:read.*organization:read.*project:read/);
    assert.match(scoped.hint ?? '', /^Ask your IdP administrator to grant OnBehalf the PostHog scopes .*user:read/);
    await rebuildAndWait('recovered', () => /^Connected/.test(describeNode()));
  });

  it('renews an ID token about to expire through the refresh token: no new sign-in, no views reloaded', async () => {
    const { browser } = world;
    const { idp } = enterprise;
    // Clocks at real time, and ID tokens that live 45 s: inside the 60 s renewal margin.
    enterprise.advance(Date.now() - enterprise.now());
    idp.setIdTokenTtlSeconds(45);
    try {
      await signInAs(onbehalf, browser, 'ada');
      const signIns = idp.issued.codes.length;
      const renewals = () => idp.issued.tokens.filter((t) => t.grantType === 'refresh_token').length;
      const renewalsBefore = renewals();
      const conversation = await (async () => {
        await onbehalf.chat.handleMessage({ type: 'newConversation' });
        return onbehalf.chat.activeConversation()!;
      })();
      // The next call needs a fresh exchange, which asks for the ID token.
      enterprise.posthog.revokeTokens();
      conversation.loadedTools = ['posthogent_insights_list'];
      emulators.anthropic.queue({ toolUse: { name: 'posthogent_insights_list', input: {} } }, { text: 'ok' });
      await onbehalf.chat.handleMessage({ type: 'send', text: 'insights, please' });
      await onbehalf.chat.whenIdle();
      assert.ok(renewals() > renewalsBefore, 'the IdP saw a refresh_token grant');
      assert.equal(idp.issued.codes.length, signIns, 'no new sign-in');
      const renewed = idp.issued.tokens.filter((t) => t.grantType === 'refresh_token').at(-1)!;
      assert.equal(renewed.sub, 'ada');
      assert.equal(onbehalf.chat.activeConversation()?.id, conversation.id, 'the chat was not reloaded by the renewal');
      const card = onbehalf.chat.activeConversation()!.items.find((i) => i.kind === 'tool');
      assert.ok(card?.kind === 'tool' && card.card.status === 'succeeded', JSON.stringify(card));
      const log = extensionLogText(onbehalf);
      assert.match(log, /Renewed the OIDC ID token through the refresh token/);
      assert.ok(!log.includes(renewed.idToken) && !log.includes(renewed.refreshToken), 'no token in the log');
    } finally {
      idp.setIdTokenTtlSeconds(3600);
      await signInAs(onbehalf, browser, 'ada');
    }
  });
  // Issue 17: one client per signed-in user, ended on the server when it is no longer needed.
  const connected = () => /^Connected · \d+ tools$/.test(describeNode());
  const openStreamsOf = (sub: string) => enterprise.posthog.openStreams().filter((s) => s.sub === sub).length;
  const sessionsOf = (sub: string) => enterprise.posthog.sessions().filter((s) => s.sub === sub);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1_500));
  const enterpriseConfig = () => ({
    mcpServerUrl: enterprise.posthog.mcpUrl,
    idpTokenEndpoint: `${enterprise.idp.issuer}/token`,
    clientId: enterprise.clientId,
  });

  it('rebuilding (Refresh) keeps one client and does not pile up subscriptions', async () => {
    await waitFor('enterprise connected', () => connected(), 30_000);
    await vscode.commands.executeCommand('onbehalf.refresh');
    await waitFor('connected again', () => connected(), 30_000);
    const before = onbehalf.enterpriseHeld().subscriptions;
    for (let i = 0; i < 3; i++) await vscode.commands.executeCommand('onbehalf.refresh');
    await waitFor('connected after the refreshes', () => connected(), 30_000);
    const held = onbehalf.enterpriseHeld();
    assert.equal(held.subscriptions, before, 'no subscription added per rebuild');
    assert.equal(held.clients, 1, JSON.stringify(held));
  });

  it('a change of the enterprise setting ends the MCP session on the server (DELETE) before a new one', async () => {
    await waitFor('connected as ada with a stream', () => connected() && openStreamsOf('ada') === 1, 30_000);
    const [old] = sessionsOf('ada');
    enterprise.posthog.resetLogs();
    try {
      await setSetting('enterprise.posthogMcp', { ...enterpriseConfig(), scopes: ['feature_flag:read'] });
      await waitFor('the old session ended', () => enterprise.posthog.deletes.some((d) => d.sessionId === old!.sessionId), 15_000);
      await waitFor(
        'reconnected with one new stream',
        () => connected() && enterprise.posthog.initializations.length === 1 && openStreamsOf('ada') === 1,
        30_000,
      );
      assert.deepEqual(
        enterprise.posthog.deletes.map((d) => [d.sub, d.requestedBy, d.status]),
        [['ada', 'ada', 200]],
      );
      assert.deepEqual(
        sessionsOf('ada')
          .map((x) => x.sessionId)
          .includes(old!.sessionId),
        false,
      );
    } finally {
      await setSetting('enterprise.posthogMcp', enterpriseConfig());
      await waitFor('connected with the original setting', () => connected(), 30_000);
    }
  });

  it("an identity switch ends the previous user's MCP session (DELETE) and leaves nothing of theirs open", async () => {
    const { browser } = world;
    await waitFor(
      'connected as ada with a stream',
      () => connected() && onbehalf.enterprise().identifier === oidcIdentifier('ada') && openStreamsOf('ada') === 1,
      30_000,
    );
    await settle();
    const old = enterprise.posthog.openStreams().find((x) => x.sub === 'ada')!;
    enterprise.posthog.resetLogs();
    try {
      await signInAs(onbehalf, browser, 'grace');
      await waitFor('connected as grace', () => connected() && onbehalf.enterprise().identifier === oidcIdentifier('grace'), 30_000);
      await waitFor("ada's session ended", () => enterprise.posthog.deletes.some((d) => d.sessionId === old.sessionId), 15_000).catch((error: unknown) => {
        throw new Error(
          `${String(error)}; ${old.sessionId}; deletes ${JSON.stringify(enterprise.posthog.deletes)}; sessions ${JSON.stringify(enterprise.posthog.sessions())}`,
        );
      });
      await waitFor('no stream of ada', () => openStreamsOf('ada') === 0, 10_000);
      await settle();
      assert.deepEqual(
        enterprise.posthog.deletes.map((d) => [d.sub, d.status]),
        [['ada', 200]],
      );
      assert.deepEqual(sessionsOf('ada'), [], 'no session of ada left on the server');
      assert.deepEqual(
        enterprise.posthog.initializations.map((i) => i.sub),
        ['grace'],
        'one MCP initialize, as grace',
      );
      const held = onbehalf.enterpriseHeld();
      assert.deepEqual([held.clients, held.tokens], [1, 1], JSON.stringify(held));
    } finally {
      await signInAs(onbehalf, browser, 'ada');
      await waitFor('connected as ada', () => connected() && onbehalf.enterprise().identifier === oidcIdentifier('ada'), 30_000);
    }
  });

  it('one sign-in builds one client (one MCP initialize); sign-out leaves no stream, session or token of the user', async () => {
    const { browser } = world;
    await onbehalf.signOut();
    await waitFor('signed out', async () => (await onbehalf.currentIdentity()) === undefined);
    await settle();
    enterprise.posthog.resetLogs();
    const exchanges = enterprise.grant.exchanges;
    try {
      await signInAs(onbehalf, browser, 'ada');
      await waitFor('connected as ada', () => connected() && onbehalf.enterprise().identifier === oidcIdentifier('ada'), 30_000);
      await settle();
      assert.equal(enterprise.posthog.initializations.length, 1, `MCP initialize calls for one sign-in: ${enterprise.posthog.initializations.length}`);
      assert.equal(enterprise.grant.exchanges - exchanges, 1, 'one token exchange');
      assert.equal(enterprise.posthog.counters.jwtBearerGrants, 1, 'one jwt-bearer grant');
      await waitFor("ada's stream open", () => openStreamsOf('ada') === 1, 10_000);
      const connectedHeld = onbehalf.enterpriseHeld();
      assert.deepEqual([connectedHeld.clients, connectedHeld.tokens, connectedHeld.sessions], [1, 1, 1], JSON.stringify(connectedHeld));

      await onbehalf.signOut();
      await waitFor('signed out', async () => (await onbehalf.currentIdentity()) === undefined);
      await waitFor('no stream of ada open on the server', () => openStreamsOf('ada') === 0, 10_000).catch((error: unknown) => {
        throw new Error(`${String(error)}; still open: ${JSON.stringify(enterprise.posthog.openStreams())}`);
      });
      await settle();
      assert.deepEqual(sessionsOf('ada'), [], "ada's session was ended on the server");
      assert.deepEqual(
        enterprise.posthog.deletes.map((d) => [d.sub, d.status]),
        [['ada', 200]],
        "one DELETE, for ada's session",
      );
      const held = onbehalf.enterpriseHeld();
      assert.deepEqual([held.clients, held.tokens, held.sessions], [0, 0, 0], `nothing of ada held: ${JSON.stringify(held)}`);
    } finally {
      await signInAs(onbehalf, browser, 'ada');
    }
  });
});

describe('enterprise-only setup (no Scalekit configured)', function () {
  this.timeout(90_000);
  let onbehalf: OnBehalfTestApi;
  let enterprise: EnterpriseWorld;
  let anthropic: AnthropicEmulator;
  const lastState = (): ChatStateView | undefined => {
    const states = onbehalf.chat.postedMessages().filter((m): m is Extract<typeof m, { type: 'state' }> => m.type === 'state');
    return states.at(-1)?.state;
  };

  before(async () => {
    onbehalf = await api();
    [enterprise, anthropic] = await Promise.all([startEnterpriseWorld(), startAnthropic()]);
    await resetSettings();
    await onbehalf.clearSecret('scalekitClientSecret');
    await setSetting('identity.provider', 'oidc');
    await setSetting('oidc.issuer', enterprise.idp.issuer);
    await setSetting('oidc.clientId', enterprise.idp.clientId);
    await setSetting('anthropic.baseUrl', anthropic.url);
    await onbehalf.storeSecret('anthropicApiKey', 'sk-ant-enterprise-only');
    await onbehalf.storeSecret('enterpriseClientSecret', enterprise.clientSecret);
    await setSetting('enterprise.posthogMcp', {
      mcpServerUrl: enterprise.posthog.mcpUrl,
      idpTokenEndpoint: `${enterprise.idp.issuer}/token`,
      clientId: enterprise.clientId,
    });
    const browser = installBrowser(onbehalf);
    await signInAs(onbehalf, browser, 'ada');
    await vscode.commands.executeCommand('onbehalf.chat.focus');
    await waitFor('chat view rendered', () => onbehalf.chat.renderedHtml().length > 0);
  });

  after(async () => {
    await onbehalf.signOut();
    onbehalf.setExternalOpener(undefined);
    await setSetting('enterprise.posthogMcp', undefined);
    await resetSettings();
    await Promise.all([enterprise.close(), anthropic.close()]);
  });

  it('with the enterprise connection active, nothing asks for Scalekit: tree, status bar and chat', async () => {
    await waitFor('enterprise connected', () => onbehalf.enterprise().status?.state === 'ready' && onbehalf.enterprise().tools.length > 0, 30_000);
    await waitFor(
      'the tree shows who and the enterprise connection only',
      () =>
        onbehalf
          .treeChildren()
          .map((n) => n.kind)
          .join() === 'identity,enterprise',
      10_000,
    ).catch(() => {
      throw new Error(`tree: ${JSON.stringify(onbehalf.treeChildren().map((n) => [n.kind, String(onbehalf.treeItem(n).label)]))}`);
    });
    await waitFor('status bar settled', () => !/Set keys|loading/.test(onbehalf.statusBar().text), 10_000).catch(() => {
      throw new Error(`status bar: ${JSON.stringify(onbehalf.statusBar())}`);
    });
    const bar = onbehalf.statusBar();
    assert.match(bar.text, /pass-filled/, JSON.stringify(bar));
    assert.doesNotMatch(`${bar.text} ${bar.tooltip}`, /Scalekit|keys|warning/i, JSON.stringify(bar));
    await waitFor('chat without a blocker', () => lastState()?.blocker === null, 10_000).catch(() => {
      throw new Error(`chat blocker: ${JSON.stringify(lastState()?.blocker)}`);
    });
  });

  it('still asks for the Anthropic key when it is missing, and never for Scalekit', async () => {
    await onbehalf.clearSecret('anthropicApiKey');
    try {
      await waitFor('status bar asks for the Anthropic key', () => /Anthropic/.test(onbehalf.statusBar().tooltip), 10_000).catch(() => {
        throw new Error(`status bar: ${JSON.stringify(onbehalf.statusBar())}`);
      });
      assert.doesNotMatch(onbehalf.statusBar().tooltip, /Scalekit/);
      await waitFor('chat asks for the Anthropic key', () => lastState()?.blocker?.kind === 'setAnthropicKey', 10_000).catch(() => {
        throw new Error(`chat blocker: ${JSON.stringify(lastState()?.blocker)}`);
      });
    } finally {
      await onbehalf.storeSecret('anthropicApiKey', 'sk-ant-enterprise-only');
    }
  });
});
