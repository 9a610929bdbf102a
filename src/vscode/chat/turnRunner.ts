import { randomUUID } from 'node:crypto';
import { anthropicClient } from '../../agent/anthropicKeyCheck';
import { runAgentTurn, type AgentDeps, type RequestMetrics } from '../../agent/agentLoop';
import type { Conversation } from '../../agent/conversation';
import { messageOf } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { SecretStore } from '../secretStore';
import { settings } from '../settings';
import type { IdentitySession } from './identitySession';
import { systemPrompt } from './systemPrompt';

// Drives one agent turn for an identity session. The only caller of runAgentTurn; what the
// loop is given (model, tools, policy, the call-time identity check, audit) is assembled in
// turnDeps() alone.

export class TurnRunner {
  private readonly requestLog: RequestMetrics[] = [];

  constructor(
    private readonly secrets: SecretStore,
    private readonly log: Logger,
  ) {}

  /** Metrics of every model request this window made; read by tests and the bench. */
  get requests(): readonly RequestMetrics[] {
    return this.requestLog;
  }

  async run(session: IdentitySession, conversation: Conversation): Promise<void> {
    const apiKey = await this.secrets.get('anthropicApiKey');
    const turn = apiKey ? session.beginTurn(conversation) : undefined;
    if (!apiKey || !turn) {
      session.changed();
      return;
    }
    session.post({ type: 'busy', busy: true });
    try {
      const outcome = await runAgentTurn(conversation, this.turnDeps(session, conversation, apiKey), turn.signal);
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

  private turnDeps(session: IdentitySession, conversation: Conversation, apiKey: string): AgentDeps {
    const catalog = session.catalog();
    return {
      anthropic: anthropicClient(apiKey, settings.anthropicBaseUrl(), { maxRetries: 0 }), // The loop retries, visibly.
      model: settings.model(),
      maxSteps: settings.maxSteps(),
      systemPrompt: systemPrompt(session.label, catalog),
      catalog,
      readOnly: settings.readOnly(),
      currentIdentifier: () => session.currentIdentifier(),
      executeTool: (call) => session.executeTool(call),
      policy: session.policy,
      audit: (entry) => session.audit(entry),
      events: {
        onItem: (item) => session.postFor(conversation, { type: 'item', item }),
        onTextDelta: (itemId, text) => session.postFor(conversation, { type: 'textDelta', itemId, text }),
        onRequest: (metrics) => this.requestLog.push(metrics),
        onChange: () => session.scheduleSave(conversation),
      },
      newId: () => randomUUID(),
    };
  }
}
