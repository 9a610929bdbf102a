import { createHash } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { type ErrorKind, NotSignedInError, OnBehalfError, OutcomeUnknownError, ToolFailedError } from '../core/errors';
import { causeCodeOf, failedBeforeSending } from '../core/requestFate';
import { joseSdk, mcpSdk } from '../core/sdkLoader';
import { connectionLabel } from '../shared/labels';
import { defineTool, type ToolDefinition } from '../core/toolBackend';
import type { ToolAnnotations } from '../core/toolRisk';
import {
  BOOTSTRAP_SCOPES,
  EnterpriseInsufficientScopeError,
  EnterpriseInvalidGrantError,
  EnterpriseNoSessionError,
  EnterpriseNotConfiguredError,
  EnterpriseProtocolError,
  EnterpriseTokenRejectedError,
  EnterpriseClosedError,
  EnterpriseUnreachableError,
  redact,
} from './errors';
import {
  ENTERPRISE_MANAGED_AUTHORIZATION_EXTENSION,
  type EnterpriseDiscovery,
  type FetchLike,
  discoverEnterpriseAuthorization,
  parseWwwAuthenticate,
  redeemIdJag,
  requestIdJag,
  sameResource,
  splitScopes,
} from './oauth';

// PostHog through its MCP server with enterprise-managed authorization (ID-JAG): no
// per-user OAuth prompt, the corporate IdP vouches for the signed-in user.
//
// For every access token: the current OIDC session's ID token (read at call time) is
// exchanged at the IdP for a FRESH ID-JAG, which is redeemed once at PostHog's AS for a
// 2-hour access token (no refresh token). The token is used only against the MCP URL.
// When it expires (by `now`), when the MCP server answers 401 invalid_token, or when the
// signed-in identity changes, the whole exchange runs again.
//
// The MCP side is the real @modelcontextprotocol/sdk Client over StreamableHTTP. The SDK
// has no ID-JAG provider; instead of its OAuthClientProvider (whose auth() would run its
// own discovery, try dynamic client registration and swallow the error detail this
// extension shows), the transport gets a fetch that adds the bearer, handles 401/403 and
// throws the typed errors below. Pure TypeScript: no vscode import.

export const DEFAULT_POSTHOG_MCP_URL = 'https://mcp.posthog.com/mcp';

export interface EnterprisePostHogConfig {
  /** The PostHog MCP endpoint. Default https://mcp.posthog.com/mcp. */
  readonly mcpServerUrl?: string;
  /** The IdP's token endpoint, where the token exchange happens. */
  readonly idpTokenEndpoint?: string;
  /** OnBehalf's client id at the IdP (stamped into every ID-JAG). */
  readonly clientId?: string;
  /** From SecretStorage. Sent only to the IdP, never to PostHog. */
  readonly clientSecret?: string;
  /** Default client_secret_basic (when a secret is given). */
  readonly clientAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  /** The client id presented at PostHog's AS. Default: none (the ID-JAG's `client_id` claim decides). */
  readonly resourceClientId?: string;
  /** Scopes requested on top of the bootstrap user:read organization:read project:read. */
  readonly scopes?: readonly string[];
  /** The current OIDC session's ID token, derived at call time; undefined when signed out. */
  readonly getIdToken: () => Promise<string | undefined>;
  readonly fetch?: FetchLike;
  /** Clock for access-token expiry, ms epoch. Default Date.now. */
  readonly now?: () => number;
  /** `connection` of the listed tools. Default `posthog`. */
  readonly connection?: string;
  /** Listed tool names are `<prefix><mcp name with non-word characters as _>`. Default `posthogmcp_`. */
  readonly toolNamePrefix?: string;
  /** Receives one line per step. Never receives tokens, assertions or secrets. */
  readonly log?: (line: string) => void;
  readonly clientInfo?: { readonly name: string; readonly version: string };
  /** How long close() waits for the server to answer the session DELETE. Default 2000 ms. */
  readonly closeTimeoutMs?: number;
}

export type EnterpriseStatus =
  | { readonly state: 'not-configured'; readonly missing: readonly string[] }
  | { readonly state: 'needs-oidc-sign-in'; readonly message: string }
  | {
      readonly state: 'ready';
      /** True once an access token was obtained and the MCP server answered. */
      readonly connected: boolean;
      readonly accessTokenExpiresAt?: number;
      readonly grantedScopes?: readonly string[];
    }
  | { readonly state: 'error'; readonly kind: ErrorKind | 'unknown'; readonly message: string; readonly hint?: string };

