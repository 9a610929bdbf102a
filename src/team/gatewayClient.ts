import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Identifier } from '../core/identifier';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { mcpSdk } from '../core/sdkLoader';
import type { ConnectionStatus } from '../core/connectionStatus';
import { IdentityChangedError, InsecureUrlError, OnBehalfError, ToolFailedError } from '../core/errors';
import { checkSecureUrl } from '../core/secureUrl';
import { defineTool, type ToolDefinition } from '../core/toolBackend';
import type { ToolAnnotations } from '../core/toolRisk';
import {
  gatewayPaths,
  mcpMeta,
  type AuditRecord,
  type AuditResponse,
  type AuthorizeResponse,
  type ClientDecision,
  type ConnectionEntry,
  type ConnectionsResponse,
  type GatewayErrorCode,
  type DisconnectResponse,
  type InfoResponse,
  type MeResponse,
  type ToolPolicyMark,
  type VerifyResponse,
} from '../gateway/protocol';
import { causeCodeOf, failedBeforeSending } from '../core/requestFate';
import { GatewayIdentityMismatchError, GatewayProviderMismatchError, gatewayHttpError, gatewayUnreachable, type GatewayErrorContext } from './errors';

// The extension's client of the team gateway (docs/team-mode.md): REST for connections and
// audit, and the gateway's MCP server (official SDK, Streamable HTTP) for tools. Pure
// TypeScript, no vscode: the host hands it the current session's token at call time.
//
// One client speaks for ONE identifier. Before every request it reads the session again and
// refuses (IdentityChangedError) when someone else is signed in now; before the first call it
// asks the gateway who it thinks the caller is (GET /v1/me) and refuses everything when the
// answer differs. No token is kept: each request reads it again.

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** The current session: its bearer token and the identifier the extension derived from it. */
export interface GatewayCredential {
  readonly token: string;
  readonly identifier: Identifier;
}

export interface GatewayClientOptions {
  /** `onbehalf.gateway.url`: https, or http on loopback only. */
  readonly baseUrl: string;
  /** The identifier this client speaks for. */
  readonly identifier: Identifier;
  /** Reads the current session at call time; rejects (NotSignedInError) when signed out. */
  readonly credential: () => Promise<GatewayCredential>;
  /** The extension's identity provider and, for OIDC, its issuer: checked against /v1/info. */
  readonly identityProvider: string;
  readonly issuer?: string;
  readonly fetch?: FetchLike;
  /** One line per step; never a token. */
  readonly log?: (line: string) => void;
  readonly clientInfo?: { readonly name: string; readonly version: string };
}

/** A tool as the gateway lists it: the definition and the organisation's mark. */
export interface GatewayTool {
  readonly definition: ToolDefinition;
  /** `ask`: the organisation requires approval every time ("Always allow" is never offered). */
  readonly policy: ToolPolicyMark;
}

export interface GatewayCallResult {
  readonly data: unknown;
  readonly executionId: string;
}

/** How the user approved a call, for the gateway's audit (client-reported). */
export interface GatewayCallDecision {
  readonly decision: ClientDecision;
  readonly approvalWaitMs?: number;
}

const MAX_TOOL_PAGES = 100;

export class GatewayClient {
  readonly baseUrl: string;
  readonly host: string;
  private readonly fetchFn: FetchLike;
  private verified: Promise<MeResponse> | undefined;
  private mcp: Promise<Client> | undefined;
  private closed = false;

  constructor(private readonly options: GatewayClientOptions) {
    const url = checkSecureUrl(
      options.baseUrl,
      'The OnBehalf gateway URL ("onbehalf.gateway.url")',
      (problem) => new InsecureUrlError(problem, 'Fix "onbehalf.gateway.url" in your user settings.'),
    );
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.host = url.host;
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  }

  get identifier(): Identifier {
    return this.options.identifier;
  }

