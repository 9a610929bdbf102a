import { emptyUsage } from '../../agent/pricing';
import { nextStepFor } from '../../core/nextStep';
import { connectionLabel } from '../../shared/labels';
import type { BlockerView, ChatStateView } from '../../shared/protocol';
import type { ConnectionsSnapshot } from '../connectionsService';
import type { EnterpriseSnapshot } from '../enterpriseService';
import { setupFacts } from '../setupFacts';
import type { IdentitySession } from './identitySession';

// The whole state the chat page shows, built from the identity session and the window's
// connection and setup facts.

export function isSandboxModel(model: string): boolean {
  return model.startsWith('onbehalf-sandbox');
}

export interface ChatStateInputs {
  readonly session: IdentitySession | undefined;
  readonly connections: ConnectionsSnapshot;
  readonly enterprise: EnterpriseSnapshot;
  readonly hasAnthropicKey: boolean;
  readonly model: string;
  readonly draft: string | undefined;
}

export function chatState({ session: live, connections, enterprise, hasAnthropicKey, model, draft }: ChatStateInputs): ChatStateView {
  const session = live?.isLoaded ? live : undefined;
  const conversation = session?.activeConversation;
  const identity = connections.identity;
  const activeId = session?.activeConversationId;
  return {
    identityLabel: identity && session && identity.identifier === session.identifier ? identity.label : null,
    modelLabel: model,
    sandboxModel: isSandboxModel(model),
    busy: live?.busy ?? false,
    blocker: blockerFor(connections, enterprise, hasAnthropicKey),
    conversations: (session?.conversations ?? [])
      .filter((c) => c.messages.length > 0 || c.id === activeId)
      .map((c) => ({ id: c.id, title: c.title, updatedAt: c.updatedAt })),
    activeConversationId: conversation?.id ?? null,
    // A copy: the view is handed the state after the current task (WebviewOutbox), and it must be this moment's.
    items: conversation ? [...conversation.items] : [],
    usage: conversation?.usage ?? emptyUsage,
    ...(draft ? { draft } : {}),
  };
}

function blockerFor(snapshot: ConnectionsSnapshot, enterprise: EnterpriseSnapshot, hasAnthropicKey: boolean): BlockerView | null {
  const step = nextStepFor(setupFacts(snapshot, enterprise, hasAnthropicKey));
  switch (step.kind) {
    case 'signIn':
      return { kind: 'signIn', message: 'Sign in so the agent works as you.' };
    case 'setAnthropicKey':
      return { kind: 'setAnthropicKey', message: 'Set your Anthropic API key to start chatting.' };
    case 'setScalekitSecret':
    case 'configureScalekit':
      return { kind: 'setScalekitSecret', message: 'Set up Scalekit so the agent can reach your accounts.' };
    case 'connect':
      return snapshot.connections.some((c) => c.status === 'ACTIVE')
        ? null
        : { kind: 'connect', connection: step.connection, message: `Connect ${connectionLabel(step.connection)} so the agent can work there as you.` };
    case 'none':
      return null;
  }
}
