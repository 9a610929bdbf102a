import type Anthropic from '@anthropic-ai/sdk';
import { messageOf } from '../core/errors';
import type { ChatItemView } from '../shared/protocol';
import type { AuditEntry } from './audit';
import type { Conversation } from './conversation';
import { isRetryableModelError, isTransientModelError, mapAnthropicError } from './anthropicKeyCheck';
import { ModelReply, requestReplyEvents } from './modelReply';
import { addUsage } from './pricing';
import { runToolUse, searchToolName, type ToolCallDeps } from './toolCall';
import { toolCallReporter } from './toolCallTranslator';
import type { ToolCatalog } from './toolCatalog';
import { defaultToolContext, definitionBytes, referencedTools, toolsForRequest, withHistoryBreakpoint, type RequestTool } from './toolContext';

// The agent loop: stream Claude's reply, run each tool_use (toolCall.ts: the policy, then
// the tool backend as the identifier of the *current* session), return bounded results, and
// repeat until end_turn, the step limit, or Stop. Each call ends in one outcome that
// toolCallTranslator.ts turns into its card and audit record. It never imports vscode.

export { maxToolInputBytes, searchToolName } from './toolCall';

export interface RequestMetrics {
  readonly requestBytes: number;
  readonly loadedToolBytes: number;
  readonly toolNames: readonly string[];
}

export interface AgentEvents {
  onItem(item: ChatItemView): void;
  onTextDelta(itemId: string, text: string): void;
  onRequest?(metrics: RequestMetrics): void;
  onChange?(): void;
}

export interface AgentDeps extends ToolCallDeps {
  readonly anthropic: Anthropic;
  readonly model: string;
  readonly maxSteps: number;
  readonly maxTokens?: number;
  readonly systemPrompt: string;
  /** Receives each call's record with its raw input; the sink writes only the input's HMAC. */
  readonly audit: (entry: AuditEntry) => void;
  readonly events: AgentEvents;
  readonly newId: () => string;
}

export type TurnOutcome = 'completed' | 'stopped' | 'maxSteps' | 'error';

export async function runAgentTurn(conversation: Conversation, deps: AgentDeps, signal: AbortSignal): Promise<TurnOutcome> {
  const now = deps.now ?? Date.now;
  for (let step = 0; step < deps.maxSteps; step++) {
    const request = buildRequest(conversation, deps);
    // Measuring serialises the whole request: done only when someone listens (tests, the bench).
    if (deps.events.onRequest) deps.events.onRequest(requestMetrics(request.params, request.tools, deps.catalog));
    const streamed = await streamReplyWithRetries(conversation, deps, request.params, signal);
    if (streamed.kind === 'stopped' || streamed.kind === 'error') return streamed.kind;
    const message = streamed.message;
    conversation.usage = addUsage(conversation.usage, message.usage, deps.model);
    conversation.updatedAt = now();

    const toolUses = message.content.filter((b): b is Anthropic.Messages.ToolUseBlock => b.type === 'tool_use');
    const runTools = message.stop_reason === 'tool_use' && toolUses.length > 0;
    if (message.stop_reason === 'refusal') {
      forgetRefusedTurn(conversation);
      pushItem(conversation, deps, {
        kind: 'notice',
        id: deps.newId(),
        text: 'Claude declined to continue with this request. It will not see that message again; rephrase it or ask something else.',
      });
      return 'completed';
    }
    // Keep only what the next request can replay: the API refuses whitespace-only text, an
    // unfinished tool_use, and a tool_use whose thinking block (with its signature) is missing.
    // A server tool search and its result go back as they came: the tools it loaded stay loaded.
    const replayable = message.content.filter(
      (b) =>
        (b.type === 'text' && b.text.trim().length > 0) ||
        ((b.type === 'thinking' || b.type === 'redacted_thinking') && runTools) ||
        (runTools && b.type === 'tool_use') ||
        b.type === 'server_tool_use' ||
        b.type === 'tool_search_tool_result',
    );
    if (replayable.some((b) => b.type === 'text' || b.type === 'tool_use')) conversation.messages.push({ role: 'assistant', content: replayable.map(toParam) });
    if (!runTools) {
      const cut = cutShortNotice(message.stop_reason);
      if (cut) pushItem(conversation, deps, { kind: 'notice', id: deps.newId(), text: cut });
      return 'completed';
    }

    // Each call ends in one outcome; the translator turns it into the card and the audit record.
    const report = toolCallReporter(conversation, { onItem: (item) => deps.events.onItem(item), audit: deps.audit, now });
    const results: Anthropic.Messages.ToolResultBlockParam[] = [];
    for (const toolUse of toolUses) {
      const run = await runToolUse(deps, report, toolUse, signal, conversation);
      report.finished(run.outcome);
      results.push(run.forModel);
    }
    conversation.messages.push({ role: 'user', content: results });
    conversation.updatedAt = now();
    deps.events.onChange?.();
    if (signal.aborted) return 'stopped';
  }
  pushItem(conversation, deps, {
    kind: 'notice',
    id: deps.newId(),
    text: `Stopped after ${deps.maxSteps} steps (onbehalf.maxSteps). Send a message to let the agent continue.`,
  });
  return 'maxSteps';
}

