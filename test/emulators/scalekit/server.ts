// A local Scalekit emulator that the real @scalekit-sdk/node talks to over its
// real wire protocol: `POST /oauth/token` over HTTP/1.1 and gRPC (h2c, prior
// knowledge) for ConnectedAccountService and ToolService, both on ONE port.
// The first bytes of each TCP connection decide: the HTTP/2 preface goes to an
// http2 server, anything else to an HTTP/1.1 server (token endpoint, hosted
// consent page, JSON control API, and Connect/gRPC-web as a fallback).
//
// See README.md for the hooks, the account lifecycle and the error mapping.
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { JsonObject } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { ConnectedAccountService, ConnectorStatus, ConnectorType } from '@scalekit-sdk/node/lib/pkg/grpc/scalekit/v1/connected_accounts/connected_accounts_pb';
import { ErrorInfoSchema } from '@scalekit-sdk/node/lib/pkg/grpc/scalekit/v1/errdetails/errdetails_pb';
import { ToolService } from '@scalekit-sdk/node/lib/pkg/grpc/scalekit/v1/tools/tools_pb';
import { CONNECTOR_KEYS, type CatalogTool, findTool, isConnectorKey, toolsOf } from '../data/catalog';
import type { Clock } from '../data/clock';
import { ToolFailure, type ToolFailureKind } from '../data/tool-failure';
import type { ConnectorKey } from '../data/tool-context';
import { runTool } from '../data/tools';
import { type EmulatorData, createEmulatorData } from '../data/world';
import { ACCOUNT_STATUSES, type Account, AccountStore, type AccountStatus, type AuthRequest } from './accounts';
import { consentPage, finalPage, messagePage } from './consent-page';
import { type ActiveFault, type Fault, FaultSet, type ToolErrorCode, rpcMatches } from './faults';

export type { AccountStatus } from './accounts';
export type { Fault, ToolErrorCode } from './faults';
export type { ConnectorKey } from '../data/tool-context';

export interface ScalekitEmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Default `skc_emulator`. */
  clientId?: string;
  /** Default `emulator-client-secret`. */
  clientSecret?: string;
  /** Connection name → connector. Default {posthog:'posthogmcp', asana:'asana', posthogmcp:'posthogmcp'}. */
  connections?: Record<string, ConnectorKey>;
  /** Clock for seeded data, account timestamps, token and link expiry. Default Date.now. */
  now?: Clock;
  /** PRNG seed for the demo data. Default 42. */
  seed?: number;
  /** Lifetime of issued bearer tokens. Default 3600. */
  tokenTtlSeconds?: number;
}

/** What tests see of an account: everything but its fake provider token and API config. */
export type AccountView = Omit<Account, 'accessToken' | 'apiConfig'>;

export interface AuthRequestView {
  id: string;
  accountId: string;
  identifier: string;
  connectionName: string;
  state?: string;
  userVerifyUrl?: string;
  phase: AuthRequest['phase'];
  expiresAt: number;
}

export interface ExecutionRecord {
  executionId: string;
  toolName: string;
  identifier: string;
  /** The connection whose account the call used (undefined when none matched). */
  connectionName?: string;
  connector?: ConnectorKey;
  input: Record<string, unknown>;
  ok: boolean;
  /** For failures: the gRPC code name and the tool error code/message. */
  error?: { grpcCode: string; toolErrorCode: string; message: string };
  at: number;
  durationMs: number;
}

export interface RpcLogEntry {
  /** Proto method name, e.g. `ExecuteTool`. */
  method: string;
  identifier?: string;
  /** `ok` or the gRPC code name, e.g. `Unauthenticated`. */
  code: string;
  at: number;
}

export interface ConsentOutcome {
  /** Where the browser is sent (302), if anywhere. */
  redirectUrl?: string;
  account?: AccountView;
}

export interface ScalekitEmulator {
  /** http://<host>:<port> — pass to `new ScalekitClient(url, clientId, clientSecret)`. */
  readonly url: string;
  readonly port: number;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly connections: Readonly<Record<string, ConnectorKey>>;
  /** The in-memory PostHog and Asana stores the tools act on. */
  readonly data: EmulatorData;
  /** Every ExecuteTool that reached tool dispatch (successes and tool errors). */
  readonly executions: readonly ExecutionRecord[];
  /** Every RPC, in arrival order, with its outcome. */
  readonly rpcLog: readonly RpcLogEntry[];
  /** Number of POST /oauth/token requests (successful or not). */
  readonly tokenRequests: number;
  /** Number of bearer tokens issued. */
  readonly tokensIssued: number;

  getAccount(identifier: string, connectionName: string): AccountView | undefined;
  listAccounts(): AccountView[];
  getAuthRequest(authRequestId: string): AuthRequestView | undefined;

