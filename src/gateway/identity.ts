import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { identifierFor, type Identifier } from '../core/identifier';
import { insecureUrlProblem } from '../core/secureUrl';
import type { GithubIdentityConfig, IdentityConfig, OidcIdentityConfig } from './config';
import { gatewayError, invalidToken } from './httpErrors';

// Who is calling: derived from the bearer token on every request, never read from the
// body, query or headers. OIDC: an ID token verified against the issuer's JWKS. GitHub: an
// OAuth token checked with GitHub's REST API. Both end in identifierFor(), the same format
// the extension derives, so the two sides can compare.

export interface Caller {
  readonly identifier: Identifier;
  /** Display only. */
  readonly label: string;
}

export interface IdentityVerifier {
  /** The caller, or a GatewayHttpError (401 invalid_token, 403 forbidden, 503 unavailable). */
  verify(token: string): Promise<Caller>;
}

const requestTimeoutMs = 10_000;

export function createIdentityVerifier(config: IdentityConfig, fetchFn: typeof fetch = fetch): IdentityVerifier {
  return config.kind === 'oidc' ? new OidcVerifier(config, fetchFn) : new GithubVerifier(config, fetchFn);
}

/** The bearer token of an Authorization header, or a 401. */
export function bearerToken(header: string | undefined): string {
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header ?? '');
  if (!match) throw invalidToken('Sign in to VS Code again: the request carried no usable bearer token.');
  return match[1]!;
}

class OidcVerifier implements IdentityVerifier {
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(
    private readonly config: OidcIdentityConfig,
    private readonly fetchFn: typeof fetch,
  ) {}

  async verify(token: string): Promise<Caller> {
    const jwks = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: this.config.issuer,
        audience: [...this.config.audiences],
        algorithms: [...this.config.algorithms],
        clockTolerance: this.config.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || (!(error instanceof joseErrors.JOSEError) && isNetworkError(error))) {
        throw gatewayError(503, 'unavailable', 'The gateway cannot reach your identity provider right now; retry in a moment.', 5);
      }
      throw invalidToken(`Your sign-in was not accepted (${oidcReason(error)}). Sign in to VS Code again.`);
    }
    const sub = payload.sub ?? '';
    let identifier: Identifier;
    try {
      identifier = identifierFor('oidc', sub, payload.iss);
    } catch {
      throw invalidToken('Your sign-in names an account id OnBehalf cannot use.');
    }
    const claims = payload as JWTPayload & { name?: unknown; email?: unknown };
    const label = typeof claims.name === 'string' ? claims.name : typeof claims.email === 'string' ? claims.email : sub;
    return { identifier, label };
  }

  /** The issuer's JWKS, found through its discovery document (checked once, then cached by jose). */
  private async keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.jwks) return this.jwks;
    let discovery: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const response = await this.fetchFn(`${this.config.issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(requestTimeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      discovery = (await response.json()) as typeof discovery;
    } catch {
      throw gatewayError(503, 'unavailable', 'The gateway cannot reach your identity provider right now; retry in a moment.', 5);
    }
    const jwksUri = typeof discovery.jwks_uri === 'string' ? discovery.jwks_uri : '';
    // The discovery document must be the configured issuer's own, and its keys served securely.
    if (
      typeof discovery.issuer !== 'string' ||
      discovery.issuer.replace(/\/+$/, '') !== this.config.issuer.replace(/\/+$/, '') ||
      insecureUrlProblem(jwksUri, 'jwks_uri')
    ) {
      throw gatewayError(
        503,
        'unavailable',
        "The identity provider's discovery document does not match the gateway's configured issuer; tell your administrator.",
      );
    }
    this.jwks = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: requestTimeoutMs, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
    return this.jwks;
  }
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const cause = (error as { cause?: unknown }).cause;
  const causeText = cause instanceof Error ? `${cause.message} ${(cause as { code?: string }).code ?? ''}` : '';
  return /fetch failed|ECONNREFUSED|ECONNRESET|ENOTFOUND|timed? ?out/i.test(`${error.message} ${causeText}`);
}

function oidcReason(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `its "${error.claim}" claim is not accepted`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'its signing algorithm is not accepted';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'it was not signed by a key of the issuer';
  return 'it is not a valid ID token';
}

interface CachedGithubCaller {
  /** Undefined: GitHub refused this token (401). */
  readonly caller: Caller | undefined;
  readonly until: number;
}

const maxCachedTokens = 10_000;

class GithubVerifier implements IdentityVerifier {
  /** Keyed by SHA-256 of the token: the cache never holds a token itself. */
  private readonly cache = new Map<string, CachedGithubCaller>();

  constructor(
    private readonly config: GithubIdentityConfig,
    private readonly fetchFn: typeof fetch,
  ) {}

  async verify(token: string): Promise<Caller> {
    const key = createHash('sha256').update(token, 'utf8').digest('hex');
    const cached = this.cache.get(key);
    const refused = () => invalidToken('GitHub did not accept your sign-in token. Sign in to VS Code with GitHub again.');
    if (cached && cached.until > Date.now()) {
      if (cached.caller) return cached.caller;
      throw refused();
    }
    this.cache.delete(key);
    const user = await this.get<{ id?: unknown; login?: unknown; name?: unknown }>(token, '/user');
    if (user.status === 401) {
      // A refused token stays refused (tokens are random): a flood of bad ones asks GitHub once each per cache period.
      this.remember(key, undefined);
      throw refused();
    }
    if (user.status !== 200 || typeof user.body.id !== 'number' || !Number.isSafeInteger(user.body.id)) {
      throw gatewayError(503, 'unavailable', `The gateway could not check your GitHub sign-in (GitHub answered ${user.status}); retry in a moment.`, 5);
    }
    if (this.config.requiredOrg) {
      const org = this.config.requiredOrg;
      const membership = await this.get<{ state?: unknown }>(token, `/user/memberships/orgs/${encodeURIComponent(org)}`);
      // 404 (not a member, or the token cannot see it) and 403 (no read:org scope) both mean "not shown to be a member".
      if (membership.status !== 200 || membership.body.state !== 'active') {
        throw gatewayError(403, 'forbidden', `This gateway is for active members of the GitHub organisation "${org}" only.`);
      }
    }
    const login = typeof user.body.login === 'string' ? user.body.login : String(user.body.id);
    const caller: Caller = { identifier: identifierFor('github', String(user.body.id)), label: login };
    this.remember(key, caller);
    return caller;
  }

  private remember(key: string, caller: Caller | undefined): void {
    if (this.config.cacheSeconds <= 0) return;
    if (this.cache.size >= maxCachedTokens) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { caller, until: Date.now() + Math.min(this.config.cacheSeconds, 60) * 1000 });
  }

  private async get<T>(token: string, path: string): Promise<{ status: number; body: T }> {
    try {
      const response = await this.fetchFn(`${this.config.apiUrl}${path}`, {
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
          'user-agent': 'onbehalf-gateway',
        },
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      const body = (response.headers.get('content-type') ?? '').includes('json') ? ((await response.json()) as T) : ({} as T);
      return { status: response.status, body };
    } catch {
      throw gatewayError(503, 'unavailable', 'The gateway cannot reach GitHub right now; retry in a moment.', 5);
    }
  }
}
