// Host state builders for the UI tests.
import type { ChatItemView, ChatStateView, HostMessage, ToolCardView, UsageView } from '../../src/shared/protocol';

export const zeroUsage: UsageView = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, estimatedCostUsd: 0 };

export function chatState(overrides: Partial<ChatStateView> = {}): ChatStateView {
  return {
    identityLabel: 'ada@example.com',
    modelLabel: 'claude-sonnet-4-5',
    sandboxModel: false,
    busy: false,
    blocker: null,
    conversations: [{ id: 'c1', title: 'Signups last week', updatedAt: 1_700_000_000_000 }],
    activeConversationId: 'c1',
    items: [],
    usage: zeroUsage,
    ...overrides,
  };
}

export function stateMsg(overrides: Partial<ChatStateView> = {}): HostMessage {
  return { type: 'state', state: chatState(overrides) };
}

export function toolCard(overrides: Partial<ToolCardView> = {}): ToolCardView {
  return {
    toolUseId: 'toolu_1',
    toolName: 'posthog_query',
    connection: 'posthog',
    risk: 'read',
    input: JSON.stringify({ kind: 'TrendsQuery', event: 'signed_up', interval: 'day', dateRange: '-7d' }, null, 2),
    status: 'succeeded',
    durationMs: 842,
    ...overrides,
  };
}

export type ToolItemView = Extract<ChatItemView, { kind: 'tool' }>;

export function toolItem(card: Partial<ToolCardView> = {}, id?: string): ToolItemView {
  const c = toolCard(card);
  return { kind: 'tool', id: id ?? `item-${c.toolUseId}`, card: c };
}

export const signupSeries = [
  {
    label: 'signed_up',
    points: [
      { x: '2024-05-01', y: 12 },
      { x: '2024-05-02', y: 18 },
      { x: '2024-05-03', y: 15 },
      { x: '2024-05-04', y: 9 },
      { x: '2024-05-05', y: 21 },
      { x: '2024-05-06', y: 26 },
      { x: '2024-05-07', y: 22 },
    ],
  },
];