  /** Creates the account if missing, then sets its status. */
  setAccountStatus(identifier: string, connectionName: string, status: AccountStatus): AccountView;
  /** Shortcut for tests that don't test consent: create if missing, then ACTIVE. */
  activateAccount(identifier: string, connectionName: string): AccountView;
  expireAccount(identifier: string, connectionName: string): AccountView;
  /** → DISCONNECTED */
  revokeAccount(identifier: string, connectionName: string): AccountView;
  /** Deletes the account; true if it existed. */
  removeAccount(identifier: string, connectionName: string): boolean;
  /** What clicking Allow/Deny on the consent page does, without HTTP. */
  decideConsent(authRequestId: string, decision: 'allow' | 'deny'): ConsentOutcome;

  injectFault(fault: Fault): void;
  clearFaults(): void;
  activeFaults(): ReadonlyArray<Readonly<ActiveFault>>;
  /** Invalidates every issued bearer token; the next RPC gets Unauthenticated. */
  revokeTokens(): void;
  /** Clears executions, rpcLog and the token counters. */
  resetLogs(): void;
  close(): Promise<void>;
}

const DEFAULT_CONNECTIONS: Record<string, ConnectorKey> = { posthog: 'posthogmcp', asana: 'asana', posthogmcp: 'posthogmcp' };
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const DEFAULT_PAGE_SIZE = 30;
const MAX_PAGE_SIZE = 100;
const MAX_BODY_BYTES = 1024 * 1024;

/** Tool-failure kind → gRPC code and the toolErrorCode carried in ToolErrorInfo. */
const TOOL_FAILURES: Record<ToolFailureKind, { code: Code; toolErrorCode: string }> = {
  invalid_input: { code: Code.InvalidArgument, toolErrorCode: 'INVALID_INPUT' },
  not_found: { code: Code.NotFound, toolErrorCode: 'NOT_FOUND' },
  conflict: { code: Code.AlreadyExists, toolErrorCode: 'CONFLICT' },
  unauthorized: { code: Code.Unauthenticated, toolErrorCode: 'UNAUTHORIZED' },
  forbidden: { code: Code.PermissionDenied, toolErrorCode: 'FORBIDDEN' },
  rate_limit: { code: Code.ResourceExhausted, toolErrorCode: 'RATE_LIMITED' },
  other: { code: Code.Internal, toolErrorCode: 'UPSTREAM_ERROR' },
};

const FAULT_TOOL_KIND: Record<ToolErrorCode, ToolFailureKind> = {
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  rate_limit: 'rate_limit',
  other: 'other',
};

const FAULT_MESSAGES: Record<ToolErrorCode, string> = {
  unauthorized: 'The provider rejected the access token (401 Unauthorized).',
  forbidden: 'The provider refused the request (403 Forbidden): the user lacks permission.',
  rate_limit: 'The provider rate limit was exceeded (429 Too Many Requests). Retry later.',
  other: 'The provider returned an unexpected error (500 Internal Server Error).',
};

class ToolError extends ConnectError {
  constructor(
    message: string,
    code: Code,
    readonly toolErrorCode: string,
    executionId: string,
  ) {
    super(message, code, undefined, [
      {
        desc: ErrorInfoSchema,
        value: { errorCode: 'TOOL_ERROR', toolErrorInfo: { executionId, toolErrorMessage: message, toolErrorCode } },
      },
    ]);
  }
}

function codeName(code: Code): string {
  return Code[code] ?? String(code);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new ConnectError('request cancelled', Code.Canceled));
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ConnectError('request cancelled', Code.Canceled));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function fingerprint(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}

function encodePageToken(offset: number, fp: string): string {
  return Buffer.from(JSON.stringify({ o: offset, f: fp })).toString('base64url');
}

function decodePageToken(token: string, fp: string): number {
  if (!token) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown; f?: unknown };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0 && parsed.f === fp) return parsed.o;
  } catch {
    // fall through
  }
  throw new ConnectError('invalid page_token for this request', Code.InvalidArgument);
}

