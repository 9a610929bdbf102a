import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  CancelledNotificationSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { hmacInput } from '../agent/audit';
import { messageOf, OutcomeUnknownError } from '../core/errors';
import { classifyTool } from '../core/toolRisk';
import type { ScalekitAccounts } from '../scalekit/scalekitAccounts';
import type { Caller } from './identity';
import { clientDecisions, mcpMeta, type AuditRecord, type ClientDecision, type GatewayErrorCode, type GatewayToolMeta } from './protocol';
import type { AuditStart, AuditStore } from './store';
import type { CatalogTool, ToolCatalog } from './tools';

// The caller's tools as an MCP server over Streamable HTTP, stateless: every POST builds a
// fresh Server + transport for the caller the request's own token named, so any instance
// answers any request and nothing of one caller survives into another's request.

export interface McpDependencies {
  readonly version: string;
  readonly instance: string;
  readonly catalog: ToolCatalog;
  readonly accounts: Pick<ScalekitAccounts, 'executeTool'>;
  readonly audit: AuditStore;
  readonly auditKey: Uint8Array;
  readonly log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

const maxApprovalWaitMs = 7 * 24 * 3_600_000;

/** Calls in flight on this instance, by caller and JSON-RPC id: what `notifications/cancelled` aborts. */
const inFlight = new Map<string, AbortController>();
const flightKey = (identifier: string, requestId: string | number): string => `${identifier}\u0000${typeof requestId}:${String(requestId)}`;

function toMcpTool(tool: CatalogTool): Tool | undefined {
  if (!tool.verdict.allowed) return undefined;
  const { definition } = tool;
  const meta: GatewayToolMeta = { 'onbehalf/connection': definition.connection, 'onbehalf/policy': tool.verdict.mark };
  return {
    name: definition.name,
    description: definition.description,
    inputSchema: { ...definition.inputSchema, type: 'object' },
    annotations: { readOnlyHint: definition.risk === 'read', destructiveHint: definition.risk === 'destructive' },
    _meta: { ...meta },
  };
}

function refusal(code: GatewayErrorCode, text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }], _meta: { [mcpMeta.errorCode]: code } };
}

function reportedDecision(meta: Record<string, unknown> | undefined): { decision: ClientDecision | 'unreported'; approvalWaitMs?: number } {
  const decision = meta?.[mcpMeta.decision];
  const wait = meta?.[mcpMeta.approvalWaitMs];
  return {
    decision: typeof decision === 'string' && (clientDecisions as readonly string[]).includes(decision) ? (decision as ClientDecision) : 'unreported',
    ...(typeof wait === 'number' && Number.isFinite(wait) && wait >= 0 && wait <= maxApprovalWaitMs ? { approvalWaitMs: wait } : {}),
  };
}

