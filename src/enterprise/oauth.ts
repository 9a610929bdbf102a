import {
  EnterpriseAccessDeniedError,
  EnterpriseDiscoveryError,
  EnterpriseInvalidClientError,
  EnterpriseInvalidGrantError,
  EnterpriseInvalidTargetError,
  EnterpriseProfileUnsupportedError,
  EnterpriseProtocolError,
  EnterpriseUnreachableError,
  type EnterpriseStage,
  type InvalidGrantReason,
  redact,
} from './errors';
import { limitedFetch, type HttpLimits } from '../core/httpLimits';
import { checkSecureUrl } from '../core/secureUrl';

// The wire of enterprise-managed authorization (MCP ext-auth "Enterprise-Managed
// Authorization", an application of draft-ietf-oauth-identity-assertion-authz-grant):
//   1. discovery: RFC 9728 protected-resource metadata of the MCP server, then RFC 8414
//      metadata of its authorization server, which must list the ID-JAG grant profile;
//   2. RFC 8693 token exchange at the IdP: ID token -> ID-JAG;
//   3. RFC 7523 jwt-bearer grant at the resource AS: ID-JAG -> access token.
// Plain fetch, no vscode: unit-tested against the emulators.

/**
 * The grant profile an AS lists in `authorization_grant_profiles_supported`. Source: MCP
 * ext-auth specification/stable/enterprise-managed-authorization.mdx §6 "Discovery", citing
 * draft-ietf-oauth-identity-assertion-authz-grant-04 §7.2.
 */
export const ID_JAG_GRANT_PROFILE = 'urn:ietf:params:oauth:grant-profile:id-jag';
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
export const ID_TOKEN_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
/** The MCP extension a client declares in `initialize` capabilities.extensions. */
export const ENTERPRISE_MANAGED_AUTHORIZATION_EXTENSION = 'io.modelcontextprotocol/enterprise-managed-authorization';

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface EnterpriseDiscovery {
  /** The MCP server's resource identifier from its protected-resource metadata. */
  readonly resource: string;
  readonly resourceMetadataUrl: string;
  /** The authorization server's issuer identifier (the ID-JAG audience). */
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly scopesSupported: readonly string[] | undefined;
  readonly grantProfiles: readonly string[];
}

export interface BearerChallenge {
  readonly scheme: string;
  readonly error?: string;
  readonly errorDescription?: string;
  readonly scope?: string;
  readonly resourceMetadata?: string;
}

/** Parses the first challenge of a WWW-Authenticate header (RFC 9110 §11.6.1, RFC 6750 §3). */
export function parseWwwAuthenticate(header: string | null | undefined): BearerChallenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*,?\s*/g;
  const rest = m[2] ?? '';
  let p: RegExpExecArray | null;
  while ((p = re.exec(rest))) {
    const key = (p[1] ?? '').toLowerCase();
    if (!(key in params)) params[key] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return {
    scheme: (m[1] ?? '').toLowerCase(),
    ...(params.error !== undefined ? { error: params.error } : {}),
    ...(params.error_description !== undefined ? { errorDescription: params.error_description } : {}),
    ...(params.scope !== undefined ? { scope: params.scope } : {}),
    ...(params.resource_metadata !== undefined ? { resourceMetadata: params.resource_metadata } : {}),
  };
}

export function splitScopes(scope: string | undefined | null): string[] {
  return (scope ?? '').split(/\s+/).filter(Boolean);
}

// The https rule (loopback http allowed) is the one in src/core/secureUrl.ts.
export { checkSecureUrl };

/** Resource identifiers compare after URL normalization, ignoring a lone trailing slash. */
export function sameResource(a: string, b: string): boolean {
  const norm = (s: string): string => {
    try {
      const u = new URL(s);
      u.hash = '';
      return u.href.replace(/\/$/, '');
    } catch {
      return s.replace(/\/$/, '');
    }
  };
  return norm(a) === norm(b);
}

