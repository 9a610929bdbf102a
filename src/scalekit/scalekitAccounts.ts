import type { ScalekitClient } from '@scalekit-sdk/node';
import type { Identifier } from '../core/identifier';
import {
  ConnectionInactiveError,
  InsecureUrlError,
  InvalidCredentialsError,
  OnBehalfError,
  RateLimitedError,
  ServiceUnavailableError,
  OutcomeUnknownError,
  ToolFailedError,
  ScalekitRejectedError,
  UnknownScalekitConnectionError,
  VerifyRejectedError,
} from '../core/errors';
import { type ConnectionStatus, statusFromScalekit } from '../core/connectionStatus';
import type { ToolAnnotations } from '../core/toolRisk';
import { defineTool, type ToolDefinition, type ToolExecution } from '../core/toolBackend';
import { checkSecureUrl } from '../core/secureUrl';
import { failedBeforeSending } from '../core/requestFate';
import { scalekitSdk } from '../core/sdkLoader';
import { connectionLabel } from '../shared/labels';

// A thin adapter over @scalekit-sdk/node. It takes the identifier as an argument on every
// call (the caller derives it from the current session) and maps SDK exceptions to the
// extension's typed errors. It never imports vscode, so it is unit-tested in plain Node.

export interface ScalekitCredentials {
  readonly environmentUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

const maxPageSize = 100;
/** A runaway pager (a server that never stops handing out tokens) is cut off here. */
const maxPages = 200;

export class ScalekitAccounts {
  private client: ScalekitClient | undefined;
  private clientKey = '';

  constructor(
    private readonly loadCredentials: () => Promise<ScalekitCredentials>,
    /** How long a tool call may take (the SDK's `toolTimeoutMs`; its default is 60 s). */
    private readonly options: { readonly toolTimeoutMs?: number } = {},
  ) {}

  /** Checks credentials against the service without keeping them: a token fetch plus one cheap RPC. */
  static async checkCredentials(credentials: ScalekitCredentials): Promise<void> {
    requireSecureEnvironment(credentials.environmentUrl);
    const client = new (scalekitSdk().ScalekitClient)(credentials.environmentUrl, credentials.clientId, credentials.clientSecret);
    try {
      await client.actions.listConnectedAccounts({ pageSize: 1 });
    } catch (error) {
      throw mapScalekitError(error, { credentialCheck: true });
    }
  }

  async status(identifier: Identifier, connection: string): Promise<ConnectionStatus> {
    const client = await this.getClient();
    try {
      const response = await client.actions.getConnectedAccount({ connectionName: connection, identifier });
      return statusFromScalekit(response.connectedAccount?.status);
    } catch (error) {
      if (isUnknownConnection(error)) throw new UnknownScalekitConnectionError(connection);
      if (isNotFound(error)) return 'NOT_CONNECTED';
      throw mapScalekitError(error);
    }
  }

  async getOrCreate(identifier: Identifier, connection: string): Promise<ConnectionStatus> {
    const client = await this.getClient();
    try {
      const response = await client.actions.getOrCreateConnectedAccount({ connectionName: connection, identifier });
      return statusFromScalekit(response.connectedAccount?.status);
    } catch (error) {
      throw mapScalekitError(error);
    }
  }

  async authorizationLink(identifier: Identifier, connection: string, state: string, userVerifyUrl: string): Promise<string> {
    const client = await this.getClient();
    try {
      const response = await client.actions.getAuthorizationLink({ connectionName: connection, identifier, state, userVerifyUrl });
      if (!response.link) throw new ServiceUnavailableError('Scalekit', 'it returned no authorization link');
      return response.link;
    } catch (error) {
      throw mapScalekitError(error);
    }
  }

  async verifyUser(identifier: Identifier, connection: string, authRequestId: string): Promise<string | undefined> {
    const client = await this.getClient();
    try {
      const response = await client.actions.verifyConnectedAccountUser({ authRequestId, identifier });
      return response.postUserVerifyRedirectUrl || undefined;
    } catch (error) {
      const mapped = mapScalekitError(error);
      if (!ScalekitRejectedError.is(mapped)) throw mapped;
      throw new VerifyRejectedError(connection, mapped.detail);
    }
  }

