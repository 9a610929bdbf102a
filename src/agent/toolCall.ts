import type Anthropic from '@anthropic-ai/sdk';
import {
  ConnectionInactiveError,
  NotSignedInError,
  OnBehalfError,
  RateLimitedError,
  OutcomeUnknownError,
  ServiceUnavailableError,
  ToolFailedError,
  messageOf,
} from '../core/errors';
import type { Identifier } from '../core/identifier';
import type { ToolBackend, ToolDefinition, ToolExecution } from '../core/toolBackend';
import { connectionLabel } from '../shared/labels';
import type { AuditRecord } from './audit';
import { boundToolResult, formatBytes, maxToolResultBytes, safeStringify } from './boundedResult';
import type { Conversation } from './conversation';
import { checkToolInput, warmToolSchemas } from './inputValidation';
import type { ApprovalPolicy, DecisionSource, PolicyDecision } from './policy';
import type { LateSettlement, ToolCallOutcome, ToolCallSubject } from './toolCallOutcome';
import type { ToolCallReporter } from './toolCallTranslator';
import type { ScoredTool, ToolCatalog } from './toolCatalog';
import { defaultToolContext, maxLoadedToolsBefore, pickReferences, referencedTools, type ToolContextStrategy } from './toolContext';

// One tool call, from the model's tool_use to its outcome: the checks before any decision,
// the approval policy, the identifier derived again after the approval wait, the call to
// the tool backend as that identifier, and what Stop or a failure comes to. It returns one
// ToolCallOutcome (shown and audited by toolCallTranslator.ts) and the model's tool_result;
// along the way it only reports progress (running, awaiting approval).

export const searchToolName = 'search_tools';
/**
 * The largest tool input OnBehalf runs. The card shows the whole input (the user approves
 * exactly what runs, never a preview), so an input too large to show is refused instead.
 */
export const maxToolInputBytes = 100 * 1024;

export interface ToolCallDeps {
  readonly catalog: ToolCatalog;
  readonly readOnly: boolean;
  /** Derives the identifier from the current session at the moment of the call. */
  readonly currentIdentifier: () => Promise<Identifier>;
  /** Runs a call as the identifier it is given; which backend serves it is not the loop's concern. */
  readonly backend: Pick<ToolBackend, 'execute'>;
  readonly policy: ApprovalPolicy;
  readonly now?: () => number;
  /** How found tools reach the model (toolContext.ts); the bench compares them. Default 'references'. */
  readonly toolContext?: ToolContextStrategy;
}

function errorResult(toolUseId: string, text: string): Anthropic.Messages.ToolResultBlockParam {
  return { type: 'tool_result', tool_use_id: toolUseId, is_error: true, content: text };
}

