import * as assert from 'node:assert/strict';
import { OidcError } from '../../../src/core/errors';
import { OidcClient, pkceChallenge } from '../../../src/core/oidc';
import { ServiceUnavailableError } from '../../../src/core/errors';
import { startIdpEmulator, type IdpEmulator } from '../../emulators/idp/server';

// The extension's OIDC client against the IdP emulator, clicking through its login page
// over HTTP the way a browser would.

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Real fetch to the emulator, with the JSON answer of the matching URLs rewritten. */
function rewriting(match: RegExp, rewrite: (body: Record<string, unknown>) => Record<string, unknown>): FetchLike {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!match.test(input)) return response;
    const body = (await response.json()) as Record<string, unknown>;
    return new Response(JSON.stringify(rewrite(body)), { status: response.status, headers: { 'content-type': 'application/json' } });
  };
}

function without(body: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = body;
  return rest;
}

async function signInThroughLoginPage(authorizeUrl: string, user: string): Promise<URL> {
  const page = await fetch(authorizeUrl);
  assert.equal(page.status, 200);
  const html = await page.text();
  const href = new RegExp(`id="login-${user}" href="([^"]+)"`).exec(html)?.[1];
  assert.ok(href, 'login link on the page');
  const login = await fetch(new URL(href.replace(/&amp;/g, '&'), authorizeUrl), { redirect: 'manual' });
  assert.equal(login.status, 302);
  return new URL(login.headers.get('location')!);
}

