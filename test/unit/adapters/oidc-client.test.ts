import * as assert from 'node:assert/strict';
import { OidcError } from '../../../src/core/errors';
import { OidcClient, pkceChallenge } from '../../../src/core/oidc';
import { ServiceUnavailableError } from '../../../src/core/errors';
import { startIdpEmulator, type IdpEmulator } from '../../emulators/idp/server';

// The extension's OIDC client against the IdP emulator, clicking through its login page
// over HTTP the way a browser would.

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
      await assert.rejects(client.exchangeCode(request, back.searchParams.get('code')!), (error: unknown) => OidcError.is(error) && /failed verification/.test(error.message));
    });
  }

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
    await assert.rejects(client.refresh(first.refreshToken, { sub: 'ada' }), (error: unknown) => OidcError.is(error) && /invalid_grant|revoked/.test(error.message));
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
    await assert.rejects(client.refresh(second.refreshToken!, { sub: 'grace' }), (error: unknown) => OidcError.is(error) && /failed verification/.test(error.message));
  });
});
