// A scripted Anthropic Messages API for tests. It speaks the real wire format
// (SSE events in the real order, error bodies, retry headers) so the real
// `@anthropic-ai/sdk` can be pointed at it with `baseURL: emu.url`.
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { ContentBlock, Message, StopReason, Usage } from '@anthropic-ai/sdk/resources/messages';
import { blocksOf, textOf, toolInventory, toolResultIdsMatch as idsMatch, validateMessagesRequest, type LooseMessage } from './conversation';
import { TOOL_SEARCH_NAMES, searchTools, type RequestTool } from './tool-search';
import { PromptCache, cacheControlProblem } from './prompt-cache';
import { listenOn } from '../listen';
import type { BlockSpec, ErrorTurn, RecordedRequest, ReplyTurn, ScriptedTurn, TurnFunction, TurnSource, UsageSpec } from './types';

export type * from './types';
export { toolResultIdsMatch, toolResultMismatches, lastUserText } from './conversation';

export interface AnthropicEmulatorOptions {
  port?: number;
  host?: string;
  /** Accepted API keys. Without it any non-empty key is accepted. */
  apiKeys?: string[];
  /** Answers requests when the queue is empty (e.g. the ScriptedModel). Without it an empty queue answers 500. */
  fallback?: TurnSource | TurnFunction;
  /** Reject requests the real API would reject (unanswered tool_use, unknown tool_result ids, …) with a 400. Default true. */
  validate?: boolean;
  /**
   * Fail loudly (500, not retried) when a scripted tool_use names a tool the request did not
   * make callable (not sent, or deferred and not loaded by a tool search). Default true.
   */
  enforceToolAvailability?: boolean;
  /** Model ids served by GET /v1/models. */
  models?: string[];
  /** The clock the prompt cache's 5-minute / 1-hour lifetimes run on. Default Date.now. */
  now?: () => number;
}

export interface HttpLogEntry {
  method: string;
  path: string;
  status: number;
}

