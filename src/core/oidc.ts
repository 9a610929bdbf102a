import { createHash, randomBytes } from 'node:crypto';
import type { createRemoteJWKSet, JWTPayload } from 'jose';
import { OidcError, ServiceUnavailableError } from './errors';
import { defaultHttpLimits, limitedFetch, type HttpLimits } from './httpLimits';
import { joseSdk } from './sdkLoader';
import { insecureUrlProblem } from './secureUrl';

// OIDC authorization code + PKCE (S256) for any issuer. The ID token's signature is
// verified against the issuer's JWKS, and iss, aud, exp and nonce are checked.

export interface OidcDiscovery {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
  readonly end_session_endpoint?: string;
  readonly scopes_supported?: readonly string[];
}

export interface OidcAuthRequest {
  readonly url: string;
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly redirectUri: string;
}

export interface OidcTokens {
  readonly idToken: string;
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly expiresAt?: number;
  readonly claims: { sub: string; name?: string; email?: string; [claim: string]: unknown };
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

const base64url = (bytes: Buffer): string => bytes.toString('base64url');

export function pkceChallenge(verifier: string): string {
  return base64url(createHash('sha256').update(verifier).digest());
}

export class OidcClient {
  private discovery: OidcDiscovery | undefined;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private readonly fetchFn: FetchLike;
  private readonly limits: HttpLimits;

  /** Every request has a timeout and a response size limit (`limits`, default 15 s and 1 MB). */
  constructor(
    readonly issuer: string,
    readonly clientId: string,
    fetchFn: FetchLike = fetch,
    limits: Partial<HttpLimits> = {},
  ) {
    if (!issuer) throw new OidcError('No OIDC issuer is configured.');
    if (!clientId) throw new OidcError('No OIDC client id is configured.');
    this.limits = { ...defaultHttpLimits, ...limits };
    const bounded = limitedFetch((input, init) => fetchFn(typeof input === 'string' ? input : input.href, init), this.limits);
    this.fetchFn = (input, init) => bounded(input, init);
  }

  async discover(): Promise<OidcDiscovery> {
    if (this.discovery) return this.discovery;
    requireSecure(this.issuer, 'The OIDC issuer ("onbehalf.oidc.issuer")');
    const url = `${this.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const body = await this.getJson(url);
    const discovery = body as Partial<OidcDiscovery>;
    if (!discovery.authorization_endpoint || !discovery.token_endpoint || !discovery.jwks_uri || !discovery.issuer) {
      throw new OidcError(`The issuer's discovery document at ${url} is incomplete.`);
    }
    if (discovery.issuer.replace(/\/+$/, '') !== this.issuer.replace(/\/+$/, '')) {
      throw new OidcError(`The issuer's discovery document names a different issuer (${discovery.issuer}).`);
    }
    requireSecure(discovery.authorization_endpoint, "The issuer's authorization endpoint");
    requireSecure(discovery.token_endpoint, "The issuer's token endpoint");
    requireSecure(discovery.jwks_uri, "The issuer's JWKS URL");
    this.discovery = discovery as OidcDiscovery;
    return this.discovery;
  }

