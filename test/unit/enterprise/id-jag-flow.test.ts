// The enterprise (ID-JAG) path end to end over real HTTP: the extension's OIDC client
// signs in at the IdP emulator, EnterprisePostHogClient exchanges the ID token for an
// ID-JAG, redeems it at the PostHog AS emulator and talks to its MCP server with the real
// @modelcontextprotocol/sdk on both sides.
import * as assert from 'node:assert/strict';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { OidcClient } from '../../../src/core/oidc';
import { EnterprisePostHogClient, type EnterprisePostHogConfig } from '../../../src/enterprise/client';
import { EnterpriseNoSessionError, EnterpriseNotConfiguredError, EnterpriseTokenRejectedError } from '../../../src/enterprise/errors';
import { ENTERPRISE_MANAGED_AUTHORIZATION_EXTENSION } from '../../../src/enterprise/oauth';
import { startEnterpriseWorld, type EnterpriseWorld } from '../../emulators/posthog-mcp/harness';

const TWO_HOURS = 2 * 60 * 60 * 1000;
const trends = { kind: 'TrendsQuery', series: [{ event: 'signed_up' }], interval: 'day', dateRange: { date_from: '-7d' } };

function hrefById(html: string, id: string): string {
  const m = new RegExp(`<a[^>]*id="${id}"[^>]*href="([^"]+)"`).exec(html);
  assert.ok(m?.[1], `no link with id ${id}`);
  return m[1].replace(/&amp;/g, '&');
}

/** The extension's real OIDC sign-in against the IdP emulator: authorize page, click the user, code + PKCE. */
async function signInWithCodeFlow(world: EnterpriseWorld, sub: string): Promise<string> {
  const oidc = new OidcClient(world.idp.issuer, world.clientId);
  const request = await oidc.createAuthRequest('http://127.0.0.1:53682/callback', ['profile', 'email']);
  const page = await fetch(request.url);
  const login = await fetch(new URL(hrefById(await page.text(), `login-${sub}`), world.idp.issuer), { redirect: 'manual' });
  const code = new URL(login.headers.get('location') ?? '').searchParams.get('code');
  assert.ok(code, 'the IdP redirected back with a code');
  const tokens = await oidc.exchangeCode(request, code);
  assert.equal(tokens.claims.sub, sub);
  return tokens.idToken;
}

