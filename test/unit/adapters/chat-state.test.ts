import * as assert from 'node:assert/strict';
import { newConversation } from '../../../src/agent/conversation';
import { identifierFor } from '../../../src/core/identifier';
import type { IdentitySession } from '../../../src/vscode/chat/identitySession';
import { chatState } from '../../../src/vscode/chat/chatState';

// The state message is handed to the webview after the current task (WebviewOutbox), so it
// must say what was true when it was posted, not what the conversation holds by then.

describe('chat state', () => {
  it("carries the conversation's items as they were when it was built, not items added before the view receives it", () => {
    const identifier = identifierFor('oidc', 'ada', 'https://idp.test');
    const conversation = newConversation('c1', 0);
    conversation.messages.push({ role: 'user', content: 'hi' });
    conversation.items.push({ kind: 'user', id: 'u1', text: 'hi' });
    // Only what chatState reads of a session: a loaded one showing this conversation.
    const session = {
      identifier,
      isLoaded: true,
      busy: true,
      conversations: [conversation],
      activeConversation: conversation,
      activeConversationId: conversation.id,
    } as unknown as IdentitySession;
    const state = chatState({
      session,
      connections: { identity: { provider: 'oidc', accountId: 'ada', identifier, label: 'Ada' }, loading: false, connections: [] },
      enterprise: { status: undefined, tools: [], identifier: undefined },
      hasAnthropicKey: true,
      model: 'claude-test',
      draft: undefined,
    });
    conversation.items.push({ kind: 'assistant', id: 'a1', markdown: 'Hello', streaming: true });
    assert.deepEqual(
      state.items.map((item) => item.id),
      ['u1'],
    );
  });
});
