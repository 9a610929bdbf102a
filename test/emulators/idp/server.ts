// An OIDC identity provider for tests: discovery, JWKS, an authorize endpoint
// with a clickable login page (authorization code + PKCE S256), a token
// endpoint (authorization_code, refresh_token, and room for more grants), and
// userinfo. ID tokens are signed with `jose`.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { listenOn } from '../listen';

export interface IdpUser {
  sub: string;
  name: string;
  email: string;
}

export const DEFAULT_IDP_USERS: readonly IdpUser[] = [
  { sub: 'ada', name: 'Ada Lovelace', email: 'ada@example.com' },
  { sub: 'grace', name: 'Grace Hopper', email: 'grace@example.com' },
];

export interface IdpEmulatorOptions {
  port?: number;
  host?: string;
  /** Default `onbehalf-vscode`. */
  clientId?: string;
  /** When set, a client that sends a secret (basic or post) must send this one; public PKCE clients need none. */
  clientSecret?: string;
  users?: IdpUser[];
  /** Default 3600. */
  idTokenTtlSeconds?: number;
  /** Default 3600 (the `expires_in` of access tokens). */
  accessTokenTtlSeconds?: number;
  /** Default 60. */
  codeTtlSeconds?: number;
  /** When given, redirect_uri must start with one of these. Otherwise any absolute URI is accepted. */
  redirectUriPrefixes?: string[];
  /** Issue a new refresh token on every refresh and revoke the old one. Default true. */
  rotateRefreshTokens?: boolean;
  /** Signing algorithm. Default RS256. */
  alg?: 'RS256' | 'ES256';
}

export interface IssuedCode {
  code: string;
  clientId: string;
  redirectUri: string;
  sub: string;
  scope: string;
  nonce: string;
  state: string;
  codeChallenge: string;
  createdAt: number;
  expiresAt: number;
  /** Set by the first redemption attempt, successful or not: a code works once. */
  used: boolean;
}

export interface IssuedTokenSet {
  accessToken: string;
  refreshToken: string;
  idToken: string;
  sub: string;
  clientId: string;
  scope: string;
  grantType: string;
  /** The code these tokens were issued for (authorization_code grant). */
  code: string | undefined;
  /** ms epoch (emulator clock). */
  accessTokenExpiresAt: number;
  accessTokenRevoked: boolean;
  refreshTokenRevoked: boolean;
}

export interface IssuedIdToken {
  token: string;
  header: { alg: string; kid: string; typ: string };
  claims: JWTPayload & Record<string, unknown>;
  /** True when signed with the foreign key (signWithForeignKey). */
  foreign: boolean;
}

export interface IdTokenTamper {
  iss?: string;
  aud?: string;
  nonce?: string;
  /** Issue the token already expired (exp 10 minutes in the past). */
  expired?: boolean;
  /** Issue the token expired this many seconds ago. */
  expiredSecondsAgo?: number;
  /** Leave these claims out of the token. */
  omit?: readonly ('nonce' | 'sub')[];
}

export interface IdpLogEntry {
  method: string;
  path: string;
  status: number;
  /** Query parameters, or form fields for POSTs. */
  params: Record<string, string>;
}

export interface GrantContext {
  emu: IdpEmulator;
  clientId: string;
  /** True when the client authenticated with the configured secret. */
  confidential: boolean;
}

export interface GrantResult {
  status?: number;
  body: Record<string, unknown>;
}

/** A handler for an extra grant_type (e.g. a later token-exchange / ID-JAG grant). */
export type GrantHandler = (params: URLSearchParams, ctx: GrantContext) => GrantResult | Promise<GrantResult>;

export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(`${error}: ${description}`);
  }
}

export interface AuthorizeParams {
  clientId?: string;
  redirectUri: string;
  state: string;
  nonce: string;
  codeChallenge: string;
  scope?: string;
  extra?: Record<string, string>;
}