async function waitUntil(what: string, probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('enterprise PostHog via ID-JAG: the flow', function () {
  this.timeout(30_000);
  let world: EnterpriseWorld;
  let client: EnterprisePostHogClient | undefined;
  let logs: string[];

  beforeEach(async () => {
    world = await startEnterpriseWorld();
    logs = [];
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await world.close();
  });

  function makeClient(overrides: Partial<EnterprisePostHogConfig> = {}): EnterprisePostHogClient {
    client = new EnterprisePostHogClient({
      mcpServerUrl: world.posthog.mcpUrl,
      idpTokenEndpoint: `${world.idp.issuer}/token`,
      clientId: world.clientId,
      clientSecret: world.clientSecret,
      getIdToken: () => world.idToken('ada'),
      now: () => world.now(),
      log: (line) => logs.push(line),
      ...overrides,
    });
    return client;
  }

  describe('when the client at PostHog differs from the client at the IdP', () => {
    const postHogClient = 'posthog-side-client-42';
    beforeEach(async () => {
      await world.close();
      // The ID-JAG names the client at the *resource* AS; PostHog knows only that one.
      // PostHog knows both clients, so sending the IdP's id is a mismatch, not an unknown client.
      world = await startEnterpriseWorld({ posthog: { clientIds: [postHogClient, 'onbehalf-vscode'] }, grant: { resourceClientIds: {} } });
      world.grant.options.resourceClientIds![world.posthog.issuer] = postHogClient;
    });

    it('works without naming a client at PostHog: the ID-JAG carries it', async () => {
      const result = await makeClient().callTool('posthogmcp_query_run', { query: trends });
      assert.equal(result.isError, false, result.text);
      assert.equal(decodeJwt(world.grant.issued[0]!.token).client_id, postHogClient);
    });

    it('a configured PostHog client id that does not match gets its own message', async () => {
      await assert.rejects(makeClient({ resourceClientId: 'onbehalf-vscode' }).callTool('posthogmcp_query_run', { query: trends }), (error: unknown) => {
        const text = `${(error as Error).message} ${(error as { hint?: string }).hint ?? ''}`;
        assert.match(text, /names a different client/);
        assert.match(text, /resourceClientId/);
        return true;
      });
    });
  });

  it('happy path: OIDC sign-in, token exchange, jwt-bearer grant, then a tool call returns daily trends', async () => {
    const idToken = await signInWithCodeFlow(world, 'ada');
    const c = makeClient({ getIdToken: async () => idToken });
    assert.deepEqual(c.status(), { state: 'ready', connected: false });

    const result = await c.callTool('posthogmcp_query_run', { query: trends });
    assert.equal(result.isError, false, result.text);
    const data = result.data as { results: { label: string; data: number[]; days: string[] }[] };
    assert.equal(data.results[0]?.label, 'signed_up');
    assert.equal(data.results[0]?.data.length, 7, 'one point per day');
    assert.ok(data.results[0].data.every((n) => Number.isInteger(n) && n >= 0));

    // Step A at the IdP: the token exchange, authenticated with the client secret.
    assert.equal(world.grant.exchanges, 1);
    const request = world.grant.requests[0]!;
    assert.equal(request.confidential, true);
    assert.equal(request.audience, world.posthog.issuer);
    assert.equal(request.resource, world.posthog.mcpUrl);
    assert.equal(request.scope, 'user:read organization:read project:read');
    const tokenCall = world.idp.log.find((e) => e.path === '/token' && e.params.grant_type === 'urn:ietf:params:oauth:grant-type:token-exchange');
    assert.equal(tokenCall?.params.requested_token_type, 'urn:ietf:params:oauth:token-type:id-jag');
    assert.equal(tokenCall?.params.subject_token_type, 'urn:ietf:params:oauth:token-type:id_token');
    assert.equal(tokenCall?.params.subject_token, idToken, 'the ID token of the OIDC session is the subject token');

    // The ID-JAG itself.
    const idJag = world.grant.issued[0]!.token;
    assert.equal(decodeProtectedHeader(idJag).typ, 'oauth-id-jag+jwt');
    const claims = decodeJwt(idJag);
    assert.equal(claims.iss, world.idp.issuer);
    assert.equal(claims.sub, 'ada');
    assert.equal(claims.aud, world.posthog.issuer);
    assert.equal(claims.client_id, world.clientId);
    assert.equal(claims.resource, world.posthog.mcpUrl);
    assert.equal(claims.email, 'ada@example.com');
    assert.equal(claims.scope, 'user:read organization:read project:read');
    assert.equal(typeof claims.jti, 'string');
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 300);

    // Step B at PostHog's AS: exactly that ID-JAG, once; a 2 h token bound to the MCP resource.
    assert.deepEqual(world.posthog.assertions, [idJag]);
    assert.equal(world.posthog.counters.jwtBearerGrants, 1);
    const access = world.posthog.accessTokens[0]!;
    assert.equal(access.aud, world.posthog.mcpUrl);
    assert.equal(access.sub, 'ada');
    assert.ok(Math.abs(access.expiresAt - world.now() - TWO_HOURS) < 1000, '2 h');
    assert.equal(world.posthog.toolCalls[0]?.sub, 'ada');

    const status = c.status();
    assert.equal(status.state, 'ready');
    assert.ok(status.state === 'ready' && status.connected);
    assert.equal(status.state === 'ready' ? status.accessTokenExpiresAt : 0, world.now() + TWO_HOURS, 'tracked with the client clock from expires_in');
  });

  it('declares io.modelcontextprotocol/enterprise-managed-authorization in the initialize capabilities', async () => {
    await makeClient().connect();
    assert.equal(world.posthog.initializations.length, 1);
    const init = world.posthog.initializations[0]!;
    assert.deepEqual(init.capabilities, { extensions: { [ENTERPRISE_MANAGED_AUTHORIZATION_EXTENSION]: {} } });
    assert.equal(ENTERPRISE_MANAGED_AUTHORIZATION_EXTENSION, 'io.modelcontextprotocol/enterprise-managed-authorization');
    // The server's SDK kept it after parsing the initialize request.
    assert.deepEqual(init.parsedCapabilities?.extensions, { 'io.modelcontextprotocol/enterprise-managed-authorization': {} });
    assert.equal(init.protocolVersion, '2025-11-25');
    assert.deepEqual(init.clientInfo, { name: 'onbehalf', version: '0.1.0' });
    assert.equal(init.sub, 'ada');
  });

  it('authenticates to the IdP with client_secret_post when asked, and sends no secret to PostHog', async () => {
    await makeClient({ clientAuthMethod: 'client_secret_post' }).connect();
    const call = world.idp.log.find((e) => e.params.grant_type === 'urn:ietf:params:oauth:grant-type:token-exchange');
    assert.equal(call?.params.client_id, world.clientId);
    assert.equal(call?.params.client_secret, '[redacted]', 'the secret went in the body');
    assert.equal(world.grant.requests[0]?.confidential, true);
    assert.equal(world.posthog.tokenLog[0]?.ok, true);
    assert.equal(world.posthog.tokenLog[0]?.clientId, world.clientId);
  });

  it('a replayed ID-JAG is refused with invalid_grant and the client recovers with a fresh one', async () => {
    const c = makeClient();
    await c.listTools();
    // The IdP now hands out the ID-JAG it already issued (a caching IdP); the token gets revoked.
    world.grant.tamperNext({ replayPrevious: true });
    world.posthog.revokeTokens();

    const result = await c.callTool('posthogmcp_projects_get', {});
    assert.equal(result.isError, false);
    assert.equal(world.posthog.counters.invalidToken, 1, 'the revoked token got a 401');
    assert.equal(world.posthog.counters.replaysRefused, 1, 'the AS refused the replay');
    assert.equal(world.posthog.counters.tokenErrors.invalid_grant, 1);
    assert.equal(world.grant.exchanges, 3, 'first, replayed, fresh');
    assert.equal(world.grant.requests[1]?.replayed, true);
    const [first, replayed, fresh] = world.posthog.assertions;
    assert.equal(replayed, first);
    assert.notEqual(fresh, first);
    assert.equal(world.posthog.counters.jwtBearerGrants, 2);
    assert.ok(logs.some((l) => /replayed ID-JAG; fetching a fresh one/.test(l)));
  });

  it('an expired access token (clock +2 h) leads to a whole new exchange before the next call', async () => {
    const c = makeClient();
    await c.callTool('posthogmcp_projects_get', {});
    world.advance(TWO_HOURS + 1000);
    await c.callTool('posthogmcp_organization_get', {});
    assert.equal(world.grant.exchanges, 2);
    assert.equal(world.posthog.counters.jwtBearerGrants, 2);
    assert.equal(world.posthog.counters.invalidToken, 0, 'renewed before the server had to refuse it');
    assert.equal(new Set(world.posthog.assertions).size, 2, 'a fresh ID-JAG, never the old one');
    const [t1, t2] = world.posthog.accessTokens;
    assert.notEqual(t1?.token, t2?.token);
    assert.equal(world.posthog.mcpLog.filter((e) => e.status === 401).length, 0);
  });

  it('a 401 invalid_token from the MCP server (its clock past expiry) runs the exchange again and retries once', async () => {
    const clientClock = world.now();
    const c = makeClient({ now: () => clientClock });
    await c.listTools();
    world.advance(TWO_HOURS + 1000); // the IdP's and PostHog's clocks; the client's stays behind
    const result = await c.callTool('posthogmcp_feature_flag_get_all', {});
    assert.equal(result.isError, false);
    assert.equal(world.posthog.counters.invalidToken, 1);
    assert.deepEqual(
      world.posthog.mcpLog.filter((e) => e.rpcMethod === 'tools/call').map((e) => e.status),
      [401, 200],
      'the same request, retried after the exchange',
    );
    assert.equal(world.grant.exchanges, 2);
  });

  it('a second 401 after a fresh token is an EnterpriseTokenRejectedError', async () => {
    const c = makeClient();
    await c.connect();
    world.posthog.failNextMcp({ status: 401, error: 'invalid_token', description: 'token not accepted', times: 2 });
    await assert.rejects(c.callTool('posthogmcp_projects_get', {}), (error: unknown) => {
      assert.ok(EnterpriseTokenRejectedError.is(error));
      assert.match(error.message, /rejected a freshly issued access token.*token not accepted/);
      return true;
    });
    assert.equal(world.grant.exchanges, 2, 'exactly one retry with a fresh exchange');
    assert.equal(c.status().state, 'error');
  });

  it('every access-token request uses a fresh ID-JAG, and concurrent calls share one exchange', async () => {
    const c = makeClient();
    await Promise.all([c.listTools(), c.callTool('posthogmcp_projects_get', {}), c.callTool('posthogmcp_dashboards_get_all', {})]);
    assert.equal(world.grant.exchanges, 1, 'single flight');
    for (let i = 0; i < 3; i++) {
      world.posthog.revokeTokens();
      await c.callTool('posthogmcp_projects_get', {});
    }
    assert.equal(world.grant.exchanges, 4);
    assert.equal(world.posthog.assertions.length, 4);
    assert.equal(new Set(world.posthog.assertions).size, 4, 'no ID-JAG was ever presented twice');
    assert.equal(world.posthog.counters.replaysRefused, 0);
  });

  it('a new signed-in identity drops the old token: the next call runs as the new user', async () => {
    let who = 'ada';
    const c = makeClient({ getIdToken: () => world.idToken(who) });
    const first = await c.callTool('posthogmcp_create_feature_flag', { key: 'ada-flag' });
    assert.equal((first.data as { created_by: { email: string } }).created_by.email, 'ada@example.com');
    who = 'grace';
    const second = await c.callTool('posthogmcp_create_feature_flag', { key: 'grace-flag' });
    assert.equal((second.data as { created_by: { email: string } }).created_by.email, 'grace@example.com');
    assert.deepEqual(
      world.posthog.toolCalls.map((t) => t.sub),
      ['ada', 'grace'],
    );
    assert.equal(world.grant.exchanges, 2);
    assert.deepEqual(
      world.posthog.initializations.map((i) => i.sub),
      ['ada', 'grace'],
      'a new MCP session for the new identity',
    );
    assert.ok(logs.some((l) => /identity changed/.test(l)));
  });

  it('without an OIDC session it refuses with a clear error and sends nothing', async () => {
    let signedIn = true;
    const c = makeClient({ getIdToken: async () => (signedIn ? world.idToken('ada') : undefined) });
    await c.connect();
    const exchanges = world.grant.exchanges;
    const requests = world.posthog.mcpLog.length;
    signedIn = false;
    await assert.rejects(c.listTools(), (error: unknown) => {
      assert.ok(EnterpriseNoSessionError.is(error));
      assert.match(error.message, /company sign-in \(OIDC\)/);
      assert.match(error.hint ?? '', /OnBehalf: Sign In/);
      return true;
    });
    assert.equal(c.status().state, 'needs-oidc-sign-in');
    assert.equal(world.grant.exchanges, exchanges);
    assert.equal(world.posthog.mcpLog.length, requests, 'the old token was not used after sign-out');
    signedIn = true;
    await c.listTools();
    assert.equal(world.grant.exchanges, exchanges + 1, 'signing in again runs a new exchange');
    assert.equal(c.status().state, 'ready');
  });

  it('close() ends the MCP session on the server: a DELETE with its Mcp-Session-Id, and its stream closes', async () => {
    const c = makeClient();
    await c.connect();
    await waitUntil('the session stream opened', () => world.posthog.openStreams().length === 1);
    const [session] = world.posthog.sessions();
    await c.close();
    assert.deepEqual(world.posthog.deletes, [{ sessionId: session!.sessionId, sub: 'ada', requestedBy: 'ada', status: 200 }]);
    await waitUntil('no stream left', () => world.posthog.openStreams().length === 0);
    assert.deepEqual(world.posthog.sessions(), []);
  });

  it('close() waits only a bounded time for a server that never answers the DELETE', async () => {
    const c = makeClient({ closeTimeoutMs: 300 });
    await c.connect();
    world.posthog.holdDeletes(true);
    const started = Date.now();
    await c.close();
    const took = Date.now() - started;
    assert.equal(world.posthog.deletes.length, 1, 'the DELETE was sent');
    assert.ok(took < 2_000, `close() took ${took} ms`);
    assert.ok(
      logs.some((l) => /did not answer the session DELETE/.test(l)),
      logs.join('\n'),
    );
  });

  it('holds a token and a session while connected and neither after close()', async () => {
    const c = makeClient();
    await c.connect();
    assert.deepEqual(c.held(), { accessToken: true, mcpSession: true });
    await c.close();
    assert.deepEqual(c.held(), { accessToken: false, mcpSession: false });
  });

  it('is not-configured without an IdP token endpoint or client id, and says which', async () => {
    const statuses: string[] = [];
    const c = makeClient({ idpTokenEndpoint: '', clientId: undefined });
    c.onDidChangeStatus((s) => statuses.push(s.state));
    assert.deepEqual(c.status(), { state: 'not-configured', missing: ['the identity provider token endpoint', 'the client id'] });
    await assert.rejects(c.listTools(), (error: unknown) => EnterpriseNotConfiguredError.is(error) && /token endpoint, the client id/.test(error.message));
    assert.equal(world.posthog.mcpLog.length + world.posthog.counters.tokenRequests + world.grant.requests.length, 0);
    assert.deepEqual(statuses, []);
  });
});