export interface AnthropicEmulator {
  /** Base URL to pass as `baseURL` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Every POST /v1/messages request, in arrival order (including rejected ones). */
  readonly requests: RecordedRequest[];
  /** Every HTTP request with its status. */
  readonly log: HttpLogEntry[];
  /** Turns still queued. */
  readonly pending: number;
  /** Queue the model's next replies; each answers exactly one POST /v1/messages. */
  queue(...turns: ScriptedTurn[]): void;
  setFallback(fallback: TurnSource | TurnFunction | undefined): void;
  /** Clears the queue, the recorded requests and the prompt cache (keeps the fallback). */
  reset(): void;
  toolResultIdsMatch(request: RecordedRequest): boolean;
  /** Resolves once `count` message requests have been recorded. */
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

const DEFAULT_MODELS = [
  'claude-sonnet-5-5',
  'claude-opus-5-5',
  'claude-haiku-5-5',
  'claude-fable-5-2',
  'claude-sonnet-5',
  'claude-opus-5',
  'claude-sonnet-4-6',
  'claude-opus-4-8',
  'claude-haiku-4-5',
  'claude-sonnet-4-5',
];

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const ERROR_MESSAGES: Record<number, string> = {
  401: 'invalid x-api-key',
  429: 'Number of request tokens has exceeded your per-minute rate limit (emulated)',
  500: 'Internal server error (emulated)',
  529: 'Overloaded',
};

/** A scripting mistake in a test: answered with a 500 the SDK is told not to retry. */
class ScriptError extends Error {}

function newId(prefix: string): string {
  return `${prefix}_emu${randomBytes(9).toString('base64url')}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isErrorTurn(t: ReplyTurn | ErrorTurn): t is ErrorTurn {
  return typeof (t as ErrorTurn).error === 'number';
}

function estimateTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}

function chunk(text: string, size: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

function sse(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

interface BuiltReply {
  message: Message;
  /** Output characters, for the token estimate. */
  outputChars: number;
}

export async function startAnthropicEmulator(opts: AnthropicEmulatorOptions = {}): Promise<AnthropicEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const validate = opts.validate ?? true;
  const enforceTools = opts.enforceToolAvailability ?? true;
  const models = opts.models ?? DEFAULT_MODELS;
  // Signatures of thinking blocks this emulator issued, by the tool_use ids of the same reply.
  const thinkingByToolUse = new Map<string, string>();
  let fallback = opts.fallback;
  const queued: ScriptedTurn[] = [];
  const requests: RecordedRequest[] = [];
  const log: HttpLogEntry[] = [];
  const waiters = new Set<() => void>();
  const promptCache = new PromptCache(opts.now);

  function notify(): void {
    for (const w of [...waiters]) w();
  }

  function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  }

  function sendError(
    res: http.ServerResponse,
    requestId: string,
    status: number,
    message: string,
    extra: { type?: string; headers?: Record<string, string> } = {},
  ): void {
    sendJson(
      res,
      status,
      {
        type: 'error',
        error: { type: extra.type ?? ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message },
        request_id: requestId,
      },
      { 'request-id': requestId, ...(extra.headers ?? {}) },
    );
  }

  function authenticate(req: http.IncomingMessage): { key?: string; header?: 'x-api-key' | 'authorization'; error?: string } {
    const xApiKey = req.headers['x-api-key'];
    const authorization = req.headers.authorization;
    let key: string | undefined;
    let header: 'x-api-key' | 'authorization' | undefined;
    if (typeof xApiKey === 'string' && xApiKey) {
      key = xApiKey;
      header = 'x-api-key';
    } else if (typeof authorization === 'string' && /^Bearer\s+\S/i.test(authorization)) {
      key = authorization.replace(/^Bearer\s+/i, '').trim();
      header = 'authorization';
    }
    if (!key) return { error: 'x-api-key header is required' };
    if (opts.apiKeys && !opts.apiKeys.includes(key)) return { key, header, error: 'invalid x-api-key' };
    return { key, header };
  }

  async function resolveTurn(request: RecordedRequest): Promise<{ turn: ReplyTurn | ErrorTurn; by: 'queue' | 'fallback' } | undefined> {
    let turn: ScriptedTurn | undefined;
    let by: 'queue' | 'fallback';
    if (queued.length > 0) {
      turn = queued.shift();
      by = 'queue';
    } else if (fallback) {
      const fb = fallback;
      turn = typeof fb === 'function' ? fb : (r: RecordedRequest) => fb.nextTurn(r);
      by = 'fallback';
    } else {
      return undefined;
    }
    for (let depth = 0; typeof turn === 'function'; depth++) {
      if (depth > 8) throw new ScriptError('turn functions nested more than 8 deep');
      turn = await turn(request);
    }
    if (!turn) throw new ScriptError('a turn function returned nothing');
    return { turn: Array.isArray(turn) ? { content: turn } : turn, by };
  }

  /**
   * With thinking on, the assistant turn that made the last tool_use must be sent back starting
   * with its thinking block, signature unchanged (extended-thinking docs, "Preserving thinking
   * blocks"); otherwise the API answers 400.
   */
  function thinkingProblem(messages: LooseMessage[] | undefined): string | undefined {
    if (!Array.isArray(messages)) return undefined;
    let index = messages.length - 1;
    while (index >= 0 && !(messages[index]?.role === 'assistant' && blocksOf(messages[index]).some((b) => b.type === 'tool_use'))) index--;
    if (index < 0) return undefined;
    const blocks = blocksOf(messages[index]);
    const toolUseIds = blocks.filter((b) => b.type === 'tool_use').map((b) => String(b.id));
    const expected = toolUseIds.map((id) => thinkingByToolUse.get(id)).find((sig) => sig !== undefined);
    if (expected === undefined) return undefined;
    const first = blocks[0];
    if (first?.type !== 'thinking' && first?.type !== 'redacted_thinking') {
      return (
        `messages.${index}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first?.type)}\`. ` +
        'When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks).'
      );
    }
    if (first.type === 'thinking' && first.signature !== expected) return `messages.${index}.content.0: Invalid \`signature\` in \`thinking\` block`;
    return undefined;
  }

  function buildReply(request: RecordedRequest, turn: ReplyTurn): BuiltReply {
    const specs: BlockSpec[] = [];
    if (turn.thinking !== undefined) specs.push({ thinking: turn.thinking });
    if (turn.toolSearch) specs.push({ toolSearch: turn.toolSearch });
    if (turn.text !== undefined) specs.push({ text: turn.text });
    const uses = turn.toolUse === undefined ? [] : Array.isArray(turn.toolUse) ? turn.toolUse : [turn.toolUse];
    for (const u of uses) specs.push({ toolUse: u });
    specs.push(...(turn.content ?? []));

    const tools = (Array.isArray(request.body.tools) ? request.body.tools : []) as RequestTool[];
    const callable = new Set(request.loadedToolNames);
    const content: ContentBlock[] = [];
    let outputChars = 0;
    for (const spec of specs) {
      if ('thinking' in spec) {
        content.push({ type: 'thinking', thinking: spec.thinking, signature: `sig_${randomBytes(12).toString('base64url')}` });
        outputChars += spec.thinking.length;
      } else if ('text' in spec) {
        content.push({ type: 'text', text: spec.text, citations: null });
        outputChars += spec.text.length;
      } else if ('toolUse' in spec) {
        const { name } = spec.toolUse;
        if (enforceTools && !callable.has(name) && spec.toolUse.unoffered !== true) {
          const why = request.toolNames.includes(name)
            ? `it was sent with defer_loading: true and no tool search in this conversation loaded it`
            : `the request's tools are [${request.toolNames.join(', ')}]`;
          throw new ScriptError(`scripted tool_use "${name}" is not callable in this request: ${why}`);
        }
        const input = spec.toolUse.input ?? {};
        content.push({
          type: 'tool_use',
          id: spec.toolUse.id ?? newId('toolu'),
          name,
          input,
          caller: { type: 'direct' },
        });
        outputChars += JSON.stringify(input).length + name.length;
      } else {
        const search = spec.toolSearch;
        if (!request.toolSearch) {
          throw new ScriptError('scripted toolSearch, but the request carries no tool_search_tool_regex_20251119 / tool_search_tool_bm25_20251119 tool');
        }
        if (search.variant && search.variant !== request.toolSearch) {
          throw new ScriptError(`scripted toolSearch variant "${search.variant}", but the request carries the ${request.toolSearch} tool`);
        }
        const variant = request.toolSearch;
        const id = search.id ?? newId('srvtoolu');
        content.push({
          type: 'server_tool_use',
          id,
          name: TOOL_SEARCH_NAMES[variant],
          input: { query: search.query },
          caller: { type: 'direct' },
        });
        const outcome = searchTools(tools, variant, search.query, search.maxResults ?? 5);
        content.push({
          type: 'tool_search_tool_result',
          tool_use_id: id,
          content: outcome.ok
            ? {
                type: 'tool_search_tool_search_result',
                tool_references: outcome.hits.map((h) => ({ type: 'tool_reference' as const, tool_name: h.name })),
              }
            : { type: 'tool_search_tool_result_error', error_code: outcome.errorCode, error_message: outcome.message },
        });
        if (outcome.ok) for (const h of outcome.hits) callable.add(h.name);
        outputChars += search.query.length + 20;
      }
    }

    const firstThinking = content.find((b) => b.type === 'thinking');
    if (firstThinking) {
      for (const block of content) if (block.type === 'tool_use') thinkingByToolUse.set(block.id, firstThinking.signature);
    }
    const stopReason: StopReason = turn.stopReason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
    const usage = buildUsage(request, turn.usage, outputChars);
    const message: Message = {
      id: newId('msg'),
      type: 'message',
      role: 'assistant',
      model: turn.model ?? (typeof request.body.model === 'string' ? request.body.model : 'claude-emulated'),
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage,
    };
    return { message, outputChars };
  }

  function buildUsage(request: RecordedRequest, spec: UsageSpec | undefined, outputChars: number): Usage {
    // Input, cache writes and cache reads as the API's prompt caching counts them (prompt-cache.ts):
    // deferred tool schemas cost nothing until a tool_reference loads them.
    const cached = promptCache.apply(request.apiKey ?? '', request.body);
    return {
      input_tokens: spec?.input_tokens ?? cached.input_tokens,
      output_tokens: spec?.output_tokens ?? estimateTokens(outputChars),
      cache_creation_input_tokens: spec?.cache_creation_input_tokens ?? cached.cache_creation_input_tokens,
      cache_read_input_tokens: spec?.cache_read_input_tokens ?? cached.cache_read_input_tokens,
      cache_creation: cached.cache_creation,
      inference_geo: null,
      output_tokens_details: null,
      server_tool_use: null,
      service_tier: 'standard',
      speed: null,
    };
  }

  function streamEvents(message: Message, chunkSize: number): Array<{ type: string; data: unknown; isDelta: boolean }> {
    const events: Array<{ type: string; data: unknown; isDelta: boolean }> = [];
    const push = (data: { type: string }, isDelta = false): void => {
      events.push({ type: data.type, data, isDelta });
    };
    push({
      type: 'message_start',
      message: {
        ...message,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...message.usage, output_tokens: 1 },
      },
    } as { type: string });
    if (message.content.length === 0) push({ type: 'ping' });
    message.content.forEach((block, index) => {
      switch (block.type) {
        case 'text': {
          push({ type: 'content_block_start', index, content_block: { type: 'text', text: '', citations: null } } as { type: string });
          if (index === 0) push({ type: 'ping' });
          for (const piece of chunk(block.text, chunkSize)) {
            push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } } as { type: string }, true);
          }
          break;
        }
        case 'thinking': {
          push({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } } as { type: string });
          for (const piece of chunk(block.thinking, chunkSize)) {
            push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: piece } } as { type: string }, true);
          }
          push({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: block.signature } } as { type: string }, true);
          break;
        }
        case 'tool_use':
        case 'server_tool_use': {
          push({ type: 'content_block_start', index, content_block: { ...block, input: {} } } as { type: string });
          if (index === 0) push({ type: 'ping' });
          const json = JSON.stringify(block.input ?? {});
          const size = Math.max(1, Math.min(chunkSize, Math.ceil(json.length / 3)));
          push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } } as { type: string }, true);
          for (const piece of chunk(json, size)) {
            push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } } as { type: string }, true);
          }
          break;
        }
        default: {
          // Result blocks (tool_search_tool_result, …) arrive whole in content_block_start.
          push({ type: 'content_block_start', index, content_block: block } as { type: string });
          if (index === 0) push({ type: 'ping' });
        }
      }
      push({ type: 'content_block_stop', index } as { type: string });
    });
    push({
      type: 'message_delta',
      delta: { stop_reason: message.stop_reason, stop_sequence: null, stop_details: null, container: null },
      usage: {
        input_tokens: message.usage.input_tokens,
        cache_creation_input_tokens: message.usage.cache_creation_input_tokens,
        cache_read_input_tokens: message.usage.cache_read_input_tokens,
        output_tokens: message.usage.output_tokens,
        output_tokens_details: null,
        server_tool_use: null,
      },
    } as { type: string });
    push({ type: 'message_stop' });
    return events;
  }

  async function handleMessages(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer, pathname: string, requestId: string): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    let parsed: unknown;
    let parseError: string | undefined;
    try {
      parsed = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch (err) {
      parseError = `Invalid JSON body: ${(err as Error).message}`;
    }
    const body = (parsed && typeof parsed === 'object' ? parsed : {}) as RecordedRequest['body'];
    const auth = authenticate(req);
    const inventory = toolInventory({ messages: body.messages, tools: body.tools });
    const record: RecordedRequest = {
      index: requests.length,
      time: Date.now(),
      method: req.method ?? 'POST',
      path: pathname,
      url: req.url ?? pathname,
      headers,
      apiKey: auth.key,
      authHeader: auth.header,
      rawBytes: raw.length,
      body,
      stream: body.stream === true,
      ...inventory,
      status: undefined,
      answeredBy: undefined,
      clientDisconnected: false,
      completed: false,
    };
    requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.clientDisconnected = true;
      notify();
    });
    res.on('finish', () => {
      record.completed = true;
      notify();
    });
    notify();

    const fail = (status: number, message: string, extra: { type?: string; headers?: Record<string, string> } = {}): void => {
      record.status = status;
      record.answeredBy ??= 'emulator';
      sendError(res, requestId, status, message, extra);
    };

    if (auth.error) return fail(401, auth.error);
    if (!headers['anthropic-version']) return fail(400, 'anthropic-version: header is required');
    if (parseError) return fail(400, parseError);
    if (validate) {
      const problem = validateMessagesRequest(parsed) ?? cacheControlProblem(body) ?? thinkingProblem(body.messages);
      if (problem) return fail(400, problem);
    }
    // An unknown or retired model id is a 404 not_found_error "model: <id>" (Messages API errors).
    if (typeof body.model === 'string' && !models.includes(body.model)) {
      return fail(404, `model: ${body.model}`);
    }

    let resolved: Awaited<ReturnType<typeof resolveTurn>>;
    let reply: BuiltReply | undefined;
    try {
      resolved = await resolveTurn(record);
      if (resolved && !isErrorTurn(resolved.turn)) reply = buildReply(record, resolved.turn);
      if (reply) record.usage = reply.message.usage;
    } catch (err) {
      const msg = err instanceof ScriptError ? err.message : `turn function threw: ${(err as Error)?.stack ?? String(err)}`;
      return fail(500, `[anthropic-emulator] ${msg}`, { headers: { 'x-should-retry': 'false' } });
    }
    if (!resolved) {
      return fail(
        500,
        `[anthropic-emulator] no scripted turn queued for request #${record.index} (queue empty and no fallback model); ` +
          `last user text: ${JSON.stringify(textOf((body.messages as LooseMessage[] | undefined)?.at(-1)).slice(0, 200))}`,
        { headers: { 'x-should-retry': 'false' } },
      );
    }
    record.answeredBy = resolved.by;
    const turn = resolved.turn;

    if (isErrorTurn(turn)) {
      const extraHeaders: Record<string, string> = {};
      if (turn.retryAfter !== undefined) extraHeaders['retry-after'] = String(turn.retryAfter);
      if (turn.shouldRetry !== undefined) extraHeaders['x-should-retry'] = String(turn.shouldRetry);
      record.status = turn.error;
      sendError(res, requestId, turn.error, turn.message ?? ERROR_MESSAGES[turn.error] ?? `Emulated error ${turn.error}`, {
        ...(turn.errorType ? { type: turn.errorType } : {}),
        headers: extraHeaders,
      });
      return;
    }

    if (!reply) return; // unreachable: non-error turns always build a reply
    if (turn.initialDelayMs) await sleep(turn.initialDelayMs);
    if (record.clientDisconnected) return;
    record.status = 200;

    if (!record.stream) {
      sendJson(res, 200, reply.message, { 'request-id': requestId });
      return;
    }

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'request-id': requestId,
    });
    res.flushHeaders();
    const events = streamEvents(reply.message, Math.max(1, turn.chunkSize ?? 12));
    const errorAfter = turn.streamError ? Math.max(0, turn.streamError.afterEvents ?? 1) : Infinity;
    let written = 0;
    for (const ev of events) {
      if (written >= errorAfter && turn.streamError) {
        res.write(
          sse('error', {
            type: 'error',
            error: { type: turn.streamError.type ?? 'overloaded_error', message: turn.streamError.message ?? 'Overloaded' },
            request_id: requestId,
          }),
        );
        break;
      }
      if (ev.isDelta && turn.delayMsPerChunk) await sleep(turn.delayMsPerChunk);
      if (record.clientDisconnected || res.destroyed) return;
      res.write(sse(ev.type, ev.data));
      written++;
    }
    res.end();
  }

  function countTokens(res: http.ServerResponse, raw: Buffer, requestId: string): void {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      return sendError(res, requestId, 400, `Invalid JSON body: ${(err as Error).message}`);
    }
    const b = (body ?? {}) as { model?: unknown; messages?: unknown; tools?: unknown };
    if (typeof b.model !== 'string') return sendError(res, requestId, 400, 'model: Field required');
    if (!Array.isArray(b.messages)) return sendError(res, requestId, 400, 'messages: Field required');
    const inv = toolInventory({ messages: b.messages, tools: b.tools });
    sendJson(res, 200, { input_tokens: estimateTokens(raw.length - inv.toolsBytes + inv.loadedToolsBytes) }, { 'request-id': requestId });
  }

  function modelInfo(id: string): Record<string, unknown> {
    return {
      type: 'model',
      id,
      display_name: id.replace(/^claude-/, 'Claude ').replace(/-/g, ' '),
      created_at: '2025-09-29T00:00:00Z',
      capabilities: null,
      deprecated_at: null,
      lifecycle: 'active',
      line: id.includes('opus') ? 'opus' : id.includes('haiku') ? 'haiku' : 'sonnet',
      max_input_tokens: 200000,
      max_tokens: 64000,
      retires_at: null,
    };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://emulator.invalid');
      const pathname = url.pathname.replace(/\/+$/, '') || '/';
      const requestId = newId('req');
      res.on('finish', () => log.push({ method: req.method ?? '', path: pathname, status: res.statusCode }));
      const route = async (): Promise<void> => {
        if (req.method === 'POST' && pathname === '/v1/messages') {
          return handleMessages(req, res, raw, pathname, requestId);
        }
        const needsAuth = pathname.startsWith('/v1/');
        const auth = authenticate(req);
        if (needsAuth && auth.error) return sendError(res, requestId, 401, auth.error);
        if (req.method === 'POST' && pathname === '/v1/messages/count_tokens') return countTokens(res, raw, requestId);
        if (req.method === 'GET' && pathname === '/v1/models') {
          const data = models.map(modelInfo);
          return sendJson(res, 200, { data, has_more: false, first_id: models[0] ?? null, last_id: models.at(-1) ?? null });
        }
        const modelMatch = /^\/v1\/models\/([^/]+)$/.exec(pathname);
        if (req.method === 'GET' && modelMatch) {
          const id = decodeURIComponent(modelMatch[1] ?? '');
          if (models.includes(id)) return sendJson(res, 200, modelInfo(id));
          return sendError(res, requestId, 404, `model: ${id}`);
        }
        return sendError(res, requestId, 404, `Not found: ${req.method} ${pathname}`);
      };
      route().catch((err: unknown) => {
        if (!res.headersSent) sendError(res, requestId, 500, `[anthropic-emulator] ${(err as Error)?.stack ?? String(err)}`);
        else res.destroy();
      });
    });
  });

  const port = await listenOn(server, opts.port ?? 0, host);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    requests,
    log,
    get pending() {
      return queued.length;
    },
    queue(...turns: ScriptedTurn[]) {
      queued.push(...turns);
    },
    setFallback(f) {
      fallback = f;
    },
    reset() {
      queued.length = 0;
      requests.length = 0;
      log.length = 0;
      promptCache.clear();
    },
    toolResultIdsMatch(request: RecordedRequest) {
      return idsMatch(request);
    },
    waitForRequests(count: number, timeoutMs = 10000) {
      return new Promise<RecordedRequest[]>((resolve, reject) => {
        const check = (): void => {
          if (requests.length >= count) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(requests.slice());
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`anthropic emulator: waited ${timeoutMs} ms for ${count} requests, got ${requests.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
