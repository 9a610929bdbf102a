// PostHog's authorization server and MCP server, as they behave for enterprise-managed
// authorization (ID-JAG). One HTTP port serves:
//
//   GET  /.well-known/oauth-protected-resource/mcp   RFC 9728 metadata of /mcp (also at the root form)
//   GET  /.well-known/oauth-protected-resource/other-api   metadata of a second resource
//   GET  /.well-known/oauth-authorization-server     RFC 8414 metadata, with authorization_grant_profiles_supported
//   GET  /jwks                                        the AS key (access tokens are at+jwt JWTs)
//   POST /oauth/token                                 grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<ID-JAG>
//   POST /mcp                                         MCP (Streamable HTTP, JSON responses) via the SDK's McpServer
//   GET  /mcp                                         the session's SSE stream (Mcp-Session-Id)
//   DELETE /mcp                                       ends the session named by Mcp-Session-Id, and its streams
//   GET  /other-api                                   another protected resource: refuses tokens minted for /mcp
//
// The AS enforces the ID-JAG rules PostHog documents: signature against the IdP's JWKS,
// typ oauth-id-jag+jwt, aud = this issuer, resource = a resource it serves, client_id
// registered, exp/iat with 30 s skew, jti single use; the access token lasts 2 h, is
// audience-bound to the resource, and comes without a refresh token. The MCP server
// answers 401 invalid_token for unknown/expired/revoked tokens and 403 insufficient_scope
// unless user:read, organization:read and project:read were granted. Sessions are stateful
// as on PostHog's server: `initialize` mints an Mcp-Session-Id bound to the token's user, a
// GET opens that session's stream, a DELETE ends the session and closes its streams.
import { randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import {
  SignJWT,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  type JWK,
  type JWTPayload,
} from 'jose';
import { createEmulatorData, type EmulatorData } from '../data/world';
import { registerPostHogTools, type ToolAnnotationsSpec, type ToolCallRecord } from './tools';
import { listenOn } from '../listen';

export const ID_JAG_GRANT_PROFILE = 'urn:ietf:params:oauth:grant-profile:id-jag';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ID_JAG_TYP = 'oauth-id-jag+jwt';
export const ENTERPRISE_EXTENSION = 'io.modelcontextprotocol/enterprise-managed-authorization';
export const BOOTSTRAP_SCOPES = ['user:read', 'organization:read', 'project:read'] as const;
export const DEFAULT_SCOPES_SUPPORTED = [
  ...BOOTSTRAP_SCOPES,
  'feature_flag:read',
  'feature_flag:write',
  'insight:read',
  'insight:write',
  'dashboard:read',
  'query:read',
  'event_definition:read',
];

export interface PostHogMcpEmulatorOptions {
  port?: number;
  host?: string;
  /** The IdP whose ID-JAGs this AS trusts. */
  idpIssuer: string;
  idpJwksUrl: string;
  /** Client ids registered for enterprise-managed authorization. */
  clientIds: string[];
  /** Default 7200 (2 h). */
  accessTokenTtlSeconds?: number;
  /** Default 30. */
  clockSkewSeconds?: number;
  scopesSupported?: string[];
  /** authorization_grant_profiles_supported. Default [ID-JAG profile]; [] to test its absence. */
  grantProfiles?: string[];
  /** 'well-known' (default) serves RFC 9728 metadata at both well-known URIs; 'header-only' only names it in 401 challenges. */
  protectedResourceMetadata?: 'well-known' | 'header-only';
  /** tools/list page size (the SDK's McpServer does not paginate; this emulator does). Default 5. */
  toolsPageSize?: number;
  /** Users PostHog refuses (not in any organization) → access_denied. */
  deniedSubjects?: string[];
  /** Per-tool annotation overrides, by MCP tool name. */
  toolAnnotationOverrides?: Record<string, ToolAnnotationsSpec | null>;
  /** The PostHog world behind the tools. Default a fresh seeded one on this emulator's clock. */
  data?: EmulatorData;
  /** No Mcp-Session-Id, a fresh server per POST, GET and DELETE answered 405. Default false (sessions). */
  stateless?: boolean;
}

export interface McpDeleteRecord {
  sessionId: string;
  /** The user the session belonged to. */
  sub: string;
  /** The user whose token asked for the DELETE. */
  requestedBy: string;
  status: number;
}

export interface McpOpenSession {
  sessionId: string;
  sub: string;
  /** GET streams of this session still connected. */
  openStreams: number;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  sub: string;
  email: string | undefined;
  clientId: string;
  scope: string[];
  /** The resource (audience) it is bound to. */
  aud: string;
  expiresAt: number;
  revoked: boolean;
}

export interface TokenLogEntry {
  ok: boolean;
  error?: string;
  description?: string;
  sub?: string;
  clientId?: string;
  scope?: string;
}

export interface InitializeRecord {
  /** `params.capabilities` as sent on the wire. */
  capabilities: Record<string, unknown>;
  /** What the SDK's Server kept after parsing (`getClientCapabilities()`). */
  parsedCapabilities: Record<string, unknown> | undefined;
  clientInfo: unknown;
  protocolVersion: unknown;
  sub: string;
}

export interface McpLogEntry {
  httpMethod: string;
  path: string;
  rpcMethod: string | undefined;
  status: number;
  sub: string | undefined;
}

export interface ForcedMcpError {
  status: 401 | 403;
  error: 'invalid_token' | 'insufficient_scope';
  description?: string;
  scope?: string;
  /** How many requests it applies to. Default 1. Only POSTs (JSON-RPC) count, not the optional GET stream. */
  times?: number;
  /** Only requests for this JSON-RPC method (e.g. `tools/call`). */
  rpcMethod?: string;
}

export interface PostHogMcpCounters {
  tokenRequests: number;
  jwtBearerGrants: number;
  replaysRefused: number;
  tokenErrors: Record<string, number>;
  mcpRequests: number;
  invalidToken: number;
  insufficientScope: number;
  toolCalls: number;
  otherApiRefused: number;
}

export interface PostHogMcpEmulator {
  /** `http://127.0.0.1:<port>`: the AS issuer. */
  readonly issuer: string;
  readonly url: string;
  readonly mcpUrl: string;
  readonly otherApiUrl: string;
  readonly tokenEndpoint: string;
  readonly resourceMetadataUrl: string;
  readonly data: EmulatorData;
  readonly counters: PostHogMcpCounters;
  readonly initializations: InitializeRecord[];
  readonly tokenLog: TokenLogEntry[];
  readonly accessTokens: IssuedAccessToken[];
  /** Every assertion presented to the token endpoint, in order (test hook only). */
  readonly assertions: string[];
  readonly toolCalls: ToolCallRecord[];
  readonly mcpLog: McpLogEntry[];
  /** Every DELETE /mcp that named a session, in order. */
  readonly deletes: McpDeleteRecord[];
  /** Sessions not ended yet (by DELETE), with how many GET streams each still has open. */
  sessions(): McpOpenSession[];
  /** The users of every GET stream still connected, one entry per stream. */
  openStreams(): { sessionId: string; sub: string }[];
  /** While true, a DELETE is recorded but never answered (a server that hangs). */
  holdDeletes(hold: boolean): void;
  readonly jwk: JWK;
  now(): number;
  setClock(ms: number | undefined): void;
  advanceClock(ms: number): void;
  /** The next token request fails with this OAuth error (once), before any check. */
  failNextToken(error: string, description?: string, status?: number): void;
  /** The next MCP request(s) answer this challenge instead of running. */
  failNextMcp(forced: ForcedMcpError): void;
  /** Every issued access token becomes invalid (401 invalid_token). */
  revokeTokens(): void;
  setGrantProfiles(profiles: string[]): void;
  readonly options: PostHogMcpEmulatorOptions;
  resetLogs(): void;
  close(): Promise<void>;
}

class TokenError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(`${error}: ${description}`);
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const quote = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;

export async function startPostHogMcpEmulator(options: PostHogMcpEmulatorOptions): Promise<PostHogMcpEmulator> {
  const host = options.host ?? '127.0.0.1';
  const ttl = options.accessTokenTtlSeconds ?? 7200;
  const skew = options.clockSkewSeconds ?? 30;
  const scopesSupported = options.scopesSupported ?? DEFAULT_SCOPES_SUPPORTED;
  let grantProfiles = options.grantProfiles ?? [ID_JAG_GRANT_PROFILE];
  const pageSize = options.toolsPageSize ?? 5;

  let clockMs: number | undefined;
  const now = (): number => clockMs ?? Date.now();
  const data = options.data ?? createEmulatorData({ now });
  const idpJwks = createRemoteJWKSet(new URL(options.idpJwksUrl));
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `posthog-as-${randomBytes(4).toString('hex')}`;
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };

  const counters: PostHogMcpCounters = {
    tokenRequests: 0,
    jwtBearerGrants: 0,
    replaysRefused: 0,
    tokenErrors: {},
    mcpRequests: 0,
    invalidToken: 0,
    insufficientScope: 0,
    toolCalls: 0,
    otherApiRefused: 0,
  };
  const initializations: InitializeRecord[] = [];
  const tokenLog: TokenLogEntry[] = [];
  const accessTokens: IssuedAccessToken[] = [];
  const assertions: string[] = [];
  const toolCalls: ToolCallRecord[] = [];
  const mcpLog: McpLogEntry[] = [];
  const deletes: McpDeleteRecord[] = [];
  interface SessionEntry {
    readonly id: string;
    readonly sub: string;
    readonly transport: StreamableHTTPServerTransport;
    readonly server: McpServer;
    readonly streams: Set<http.ServerResponse>;
  }
  const sessions = new Map<string, SessionEntry>();
  let deletesHeld = false;
  /** `iss|jti` → ms until which the jti is remembered. */
  const seenJtis = new Map<string, number>();
  let forcedToken: TokenError | undefined;
  const forcedMcp: ForcedMcpError[] = [];

  let issuer = '';
  let mcpUrl = '';
  let otherApiUrl = '';
  const headerOnly = options.protectedResourceMetadata === 'header-only';
  // Header-only mode keeps the metadata at a URL no client can guess: only 401s name it.
  const prmUrl = (resource: string): string =>
    headerOnly && resource === mcpUrl ? `${issuer}/resource-metadata/mcp` : `${issuer}/.well-known/oauth-protected-resource${new URL(resource).pathname}`;

  function protectedResourceMetadata(resource: string): Record<string, unknown> {
    return {
      resource,
      authorization_servers: [issuer],
      scopes_supported: scopesSupported,
      bearer_methods_supported: ['header'],
      resource_name: resource === mcpUrl ? 'PostHog MCP (emulator)' : 'PostHog other API (emulator)',
    };
  }

  function authorizationServerMetadata(): Record<string, unknown> {
    return {
      issuer,
      token_endpoint: `${issuer}/oauth/token`,
      jwks_uri: `${issuer}/jwks`,
      grant_types_supported: [JWT_BEARER],
      authorization_grant_profiles_supported: grantProfiles,
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: scopesSupported,
      response_types_supported: [],
    };
  }

  // ---- token endpoint ------------------------------------------------------------

  async function jwtBearerGrant(req: http.IncomingMessage, form: URLSearchParams): Promise<Record<string, unknown>> {
    if (forcedToken) {
      const f = forcedToken;
      forcedToken = undefined;
      throw f;
    }
    const grantType = form.get('grant_type');
    if (grantType !== JWT_BEARER) throw new TokenError('unsupported_grant_type', `grant_type "${grantType ?? ''}" is not supported here`);
    let presented = form.get('client_id') ?? undefined;
    const authz = req.headers.authorization;
    if (typeof authz === 'string' && /^Basic\s+/i.test(authz)) {
      const decoded = Buffer.from(authz.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
      presented = decodeURIComponent(decoded.split(':')[0] ?? '');
    }
    if (presented !== undefined && !options.clientIds.includes(presented)) {
      throw new TokenError('invalid_client', `client "${presented}" is not registered for enterprise-managed authorization`, 401);
    }
    const assertion = form.get('assertion');
    if (!assertion) throw new TokenError('invalid_request', 'assertion is required');
    assertions.push(assertion);

    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      throw new TokenError('invalid_grant', 'the assertion is not a JWT');
    }
    if (header.typ !== ID_JAG_TYP) throw new TokenError('invalid_grant', `the assertion typ is "${String(header.typ)}", not ${ID_JAG_TYP}`);

    let claims: JWTPayload & Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(assertion, idpJwks, {
        issuer: options.idpIssuer,
        audience: issuer,
        typ: ID_JAG_TYP,
        algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'],
        currentDate: new Date(now()),
        clockTolerance: skew,
        requiredClaims: ['jti', 'iat', 'exp', 'sub', 'client_id'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        throw new TokenError('invalid_grant', `the ID-JAG expired: its exp is more than ${skew} s in the past`);
      }
      if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey) {
        throw new TokenError('invalid_grant', "the ID-JAG signature does not verify against the identity provider's JWKS");
      }
      if (error instanceof joseErrors.JWTClaimValidationFailed) {
        if (error.claim === 'aud') throw new TokenError('invalid_grant', `the ID-JAG audience is not this authorization server (${issuer})`);
        if (error.claim === 'iss') throw new TokenError('invalid_grant', 'the ID-JAG issuer is not a trusted identity provider');
        if (error.claim === 'nbf') throw new TokenError('invalid_grant', `the ID-JAG is not yet valid (nbf beyond the ${skew} s clock skew)`);
        throw new TokenError('invalid_grant', `the ID-JAG claim ${error.claim} failed validation (${error.reason})`);
      }
      throw new TokenError('invalid_grant', `the ID-JAG could not be verified (${(error as Error).message})`);
    }
    const nowS = Math.floor(now() / 1000);
    if (typeof claims.iat === 'number' && claims.iat > nowS + skew) {
      throw new TokenError('invalid_grant', `the ID-JAG is not yet valid: its iat is ${claims.iat - nowS} s in the future, beyond the ${skew} s clock skew`);
    }
    const jtiKey = `${String(claims.iss)}|${String(claims.jti)}`;
    for (const [k, until] of seenJtis) if (until < now()) seenJtis.delete(k);
    if (seenJtis.has(jtiKey)) {
      counters.replaysRefused++;
      throw new TokenError('invalid_grant', 'the ID-JAG jti was already used: each ID-JAG works once (replay refused)');
    }
    seenJtis.set(jtiKey, ((claims.exp ?? nowS) + skew) * 1000);

    const clientId = String(claims.client_id);
    if (!options.clientIds.includes(clientId))
      throw new TokenError('invalid_client', `the ID-JAG client_id "${clientId}" is not registered for enterprise-managed authorization`, 401);
    // PostHog compares an optional client_id parameter with the ID-JAG's claim and words the
    // refusal this way (PostHog's enterprise-managed authorization token view).
    if (presented !== undefined && presented !== clientId) throw new TokenError('invalid_grant', "ID-JAG client_id doesn't match the authenticating client");
    const resource = typeof claims.resource === 'string' ? claims.resource : '';
    if (resource !== mcpUrl && resource !== otherApiUrl)
      throw new TokenError('invalid_target', `this authorization server does not serve the resource "${resource}"`);
    const sub = String(claims.sub);
    if (options.deniedSubjects?.includes(sub)) throw new TokenError('access_denied', 'this user is not a member of any PostHog organization', 403);

    const assertionScopes = String(claims.scope ?? '')
      .split(/\s+/)
      .filter(Boolean);
    const requested = form.get('scope')?.split(/\s+/).filter(Boolean);
    const scope = assertionScopes.filter((s) => scopesSupported.includes(s) && (!requested || requested.includes(s)));

    const jti = randomBytes(12).toString('base64url');
    const email = typeof claims.email === 'string' ? claims.email : undefined;
    const token = await new SignJWT({ scope: scope.join(' '), client_id: clientId, ...(email ? { email } : {}) })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setSubject(sub)
      .setAudience(resource)
      .setJti(jti)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + ttl)
      .sign(privateKey);
    accessTokens.push({ token, jti, sub, email, clientId, scope, aud: resource, expiresAt: (nowS + ttl) * 1000, revoked: false });
    counters.jwtBearerGrants++;
    tokenLog.push({ ok: true, sub, clientId, scope: scope.join(' ') });
    return { access_token: token, token_type: 'Bearer', expires_in: ttl, scope: scope.join(' ') };
  }

  async function tokenEndpoint(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    counters.tokenRequests++;
    const raw = await readBody(req);
    const form = new URLSearchParams(raw);
    try {
      const body = await jwtBearerGrant(req, form);
      sendJson(res, 200, body, { pragma: 'no-cache' });
    } catch (error) {
      const e = error instanceof TokenError ? error : new TokenError('server_error', (error as Error).message, 500);
      counters.tokenErrors[e.error] = (counters.tokenErrors[e.error] ?? 0) + 1;
      tokenLog.push({ ok: false, error: e.error, description: e.description });
      sendJson(res, e.status, { error: e.error, error_description: e.description }, { pragma: 'no-cache' });
    }
  }

  // ---- protected resources -----------------------------------------------------------

  type AuthResult = { ok: true; token: IssuedAccessToken } | { ok: false };

  function challenge(res: http.ServerResponse, resource: string, status: 401 | 403, error?: string, description?: string, scope?: string): void {
    const parts = [`realm="posthog"`];
    if (error) parts.push(`error=${quote(error)}`);
    if (description) parts.push(`error_description=${quote(description)}`);
    if (scope) parts.push(`scope=${quote(scope)}`);
    parts.push(`resource_metadata=${quote(prmUrl(resource))}`);
    sendJson(
      res,
      status,
      { error: error ?? 'unauthorized', error_description: description ?? 'a Bearer access token is required' },
      { 'www-authenticate': `Bearer ${parts.join(', ')}` },
    );
  }

  async function authenticate(req: http.IncomingMessage, res: http.ServerResponse, resource: string): Promise<AuthResult> {
    const authz = req.headers.authorization;
    const m = typeof authz === 'string' ? /^Bearer\s+(\S+)$/i.exec(authz) : null;
    if (!m?.[1]) {
      challenge(res, resource, 401);
      return { ok: false };
    }
    const value = m[1];
    const invalid = (description: string): AuthResult => {
      if (resource === mcpUrl) counters.invalidToken++;
      else counters.otherApiRefused++;
      challenge(res, resource, 401, 'invalid_token', description);
      return { ok: false };
    };
    try {
      await jwtVerify(value, publicKey, { issuer, audience: resource, typ: 'at+jwt', currentDate: new Date(now()) });
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return invalid('the access token expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'aud') {
        return invalid(`the access token is not valid for this resource (${resource}); it is bound to another audience`);
      }
      return invalid('the access token is invalid');
    }
    const token = accessTokens.find((t) => t.token === value);
    if (!token || token.revoked) return invalid('the access token was revoked');
    return { ok: true, token };
  }

  function buildMcpServer(token: IssuedAccessToken): McpServer {
    const server = new McpServer(
      { name: 'posthog-mcp-emulator', version: '1.0.0' },
      { capabilities: { tools: { listChanged: false }, extensions: { [ENTERPRISE_EXTENSION]: {} } } },
    );
    registerPostHogTools(server, {
      data,
      user: { sub: token.sub, email: token.email },
      ...(options.toolAnnotationOverrides ? { annotationOverrides: options.toolAnnotationOverrides } : {}),
      onCall: (record) => {
        counters.toolCalls++;
        toolCalls.push(record);
      },
    });
    // McpServer answers tools/list in one page; PostHog's server pages. Wrap its handler.
    const handlers = (server.server as unknown as { _requestHandlers?: Map<string, (request: unknown, extra: unknown) => Promise<unknown>> })._requestHandlers;
    const inner = handlers?.get('tools/list');
    if (inner && pageSize > 0) {
      server.server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
        const all = (await inner(request, extra)) as { tools: unknown[] };
        const cursor = request.params?.cursor;
        let offset = 0;
        if (cursor !== undefined) {
          const parsed = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
          if (!parsed) throw new McpError(ErrorCode.InvalidParams, 'invalid cursor');
          offset = Number(parsed[1]);
        }
        const tools = all.tools.slice(offset, offset + pageSize);
        const next = offset + pageSize < all.tools.length ? Buffer.from(`o:${offset + pageSize}`).toString('base64url') : undefined;
        return { tools, ...(next ? { nextCursor: next } : {}) };
      });
    }
    return server;
  }

  async function mcp(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    counters.mcpRequests++;
    const method = req.method ?? 'GET';
    let rpcMethod: string | undefined;
    let sub: string | undefined;
    res.on('finish', () => mcpLog.push({ httpMethod: method, path, rpcMethod, status: res.statusCode, sub }));
    const raw = await readBody(req);
    let body: unknown;
    let parseError = false;
    if (method === 'POST') {
      try {
        body = JSON.parse(raw);
      } catch {
        parseError = true;
      }
    }
    const message = (Array.isArray(body) ? body[0] : body) as { method?: unknown; params?: Record<string, unknown> } | undefined;
    rpcMethod = typeof message?.method === 'string' ? message.method : undefined;

    const forced = forcedMcp[0];
    if (forced && method === 'POST' && (forced.rpcMethod === undefined || forced.rpcMethod === rpcMethod)) {
      forced.times = (forced.times ?? 1) - 1;
      if (forced.times <= 0) forcedMcp.shift();
      if (forced.status === 401) counters.invalidToken++;
      else counters.insufficientScope++;
      return challenge(res, mcpUrl, forced.status, forced.error, forced.description ?? `forced ${forced.error}`, forced.scope);
    }
    const auth = await authenticate(req, res, mcpUrl);
    if (!auth.ok) return;
    sub = auth.token.sub;
    const missing = BOOTSTRAP_SCOPES.filter((s) => !auth.token.scope.includes(s));
    if (missing.length) {
      counters.insufficientScope++;
      return challenge(res, mcpUrl, 403, 'insufficient_scope', `the PostHog MCP server needs ${missing.join(', ')}`, BOOTSTRAP_SCOPES.join(' '));
    }
    const stateless = options.stateless === true;
    if (method !== 'POST' && (stateless || (method !== 'GET' && method !== 'DELETE'))) {
      res.writeHead(405, { allow: stateless ? 'POST' : 'GET, POST, DELETE' });
      res.end();
      return;
    }
    if (parseError) return sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: ErrorCode.ParseError, message: 'Parse error' } });
    const authed = Object.assign(req, {
      auth: {
        token: auth.token.token,
        clientId: auth.token.clientId,
        scopes: auth.token.scope,
        expiresAt: Math.floor(auth.token.expiresAt / 1000),
        extra: { sub },
      },
    });
    const recordInitialize = (server: McpServer): void => {
      if (rpcMethod !== 'initialize') return;
      const params = message?.params ?? {};
      initializations.push({
        capabilities: (params.capabilities ?? {}) as Record<string, unknown>,
        parsedCapabilities: server.server.getClientCapabilities(),
        clientInfo: params.clientInfo,
        protocolVersion: params.protocolVersion,
        sub: sub ?? '',
      });
    };

    if (stateless) {
      const server = buildMcpServer(auth.token);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(authed, res, body);
      recordInitialize(server);
      return;
    }

    const header = req.headers['mcp-session-id'];
    const sessionId = typeof header === 'string' ? header : undefined;
    if (sessionId === undefined) {
      if (method !== 'POST' || rpcMethod !== 'initialize') {
        return sendJson(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: Mcp-Session-Id header is required' } });
      }
      // A new session, bound to the user whose token initialized it.
      const server = buildMcpServer(auth.token);
      const owner = auth.token.sub;
      let entry: SessionEntry | undefined;
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: true,
        onsessioninitialized: (id) => {
          entry = { id, sub: owner, transport, server, streams: new Set() };
          sessions.set(id, entry);
        },
      });
      transport.onclose = () => {
        if (entry) sessions.delete(entry.id);
        void server.close();
      };
      await server.connect(transport);
      await transport.handleRequest(authed, res, body);
      recordInitialize(server);
      return;
    }
    const session = sessions.get(sessionId);
    // A session belongs to the user who opened it: anyone else is told it does not exist.
    if (!session || session.sub !== auth.token.sub) {
      return sendJson(res, 404, { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } });
    }
    if (method === 'DELETE') {
      const record: McpDeleteRecord = { sessionId, sub: session.sub, requestedBy: auth.token.sub, status: 0 };
      deletes.push(record);
      res.on('finish', () => {
        record.status = res.statusCode;
      });
      if (deletesHeld) return; // Recorded, never answered; the session lives on.
      sessions.delete(sessionId);
      await session.transport.handleRequest(authed, res, body);
      return;
    }
    if (method === 'GET') {
      session.streams.add(res);
      res.on('close', () => session.streams.delete(res));
    }
    await session.transport.handleRequest(authed, res, body);
  }

  async function otherApi(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const auth = await authenticate(req, res, otherApiUrl);
    if (!auth.ok) return;
    sendJson(res, 200, { ok: true, sub: auth.token.sub, resource: otherApiUrl });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer || 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const handle = async (): Promise<void> => {
      if (method === 'GET' && !headerOnly && (path === '/.well-known/oauth-protected-resource/mcp' || path === '/.well-known/oauth-protected-resource')) {
        return sendJson(res, 200, protectedResourceMetadata(mcpUrl));
      }
      if (method === 'GET' && headerOnly && path === '/resource-metadata/mcp') return sendJson(res, 200, protectedResourceMetadata(mcpUrl));
      if (method === 'GET' && path === '/.well-known/oauth-protected-resource/other-api') return sendJson(res, 200, protectedResourceMetadata(otherApiUrl));
      if (method === 'GET' && path === '/.well-known/oauth-authorization-server') return sendJson(res, 200, authorizationServerMetadata());
      if (method === 'GET' && path === '/jwks') return sendJson(res, 200, { keys: [jwk] });
      if (path === '/oauth/token') {
        if (method !== 'POST') return sendJson(res, 405, { error: 'invalid_request', error_description: 'POST only' });
        return tokenEndpoint(req, res);
      }
      if (path === '/mcp') return mcp(req, res, path);
      if (path === '/other-api') return otherApi(req, res);
      sendJson(res, 404, { error: 'not_found', error_description: `${method} ${path}` });
    };
    handle().catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      sendJson(res, 500, { error: 'server_error', error_description: (error as Error)?.message ?? String(error) });
    });
  });

  const port = await listenOn(server, options.port ?? 0, host);
  issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  mcpUrl = `${issuer}/mcp`;
  otherApiUrl = `${issuer}/other-api`;

  const emulator: PostHogMcpEmulator = {
    issuer,
    url: issuer,
    mcpUrl,
    otherApiUrl,
    tokenEndpoint: `${issuer}/oauth/token`,
    resourceMetadataUrl: prmUrl(mcpUrl),
    data,
    counters,
    initializations,
    tokenLog,
    accessTokens,
    assertions,
    toolCalls,
    mcpLog,
    deletes,
    sessions: () => [...sessions.values()].map((e) => ({ sessionId: e.id, sub: e.sub, openStreams: e.streams.size })),
    openStreams: () => [...sessions.values()].flatMap((e) => [...e.streams].map(() => ({ sessionId: e.id, sub: e.sub }))),
    holdDeletes(hold) {
      deletesHeld = hold;
    },
    jwk,
    options,
    now,
    setClock(ms) {
      clockMs = ms;
    },
    advanceClock(ms) {
      clockMs = now() + ms;
    },
    failNextToken(error, description = `forced ${error}`, status) {
      forcedToken = new TokenError(error, description, status ?? (error === 'invalid_client' ? 401 : error === 'access_denied' ? 403 : 400));
    },
    failNextMcp(forced) {
      forcedMcp.push({ ...forced });
    },
    revokeTokens() {
      for (const t of accessTokens) t.revoked = true;
    },
    setGrantProfiles(profiles) {
      grantProfiles = [...profiles];
    },
    resetLogs() {
      initializations.length = 0;
      tokenLog.length = 0;
      assertions.length = 0;
      toolCalls.length = 0;
      mcpLog.length = 0;
      deletes.length = 0;
      for (const k of Object.keys(counters) as (keyof PostHogMcpCounters)[]) {
        if (k === 'tokenErrors') counters.tokenErrors = {};
        else counters[k] = 0;
      }
    },
    async close() {
      await Promise.all([...sessions.values()].map((e) => e.transport.close().catch(() => undefined)));
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return emulator;
}