  /** `GET /v1/info` (no token): which identity provider and connections the gateway has. */
  async info(): Promise<InfoResponse> {
    return this.json<InfoResponse>('GET', gatewayPaths.info, { auth: false, operation: 'info' });
  }

  /**
   * Checks, once per client, that the gateway trusts this window's identity provider and
   * derives the same identifier from its token. A failed check is not remembered: the next
   * call checks again.
   */
  verifyIdentity(): Promise<MeResponse> {
    this.verified ??= this.checkIdentity().catch((error: unknown) => {
      this.verified = undefined;
      throw error;
    });
    return this.verified;
  }

  private async checkIdentity(): Promise<MeResponse> {
    const info = await this.info();
    if (info.identityProvider !== this.options.identityProvider) {
      throw new GatewayProviderMismatchError(`it expects ${info.identityProvider} sign-in, and this window signs in with ${this.options.identityProvider}.`);
    }
    if (info.identityProvider === 'oidc' && info.issuer && this.options.issuer && trimSlashes(info.issuer) !== trimSlashes(this.options.issuer)) {
      throw new GatewayProviderMismatchError(`it trusts the issuer ${info.issuer}, and this window signs in at ${this.options.issuer}.`);
    }
    const me = await this.json<MeResponse>('GET', gatewayPaths.me, { operation: 'me', verified: false });
    if (me.identifier !== this.options.identifier) throw new GatewayIdentityMismatchError(this.options.identifier, me.identifier);
    this.options.log?.(`gateway ${this.host} sees this window as ${me.identifier}`);
    return me;
  }

  async connections(): Promise<ConnectionEntry[]> {
    return (await this.json<ConnectionsResponse>('GET', gatewayPaths.connections, { operation: 'connections' })).connections;
  }

  /** The Scalekit authorization link for `connection`; Scalekit redirects to `userVerifyUrl` with the gateway's state. */
  async authorize(connection: string, userVerifyUrl: string): Promise<string> {
    const { url } = await this.json<AuthorizeResponse>('POST', gatewayPaths.authorize(connection), { body: { userVerifyUrl }, operation: 'authorize' });
    return url;
  }

  /** Forwards what the verify redirect carried; the gateway checks the state and verifies as the caller. */
  async verify(authRequestId: string, state: string): Promise<{ connection: string; status: ConnectionStatus }> {
    return this.json<VerifyResponse>('POST', gatewayPaths.verify, { body: { authRequestId, state }, operation: 'verify' });
  }

  async disconnect(connection: string): Promise<DisconnectResponse> {
    return this.json<DisconnectResponse>('DELETE', gatewayPaths.disconnect(connection), { operation: 'disconnect' });
  }