/** One tool call's outcome (for the translator) and its tool_result (for the model). */
export interface ToolCallRun {
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
function checkCall(
  deps: ToolCallDeps,
  toolUse: Anthropic.Messages.ToolUseBlock,
  tool: ToolDefinition | undefined,
  inputBytes: number,
  signal: AbortSignal,
): Refusal | { readonly tool: ToolDefinition; readonly input: Record<string, unknown> } {
  if (signal.aborted)
    return {
      status: 'cancelled',
      outcome: 'cancelled',
      errorCode: 'stopped',
      forUser: 'Stopped before it ran.',
      forModel: 'The user pressed Stop before this call ran.',
    };
  if (!tool) {
    return {
      status: 'failed',
      outcome: 'failure',
      errorCode: 'unknown_tool',
      forUser: 'No such tool in your connected accounts.',
      forModel: `There is no tool named "${toolUse.name}" in the user's connected accounts. Use ${searchToolName} to find the right one.`,
    };
  }
  if (deps.readOnly && tool.risk !== 'read') {
    return {
      status: 'denied',
      outcome: 'cancelled',
      errorCode: 'read_only',
      forUser: 'Read-only mode is on.',
      forModel: `${tool.name} changes data, and OnBehalf is in read-only mode (onbehalf.readOnly). Tell the user instead of retrying.`,
    };
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
  const forModel =
    checked.code === 'unchecked_schema' ? `${checked.problem} Tell the user; retrying will not help.` : `${checked.problem} Fix the input and call it again.`;
  return { status: 'failed', outcome: 'failure', errorCode: checked.code, forUser: checked.problem, forModel };
}

export async function runToolUse(
  deps: ToolCallDeps,
  report: ToolCallReporter,
  toolUse: Anthropic.Messages.ToolUseBlock,
  signal: AbortSignal,
  conversation: Conversation,
): Promise<ToolCallRun> {
  const now = deps.now ?? Date.now;
  const inputText = safeStringify(toolUse.input);
  if (toolUse.name === searchToolName) return runSearch(conversation, deps, toolUse, inputText);

  const listed = deps.catalog.get(toolUse.name);
  // The card carries the whole input, pretty-printed from the very object that runs (input
  // validation neither coerces nor adds defaults), so what the user sees and copies is what
  // runs. Only an input that will be refused unseen is shown cut.
  const inputBytes = Buffer.byteLength(inputText, 'utf8');
  const cut = inputBytes > maxToolInputBytes;
  const subject: ToolCallSubject = {
    toolUseId: toolUse.id,
    toolName: toolUse.name,
    connection: listed?.connection ?? 'unknown',
    risk: listed?.risk ?? 'write',
    inputText: cut ? boundToolResult(inputText, 16 * 1024).text : inputText,
  };
  const fail = (fields: Omit<ToolCallOutcome, keyof ToolCallSubject | 'endedAt'> & { endedAt?: number }, forModel: string): ToolCallRun => ({
    outcome: { ...subject, ...fields, endedAt: fields.endedAt ?? now() },
    forModel: errorResult(toolUse.id, forModel),
  });
  // Whose call this is, for the audit of calls refused before they run. Signed out, nobody's
  // log can take the record; the refusal is shown on the card and said to the model.
  const signedIn = await deps.currentIdentifier().then(
    (identifier) => ({ ok: true as const, identifier }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const checked = checkCall(deps, toolUse, listed, inputBytes, signal);
  if ('errorCode' in checked) {
    const at = now();
    const audit = signedIn.ok
      ? { identifier: signedIn.identifier, decision: 'denied' as const, outcome: checked.outcome, errorCode: checked.errorCode, input: toolUse.input }
      : undefined;
    return fail(
      { status: checked.status, ...(audit ? { audit } : {}), error: { message: checked.forUser }, startedAt: at, endedAt: at, executed: false },
      checked.forModel,
    );
  }
  if (!signedIn.ok) {
    const error = signedIn.error;
    return fail(
      { status: 'failed', error: { message: messageOf(error) }, startedAt: now(), executed: false },
      NotSignedInError.is(error) ? 'The user is signed out, so no tool can run. Ask them to sign in.' : messageOf(error),
    );
  }
  const { identifier } = signedIn;
  const { tool, input } = checked;

  // The card asks for approval only if the policy really asks; rules and "always" run at once.
  report.progress(subject, { stage: 'running' });
  const startedAt = now();
  // The time the card waited for the user is kept apart from the time the call ran.
  let askedAt: number | undefined;
  let approvalWaitMs: number | undefined;
  let executionStartedAt: number | undefined;
  const audited = (
    decision: DecisionSource,
    outcome: AuditRecord['outcome'],
    extra: { errorCode?: string; executionId?: string; settled?: Promise<LateSettlement> } = {},
  ) => ({
    audit: { identifier, decision, outcome, input, ...extra },
    startedAt,
    ...(approvalWaitMs !== undefined ? { approvalWaitMs } : {}),
    ...(executionStartedAt !== undefined ? { executionStartedAt } : {}),
  });

  let decision: PolicyDecision;
  try {
    const call = { toolUseId: toolUse.id, toolName: tool.name, connection: tool.connection, risk: tool.risk, input };
    decision = await deps.policy.decide(identifier, call, signal, (canAlwaysAllow) => {
      askedAt = now();
      report.progress(subject, { stage: 'awaitingApproval', canAlwaysAllow });
    });
  } catch (error) {
    decision = { approved: false, source: 'denied', reason: signal.aborted ? 'Stopped.' : messageOf(error) };
  }
  if (askedAt !== undefined) approvalWaitMs = Math.max(0, now() - askedAt);
  if (!decision.approved) {
    return fail(
      {
        status: signal.aborted ? 'cancelled' : 'denied',
        ...audited('denied', 'cancelled', { errorCode: signal.aborted ? 'stopped' : 'declined' }),
        error: { message: decision.reason ?? 'Declined.' },
        executed: false,
      },
      signal.aborted
        ? 'The user pressed Stop before this call ran.'
        : `The user declined to run ${tool.name}. ${decision.reason ?? ''} Do not run it again unless the user asks; continue without it.`.trim(),
    );
  }

  // Re-derive the identifier after the approval wait: the user may have switched accounts meanwhile.
  let callIdentifier: Identifier;
  try {
    callIdentifier = await deps.currentIdentifier();
  } catch (error) {
    return fail(
      { status: 'failed', ...audited(decision.source, 'failure', { errorCode: 'not_signed_in' }), error: { message: messageOf(error) }, executed: false },
      'The user signed out before this call ran, so it did not run.',
    );
  }
  if (callIdentifier !== identifier) {
    const changed = 'The signed-in account changed before this call ran, so it did not run.';
    return fail(
      { status: 'failed', ...audited(decision.source, 'failure', { errorCode: 'identity_changed' }), error: { message: changed }, executed: false },
      changed,
    );
  }

  // Back to running after an approval card; a call that never asked already shows running.
  if (askedAt !== undefined) report.progress(subject, { stage: 'running' });
  executionStartedAt = now();
  const execution = deps.backend.execute({
    identifier: callIdentifier,
    connection: tool.connection,
    toolName: tool.name,
    input,
    signal,
    ...(decision.source !== 'denied' ? { decision: decision.source } : {}),
    ...(approvalWaitMs !== undefined ? { approvalWaitMs } : {}),
  });
  try {
    const result = await abortable(execution, signal);
    // Compact JSON for the model (fewer tokens); the card shows it pretty.
    const forModel = boundToolResult(result.data, maxToolResultBytes, false);
    return {
      outcome: {
        ...subject,
        status: 'succeeded',
        ...audited(decision.source, 'success', { executionId: result.executionId }),
        endedAt: now(),
        executed: true,
        result,
      },
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
      (late: unknown): LateSettlement =>
        isAbort(late) ? { outcome: 'cancelled', errorCode: 'stopped' } : { outcome: 'failure', errorCode: errorCodeOf(late) },
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
  const fix = ConnectionInactiveError.is(error)
    ? { kind: error.status === 'EXPIRED' || error.status === 'REVOKED' ? ('reauthorize' as const) : ('connect' as const), connection: error.connection }
    : undefined;
  const retryable = ServiceUnavailableError.is(error) || RateLimitedError.is(error);
  return {
    status: 'failed' as const,
    outcome: 'failure' as const,
    audit: { errorCode: errorCodeOf(error), ...(ToolFailedError.is(error) && error.executionId ? { executionId: error.executionId } : {}) },
    error: { message: messageOf(error), ...(fix ? { fix } : {}), ...(retryable ? { retryable } : {}) },
    forModel: fix
      ? `${messageOf(error)} The user can reconnect from the tool card; wait for them.`
      : OutcomeUnknownError.is(error)
        ? `${messageOf(error)} Do not call it again on your own: tell the user, and let them check first.`
        : messageOf(error),
  };
}

type SearchOutcomeBase = Pick<ToolCallOutcome, keyof ToolCallSubject | 'startedAt' | 'endedAt' | 'executed'>;

function runSearch(conversation: Conversation, deps: ToolCallDeps, toolUse: Anthropic.Messages.ToolUseBlock, inputText: string): ToolCallRun {
  const now = (deps.now ?? Date.now)();
  const input = (toolUse.input && typeof toolUse.input === 'object' ? toolUse.input : {}) as Record<string, unknown>;
  const query = typeof input.query === 'string' ? input.query : '';
  // search_tools reaches no account: it is shown, not audited.
  const base = {
    toolUseId: toolUse.id,
    toolName: searchToolName,
    connection: 'OnBehalf',
    risk: 'read' as const,
    inputText,
    startedAt: now,
    endedAt: now,
    executed: false,
  };
  if (!query.trim()) {
    return {
      outcome: { ...base, status: 'failed', error: { message: 'A search needs a query.' } },
      forModel: errorResult(toolUse.id, 'search_tools needs a non-empty "query".'),
    };
  }
  const limit = typeof input.limit === 'number' ? input.limit : 8;
  const connection = typeof input.connection === 'string' && deps.catalog.connections().includes(input.connection) ? input.connection : undefined;
  const scored = deps.catalog.searchScored(query, {
    limit,
    ...(connection ? { connection } : {}),
    ...(deps.readOnly ? { allowedRisks: ['read'] as const } : {}),
  });
  const strategy = deps.toolContext ?? defaultToolContext;
  if (strategy === 'references' || strategy === 'referencesAllDeferred' || strategy === 'serverSearch')
    return answerWithReferences(conversation, toolUse.id, base, query, scored);
  const found = scored.map((s) => s.tool);
  const names = found.map((t) => t.name);
  // Their validators compile while the model reads this result, not on their first call.
  void warmToolSchemas(found.map((t) => t.inputSchema));
  // appendOnly keeps every found tool; loadSchemas keeps the most recent ones, the oldest falling out past the cap.
  const kept = [...conversation.loadedTools.filter((n) => !names.includes(n)), ...names];
  conversation.loadedTools = strategy === 'appendOnly' ? kept : kept.slice(-maxLoadedToolsBefore);
  const lines = found.map((t) => `- ${t.name} (${t.connection}, ${t.risk}): ${t.description.split('\n')[0]?.slice(0, 160) ?? ''}`);
  const text = found.length > 0 ? `Loaded ${found.length} tools; call them directly:\n${lines.join('\n')}` : `No tools matched "${query}". Try other words.`;
  return { outcome: { ...base, status: 'succeeded', result: { text } }, forModel: { type: 'tool_result', tool_use_id: toolUse.id, content: text } };
}

/**
 * The search answered with tool_reference blocks: the API loads those deferred tools'
 * definitions where the result sits in the history, and `tools` and `system` stay unchanged,
 * so the cached prefix holds. Only references go in the result (the documented form of a
 * client-side tool search); a search that finds only tools already loaded says so in text.
 */
function answerWithReferences(
  conversation: Conversation,
  toolUseId: string,
  base: SearchOutcomeBase,
  query: string,
  scored: readonly ScoredTool[],
): ToolCallRun {
  const found = scored.map((s) => s.tool);
  const loaded = new Set([...referencedTools(conversation.messages), ...conversation.loadedTools]);
  const picked = pickReferences(scored, loaded);
  // Their validators compile while the model reads this result, not on their first call.
  void warmToolSchemas(picked.map((t) => t.inputSchema));
  const already = found.filter((t) => loaded.has(t.name)).map((t) => t.name);
  const shown = picked.length > 0 ? picked.map((t) => t.name) : already;
  const forUser =
    found.length === 0
      ? `No tools matched "${query}".`
      : `${picked.length > 0 ? 'Loaded' : 'Already loaded'} ${shown.length} tool${shown.length === 1 ? '' : 's'}: ${shown.join(', ')}.`;
  const content: Anthropic.Messages.ToolResultBlockParam['content'] =
    picked.length > 0
      ? picked.map((t) => ({ type: 'tool_reference' as const, tool_name: t.name }))
      : found.length > 0
        ? `These tools are already loaded; call them directly: ${already.join(', ')}.`
        : `No tools matched "${query}". Try other words, or a tool's exact name.`;
  return { outcome: { ...base, status: 'succeeded', result: { text: forUser } }, forModel: { type: 'tool_result', tool_use_id: toolUseId, content } };
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
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- forwards the backend's own rejection unchanged
        reject(error);
      },
    );
  });
}
