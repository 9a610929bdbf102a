import Anthropic from '@anthropic-ai/sdk';
import { ApprovalPolicy, type UserAnswer } from '../../../src/agent/policy';
import { newConversation, appendUserText, type Conversation } from '../../../src/agent/conversation';
import { ToolCatalog } from '../../../src/agent/toolCatalog';
import type { AgentDeps } from '../../../src/agent/agentLoop';
import { sealAuditEntry, type AuditRecord } from '../../../src/agent/audit';
import type { ChatItemView } from '../../../src/shared/protocol';
import { ScalekitAccounts } from '../../../src/scalekit/scalekitAccounts';
import { ScalekitToolBackend } from '../../../src/scalekit/scalekitBackend';
import type { Identifier } from '../../../src/core/identifier';
import { identifierOf } from '../../support/identifiers';
import { startAnthropicEmulator, type AnthropicEmulator } from '../../emulators/anthropic/server';
import { startScalekitEmulator, type ScalekitEmulator } from '../../emulators/scalekit/server';

// Real SDKs over real wire protocols: @anthropic-ai/sdk → SSE emulator,
// @scalekit-sdk/node → gRPC emulator. Only the user's clicks are stood in for.

export interface AgentWorld {
  anthropic: AnthropicEmulator;
  scalekit: ScalekitEmulator;
  accounts: ScalekitAccounts;
  catalog: ToolCatalog;
  identifier: Identifier;
  answers: UserAnswer[];
  asked: string[];
  audit: AuditRecord[];
  items: ChatItemView[];
  deltas: string[];
  conversation: Conversation;
  deps(overrides?: Partial<AgentDeps>): AgentDeps;
  close(): Promise<void>;
}

let counter = 0;
/** The test identity's audit HMAC key. */
export const auditKey = Buffer.alloc(32, 7);

export async function startAgentWorld(identifier: Identifier = identifierOf('oidc', 'ada')): Promise<AgentWorld> {
  const anthropic = await startAnthropicEmulator();
  const scalekit = await startScalekitEmulator();
  scalekit.activateAccount(identifier, 'posthog');
  scalekit.activateAccount(identifier, 'asana');
  const accounts = new ScalekitAccounts(async () => ({ environmentUrl: scalekit.url, clientId: scalekit.clientId, clientSecret: scalekit.clientSecret }));
  const tools = [...(await accounts.listTools(identifier, 'posthog')), ...(await accounts.listTools(identifier, 'asana'))];
  const world: AgentWorld = {
    anthropic,
    scalekit,
    accounts,
    catalog: new ToolCatalog(tools),
    identifier,
    answers: [],
    asked: [],
    audit: [],
    items: [],
    deltas: [],
    conversation: newConversation('c1', Date.now()),
    deps(overrides = {}) {
      const client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: world.anthropic.url, maxRetries: 0 });
      return {
        anthropic: client,
        model: 'claude-sonnet-4-6',
        maxSteps: 8,
        systemPrompt: 'You are a test agent.',
        catalog: world.catalog,
        readOnly: false,
        currentIdentifier: async () => world.identifier,
        backend: new ScalekitToolBackend(accounts),
        policy: new ApprovalPolicy({
          ruleFor: () => undefined,
          isAlwaysAllowed: () => false,
          rememberAlwaysAllowed: async () => undefined,
          askUser: async (call) => {
            world.asked.push(call.toolName);
            return world.answers.shift() ?? 'deny';
          },
        }),
        audit: (entry) => world.audit.push(sealAuditEntry(entry, auditKey)),
        events: {
          onItem: (item) => world.items.push(item),
          onTextDelta: (_id, text) => world.deltas.push(text),
        },
        newId: () => `item-${++counter}`,
        ...overrides,
      };
    },
    async close() {
      await world.anthropic.close();
      await scalekit.close();
    },
  };
  return world;
}

export function ask(world: AgentWorld, text: string): void {
  appendUserText(world.conversation, text, `u-${++counter}`, Date.now());
}

export function lastCard(world: AgentWorld, toolName: string) {
  const item = [...world.conversation.items].reverse().find((i) => i.kind === 'tool' && i.card.toolName === toolName);
  if (!item || item.kind !== 'tool') throw new Error(`no card for ${toolName}`);
  return item.card;
}