describe('OIDC client (against the IdP emulator)', () => {
  let idp: IdpEmulator;
  const redirect = 'http://127.0.0.1:9/callback?vscode-reqid=1&vscode-scheme=code-oss&vscode-authority=onbehalf.onbehalf&vscode-path=%2Foidc-callback';
  beforeEach(async () => {
    idp = await startIdpEmulator({ redirectUriPrefixes: ['http://127.0.0.1:9/'] });
  });
  afterEach(async () => {
    await idp.close();
  });

  it('signs in with code + PKCE S256 and verifies the ID token', async () => {
    const client = new OidcClient(idp.issuer, idp.clientId);
    const request = await client.createAuthRequest(redirect, ['profile', 'email']);
    const url = new URL(request.url);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('code_challenge'), pkceChallenge(request.codeVerifier));
    assert.equal(url.searchParams.get('scope'), 'openid profile email');
    const back = await signInThroughLoginPage(request.url, 'ada');
    assert.equal(back.searchParams.get('state'), request.state);
    assert.equal(back.searchParams.get('vscode-path'), '/oidc-callback', 'the redirect kept its own query');
    const tokens = await client.exchangeCode(request, back.searchParams.get('code')!);
    assert.equal(tokens.claims.sub, 'ada');
    assert.equal(tokens.claims.nonce, request.nonce);
    assert.ok(tokens.idToken.split('.').length === 3);
  });

  for (const tamper of [{ nonce: 'other' }, { aud: 'someone-else' }, { iss: 'http://evil.example' }, { expired: true }] as const) {
    it(`rejects an ID token with a wrong ${Object.keys(tamper)[0]}`, async () => {
      const client = new OidcClient(idp.issuer, idp.clientId);
      const request = await client.createAuthRequest(redirect, []);
      const back = await signInThroughLoginPage(request.url, 'grace');
      idp.tamperNextIdToken(tamper);
      await assert.rejects(
        client.exchangeCode(request, back.searchParams.get('code')!),
        (error: unknown) => OidcError.is(error) && /failed verification/.test(error.message),
      );
    });
  }

  it('refuses an ID token with no nonce when the sign-in sent one', async () => {
    const client = new OidcClient(idp.issuer, idp.clientId);
    const request = await client.createAuthRequest(redirect, []);
    const back = await signInThroughLoginPage(request.url, 'ada');
    idp.tamperNextIdToken({ omit: ['nonce'] });
    await assert.rejects(
      client.exchangeCode(request, back.searchParams.get('code')!),
      (error: unknown) => OidcError.is(error) && /nonce does not match/.test(error.message),
    );
  });

  it('refuses a renewed ID token that carries a different nonce', async () => {
    const client = new OidcClient(idp.issuer, idp.clientId);
    const request = await client.createAuthRequest(redirect, await client.signInScopes([]));
    const back = await signInThroughLoginPage(request.url, 'ada');
    const tokens = await client.exchangeCode(request, back.searchParams.get('code')!);
    idp.tamperNextIdToken({ nonce: 'replayed-from-elsewhere' });
    await assert.rejects(
      client.refresh(tokens.refreshToken!, { sub: 'ada', nonce: request.nonce }),
      (error: unknown) => OidcError.is(error) && /nonce does not match/.test(error.message),
    );
  });

  it('tolerates 30 seconds of clock skew on expiry, and no more', async () => {
    const client = new OidcClient(idp.issuer, idp.clientId);
    const request = await client.createAuthRequest(redirect, []);
    const back = await signInThroughLoginPage(request.url, 'ada');
    idp.tamperNextIdToken({ expiredSecondsAgo: 10 });
    assert.equal((await client.exchangeCode(request, back.searchParams.get('code')!)).claims.sub, 'ada');
    const late = await client.createAuthRequest(redirect, []);
    const lateBack = await signInThroughLoginPage(late.url, 'ada');
    idp.tamperNextIdToken({ expiredSecondsAgo: 45 });
    await assert.rejects(
      client.exchangeCode(late, lateBack.searchParams.get('code')!),
      (error: unknown) => OidcError.is(error) && /failed verification/.test(error.message),
    );
  });

  it('refuses an ID token with no subject', async () => {
    const client = new OidcClient(idp.issuer, idp.clientId);
    const request = await client.createAuthRequest(redirect, []);
    const back = await signInThroughLoginPage(request.url, 'ada');
    idp.tamperNextIdToken({ omit: ['sub'] });
    await assert.rejects(
      client.exchangeCode(request, back.searchParams.get('code')!),
      (error: unknown) => OidcError.is(error) && /no subject/.test(error.message),
    );
  });

  it('refuses a token answer with no ID token, at sign-in and at renewal', async () => {
    const honest = new OidcClient(idp.issuer, idp.clientId);
    const request = await honest.createAuthRequest(redirect, await honest.signInScopes([]));
    const back = await signInThroughLoginPage(request.url, 'ada');
    const tokens = await honest.exchangeCode(request, back.searchParams.get('code')!);
    const stripped = new OidcClient(
      idp.issuer,
      idp.clientId,
      rewriting(/\/token$/, (body) => without(body, 'id_token')),
    );
    await assert.rejects(
      stripped.refresh(tokens.refreshToken!, { sub: 'ada' }),
      (error: unknown) => OidcError.is(error) && /no ID token when refreshing/.test(error.message),
    );
    const again = await stripped.createAuthRequest(redirect, []);
    const back2 = await signInThroughLoginPage(again.url, 'ada');
    await assert.rejects(
      stripped.exchangeCode(again, back2.searchParams.get('code')!),
      (error: unknown) => OidcError.is(error) && /returned no ID token/.test(error.message),
    );
  });

  it('refuses a discovery document that names another issuer, or lacks an endpoint', async () => {
    const other = new OidcClient(
      idp.issuer,
      idp.clientId,
      rewriting(/openid-configuration$/, (body) => ({ ...body, issuer: 'https://evil.example' })),
    );
    await assert.rejects(other.discover(), (error: unknown) => OidcError.is(error) && /different issuer \(https:\/\/evil\.example\)/.test(error.message));
    await assert.rejects(other.createAuthRequest(redirect, []), /different issuer/);
    for (const field of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri']) {
      const client = new OidcClient(
        idp.issuer,
        idp.clientId,
        rewriting(/openid-configuration$/, (body) => without(body, field)),
      );
      await assert.rejects(client.discover(), (error: unknown) => OidcError.is(error) && /discovery document at .* is incomplete/.test(error.message), field);
    }
    // Trailing slashes on either side name the same issuer.
    const slashed = new OidcClient(`${idp.issuer}/`, idp.clientId);
    assert.equal((await slashed.discover()).issuer, idp.issuer);
    const theirs = new OidcClient(
      idp.issuer,
      idp.clientId,
      rewriting(/openid-configuration$/, (body) => ({ ...body, issuer: `${String(body.issuer)}//` })),
    );
    assert.equal((await theirs.discover()).issuer, `${idp.issuer}//`);
  });

  it('builds the authorization request: code flow, its client id and redirect, openid once, fresh secrets', async () => {
    const client = new OidcClient(idp.issuer, idp.clientId);
    const request = await client.createAuthRequest(redirect, ['openid', 'profile']);
    const url = new URL(request.url);
    assert.equal(`${url.origin}${url.pathname}`, (await client.discover()).authorization_endpoint);
    assert.equal(url.searchParams.get('response_type'), 'code');
    assert.equal(url.searchParams.get('client_id'), idp.clientId);
    assert.equal(url.searchParams.get('redirect_uri'), redirect);
    assert.equal(url.searchParams.get('scope'), 'openid profile');
    assert.equal(url.searchParams.get('state'), request.state);
    assert.equal(url.searchParams.get('nonce'), request.nonce);
    assert.equal(request.redirectUri, redirect);
    assert.match(request.state, /^[A-Za-z0-9_-]{32}$/);
    assert.match(request.nonce, /^[A-Za-z0-9_-]{32}$/);
    assert.match(request.codeVerifier, /^[A-Za-z0-9_-]{64}$/);
    const second = await client.createAuthRequest(redirect, []);
    assert.notEqual(second.state, request.state);
    assert.notEqual(second.nonce, request.nonce);
    assert.notEqual(second.codeVerifier, request.codeVerifier);
    assert.notEqual(second.state, second.nonce);
    // RFC 7636 appendix B.
    assert.equal(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('returns the access token and an expiry of now + expires_in seconds', async () => {
    await idp.close();
    idp = await startIdpEmulator({ redirectUriPrefixes: ['http://127.0.0.1:9/'], accessTokenTtlSeconds: 120 });
    const client = new OidcClient(idp.issuer, idp.clientId);
    const request = await client.createAuthRequest(redirect, await client.signInScopes([]));
    const back = await signInThroughLoginPage(request.url, 'ada');
    const before = Date.now();
    const tokens = await client.exchangeCode(request, back.searchParams.get('code')!);
    const after = Date.now();
    assert.ok(
      tokens.expiresAt !== undefined && tokens.expiresAt >= before + 120_000 && tokens.expiresAt <= after + 120_000,
      `expiresAt ${tokens.expiresAt} in [${before + 120_000}, ${after + 120_000}]`,
    );
    assert.match(tokens.accessToken, /\S{16,}/);
    assert.equal(tokens.claims.name !== undefined, true);
    const beforeRenew = Date.now();
    const renewed = await client.refresh(tokens.refreshToken!, { sub: 'ada' });
    const afterRenew = Date.now();
    assert.ok(
      renewed.expiresAt !== undefined && renewed.expiresAt >= beforeRenew + 120_000 && renewed.expiresAt <= afterRenew + 120_000,
      `renewed expiresAt ${renewed.expiresAt}`,
    );
    assert.match(renewed.accessToken, /\S{16,}/);
    assert.notEqual(renewed.accessToken, tokens.accessToken);
    // An answer without expires_in, access_token or refresh_token leaves them out (or empty), and keeps the old refresh token.
    const bare = new OidcClient(
      idp.issuer,
      idp.clientId,
      rewriting(/\/token$/, (body) => without(without(without(body, 'expires_in'), 'access_token'), 'refresh_token')),
    );
    const kept = await bare.refresh(renewed.refreshToken!, { sub: 'ada' });
    assert.equal(kept.expiresAt, undefined);
    assert.equal(kept.accessToken, '');
    assert.equal(kept.refreshToken, renewed.refreshToken);
    const bareRequest = await bare.createAuthRequest(redirect, []);
    const bareBack = await signInThroughLoginPage(bareRequest.url, 'ada');
    const bareTokens = await bare.exchangeCode(bareRequest, bareBack.searchParams.get('code')!);
    assert.deepEqual([bareTokens.expiresAt, bareTokens.accessToken, 'refreshToken' in bareTokens], [undefined, '', false]);
  });

  it('offers no offline_access when the issuer does not list it, and asks for each scope once', async () => {
    const plain = new OidcClient(
      idp.issuer,
      idp.clientId,
      rewriting(/openid-configuration$/, (body) => ({ ...body, scopes_supported: ['openid', 'profile'] })),
    );
    assert.deepEqual(await plain.signInScopes(['openid', 'profile']), ['openid', 'profile']);
    const unlisted = new OidcClient(
      idp.issuer,
      idp.clientId,
      rewriting(/openid-configuration$/, (body) => without(body, 'scopes_supported')),
    );
    assert.deepEqual(await unlisted.signInScopes(['openid']), ['openid']);
    const offering = new OidcClient(idp.issuer, idp.clientId);
    assert.deepEqual(await offering.signInScopes(['openid', 'offline_access', 'openid']), ['openid', 'offline_access']);
  });

  it('says what the identity provider refused, with its reason or its HTTP status', async () => {
    const client = new OidcClient(idp.issuer, idp.clientId);
    await assert.rejects(
      client.refresh('not-a-refresh-token', { sub: 'ada' }),
      (error: unknown) => OidcError.is(error) && /^The identity provider refused the sign-in \(invalid_grant: .+\)\.$/.test(error.message),
    );
    const broken = new OidcClient(idp.issuer, idp.clientId, async (input, init) =>
      /\/token$/.test(input) ? new Response('oops', { status: 502 }) : fetch(input, init),
    );
    await assert.rejects(
      broken.refresh('x', { sub: 'ada' }),
      (error: unknown) => OidcError.is(error) && error.message === 'The identity provider refused the sign-in (HTTP 502).',
    );
    const terse = new OidcClient(idp.issuer, idp.clientId, async (input, init) =>
      /\/token$/.test(input) ? Response.json({ error: 'invalid_client' }, { status: 401 }) : fetch(input, init),
    );
    await assert.rejects(
      terse.refresh('x', { sub: 'ada' }),
      (error: unknown) => OidcError.is(error) && error.message === 'The identity provider refused the sign-in (invalid_client).',
    );
    const down = new OidcClient(idp.issuer, idp.clientId, async (input, init) => {
      if (/\/token$/.test(input)) throw new Error('connect ECONNREFUSED');
      return fetch(input, init);
    });
    await assert.rejects(down.refresh('x', { sub: 'ada' }), (error: unknown) => ServiceUnavailableError.is(error) && /ECONNREFUSED/.test(error.message));
    const down404 = new OidcClient(`${idp.issuer}/nope`, 'x');
    await assert.rejects(
      down404.discover(),
      (error: unknown) =>
        OidcError.is(error) && error.message === `The identity provider answered 404 for ${idp.issuer}/nope/.well-known/openid-configuration.`,
    );
  });

  it('sends the token request as a form, with the code, verifier, redirect and client id', async () => {
    const sent: { url: string; init?: RequestInit }[] = [];
    const client = new OidcClient(idp.issuer, idp.clientId, async (input, init) => {
      sent.push({ url: input, ...(init ? { init } : {}) });
      return fetch(input, init);
    });
    const request = await client.createAuthRequest(redirect, []);
    const back = await signInThroughLoginPage(request.url, 'ada');
    await client.exchangeCode(request, back.searchParams.get('code')!);
    const post = sent.find((s) => s.init?.method === 'POST')!;
    assert.equal(post.url, (await client.discover()).token_endpoint);
    const headers = post.init!.headers as Record<string, string>;
    assert.equal(headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(headers['accept'], 'application/json');
    const form = post.init!.body as URLSearchParams;
    assert.deepEqual(Object.fromEntries(form), {
      grant_type: 'authorization_code',
      code: back.searchParams.get('code'),
      redirect_uri: redirect,
      client_id: idp.clientId,
      code_verifier: request.codeVerifier,
    });
    const get = sent.find((s) => s.url.endsWith('/.well-known/openid-configuration'))!;
    assert.equal((get.init!.headers as Record<string, string>)['accept'], 'application/json');
    // Discovery is fetched once per client.
    assert.equal(sent.filter((s) => s.url.endsWith('/.well-known/openid-configuration')).length, 1);
  });

  it('rejects an ID token signed by a key the issuer does not publish', async () => {
    const client = new OidcClient(idp.issuer, idp.clientId);
    const request = await client.createAuthRequest(redirect, []);
    const back = await signInThroughLoginPage(request.url, 'ada');
    idp.signWithForeignKey(true);
    await assert.rejects(client.exchangeCode(request, back.searchParams.get('code')!), /failed verification/);
  });

  it('rejects a replayed code and a wrong verifier with the IdP reason', async () => {
    const client = new OidcClient(idp.issuer, idp.clientId);
    const request = await client.createAuthRequest(redirect, []);
    const back = await signInThroughLoginPage(request.url, 'ada');
    const code = back.searchParams.get('code')!;
    await assert.rejects(client.exchangeCode({ ...request, codeVerifier: 'x'.repeat(50) }, code), /invalid_grant/);
    await assert.rejects(client.exchangeCode(request, code), /invalid_grant/);
  });

  it('says clearly when the issuer is missing, wrong or down', async () => {
    assert.throws(() => new OidcClient('', 'x'), /No OIDC issuer/);
    assert.throws(() => new OidcClient(idp.issuer, ''), /No OIDC client id/);
    await assert.rejects(new OidcClient('http://127.0.0.1:1', 'x').discover(), (e: unknown) => ServiceUnavailableError.is(e));
    await assert.rejects(new OidcClient(`${idp.issuer}/nope`, 'x').discover(), /answered 404/);
  });

  it('asks for offline_access when the issuer offers it, and renews the ID token with the refresh token', async () => {
    const client = new OidcClient(idp.issuer, idp.clientId);
    const scopes = await client.signInScopes(['openid', 'profile', 'email']);
    assert.deepEqual(scopes, ['openid', 'profile', 'email', 'offline_access']);
    const request = await client.createAuthRequest(redirect, scopes);
    const back = await signInThroughLoginPage(request.url, 'ada');
    const first = await client.exchangeCode(request, back.searchParams.get('code')!);
    assert.ok(first.refreshToken, 'a refresh token came with the sign-in');
    const renewed = await client.refresh(first.refreshToken, { sub: 'ada', nonce: request.nonce });
    assert.notEqual(renewed.idToken, first.idToken);
    assert.equal(renewed.claims.sub, 'ada');
    assert.equal(renewed.claims.nonce, undefined, 'a refreshed ID token carries no nonce');
    // The emulator rotates refresh tokens: the new one works, the old one is spent.
    assert.notEqual(renewed.refreshToken, first.refreshToken);
    await client.refresh(renewed.refreshToken!, { sub: 'ada' });
    await assert.rejects(
      client.refresh(first.refreshToken, { sub: 'ada' }),
      (error: unknown) => OidcError.is(error) && /invalid_grant|revoked/.test(error.message),
    );
  });

  it('refuses a renewed ID token for another user, or one that fails verification', async () => {
    const client = new OidcClient(idp.issuer, idp.clientId);
    const request = await client.createAuthRequest(redirect, await client.signInScopes([]));
    const back = await signInThroughLoginPage(request.url, 'grace');
    const tokens = await client.exchangeCode(request, back.searchParams.get('code')!);
    await assert.rejects(client.refresh(tokens.refreshToken!, { sub: 'ada' }), (error: unknown) => OidcError.is(error) && /different user/.test(error.message));
    const again = await client.createAuthRequest(redirect, await client.signInScopes([]));
    const back2 = await signInThroughLoginPage(again.url, 'grace');
    const second = await client.exchangeCode(again, back2.searchParams.get('code')!);
    idp.tamperNextIdToken({ aud: 'someone-else' });
    await assert.rejects(
      client.refresh(second.refreshToken!, { sub: 'grace' }),
      (error: unknown) => OidcError.is(error) && /failed verification/.test(error.message),
    );
  });
});
