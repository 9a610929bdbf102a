import type Anthropic from '@anthropic-ai/sdk';
import { anthropicSdk } from '../core/sdkLoader';
import { keptPerMessage } from './conversation';

// One model request as a raw stream of Messages API events, and the reply built from them.
// The SDK's messages.stream() wraps the same request in a MessageStream that keeps an event
// emitter, a promise per event and a partial JSON parse of a tool's input at every delta;
// that costs the extension host about 0.15 ms per request, between a tool's answer and the
// next request. Here the SDK still sends the request (its headers, auth, errors, abort) and
// parses the SSE; the reply is put together as MessageStream does
// (@anthropic-ai/sdk lib/MessageStream.mjs, #accumulateMessage), a tool's input parsed once.

export type ModelEvent = Anthropic.Messages.RawMessageStreamEvent;

/** Sends one streaming Messages request; its events, in order. Rejects as messages.create() would. */
export function requestReplyEvents(
  anthropic: Anthropic,
  params: Anthropic.Messages.MessageStreamParams,
  signal: AbortSignal,
): Promise<AsyncIterable<ModelEvent>> {
  // What messages.create({ ...params, stream: true }) sends, without its per-call helper headers.
  return anthropic.post<AsyncIterable<ModelEvent>>('/v1/messages', {
    body: requestBody(params),
    headers: { 'content-type': 'application/json' },
    stream: true,
    signal,
  });
}

/**
 * Each history message as JSON, kept with the message: the history is the bulk of every
 * request (tens of KB) and all of it but the newest messages went out before. The copies
 * withHistoryBreakpoint marks are new objects, serialised anew.
 */
const messageJson = keptPerMessage((message) => JSON.stringify(message));

/** The request's JSON, the same text JSON.stringify({ ...params, stream: true }) gives but for the order of keys. */
export function requestBody(params: Anthropic.Messages.MessageStreamParams): string {
  const { messages, ...rest } = params;
  const parts = messages.map(messageJson);
  return `${JSON.stringify({ ...rest, stream: true }).slice(0, -1)},"messages":[${parts.join(',')}]}`;
}

type Block = Anthropic.Messages.ContentBlock;

/** The reply as its events arrive; `message()` once the stream has ended. */
export class ModelReply {
  private snapshot: Anthropic.Messages.Message | undefined;
  /** A tool_use's input as streamed so far, by block index; parsed when the block stops. */
  private readonly inputJson = new Map<number, string>();
  private stopped = false;

  add(event: ModelEvent): void {
    if (event.type === 'message_start') {
      if (this.snapshot) throw new (anthropicSdk().AnthropicError)(`Unexpected event order, got ${event.type} before receiving "message_stop"`);
      this.snapshot = { ...event.message, content: [...event.message.content], usage: { ...event.message.usage } };
      return;
    }
    const snapshot = this.snapshot;
    if (!snapshot || this.stopped) return;
    switch (event.type) {
      case 'message_stop':
        this.stopped = true;
        return;
      case 'message_delta': {
        snapshot.stop_reason = event.delta.stop_reason;
        snapshot.stop_sequence = event.delta.stop_sequence;
        snapshot.stop_details = event.delta.stop_details;
        if (event.delta.container != null) snapshot.container = event.delta.container;
        const usage = event.usage;
        snapshot.usage.output_tokens = usage.output_tokens;
        if (usage.input_tokens != null) snapshot.usage.input_tokens = usage.input_tokens;
        if (usage.cache_creation_input_tokens != null) snapshot.usage.cache_creation_input_tokens = usage.cache_creation_input_tokens;
        if (usage.cache_read_input_tokens != null) snapshot.usage.cache_read_input_tokens = usage.cache_read_input_tokens;
        if (usage.server_tool_use != null) snapshot.usage.server_tool_use = usage.server_tool_use;
        if (usage.output_tokens_details != null) snapshot.usage.output_tokens_details = usage.output_tokens_details;
        return;
      }
      case 'content_block_start':
        snapshot.content.push({ ...event.content_block });
        return;
      case 'content_block_delta': {
        const block = snapshot.content[event.index];
        const delta = event.delta;
        if (!block) return;
        if (delta.type === 'text_delta' && block.type === 'text') snapshot.content[event.index] = { ...block, text: (block.text || '') + delta.text };
        else if (delta.type === 'citations_delta' && block.type === 'text')
          snapshot.content[event.index] = { ...block, citations: [...(block.citations ?? []), delta.citation] };
        else if (delta.type === 'input_json_delta' && tracksInput(block))
          this.inputJson.set(event.index, (this.inputJson.get(event.index) ?? '') + delta.partial_json);
        else if (delta.type === 'thinking_delta' && block.type === 'thinking')
          snapshot.content[event.index] = { ...block, thinking: block.thinking + delta.thinking };
        else if (delta.type === 'signature_delta' && block.type === 'thinking') snapshot.content[event.index] = { ...block, signature: delta.signature };
        return;
      }
      case 'content_block_stop': {
        const block = snapshot.content[event.index];
        const json = this.inputJson.get(event.index);
        if (block && tracksInput(block) && json !== undefined) {
          this.inputJson.delete(event.index);
          snapshot.content[event.index] = { ...block, input: parseInput(json) };
        }
        return;
      }
    }
  }

  /** The whole reply; throws when the stream ended before the model finished it. */
  message(): Anthropic.Messages.Message {
    if (!this.snapshot || !this.stopped) throw new (anthropicSdk().AnthropicError)('stream ended without producing a Message with role=assistant');
    return this.snapshot;
  }
}

function tracksInput(block: Block): block is Anthropic.Messages.ToolUseBlock | Anthropic.Messages.ServerToolUseBlock {
  return block.type === 'tool_use' || block.type === 'server_tool_use';
}

/**
 * A finished block's input is whole JSON. One that is not (a reply cut at max_tokens, whose
 * tool_use never runs) stays empty, as an input that never arrived.
 */
function parseInput(json: string): unknown {
  if (json.trim() === '') return {};
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return {};
  }
}