  async createAuthRequest(redirectUri: string, scopes: readonly string[]): Promise<OidcAuthRequest> {
    const discovery = await this.discover();
    const state = base64url(randomBytes(24));
    const nonce = base64url(randomBytes(24));
    const codeVerifier = base64url(randomBytes(48));
    const url = new URL(discovery.authorization_endpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('scope', ['openid', ...scopes.filter((s) => s !== 'openid')].join(' '));
    url.searchParams.set('state', state);
    url.searchParams.set('nonce', nonce);
    url.searchParams.set('code_challenge', pkceChallenge(codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return { url: url.toString(), state, nonce, codeVerifier, redirectUri };
  }

  async exchangeCode(request: OidcAuthRequest, code: string): Promise<OidcTokens> {
    const discovery = await this.discover();
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: request.redirectUri,
      client_id: this.clientId,
      code_verifier: request.codeVerifier,
    });
    const tokens = await this.postForm(discovery.token_endpoint, body);
    const idToken = typeof tokens.id_token === 'string' ? tokens.id_token : '';
    if (!idToken) throw new OidcError('The issuer returned no ID token.');
    const claims = await this.verifyIdToken(idToken, request.nonce);
    return {
      idToken,
      accessToken: typeof tokens.access_token === 'string' ? tokens.access_token : '',
      ...(typeof tokens.refresh_token === 'string' ? { refreshToken: tokens.refresh_token } : {}),
      ...(typeof tokens.expires_in === 'number' ? { expiresAt: Date.now() + tokens.expires_in * 1000 } : {}),
      claims,
    };
  }

  /**
   * The scopes to ask for at sign-in: the caller's, plus offline_access when the issuer
   * offers it, so the ID token can be renewed without sending the user back to the browser.
   */
  async signInScopes(scopes: readonly string[]): Promise<string[]> {
    const discovery = await this.discover();
    const offline = discovery.scopes_supported?.includes('offline_access') === true;
    return [...new Set([...scopes, ...(offline ? ['offline_access'] : [])])];
  }

  /**
   * A fresh ID token through the refresh_token grant. OIDC Core §12.2: the new token must
   * name the same subject, and carries no nonce or the original one.
   */
  async refresh(refreshToken: string, expected: { sub: string; nonce?: string }): Promise<OidcTokens> {
    const discovery = await this.discover();
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: this.clientId });
    const tokens = await this.postForm(discovery.token_endpoint, body);
    const idToken = typeof tokens.id_token === 'string' ? tokens.id_token : '';
    if (!idToken) throw new OidcError('The issuer returned no ID token when refreshing the session.');
    const claims = await this.verifyIdToken(idToken, expected.nonce, { nonceOptional: true });
    if (claims.sub !== expected.sub) throw new OidcError('The refreshed ID token names a different user than the session.');
    return {
      idToken,
      accessToken: typeof tokens.access_token === 'string' ? tokens.access_token : '',
      // Issuers that rotate refresh tokens send a new one; others keep the old one valid.
      refreshToken: typeof tokens.refresh_token === 'string' ? tokens.refresh_token : refreshToken,
      ...(typeof tokens.expires_in === 'number' ? { expiresAt: Date.now() + tokens.expires_in * 1000 } : {}),
      claims,
    };
  }

  async verifyIdToken(idToken: string, expectedNonce: string | undefined, opts: { nonceOptional?: boolean } = {}): Promise<OidcTokens['claims']> {
    const discovery = await this.discover();
    const jose = joseSdk();
    this.jwks ??= jose.createRemoteJWKSet(new URL(discovery.jwks_uri), {
      timeoutDuration: this.limits.timeoutMs,
      [jose.customFetch]: (url, options) => this.fetchFn(url, options),
    });
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(idToken, this.jwks, { issuer: discovery.issuer, audience: this.clientId, clockTolerance: 30 }));
    } catch (error) {
      throw new OidcError(`The ID token failed verification: ${(error as Error).message}`);
    }
    const nonceMissingAndAllowed = opts.nonceOptional === true && payload.nonce === undefined;
    if (!nonceMissingAndAllowed && payload.nonce !== expectedNonce)
      throw new OidcError('The ID token failed verification: its nonce does not match this sign-in.');
    if (typeof payload.sub !== 'string' || !payload.sub) throw new OidcError('The ID token has no subject.');
    return payload as OidcTokens['claims'];
  }

  private async getJson(url: string): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await this.fetchFn(url, { headers: { accept: 'application/json' } });
    } catch (error) {
      throw new ServiceUnavailableError('Identity provider', (error as Error).message);
    }
    if (!response.ok) throw new OidcError(`The identity provider answered ${response.status} for ${url}.`);
    try {
      return (await response.json()) as Record<string, unknown>;
    } catch {
      throw new OidcError(`The identity provider answered ${url} with something that is not JSON.`);
    }
  }

  private async postForm(url: string, body: URLSearchParams): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      });
    } catch (error) {
      throw new ServiceUnavailableError('Identity provider', (error as Error).message);
    }
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      const code = typeof json.error === 'string' ? json.error : `HTTP ${response.status}`;
      const description = typeof json.error_description === 'string' ? `: ${json.error_description}` : '';
      throw new OidcError(`The identity provider refused the sign-in (${code}${description}).`);
    }
    return json;
  }
}

/** https only, except loopback http; refused before anything is sent there. */
function requireSecure(url: string, what: string): void {
  const problem = insecureUrlProblem(url, what);
  if (problem) throw new OidcError(problem);
}