/** What to tell the user when a reply ended before the model was done. */
function cutShortNotice(stopReason: Anthropic.Messages.StopReason | null): string | undefined {
  if (stopReason === 'max_tokens') return 'The reply reached its maximum length. Send "continue" to let Claude go on, or start a new chat.';
  if (stopReason === 'model_context_window_exceeded') return "The conversation has filled the model's context window. Start a new chat to go on.";
  return undefined;
}

/**
 * After a refusal the API expects the context to be reset: drop the transcript back to before
 * the user message that led to it, so the next request starts from what the API accepted.
 */
function forgetRefusedTurn(conversation: Conversation): void {
  for (let i = conversation.messages.length - 1; i >= 0; i--) {
    const message = conversation.messages[i]!;
    const typed = message.role === 'user' && (typeof message.content === 'string' || message.content.some((b) => b.type === 'text'));
    if (typed) {
      conversation.messages.splice(i);
      return;
    }
  }
}

function toParam(block: Anthropic.Messages.ContentBlock): Anthropic.Messages.ContentBlockParam {
  // Thinking goes back exactly as received, signature included, or the API refuses the turn.
  if (block.type === 'thinking') return { type: 'thinking', thinking: block.thinking, signature: block.signature };
  if (block.type === 'redacted_thinking') return { type: 'redacted_thinking', data: block.data };
  if (block.type === 'text') return { type: 'text', text: block.text };
  if (block.type === 'tool_use') return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
  if (block.type === 'server_tool_use') return { type: 'server_tool_use', id: block.id, name: block.name, input: block.input };
  if (block.type === 'tool_search_tool_result') {
    const content = block.content;
    return {
      type: 'tool_search_tool_result',
      tool_use_id: block.tool_use_id,
      content:
        content.type === 'tool_search_tool_search_result'
          ? {
              type: 'tool_search_tool_search_result',
              tool_references: content.tool_references.map((r) => ({ type: 'tool_reference', tool_name: r.tool_name })),
            }
          : { type: 'tool_search_tool_result_error', error_code: content.error_code, error_message: content.error_message },
    };
  }
  throw new Error(`Unexpected block ${block.type}`);
}

// ---- Request ----

export function searchToolDefinition(catalog: ToolCatalog): Anthropic.Messages.Tool {
  const connections = catalog.connections();
  return {
    name: searchToolName,
    description:
      `Finds tools in the user's connected accounts (${connections.join(', ') || 'none connected'}; ${catalog.size} tools in all) by keywords or by a tool's exact name, ` +
      'and loads the best matches for the rest of the conversation. Search before acting, then call a loaded tool by name.',
    input_schema: {
      type: 'object',
      properties: {
        query: { type: 'string', description: 'Keywords for what you want to do, e.g. "trends query events per day" or "create task".' },
        connection: { type: 'string', enum: connections.length > 0 ? connections : ['none'], description: 'Limit the search to one connection.' },
        limit: { type: 'integer', minimum: 1, maximum: 20, description: 'How many tools to return (default 8).' },
      },
      required: ['query'],
    },
  };
}