export interface IdpEmulator {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly issuer: string;
  readonly url: string;
  readonly port: number;
  readonly clientId: string;
  readonly users: IdpUser[];
  readonly issued: { codes: IssuedCode[]; tokens: IssuedTokenSet[]; idTokens: IssuedIdToken[] };
  readonly log: IdpLogEntry[];
  /** The published signing key (public JWK with kid/alg/use). */
  readonly jwk: JWK;
  /** Current emulator time in ms (real time unless setClock was called). */
  now(): number;
  /** Freeze the emulator clock at `ms` (epoch ms); `undefined` returns to real time. */
  setClock(ms: number | undefined): void;
  /** Move the (then frozen) clock forward. */
  advanceClock(ms: number): void;
  /** Lifetime of ID tokens issued from now on. */
  setIdTokenTtlSeconds(seconds: number): void;
  /**
   * Sign ID tokens with a key that is not in the JWKS: `true`/`'same-kid'` keeps the
   * published kid (signature check fails), `'unknown-kid'` uses a kid the JWKS lacks.
   */
  signWithForeignKey(on: boolean | 'same-kid' | 'unknown-kid'): void;
  /** Alter the next ID token issued (once). */
  tamperNextIdToken(tamper: IdTokenTamper): void;
  /** Add a grant_type to /token (room for token exchange / ID-JAG). */
  registerGrant(grantType: string, handler: GrantHandler): void;
  /** Sign any JWT with the IdP's published key. */
  signJwt(claims: JWTPayload & Record<string, unknown>, opts?: { typ?: string; expiresInSeconds?: number }): Promise<string>;
  /** Verify a token this IdP signed (signature, iss; aud when given) against its clock. */
  verifyJwt(token: string, opts?: { audience?: string; typ?: string }): Promise<JWTPayload & Record<string, unknown>>;
  /** Build an /authorize URL. */
  authorizeUrl(params: AuthorizeParams): string;
  close(): Promise<void>;
}

function randomToken(prefix: string, bytes = 24): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const PKCE_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

interface AuthorizeTransaction {
  id: string;
  clientId: string;
  redirectUri: string;
  state: string;
  nonce: string;
  scope: string;
  codeChallenge: string;
  expiresAt: number;
  done: boolean;
}