  async disconnect(identifier: Identifier, connection: string): Promise<void> {
    const client = await this.getClient();
    try {
      await client.actions.deleteConnectedAccount({ connectionName: connection, identifier });
    } catch (error) {
      if (isNotFound(error)) return;
      throw mapScalekitError(error);
    }
  }

  /** Every page of scoped tools for one connection, tagged with that connection. */
  async listTools(identifier: Identifier, connection: string): Promise<ToolDefinition[]> {
    const client = await this.getClient();
    const tools: ToolDefinition[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      let response;
      try {
        response = await client.tools.listScopedTools(identifier, {
          filter: { connectionNames: [connection] },
          pageSize: maxPageSize,
          ...(pageToken ? { pageToken } : {}),
        });
      } catch (error) {
        throw mapScalekitError(error);
      }
      for (const scoped of response.tools) {
        const definition = toToolDefinition(scoped.tool?.definition, connection);
        if (definition) tools.push(definition);
      }
      if (!response.nextPageToken) return tools;
      pageToken = response.nextPageToken;
    }
    throw new ServiceUnavailableError('Scalekit', `tool listing for ${connection} did not finish after ${maxPages} pages`);
  }

  async executeTool(identifier: Identifier, connection: string, toolName: string, toolInput: Record<string, unknown>): Promise<ToolExecution> {
    const client = await this.getClient();
    const send = atMostOnce(client);
    try {
      // Scalekit resolves the account from the pair (identifier, connection name).
      const response = await send.executeTool({ toolName, identifier, connector: connection, params: toolInput });
      return { data: response.data ?? null, executionId: response.executionId };
    } catch (error) {
      const lost = send.lostAnswer();
      if (lost !== undefined || shapeOf(error).grpcStatus === grpc.DeadlineExceeded) {
        throw new OutcomeUnknownError(toolName, connectionLabel(connection), `Scalekit: ${cleanMessage(shapeOf(lost ?? error).message ?? 'no answer')}`);
      }
      if (isAccountProblem(error)) {
        // Scalekit answers an inactive account with an authorization error; ask for the real status.
        const status = await this.status(identifier, connection).catch(() => 'UNKNOWN' as const);
        if (status !== 'ACTIVE') throw new ConnectionInactiveError(connection, status);
        // ACTIVE at Scalekit, yet the provider answered 401 (ScalekitToolUnauthorizedException):
        // Scalekit documents this as "re-authorize the connected account".
        if (isProviderUnauthorized(error)) throw new ConnectionInactiveError(connection, 'REVOKED');
      }
      throw mapScalekitError(error, { toolName });
    }
  }