export function buildRequest(
  conversation: Conversation,
  deps: Pick<AgentDeps, 'catalog' | 'model' | 'maxTokens' | 'systemPrompt' | 'readOnly' | 'toolContext'>,
): { params: Anthropic.Messages.MessageStreamParams; tools: readonly RequestTool[] } {
  const strategy = deps.toolContext ?? defaultToolContext;
  const { tools, cacheHistory } = toolsForRequest(strategy, deps.catalog, conversation, deps.readOnly, searchToolDefinition(deps.catalog));
  // The cached prefix: tools + system, and with deferred tools the whole history up to the
  // last block (toolContext.ts); at most 2 of the API's 4 breakpoints.
  const params: Anthropic.Messages.MessageStreamParams = {
    model: deps.model,
    max_tokens: deps.maxTokens ?? 4096,
    system: [{ type: 'text', text: deps.systemPrompt, cache_control: { type: 'ephemeral' } }],
    tools,
    messages: cacheHistory ? withHistoryBreakpoint(conversation.messages) : conversation.messages,
  };
  return { params, tools };
}

/**
 * Bytes sent and bytes of tool definitions in the model's context: the tools sent whole plus,
 * for deferred ones, those a tool_reference in the history loaded. The deferred definitions'
 * bytes are counted once per catalog, not serialised again for every request.
 */
function requestMetrics(params: Anthropic.Messages.MessageStreamParams, tools: readonly RequestTool[], catalog: ToolCatalog): RequestMetrics {
  const whole = tools.filter((t) => t.defer_loading !== true);
  const deferredCount = tools.length - whole.length;
  const deferredBytes = tools.reduce((sum, t) => sum + (t.defer_loading === true ? catalog.deferredBytes(t.name) : 0), 0);
  const framed = Buffer.byteLength(JSON.stringify({ ...params, tools: whole }));
  const requestBytes = framed + deferredBytes + deferredCount - (whole.length === 0 ? 1 : 0);
  let loadedToolBytes = Buffer.byteLength(JSON.stringify(whole));
  if (deferredCount > 0) {
    for (const name of referencedTools(params.messages)) {
      const tool = catalog.get(name);
      if (tool) loadedToolBytes += definitionBytes(tool);
    }
  }
  return { requestBytes, loadedToolBytes, toolNames: tools.map((t) => t.name) };
}

// ---- Streaming ----

type StreamResult = { kind: 'message'; message: Anthropic.Messages.Message } | { kind: 'stopped' } | { kind: 'error' };
type StreamAttempt = StreamResult | { kind: 'wait'; ms: number; reason: string };

/** Retries of a rate-limited or overloaded request, each shown to the user, never silent. */
const maxModelRetries = 2;
/** A longer wait than this is an error with Retry, not a stalled chat. */
const maxModelRetryWaitMs = 60_000;

async function streamReplyWithRetries(
  conversation: Conversation,
  deps: AgentDeps,
  params: Anthropic.Messages.MessageStreamParams,
  signal: AbortSignal,
): Promise<StreamResult> {
  for (let attempt = 0; ; attempt++) {
    const result = await streamReply(conversation, deps, params, signal, attempt < maxModelRetries ? attempt : undefined);
    if (result.kind !== 'wait') return result;
    const seconds = Math.max(1, Math.round(result.ms / 1000));
    pushItem(conversation, deps, { kind: 'notice', id: deps.newId(), text: `${result.reason}; retrying in ${seconds} s. Press Stop to cancel.` });
    if (!(await waitUnlessStopped(result.ms, signal))) return { kind: 'stopped' };
  }
}