/** Serves one POST /mcp for `caller`; `body` is the already-parsed JSON-RPC message(s). */
export async function serveMcp(deps: McpDependencies, caller: Caller, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const server = new Server({ name: 'onbehalf-gateway', version: deps.version }, { capabilities: { tools: { listChanged: false } } });
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  // A dropped connection aborts what this request started.
  const dropped = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) dropped.abort();
    void transport.close().catch(() => undefined);
    void server.close().catch(() => undefined);
  });

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const tools = await deps.catalog.list(caller.identifier).catch((error: unknown) => {
      throw new McpError(ErrorCode.InternalError, `The gateway could not list your tools: ${messageOf(error)}`);
    });
    return { tools: tools.map(toMcpTool).filter((t): t is Tool => t !== undefined) };
  });

  server.setNotificationHandler(CancelledNotificationSchema, (notification) => {
    const requestId = notification.params.requestId;
    if (requestId !== undefined) inFlight.get(flightKey(caller.identifier, requestId))?.abort();
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const name = request.params.name;
    const input = request.params.arguments ?? {};
    const reported = reportedDecision(request.params._meta);
    const base = {
      identifier: caller.identifier,
      inputHmac: hmacInput(deps.auditKey, input),
      instance: deps.instance,
      ...(reported.approvalWaitMs !== undefined ? { approvalWaitMs: reported.approvalWaitMs } : {}),
    };
    let tool: CatalogTool | undefined;
    try {
      tool = await deps.catalog.find(caller.identifier, name);
    } catch (error) {
      // Refused like any other call the gateway turns away: audited first.
      const reason = `The gateway could not look up ${name}: ${messageOf(error)}`;
      await recordRefusal(
        deps,
        { ...base, connection: '', tool: name, risk: classifyTool(name), decision: 'lookup-failed', decisionSource: 'gateway' },
        'refused',
        reason,
      );
      return refusal('scalekit_unavailable', reason);
    }
    if (!tool) {
      await recordRefusal(
        deps,
        { ...base, connection: '', tool: name, risk: classifyTool(name), decision: 'unknown-tool', decisionSource: 'gateway' },
        'refused',
        'unknown tool',
      );
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool "${name.slice(0, 128)}": none of your connected accounts offers it through this gateway.`);
    }
    const { definition, verdict } = tool;
    const entry: AuditStart = {
      ...base,
      connection: definition.connection,
      tool: name,
      risk: definition.risk,
      decision: reported.decision,
      decisionSource: 'client-reported',
    };
    if (!verdict.allowed) {
      const why =
        verdict.reason === 'read-only' ? `your organisation made ${definition.connection} read-only` : `your organisation's policy does not allow ${name}`;
      const audited = await recordRefusal(deps, { ...entry, decision: verdict.reason, decisionSource: 'gateway' }, 'denied', why);
      return refusal(audited ? 'policy_denied' : 'audit_unavailable', `${name} did not run: ${why}.`);
    }

    const abort = new AbortController();
    const key = flightKey(caller.identifier, extra.requestId);
    const onAbort = () => abort.abort();
    extra.signal.addEventListener('abort', onAbort);
    dropped.signal.addEventListener('abort', onAbort);
    inFlight.set(key, abort);
    try {
      // The audit record is written before the call runs: no record, no call.
      let auditId: string;
      try {
        auditId = await deps.audit.start(entry);
      } catch (error) {
        deps.log.error({ err: error, tool: name }, 'audit write failed; the call was refused');
        return refusal('audit_unavailable', `${name} did not run: the gateway could not write its audit record. Try again later or tell your administrator.`);
      }
      const started = Date.now();
      let finish: { outcome: AuditRecord['outcome']; error?: string; executionId?: string };
      let result: CallToolResult;
      if (abort.signal.aborted) {
        finish = { outcome: 'refused', error: 'cancelled before it ran' };
        result = refusal('bad_request', `${name} was cancelled before it ran.`);
      } else {
        try {
          const execution = await raceAbort(deps.accounts.executeTool(caller.identifier, definition.connection, name, input), abort.signal);
          finish = { outcome: 'ok', ...(execution.executionId ? { executionId: execution.executionId } : {}) };
          result = {
            content: [{ type: 'text', text: JSON.stringify(execution.data ?? null) }],
            _meta: { [mcpMeta.executionId]: execution.executionId },
          };
        } catch (error) {
          const message = abort.signal.aborted ? 'cancelled (Scalekit may still have run it)' : messageOf(error);
          finish = { outcome: 'error', error: message.slice(0, 1000), ...executionIdOf(error) };
          result = abort.signal.aborted
            ? { isError: true, content: [{ type: 'text', text: `${name} was cancelled; it may still have run.` }] }
            : OutcomeUnknownError.is(error)
              ? refusal('outcome_unknown', message)
              : { isError: true, content: [{ type: 'text', text: message }] };
        }
      }
      try {
        await deps.audit.finish(auditId, { ...finish, durationMs: Date.now() - started });
      } catch (error) {
        deps.log.error({ err: error, tool: name }, 'audit outcome write failed after the call ran');
        return refusal('audit_unavailable', `${name} ran, but the gateway could not record its outcome. Check in ${definition.connection} before retrying.`);
      }
      return result;
    } finally {
      inFlight.delete(key);
      extra.signal.removeEventListener('abort', onAbort);
      dropped.signal.removeEventListener('abort', onAbort);
    }
  });

  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}

/** Writes a one-row record of a call that did not run; false when the audit could not be written. */
async function recordRefusal(deps: McpDependencies, entry: AuditStart, outcome: 'refused' | 'denied', error: string): Promise<boolean> {
  try {
    await deps.audit.record(entry, { outcome, error, durationMs: 0 });
    return true;
  } catch (cause) {
    deps.log.error({ err: cause, tool: entry.tool }, 'audit write failed for a refusal');
    return false;
  }
}

function executionIdOf(error: unknown): { executionId?: string } {
  const id = error && typeof error === 'object' ? (error as { executionId?: unknown }).executionId : undefined;
  return typeof id === 'string' && id ? { executionId: id } : {};
}

/** The Scalekit SDK takes no AbortSignal: stop waiting on abort (the request already sent may still run). */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
