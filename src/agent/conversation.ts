import type Anthropic from '@anthropic-ai/sdk';
import { zodSdk, type ZodSdk } from '../core/sdkLoader';
import { clip } from '../shared/labels';
import type { ChatItemView, UsageView } from '../shared/protocol';
import { emptyUsage } from './pricing';

// A conversation keeps two transcripts: what the model saw (`messages`, in API form)
// and what the user saw (`items`). Both are saved together so a reload shows the same
// chat and the model continues from the same context.

export interface Conversation {
  readonly id: string;
  title: string;
  readonly createdAt: number;
  updatedAt: number;
  /** Messages are added, removed or replaced, never changed in place: see keptPerMessage. */
  messages: Anthropic.Messages.MessageParam[];
  items: ChatItemView[];
  usage: UsageView;
  /** Tool schemas a search loaded; they stay loaded for this conversation. */
  loadedTools: string[];
}

export function newConversation(id: string, now: number): Conversation {
  return { id, title: 'New chat', createdAt: now, updatedAt: now, messages: [], items: [], usage: emptyUsage, loadedTools: [] };
}

/** Adds the user's text; after tool results it joins the same user turn, keeping roles alternating. */
export function appendUserText(conversation: Conversation, text: string, itemId: string, now: number): void {
  const last = conversation.messages[conversation.messages.length - 1];
  if (last && last.role === 'user') {
    const content = typeof last.content === 'string' ? [{ type: 'text' as const, text: last.content }] : [...last.content];
    content.push({ type: 'text', text });
    conversation.messages[conversation.messages.length - 1] = { role: 'user', content };
  } else {
    conversation.messages.push({ role: 'user', content: [{ type: 'text', text }] });
  }
  conversation.items.push({ kind: 'user', id: itemId, text });
  if (conversation.title === 'New chat') conversation.title = titleFrom(text);
  conversation.updatedAt = now;
}

/**
 * Drops the replies to the user's last message (assistant text, tool calls and their
 * results) so the turn can run again from it. The user's message itself is kept.
 */
export function rewindToLastUserMessage(conversation: Conversation): boolean {
  const itemAt = findLastIndex(conversation.items, (item) => item.kind === 'user');
  const userItem = conversation.items[itemAt];
  if (!userItem || userItem.kind !== 'user') return false;
  const messageAt = findLastIndex(conversation.messages, (message) => message.role === 'user' && hasText(message, userItem.text));
  if (messageAt < 0) return false;
  conversation.messages = conversation.messages.slice(0, messageAt + 1);
  conversation.items = conversation.items.slice(0, itemAt + 1);
  return true;
}

/** Whether the replies to the user's last message include a tool call that failed for a passing reason. */
export function lastTurnHasRetryableFailure(conversation: Conversation): boolean {
  const itemAt = findLastIndex(conversation.items, (item) => item.kind === 'user');
  return conversation.items.slice(itemAt + 1).some((item) => item.kind === 'tool' && item.card.status === 'failed' && item.card.retryable === true);
}

function hasText(message: Anthropic.Messages.MessageParam, text: string): boolean {
  if (typeof message.content === 'string') return message.content === text;
  return message.content.some((block) => block.type === 'text' && block.text === text);
}

function findLastIndex<T>(list: readonly T[], test: (value: T) => boolean): number {
  for (let i = list.length - 1; i >= 0; i--) if (test(list[i] as T)) return i;
  return -1;
}

function titleFrom(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return clip(line, 60) || 'New chat';
}

/**
 * `compute(message)`, worked out once per message object. Sound because a message in a
 * conversation is added, removed or replaced, never changed in place: each request reuses
 * what the requests before it worked out (its JSON, the tools it references).
 */
export function keptPerMessage<T>(compute: (message: Anthropic.Messages.MessageParam) => T): (message: Anthropic.Messages.MessageParam) => T {
  const kept = new WeakMap<Anthropic.Messages.MessageParam, T>();
  return (message) => {
    if (kept.has(message)) return kept.get(message) as T;
    const value = compute(message);
    kept.set(message, value);
    return value;
  };
}