function waitUnlessStopped(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** How long the API asks us to wait before a retry can help, or undefined when it cannot. */
function retryWaitMs(error: unknown, attempt: number): number | undefined {
  if (!isTransientModelError(error)) return undefined;
  const headers = (error as { headers?: { get?(name: string): string | null } }).headers;
  const header = typeof headers?.get === 'function' ? headers.get('retry-after') : null;
  const seconds = header === null ? Number.NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : 1000 * 2 ** attempt;
}

function waitLabel(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

async function streamReply(
  conversation: Conversation,
  deps: AgentDeps,
  params: Anthropic.Messages.MessageStreamParams,
  signal: AbortSignal,
  retryAttempt: number | undefined,
): Promise<StreamAttempt> {
  const textItems = new Map<number, string>(); // content block index → item id
  const partialText = new Map<string, string>();
  try {
    const reply = new ModelReply();
    for await (const event of await requestReplyEvents(deps.anthropic, params, signal)) {
      reply.add(event);
      if (event.type === 'content_block_start' && event.content_block.type === 'text') {
        const id = deps.newId();
        textItems.set(event.index, id);
        partialText.set(id, event.content_block.text);
        pushItem(conversation, deps, { kind: 'assistant', id, markdown: event.content_block.text, streaming: true });
      } else if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
        const id = textItems.get(event.index);
        if (id === undefined) continue;
        const text = (partialText.get(id) ?? '') + event.delta.text;
        partialText.set(id, text);
        deps.events.onTextDelta(id, event.delta.text);
        // The saved conversation keeps up with the stream, so a reload mid-reply keeps what was said.
        const index = conversation.items.findIndex((item) => item.id === id);
        if (index >= 0) conversation.items[index] = { kind: 'assistant', id, markdown: text, streaming: true };
        deps.events.onChange?.();
      }
    }
    // Stopped after the reply was whole but before its stream closed: still a stop, as before.
    if (signal.aborted) throw new Error('aborted');
    const message = reply.message();
    finishTextItems(conversation, deps, partialText);
    return { kind: 'message', message };
  } catch (error) {
    if (signal.aborted) {
      // Stop keeps what was already said, as a complete assistant message.
      finishTextItems(conversation, deps, partialText);
      const text = [...partialText.values()].join('');
      if (text.trim()) conversation.messages.push({ role: 'assistant', content: [{ type: 'text', text }] });
      return { kind: 'stopped' };
    }
    // A failed reply leaves no trace in the model transcript, so Retry resends the same context.
    conversation.items = conversation.items.filter((item) => !partialText.has(item.id));
    const mapped = mapAnthropicError(error, deps.model);
    const waitMs = retryWaitMs(error, retryAttempt ?? 0);
    if (waitMs !== undefined && retryAttempt !== undefined && waitMs <= maxModelRetryWaitMs) {
      return {
        kind: 'wait',
        ms: waitMs,
        reason: mapped.kind === 'rateLimited' ? 'Anthropic is rate limiting requests' : 'Anthropic is overloaded or unreachable',
      };
    }
    const retryable = isRetryableModelError(mapped);
    const asked = waitMs !== undefined && waitMs > maxModelRetryWaitMs ? ` Anthropic asks to wait ${waitLabel(waitMs)}.` : '';
    pushItem(conversation, deps, { kind: 'error', id: deps.newId(), message: `${messageOf(mapped)}${asked}`, retryable });
    return { kind: 'error' };
  }
}

function finishTextItems(conversation: Conversation, deps: AgentDeps, partialText: Map<string, string>): void {
  for (const [id, markdown] of partialText) {
    const index = conversation.items.findIndex((item) => item.id === id);
    if (index < 0) continue;
    const item: ChatItemView = { kind: 'assistant', id, markdown, streaming: false };
    conversation.items[index] = item;
    deps.events.onItem(item);
  }
}

function pushItem(conversation: Conversation, deps: AgentDeps, item: ChatItemView): void {
  conversation.items.push(item);
  deps.events.onItem(item);
}
