import * as assert from 'node:assert/strict';
import { generateKeyPair, exportSPKI, importJWK, SignJWT } from 'jose';
import { identifierFor } from '../../src/core/identifier';
import type { RunningGateway } from '../../src/gateway/server';
import { startGateway } from '../../src/gateway/server';
import { startGithubEmulator, type GithubEmulator } from '../emulators/github/server';
import { audience, call, errorCode, idToken, oidcConfig, startOidcGateway, startWorld, type JsonAnswer, type World } from './support';

// Spoofing the gateway: Ada (and strangers with forged tokens) try to make it act or verify
// as Grace. The judge is the Scalekit emulator's own log of which identifier every RPC
// carried: during the attacks, no RPC may carry Grace's identifier, and no answer may
// name her. Prints the figure line the README quotes.

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

describe('gateway spoofing', function () {
  this.timeout(180_000);
  let world: World;
  let gateway: RunningGateway;
  let github: GithubEmulator;
  let githubGateway: RunningGateway;
  let ada: string;
  let adaId: string;
  let graceId: string;
  let attempts = 0;
  const violations: string[] = [];

  before(async () => {
    world = await startWorld();
    gateway = await startOidcGateway(world);
    github = await startGithubEmulator();
    githubGateway = await startGateway({
      ...oidcConfig(world, { instance: 'gw-github' }),
      identity: { kind: 'github', apiUrl: github.url, cacheSeconds: 60 },
    });
    ada = await idToken(world, 'ada');
    adaId = identifierFor('oidc', 'ada', world.idp.issuer);
    graceId = identifierFor('oidc', 'grace', world.idp.issuer);
    for (const id of [adaId, graceId]) {
      world.scalekit.activateAccount(id, 'posthog');
      world.scalekit.activateAccount(id, 'asana');
    }
  });
  after(async () => {
    console.log(`      gateway spoofing: ${attempts} attempts, ${violations.length} ran or verified as another user`);
    await githubGateway.close();
    await gateway.close();
    await github.close();
    await world.close();
  });

  /** Runs one attack: no Scalekit RPC may carry `victim` while it runs, and no answer may name the victim. */
  async function attempt(label: string, victim: string, attack: () => Promise<JsonAnswer>): Promise<JsonAnswer> {
    attempts++;
    const before = world.scalekit.rpcLog.length;
    const answer = await attack();
    const asVictim = world.scalekit.rpcLog.slice(before).filter((r) => r.identifier === victim);
    if (asVictim.length > 0) violations.push(`${label}: ${asVictim.map((r) => `${r.method}=${r.code}`).join(', ')}`);
    if (JSON.stringify(answer.body).includes(victim)) violations.push(`${label}: the answer named the victim`);
    return answer;
  }

  /** A tools/call over plain fetch, with any extra headers or arguments the attacker likes. */
  function mcpCall(
    gw: RunningGateway,
    token: string | undefined,
    args: Record<string, unknown>,
    headers: Record<string, string> = {},
    meta?: Record<string, unknown>,
  ) {
    return call(gw, 'POST', '/mcp', {
      ...(token !== undefined ? { token } : {}),
      headers: { accept: 'application/json, text/event-stream', ...headers },
      body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'asana_workspaces_list', arguments: args, ...(meta ? { _meta: meta } : {}) } },
    });
  }

  it('an identifier in the body, the query or a header is refused or ignored: every call runs as the token says', async () => {
    const names = ['identifier', 'userId', 'user', 'sub', 'account', 'onBehalfOf'];
    // Body fields: refused (unknown fields are errors).
    for (const field of names) {
      for (const [path, body] of [
        ['/v1/connections/posthog/authorize', { userVerifyUrl: 'vscode://onbehalf.onbehalf/verify' }],
        ['/v1/connections/verify', { authRequestId: 'ar_x', state: 'x'.repeat(43) }],
      ] as const) {
        const answer = await attempt(`body ${field} ${path}`, graceId, () => call(gateway, 'POST', path, { token: ada, body: { ...body, [field]: graceId } }));
        assert.equal(answer.status, 400, `${field} on ${path}`);
        assert.match(JSON.stringify(answer.body), new RegExp(`does not accept: \\\\"${field}\\\\"`));
      }
    }
    // Query parameters: refused.
    for (const field of names.slice(0, 3)) {
      for (const [method, path] of [
        ['GET', '/v1/me'],
        ['GET', '/v1/connections'],
        ['GET', '/v1/audit'],
        ['DELETE', '/v1/connections/posthog'],
        ['POST', '/mcp'],
      ] as const) {
        const answer = await attempt(`query ${field} ${method} ${path}`, graceId, () =>
          call(gateway, method, `${path}?${field}=${encodeURIComponent(graceId)}`, {
            token: ada,
            ...(method === 'POST' ? { body: { jsonrpc: '2.0', id: 1, method: 'tools/list' }, headers: { accept: 'application/json, text/event-stream' } } : {}),
          }),
        );
        assert.equal(answer.status, 400, `${field} on ${method} ${path}`);
      }
    }
    // Headers: ignored; the answer is Ada's own.
    const headerNames = [
      'x-onbehalf-identifier',
      'x-identifier',
      'x-user',
      'x-forwarded-user',
      'x-remote-user',
      'x-auth-request-user',
      'x-scalekit-identifier',
      'x-forwarded-email',
    ];
    for (const header of headerNames) {
      const me = await attempt(`header ${header} /v1/me`, graceId, () => call(gateway, 'GET', '/v1/me', { token: ada, headers: { [header]: graceId } }));
      assert.equal((me.body as { identifier: string }).identifier, adaId);
      const connections = await attempt(`header ${header} /v1/connections`, graceId, () =>
        call(gateway, 'GET', '/v1/connections', { token: ada, headers: { [header]: graceId } }),
      );
      assert.equal(connections.status, 200);
      const ran = await attempt(`header ${header} tools/call`, graceId, () => mcpCall(gateway, ada, {}, { [header]: graceId }));
      assert.equal(ran.status, 200);
      assert.equal(world.scalekit.executions.at(-1)?.identifier, adaId, 'ran as Ada, the token');
    }
    // Tool input and _meta: passed to the tool as data, never used as the identifier.
    for (const [args, meta] of [
      [{ identifier: graceId }, undefined],
      [{}, { identifier: graceId }],
      [{ identifier: graceId, connected_account_id: graceId }, { 'onbehalf/identifier': graceId }],
    ] as const) {
      await attempt('tool input / _meta identifier', graceId, () => mcpCall(gateway, ada, args, {}, meta));
      assert.equal(world.scalekit.executions.at(-1)?.identifier, adaId);
    }
  });

  it('forged, expired, not-yet-valid, wrong-audience, wrong-issuer, alg:none, HS256-with-the-public-key and tampered tokens get 401 on every endpoint', async () => {
    const idpKey = await importJWK(world.idp.jwk, 'RS256');
    const publicPem = idpKey instanceof Uint8Array ? '' : await exportSPKI(idpKey);
    const foreign = await generateKeyPair('RS256');
    const grace = { sub: 'grace', aud: audience, name: 'Grace Hopper' };
    const valid = await idToken(world, 'ada');
    const [header, , signature] = valid.split('.');
    const forged: Record<string, string> = {
      'signed by a foreign key with the issuer kid': await new SignJWT({ ...grace, iss: world.idp.issuer })
        .setProtectedHeader({ alg: 'RS256', kid: world.idp.jwk.kid! })
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(foreign.privateKey),
      'signed by a foreign key with an unknown kid': await new SignJWT({ ...grace, iss: world.idp.issuer })
        .setProtectedHeader({ alg: 'RS256', kid: 'attacker' })
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(foreign.privateKey),
      'expired 10 minutes ago': await world.idp.signJwt({ ...grace, iat: now() - 4200, exp: now() - 600 }),
      'expired beyond the 30 s skew': await world.idp.signJwt({ ...grace, iat: now() - 3700, exp: now() - 90 }),
      'not valid for 10 minutes (nbf)': await world.idp.signJwt({ ...grace, nbf: now() + 600, exp: now() + 3600 }),
      'for another audience': await world.idp.signJwt({ ...grace, aud: 'some-other-app' }, { expiresInSeconds: 3600 }),
      'from another issuer': await world.idp.signJwt({ ...grace, iss: 'https://evil.example' }, { expiresInSeconds: 3600 }),
      'with a trailing-slash issuer': await world.idp.signJwt({ ...grace, iss: `${world.idp.issuer}/` }, { expiresInSeconds: 3600 }),
      'without exp': await world.idp.signJwt(grace),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...grace, iss: world.idp.issuer, iat: now(), exp: now() + 3600 })}.`,
      'HS256 keyed with the public key PEM': await new SignJWT({ ...grace, iss: world.idp.issuer })
        .setProtectedHeader({ alg: 'HS256', kid: world.idp.jwk.kid! })
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(Buffer.from(publicPem)),
      'HS256 keyed with the JWK JSON': await new SignJWT({ ...grace, iss: world.idp.issuer })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(Buffer.from(JSON.stringify(world.idp.jwk))),
      "Ada's signature on Grace's claims": `${header}.${b64({ ...grace, iss: world.idp.issuer, iat: now(), exp: now() + 3600 })}.${signature}`,
      'not a JWT': 'grace',
    };
    const endpoints: [string, string, unknown?][] = [
      ['GET', '/v1/me'],
      ['GET', '/v1/connections'],
      ['GET', '/v1/audit'],
      ['POST', '/v1/connections/posthog/authorize', { userVerifyUrl: 'vscode://onbehalf.onbehalf/verify' }],
      ['POST', '/v1/connections/verify', { authRequestId: 'ar_x', state: 'x'.repeat(43) }],
      ['DELETE', '/v1/connections/posthog'],
      ['POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' }],
      ['POST', '/mcp', { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'asana_workspaces_list', arguments: {} } }],
    ];
    for (const [label, token] of Object.entries(forged)) {
      for (const [method, path, body] of endpoints) {
        const answer = await attempt(`${label} ${method} ${path}`, graceId, () =>
          call(gateway, method, path, { token, ...(body !== undefined ? { body } : {}), headers: { accept: 'application/json, text/event-stream' } }),
        );
        assert.equal(answer.status, 401, `${label} on ${method} ${path}: ${JSON.stringify(answer.body)}`);
        assert.equal(errorCode(answer), 'invalid_token');
        assert.equal(answer.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      }
    }
    // No bearer at all, another scheme, or the token in the query string.
    const unusable: Record<string, string>[] = [{}, { authorization: `Basic ${Buffer.from('grace:x').toString('base64')}` }, { authorization: 'Bearer' }];
    for (const headers of unusable) {
      const answer = await attempt('no usable bearer', graceId, () => call(gateway, 'GET', '/v1/me', { headers }));
      assert.equal(answer.status, 401);
    }
    const inQuery = await attempt('token in the query', graceId, () => call(gateway, 'GET', `/v1/me?access_token=${valid}`));
    assert.ok(inQuery.status === 400 || inQuery.status === 401);
  });

  it("a state issued to another user, someone else's auth_request_id, a replayed, expired or made-up state: nothing verifies as Grace", async () => {
    const graceToken = await idToken(world, 'grace');
    const userVerifyUrl = 'vscode://onbehalf.onbehalf/verify';
    // Grace re-authorizes PostHog and consents; the redirect (her state, her auth_request_id) falls into Ada's hands.
    const graceLink = await call<{ url: string }>(gateway, 'POST', '/v1/connections/posthog/authorize', { token: graceToken, body: { userVerifyUrl } });
    const graceRedirect = new URL(world.scalekit.decideConsent(new URL(graceLink.body.url).pathname.split('/').pop()!, 'allow').redirectUrl!);
    const graceState = graceRedirect.searchParams.get('state')!;
    const graceRequest = graceRedirect.searchParams.get('auth_request_id')!;

    const stolen = await attempt("Grace's state and auth_request_id", graceId, () =>
      call(gateway, 'POST', '/v1/connections/verify', { token: ada, body: { authRequestId: graceRequest, state: graceState } }),
    );
    assert.equal(stolen.status, 400);
    assert.equal(errorCode(stolen), 'state_invalid');

    // Ada's own state with Grace's auth_request_id: the gateway verifies as Ada, and Scalekit refuses.
    const adaLink = await call<{ url: string }>(gateway, 'POST', '/v1/connections/posthog/authorize', { token: ada, body: { userVerifyUrl } });
    const adaRedirect = new URL(world.scalekit.decideConsent(new URL(adaLink.body.url).pathname.split('/').pop()!, 'allow').redirectUrl!);
    const adaState = adaRedirect.searchParams.get('state')!;
    const mixed = await attempt("Ada's state with Grace's auth_request_id", graceId, () =>
      call(gateway, 'POST', '/v1/connections/verify', { token: ada, body: { authRequestId: graceRequest, state: adaState } }),
    );
    assert.equal(mixed.status, 403);
    assert.equal(world.scalekit.getAccount(graceId, 'posthog')?.status, 'PENDING_VERIFICATION', "Grace's request was not completed by Ada");

    // Ada finishes her own connection properly, then replays it.
    const adaRequest = adaRedirect.searchParams.get('auth_request_id')!;
    const adaLink2 = await call<{ url: string }>(gateway, 'POST', '/v1/connections/posthog/authorize', { token: ada, body: { userVerifyUrl } });
    const adaRedirect2 = new URL(world.scalekit.decideConsent(new URL(adaLink2.body.url).pathname.split('/').pop()!, 'allow').redirectUrl!);
    const ok = await call(gateway, 'POST', '/v1/connections/verify', {
      token: ada,
      body: { authRequestId: adaRedirect2.searchParams.get('auth_request_id')!, state: adaRedirect2.searchParams.get('state')! },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    for (const [label, body] of [
      ['replayed state', { authRequestId: adaRedirect2.searchParams.get('auth_request_id')!, state: adaRedirect2.searchParams.get('state')! }],
      ['burned state with Grace’s request', { authRequestId: graceRequest, state: adaState }],
      ['made-up state', { authRequestId: graceRequest, state: 'A'.repeat(43) }],
      ['malformed state', { authRequestId: graceRequest, state: 'short' }],
      ['old request id', { authRequestId: adaRequest, state: adaState }],
    ] as const) {
      const answer = await attempt(label, graceId, () => call(gateway, 'POST', '/v1/connections/verify', { token: ada, body }));
      assert.equal(answer.status, 400, label);
    }
    // An expired state of Ada's.
    const adaLink3 = await call<{ url: string }>(gateway, 'POST', '/v1/connections/asana/authorize', { token: ada, body: { userVerifyUrl } });
    const adaRedirect3 = new URL(world.scalekit.decideConsent(new URL(adaLink3.body.url).pathname.split('/').pop()!, 'allow').redirectUrl!);
    await gateway.database.query(`UPDATE connect_states SET expires_at = now() - interval '1 second' WHERE consumed_at IS NULL AND connection = 'asana'`);
    const expired = await attempt('expired state', graceId, () =>
      call(gateway, 'POST', '/v1/connections/verify', {
        token: ada,
        body: { authRequestId: adaRedirect3.searchParams.get('auth_request_id')!, state: adaRedirect3.searchParams.get('state')! },
      }),
    );
    assert.equal(errorCode(expired), 'state_invalid');

    // Grace can still finish her own: Ada's attempts burned nothing of hers.
    const mine = await call<{ status: string }>(gateway, 'POST', '/v1/connections/verify', {
      token: graceToken,
      body: { authRequestId: graceRequest, state: graceState },
    });
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.equal(mine.body.status, 'ACTIVE');
  });

  it("another user's GitHub token is that user, never the one named in a header; a revoked or made-up token gets 401", async () => {
    const [octocat, hubot] = github.users;
    const octocatId = identifierFor('github', String(octocat!.id));
    world.scalekit.activateAccount(octocatId, 'asana');
    const hubotToken = github.issueToken(hubot!.id);
    for (const header of ['x-onbehalf-identifier', 'x-github-user', 'x-forwarded-user']) {
      const me = await attempt(`GitHub ${header}`, octocatId, () =>
        call(githubGateway, 'GET', '/v1/me', { token: hubotToken, headers: { [header]: octocatId } }),
      );
      assert.equal((me.body as { identifier: string }).identifier, `github:${hubot!.id}`);
      await attempt(`GitHub ${header} tools/call`, octocatId, () => mcpCall(githubGateway, hubotToken, { identifier: octocatId }, { [header]: octocatId }));
    }
    const revoked = github.issueToken(octocat!.id);
    github.revokeToken(revoked);
    for (const token of [revoked, `gho_${'x'.repeat(36)}`, `${hubotToken}x`]) {
      const answer = await attempt('GitHub bad token', octocatId, () => call(githubGateway, 'GET', '/v1/connections', { token }));
      assert.equal(answer.status, 401);
      const tools = await attempt('GitHub bad token tools/call', octocatId, () => mcpCall(githubGateway, token, {}));
      assert.equal(tools.status, 401);
    }
  });

  it('in all: at least 100 attempts, and none ran or verified as another user', () => {
    assert.ok(attempts >= 100, `${attempts} attempts`);
    assert.deepEqual(violations, []);
  });
});
