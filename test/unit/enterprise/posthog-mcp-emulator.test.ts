// The emulators themselves, driven over raw HTTP the way any client would: the IdP's
// ID-JAG token exchange (RFC 8693), PostHog's AS (RFC 7523 jwt-bearer with PostHog's
// rules) and the audience binding of the access tokens it mints.
import * as assert from 'node:assert/strict';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { startEnterpriseWorld, type EnterpriseWorld } from '../../emulators/posthog-mcp/harness';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';

async function form(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

describe('PostHog AS + MCP emulator and the IdP token exchange', function () {
  this.timeout(30_000);
  let world: EnterpriseWorld;
  let basic: string;

  before(async () => {
    // RS256 here, as most enterprise IdPs sign; the other suites use ES256 for speed.
    world = await startEnterpriseWorld({ idp: { alg: 'RS256' } });
    basic = `Basic ${Buffer.from(`${world.clientId}:${world.clientSecret}`).toString('base64')}`;
  });
  after(async () => {
    await world.close();
  });

  async function idJag(resource = world.posthog.mcpUrl, sub = 'ada', scope = 'user:read organization:read project:read'): Promise<string> {
    const res = await form(
      `${world.idp.issuer}/token`,
      {
        grant_type: TOKEN_EXCHANGE,
        requested_token_type: ID_JAG,
        audience: world.posthog.issuer,
        resource,
        scope,
        subject_token: await world.idToken(sub),
        subject_token_type: ID_TOKEN,
      },
      { authorization: basic },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.access_token as string;
  }

  async function accessToken(resource = world.posthog.mcpUrl): Promise<string> {
    const res = await form(world.posthog.tokenEndpoint, { grant_type: JWT_BEARER, assertion: await idJag(resource), client_id: world.clientId });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.access_token as string;
  }

  async function initialize(token: string, url = world.posthog.mcpUrl): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
      }),
    });
  }

  it('publishes RFC 9728 metadata for /mcp and RFC 8414 metadata listing the ID-JAG grant profile', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const prm = (await (await fetch(`${world.posthog.issuer}${path}`)).json()) as Record<string, unknown>;
      assert.equal(prm.resource, world.posthog.mcpUrl);
      assert.deepEqual(prm.authorization_servers, [world.posthog.issuer]);
      assert.ok((prm.scopes_supported as string[]).includes('project:read'));
    }
    const as = (await (await fetch(`${world.posthog.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(as.issuer, world.posthog.issuer);
    assert.equal(as.token_endpoint, world.posthog.tokenEndpoint);
    assert.deepEqual(as.authorization_grant_profiles_supported, ['urn:ietf:params:oauth:grant-profile:id-jag']);
    assert.deepEqual(as.grant_types_supported, [JWT_BEARER]);
    const idp = (await (await fetch(`${world.idp.issuer}/.well-known/openid-configuration`)).json()) as { grant_types_supported: string[] };
    assert.ok(idp.grant_types_supported.includes(TOKEN_EXCHANGE), 'the IdP advertises the token exchange once installed');
  });

  it('token exchange: an RFC 8693 response carrying a signed oauth-id-jag+jwt with the profile claims', async () => {
    const res = await form(
      `${world.idp.issuer}/token`,
      {
        grant_type: TOKEN_EXCHANGE,
        requested_token_type: ID_JAG,
        audience: world.posthog.issuer,
        resource: world.posthog.mcpUrl,
        scope: 'user:read project:read',
        subject_token: await world.idToken('grace'),
        subject_token_type: ID_TOKEN,
      },
      { authorization: basic },
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.issued_token_type, ID_JAG);
    assert.equal(res.body.token_type, 'N_A');
    assert.equal(res.body.expires_in, 300);
    assert.equal(res.body.scope, 'user:read project:read');
    const jag = res.body.access_token as string;
    const header = decodeProtectedHeader(jag);
    assert.equal(header.typ, 'oauth-id-jag+jwt');
    assert.equal(header.alg, 'RS256');
    const { payload } = await jwtVerify(jag, createRemoteJWKSet(new URL(`${world.idp.issuer}/jwks`)), {
      issuer: world.idp.issuer,
      audience: world.posthog.issuer,
      currentDate: new Date(world.now()),
      typ: 'oauth-id-jag+jwt',
    });
    assert.deepEqual(Object.keys(payload).sort(), ['aud', 'client_id', 'email', 'exp', 'iat', 'iss', 'jti', 'resource', 'scope', 'sub']);
    assert.equal(payload.sub, 'grace');
    assert.equal(payload.email, 'grace@example.com');
    assert.equal(payload.client_id, world.clientId);
    assert.equal(payload.resource, world.posthog.mcpUrl);
  });

  it('token exchange refuses a public client, a wrong token type and missing audience/resource', async () => {
    const base = {
      grant_type: TOKEN_EXCHANGE,
      requested_token_type: ID_JAG,
      audience: world.posthog.issuer,
      resource: world.posthog.mcpUrl,
      subject_token: await world.idToken(),
      subject_token_type: ID_TOKEN,
    };
    assert.equal((await form(`${world.idp.issuer}/token`, { ...base, client_id: world.clientId })).body.error, 'invalid_client');
    assert.equal(
      (await form(`${world.idp.issuer}/token`, { ...base, requested_token_type: 'urn:ietf:params:oauth:token-type:access_token' }, { authorization: basic }))
        .body.error,
      'invalid_request',
    );
    const { audience: _a, ...noAudience } = base;
    assert.equal((await form(`${world.idp.issuer}/token`, noAudience, { authorization: basic })).body.error, 'invalid_request');
    const { resource: _r, ...noResource } = base;
    assert.equal((await form(`${world.idp.issuer}/token`, noResource, { authorization: basic })).body.error, 'invalid_request');
    const foreignIdToken = await world.idp.signJwt({ sub: 'ada', aud: 'some-other-client' }, { expiresInSeconds: 600 });
    assert.equal((await form(`${world.idp.issuer}/token`, { ...base, subject_token: foreignIdToken }, { authorization: basic })).body.error, 'invalid_grant');
  });

  it('jwt-bearer: a 2-hour Bearer token bound to the MCP resource, with no refresh token', async () => {
    const res = await form(world.posthog.tokenEndpoint, { grant_type: JWT_BEARER, assertion: await idJag(), client_id: world.clientId });
    assert.equal(res.status, 200);
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.expires_in, 7200);
    assert.equal(res.body.scope, 'user:read organization:read project:read');
    assert.equal('refresh_token' in res.body, false);
    const claims = decodeJwt(res.body.access_token as string);
    assert.equal(claims.aud, world.posthog.mcpUrl);
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 7200);
    assert.equal(decodeProtectedHeader(res.body.access_token as string).typ, 'at+jwt');
  });

  it('an ID-JAG works once: the same jti again is invalid_grant (replay)', async () => {
    const jag = await idJag();
    const before = world.posthog.counters.replaysRefused;
    assert.equal((await form(world.posthog.tokenEndpoint, { grant_type: JWT_BEARER, assertion: jag })).status, 200);
    const again = await form(world.posthog.tokenEndpoint, { grant_type: JWT_BEARER, assertion: jag });
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
    assert.match(String(again.body.error_description), /already used.*replay/);
    assert.equal(world.posthog.counters.replaysRefused, before + 1);
  });

  it('refuses a JWT that is not typed oauth-id-jag+jwt, even when signed by the IdP', async () => {
    const claims = decodeJwt(await idJag());
    const plain = await world.idp.signJwt({ ...claims, jti: 'fresh-jti-for-typ-test' }, { typ: 'JWT' });
    const res = await form(world.posthog.tokenEndpoint, { grant_type: JWT_BEARER, assertion: plain });
    assert.equal(res.body.error, 'invalid_grant');
    assert.match(String(res.body.error_description), /typ/);
    assert.equal((await form(world.posthog.tokenEndpoint, { grant_type: 'client_credentials' })).body.error, 'unsupported_grant_type');
  });

  it('a token minted for the MCP resource is refused at any other audience, and the reverse', async () => {
    const mcpToken = await accessToken(world.posthog.mcpUrl);
    assert.equal((await initialize(mcpToken)).status, 200, 'accepted where it belongs');
    const elsewhere = await fetch(world.posthog.otherApiUrl, { headers: { authorization: `Bearer ${mcpToken}` } });
    assert.equal(elsewhere.status, 401);
    const challenge = elsewhere.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /error="invalid_token"/);
    assert.match(challenge, /bound to another audience/);
    assert.match(challenge, /resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/other-api"/);

    const otherToken = await accessToken(world.posthog.otherApiUrl);
    assert.equal(decodeJwt(otherToken).aud, world.posthog.otherApiUrl);
    assert.equal((await fetch(world.posthog.otherApiUrl, { headers: { authorization: `Bearer ${otherToken}` } })).status, 200);
    const atMcp = await initialize(otherToken);
    assert.equal(atMcp.status, 401, 'an /other-api token does not open the MCP server');
    assert.match(atMcp.headers.get('www-authenticate') ?? '', /invalid_token/);
  });

  it('answers 401 with resource_metadata without a token, and 401 invalid_token once revoked or expired', async () => {
    const anonymous = await fetch(world.posthog.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), `Bearer realm="posthog", resource_metadata="${world.posthog.resourceMetadataUrl}"`);

    const token = await accessToken();
    world.posthog.revokeTokens();
    assert.match((await initialize(token)).headers.get('www-authenticate') ?? '', /error="invalid_token", error_description="the access token was revoked"/);

    const fresh = await accessToken();
    world.advance(2 * 60 * 60 * 1000);
    try {
      assert.match((await initialize(fresh)).headers.get('www-authenticate') ?? '', /the access token expired/);
    } finally {
      world.advance(-2 * 60 * 60 * 1000);
    }
  });
});