/** RFC 9728 §3.1 / RFC 8414 §3.1: the well-known segment goes between host and path. */
export function wellKnownUrl(base: string, suffix: string): string {
  const u = new URL(base);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}/.well-known/${suffix}${path === '' || path === '/' ? '' : path}`;
}

async function getJson(
  fetchFn: FetchLike,
  url: string,
  service: EnterpriseStage,
): Promise<{ status: number; json: Record<string, unknown> | undefined; response: Response }> {
  let response: Response;
  try {
    response = await fetchFn(url, { headers: { accept: 'application/json' }, redirect: 'error' });
  } catch (error) {
    throw new EnterpriseUnreachableError(service, (error as Error).message);
  }
  const text = await response.text().catch(() => '');
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    json = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, json, response };
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

/**
 * Finds the MCP server's authorization server and checks it supports the ID-JAG profile.
 * Protected-resource metadata comes from `resourceMetadataHint` (a 401's
 * `WWW-Authenticate: Bearer resource_metadata=`), else the path-aware and root well-known
 * URIs, else an unauthenticated probe of the MCP URL for that header.
 */
export async function discoverEnterpriseAuthorization(
  mcpServerUrl: string,
  unboundedFetch: FetchLike,
  resourceMetadataHint?: string,
  limits: Partial<HttpLimits> = {},
): Promise<EnterpriseDiscovery> {
  // Every discovery request has a timeout and a response size limit (default 15 s, 1 MB).
  const fetchFn = limitedFetch(unboundedFetch, limits);
  const fail = (detail: string): Error => new EnterpriseDiscoveryError(detail);
  checkSecureUrl(mcpServerUrl, 'The MCP server URL', fail);
  const stage: EnterpriseStage = 'PostHog MCP server';
  const mcpOrigin = new URL(mcpServerUrl).origin;
  // Protected-resource metadata named by the server (a hint or a 401's resource_metadata)
  // is fetched only from the MCP server's own origin: anywhere else, a server or anyone in
  // front of it could make OnBehalf send requests to any host.
  const onMcpOrigin = (url: string, source: string): string => {
    let resolved: URL;
    try {
      resolved = new URL(url, mcpServerUrl);
    } catch {
      throw new EnterpriseDiscoveryError(`the ${source} (${url}) is not a valid URL.`);
    }
    if (resolved.origin !== mcpOrigin)
      throw new EnterpriseDiscoveryError(
        `the ${source} points to ${resolved.origin}, which is not on the MCP server's origin (${mcpOrigin}); OnBehalf did not follow it.`,
      );
    return resolved.href;
  };
  const candidates = resourceMetadataHint
    ? [onMcpOrigin(resourceMetadataHint, 'resource_metadata hint')]
    : [...new Set([wellKnownUrl(mcpServerUrl, 'oauth-protected-resource'), `${new URL(mcpServerUrl).origin}/.well-known/oauth-protected-resource`])];

  let prm: Record<string, unknown> | undefined;
  let prmUrl = '';
  const tried: string[] = [];
  const tryCandidates = async (urls: readonly string[]): Promise<void> => {
    for (const url of urls) {
      checkSecureUrl(url, 'The protected-resource metadata URL', fail);
      const { status, json } = await getJson(fetchFn, url, stage);
      tried.push(`${url} → ${status}`);
      if (status >= 500) throw new EnterpriseUnreachableError(stage, `HTTP ${status} for its protected-resource metadata`);
      if (status === 200 && json && typeof json.resource === 'string' && sameResource(json.resource, mcpServerUrl)) {
        prm = json;
        prmUrl = url;
        return;
      }
    }
  };
  await tryCandidates(candidates);
  if (!prm && !resourceMetadataHint) {
    // Last resort: an unauthenticated request names the metadata in its 401 challenge.
    let probe: Response | undefined;
    try {
      probe = await fetchFn(mcpServerUrl, { method: 'GET', headers: { accept: 'application/json, text/event-stream' }, redirect: 'error' });
    } catch (error) {
      throw new EnterpriseUnreachableError(stage, (error as Error).message);
    }
    await probe.body?.cancel().catch(() => undefined);
    const challenge = parseWwwAuthenticate(probe.headers.get('www-authenticate'));
    tried.push(`${mcpServerUrl} → ${probe.status}${challenge?.resourceMetadata ? ' (resource_metadata)' : ''}`);
    if (challenge?.resourceMetadata) await tryCandidates([onMcpOrigin(challenge.resourceMetadata, "401 challenge's resource_metadata")]);
  }
  if (!prm) {
    throw new EnterpriseDiscoveryError(`no protected-resource metadata (RFC 9728) names ${mcpServerUrl} as its resource. Tried: ${tried.join('; ')}.`);
  }
  const found: Record<string, unknown> = prm;
  const servers = stringArray(found.authorization_servers) ?? [];
  const issuer = servers[0];
  if (!issuer) throw new EnterpriseDiscoveryError(`the protected-resource metadata at ${prmUrl} lists no authorization_servers.`);
  checkSecureUrl(issuer, 'The authorization server', fail);

  const asStage: EnterpriseStage = 'PostHog authorization server';
  let metadata: Record<string, unknown> | undefined;
  const asTried: string[] = [];
  for (const url of [wellKnownUrl(issuer, 'oauth-authorization-server'), wellKnownUrl(issuer, 'openid-configuration')]) {
    const { status, json } = await getJson(fetchFn, url, asStage);
    asTried.push(`${url} → ${status}`);
    if (status >= 500) throw new EnterpriseUnreachableError(asStage, `HTTP ${status} for its metadata`);
    if (status === 200 && json) {
      metadata = json;
      break;
    }
  }
  if (!metadata) throw new EnterpriseDiscoveryError(`the authorization server ${issuer} publishes no metadata (RFC 8414). Tried: ${asTried.join('; ')}.`);
  if (typeof metadata.issuer !== 'string' || !sameResource(metadata.issuer, issuer)) {
    throw new EnterpriseDiscoveryError(`the authorization server metadata names issuer ${String(metadata.issuer)}, not ${issuer}.`);
  }
  const tokenEndpoint = metadata.token_endpoint;
  if (typeof tokenEndpoint !== 'string') throw new EnterpriseDiscoveryError(`the authorization server ${issuer} has no token_endpoint.`);
  checkSecureUrl(tokenEndpoint, 'The token endpoint', fail);
  const grantProfiles = stringArray(metadata.authorization_grant_profiles_supported) ?? [];
  if (!grantProfiles.includes(ID_JAG_GRANT_PROFILE)) throw new EnterpriseProfileUnsupportedError(issuer, grantProfiles, ID_JAG_GRANT_PROFILE);
  const grantTypes = stringArray(metadata.grant_types_supported);
  if (grantTypes && !grantTypes.includes(JWT_BEARER_GRANT_TYPE)) {
    throw new EnterpriseProfileUnsupportedError(issuer, grantProfiles, `${JWT_BEARER_GRANT_TYPE} (grant_types_supported)`);
  }
  return {
    resource: found.resource as string,
    resourceMetadataUrl: prmUrl,
    issuer: metadata.issuer,
    tokenEndpoint,
    scopesSupported: stringArray(found.scopes_supported) ?? stringArray(metadata.scopes_supported),
    grantProfiles,
  };
}

