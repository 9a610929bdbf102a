import type Anthropic from '@anthropic-ai/sdk';
import { ConnectionInactiveError, NotSignedInError, OnBehalfError, RateLimitedError, ServiceUnavailableError, ToolFailedError, messageOf } from '../core/errors';
import { connectionLabel } from '../shared/labels';
import type { ChatItemView } from '../shared/protocol';
import type { AuditEntry, AuditRecord } from './audit';
import { boundToolResult, formatBytes, maxToolResultBytes, safeStringify } from './boundedResult';
import type { Conversation } from './conversation';
import { checkToolInput } from './inputValidation';
import { isRetryableModelError, mapAnthropicError } from './anthropicKeyCheck';
import type { ApprovalPolicy, DecisionSource, PolicyDecision } from './policy';
import { addUsage } from './pricing';
import type { LateSettlement, ToolCallOutcome, ToolCallSubject } from './toolCallOutcome';
import { toolCallReporter, type ToolCallReporter } from './toolCallTranslator';
import type { ToolCatalog } from './toolCatalog';
import type { ToolBackend, ToolDefinition, ToolExecution } from '../core/toolBackend';

// The agent loop: stream Claude's reply, run each tool_use through the policy and
// the tool backend as the identifier of the *current* session, return bounded results, and
// repeat until end_turn, the step limit, or Stop. It never imports vscode.

export const searchToolName = 'search_tools';
const maxLoadedTools = 24;
/**
 * The largest tool input OnBehalf runs. The card shows the whole input (the user approves
 * exactly what runs, never a preview), so an input too large to show is refused instead.
 */
export const maxToolInputBytes = 100 * 1024;

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

export interface AgentDeps {
  readonly anthropic: Anthropic;
  readonly model: string;
  readonly maxSteps: number;
  readonly maxTokens?: number;
  readonly systemPrompt: string;
  readonly catalog: ToolCatalog;
  readonly readOnly: boolean;
  /** Derives the identifier from the current session at the moment of the call. */
  readonly currentIdentifier: () => Promise<string>;
  /** Runs a call as the identifier it is given; which backend serves it is not the loop's concern. */
  readonly backend: Pick<ToolBackend, 'execute'>;
  readonly policy: ApprovalPolicy;
  /** Receives each call's record with its raw input; the sink writes only the input's HMAC. */
  readonly audit: (entry: AuditEntry) => void;
  readonly events: AgentEvents;
  readonly newId: () => string;
  readonly now?: () => number;
}

export type TurnOutcome = 'completed' | 'stopped' | 'maxSteps' | 'error';

