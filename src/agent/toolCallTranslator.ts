import type { ChatItemView, ToolCardView } from '../shared/protocol';
import type { AuditEntry } from './audit';
import { boundToolResult } from './boundedResult';
import type { Conversation } from './conversation';
import { extractTimeSeries } from './timeSeries';
import type { ToolCallOutcome, ToolCallProgress, ToolCallSubject } from './toolCallOutcome';

// The one place where tool-call progress and outcomes become UI cards and audit records
// (as cline's message-translator turns agent events into UI messages): the agent loop
// decides and runs, this module shows and records.

export interface ToolCallSink {
  readonly onItem: (item: ChatItemView) => void;
  /** Receives each audited call with its raw input; the sink writes only the input's HMAC. */
  readonly audit: (entry: AuditEntry) => void;
  readonly now: () => number;
}

export interface ToolCallReporter {
  progress(subject: ToolCallSubject, progress: ToolCallProgress): void;
  finished(outcome: ToolCallOutcome): void;
}

export function toolCallReporter(conversation: Conversation, sink: ToolCallSink): ToolCallReporter {
  return {
    progress(subject, progress) {
      const card =
        progress.stage === 'awaitingApproval'
          ? { ...cardBase(subject), status: 'awaitingApproval' as const, canAlwaysAllow: progress.canAlwaysAllow }
          : { ...cardBase(subject), status: 'running' as const };
      showCard(conversation, sink, card);
    },
    finished(outcome) {
      recordAudit(outcome, sink);
      showCard(conversation, sink, toolCard(outcome));
    },
  };
}

/** The card of a finished call. */
export function toolCard(outcome: ToolCallOutcome): ToolCardView {
  const card: ToolCardView = { ...cardBase(outcome), status: outcome.status };
  // The card shows how long the call ran; the approval wait, if any, is shown apart.
  const durationMs = {
    ...(outcome.executed ? { durationMs: executionMs(outcome, outcome.endedAt) } : {}),
    ...(outcome.approvalWaitMs !== undefined ? { approvalWaitMs: outcome.approvalWaitMs } : {}),
  };
  const error = outcome.error;
  if (error) return { ...card, ...durationMs, error: error.message, ...(error.fix ? { fix: error.fix } : {}), ...(error.retryable ? { retryable: true } : {}) };
  const result = outcome.result;
  if (!result) return { ...card, ...durationMs };
  if ('text' in result) return { ...card, ...durationMs, output: result.text, outputBytes: Buffer.byteLength(result.text) };
  // Pretty JSON for the card (the model gets compact JSON), and a chart when there is a series.
  const bounded = boundToolResult(result.data);
  const series = extractTimeSeries(result.data);
  return {
    ...card,
    ...durationMs,
    output: bounded.text,
    outputBytes: bounded.bytes,
    outputTruncated: bounded.truncated,
    ...(series.length > 0 ? { series } : {}),
  };
}

/** How long the call ran until `end`: from the request to the backend, or, for a call that never went there, the time not spent waiting for approval. */
function executionMs(outcome: ToolCallOutcome, end: number): number {
  const from = outcome.executionStartedAt ?? outcome.startedAt + (outcome.approvalWaitMs ?? 0);
  return Math.max(0, end - from);
}

function cardBase(subject: ToolCallSubject): Pick<ToolCardView, 'toolUseId' | 'toolName' | 'connection' | 'risk' | 'input'> {
  return { toolUseId: subject.toolUseId, toolName: subject.toolName, connection: subject.connection, risk: subject.risk, input: subject.inputText };
}

function recordAudit(outcome: ToolCallOutcome, sink: ToolCallSink): void {
  const audit = outcome.audit;
  if (!audit) return;
  const entry = (now: number, facts: { outcome: AuditEntry['outcome']; errorCode?: string | undefined; executionId?: string | undefined }): AuditEntry => ({
    time: new Date(now).toISOString(),
    identifier: audit.identifier,
    connection: outcome.connection,
    tool: outcome.toolName,
    risk: outcome.risk,
    decision: audit.decision,
    outcome: facts.outcome,
    durationMs: executionMs(outcome, now),
    ...(outcome.approvalWaitMs !== undefined ? { approvalWaitMs: outcome.approvalWaitMs } : {}),
    input: audit.input,
    ...(facts.errorCode !== undefined ? { errorCode: facts.errorCode } : {}),
    ...(facts.executionId !== undefined ? { executionId: facts.executionId } : {}),
  });
  // A request already sent cannot be recalled: the record waits for what really happened.
  if (audit.settled) void audit.settled.then((late) => sink.audit(entry(sink.now(), late)));
  else sink.audit(entry(outcome.endedAt, audit));
}

function showCard(conversation: Conversation, sink: ToolCallSink, card: ToolCardView): void {
  const item: ChatItemView = { kind: 'tool', id: card.toolUseId, card };
  const index = conversation.items.findIndex((i) => i.kind === 'tool' && i.id === card.toolUseId);
  if (index >= 0) conversation.items[index] = item;
  else conversation.items.push(item);
  sink.onItem(item);
}