/** Reads an invalid_grant description the way PostHog's AS (and RFC 7523 servers) word it. */
export function classifyInvalidGrant(description: string | undefined): InvalidGrantReason {
  const d = (description ?? '').toLowerCase();
  if (/client_id doesn'?t match|client_id does not match|issued to a different client/.test(d)) return 'clientMismatch';
  if (/replay|already (been )?used|single[- ]use|\bjti\b/.test(d)) return 'replayed';
  if (/not yet valid|in the future|\biat\b|\bnbf\b|clock skew|skew/.test(d)) return 'notYetValid';
  if (/expired|\bexp\b/.test(d)) return 'expired';
  if (/signature|jwks|\bkid\b|signing key/.test(d)) return 'badSignature';
  return 'other';
}

export interface OAuthFailure {
  readonly status: number;
  readonly error: string;
  readonly description: string | undefined;
}

interface TokenErrorContext {
  readonly stage: EnterpriseStage;
  readonly clientId: string;
  readonly resource: string;
  readonly audience: string;
  readonly secrets: readonly (string | undefined)[];
}

/** Maps an RFC 6749 §5.2 token error to the typed error the UI shows. */
export function tokenError(failure: OAuthFailure, ctx: TokenErrorContext): Error {
  const description = failure.description === undefined ? undefined : redact(failure.description, ctx.secrets);
  switch (failure.error) {
    case 'invalid_grant': {
      const reason = ctx.stage === 'identity provider' ? 'subjectToken' : classifyInvalidGrant(description);
      return new EnterpriseInvalidGrantError(ctx.stage, reason, description);
    }
    case 'invalid_target':
      return new EnterpriseInvalidTargetError(ctx.stage, ctx.resource, ctx.audience, description);
    case 'invalid_client':
    case 'unauthorized_client':
      return new EnterpriseInvalidClientError(ctx.stage, ctx.clientId, description);
    case 'access_denied':
      return new EnterpriseAccessDeniedError(ctx.stage, description);
    default:
      if (failure.status >= 500) return new EnterpriseUnreachableError(ctx.stage, `HTTP ${failure.status}${failure.error ? ` ${failure.error}` : ''}`);
      return new EnterpriseProtocolError(ctx.stage, `${failure.error || `HTTP ${failure.status}`}${description ? `: ${description}` : ''}`);
  }
}

async function postForm(
  fetchFn: FetchLike,
  url: string,
  body: URLSearchParams,
  headers: Record<string, string>,
  ctx: TokenErrorContext,
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetchFn(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
      redirect: 'error',
    });
  } catch (error) {
    throw new EnterpriseUnreachableError(ctx.stage, redact((error as Error).message, ctx.secrets));
  }
  const text = await response.text().catch(() => '');
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    json = {};
  }
  if (!response.ok || typeof json.error === 'string') {
    throw tokenError(
      {
        status: response.status,
        error: typeof json.error === 'string' ? json.error : '',
        description: typeof json.error_description === 'string' ? json.error_description : undefined,
      },
      ctx,
    );
  }
  return json;
}