  /** The caller's own audit records, newest first, up to `max` (following `next`). */
  async audit(max = 500): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    let before: string | undefined;
    while (records.length < max) {
      const query = new URLSearchParams({ limit: String(Math.min(200, max - records.length)), ...(before ? { before } : {}) });
      const page = await this.json<AuditResponse>('GET', `${gatewayPaths.audit}?${query.toString()}`, { operation: 'audit' });
      records.push(...page.records);
      if (!page.next || page.records.length === 0) break;
      before = page.next;
    }
    return records;
  }

  /** Every tool the caller can reach through the gateway (all pages), with the organisation's marks. */
  async listTools(): Promise<GatewayTool[]> {
    return this.mcpOperation('tools', async (client) => {
      const tools: Tool[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_PAGES; page++) {
        const result = await client.listTools(cursor ? { cursor } : undefined);
        tools.push(...result.tools);
        cursor = result.nextCursor || undefined;
        if (!cursor) break;
      }
      return tools.flatMap((tool) => {
        const meta = (tool._meta ?? {}) as Record<string, unknown>;
        const connection = meta[mcpMeta.connection];
        if (typeof connection !== 'string' || !connection) return [];
        return [
          {
            definition: defineTool({
              name: tool.name,
              description: tool.description ?? tool.title ?? '',
              inputSchema: tool.inputSchema,
              connection,
              annotations: annotationsOf(tool.annotations ?? {}),
            }),
            // Anything but an explicit "allow" asks: an unknown mark must not loosen.
            policy: meta[mcpMeta.policy] === 'allow' ? 'allow' : 'ask',
          },
        ];
      });
    });
  }

  /** Runs a tool as the caller. Aborting `signal` sends notifications/cancelled and drops the request. */
  async callTool(name: string, args: Record<string, unknown>, decision: GatewayCallDecision | undefined, signal?: AbortSignal): Promise<GatewayCallResult> {
    return this.mcpOperation(
      'tools',
      async (client) => {
        const meta = decision
          ? {
              [mcpMeta.decision]: decision.decision,
              ...(decision.approvalWaitMs !== undefined ? { [mcpMeta.approvalWaitMs]: Math.round(decision.approvalWaitMs) } : {}),
            }
          : undefined;
        let result: CallToolResult;
        try {
          result = (await client.callTool(
            { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
            undefined,
            signal ? { signal } : undefined,
          )) as CallToolResult;
        } catch (error) {
          if (error instanceof mcpSdk().McpError) throw new ToolFailedError(name, error.message.slice(0, 500), String(error.code));
          throw error;
        }
        const text = (Array.isArray(result.content) ? result.content : [])
          .filter((c): c is Extract<typeof c, { type: 'text' }> => c.type === 'text')
          .map((c) => c.text)
          .join('\n');
        const reported = result._meta?.[mcpMeta.executionId];
        const executionId = typeof reported === 'string' ? reported : '';
        if (result.isError === true) {
          // The gateway names its own refusals (policy_denied, audit_unavailable, …); a tool's own error has none.
          const code = result._meta?.[mcpMeta.errorCode];
          if (code === outcomeUnknownCode)
            throw new ToolFailedError(name, "Scalekit's answer to the OnBehalf gateway was lost", outcomeUnknownCode, executionId || undefined);
          throw new ToolFailedError(
            name,
            text.slice(0, 500) || 'the gateway reported an error',
            typeof code === 'string' ? code : 'tool_error',
            executionId || undefined,
          );
        }
        return { data: result.structuredContent ?? parseText(text), executionId };
      },
      name,
    );
  }

  /** Ends the MCP client; nothing is sent afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = this.mcp;
    this.mcp = undefined;
    const client = await pending?.catch(() => undefined);
    await client?.close().catch(() => undefined);
  }

  // ---- internals -------------------------------------------------------------------

  /** The session now, refusing when it is not this client's person any more. */
  private async bearer(): Promise<string> {
    const credential = await this.options.credential();
    if (credential.identifier !== this.options.identifier) throw new IdentityChangedError();
    return credential.token;
  }

  private async json<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    opts: { auth?: boolean; verified?: boolean; body?: unknown; operation: string },
  ): Promise<T> {
    if (this.closed) throw new IdentityChangedError();
    if (opts.auth !== false && opts.verified !== false) await this.verifyIdentity();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.auth !== false) headers['authorization'] = `Bearer ${await this.bearer()}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchFn(`${this.baseUrl}${path}`, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
    } catch (error) {
      throw gatewayUnreachable(this.baseUrl, error);
    }
    const text = await response.text();
    if (!response.ok) throw gatewayHttpError(response.status, text, response.headers.get('retry-after'), { operation: opts.operation });
    try {
      return JSON.parse(text) as T;
    } catch {
      throw gatewayHttpError(502, '', null, { operation: opts.operation });
    }
  }

  private async mcpOperation<T>(operation: string, fn: (client: Client) => Promise<T>, toolName?: string): Promise<T> {
    if (this.closed) throw new IdentityChangedError();
    await this.verifyIdentity();
    const context: GatewayErrorContext = { operation, ...(toolName ? { toolName } : {}) };
    try {
      return await fn(await this.mcpClient());
    } catch (error) {
      if (OnBehalfError.is(error)) throw error;
      if (error instanceof mcpSdk().StreamableHTTPError) {
        this.dropMcp();
        throw gatewayHttpError(error.code ?? 502, '', null, context);
      }
      if (error instanceof Error && error.name === 'AbortError') throw error;
      if (error instanceof TypeError) {
        this.dropMcp();
        throw gatewayUnreachable(this.baseUrl, error);
      }
      throw error;
    }
  }

  /** The gateway's MCP server is stateless: one initialized client serves every call, whoever's token each request carries. */
  private mcpClient(): Promise<Client> {
    this.mcp ??= (async () => {
      const transport = new (mcpSdk().StreamableHTTPClientTransport)(new URL(`${this.baseUrl}${gatewayPaths.mcp}`), {
        fetch: (input, init) => this.mcpFetch(input, init),
      });
      const client = new (mcpSdk().Client)(this.options.clientInfo ?? { name: 'onbehalf', version: '0.1.0' });
      client.onerror = (error) => this.options.log?.(`gateway MCP transport: ${error.message.slice(0, 200)}`);
      try {
        await client.connect(transport);
      } catch (error) {
        await client.close().catch(() => undefined);
        throw error;
      }
      return client;
    })().catch((error: unknown) => {
      this.mcp = undefined;
      throw error;
    });
    return this.mcp;
  }

  private dropMcp(): void {
    const pending = this.mcp;
    this.mcp = undefined;
    void pending?.then((client) => client.close()).catch(() => undefined);
  }

  /**
   * The transport's fetch: the bearer of the session now on every request, and a gateway
   * error answer turned into its typed error here, where its body and Retry-After are still
   * readable (the SDK would fold them into one message).
   */
  private async mcpFetch(input: string | URL, init: RequestInit | undefined): Promise<Response> {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${await this.bearer()}`);
    let response: Response;
    try {
      response = await this.fetchFn(input, { ...init, headers });
    } catch (error) {
      if (init?.signal?.aborted) throw error;
      // A tool call whose request may have reached the gateway is not one to send again.
      const toolName = typeof init?.body === 'string' ? toolNameOf(init.body) : undefined;
      if (toolName && error instanceof Error && !failedBeforeSending(error)) {
        throw new ToolFailedError(
          toolName,
          `the connection to the OnBehalf gateway ended before its answer (${causeCodeOf(error) ?? error.message})`,
          outcomeUnknownCode,
        );
      }
      throw gatewayUnreachable(this.baseUrl, error);
    }
    // 405 to the optional GET stream is how a stateless server says "no stream": the SDK handles it.
    if (response.ok || (init?.method === 'GET' && response.status === 405)) return response;
    const text = await response.text();
    const body = init?.body;
    const toolName = typeof body === 'string' ? toolNameOf(body) : undefined;
    throw gatewayHttpError(response.status, text, response.headers.get('retry-after'), { operation: 'tools', ...(toolName ? { toolName } : {}) });
  }
}

function trimSlashes(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

function annotationsOf(annotations: NonNullable<Tool['annotations']>): ToolAnnotations {
  return {
    ...(typeof annotations.readOnlyHint === 'boolean' ? { readOnlyHint: annotations.readOnlyHint } : {}),
    ...(typeof annotations.destructiveHint === 'boolean' ? { destructiveHint: annotations.destructiveHint } : {}),
  };
}

function parseText(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The tool a tools/call body names, so a refused call's error names its tool. */
function toolNameOf(body: string): string | undefined {
  try {
    const message = JSON.parse(body) as { method?: unknown; params?: { name?: unknown } };
    return message.method === 'tools/call' && typeof message.params?.name === 'string' ? message.params.name : undefined;
  } catch {
    return undefined;
  }
}

/** The code of a tool call that may have run without its answer arriving: the gateway's own, and this client's for an answer lost on the way. */
export const outcomeUnknownCode = 'outcome_unknown' satisfies GatewayErrorCode;