export interface EnterpriseToolResult {
  readonly isError: boolean;
  /** structuredContent, else the first text block parsed as JSON, else the text. */
  readonly data: unknown;
  /** All text blocks joined. */
  readonly text: string;
  readonly content: CallToolResult['content'];
}

interface AccessToken {
  readonly value: string;
  /** ms epoch by `now`; undefined when the AS gave no expires_in. */
  readonly expiresAt: number | undefined;
  readonly scopes: readonly string[] | undefined;
  /** `iss|sub` of the ID token it was obtained with. */
  readonly identity: string;
}

interface McpSession {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  /** The token this session last sent: the session's user, whoever is signed in now. */
  readonly sent: { token?: AccessToken };
}

/** A token is renewed this long before its expiry. */
const EXPIRY_MARGIN_MS = 60_000;
const MAX_TOOL_PAGES = 100;

export class EnterprisePostHogClient {
  readonly mcpServerUrl: string;
  private readonly fetchFn: FetchLike;
  private readonly now: () => number;
  private readonly connection: string;
  private readonly prefix: string;
  private readonly extraScopes = new Set<string>();
  private discovery: EnterpriseDiscovery | undefined;
  private token: AccessToken | undefined;
  private pendingToken: Promise<AccessToken> | undefined;
  private session: McpSession | undefined;
  private pendingSession: Promise<McpSession> | undefined;
  private identity: string | undefined;
  private current: EnterpriseStatus;
  private readonly listeners = new Set<(status: EnterpriseStatus) => void>();
  private readonly toolNames = new Map<string, string>();
  /** After close(): nothing new is obtained or opened, so nothing outlives the close. */
  private closed = false;

  constructor(private readonly config: EnterprisePostHogConfig) {
    this.mcpServerUrl = config.mcpServerUrl || DEFAULT_POSTHOG_MCP_URL;
    this.fetchFn = config.fetch ?? ((input, init) => fetch(input, init));
    this.now = config.now ?? Date.now;
    this.connection = config.connection ?? 'posthog';
    this.prefix = config.toolNamePrefix ?? 'posthogmcp_';
    const missing = this.missingConfig();
    this.current = missing.length ? { state: 'not-configured', missing } : { state: 'ready', connected: false };
  }

  /** For a tree node: not-configured | needs-oidc-sign-in | ready | error(kind, message). */
  status(): EnterpriseStatus {
    return this.current;
  }