export async function runAgentTurn(conversation: Conversation, deps: AgentDeps, signal: AbortSignal): Promise<TurnOutcome> {
  const now = deps.now ?? Date.now;
  for (let step = 0; step < deps.maxSteps; step++) {
    const request = buildRequest(conversation, deps);
    deps.events.onRequest?.(request.metrics);
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
    const replayable = message.content.filter(
      (b) =>
        (b.type === 'text' && b.text.trim().length > 0) ||
        ((b.type === 'thinking' || b.type === 'redacted_thinking') && runTools) ||
        (runTools && b.type === 'tool_use'),
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
  pushItem(conversation, deps, { kind: 'notice', id: deps.newId(), text: `Stopped after ${deps.maxSteps} steps (onbehalf.maxSteps). Send a message to let the agent continue.` });
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
  throw new Error(`Unexpected block ${block.type}`);
}

// ---- Request ----

export function searchToolDefinition(catalog: ToolCatalog): Anthropic.Messages.Tool {
  const connections = catalog.connections();
  return {
    name: searchToolName,
    description:
      `Finds tools in the user's connected accounts (${connections.join(', ') || 'none connected'}; ${catalog.size} tools in all) by keywords. ` +
      'Only a few tools are loaded at first: search before acting, then call a returned tool by name. Its full schema is loaded for the rest of the conversation.',
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

function modelTool(tool: ToolDefinition): Anthropic.Messages.Tool {
  return { name: tool.name, description: tool.description.slice(0, 1024), input_schema: tool.inputSchema as Anthropic.Messages.Tool.InputSchema };
}

export function buildRequest(conversation: Conversation, deps: Pick<AgentDeps, 'catalog' | 'model' | 'maxTokens' | 'systemPrompt' | 'readOnly'>): { params: Anthropic.Messages.MessageStreamParams; metrics: RequestMetrics } {
  const loaded = conversation.loadedTools
    .map((name) => deps.catalog.get(name))
    .filter((t): t is ToolDefinition => t !== undefined && (!deps.readOnly || t.risk === 'read'));
  const tools: Anthropic.Messages.Tool[] = [searchToolDefinition(deps.catalog), ...loaded.map(modelTool)];
  // Cache the stable prefix (tools + system); later requests in a turn reuse it.
  const lastTool = tools[tools.length - 1];
  if (lastTool) tools[tools.length - 1] = { ...lastTool, cache_control: { type: 'ephemeral' } };
  const params: Anthropic.Messages.MessageStreamParams = {
    model: deps.model,
    max_tokens: deps.maxTokens ?? 4096,
    system: [{ type: 'text', text: deps.systemPrompt, cache_control: { type: 'ephemeral' } }],
    tools,
    messages: conversation.messages,
  };
  const toolBytes = Buffer.byteLength(JSON.stringify(tools));
  return { params, metrics: { requestBytes: Buffer.byteLength(JSON.stringify(params)), loadedToolBytes: toolBytes, toolNames: tools.map((t) => t.name) } };
}

// ---- Streaming ----

type StreamResult = { kind: 'message'; message: Anthropic.Messages.Message } | { kind: 'stopped' } | { kind: 'error' };
type StreamAttempt = StreamResult | { kind: 'wait'; ms: number; reason: string };

/** Retries of a rate-limited or overloaded request, each shown to the user, never silent. */
const maxModelRetries = 2;
/** A longer wait than this is an error with Retry, not a stalled chat. */
const maxModelRetryWaitMs = 60_000;

async function streamReplyWithRetries(conversation: Conversation, deps: AgentDeps, params: Anthropic.Messages.MessageStreamParams, signal: AbortSignal): Promise<StreamResult> {
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
  if (!(error instanceof Error) || !('status' in error)) return undefined;
  const status = (error as { status?: unknown }).status;
  if (status !== 429 && status !== 529 && status !== 503) return undefined;
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
    const stream = deps.anthropic.messages.stream(params, { signal });
    for await (const event of stream) {
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
    const message = await stream.finalMessage();
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
      return { kind: 'wait', ms: waitMs, reason: mapped.kind === 'rateLimited' ? 'Anthropic is rate limiting requests' : 'Anthropic is overloaded' };
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

// ---- Tools ----

function errorResult(toolUseId: string, text: string): Anthropic.Messages.ToolResultBlockParam {
  return { type: 'tool_result', tool_use_id: toolUseId, is_error: true, content: text };
}

/** One tool call's outcome (for the translator) and its tool_result (for the model). */
interface ToolCallRun {
  readonly outcome: ToolCallOutcome;
  readonly forModel: Anthropic.Messages.ToolResultBlockParam;
}

/** A call refused before the policy is asked: what the card says and what the model is told. */
interface Refusal {
  readonly status: 'cancelled' | 'failed' | 'denied';
  readonly outcome: AuditRecord['outcome'];
  readonly errorCode: string;
  readonly forUser: string;
  readonly forModel: string;
}

/** The checks before any decision, in order; the validated input when all pass. */
function checkCall(deps: AgentDeps, toolUse: Anthropic.Messages.ToolUseBlock, tool: ToolDefinition | undefined, inputBytes: number, signal: AbortSignal): Refusal | { readonly tool: ToolDefinition; readonly input: Record<string, unknown> } {
  if (signal.aborted) return { status: 'cancelled', outcome: 'cancelled', errorCode: 'stopped', forUser: 'Stopped before it ran.', forModel: 'The user pressed Stop before this call ran.' };
  if (!tool) {
    return { status: 'failed', outcome: 'failure', errorCode: 'unknown_tool', forUser: 'No such tool in your connected accounts.', forModel: `There is no tool named "${toolUse.name}" in the user's connected accounts. Use ${searchToolName} to find the right one.` };
  }
  if (deps.readOnly && tool.risk !== 'read') {
    return { status: 'denied', outcome: 'cancelled', errorCode: 'read_only', forUser: 'Read-only mode is on.', forModel: `${tool.name} changes data, and OnBehalf is in read-only mode (onbehalf.readOnly). Tell the user instead of retrying.` };
  }
  if (inputBytes > maxToolInputBytes) {
    const [size, limit] = [formatBytes(inputBytes), formatBytes(maxToolInputBytes)];
    return {
      status: 'failed',
      outcome: 'failure',
      errorCode: 'input_too_large',
      forUser: `This input is ${size}, too large to show for approval (the limit is ${limit}), so it did not run.`,
      forModel: `The input for ${tool.name} is ${size}, too large for the user to review (OnBehalf's limit is ${limit}), so it did not run. Split the work into smaller calls with shorter fields.`,
    };
  }
  const checked = checkToolInput(tool.name, tool.inputSchema, toolUse.input);
  if (checked.ok) return { tool, input: checked.input };
  const forModel = checked.code === 'unchecked_schema' ? `${checked.problem} Tell the user; retrying will not help.` : `${checked.problem} Fix the input and call it again.`;
  return { status: 'failed', outcome: 'failure', errorCode: checked.code, forUser: checked.problem, forModel };
}

async function runToolUse(deps: AgentDeps, report: ToolCallReporter, toolUse: Anthropic.Messages.ToolUseBlock, signal: AbortSignal, conversation: Conversation): Promise<ToolCallRun> {
  const now = deps.now ?? Date.now;
  const inputText = safeStringify(toolUse.input);
  if (toolUse.name === searchToolName) return runSearch(conversation, deps, toolUse, inputText);

  const listed = deps.catalog.get(toolUse.name);
  // The card carries the whole input, pretty-printed from the very object that runs (input
  // validation neither coerces nor adds defaults), so what the user sees and copies is what
  // runs. Only an input that will be refused unseen is shown cut.
  const inputBytes = Buffer.byteLength(inputText, 'utf8');
  const cut = inputBytes > maxToolInputBytes;
  const subject: ToolCallSubject = { toolUseId: toolUse.id, toolName: toolUse.name, connection: listed?.connection ?? 'unknown', risk: listed?.risk ?? 'write', inputText: cut ? boundToolResult(inputText, 16 * 1024).text : inputText };
  const fail = (fields: Omit<ToolCallOutcome, keyof ToolCallSubject | 'endedAt'> & { endedAt?: number }, forModel: string): ToolCallRun => ({ outcome: { ...subject, ...fields, endedAt: fields.endedAt ?? now() }, forModel: errorResult(toolUse.id, forModel) });
  // Whose call this is, for the audit of calls refused before they run. Signed out, nobody's
  // log can take the record; the refusal is shown on the card and said to the model.
  const signedIn = await deps.currentIdentifier().then(
    (identifier) => ({ ok: true as const, identifier }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const checked = checkCall(deps, toolUse, listed, inputBytes, signal);
  if ('errorCode' in checked) {
    const at = now();
    const audit = signedIn.ok ? { identifier: signedIn.identifier, decision: 'denied' as const, outcome: checked.outcome, errorCode: checked.errorCode, input: toolUse.input } : undefined;
    return fail({ status: checked.status, ...(audit ? { audit } : {}), error: { message: checked.forUser }, startedAt: at, endedAt: at, executed: false }, checked.forModel);
  }
  if (!signedIn.ok) {
    const error = signedIn.error;
    return fail({ status: 'failed', error: { message: messageOf(error) }, startedAt: now(), executed: false }, NotSignedInError.is(error) ? 'The user is signed out, so no tool can run. Ask them to sign in.' : messageOf(error));
  }
  const { identifier } = signedIn;
  const { tool, input } = checked;

  // The card asks for approval only if the policy really asks; rules and "always" run at once.
  report.progress(subject, { stage: 'running' });
  const startedAt = now();
  const audited = (decision: DecisionSource, outcome: AuditRecord['outcome'], extra: { errorCode?: string; executionId?: string; settled?: Promise<LateSettlement> } = {}) => ({ audit: { identifier, decision, outcome, input, ...extra }, startedAt });

  let decision: PolicyDecision;
  try {
    const call = { toolUseId: toolUse.id, toolName: tool.name, connection: tool.connection, risk: tool.risk, input };
    decision = await deps.policy.decide(identifier, call, signal, (canAlwaysAllow) => report.progress(subject, { stage: 'awaitingApproval', canAlwaysAllow }));
  } catch (error) {
    decision = { approved: false, source: 'denied', reason: signal.aborted ? 'Stopped.' : messageOf(error) };
  }
  if (!decision.approved) {
    return fail(
      { status: signal.aborted ? 'cancelled' : 'denied', ...audited('denied', 'cancelled', { errorCode: signal.aborted ? 'stopped' : 'declined' }), error: { message: decision.reason ?? 'Declined.' }, executed: false },
      signal.aborted ? 'The user pressed Stop before this call ran.' : `The user declined to run ${tool.name}. ${decision.reason ?? ''} Do not run it again unless the user asks; continue without it.`.trim(),
    );
  }

  // Re-derive the identifier after the approval wait: the user may have switched accounts meanwhile.
  let callIdentifier: string;
  try {
    callIdentifier = await deps.currentIdentifier();
  } catch (error) {
    return fail({ status: 'failed', ...audited(decision.source, 'failure', { errorCode: 'not_signed_in' }), error: { message: messageOf(error) }, executed: false }, 'The user signed out before this call ran, so it did not run.');
  }
  if (callIdentifier !== identifier) {
    const changed = 'The signed-in account changed before this call ran, so it did not run.';
    return fail({ status: 'failed', ...audited(decision.source, 'failure', { errorCode: 'identity_changed' }), error: { message: changed }, executed: false }, changed);
  }

  report.progress(subject, { stage: 'running' });
  const execution = deps.backend.execute({ identifier: callIdentifier, connection: tool.connection, toolName: tool.name, input, signal });
  try {
    const result = await abortable(execution, signal);
    // Compact JSON for the model (fewer tokens); the card shows it pretty.
    const forModel = boundToolResult(result.data, maxToolResultBytes, false);
    return {
      outcome: { ...subject, status: 'succeeded', ...audited(decision.source, 'success', { executionId: result.executionId }), endedAt: now(), executed: true, result },
      forModel: { type: 'tool_result', tool_use_id: toolUse.id, content: forModel.text },
    };
  } catch (error) {
    const failed = executionFailure(tool.connection, execution, error, signal);
    return fail({ status: failed.status, ...audited(decision.source, failed.outcome, failed.audit), error: failed.error, executed: true }, failed.forModel);
  }
}

/** What a call that went to its backend and did not succeed comes to. */
function executionFailure(connection: string, execution: Promise<ToolExecution>, error: unknown, signal: AbortSignal) {
  if (signal.aborted) {
    // A request already sent cannot be recalled: the audit waits for what really happened.
    const settled = execution.then(
      (late): LateSettlement => ({ outcome: 'success', errorCode: 'stopped_waiting', ...(late.executionId ? { executionId: late.executionId } : {}) }),
      (late: unknown): LateSettlement => (isAbort(late) ? { outcome: 'cancelled', errorCode: 'stopped' } : { outcome: 'failure', errorCode: errorCodeOf(late) }),
    );
    const service = connectionLabel(connection);
    return {
      status: 'cancelled' as const,
      outcome: 'cancelled' as const,
      audit: { settled },
      error: { message: `Stopped. The request had already gone to ${service}, so it may still complete there; the audit log records the outcome.` },
      forModel: `The user pressed Stop while this call was running; it may still complete in ${service}. Do not repeat it unless the user asks.`,
    };
  }
  const fix = ConnectionInactiveError.is(error) ? { kind: error.status === 'EXPIRED' || error.status === 'REVOKED' ? ('reauthorize' as const) : ('connect' as const), connection: error.connection } : undefined;
  const retryable = ServiceUnavailableError.is(error) || RateLimitedError.is(error);
  return {
    status: 'failed' as const,
    outcome: 'failure' as const,
    audit: { errorCode: errorCodeOf(error), ...(ToolFailedError.is(error) && error.executionId ? { executionId: error.executionId } : {}) },
    error: { message: messageOf(error), ...(fix ? { fix } : {}), ...(retryable ? { retryable } : {}) },
    forModel: fix ? `${messageOf(error)} The user can reconnect from the tool card; wait for them.` : messageOf(error),
  };
}

function runSearch(conversation: Conversation, deps: AgentDeps, toolUse: Anthropic.Messages.ToolUseBlock, inputText: string): ToolCallRun {
  const now = (deps.now ?? Date.now)();
  const input = (toolUse.input && typeof toolUse.input === 'object' ? toolUse.input : {}) as Record<string, unknown>;
  const query = typeof input.query === 'string' ? input.query : '';
  // search_tools reaches no account: it is shown, not audited.
  const base = { toolUseId: toolUse.id, toolName: searchToolName, connection: 'OnBehalf', risk: 'read' as const, inputText, startedAt: now, endedAt: now, executed: false };
  if (!query.trim()) {
    return { outcome: { ...base, status: 'failed', error: { message: 'A search needs a query.' } }, forModel: errorResult(toolUse.id, 'search_tools needs a non-empty "query".') };
  }
  const limit = typeof input.limit === 'number' ? input.limit : 8;
  const connection = typeof input.connection === 'string' && deps.catalog.connections().includes(input.connection) ? input.connection : undefined;
  const found = deps.catalog.search(query, { limit, ...(connection ? { connection } : {}), ...(deps.readOnly ? { allowedRisks: ['read'] as const } : {}) });
  // Most recently found tools stay loaded; the oldest fall out past the cap.
  const names = found.map((t) => t.name);
  conversation.loadedTools = [...conversation.loadedTools.filter((n) => !names.includes(n)), ...names].slice(-maxLoadedTools);
  const lines = found.map((t) => `- ${t.name} (${t.connection}, ${t.risk}): ${t.description.split('\n')[0]?.slice(0, 160) ?? ''}`);
  const text = found.length > 0 ? `Loaded ${found.length} tools; call them directly:\n${lines.join('\n')}` : `No tools matched "${query}". Try other words.`;
  return { outcome: { ...base, status: 'succeeded', result: { text } }, forModel: { type: 'tool_result', tool_use_id: toolUse.id, content: text } };
}

function errorCodeOf(error: unknown): string {
  return ToolFailedError.is(error) ? (error.code ?? 'tool_error') : OnBehalfError.is(error) ? error.kind : 'error';
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || /abort/i.test(error.message));
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
