import { randomUUID } from 'node:crypto';
import type Anthropic from '@anthropic-ai/sdk';
import { runAgentTurn, type AgentDeps } from '../../agent/agentLoop';
import { warmToolSchemas } from '../../agent/inputValidation';
import { appendUserText, lastTurnHasRetryableFailure, rewindToLastUserMessage, type Conversation } from '../../agent/conversation';
import { messageOf } from '../../core/errors';
import type { ToolCall, ToolExecution } from '../../core/toolBackend';
import type { Logger } from '../../core/logger';
import { connectionLabel } from '../../shared/labels';
import type { ConnectionsSnapshot } from '../connectionsService';
import type { ModelAccess } from '../modelAccess';
import { settings } from '../settings';
import type { IdentitySession } from './identitySession';
import { systemPrompt } from './systemPrompt';

// Starts and drives the agent's turns for an identity session: answering a message, a
// retry, and picking up after a reconnect. The only caller of runAgentTurn; what the loop
// is given (model, tools, policy, the call-time identity check, audit) is assembled in
// turnDeps() alone.

/** Test mode only: told when a call is handed to its tool backend and when the backend answers. */
export interface ToolBackendProbe {
  called(): void;
  answered(): void;
}

/** Set through the Test-mode API only (the host-overhead bench); production never sets it. */
export const toolBackendProbe: { current: ToolBackendProbe | undefined } = { current: undefined };

export class TurnRunner {
  constructor(
    private readonly model: ModelAccess,
    private readonly log: Logger,
  ) {}

  /** The user's message, into the shown conversation (or a new one), then a turn to answer it. */
  async send(session: IdentitySession, text: string): Promise<void> {
    const conversation = session.activeConversation ?? session.startNewConversation();
    appendUserText(conversation, text, randomUUID(), Date.now());
    session.changed();
    await session.save(conversation);
    await this.run(session, conversation);
  }

  /** Answers again after an error or a passing tool failure; the reason when there is nothing to retry. */
  async retry(session: IdentitySession): Promise<string | undefined> {
    const conversation = session.activeConversation;
    const last = conversation?.items[conversation.items.length - 1];
    if (conversation && last?.kind === 'error') {
      conversation.items.pop();
      // A reply cut off by a reload is answered afresh rather than continued from its fragments.
      if (last.interrupted === true) rewindToLastUserMessage(conversation);
    } else if (conversation && lastTurnHasRetryableFailure(conversation)) {
      // A tool failed for a passing reason (Scalekit unreachable, rate limited): answer the user's message again.
      rewindToLastUserMessage(conversation);
    } else {
      return 'There is nothing to retry.';
    }
    session.changed();
    await this.run(session, conversation);
    return undefined;
  }

  /** After the user reconnects from a tool card, let the agent pick up where it stopped. */
  async continueAfterReconnect(session: IdentitySession, connections: ConnectionsSnapshot): Promise<void> {
    // A snapshot still loading repeats the statuses from before the reconnect began (an
    // expired account still listed ACTIVE): only a loaded one says the account works again.
    if (session.busy || connections.loading) return;
    const conversation = session.activeConversation;
    const items = conversation?.items ?? [];
    const lastToolIndex = items.map((item) => item.kind).lastIndexOf('tool');
    const last = items[lastToolIndex];
    if (!conversation || !last || last.kind !== 'tool' || !last.card.fix || session.continued.has(last.id)) return;
    // Only when the user has not moved on since the failed call.
    if (items.slice(lastToolIndex + 1).some((item) => item.kind === 'user')) return;
    const connection = last.card.fix.connection;
    const state = connections.connections.find((c) => c.name === connection);
    if (state?.status !== 'ACTIVE') return;
    session.continued.add(last.id);
    appendUserText(conversation, `I have connected ${connectionLabel(connection)}. Please continue.`, randomUUID(), Date.now());
    session.changed();
    await this.run(session, conversation);
  }

  async run(session: IdentitySession, conversation: Conversation): Promise<void> {
    const anthropic = await this.model.client().catch((error: unknown) => {
      this.log.warn(`No model access for this turn: ${messageOf(error)}`);
      return undefined;
    });
    const turn = anthropic ? session.beginTurn(conversation) : undefined;
    if (!anthropic || !turn) {
      session.changed();
      return;
    }
    session.post({ type: 'busy', busy: true });
    try {
      const outcome = await runAgentTurn(conversation, this.turnDeps(session, conversation, anthropic), turn.signal);
      this.log.info(`Agent turn ended: ${outcome}.`);
    } catch (error) {
      this.log.error(`Agent turn failed: ${messageOf(error)}`);
      conversation.items.push({ kind: 'error', id: randomUUID(), message: messageOf(error), retryable: true });
    } finally {
      turn.finish();
      // The conversation is this session's person's own, so it is saved under them even if they just signed out.
      await session.save(conversation).catch((error: unknown) => this.log.error(`Could not save the conversation: ${messageOf(error)}`));
      session.changed();
    }
  }

  private turnDeps(session: IdentitySession, conversation: Conversation, anthropic: Anthropic): AgentDeps {
    const catalog = session.catalog();
    // The tools this conversation already loaded: their validators compile during the first request.
    void warmToolSchemas(
      conversation.loadedTools.flatMap((name) => {
        const tool = catalog.get(name);
        return tool ? [tool.inputSchema] : [];
      }),
    );
    return {
      anthropic,
      model: settings.model(),
      maxSteps: settings.maxSteps(),
      systemPrompt: systemPrompt(session.label, catalog),
      catalog,
      readOnly: settings.readOnly(),
      currentIdentifier: () => session.currentIdentifier(),
      backend: { execute: probed((call) => session.executeTool(call)) },
      policy: session.policy,
      audit: (entry) => session.audit(entry),
      events: {
        onItem: (item) => session.postFor(conversation, { type: 'item', item }),
        onTextDelta: (itemId, text) => session.postFor(conversation, { type: 'textDelta', itemId, text }),
        onChange: () => session.scheduleSave(conversation),
      },
      newId: () => randomUUID(),
    };
  }
}

/** The backend call, told to the Test-mode probe when one is set. */
function probed(execute: (call: ToolCall) => Promise<ToolExecution>): (call: ToolCall) => Promise<ToolExecution> {
  const probe = toolBackendProbe.current;
  if (!probe) return execute;
  return async (call) => {
    probe.called();
    try {
      return await execute(call);
    } finally {
      probe.answered();
    }
  };
}