  onDidChangeStatus(listener: (status: EnterpriseStatus) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  /** The scopes asked for: the bootstrap three, the configured ones, and any a 403 asked for. */
  requestedScopes(): string[] {
    return [...new Set([...BOOTSTRAP_SCOPES, ...(this.config.scopes ?? []).flatMap((s) => splitScopes(s)), ...this.extraScopes])];
  }

  /** Discovery of the MCP server's AS (cached), checking it supports the ID-JAG profile. */
  async discover(): Promise<EnterpriseDiscovery> {
    return this.operation(() => this.ensureDiscovery(), { needsSession: false });
  }

  /** Discovery, token, MCP initialize: a "test connection". */
  async connect(): Promise<void> {
    await this.operation(async () => {
      await this.ensureSession();
    });
  }

  /** Every tool of the server (all pages), as ToolDefinitions with their annotations and risk. */
  async listTools(): Promise<ToolDefinition[]> {
    return this.operation(async () => {
      const session = await this.ensureSession();
      const tools: Tool[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_PAGES; page++) {
        const result = await session.client.listTools(cursor ? { cursor } : undefined);
        tools.push(...result.tools);
        cursor = result.nextCursor || undefined;
        if (!cursor) break;
      }
      this.toolNames.clear();
      const sources: ToolDefinition[] = [];
      for (const tool of tools) {
        const name = this.sourceName(tool.name);
        if (this.toolNames.has(name)) {
          this.config.log?.(`enterprise: skipping tool ${tool.name}: its name collides with ${this.toolNames.get(name) ?? ''}`);
          continue;
        }
        this.toolNames.set(name, tool.name);
        sources.push(
          defineTool({
            name,
            description: tool.description ?? tool.title ?? tool.annotations?.title ?? '',
            inputSchema: tool.inputSchema,
            connection: this.connection,
            // Always present for an MCP tool: with no annotations the MCP defaults apply
            // (not read-only, destructive), and the risk classifier reads `{}` that way.
            annotations: annotationsOf(tool.annotations ?? {}),
          }),
        );
      }
      this.config.log?.(`enterprise: listed ${sources.length} PostHog tools`);
      return sources;
    });
  }

  /** Calls a tool by its listed name (or its MCP name). Aborting `signal` cancels the MCP request. */
  async callTool(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<EnterpriseToolResult> {
    return this.operation(async () => {
      const session = await this.ensureSession();
      if (!this.toolNames.has(name) && name.startsWith(this.prefix)) await this.refreshToolNames(session);
      const mcpName = this.toolNames.get(name) ?? name;
      let result: CallToolResult;
      try {
        result = (await session.client.callTool({ name: mcpName, arguments: args }, undefined, signal ? { signal } : undefined)) as CallToolResult;
      } catch (error) {
        if (error instanceof mcpSdk().McpError) throw new ToolFailedError(name, redact(error.message), String(error.code));
        // The connection ended after the call was written: it may have run, so it is not one to repeat.
        if (error instanceof TypeError && !(signal?.aborted ?? false) && !failedBeforeSending(error)) {
          throw new OutcomeUnknownError(name, connectionLabel(this.connection), `the PostHog MCP server: ${causeCodeOf(error) ?? redact(error.message)}`);
        }
        throw error;
      }
      return toolResult(result);
    });
  }

  /**
   * Ends the MCP session on the server (a DELETE with its Mcp-Session-Id, bounded by
   * `closeTimeoutMs`), then forgets tokens, the session and discovery (sign-out, identity
   * switch, settings change).
   */
  async reset(): Promise<void> {
    const closing = this.closeSession({ terminate: true });
    this.token = undefined;
    this.pendingToken = undefined;
    this.discovery = undefined;
    this.identity = undefined;
    this.extraScopes.clear();
    this.toolNames.clear();
    await closing;
    const missing = this.missingConfig();
    this.setStatus(missing.length ? { state: 'not-configured', missing } : { state: 'ready', connected: false });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.reset();
    this.listeners.clear();
  }

  /** What this client holds in memory for the signed-in user (for tests and leak checks). */
  held(): { accessToken: boolean; mcpSession: boolean } {
    return {
      accessToken: this.token !== undefined || this.pendingToken !== undefined,
      mcpSession: this.session !== undefined || this.pendingSession !== undefined,
    };
  }

  // ---- internals -------------------------------------------------------------------

  private missingConfig(): string[] {
    const missing: string[] = [];
    if (!this.config.idpTokenEndpoint) missing.push('the identity provider token endpoint');
    if (!this.config.clientId) missing.push('the client id');
    return missing;
  }

  private setStatus(next: EnterpriseStatus): void {
    const prev = this.current;
    this.current = next;
    if (JSON.stringify(prev) !== JSON.stringify(next)) for (const l of [...this.listeners]) l(next);
  }

  private async operation<T>(fn: () => Promise<T>, opts: { needsSession?: boolean } = {}): Promise<T> {
    if (this.closed) throw new EnterpriseClosedError();
    const missing = this.missingConfig();
    if (missing.length) {
      this.setStatus({ state: 'not-configured', missing });
      throw new EnterpriseNotConfiguredError(missing);
    }
    try {
      if (opts.needsSession !== false) await this.bindIdentity();
      const result = await fn();
      if (this.token) {
        this.setStatus({
          state: 'ready',
          connected: true,
          ...(this.token.expiresAt !== undefined ? { accessTokenExpiresAt: this.token.expiresAt } : {}),
          ...(this.token.scopes ? { grantedScopes: this.token.scopes } : {}),
        });
      } else if (this.current.state !== 'ready') {
        this.setStatus({ state: 'ready', connected: false });
      }
      return result;
    } catch (raw) {
      const error = this.normalize(raw);
      if (EnterpriseNoSessionError.is(error)) {
        this.setStatus({ state: 'needs-oidc-sign-in', message: error.message });
      } else if (EnterpriseInvalidGrantError.is(error) && error.reason === 'subjectToken') {
        this.setStatus({ state: 'needs-oidc-sign-in', message: error.message });
      } else if (OnBehalfError.is(error)) {
        this.setStatus({ state: 'error', kind: error.kind, message: error.message, ...(error.hint ? { hint: error.hint } : {}) });
      } else {
        this.setStatus({ state: 'error', kind: 'unknown', message: redact((error as Error)?.message ?? String(error)) });
      }
      throw error;
    }
  }

  /** Typed errors pass; SDK transport errors become typed ones. */
  private normalize(error: unknown): unknown {
    if (OnBehalfError.is(error)) return error;
    if (error instanceof mcpSdk().StreamableHTTPError) {
      const code = error.code ?? 0;
      if (code >= 500 || code <= 0) return new EnterpriseUnreachableError('PostHog MCP server', redact(error.message));
      return new EnterpriseProtocolError('PostHog MCP server', redact(error.message));
    }
    if (error instanceof TypeError && /fetch failed/i.test(error.message)) return new EnterpriseUnreachableError('PostHog MCP server', error.message);
    return error;
  }

  private async currentIdToken(): Promise<{ idToken: string; identity: string }> {
    let idToken: string | undefined;
    try {
      idToken = await this.config.getIdToken();
    } catch (error) {
      if (NotSignedInError.is(error) || EnterpriseNoSessionError.is(error)) throw new EnterpriseNoSessionError();
      throw error;
    }
    if (!idToken) throw new EnterpriseNoSessionError();
    return { idToken, identity: identityOf(idToken) };
  }

  /**
   * The identity is recomputed at every operation: a new or missing OIDC session drops the
   * access token and the MCP session obtained under the old one.
   */
  private async bindIdentity(): Promise<void> {
    let identity: string;
    try {
      ({ identity } = await this.currentIdToken());
    } catch (error) {
      if (EnterpriseNoSessionError.is(error)) await this.dropIdentity();
      throw error;
    }
    if (this.identity !== undefined && this.identity !== identity) {
      this.config.log?.('enterprise: the signed-in identity changed; dropping the previous access token and MCP session');
      await this.dropIdentity();
    }
    this.identity = identity;
  }

  private async dropIdentity(): Promise<void> {
    this.identity = undefined;
    this.token = undefined;
    this.pendingToken = undefined;
    this.toolNames.clear();
    // Found out in the middle of an operation: nothing more is sent with the old user's token.
    // Ending the session on the server is close()'s job, at the sign-out or switch itself.
    await this.closeSession({ terminate: false });
  }

  private async ensureDiscovery(): Promise<EnterpriseDiscovery> {
    if (!this.discovery) {
      this.discovery = await discoverEnterpriseAuthorization(this.mcpServerUrl, this.fetchFn);
      this.config.log?.(`enterprise: ${this.discovery.resource} is protected by ${this.discovery.issuer} (ID-JAG profile supported)`);
    }
    return this.discovery;
  }

  private tokenUsable(token: AccessToken | undefined): token is AccessToken {
    if (!token) return false;
    if (this.identity !== undefined && token.identity !== this.identity) return false;
    return token.expiresAt === undefined || this.now() < token.expiresAt - EXPIRY_MARGIN_MS;
  }

  /** A valid access token, running the whole exchange when there is none (single flight). */
  private async accessToken(): Promise<AccessToken> {
    if (this.tokenUsable(this.token)) return this.token;
    if (this.token) this.config.log?.('enterprise: the access token expired; running the ID-JAG exchange again');
    this.token = undefined;
    this.pendingToken ??= this.obtainAccessToken().finally(() => {
      this.pendingToken = undefined;
    });
    return this.pendingToken;
  }

  private async obtainAccessToken(): Promise<AccessToken> {
    const discovery = await this.ensureDiscovery();
    const scopes = this.requestedScopes();
    const clientId = this.config.clientId ?? '';
    for (let attempt = 0; ; attempt++) {
      // A fresh ID token and a fresh ID-JAG for every access-token request: one is never reused.
      const { idToken, identity } = await this.currentIdToken();
      const jag = await requestIdJag(this.fetchFn, {
        tokenEndpoint: this.config.idpTokenEndpoint ?? '',
        clientId,
        ...(this.config.clientSecret ? { clientSecret: this.config.clientSecret } : {}),
        ...(this.config.clientAuthMethod ? { clientAuthMethod: this.config.clientAuthMethod } : {}),
        idToken,
        audience: discovery.issuer,
        resource: discovery.resource,
        scopes,
      });
      this.config.log?.(`enterprise: the identity provider issued an ID-JAG${jag.expiresIn ? ` (valid ${jag.expiresIn}s)` : ''}`);
      try {
        const at = await redeemIdJag(this.fetchFn, {
          tokenEndpoint: discovery.tokenEndpoint,
          idJag: jag.idJag,
          // Only when set: the ID-JAG already names the client at PostHog, which may not be the IdP's.
          ...(this.config.resourceClientId ? { clientId: this.config.resourceClientId } : {}),
          scopes,
          resource: discovery.resource,
          audience: discovery.issuer,
        });
        const token: AccessToken = {
          value: at.accessToken,
          expiresAt: at.expiresIn !== undefined ? this.now() + at.expiresIn * 1000 : undefined,
          scopes: at.scopes,
          identity,
        };
        if (this.closed) throw new EnterpriseClosedError();
        this.identity ??= identity;
        this.token = token;
        this.config.log?.(
          `enterprise: PostHog issued an access token${at.expiresIn ? ` for ${at.expiresIn}s` : ''}${at.scopes ? ` with scopes ${at.scopes.join(' ')}` : ''}`,
        );
        return token;
      } catch (error) {
        if (attempt === 0 && EnterpriseInvalidGrantError.is(error) && error.reason === 'replayed') {
          this.config.log?.('enterprise: PostHog refused a replayed ID-JAG; fetching a fresh one');
          continue;
        }
        throw error;
      }
    }
  }

  private async ensureSession(): Promise<McpSession> {
    if (this.session) return this.session;
    this.pendingSession ??= this.openSession().finally(() => {
      this.pendingSession = undefined;
    });
    return this.pendingSession;
  }

  private async openSession(): Promise<McpSession> {
    await this.accessToken();
    const sent: McpSession['sent'] = {};
    const transport = new (mcpSdk().StreamableHTTPClientTransport)(new URL(this.mcpServerUrl), { fetch: (input, init) => this.mcpFetch(input, init, sent) });
    const client = new (mcpSdk().Client)(this.config.clientInfo ?? { name: 'onbehalf', version: '0.1.0' }, {
      // MCP extensions are declared under capabilities.extensions (identifier → settings).
      capabilities: { extensions: { [ENTERPRISE_MANAGED_AUTHORIZATION_EXTENSION]: {} } },
    });
    client.onerror = (error) => {
      // Background errors (e.g. the optional GET stream); request errors reach the caller.
      this.config.log?.(`enterprise: MCP transport: ${redact(error.message)}`);
    };
    try {
      await client.connect(transport);
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
    const session = { client, transport, sent };
    if (this.closed) {
      // Closed while it was opening: end it on the server too, nothing of it stays.
      await this.endSession(session, { terminate: true });
      throw new EnterpriseClosedError();
    }
    this.session = session;
    this.config.log?.('enterprise: connected to the PostHog MCP server');
    return session;
  }

  /**
   * Drops the MCP session. With `terminate`, first asks the server to end it (the spec's
   * SHOULD: DELETE with the Mcp-Session-Id), waiting at most `closeTimeoutMs`; then aborts
   * the transport, which also ends the GET stream. A session still opening is awaited first.
   */
  private async closeSession(opts: { terminate: boolean }): Promise<void> {
    const pending = this.pendingSession;
    let session = this.session;
    this.session = undefined;
    this.pendingSession = undefined;
    if (!session && pending) session = await pending.catch(() => undefined);
    if (!session) return;
    await this.endSession(session, opts);
  }

  private async endSession(session: McpSession, opts: { terminate: boolean }): Promise<void> {
    if (opts.terminate && session.transport.sessionId && session.sent.token) {
      const timeoutMs = this.config.closeTimeoutMs ?? 2_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answered = await Promise.race([
        session.transport.terminateSession().then(
          () => true,
          (error: unknown) => {
            this.config.log?.(`enterprise: the MCP server refused the session DELETE: ${redact((error as Error)?.message ?? String(error))}`);
            return true;
          },
        ),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!answered) this.config.log?.(`enterprise: the MCP server did not answer the session DELETE within ${timeoutMs} ms; closing without it`);
      else this.config.log?.('enterprise: ended the MCP session on the server');
    }
    await session.client.close().catch(() => undefined);
  }

  private async refreshToolNames(session: McpSession): Promise<void> {
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const result = await session.client.listTools(cursor ? { cursor } : undefined);
      for (const tool of result.tools) {
        const name = this.sourceName(tool.name);
        if (!this.toolNames.has(name)) this.toolNames.set(name, tool.name);
      }
      cursor = result.nextCursor || undefined;
      if (!cursor) break;
    }
  }

  private sourceName(mcpName: string): string {
    return `${this.prefix}${mcpName.replace(/[^A-Za-z0-9_]/g, '_')}`;
  }

  /**
   * The fetch the SDK transport uses: the bearer goes only to the MCP URL. A 401 runs the
   * exchange again and retries once; a 403 insufficient_scope asks once more with the
   * scopes the server named (when they were not requested yet), else it throws.
   */
  private async mcpFetch(input: string | URL, init: RequestInit | undefined, sent: McpSession['sent']): Promise<Response> {
    const url = typeof input === 'string' ? input : input.href;
    if (!sameResource(url.split('?')[0] ?? url, this.mcpServerUrl)) return this.fetchFn(input, init);
    const send = async (token: AccessToken): Promise<Response> => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token.value}`);
      sent.token = token;
      return this.fetchFn(input, { ...init, headers });
    };
    // Ending a session speaks for the session's own user with the token it last used: never a
    // new exchange (whoever is signed in now may be someone else, or no one), never a retry.
    if (init?.method === 'DELETE') {
      if (!sent.token) throw new EnterpriseNoSessionError();
      return send(sent.token);
    }
    let token = await this.accessToken();
    let response = await send(token);
    let retried = false;
    for (;;) {
      if (response.status === 401) {
        const challenge = parseWwwAuthenticate(response.headers.get('www-authenticate'));
        await response.body?.cancel().catch(() => undefined);
        if (retried) throw new EnterpriseTokenRejectedError(challenge?.errorDescription ?? challenge?.error);
        this.config.log?.(`enterprise: the MCP server answered 401${challenge?.error ? ` ${challenge.error}` : ''}; running the ID-JAG exchange again`);
        if (this.token === token) this.token = undefined;
        retried = true;
        token = await this.accessToken();
        response = await send(token);
        continue;
      }
      if (response.status === 403) {
        const challenge = parseWwwAuthenticate(response.headers.get('www-authenticate'));
        if (challenge?.error === 'insufficient_scope') {
          await response.body?.cancel().catch(() => undefined);
          const required = splitScopes(challenge.scope);
          const requested = new Set(this.requestedScopes());
          const unrequested = required.filter((s) => !requested.has(s));
          if (unrequested.length && !retried) {
            this.config.log?.(`enterprise: the MCP server needs ${unrequested.join(' ')}; asking for them`);
            for (const s of unrequested) this.extraScopes.add(s);
            if (this.token === token) this.token = undefined;
            retried = true;
            token = await this.accessToken();
            response = await send(token);
            continue;
          }
          const granted = token.scopes;
          const missing = granted ? required.filter((s) => !granted.includes(s)) : required;
          throw new EnterpriseInsufficientScopeError(missing, required, granted);
        }
      }
      return response;
    }
  }
}

/** An operation on a client that was closed meanwhile (sign-out, switch, setting change). */
function identityOf(idToken: string): string {
  try {
    const claims = joseSdk().decodeJwt(idToken);
    if (typeof claims.sub === 'string' && claims.sub) return `${claims.iss ?? ''}|${claims.sub}`;
  } catch {
    // An opaque token: bind to its digest instead.
  }
  return `opaque|${createHash('sha256').update(idToken).digest('hex')}`;
}

function annotationsOf(annotations: NonNullable<Tool['annotations']>): ToolAnnotations {
  return {
    ...(typeof annotations.readOnlyHint === 'boolean' ? { readOnlyHint: annotations.readOnlyHint } : {}),
    ...(typeof annotations.destructiveHint === 'boolean' ? { destructiveHint: annotations.destructiveHint } : {}),
  };
}

function toolResult(result: CallToolResult): EnterpriseToolResult {
  const content = Array.isArray(result.content) ? result.content : [];
  const text = content
    .filter((c): c is Extract<typeof c, { type: 'text' }> => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
  let data: unknown = result.structuredContent;
  if (data === undefined) {
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = text;
    }
  }
  return { isError: result.isError === true, data, text, content };
}