// Saved files are read back through a schema: a damaged file is reported, never trusted.
// Built on the first read, with zod/mini (src/core/sdkLoader.ts), not at activation.
function buildStoredConversationSchema(z: ZodSdk) {
  return z.object({
    id: z.string().check(z.minLength(1), z.maxLength(128)),
    title: z.string().check(z.maxLength(200)),
    createdAt: z.number(),
    updatedAt: z.number(),
    messages: z.array(z.object({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(z.record(z.string(), z.unknown()))]) })),
    items: z.array(z.looseObject({ kind: z.enum(['user', 'assistant', 'tool', 'error', 'notice']), id: z.string() })),
    usage: z.object({
      inputTokens: z.number(),
      outputTokens: z.number(),
      cacheReadTokens: z.number(),
      cacheWriteTokens: z.number(),
      estimatedCostUsd: z.number(),
    }),
    loadedTools: z.array(z.string()),
  });
}
let storedConversationSchema: ReturnType<typeof buildStoredConversationSchema> | undefined;

export function parseStoredConversation(raw: string): Conversation | undefined {
  storedConversationSchema ??= buildStoredConversationSchema(zodSdk());
  try {
    const parsed = storedConversationSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) return undefined;
    const conversation = parsed.data as unknown as Conversation;
    dropBlankText(conversation);
    return conversation;
  } catch {
    return undefined;
  }
}

/**
 * Conversations saved before whitespace-only replies were filtered hold text blocks the API
 * refuses ("text content blocks must contain non-whitespace text"); without this they stay stuck.
 */
function dropBlankText(conversation: Conversation): void {
  conversation.messages = conversation.messages
    .map((message): Anthropic.Messages.MessageParam => {
      if (typeof message.content === 'string') return message;
      const blocks: Anthropic.Messages.ContentBlockParam[] = message.content;
      return { ...message, content: blocks.filter((block) => block.type !== 'text' || block.text.trim().length > 0) } as Anthropic.Messages.MessageParam;
    })
    .filter((message) => typeof message.content === 'string' || message.content.length > 0);
}

/** After a crash or reload mid-turn, nothing can still be streaming or running. */
export function settleInterruptedItems(conversation: Conversation): void {
  const lastItem = conversation.items[conversation.items.length - 1];
  // A reply was on its way when the window went: streaming, a tool running or waiting, or nothing yet after the question.
  const interrupted =
    lastItem?.kind === 'user' ||
    conversation.items.some(
      (item) =>
        (item.kind === 'assistant' && item.streaming) || (item.kind === 'tool' && (item.card.status === 'running' || item.card.status === 'awaitingApproval')),
    );
  conversation.items = conversation.items.map((item) => {
    if (item.kind === 'assistant' && item.streaming) return { ...item, streaming: false };
    if (item.kind === 'tool' && (item.card.status === 'running' || item.card.status === 'awaitingApproval')) {
      return { ...item, card: { ...item.card, status: 'cancelled', error: 'Interrupted by a window reload.' } };
    }
    return item;
  });
  // A tool_use without its tool_result would make the next request invalid.
  const last = conversation.messages[conversation.messages.length - 1];
  if (last && last.role === 'assistant' && Array.isArray(last.content)) {
    const toolUses = last.content.filter((b): b is Anthropic.Messages.ToolUseBlockParam => b.type === 'tool_use');
    if (toolUses.length > 0) {
      conversation.messages.push({
        role: 'user',
        content: toolUses.map((t) => ({
          type: 'tool_result' as const,
          tool_use_id: t.id,
          is_error: true,
          content: 'Interrupted: the window reloaded before this call finished.',
        })),
      });
    }
  }
  if (interrupted) {
    conversation.items.push({
      kind: 'error',
      id: `interrupted-${conversation.items.length}`,
      message: 'The reply was interrupted by a window reload.',
      retryable: true,
      interrupted: true,
    });
  }
}