export async function startIdpEmulator(opts: IdpEmulatorOptions = {}): Promise<IdpEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const clientId = opts.clientId ?? 'onbehalf-vscode';
  const users: IdpUser[] = (opts.users ?? DEFAULT_IDP_USERS).map((u) => ({ ...u }));
  let idTokenTtl = opts.idTokenTtlSeconds ?? 3600;
  const accessTtl = opts.accessTokenTtlSeconds ?? 3600;
  const codeTtl = opts.codeTtlSeconds ?? 60;
  const rotate = opts.rotateRefreshTokens ?? true;
  const alg = opts.alg ?? 'RS256';

  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const foreignPair = await generateKeyPair(alg, { extractable: true });
  const kid = `emu-${randomBytes(6).toString('hex')}`;
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };

  let clockMs: number | undefined;
  let foreign: false | 'same-kid' | 'unknown-kid' = false;
  let pendingTamper: IdTokenTamper | undefined;
  const grants = new Map<string, GrantHandler>();
  const transactions = new Map<string, AuthorizeTransaction>();
  const issued: IdpEmulator['issued'] = { codes: [], tokens: [], idTokens: [] };
  const log: IdpLogEntry[] = [];
  const now = (): number => clockMs ?? Date.now();
  const nowSeconds = (): number => Math.floor(now() / 1000);

  let issuer = '';

  async function signIdToken(sub: string, aud: string, extra: { nonce?: string; accessToken?: string; authTime?: number }): Promise<string> {
    const user = users.find((u) => u.sub === sub);
    const iat = nowSeconds();
    const claims: JWTPayload & Record<string, unknown> = {
      iss: issuer,
      aud,
      sub,
      iat,
      exp: iat + idTokenTtl,
      auth_time: extra.authTime ?? iat,
      ...(user ? { name: user.name, email: user.email, email_verified: true } : {}),
      ...(extra.nonce !== undefined ? { nonce: extra.nonce } : {}),
    };
    if (extra.accessToken) {
      const digest = createHash('sha256').update(extra.accessToken).digest();
      claims.at_hash = digest.subarray(0, digest.length / 2).toString('base64url');
    }
    const tamper = pendingTamper;
    pendingTamper = undefined;
    if (tamper?.iss !== undefined) claims.iss = tamper.iss;
    if (tamper?.aud !== undefined) claims.aud = tamper.aud;
    if (tamper?.nonce !== undefined) claims.nonce = tamper.nonce;
    if (tamper?.expired) {
      claims.iat = iat - idTokenTtl - 600;
      claims.exp = iat - 600;
    }
    if (tamper?.expiredSecondsAgo !== undefined) {
      claims.iat = iat - idTokenTtl - tamper.expiredSecondsAgo;
      claims.exp = iat - tamper.expiredSecondsAgo;
    }
    for (const claim of tamper?.omit ?? []) delete claims[claim];
    const useForeign = foreign !== false;
    const header = { alg, kid: foreign === 'unknown-kid' ? `${kid}-foreign` : kid, typ: 'JWT' };
    const token = await new SignJWT(claims).setProtectedHeader(header).sign(useForeign ? foreignPair.privateKey : privateKey);
    issued.idTokens.push({ token, header, claims, foreign: useForeign });
    return token;
  }

  async function issueTokens(
    sub: string,
    client: string,
    scope: string,
    grantType: string,
    extra: { nonce?: string; code?: string; authTime?: number },
  ): Promise<{ set: IssuedTokenSet; body: Record<string, unknown> }> {
    const accessToken = randomToken('at');
    const refreshToken = randomToken('rt');
    const idToken = await signIdToken(sub, client, { nonce: extra.nonce, accessToken, authTime: extra.authTime });
    const set: IssuedTokenSet = {
      accessToken,
      refreshToken,
      idToken,
      sub,
      clientId: client,
      scope,
      grantType,
      code: extra.code,
      accessTokenExpiresAt: now() + accessTtl * 1000,
      accessTokenRevoked: false,
      refreshTokenRevoked: false,
    };
    issued.tokens.push(set);
    return {
      set,
      body: {
        access_token: accessToken,
        id_token: idToken,
        token_type: 'Bearer',
        expires_in: accessTtl,
        refresh_token: refreshToken,
        scope,
      },
    };
  }

  function authenticateClient(req: http.IncomingMessage, form: URLSearchParams): { clientId: string; confidential: boolean } {
    let id = form.get('client_id') ?? undefined;
    let secret = form.get('client_secret') ?? undefined;
    const authz = req.headers.authorization;
    if (typeof authz === 'string' && /^Basic\s+/i.test(authz)) {
      const decoded = Buffer.from(authz.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) throw new OAuthError('invalid_client', 'malformed Basic credentials', 401);
      const basicId = decodeURIComponent(decoded.slice(0, i));
      if (id !== undefined && id !== basicId) throw new OAuthError('invalid_client', 'client_id in body and Basic header differ', 401);
      id = basicId;
      secret = decodeURIComponent(decoded.slice(i + 1));
    }
    if (!id) throw new OAuthError('invalid_client', 'client_id is required (public clients send it in the body)', 401);
    if (id !== clientId) throw new OAuthError('invalid_client', `unknown client_id "${id}"`, 401);
    if (secret !== undefined) {
      if (opts.clientSecret === undefined || !safeEqual(secret, opts.clientSecret)) {
        throw new OAuthError('invalid_client', 'client authentication failed', 401);
      }
      return { clientId: id, confidential: true };
    }
    return { clientId: id, confidential: false };
  }

  async function authorizationCodeGrant(form: URLSearchParams, client: string): Promise<GrantResult> {
    const code = form.get('code');
    if (!code) throw new OAuthError('invalid_request', 'code is required');
    const entry = issued.codes.find((c) => c.code === code);
    if (!entry) throw new OAuthError('invalid_grant', 'authorization code is invalid');
    if (entry.clientId !== client) throw new OAuthError('invalid_grant', 'authorization code was issued to another client');
    if (entry.used) {
      // RFC 6749 §4.1.2: a replayed code revokes what it issued.
      for (const t of issued.tokens) {
        if (t.code === code) {
          t.accessTokenRevoked = true;
          t.refreshTokenRevoked = true;
        }
      }
      throw new OAuthError('invalid_grant', 'authorization code was already used');
    }
    entry.used = true;
    if (now() > entry.expiresAt) throw new OAuthError('invalid_grant', 'authorization code expired');
    const redirectUri = form.get('redirect_uri');
    if (!redirectUri) throw new OAuthError('invalid_request', 'redirect_uri is required');
    if (redirectUri !== entry.redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
    const verifier = form.get('code_verifier');
    if (!verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE)');
    if (!PKCE_VERIFIER.test(verifier)) throw new OAuthError('invalid_request', 'code_verifier must be 43-128 unreserved characters');
    if (!safeEqual(s256(verifier), entry.codeChallenge)) {
      throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge (S256)');
    }
    const { body } = await issueTokens(entry.sub, client, entry.scope, 'authorization_code', {
      nonce: entry.nonce,
      code,
      authTime: Math.floor(entry.createdAt / 1000),
    });
    return { body };
  }

  async function refreshTokenGrant(form: URLSearchParams, client: string): Promise<GrantResult> {
    const token = form.get('refresh_token');
    if (!token) throw new OAuthError('invalid_request', 'refresh_token is required');
    const set = issued.tokens.find((t) => t.refreshToken === token);
    if (!set || set.refreshTokenRevoked) throw new OAuthError('invalid_grant', 'refresh token is invalid or revoked');
    if (set.clientId !== client) throw new OAuthError('invalid_grant', 'refresh token was issued to another client');
    if (!users.some((u) => u.sub === set.sub)) throw new OAuthError('invalid_grant', 'the user no longer exists');
    if (rotate) set.refreshTokenRevoked = true;
    // OIDC Core §12.2: a refreshed ID token carries no nonce.
    const { set: next, body } = await issueTokens(set.sub, client, set.scope, 'refresh_token', {});
    if (!rotate) {
      next.refreshToken = set.refreshToken;
      body.refresh_token = set.refreshToken;
    }
    return { body };
  }

  function redirectWith(res: http.ServerResponse, redirectUri: string, params: Record<string, string | undefined>): void {
    const target = new URL(redirectUri);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) target.searchParams.set(k, v);
    res.writeHead(302, { location: target.toString(), 'cache-control': 'no-store' });
    res.end();
  }

  function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      ...headers,
    });
    res.end(text);
  }

  function sendOAuthError(res: http.ServerResponse, err: OAuthError): void {
    const headers: Record<string, string> = {};
    if (err.status === 401 && err.error === 'invalid_client') headers['www-authenticate'] = 'Basic realm="idp-emulator"';
    if (err.error === 'invalid_token') headers['www-authenticate'] = `Bearer error="invalid_token", error_description="${err.description}"`;
    sendJson(res, err.status, { error: err.error, error_description: err.description }, headers);
  }

  function validRedirectUri(value: string | null): value is string {
    if (!value) return false;
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      return false;
    }
    if (u.hash) return false;
    if (opts.redirectUriPrefixes && !opts.redirectUriPrefixes.some((p) => value.startsWith(p))) return false;
    return true;
  }

  function authorize(q: URLSearchParams, res: http.ServerResponse): void {
    const client = q.get('client_id');
    if (!client) throw new OAuthError('invalid_request', 'client_id is required');
    if (client !== clientId) throw new OAuthError('invalid_client', `unknown client_id "${client}"`, 401);
    const redirectUri = q.get('redirect_uri');
    if (!redirectUri) throw new OAuthError('invalid_request', 'redirect_uri is required');
    if (!validRedirectUri(redirectUri)) throw new OAuthError('invalid_request', 'redirect_uri is not an allowed absolute URI');
    const state = q.get('state') ?? undefined;
    // From here errors go back to the client through the redirect (RFC 6749 §4.1.2.1).
    const bounce = (error: string, description: string): void => redirectWith(res, redirectUri, { error, error_description: description, state, iss: issuer });
    if (q.get('response_type') !== 'code') return bounce('unsupported_response_type', 'response_type must be "code"');
    const scope = q.get('scope') ?? '';
    if (!scope.split(/\s+/).includes('openid')) return bounce('invalid_scope', 'scope must include "openid"');
    if (!state) return bounce('invalid_request', 'state is required');
    const nonce = q.get('nonce');
    if (!nonce) return bounce('invalid_request', 'nonce is required');
    const challenge = q.get('code_challenge');
    if (!challenge) return bounce('invalid_request', 'code_challenge is required (PKCE)');
    if (q.get('code_challenge_method') !== 'S256') return bounce('invalid_request', 'code_challenge_method must be S256');
    if (!PKCE_CHALLENGE.test(challenge)) return bounce('invalid_request', 'code_challenge must be a base64url SHA-256 (43 characters)');

    const tx: AuthorizeTransaction = {
      id: randomBytes(18).toString('base64url'),
      clientId: client,
      redirectUri,
      state,
      nonce,
      scope,
      codeChallenge: challenge,
      expiresAt: Date.now() + 10 * 60_000,
      done: false,
    };
    transactions.set(tx.id, tx);
    const userItems = users
      .map(
        (u) =>
          `      <li><a class="user" id="login-${escapeHtml(u.sub)}" href="/login?tx=${encodeURIComponent(tx.id)}&amp;sub=${encodeURIComponent(u.sub)}">` +
          `<strong>${escapeHtml(u.name)}</strong><span>${escapeHtml(u.email)}</span></a></li>`,
      )
      .join('\n');
    const html = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Sign in - OnBehalf IdP emulator</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <style>
    body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; color: #1f2328; }
    ul { list-style: none; padding: 0; }
    a.user { display: flex; flex-direction: column; padding: .75rem 1rem; margin: .5rem 0; border: 1px solid #d0d7de; border-radius: 6px; text-decoration: none; color: inherit; }
    a.user:hover { background: #f6f8fa; }
    a.user span { color: #57606a; font-size: .9em; }
    #cancel { color: #cf222e; }
  </style>
</head>
<body>
  <h1>Sign in</h1>
  <p><code id="client">${escapeHtml(client)}</code> asks for: <code id="scope">${escapeHtml(scope)}</code></p>
  <p>Choose a demo user:</p>
  <ul id="users">
${userItems}
  </ul>
  <p><a id="cancel" href="/login/cancel?tx=${encodeURIComponent(tx.id)}">Cancel</a></p>
</body>
</html>
`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  }

  function takeTransaction(q: URLSearchParams): AuthorizeTransaction {
    const tx = transactions.get(q.get('tx') ?? '');
    if (!tx) throw new OAuthError('invalid_request', 'unknown login transaction');
    if (tx.done) throw new OAuthError('invalid_request', 'this login transaction was already completed');
    if (Date.now() > tx.expiresAt) throw new OAuthError('invalid_request', 'login transaction expired');
    return tx;
  }

  function login(q: URLSearchParams, res: http.ServerResponse): void {
    const tx = takeTransaction(q);
    const user = users.find((u) => u.sub === q.get('sub'));
    if (!user) throw new OAuthError('invalid_request', `unknown user "${q.get('sub') ?? ''}"`);
    tx.done = true;
    const code = randomToken('code');
    issued.codes.push({
      code,
      clientId: tx.clientId,
      redirectUri: tx.redirectUri,
      sub: user.sub,
      scope: tx.scope,
      nonce: tx.nonce,
      state: tx.state,
      codeChallenge: tx.codeChallenge,
      createdAt: now(),
      expiresAt: now() + codeTtl * 1000,
      used: false,
    });
    redirectWith(res, tx.redirectUri, { code, state: tx.state, iss: issuer });
  }

  function cancel(q: URLSearchParams, res: http.ServerResponse): void {
    const tx = takeTransaction(q);
    tx.done = true;
    redirectWith(res, tx.redirectUri, {
      error: 'access_denied',
      error_description: 'The user cancelled the sign-in',
      state: tx.state,
      iss: issuer,
    });
  }

  async function token(req: http.IncomingMessage, form: URLSearchParams, res: http.ServerResponse): Promise<void> {
    const client = authenticateClient(req, form);
    const grantType = form.get('grant_type');
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
    let result: GrantResult;
    if (grantType === 'authorization_code') result = await authorizationCodeGrant(form, client.clientId);
    else if (grantType === 'refresh_token') result = await refreshTokenGrant(form, client.clientId);
    else {
      const handler = grants.get(grantType);
      if (!handler) throw new OAuthError('unsupported_grant_type', `grant_type "${grantType}" is not supported`);
      result = await handler(form, { emu, clientId: client.clientId, confidential: client.confidential });
    }
    sendJson(res, result.status ?? 200, result.body);
  }

  function bearerTokenSet(req: http.IncomingMessage): IssuedTokenSet {
    const authz = req.headers.authorization;
    const match = typeof authz === 'string' ? /^Bearer\s+(\S+)$/i.exec(authz) : null;
    if (!match) throw new OAuthError('invalid_token', 'a Bearer access token is required', 401);
    const set = issued.tokens.find((t) => t.accessToken === match[1]);
    if (!set || set.accessTokenRevoked) throw new OAuthError('invalid_token', 'access token is invalid or revoked', 401);
    if (now() > set.accessTokenExpiresAt) throw new OAuthError('invalid_token', 'access token expired', 401);
    return set;
  }

  function userinfo(req: http.IncomingMessage, res: http.ServerResponse): void {
    const set = bearerTokenSet(req);
    const user = users.find((u) => u.sub === set.sub);
    if (!user) throw new OAuthError('invalid_token', 'the user no longer exists', 401);
    sendJson(res, 200, { sub: user.sub, name: user.name, email: user.email, email_verified: true });
  }

  function revoke(req: http.IncomingMessage, form: URLSearchParams, res: http.ServerResponse): void {
    const client = authenticateClient(req, form);
    const value = form.get('token');
    if (!value) throw new OAuthError('invalid_request', 'token is required');
    for (const t of issued.tokens) {
      if (t.clientId !== client.clientId) continue;
      if (t.accessToken === value) t.accessTokenRevoked = true;
      if (t.refreshToken === value) {
        t.refreshTokenRevoked = true;
        t.accessTokenRevoked = true;
      }
    }
    res.writeHead(200, { 'cache-control': 'no-store' });
    res.end();
  }

  function discovery(): Record<string, unknown> {
    return {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      revocation_endpoint: `${issuer}/revoke`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token', ...grants.keys()],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [alg],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      code_challenge_methods_supported: ['S256'],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'name', 'email', 'email_verified'],
      authorization_response_iss_parameter_supported: true,
    };
  }

  async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const type = String(req.headers['content-type'] ?? '');
    if (type.includes('application/json') && raw) {
      let obj: unknown;
      try {
        obj = JSON.parse(raw);
      } catch {
        throw new OAuthError('invalid_request', 'body is not valid JSON');
      }
      const form = new URLSearchParams();
      if (obj && typeof obj === 'object') {
        for (const [k, v] of Object.entries(obj as Record<string, unknown>)) if (v !== undefined && v !== null) form.set(k, String(v));
      }
      return form;
    }
    return new URLSearchParams(raw);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer || 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    let params: Record<string, string> = Object.fromEntries(url.searchParams);
    res.on('finish', () => log.push({ method, path, status: res.statusCode, params }));
    const handle = async (): Promise<void> => {
      if (method === 'GET' && path === '/.well-known/openid-configuration') return sendJson(res, 200, discovery());
      if (method === 'GET' && path === '/jwks') return sendJson(res, 200, { keys: [jwk] });
      if (method === 'GET' && path === '/authorize') return authorize(url.searchParams, res);
      if (method === 'GET' && path === '/login') return login(url.searchParams, res);
      if (method === 'GET' && path === '/login/cancel') return cancel(url.searchParams, res);
      if ((method === 'GET' || method === 'POST') && path === '/userinfo') return userinfo(req, res);
      if (path === '/token' || path === '/revoke') {
        if (method !== 'POST') throw new OAuthError('invalid_request', `${path} requires POST`, 405);
        const form = await readForm(req);
        params = Object.fromEntries(form);
        if (params.client_secret !== undefined) params.client_secret = '[redacted]';
        return path === '/token' ? token(req, form, res) : revoke(req, form, res);
      }
      sendJson(res, 404, { error: 'not_found', error_description: `${method} ${path}` });
    };
    handle().catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof OAuthError) return sendOAuthError(res, err);
      sendJson(res, 500, { error: 'server_error', error_description: (err as Error)?.stack ?? String(err) });
    });
  });

  const port = await listenOn(server, opts.port ?? 0, host);
  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  issuer = `http://${publicHost}:${port}`;

  const emu: IdpEmulator = {
    issuer,
    url: issuer,
    port,
    clientId,
    users,
    issued,
    log,
    jwk,
    now,
    setClock(ms) {
      clockMs = ms;
    },
    setIdTokenTtlSeconds(seconds) {
      idTokenTtl = seconds;
    },
    advanceClock(ms) {
      clockMs = now() + ms;
    },
    signWithForeignKey(on) {
      foreign = on === false ? false : on === 'unknown-kid' ? 'unknown-kid' : 'same-kid';
    },
    tamperNextIdToken(tamper) {
      pendingTamper = { ...tamper };
    },
    registerGrant(grantType, handler) {
      grants.set(grantType, handler);
    },
    async signJwt(claims, o = {}) {
      const iat = nowSeconds();
      const payload = { iss: issuer, iat, ...(o.expiresInSeconds !== undefined ? { exp: iat + o.expiresInSeconds } : {}), ...claims };
      return new SignJWT(payload).setProtectedHeader({ alg, kid, typ: o.typ ?? 'JWT' }).sign(privateKey);
    },
    async verifyJwt(tokenValue, o = {}) {
      const { payload } = await jwtVerify(tokenValue, publicKey, {
        issuer,
        ...(o.audience !== undefined ? { audience: o.audience } : {}),
        ...(o.typ !== undefined ? { typ: o.typ } : {}),
        currentDate: new Date(now()),
      });
      return payload;
    },
    authorizeUrl(p) {
      const u = new URL(`${issuer}/authorize`);
      u.searchParams.set('response_type', 'code');
      u.searchParams.set('client_id', p.clientId ?? clientId);
      u.searchParams.set('redirect_uri', p.redirectUri);
      u.searchParams.set('scope', p.scope ?? 'openid profile email');
      u.searchParams.set('state', p.state);
      u.searchParams.set('nonce', p.nonce);
      u.searchParams.set('code_challenge', p.codeChallenge);
      u.searchParams.set('code_challenge_method', 'S256');
      for (const [k, v] of Object.entries(p.extra ?? {})) u.searchParams.set(k, v);
      return u.toString();
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return emu;
}

/** PKCE helper for tests and harnesses: a verifier and its S256 challenge. */
export function makePkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: s256(verifier) };
}
