// Every documented failure of the enterprise path turns into its own typed error with an
// actionable message, produced by the real condition at the emulators where one exists
// (a skewed clock, a replay, a foreign signing key, a policy) and by forced errors for
// the rest. No message, hint, status or log line ever carries a token or the secret.
import * as assert from 'node:assert/strict';
import { EnterprisePostHogClient, type EnterprisePostHogConfig } from '../../../src/enterprise/client';
import {
  EnterpriseAccessDeniedError,
  EnterpriseDiscoveryError,
  EnterpriseInsufficientScopeError,
  EnterpriseInvalidClientError,
  EnterpriseInvalidGrantError,
  EnterpriseInvalidTargetError,
  EnterpriseProfileUnsupportedError,
  EnterpriseUnreachableError,
  redact,
} from '../../../src/enterprise/errors';
import { ID_JAG_GRANT_PROFILE, classifyInvalidGrant, parseWwwAuthenticate } from '../../../src/enterprise/oauth';
import { OnBehalfError, messageOf } from '../../../src/core/errors';
import { startEnterpriseWorld, type EnterpriseWorld, type EnterpriseWorldOptions } from '../../emulators/posthog-mcp/harness';

describe('enterprise PostHog via ID-JAG: errors', function () {
  this.timeout(30_000);
  let world: EnterpriseWorld | undefined;
  let client: EnterprisePostHogClient | undefined;
  let logs: string[];
  let idTokens: string[];
  let shown: string[];

  afterEach(async () => {
    // Nothing secret in anything the user can see or the log keeps.
    if (world) {
      const secrets = [world.clientSecret, ...idTokens, ...world.grant.issued.map((t) => t.token), ...world.posthog.accessTokens.map((t) => t.token)];
      const visible = [...logs, ...shown, JSON.stringify(client?.status() ?? {})].join('\n');
      for (const secret of secrets) assert.ok(!visible.includes(secret), 'a token or the client secret leaked into a message or log line');
    }
    await client?.close();
    client = undefined;
    await world?.close();
    world = undefined;
  });

  async function setup(
    options: EnterpriseWorldOptions = {},
    overrides: Partial<EnterprisePostHogConfig> = {},
  ): Promise<{ world: EnterpriseWorld; client: EnterprisePostHogClient }> {
    world = await startEnterpriseWorld(options);
    logs = [];
    idTokens = [];
    shown = [];
    const w = world;
    client = new EnterprisePostHogClient({
      mcpServerUrl: w.posthog.mcpUrl,
      idpTokenEndpoint: `${w.idp.issuer}/token`,
      clientId: w.clientId,
      clientSecret: w.clientSecret,
      getIdToken: async () => {
        const t = await w.idToken('ada');
        idTokens.push(t);
        return t;
      },
      now: () => w.now(),
      log: (line) => logs.push(line),
      ...overrides,
    });
    return { world: w, client };
  }

  /** Runs a call that must fail, checks the error's class, and keeps its text for the leak check. */
  async function failure<T extends OnBehalfError>(promise: Promise<unknown>, is: (e: unknown) => e is T): Promise<T> {
    try {
      await promise;
    } catch (error) {
      if (OnBehalfError.is(error)) shown.push(messageOf(error));
      assert.ok(is(error), `unexpected error: ${String((error as Error)?.stack ?? error)}`);
      return error;
    }
    assert.fail('expected a rejection');
  }

  describe('invalid_grant at PostHog, told apart by cause', () => {
    it('an expired ID-JAG → "had expired", check the clock', async () => {
      const { world: w, client: c } = await setup();
      w.grant.tamperNext({ expired: true });
      const error = await failure(c.listTools(), EnterpriseInvalidGrantError.is);
      assert.equal(error.reason, 'expired');
      assert.equal(error.stage, 'PostHog authorization server');
      assert.match(error.message, /had expired/);
      assert.match(error.hint ?? '', /clock/);
      assert.deepEqual(w.posthog.counters.tokenErrors, { invalid_grant: 1 });
      assert.equal(w.grant.exchanges, 1, 'no retry: a fresh one would expire the same way');
      const status = c.status();
      assert.equal(status.state, 'error');
      assert.equal(status.state === 'error' ? status.kind : '', 'enterpriseInvalidGrant');
    });

    it("the IdP's clock 2 minutes ahead of PostHog's → not yet valid (clock skew beyond 30 s)", async () => {
      const { world: w, client: c } = await setup();
      w.grant.tamperNext({ skewSeconds: 120 });
      const error = await failure(c.listTools(), EnterpriseInvalidGrantError.is);
      assert.equal(error.reason, 'notYetValid');
      assert.match(error.message, /not yet valid.*clock is ahead.*30 seconds/);
      assert.match(error.hint ?? '', /IdP administrator.*clock/);
    });

    it('a 20 s skew is within the 30 s tolerance and works', async () => {
      const { world: w, client: c } = await setup();
      w.grant.tamperNext({ skewSeconds: 20 });
      await c.connect();
      assert.equal(w.posthog.counters.jwtBearerGrants, 1);
    });

    it("an ID-JAG not signed with the IdP's published key → bad signature", async () => {
      const { world: w, client: c } = await setup();
      w.grant.tamperNext({ foreignKey: true });
      const error = await failure(c.connect(), EnterpriseInvalidGrantError.is);
      assert.equal(error.reason, 'badSignature');
      assert.match(error.message, /could not verify the identity provider's signature/);
      assert.match(error.hint ?? '', /JWKS/);
    });

    it('an ID-JAG for another authorization server (aud) is refused', async () => {
      const { world: w, client: c } = await setup();
      w.grant.tamperNext({ claims: { aud: 'https://auth.elsewhere.example' } });
      const error = await failure(c.connect(), EnterpriseInvalidGrantError.is);
      assert.equal(error.reason, 'other');
      assert.match(error.message, /audience is not this authorization server/);
    });

    it('the IdP refusing an expired ID token → sign in again (status needs-oidc-sign-in)', async () => {
      const { world: w, client: c } = await setup(
        {},
        {
          getIdToken: async () => {
            const stale = await world!.idp.signJwt({ sub: 'ada', aud: world!.clientId }, { expiresInSeconds: -60 });
            idTokens.push(stale);
            return stale;
          },
        },
      );
      const error = await failure(c.connect(), EnterpriseInvalidGrantError.is);
      assert.equal(error.reason, 'subjectToken');
      assert.equal(error.stage, 'identity provider');
      assert.match(error.message, /refused your sign-in token/);
      assert.match(error.hint ?? '', /sign in again/);
      assert.equal(c.status().state, 'needs-oidc-sign-in');
      assert.equal(w.posthog.counters.tokenRequests, 0);
    });

    it('classifies the wordings servers use', () => {
      assert.equal(classifyInvalidGrant('JWT "jti" already used'), 'replayed');
      assert.equal(classifyInvalidGrant('assertion replay detected'), 'replayed');
      assert.equal(classifyInvalidGrant('"iat" claim timestamp check failed (it should be in the past)'), 'notYetValid');
      assert.equal(classifyInvalidGrant('token used before nbf'), 'notYetValid');
      assert.equal(classifyInvalidGrant('"exp" claim timestamp check failed'), 'expired');
      assert.equal(classifyInvalidGrant('Assertion has expired'), 'expired');
      assert.equal(classifyInvalidGrant('signature verification failed'), 'badSignature');
      assert.equal(classifyInvalidGrant('no matching key (kid) in JWKS'), 'badSignature');
      assert.equal(classifyInvalidGrant('grant is invalid'), 'other');
      assert.equal(classifyInvalidGrant(undefined), 'other');
    });
  });

  describe('invalid_target', () => {
    it('at the IdP: its policy does not pair this audience and resource', async () => {
      const { world: w, client: c } = await setup({
        grant: { targets: [{ audience: 'https://auth.other.example', resource: 'https://mcp.other.example/mcp' }] },
      });
      const error = await failure(c.connect(), EnterpriseInvalidTargetError.is);
      assert.equal(error.stage, 'identity provider');
      assert.equal(error.resource, w.posthog.mcpUrl);
      assert.ok(error.message.includes(w.posthog.mcpUrl));
      assert.match(error.message, /will not issue access to the PostHog MCP server/);
      assert.match(error.hint ?? '', /IdP administrator/);
      assert.equal(w.posthog.counters.tokenRequests, 0);
    });

    it('at PostHog: the ID-JAG names a resource it does not serve', async () => {
      const { world: w, client: c } = await setup();
      w.grant.tamperNext({ claims: { resource: 'https://mcp.elsewhere.example/mcp' } });
      const error = await failure(c.connect(), EnterpriseInvalidTargetError.is);
      assert.equal(error.stage, 'PostHog authorization server');
      assert.match(error.message, /does not issue tokens for/);
      assert.match(error.message, /mcp\.elsewhere\.example/);
      assert.deepEqual(w.posthog.counters.tokenErrors, { invalid_target: 1 });
    });
  });

  describe('invalid_client', () => {
    it('at the IdP: a wrong client secret', async () => {
      const { world: w, client: c } = await setup({}, { clientSecret: 'not-the-secret' });
      const error = await failure(c.connect(), EnterpriseInvalidClientError.is);
      assert.equal(error.stage, 'identity provider');
      assert.match(error.message, /rejected OnBehalf's client credentials \(client id "onbehalf-vscode"\)/);
      assert.match(error.hint ?? '', /client secret/);
      assert.ok(!shown.join().includes('not-the-secret'));
      assert.equal(w.grant.exchanges, 0);
    });

    it('at the IdP: no client authentication at all (the token exchange requires it)', async () => {
      const { client: c } = await setup({}, { clientSecret: undefined });
      const error = await failure(c.connect(), EnterpriseInvalidClientError.is);
      assert.match(error.message, /requires client authentication/);
    });

    it('at PostHog: the client id is not registered there', async () => {
      const { world: w, client: c } = await setup({}, { resourceClientId: 'unregistered-client' });
      const error = await failure(c.connect(), EnterpriseInvalidClientError.is);
      assert.equal(error.stage, 'PostHog authorization server');
      assert.match(error.message, /PostHog does not accept OnBehalf's client id "unregistered-client"/);
      assert.match(error.hint ?? '', /PostHog administrator to register/);
      assert.deepEqual(w.posthog.counters.tokenErrors, { invalid_client: 1 });
    });
  });

  describe('access_denied', () => {
    it('at the IdP: the admin policy does not assign the user', async () => {
      const { client: c } = await setup({ grant: { deniedSubjects: ['ada'] } });
      const error = await failure(c.connect(), EnterpriseAccessDeniedError.is);
      assert.equal(error.stage, 'identity provider');
      assert.match(error.message, /policy does not let you use PostHog/);
    });

    it('at PostHog: the user is in no organization', async () => {
      const { client: c } = await setup({ posthog: { deniedSubjects: ['ada'] } });
      const error = await failure(c.connect(), EnterpriseAccessDeniedError.is);
      assert.equal(error.stage, 'PostHog authorization server');
      assert.match(error.message, /PostHog denied access for your account.*not a member of any PostHog organization/);
      assert.match(error.hint ?? '', /add your account/);
    });
  });

  describe('forced errors at the token endpoint map one to one', () => {
    const cases: [string, (e: unknown) => boolean][] = [
      ['invalid_grant', EnterpriseInvalidGrantError.is],
      ['invalid_target', EnterpriseInvalidTargetError.is],
      ['invalid_client', EnterpriseInvalidClientError.is],
      ['access_denied', EnterpriseAccessDeniedError.is],
    ];
    for (const [code, is] of cases) {
      it(`${code} from PostHog's AS`, async () => {
        const { world: w, client: c } = await setup();
        w.posthog.failNextToken(code, `forced ${code} for the test`);
        await failure(c.connect(), is as (e: unknown) => e is OnBehalfError);
        assert.match(shown[0] ?? '', new RegExp(`forced ${code} for the test`));
        // And the IdP's token exchange the same way.
        w.grant.failNext(code, `idp forced ${code}`);
        await failure(c.connect(), is as (e: unknown) => e is OnBehalfError);
        assert.match(shown[1] ?? '', new RegExp(`idp forced ${code}`));
      });
    }
  });

  describe('insufficient_scope from the MCP server', () => {
    it('names the missing bootstrap scope when the IdP grants only part of them', async () => {
      const { world: w, client: c } = await setup({ grant: { scopePolicy: (_sub, requested) => requested.filter((s) => s !== 'project:read') } });
      const error = await failure(c.listTools(), EnterpriseInsufficientScopeError.is);
      assert.deepEqual(error.missing, ['project:read']);
      assert.deepEqual(error.required, ['user:read', 'organization:read', 'project:read']);
      assert.deepEqual(error.granted, ['user:read', 'organization:read']);
      assert.match(error.message, /needs scopes that were not granted: project:read \(every session needs user:read, organization:read, project:read\)/);
      assert.match(error.hint ?? '', /grant OnBehalf the PostHog scopes project:read/);
      assert.equal(w.posthog.counters.insufficientScope, 1);
      const challenge = w.posthog.mcpLog.find((e) => e.status === 403);
      assert.equal(challenge?.rpcMethod, 'initialize');
      assert.equal(w.grant.exchanges, 1, 'no pointless re-exchange for scopes already requested');
    });

    it('names every missing scope when none of the bootstrap scopes were granted', async () => {
      const { client: c } = await setup({ grant: { scopePolicy: () => [] } });
      const error = await failure(c.connect(), EnterpriseInsufficientScopeError.is);
      assert.deepEqual(error.missing, ['user:read', 'organization:read', 'project:read']);
      assert.match(error.message, /not granted: user:read, organization:read, project:read/);
      assert.match(error.message, /Granted: none/);
    });

    it('asks once more, with the scopes a challenge names that it had not requested, then succeeds', async () => {
      const { world: w, client: c } = await setup();
      await c.connect();
      w.posthog.failNextMcp({
        status: 403,
        error: 'insufficient_scope',
        scope: 'user:read organization:read project:read feature_flag:write',
        rpcMethod: 'tools/call',
      });
      const result = await c.callTool('posthogmcp_create_feature_flag', { key: 'needs-write' });
      assert.equal(result.isError, false);
      assert.equal(w.grant.exchanges, 2);
      assert.match(w.grant.requests[1]?.scope ?? '', /feature_flag:write/);
      assert.deepEqual(w.posthog.accessTokens[1]?.scope.includes('feature_flag:write'), true);
      assert.ok(c.requestedScopes().includes('feature_flag:write'));
    });
  });

  describe('discovery', () => {
    it('an authorization server without the ID-JAG grant profile → a clear error before any exchange', async () => {
      const { world: w, client: c } = await setup({ posthog: { grantProfiles: [] } });
      const error = await failure(c.listTools(), EnterpriseProfileUnsupportedError.is);
      assert.equal(error.profile, ID_JAG_GRANT_PROFILE);
      assert.equal(ID_JAG_GRANT_PROFILE, 'urn:ietf:params:oauth:grant-profile:id-jag');
      assert.match(error.message, /does not support enterprise-managed authorization.*authorization_grant_profiles_supported \(it lists none\)/);
      assert.match(error.hint ?? '', /enable enterprise-managed authorization/);
      assert.equal(w.grant.requests.length, 0, 'the ID token never left for an AS that cannot take an ID-JAG');
      assert.equal(w.posthog.counters.tokenRequests, 0);

      w.posthog.setGrantProfiles(['urn:example:some-other-profile']);
      const again = await failure(c.discover(), EnterpriseProfileUnsupportedError.is);
      assert.match(again.message, /it lists urn:example:some-other-profile/);
      w.posthog.setGrantProfiles([ID_JAG_GRANT_PROFILE]);
      await c.connect();
    });

    it('finds the metadata through WWW-Authenticate resource_metadata when no well-known URI has it', async () => {
      const { world: w, client: c } = await setup({ posthog: { protectedResourceMetadata: 'header-only' } });
      const discovery = await c.discover();
      assert.equal(discovery.resourceMetadataUrl, w.posthog.resourceMetadataUrl);
      assert.ok(!discovery.resourceMetadataUrl.includes('.well-known'));
      assert.equal(discovery.issuer, w.posthog.issuer);
      assert.equal(discovery.tokenEndpoint, w.posthog.tokenEndpoint);
      assert.equal(w.posthog.mcpLog[0]?.status, 401, 'the unauthenticated probe');
      await c.callTool('posthogmcp_projects_get', {});
    });

    it('a URL with no protected-resource metadata → EnterpriseDiscoveryError', async () => {
      const { world: w } = await setup();
      const c = new EnterprisePostHogClient({
        mcpServerUrl: `${w.idp.issuer}/mcp`,
        idpTokenEndpoint: `${w.idp.issuer}/token`,
        clientId: w.clientId,
        getIdToken: () => w.idToken(),
      });
      try {
        const error = await failure(c.listTools(), EnterpriseDiscoveryError.is);
        assert.match(error.message, /no protected-resource metadata \(RFC 9728\) names .*\/mcp/);
      } finally {
        await c.close();
      }
    });

    it('refuses plain http to a non-loopback host', async () => {
      const { world: w } = await setup();
      const c = new EnterprisePostHogClient({
        mcpServerUrl: 'http://mcp.posthog.example/mcp',
        idpTokenEndpoint: `${w.idp.issuer}/token`,
        clientId: w.clientId,
        getIdToken: () => w.idToken(),
      });
      try {
        const error = await failure(c.discover(), EnterpriseDiscoveryError.is);
        assert.match(error.message, /must use https/);
      } finally {
        await c.close();
      }
    });

    it('an unreachable identity provider → EnterpriseUnreachableError', async () => {
      const { world: w } = await setup();
      const c = new EnterprisePostHogClient({
        mcpServerUrl: w.posthog.mcpUrl,
        idpTokenEndpoint: 'http://127.0.0.1:9/token',
        clientId: w.clientId,
        clientSecret: w.clientSecret,
        getIdToken: () => w.idToken(),
      });
      try {
        const error = await failure(c.connect(), EnterpriseUnreachableError.is);
        assert.equal(error.service, 'identity provider');
      } finally {
        await c.close();
      }
    });
  });

  describe('helpers', () => {
    it('parses Bearer challenges', () => {
      const c = parseWwwAuthenticate(
        'Bearer realm="posthog", error="insufficient_scope", error_description="needs \\"project:read\\"", scope="user:read organization:read project:read", resource_metadata="http://x/.well-known/oauth-protected-resource/mcp"',
      );
      assert.deepEqual(c, {
        scheme: 'bearer',
        error: 'insufficient_scope',
        errorDescription: 'needs "project:read"',
        scope: 'user:read organization:read project:read',
        resourceMetadata: 'http://x/.well-known/oauth-protected-resource/mcp',
      });
      assert.equal(parseWwwAuthenticate(null), undefined);
      assert.deepEqual(parseWwwAuthenticate('Bearer error=invalid_token'), { scheme: 'bearer', error: 'invalid_token' });
    });

    it('redacts JWTs, long opaque strings and given secrets from server text', () => {
      const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEiLCJleHAiOjF9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
      const text = redact(`bad assertion ${jwt} with secret s3cr3t-value and ${'A'.repeat(50)}`, ['s3cr3t-value']);
      assert.ok(!text.includes(jwt) && !text.includes('s3cr3t-value') && !text.includes('A'.repeat(50)), text);
      assert.match(text, /\[redacted\]/);
    });
  });
});
