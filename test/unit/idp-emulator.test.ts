// Drives the OIDC IdP emulator over HTTP the way a client does, and verifies its
// ID tokens with jose against the published JWKS.
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { makePkce, startIdpEmulator, type IdpEmulator } from '../emulators/idp/server';

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
  code_challenge_methods_supported: string[];
}

interface LoginResult {
  code: string;
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  location: URL;
}

const REDIRECT = 'http://127.0.0.1:53682/callback?windowId=7&from=vscode';

function hrefById(html: string, id: string): string {
  const m = new RegExp(`<a[^>]*id="${id}"[^>]*href="([^"]+)"`).exec(html) ?? new RegExp(`<a[^>]*href="([^"]+)"[^>]*id="${id}"`).exec(html);
  assert.ok(m?.[1], `no link with id ${id}`);
  return m[1].replace(/&amp;/g, '&');
}

async function getJson<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

describe('OIDC IdP emulator', function () {
  let emu: IdpEmulator;
  let discovery: Discovery;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  before(async () => {
    emu = await startIdpEmulator();
    discovery = await getJson<Discovery>(await fetch(`${emu.issuer}/.well-known/openid-configuration`));
    jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  });
  after(async () => {
    await emu.close();
  });
  afterEach(() => {
    emu.setClock(undefined);
    emu.signWithForeignKey(false);
  });

  async function login(sub = 'ada', redirectUri = REDIRECT): Promise<LoginResult> {
    const { verifier, challenge } = makePkce();
    const state = randomBytes(12).toString('base64url');
    const nonce = randomBytes(12).toString('base64url');
    const authorize = new URL(discovery.authorization_endpoint);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: emu.clientId,
      redirect_uri: redirectUri,
      scope: 'openid profile email',
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const page = await fetch(authorize);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    const res = await fetch(new URL(hrefById(html, `login-${sub}`), emu.issuer), { redirect: 'manual' });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location') ?? '');
    const code = location.searchParams.get('code');
    assert.ok(code);
    assert.equal(location.searchParams.get('state'), state);
    return { code, state, nonce, verifier, redirectUri, location };
  }

  function exchange(l: LoginResult, overrides: Record<string, string> = {}): Promise<Response> {
    return fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: l.code,
        redirect_uri: l.redirectUri,
        client_id: emu.clientId,
        code_verifier: l.verifier,
        ...overrides,
      }),
    });
  }

  interface TokenResponse {
    access_token: string;
    id_token: string;
    token_type: string;
    expires_in: number;
    refresh_token: string;
  }

  async function verify(idToken: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(idToken, jwks, { issuer: emu.issuer, audience: emu.clientId });
    return payload;
  }

  it('publishes discovery with the issuer http://127.0.0.1:<port>', () => {
    assert.equal(discovery.issuer, `http://127.0.0.1:${emu.port}`);
    assert.equal(discovery.token_endpoint, `${emu.issuer}/token`);
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
  });

  it('runs the authorization code + PKCE flow and issues an ID token that verifies against the JWKS', async () => {
    const l = await login('ada');
    const res = await exchange(l);
    assert.equal(res.status, 200);
    const tokens = await getJson<TokenResponse>(res);
    assert.equal(tokens.token_type, 'Bearer');
    assert.ok(tokens.access_token && tokens.refresh_token && tokens.expires_in > 0);
    const claims = await verify(tokens.id_token);
    assert.equal(claims.sub, 'ada');
    assert.equal(claims.nonce, l.nonce);
    assert.equal(claims.name, 'Ada Lovelace');
    assert.equal(claims.email, 'ada@example.com');
    assert.ok(typeof claims.iat === 'number' && typeof claims.exp === 'number' && claims.exp > claims.iat);
    const info = await getJson<{ sub: string; email: string }>(
      await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
    );
    assert.equal(info.sub, 'ada');
    assert.equal(emu.issued.codes.at(-1)?.used, true);
  });

  it('lists the demo users on a real login page, Grace included', async () => {
    const l = await login('grace');
    const claims = await verify((await getJson<TokenResponse>(await exchange(l))).id_token);
    assert.equal(claims.sub, 'grace');
    assert.equal(claims.name, 'Grace Hopper');
  });

  it('keeps the query parameters already on redirect_uri', async () => {
    const l = await login('ada');
    assert.equal(l.location.origin + l.location.pathname, 'http://127.0.0.1:53682/callback');
    assert.equal(l.location.searchParams.get('windowId'), '7');
    assert.equal(l.location.searchParams.get('from'), 'vscode');
  });

  it('rejects a wrong code_verifier with invalid_grant', async () => {
    const l = await login();
    const wrong = randomBytes(32).toString('base64url');
    const res = await exchange(l, { code_verifier: wrong });
    assert.equal(res.status, 400);
    assert.equal((await getJson<{ error: string }>(res)).error, 'invalid_grant');
  });

  it('rejects a missing code_verifier with invalid_request', async () => {
    const l = await login();
    const res = await fetch(discovery.token_endpoint, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', code: l.code, redirect_uri: l.redirectUri, client_id: emu.clientId }),
    });
    assert.equal(res.status, 400);
    assert.equal((await getJson<{ error: string }>(res)).error, 'invalid_request');
  });

  it('rejects a replayed code and revokes what the first redemption issued', async () => {
    const l = await login();
    const first = await getJson<TokenResponse>(await exchange(l));
    const replay = await exchange(l);
    assert.equal(replay.status, 400);
    assert.equal((await getJson<{ error: string }>(replay)).error, 'invalid_grant');
    const info = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${first.access_token}` } });
    assert.equal(info.status, 401);
  });

  it('rejects a redirect_uri that differs from the authorization request', async () => {
    const l = await login();
    const res = await exchange(l, { redirect_uri: 'http://127.0.0.1:53682/callback' });
    assert.equal(res.status, 400);
    assert.equal((await getJson<{ error: string }>(res)).error, 'invalid_grant');
  });

  it('rejects an unknown client with invalid_client (401)', async () => {
    const l = await login();
    const res = await exchange(l, { client_id: 'someone-else' });
    assert.equal(res.status, 401);
    assert.equal((await getJson<{ error: string }>(res)).error, 'invalid_client');
  });

  it('expires codes on the emulator clock', async () => {
    const l = await login();
    emu.advanceClock(61_000);
    const res = await exchange(l);
    assert.equal(res.status, 400);
    assert.match((await getJson<{ error_description: string }>(res)).error_description, /expired/);
  });

  it('an ID token signed with a foreign key fails signature verification', async () => {
    emu.signWithForeignKey(true);
    const tokens = await getJson<TokenResponse>(await exchange(await login()));
    await assert.rejects(verify(tokens.id_token), (err: Error & { code?: string }) => err.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    emu.signWithForeignKey('unknown-kid');
    const other = await getJson<TokenResponse>(await exchange(await login()));
    await assert.rejects(verify(other.id_token), (err: Error & { code?: string }) => err.code === 'ERR_JWKS_NO_MATCHING_KEY');
  });

  it('tamperNextIdToken alters exactly one token: iss, aud, nonce, expired', async () => {
    emu.tamperNextIdToken({ aud: 'another-client' });
    const t1 = (await getJson<TokenResponse>(await exchange(await login()))).id_token;
    await assert.rejects(verify(t1), (err: Error & { code?: string; claim?: string }) => err.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && err.claim === 'aud');

    emu.tamperNextIdToken({ iss: 'http://evil.invalid' });
    const t2 = (await getJson<TokenResponse>(await exchange(await login()))).id_token;
    await assert.rejects(verify(t2), (err: Error & { code?: string; claim?: string }) => err.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && err.claim === 'iss');

    emu.tamperNextIdToken({ expired: true });
    const t3 = (await getJson<TokenResponse>(await exchange(await login()))).id_token;
    await assert.rejects(verify(t3), (err: Error & { code?: string }) => err.code === 'ERR_JWT_EXPIRED');

    emu.tamperNextIdToken({ nonce: 'not-the-nonce' });
    const l4 = await login();
    const claims4 = await verify((await getJson<TokenResponse>(await exchange(l4))).id_token);
    assert.equal(claims4.nonce, 'not-the-nonce');
    assert.notEqual(claims4.nonce, l4.nonce);

    const l5 = await login();
    const claims5 = await verify((await getJson<TokenResponse>(await exchange(l5))).id_token);
    assert.equal(claims5.nonce, l5.nonce, 'the tamper applied once only');
  });

  it('refreshes tokens, rotating the refresh token; the refreshed ID token has no nonce', async () => {
    const tokens = await getJson<TokenResponse>(await exchange(await login('grace')));
    const refresh = (rt: string): Promise<Response> =>
      fetch(discovery.token_endpoint, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt, client_id: emu.clientId }),
      });
    const res = await refresh(tokens.refresh_token);
    assert.equal(res.status, 200);
    const next = await getJson<TokenResponse>(res);
    assert.notEqual(next.access_token, tokens.access_token);
    assert.notEqual(next.refresh_token, tokens.refresh_token);
    const claims = await verify(next.id_token);
    assert.equal(claims.sub, 'grace');
    assert.equal(claims.nonce, undefined);
    const reused = await refresh(tokens.refresh_token);
    assert.equal(reused.status, 400);
    assert.equal((await getJson<{ error: string }>(reused)).error, 'invalid_grant');
  });

  it('sends authorize errors back through the redirect, keeping state and existing params', async () => {
    const { challenge } = makePkce();
    const url = new URL(
      emu.authorizeUrl({ redirectUri: REDIRECT, state: 's1', nonce: 'n1', codeChallenge: challenge, extra: { code_challenge_method: 'plain' } }),
    );
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(res.status, 302);
    const loc = new URL(res.headers.get('location') ?? '');
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
    assert.equal(loc.searchParams.get('state'), 's1');
    assert.equal(loc.searchParams.get('windowId'), '7');

    const noNonce = new URL(emu.authorizeUrl({ redirectUri: REDIRECT, state: 's2', nonce: 'x', codeChallenge: challenge }));
    noNonce.searchParams.delete('nonce');
    const loc2 = new URL((await fetch(noNonce, { redirect: 'manual' })).headers.get('location') ?? '');
    assert.equal(loc2.searchParams.get('error'), 'invalid_request');
    assert.match(loc2.searchParams.get('error_description') ?? '', /nonce/);
  });

  it('answers JSON errors it cannot redirect: unknown client, missing redirect_uri', async () => {
    const { challenge } = makePkce();
    const badClient = await fetch(emu.authorizeUrl({ clientId: 'nope', redirectUri: REDIRECT, state: 's', nonce: 'n', codeChallenge: challenge }), {
      redirect: 'manual',
    });
    assert.equal(badClient.status, 401);
    assert.equal((await getJson<{ error: string }>(badClient)).error, 'invalid_client');
    const noRedirect = new URL(emu.authorizeUrl({ redirectUri: REDIRECT, state: 's', nonce: 'n', codeChallenge: challenge }));
    noRedirect.searchParams.delete('redirect_uri');
    const res = await fetch(noRedirect, { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal((await getJson<{ error: string }>(res)).error, 'invalid_request');
  });

  it('Cancel redirects with error=access_denied and the state', async () => {
    const { challenge } = makePkce();
    const html = await (await fetch(emu.authorizeUrl({ redirectUri: REDIRECT, state: 'st', nonce: 'n', codeChallenge: challenge }))).text();
    const res = await fetch(new URL(hrefById(html, 'cancel'), emu.issuer), { redirect: 'manual' });
    const loc = new URL(res.headers.get('location') ?? '');
    assert.equal(loc.searchParams.get('error'), 'access_denied');
    assert.equal(loc.searchParams.get('state'), 'st');
    assert.equal(loc.searchParams.get('code'), null);
  });

  it('rejects unsupported grant types, and accepts registered ones (room for token exchange)', async () => {
    const post = (body: Record<string, string>): Promise<Response> =>
      fetch(discovery.token_endpoint, { method: 'POST', body: new URLSearchParams({ client_id: emu.clientId, ...body }) });
    const unsupported = await post({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange' });
    assert.equal(unsupported.status, 400);
    assert.equal((await getJson<{ error: string }>(unsupported)).error, 'unsupported_grant_type');

    const tokens = await getJson<TokenResponse>(await exchange(await login()));
    emu.registerGrant('urn:ietf:params:oauth:grant-type:token-exchange', async (params, ctx) => {
      const subject = await ctx.emu.verifyJwt(params.get('subject_token') ?? '', { audience: ctx.clientId });
      const jag = await ctx.emu.signJwt({ sub: subject.sub, aud: params.get('audience') ?? '' }, { typ: 'oauth-id-jag+jwt', expiresInSeconds: 300 });
      return { body: { access_token: jag, issued_token_type: 'urn:ietf:params:oauth:token-type:id-jag', token_type: 'N_A' } };
    });
    const exchanged = await post({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: tokens.id_token,
      audience: 'http://as.example',
    });
    assert.equal(exchanged.status, 200);
    const jag = decodeJwt((await getJson<{ access_token: string }>(exchanged)).access_token);
    assert.equal(jag.sub, 'ada');
    assert.equal(jag.iss, emu.issuer);
  });

  it('makePkce produces an S256 pair', () => {
    const { verifier, challenge } = makePkce();
    assert.equal(createHash('sha256').update(verifier).digest('base64url'), challenge);
    assert.ok(verifier.length >= 43);
  });
});