export interface IdJagRequest {
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly clientAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  readonly idToken: string;
  readonly audience: string;
  readonly resource: string;
  readonly scopes: readonly string[];
  /** Timeout and response size limit; default 15 s and 1 MB. */
  readonly limits?: Partial<HttpLimits>;
}

export interface IdJagResponse {
  readonly idJag: string;
  readonly scopes: readonly string[] | undefined;
  readonly expiresIn: number | undefined;
}

/** Step A: RFC 8693 token exchange at the IdP, ID token in, ID-JAG out. */
export async function requestIdJag(fetchFn: FetchLike, req: IdJagRequest): Promise<IdJagResponse> {
  const body = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
    requested_token_type: ID_JAG_TOKEN_TYPE,
    audience: req.audience,
    resource: req.resource,
    subject_token: req.idToken,
    subject_token_type: ID_TOKEN_TOKEN_TYPE,
  });
  if (req.scopes.length) body.set('scope', req.scopes.join(' '));
  const headers: Record<string, string> = {};
  if (req.clientSecret && (req.clientAuthMethod ?? 'client_secret_basic') === 'client_secret_basic') {
    // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
    const enc = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+');
    headers.authorization = `Basic ${Buffer.from(`${enc(req.clientId)}:${enc(req.clientSecret)}`).toString('base64')}`;
  } else {
    body.set('client_id', req.clientId);
    if (req.clientSecret) body.set('client_secret', req.clientSecret);
  }
  const ctx: TokenErrorContext = {
    stage: 'identity provider',
    clientId: req.clientId,
    resource: req.resource,
    audience: req.audience,
    secrets: [req.clientSecret, req.idToken],
  };
  checkSecureUrl(req.tokenEndpoint, "The identity provider's token endpoint", (d) => new EnterpriseProtocolError('identity provider', d));
  const json = await postForm(limitedFetch(fetchFn, req.limits), req.tokenEndpoint, body, headers, ctx);
  if (json.issued_token_type !== ID_JAG_TOKEN_TYPE) {
    throw new EnterpriseProtocolError(
      'identity provider',
      `the token exchange returned issued_token_type ${String(json.issued_token_type)}, not ${ID_JAG_TOKEN_TYPE}.`,
    );
  }
  if (typeof json.access_token !== 'string' || !json.access_token)
    throw new EnterpriseProtocolError('identity provider', 'the token exchange returned no ID-JAG (access_token).');
  return {
    idJag: json.access_token,
    scopes: typeof json.scope === 'string' ? splitScopes(json.scope) : undefined,
    expiresIn: typeof json.expires_in === 'number' ? json.expires_in : undefined,
  };
}

export interface AccessTokenRequest {
  readonly tokenEndpoint: string;
  readonly idJag: string;
  /** The client id registered at the resource AS (no secret is ever sent there). */
  /** Sent only when the user configured one: optional at PostHog, whose check compares it with the ID-JAG. */
  readonly clientId?: string;
  readonly scopes: readonly string[];
  readonly resource: string;
  readonly audience: string;
  /** Timeout and response size limit; default 15 s and 1 MB. */
  readonly limits?: Partial<HttpLimits>;
}

export interface AccessTokenResponse {
  readonly accessToken: string;
  readonly expiresIn: number | undefined;
  readonly scopes: readonly string[] | undefined;
}

/** Step B: RFC 7523 jwt-bearer grant at the resource AS, ID-JAG in, access token out. */
export async function redeemIdJag(fetchFn: FetchLike, req: AccessTokenRequest): Promise<AccessTokenResponse> {
  const body = new URLSearchParams({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: req.idJag });
  if (req.clientId) body.set('client_id', req.clientId);
  if (req.scopes.length) body.set('scope', req.scopes.join(' '));
  const ctx: TokenErrorContext = {
    stage: 'PostHog authorization server',
    clientId: req.clientId ?? '(from the ID-JAG)',
    resource: req.resource,
    audience: req.audience,
    secrets: [req.idJag],
  };
  checkSecureUrl(req.tokenEndpoint, "PostHog's token endpoint", (d) => new EnterpriseProtocolError('PostHog authorization server', d));
  const json = await postForm(limitedFetch(fetchFn, req.limits), req.tokenEndpoint, body, {}, ctx);
  if (typeof json.access_token !== 'string' || !json.access_token)
    throw new EnterpriseProtocolError('PostHog authorization server', 'the token response has no access_token.');
  if (typeof json.token_type !== 'string' || json.token_type.toLowerCase() !== 'bearer') {
    throw new EnterpriseProtocolError('PostHog authorization server', `the token type is ${String(json.token_type)}, not Bearer.`);
  }
  return {
    accessToken: json.access_token,
    expiresIn: typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : undefined,
    scopes: typeof json.scope === 'string' ? splitScopes(json.scope) : undefined,
  };
}
