import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { Client as PgClient } from 'pg';
import { hmacInput } from '../../src/agent/audit';
import { mcpMeta } from '../../src/gateway/protocol';
import type { ExecutionRecord } from '../emulators/scalekit/server';

// The simulated users' side of the load tier: MCP `tools/call` as plain JSON-RPC over HTTP
// (the Streamable HTTP transport's POST, JSON response), every outcome classified, and the
// ledger check that compares what users were told with the audit table and with what the
// Scalekit emulator actually executed.

export const loadTool = 'posthogmcp_entity_search';

export type CallOutcome =
  /** A successful tool result. */
  | { kind: 'ok'; executionId: string }
  /** An `isError` tool result: the gateway or the tool said why in words. */
  | { kind: 'toolError'; text: string; code?: string }
  /** A JSON-RPC error answer. */
  | { kind: 'rpcError'; message: string }
  /** A non-2xx HTTP answer. */
  | { kind: 'httpError'; status: number; code?: string; message?: string; retryAfter?: string; contractShape: boolean }
  /** No answer at all: the instance died under the request (or refused the connection on both instances). */
  | { kind: 'lost'; reason: string };

export interface CallRecord {
  readonly user: string;
  readonly input: { query: string };
  /** The instance asked first, and the one that answered (differs after a refused connection). */
  readonly instance: string;
  readonly answeredBy: string;
  readonly outcome: CallOutcome;
  /** Wall time as the user saw it. */
  readonly ms: number;
  readonly startedAt: number;
}

export interface Target {
  readonly name: string;
  readonly url: string;
}

let rpcIds = 0;

function causeCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** One tools/call POST to one instance; `refused` when the connection was refused (nothing was sent). */
async function postToolCall(target: Target, token: string, name: string, input: Record<string, unknown>): Promise<{ outcome: CallOutcome; refused: boolean }> {
  const id = ++rpcIds;
  let response: Response;
  try {
    response = await fetch(`${target.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: input, _meta: { [mcpMeta.decision]: 'auto' } } }),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (error) {
    const code = causeCode(error);
    return { outcome: { kind: 'lost', reason: code ?? String(error) }, refused: code === 'ECONNREFUSED' };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return { outcome: { kind: 'lost', reason: `body cut: ${causeCode(error) ?? String(error)}` }, refused: false };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const contractShape = typeof error?.code === 'string' && typeof error.message === 'string' && error.message.length > 0;
    return {
      outcome: {
        kind: 'httpError',
        status: response.status,
        contractShape,
        ...(typeof error?.code === 'string' ? { code: error.code } : {}),
        ...(typeof error?.message === 'string' ? { message: error.message } : {}),
        ...(response.headers.get('retry-after') !== null ? { retryAfter: response.headers.get('retry-after')! } : {}),
      },
      refused: false,
    };
  }
  const rpc = body as {
    result?: { isError?: boolean; content?: Array<{ type: string; text?: string }>; _meta?: Record<string, unknown> };
    error?: { message?: string };
  };
  if (rpc?.error) return { outcome: { kind: 'rpcError', message: String(rpc.error.message ?? '') }, refused: false };
  const result = rpc?.result;
  if (!result) return { outcome: { kind: 'rpcError', message: `no JSON-RPC result in: ${text.slice(0, 200)}` }, refused: false };
  if (result.isError) {
    const code = result._meta?.[mcpMeta.errorCode];
    return { outcome: { kind: 'toolError', text: result.content?.[0]?.text ?? '', ...(typeof code === 'string' ? { code } : {}) }, refused: false };
  }
  const executionId = result._meta?.[mcpMeta.executionId];
  return { outcome: { kind: 'ok', executionId: typeof executionId === 'string' ? executionId : '' }, refused: false };
}

/**
 * A user's tool call through "the load balancer": sent to `targets[first]`; when that
 * instance refuses the connection (it is down: nothing was sent, so nothing can have run),
 * sent once to the next instance. A connection cut mid-request is never retried: the call
 * may have run, and the user is told so instead of it running twice.
 */
export async function toolCall(targets: readonly Target[], first: number, user: string, token: string, input: { query: string }): Promise<CallRecord> {
  const startedAt = Date.now();
  const started = performance.now();
  const primary = targets[first % targets.length]!;
  let answeredBy = primary;
  const firstTry = await postToolCall(primary, token, loadTool, input);
  let outcome = firstTry.outcome;
  if (firstTry.refused && targets.length > 1) {
    answeredBy = targets[(first + 1) % targets.length]!;
    ({ outcome } = await postToolCall(answeredBy, token, loadTool, input));
  }
  return { user, input, instance: primary.name, answeredBy: answeredBy.name, outcome, ms: performance.now() - started, startedAt };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** What the error told the user, or why it is not a clear error. */
export function unclearError(outcome: CallOutcome): string | undefined {
  switch (outcome.kind) {
    case 'ok':
    case 'lost':
      return undefined;
    case 'toolError':
      return outcome.text.trim().length >= 10 && !/\bat .+:\d+:\d+\)/.test(outcome.text) ? undefined : `unclear tool error: ${outcome.text.slice(0, 200)}`;
    case 'rpcError':
      return outcome.message.trim().length >= 10 ? undefined : `unclear JSON-RPC error: ${outcome.message}`;
    case 'httpError':
      return outcome.contractShape ? undefined : `HTTP ${outcome.status} without the contract's error body`;
  }
}

interface AuditLedgerRow {
  input_hmac: string;
  outcome: string;
  execution_id: string | null;
  instance: string;
}

export interface LedgerCheck {
  /** Problems found; empty when the ledger is right. */
  readonly problems: string[];
  readonly executions: number;
  readonly auditRows: number;
  /** Audit rows left `started` (their instance died, or Postgres went away, before the outcome was written). */
  readonly startedRows: number;
}

/**
 * Compares the calls with the audit table and the emulator's execution log: every success
 * has exactly one audit row (outcome ok, same execution id); no input ran twice; everything
 * that ran has exactly one audit row (written before it ran); every failure said why.
 */
export async function checkLedger(databaseUrl: string, calls: readonly CallRecord[], executions: readonly ExecutionRecord[]): Promise<LedgerCheck> {
  const pg = new PgClient({ connectionString: databaseUrl });
  await pg.connect();
  let key: Uint8Array;
  let rows: AuditLedgerRow[];
  try {
    const [setting] = (await pg.query<{ value: string }>(`SELECT value FROM gateway_settings WHERE name = 'audit_hmac_key'`)).rows;
    key = Buffer.from(setting?.value ?? '', 'base64');
    rows = (await pg.query<AuditLedgerRow>(`SELECT input_hmac, outcome, execution_id, instance FROM audit WHERE tool = $1`, [loadTool])).rows;
  } finally {
    await pg.end();
  }
  const rowsByHmac = new Map<string, AuditLedgerRow[]>();
  for (const row of rows) rowsByHmac.set(row.input_hmac, [...(rowsByHmac.get(row.input_hmac) ?? []), row]);
  const runsByQuery = new Map<string, ExecutionRecord[]>();
  for (const execution of executions) {
    if (execution.toolName !== loadTool) continue;
    const query = String(execution.input['query']);
    runsByQuery.set(query, [...(runsByQuery.get(query) ?? []), execution]);
  }
  const problems: string[] = [];
  let ran = 0;
  let audited = 0;
  let started = 0;
  for (const call of calls) {
    const mine = rowsByHmac.get(hmacInput(key, call.input)) ?? [];
    const runs = runsByQuery.get(call.input.query) ?? [];
    ran += runs.length;
    audited += mine.length;
    started += mine.filter((row) => row.outcome === 'started').length;
    const name = `${call.user} "${call.input.query}" via ${call.answeredBy}`;
    if (runs.length > 1) problems.push(`${name} ran ${runs.length} times at Scalekit`);
    if (runs.length > 0 && mine.length !== 1) problems.push(`${name} ran at Scalekit but has ${mine.length} audit rows`);
    if (mine.length > 1) problems.push(`${name} has ${mine.length} audit rows`);
    if (call.outcome.kind === 'ok') {
      if (mine.length !== 1 || mine[0]!.outcome !== 'ok')
        problems.push(`${name} succeeded but its audit rows are ${JSON.stringify(mine.map((r) => r.outcome))}`);
      else if (mine[0]!.execution_id !== call.outcome.executionId)
        problems.push(`${name}: audit execution id ${mine[0]!.execution_id} ≠ ${call.outcome.executionId}`);
      if (runs.length !== 1 || runs[0]!.executionId !== call.outcome.executionId || !runs[0]!.ok)
        problems.push(`${name} succeeded but Scalekit ran it ${runs.length} times`);
    }
    const unclear = unclearError(call.outcome);
    if (unclear) problems.push(`${name}: ${unclear}`);
  }
  return { problems, executions: ran, auditRows: audited, startedRows: started };
}

/** Counts of outcomes, by kind and by error code. */
export function tally(calls: readonly CallRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) {
    const o = call.outcome;
    const key =
      o.kind === 'ok'
        ? 'ok'
        : o.kind === 'httpError'
          ? `http ${o.status} ${o.code ?? ''}`.trim()
          : o.kind === 'toolError'
            ? `tool error ${o.code ?? 'scalekit'}`
            : o.kind === 'lost'
              ? 'lost (instance killed)'
              : 'json-rpc error';
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