  private async getClient(): Promise<ScalekitClient> {
    const credentials = await this.loadCredentials();
    // Rebuild when any credential changes, so a rotated secret takes effect at once. The URL
    // check is pure: a client kept for the same URL already passed it.
    const key = `${credentials.environmentUrl}\u0000${credentials.clientId}\u0000${credentials.clientSecret}`;
    if (!this.client || key !== this.clientKey) {
      requireSecureEnvironment(credentials.environmentUrl);
      this.client = new (scalekitSdk().ScalekitClient)(
        credentials.environmentUrl,
        credentials.clientId,
        credentials.clientSecret,
        this.options.toolTimeoutMs !== undefined ? { toolTimeoutMs: this.options.toolTimeoutMs } : undefined,
      );
      this.clientKey = key;
    }
    return this.client;
  }
}

interface ExecuteToolRequest {
  readonly toolName: string;
  readonly identifier: string;
  readonly connector: string;
  readonly params: Record<string, unknown>;
}
interface ExecuteToolResponse {
  readonly data?: unknown;
  readonly executionId: string;
}
type ExecuteToolRpc = (request: ExecuteToolRequest, options?: { timeoutMs?: number }) => Promise<ExecuteToolResponse>;

/** The two SDK internals at-most-once execution needs; read at run time and checked. */
interface ToolsClientInternals {
  readonly client?: { readonly executeTool?: ExecuteToolRpc };
  readonly coreClient?: {
    readonly toolTimeoutMs?: number;
    connectExec?(fn: ExecuteToolRpc, request: ExecuteToolRequest, options?: { timeoutMs?: number }): Promise<ExecuteToolResponse>;
  };
}

/**
 * ExecuteTool through the SDK (its token, its refresh on Unauthenticated, its error types),
 * but never sent a second time once it may have reached the provider. The SDK resends a call
 * that failed Unavailable, up to three times; Unavailable also means "the answer was lost" (a
 * reset connection, a proxy's 503 after the provider acted), and an approved write sent again
 * would run twice. Only a call that provably never left (connection refused, no such host:
 * `failedBeforeSending`) or that Scalekit refused before acting (Unauthenticated, which the SDK
 * answers with a fresh token) is resent. The SDK waits its backoff (0.5–1 s) before the refused
 * resend, so a lost answer is reported about a second late.
 *
 * The SDK has no option for this, so it reaches its tools client's gRPC method and
 * `connectExec`. They are checked here, and an SDK that moved them fails every call with a
 * clear error rather than falling back to the resending path; a unit test against the real
 * SDK and the emulator's "lost answer" fault holds both halves.
 */
function atMostOnce(client: ScalekitClient): { executeTool: ExecuteToolRpc; lostAnswer(): unknown } {
  const internals = client.tools as unknown as ToolsClientInternals;
  const rpc = internals.client?.executeTool;
  const core = internals.coreClient;
  if (typeof rpc !== 'function' || typeof core?.connectExec !== 'function') {
    throw new ServiceUnavailableError('Scalekit', 'this @scalekit-sdk/node version no longer exposes the tool call OnBehalf sends at most once');
  }
  let lost: unknown;
  const sendOnce: ExecuteToolRpc = async (request, options) => {
    if (lost !== undefined) throw new Error('not sent again: the previous attempt may have reached the provider');
    try {
      return await rpc.call(internals.client, request, options);
    } catch (error) {
      if (connectCode(error) === grpc.Unavailable && !failedBeforeSending(error)) lost = error;
      throw error;
    }
  };
  return {
    executeTool: (request) => core.connectExec!.call(core, sendOnce, request, { timeoutMs: core.toolTimeoutMs ?? 60_000 }),
    lostAnswer: () => lost,
  };
}

/** @connectrpc's ConnectError carries the gRPC code as `code` (a number). */
function connectCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The client secret goes to the environment URL: https only, except loopback. */
function requireSecureEnvironment(environmentUrl: string): void {
  checkSecureUrl(
    environmentUrl,
    'The Scalekit environment URL ("onbehalf.scalekit.environmentUrl")',
    (problem) => new InsecureUrlError(problem, 'Fix "onbehalf.scalekit.environmentUrl" in your user settings.'),
  );
}

function toToolDefinition(definition: unknown, connection: string): ToolDefinition | undefined {
  if (!definition || typeof definition !== 'object') return undefined;
  const record = definition as Record<string, unknown>;
  if (typeof record.name !== 'string' || !record.name) return undefined;
  const schema = record.input_schema ?? record.inputSchema;
  const annotations = record.annotations && typeof record.annotations === 'object' ? (record.annotations as ToolAnnotations) : undefined;
  return defineTool({
    name: record.name,
    description: typeof record.description === 'string' ? record.description : '',
    inputSchema: schema && typeof schema === 'object' ? (schema as Record<string, unknown>) : { type: 'object', properties: {} },
    connection,
    ...(annotations ? { annotations } : {}),
  });
}

interface SdkErrorShape {
  readonly grpcStatus?: number;
  readonly httpStatus?: number;
  readonly status?: number;
  readonly response?: { readonly status?: number };
  readonly isToolError?: boolean;
  readonly toolErrorCode?: string;
  readonly toolErrorMessage?: string;
  readonly executionId?: string;
  readonly message?: string;
  readonly code?: string;
}

// gRPC codes, as numbers, so this module does not depend on @connectrpc directly.
const grpc = {
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  OutOfRange: 11,
  Unavailable: 14,
  Unauthenticated: 16,
} as const;
const refusedCodes = new Set<number>([
  grpc.InvalidArgument,
  grpc.NotFound,
  grpc.AlreadyExists,
  grpc.PermissionDenied,
  grpc.FailedPrecondition,
  grpc.OutOfRange,
]);

function shapeOf(error: unknown): SdkErrorShape {
  return error && typeof error === 'object' ? error : {};
}

function isNotFound(error: unknown): boolean {
  const shape = shapeOf(error);
  return !shape.isToolError && shape.grpcStatus === grpc.NotFound;
}

/**
 * NotFound for the connection itself rather than for this user's connected account. Told
 * apart by Scalekit's wording ("connection … not found"), which is checked only against the
 * emulator; the tree shows the error either way, so a different wording still says something.
 */
function isUnknownConnection(error: unknown): boolean {
  const shape = shapeOf(error);
  const message = shape.message ?? '';
  return !shape.isToolError && shape.grpcStatus === grpc.NotFound && /\bconnection\b[^\n]*\bnot found\b/i.test(message) && !/connected.account/i.test(message);
}

function isProviderUnauthorized(error: unknown): boolean {
  const shape = shapeOf(error);
  return shape.isToolError === true && shape.grpcStatus === grpc.Unauthenticated;
}

function isAccountProblem(error: unknown): boolean {
  const shape = shapeOf(error);
  return (
    shape.grpcStatus === grpc.Unauthenticated ||
    shape.grpcStatus === grpc.PermissionDenied ||
    shape.grpcStatus === grpc.NotFound ||
    shape.grpcStatus === grpc.InvalidArgument
  );
}

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ERR_NETWORK']);

/** Maps anything the SDK throws to an OnBehalfError with a message fit for the user. */
export function mapScalekitError(error: unknown, context: { credentialCheck?: boolean; toolName?: string } = {}): OnBehalfError {
  if (OnBehalfError.is(error)) return error;
  const shape = shapeOf(error);
  const detail = cleanMessage(shape.message ?? String(error));
  if (shape.isToolError && context.toolName) {
    if (shape.grpcStatus === grpc.ResourceExhausted) return new RateLimitedError('The tool provider', detail);
    return new ToolFailedError(context.toolName, shape.toolErrorMessage || detail, shape.toolErrorCode, shape.executionId);
  }
  if (shape.code && networkCodes.has(shape.code)) return new ServiceUnavailableError('Scalekit', shape.code);
  // The token request is plain HTTP (axios): its status is on the error or its response.
  const tokenStatus = shape.grpcStatus === undefined ? (shape.response?.status ?? shape.status ?? shape.httpStatus) : undefined;
  if (tokenStatus === 401 || tokenStatus === 400 || (context.credentialCheck && shape.grpcStatus === grpc.Unauthenticated)) {
    return new InvalidCredentialsError('scalekitClientSecret', 'Scalekit did not accept the client id and secret.');
  }
  switch (shape.grpcStatus) {
    case grpc.Unavailable:
    case grpc.DeadlineExceeded:
      return new ServiceUnavailableError('Scalekit', detail);
    case grpc.ResourceExhausted:
      return new RateLimitedError('Scalekit', detail);
    case grpc.Unauthenticated:
      return new InvalidCredentialsError('scalekitClientSecret', detail);
    default:
      if (shape.grpcStatus !== undefined && refusedCodes.has(shape.grpcStatus)) return new ScalekitRejectedError(detail);
      break;
  }
  if (/ECONNREFUSED|ENOTFOUND|socket hang up|fetch failed|network/i.test(detail)) return new ServiceUnavailableError('Scalekit', detail);
  if (context.toolName) return new ToolFailedError(context.toolName, detail);
  return new ServiceUnavailableError('Scalekit', detail);
}

/** SDK messages sometimes embed request details; keep only the first line, bounded. */
function cleanMessage(message: string): string {
  const firstLine = message.split('\n')[0] ?? message;
  return firstLine.length > 300 ? `${firstLine.slice(0, 300)}…` : firstLine;
}