function pageSizeOf(requested: number): number {
  if (!requested || requested <= 0) return DEFAULT_PAGE_SIZE;
  return Math.min(requested, MAX_PAGE_SIZE);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function sendHtml(res: http.ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

/** A flow's last page, which closes its own tab where the browser allows it. */
function sendFinal(res: http.ServerResponse, title: string, message: string): void {
  const { html, csp } = finalPage(title, message);
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': csp });
  res.end(html);
}

function viewOf(a: Account): AccountView {
  const view: AccountView = {
    id: a.id,
    identifier: a.identifier,
    connectionName: a.connectionName,
    connector: a.connector,
    status: a.status,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
  if (a.lastUsedAt !== undefined) view.lastUsedAt = a.lastUsedAt;
  return view;
}

/** Pads a tool result with realistic rows until its JSON is at least `bytes` long. */
function padResult(data: Record<string, unknown>, bytes: number): Record<string, unknown> {
  const rows: Array<Record<string, unknown>> = [];
  let size = JSON.stringify(data).length;
  for (let i = 0; size < bytes; i++) {
    const row = {
      index: i,
      event: '$pageview',
      distinct_id: `user_${100000 + i}`,
      timestamp: `2026-01-01T00:${String(i % 60).padStart(2, '0')}:00Z`,
      properties: { $current_url: `/pricing?ref=row${i}`, $browser: 'Chrome', $os: 'Mac OS X', plan: 'pro' },
    };
    rows.push(row);
    size += JSON.stringify(row).length + 1;
  }
  return { ...data, rows };
}

class ScalekitEmulatorServer implements ScalekitEmulator {
  url = '';
  port = 0;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly connections: Readonly<Record<string, ConnectorKey>>;
  readonly data: EmulatorData;
  readonly executions: ExecutionRecord[] = [];
  readonly rpcLog: RpcLogEntry[] = [];
  tokenRequests = 0;
  tokensIssued = 0;

  private readonly clock: Clock;
  private readonly accounts: AccountStore;
  private readonly faults = new FaultSet();
  private readonly tokens = new Map<string, number>();
  private readonly tokenTtlMs: number;
  private readonly sockets = new Set<net.Socket>();
  private readonly shutdown = new AbortController();
  private readonly netServer: net.Server;
  private readonly h1: http.Server;
  private readonly h2: http2.Http2Server;
  private readonly grpcHandler: ReturnType<typeof connectNodeAdapter>;
  private executionSeq = 0;

  constructor(private readonly options: ScalekitEmulatorOptions) {
    this.clientId = options.clientId ?? 'skc_emulator';
    this.clientSecret = options.clientSecret ?? 'emulator-client-secret';
    const connections = { ...(options.connections ?? DEFAULT_CONNECTIONS) };
    for (const [name, connector] of Object.entries(connections)) {
      if (!isConnectorKey(connector)) throw new Error(`connection ${name}: unknown connector ${String(connector)} (use ${CONNECTOR_KEYS.join(', ')})`);
    }
    this.connections = Object.freeze(connections);
    this.data = createEmulatorData({ now: options.now, seed: options.seed });
    this.clock = this.data.clock;
    this.tokenTtlMs = (options.tokenTtlSeconds ?? 3600) * 1000;
    this.accounts = new AccountStore(this.clock, this.connections);

    // Each RPC in flight listens for shutdown; the load tier has dozens in flight at once.
    setMaxListeners(0, this.shutdown.signal);
    this.grpcHandler = connectNodeAdapter({
      routes: (router) => this.routes(router),
      interceptors: [this.interceptor],
      shutdownSignal: this.shutdown.signal,
    });
    this.h1 = http.createServer((req, res) => {
      this.handleHttp1(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: 'internal_error', error_description: String(err) });
        else res.destroy();
      });
    });
    this.h2 = http2.createServer({}, (req, res) => this.grpcHandler(req, res));
    this.h2.on('sessionError', () => undefined);
    this.netServer = net.createServer((socket) => this.sniff(socket));
  }

  // ---- lifecycle ---------------------------------------------------------

  async listen(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.netServer.once('error', reject);
      this.netServer.listen(this.options.port ?? 0, host, () => {
        this.netServer.off('error', reject);
        resolve();
      });
    });
    const address = this.netServer.address();
    if (!address || typeof address === 'string') throw new Error('emulator did not bind a TCP port');
    this.port = address.port;
    const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
    this.url = `http://${urlHost}:${this.port}`;
  }

  async close(): Promise<void> {
    this.shutdown.abort(new ConnectError('emulator shutting down', Code.Unavailable));
    const closed = new Promise<void>((resolve) => this.netServer.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  /** Hands each connection to the HTTP/2 or HTTP/1.1 server by its first bytes. */
  private sniff(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const n = Math.min(buffered.length, HTTP2_PREFACE.length);
      const h2 = buffered.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n));
      if (h2 && buffered.length < HTTP2_PREFACE.length) return; // wait for the whole preface
      socket.off('data', onData);
      socket.pause();
      socket.unshift(buffered);
      (h2 ? this.h2 : this.h1).emit('connection', socket);
      process.nextTick(() => socket.resume());
    };
    socket.on('data', onData);
  }

  // ---- auth --------------------------------------------------------------

  private checkBearer(header: string | null): void {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!match) throw new ConnectError('missing bearer token', Code.Unauthenticated);
    const expiresAt = this.tokens.get(match[1] as string);
    if (expiresAt === undefined) throw new ConnectError('invalid or revoked access token', Code.Unauthenticated);
    if (this.clock() >= expiresAt) {
      this.tokens.delete(match[1] as string);
      throw new ConnectError('access token expired', Code.Unauthenticated);
    }
  }

  private readonly interceptor: Interceptor = (next) => async (req) => {
    const method = req.method.name;
    const message: unknown = req.stream ? undefined : req.message;
    const identifier = (message as { identifier?: unknown } | undefined)?.identifier;
    const entry: RpcLogEntry = { method, code: 'ok', at: this.clock() };
    if (typeof identifier === 'string' && identifier) entry.identifier = identifier;
    try {
      for (const f of this.faults.takeAll('latency', (f) => rpcMatches(f.rpc, method))) await sleep(f.ms, req.signal);
      this.checkBearer(req.header.get('authorization'));
      const fault = this.faults.takeFirst(['unavailable', 'resourceExhausted', 'unauthenticated'] as const, (f) => rpcMatches(f.rpc, method));
      if (fault) {
        const code = fault.kind === 'unavailable' ? Code.Unavailable : fault.kind === 'resourceExhausted' ? Code.ResourceExhausted : Code.Unauthenticated;
        throw new ConnectError(fault.message ?? `injected fault: ${fault.kind}`, code);
      }
      const response = await next(req);
      if (this.faults.takeFirst(['lostAnswer'] as const, (f) => rpcMatches(f.rpc, method))) {
        throw new ConnectError('upstream connect error or disconnect/reset before headers (injected: the answer was lost)', Code.Unavailable);
      }
      return response;
    } catch (err) {
      entry.code = codeName(ConnectError.from(err).code);
      throw err;
    } finally {
      this.rpcLog.push(entry);
    }
  };

  // ---- gRPC services -----------------------------------------------------

  private connectedAccountMessage(a: Account) {
    const active = a.status === 'ACTIVE' && a.accessToken;
    return {
      id: a.id,
      identifier: a.identifier,
      provider: a.connector,
      status: ConnectorStatus[a.status],
      authorizationType: ConnectorType.OAUTH,
      authorizationDetails: active
        ? { details: { case: 'oauthToken' as const, value: { accessToken: a.accessToken ?? '', refreshToken: '', scopes: ['read', 'write'], domain: '' } } }
        : undefined,
      tokenExpiresAt: active ? timestampFromMs(this.clock() + 3600_000) : undefined,
      updatedAt: timestampFromMs(a.updatedAt),
      lastUsedAt: a.lastUsedAt !== undefined ? timestampFromMs(a.lastUsedAt) : undefined,
      connector: a.connectionName,
      connectionId: `conn_${a.connectionName}`,
      apiConfig: a.apiConfig as JsonObject | undefined,
    };
  }

  private hasCredentials(details: { details: { case: string | undefined; value?: unknown } } | undefined): boolean {
    if (!details) return false;
    const d = details.details;
    if (d.case === 'oauthToken') return Boolean((d.value as { accessToken?: string } | undefined)?.accessToken);
    return d.case !== undefined;
  }

  private routes(router: ConnectRouter): void {
    router.service(ConnectedAccountService, {
      getConnectedAccountAuth: (req) => ({
        connectedAccount: this.connectedAccountMessage(this.accounts.resolve(req)),
      }),
      getConnectedAccount: (req) => ({ connectedAccount: this.connectedAccountMessage(this.accounts.resolve({ id: req.id })) }),
      createConnectedAccount: (req) => {
        const status: AccountStatus = this.hasCredentials(req.connectedAccount?.authorizationDetails) ? 'ACTIVE' : 'PENDING_AUTH';
        const account = this.accounts.create(req.identifier ?? '', req.connector ?? '', status);
        if (req.connectedAccount?.apiConfig) account.apiConfig = req.connectedAccount.apiConfig;
        return { connectedAccount: this.connectedAccountMessage(account) };
      },
      updateConnectedAccount: (req) => {
        const account = this.accounts.resolve(req);
        if (this.hasCredentials(req.connectedAccount?.authorizationDetails)) this.accounts.setStatus(account, 'ACTIVE');
        if (req.connectedAccount?.apiConfig) account.apiConfig = req.connectedAccount.apiConfig;
        account.updatedAt = this.clock();
        return { connectedAccount: this.connectedAccountMessage(account) };
      },
      deleteConnectedAccount: (req) => {
        this.accounts.delete(this.accounts.resolve(req));
        return {};
      },
      disconnectConnectedAccount: (req) => {
        const account = this.accounts.setStatus(this.accounts.resolve({ id: req.id }), 'DISCONNECTED');
        return { connectedAccount: this.connectedAccountMessage(account) };
      },
      listConnectedAccounts: (req) => {
        const names = req.connectionNames.length > 0 ? req.connectionNames : undefined;
        const matches = this.accounts
          .all()
          .filter(
            (a) =>
              (!req.identifier || a.identifier === req.identifier) &&
              (!req.connector || a.connectionName === req.connector) &&
              (!names || names.includes(a.connectionName)) &&
              (!req.provider || a.connector === req.provider.toLowerCase()) &&
              (!req.query || a.identifier.toLowerCase().includes(req.query.toLowerCase())),
          );
        const fp = fingerprint(`accounts|${req.identifier ?? ''}|${req.connector ?? ''}|${req.connectionNames.join(',')}|${req.provider}|${req.query}`);
        const offset = decodePageToken(req.pageToken, fp);
        const size = pageSizeOf(req.pageSize);
        const slice = matches.slice(offset, offset + size);
        return {
          connectedAccounts: slice.map((a) => {
            const m = this.connectedAccountMessage(a);
            return {
              identifier: m.identifier,
              provider: m.provider,
              status: m.status,
              authorizationType: m.authorizationType,
              tokenExpiresAt: m.tokenExpiresAt,
              updatedAt: m.updatedAt,
              connector: m.connector,
              lastUsedAt: m.lastUsedAt,
              id: m.id,
              connectionId: m.connectionId,
            };
          }),
          totalSize: matches.length,
          nextPageToken: offset + size < matches.length ? encodePageToken(offset + size, fp) : '',
          prevPageToken: offset > 0 ? encodePageToken(Math.max(0, offset - size), fp) : '',
        };
      },
      getMagicLinkForConnectedAccount: (req) => {
        let account: Account;
        if (req.id) account = this.accounts.resolve({ id: req.id });
        else {
          this.accounts.requireConnection(req.connector);
          if (!req.identifier) throw new ConnectError('identifier is required', Code.InvalidArgument);
          account = this.accounts.getOrCreate(req.identifier, req.connector as string);
        }
        const request = this.accounts.issueAuthRequest(account, req.state, req.userVerifyUrl);
        return { link: `${this.url}/connect/${request.id}`, expiry: timestampFromMs(request.expiresAt) };
      },
      verifyConnectedAccountUser: (req) => {
        if (!req.authRequestId) throw new ConnectError('auth_request_id is required', Code.InvalidArgument);
        if (!req.identifier) throw new ConnectError('identifier is required', Code.InvalidArgument);
        const { request } = this.accounts.verify(req.authRequestId, req.identifier);
        return { postUserVerifyRedirectUrl: `${this.url}/connect/${request.id}/done` };
      },
    });

    router.service(ToolService, {
      listScopedTools: (req) => {
        if (!req.identifier) throw new ConnectError('identifier is required', Code.InvalidArgument);
        const filter = req.filter;
        const names = filter && filter.connectionNames.length > 0 ? filter.connectionNames : this.accounts.connectionNames();
        const providers = (filter?.providers ?? []).map((p) => p.toLowerCase());
        const toolNames = filter?.toolNames ?? [];
        const seen = new Set<string>();
        const entries: Array<{ tool: CatalogTool; account: Account }> = [];
        for (const name of names) {
          const connector = this.accounts.connectorOf(name);
          if (!connector) continue;
          if (providers.length > 0 && !providers.includes(connector)) continue;
          const account = this.accounts.get(req.identifier, name);
          if (!account || account.status !== 'ACTIVE') continue;
          for (const tool of toolsOf(connector)) {
            if (seen.has(tool.name)) continue;
            if (toolNames.length > 0 && !toolNames.includes(tool.name)) continue;
            seen.add(tool.name);
            entries.push({ tool, account });
          }
        }
        const fp = fingerprint(`scoped|${req.identifier}|${names.join(',')}|${providers.join(',')}|${toolNames.join(',')}`);
        const offset = decodePageToken(req.pageToken, fp);
        const size = pageSizeOf(req.pageSize);
        const slice = entries.slice(offset, offset + size);
        return {
          tools: slice.map(({ tool, account }) => ({
            tool: this.toolMessage(tool, account.connector),
            identifier: account.identifier,
            connectedAccountId: account.id,
          })),
          totalSize: entries.length,
          nextPageToken: offset + size < entries.length ? encodePageToken(offset + size, fp) : '',
          prevPageToken: offset > 0 ? encodePageToken(Math.max(0, offset - size), fp) : '',
        };
      },
      listTools: (req) => {
        const f = req.filter;
        const connectors = [...new Set(Object.values(this.connections))];
        const all = connectors.flatMap((c) => toolsOf(c).map((tool) => ({ tool, connector: c })));
        const q = f?.query?.toLowerCase();
        const matches = all.filter(
          ({ tool, connector }) =>
            (!f?.provider || connector === f.provider.toLowerCase()) &&
            (!f || f.toolName.length === 0 || f.toolName.includes(tool.name)) &&
            (!q || tool.name.toLowerCase().includes(q) || tool.description.toLowerCase().includes(q)),
        );
        const fp = fingerprint(`tools|${f?.provider ?? ''}|${(f?.toolName ?? []).join(',')}|${q ?? ''}`);
        const offset = decodePageToken(req.pageToken, fp);
        const size = pageSizeOf(req.pageSize);
        const slice = matches.slice(offset, offset + size);
        return {
          tools: slice.map(({ tool, connector }) => this.toolMessage(tool, connector)),
          toolNames: slice.map(({ tool }) => tool.name),
          totalSize: matches.length,
          nextPageToken: offset + size < matches.length ? encodePageToken(offset + size, fp) : '',
          prevPageToken: offset > 0 ? encodePageToken(Math.max(0, offset - size), fp) : '',
        };
      },
      executeTool: (req) => this.executeTool(req),
    });
  }

  private toolMessage(tool: CatalogTool, connector: ConnectorKey) {
    return {
      id: `tool_${tool.name}`,
      provider: connector.toUpperCase(),
      definition: { name: tool.name, description: tool.description, input_schema: tool.input_schema } as JsonObject,
      tags: [connector],
      isDefault: true,
    };
  }

  private async executeTool(req: {
    toolName: string;
    identifier?: string;
    params?: JsonObject;
    connectedAccountId?: string;
    connector?: string;
  }): Promise<{ data: JsonObject; executionId: string }> {
    const started = Date.now();
    const found = findTool(req.toolName);
    if (!found) throw new ConnectError(`tool ${req.toolName} not found`, Code.NotFound);
    const connector = found.connector;

    // Which connected account runs this call.
    let account: Account | undefined;
    let connectionName: string | undefined;
    if (req.connectedAccountId) {
      account = this.accounts.resolve({ id: req.connectedAccountId });
      if (account.connector !== connector) {
        throw new ConnectError(`tool ${req.toolName} does not belong to connection ${account.connectionName}`, Code.InvalidArgument);
      }
      connectionName = account.connectionName;
    } else {
      if (!req.identifier) throw new ConnectError('identifier or connected_account_id is required', Code.InvalidArgument);
      // Scalekit resolves the account from the pair (identifier, connection name): its quickstart
      // passes both ("connection_name" with "identifier"), so the emulator does not guess it.
      if (!req.connector) throw new ConnectError('connector (the connection name) is required with identifier', Code.InvalidArgument);
      let candidates = this.accounts.connectionsFor(connector);
      if (req.connector) {
        if (this.accounts.connectorOf(req.connector) !== connector) {
          throw new ConnectError(`tool ${req.toolName} does not belong to connection ${req.connector}`, Code.InvalidArgument);
        }
        candidates = [req.connector];
      }
      if (candidates.length === 0) throw new ConnectError(`no connection is configured for connector ${connector}`, Code.NotFound);
      const existing = candidates.map((n) => this.accounts.get(req.identifier as string, n)).filter((a): a is Account => a !== undefined);
      account = existing.find((a) => a.status === 'ACTIVE') ?? existing[0];
      connectionName = account?.connectionName ?? candidates[0];
    }
    const identifier = req.identifier ?? account?.identifier ?? '';
    const executionId = `exec_${String(++this.executionSeq).padStart(6, '0')}_${randomBytes(4).toString('hex')}`;
    const input: Record<string, unknown> = { ...(req.params ?? {}) };
    const record: ExecutionRecord = {
      executionId,
      toolName: req.toolName,
      identifier,
      connector,
      input,
      ok: false,
      at: this.clock(),
      durationMs: 0,
    };
    if (connectionName !== undefined) record.connectionName = connectionName;

    const fail = (kind: ToolFailureKind, message: string, toolErrorCode?: string): never => {
      const mapped = TOOL_FAILURES[kind];
      const error = new ToolError(message, mapped.code, toolErrorCode ?? mapped.toolErrorCode, executionId);
      record.error = { grpcCode: codeName(mapped.code), toolErrorCode: error.toolErrorCode, message };
      record.durationMs = Date.now() - started;
      this.executions.push(record);
      throw error;
    };

    if (!account) {
      fail(
        'unauthorized',
        `No connected account for identifier "${identifier}" on connection "${String(connectionName)}": the connected account was not found. Connect it first.`,
        'CONNECTED_ACCOUNT_NOT_FOUND',
      );
    } else if (account.status !== 'ACTIVE') {
      fail(
        'unauthorized',
        `The connected account for identifier "${identifier}" on connection "${account.connectionName}" is ${account.status}, not ACTIVE. Re-authorize it.`,
        `CONNECTED_ACCOUNT_${account.status}`,
      );
    }

    const injected = this.faults.takeFirst(['toolError'] as const, (f) => !f.toolName || f.toolName === req.toolName);
    if (injected) fail(FAULT_TOOL_KIND[injected.code], injected.message ?? FAULT_MESSAGES[injected.code]);

    let data: Record<string, unknown> = {};
    try {
      data = runTool(this.data, req.toolName, identifier, input);
    } catch (err) {
      if (ToolFailure.is(err)) fail(err.kind, err.message);
      fail('other', `Tool ${req.toolName} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const f of this.faults.takeAll('hugeResult', (f) => !f.toolName || f.toolName === req.toolName)) data = padResult(data, f.bytes);

    if (account) account.lastUsedAt = this.clock();
    record.ok = true;
    record.durationMs = Date.now() - started;
    this.executions.push(record);
    // Struct values must be plain JSON (no undefined).
    return { data: JSON.parse(JSON.stringify(data)) as JsonObject, executionId };
  }

  // ---- HTTP/1.1 ----------------------------------------------------------

  private async handleHttp1(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const path = url.pathname;
    if (path === '/oauth/token') {
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'POST' });
      return this.handleToken(req, res);
    }
    const consent = /^\/connect\/([A-Za-z0-9_-]+)(\/done)?$/.exec(path);
    if (consent) return this.handleConsent(req, res, consent[1] as string, Boolean(consent[2]));
    if (path === '/healthz') return sendJson(res, 200, { ok: true });
    if (path.startsWith('/_emulator/')) return this.handleControl(req, res, path.slice('/_emulator/'.length), url);
    this.grpcHandler(req, res);
  }

  private async handleToken(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.tokenRequests += 1;
    const form = new URLSearchParams(await readBody(req));
    let clientId = form.get('client_id') ?? '';
    let clientSecret = form.get('client_secret') ?? '';
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, secret] = Buffer.from(basic[1] as string, 'base64')
        .toString('utf8')
        .split(':');
      clientId = decodeURIComponent(id ?? '');
      clientSecret = decodeURIComponent(secret ?? '');
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: 'only client_credentials is supported' });
    }
    if (clientId !== this.clientId || clientSecret !== this.clientSecret) {
      return sendJson(res, 401, { error: 'invalid_client', error_description: 'client authentication failed' });
    }
    const token = `emu_at_${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, this.clock() + this.tokenTtlMs);
    this.tokensIssued += 1;
    sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: Math.floor(this.tokenTtlMs / 1000) });
  }

  private async handleConsent(req: http.IncomingMessage, res: http.ServerResponse, id: string, done: boolean): Promise<void> {
    const request = this.accounts.authRequest(id);
    if (!request) return sendHtml(res, 404, messagePage('Link not found', 'This authorization link is not valid.'));
    if (done) {
      const account = this.accounts.getById(request.accountId);
      return sendFinal(res, 'Connected', `Your account is connected${account ? ` (${account.status})` : ''}.`);
    }
    if (request.phase !== 'issued' || this.accounts.isExpired(request)) {
      return sendHtml(res, 410, messagePage('Link expired', 'This authorization link has expired or was already used. Start again from the app.'));
    }
    if (req.method === 'GET' || req.method === 'HEAD') return sendHtml(res, 200, consentPage(request));
    if (req.method !== 'POST') return sendHtml(res, 405, messagePage('Method not allowed', 'Use the buttons on the page.'));
    const form = new URLSearchParams(await readBody(req));
    const decision = form.get('decision');
    if (decision !== 'allow' && decision !== 'deny') {
      return sendHtml(res, 400, messagePage('Bad request', 'Choose Allow or Deny.'));
    }
    const outcome = this.decide(request, decision);
    if (outcome.redirectUrl) {
      res.writeHead(302, { location: outcome.redirectUrl, 'cache-control': 'no-store' });
      res.end();
      return;
    }
    if (decision === 'deny') return sendFinal(res, 'Access denied', 'You denied access. Nothing was connected.');
    return sendFinal(res, 'Connected', 'Your account is connected.');
  }

  private decide(request: AuthRequest, decision: 'allow' | 'deny'): ConsentOutcome {
    const account = this.accounts.decide(request, decision === 'allow');
    const outcome: ConsentOutcome = {};
    if (account) outcome.account = viewOf(account);
    if (request.userVerifyUrl) {
      const target = new URL(request.userVerifyUrl);
      if (decision === 'allow') {
        target.searchParams.append('auth_request_id', request.id);
      } else {
        target.searchParams.append('error', 'access_denied');
        target.searchParams.append('error_description', 'The user denied access.');
      }
      if (request.state !== undefined) target.searchParams.append('state', request.state);
      outcome.redirectUrl = target.toString();
    }
    return outcome;
  }

  private async handleControl(req: http.IncomingMessage, res: http.ServerResponse, route: string, url: URL): Promise<void> {
    const body = req.method === 'POST' ? await readBody(req) : '';
    const json = (): Record<string, unknown> => {
      try {
        const parsed: unknown = body ? JSON.parse(body) : {};
        return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    };
    try {
      if (route === 'state' && req.method === 'GET') {
        return sendJson(res, 200, {
          url: this.url,
          connections: this.connections,
          accounts: this.listAccounts(),
          executions: this.executions,
          rpcLog: this.rpcLog,
          tokenRequests: this.tokenRequests,
          tokensIssued: this.tokensIssued,
          faults: this.activeFaults(),
        });
      }
      if (route === 'accounts' && req.method === 'POST') {
        const b = json();
        const status = String(b.status ?? 'ACTIVE') as AccountStatus;
        if (!ACCOUNT_STATUSES.includes(status)) return sendJson(res, 400, { error: `unknown status ${status}` });
        return sendJson(res, 200, this.setAccountStatus(String(b.identifier ?? ''), String(b.connection ?? ''), status));
      }
      if (route === 'accounts' && req.method === 'DELETE') {
        const removed = this.removeAccount(url.searchParams.get('identifier') ?? '', url.searchParams.get('connection') ?? '');
        return sendJson(res, removed ? 200 : 404, { removed });
      }
      if (route === 'faults' && req.method === 'POST') {
        this.injectFault(json() as unknown as Fault);
        return sendJson(res, 200, { faults: this.activeFaults() });
      }
      if (route === 'faults' && req.method === 'DELETE') {
        this.clearFaults();
        return sendJson(res, 200, { faults: [] });
      }
      if (route === 'revoke-tokens' && req.method === 'POST') {
        this.revokeTokens();
        return sendJson(res, 200, { revoked: true });
      }
      if (route === 'reset-logs' && req.method === 'POST') {
        this.resetLogs();
        return sendJson(res, 200, { reset: true });
      }
      if (route.startsWith('consent/') && req.method === 'POST') {
        const decision = json().decision === 'deny' ? 'deny' : 'allow';
        return sendJson(res, 200, this.decideConsent(route.slice('consent/'.length), decision));
      }
      return sendJson(res, 404, { error: 'not_found' });
    } catch (err) {
      return sendJson(res, 400, { error: err instanceof Error ? err.message : String(err) });
    }
  }

  // ---- hooks -------------------------------------------------------------

  getAccount(identifier: string, connectionName: string): AccountView | undefined {
    const a = this.accounts.get(identifier, connectionName);
    return a ? viewOf(a) : undefined;
  }

  listAccounts(): AccountView[] {
    return this.accounts.all().map(viewOf);
  }

  getAuthRequest(authRequestId: string): AuthRequestView | undefined {
    const r = this.accounts.authRequest(authRequestId);
    if (!r) return undefined;
    const view: AuthRequestView = {
      id: r.id,
      accountId: r.accountId,
      identifier: r.identifier,
      connectionName: r.connectionName,
      phase: r.phase,
      expiresAt: r.expiresAt,
    };
    if (r.state !== undefined) view.state = r.state;
    if (r.userVerifyUrl !== undefined) view.userVerifyUrl = r.userVerifyUrl;
    return view;
  }

  private hookAccount(identifier: string, connectionName: string): Account {
    if (!this.accounts.connectorOf(connectionName)) {
      throw new Error(`unknown connection "${connectionName}"; configured: ${this.accounts.connectionNames().join(', ')}`);
    }
    if (!identifier) throw new Error('identifier is required');
    return this.accounts.getOrCreate(identifier, connectionName);
  }

  setAccountStatus(identifier: string, connectionName: string, status: AccountStatus): AccountView {
    if (!ACCOUNT_STATUSES.includes(status)) throw new Error(`unknown status ${String(status)}`);
    return viewOf(this.accounts.setStatus(this.hookAccount(identifier, connectionName), status));
  }

  activateAccount(identifier: string, connectionName: string): AccountView {
    return this.setAccountStatus(identifier, connectionName, 'ACTIVE');
  }

  expireAccount(identifier: string, connectionName: string): AccountView {
    return this.setAccountStatus(identifier, connectionName, 'EXPIRED');
  }

  revokeAccount(identifier: string, connectionName: string): AccountView {
    return this.setAccountStatus(identifier, connectionName, 'DISCONNECTED');
  }

  removeAccount(identifier: string, connectionName: string): boolean {
    const a = this.accounts.get(identifier, connectionName);
    if (a) this.accounts.delete(a);
    return a !== undefined;
  }

  decideConsent(authRequestId: string, decision: 'allow' | 'deny'): ConsentOutcome {
    const request = this.accounts.authRequest(authRequestId);
    if (!request) throw new Error(`auth request ${authRequestId} not found`);
    if (request.phase !== 'issued' || this.accounts.isExpired(request)) {
      throw new Error(`auth request ${authRequestId} has expired or was already used`);
    }
    return this.decide(request, decision);
  }

  injectFault(fault: Fault): void {
    const kinds = ['unavailable', 'resourceExhausted', 'unauthenticated', 'toolError', 'latency', 'hugeResult', 'lostAnswer'];
    if (!fault || !kinds.includes(fault.kind)) throw new Error(`unknown fault kind ${String((fault as { kind?: unknown } | undefined)?.kind)}`);
    if (fault.kind === 'toolError' && !(fault.code in FAULT_TOOL_KIND)) throw new Error(`unknown toolError code ${String(fault.code)}`);
    if (fault.kind === 'latency' && !(fault.ms >= 0)) throw new Error('latency fault needs ms >= 0');
    if (fault.kind === 'hugeResult' && !(fault.bytes > 0)) throw new Error('hugeResult fault needs bytes > 0');
    this.faults.add(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  activeFaults(): ReadonlyArray<Readonly<ActiveFault>> {
    return this.faults.list();
  }

  revokeTokens(): void {
    this.tokens.clear();
  }

  resetLogs(): void {
    this.executions.length = 0;
    this.rpcLog.length = 0;
    this.tokenRequests = 0;
    this.tokensIssued = 0;
  }
}

/** Starts the emulator and resolves once it is listening. */
export async function startScalekitEmulator(opts: ScalekitEmulatorOptions = {}): Promise<ScalekitEmulator> {
  const server = new ScalekitEmulatorServer(opts);
  await server.listen();
  return server;
}
