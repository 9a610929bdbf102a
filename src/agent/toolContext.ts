import type Anthropic from '@anthropic-ai/sdk';
import type { ToolDefinition } from '../core/toolBackend';
import { keptPerMessage, type Conversation } from './conversation';
import type { ScoredTool, ToolCatalog } from './toolCatalog';

// How the model gets the tools it needs, and what that costs in context and prompt cache.
// Five ways, measured side by side by `npm run bench tools` (test/bench/tool-context.ts):
//
// - 'references' (the product's): search_tools answers with `tool_reference` blocks; the API
//   expands each into its tool's definition inline, where the result sits in the history. The
//   referenced tools are sent with `defer_loading: true`, and deferred tools are not part of the
//   cached prefix, so `tools` + `system` + history stay one growing prefix that every request
//   reads back (Anthropic docs, "Tool use with prompt caching": "Deferred tools are not included
//   in the system-prompt prefix … The prefix is untouched, so prompt caching is preserved";
//   "Tool search tool", custom tool search: a client search returns tool_reference blocks).
//   Only tools a search referenced are sent, so a request stays small.
// - 'referencesAllDeferred': the same, with every catalog tool sent deferred on every request.
// - 'loadSchemas' (before): search_tools puts the found schemas into `tools`, at most 24 of them.
//   Every search changes `tools`, the start of the prompt, so it misses the whole cache.
// - 'appendOnly': as loadSchemas, but `tools` is only ever appended to; still a new prefix per search.
// - 'serverSearch': Anthropic's own tool search (tool_search_tool_bm25_20251119) over every tool
//   deferred; the search and the call can come in one reply.
export type ToolContextStrategy = 'references' | 'referencesAllDeferred' | 'loadSchemas' | 'appendOnly' | 'serverSearch';

export const defaultToolContext: ToolContextStrategy = 'references';

/** Before 'references': the most tools a conversation kept loaded in `tools`. */
export const maxLoadedToolsBefore = 24;

/**
 * The schemas one search loads through tool_reference blocks: the best match always, then the
 * matches that nearly tie with it (a score at least `closeMatch` of the best's: the search cannot
 * tell which one is meant) while their definitions together stay within `referenceBudgetBytes`.
 * A clear runner-up ("get definition" beside "list feature flags") loads nothing: every loaded
 * schema stays in the history, and so in context, for the rest of the chat.
 */
export const referenceBudgetBytes = 3 * 1024;
export const maxReferencesPerSearch = 3;
export const closeMatch = 0.9;

const ephemeral = { type: 'ephemeral' as const };

/** A catalog tool as the Messages API takes it. */
export function modelTool(tool: ToolDefinition): Anthropic.Messages.Tool {
  return { name: tool.name, description: tool.description.slice(0, 1024), input_schema: tool.inputSchema as Anthropic.Messages.Tool.InputSchema };
}

/** Bytes of a tool's definition as sent (and as a tool_reference expands it). */
export function definitionBytes(tool: ToolDefinition): number {
  return Buffer.byteLength(JSON.stringify(modelTool(tool)));
}

const serverSearchTool: Anthropic.Messages.ToolSearchToolBm25_20251119 = { type: 'tool_search_tool_bm25_20251119', name: 'tool_search_tool_bm25' };

/** A tool in a request: a client tool, or Anthropic's tool search. */
export type RequestTool = Anthropic.Messages.Tool | Anthropic.Messages.ToolSearchToolBm25_20251119;

export interface ToolsForRequest {
  readonly tools: RequestTool[];
  /** Whether the last message carries the cache breakpoint (the history is the cached prefix). */
  readonly cacheHistory: boolean;
}

/**
 * The `tools` of one request. Tools in `conversation.loadedTools` (chats saved before
 * 'references', whose searches answered in text) stay sent whole, so those chats go on working.
 */
export function toolsForRequest(
  strategy: ToolContextStrategy,
  catalog: ToolCatalog,
  conversation: Conversation,
  readOnly: boolean,
  searchTool: Anthropic.Messages.Tool,
): ToolsForRequest {
  const allowed = (tool: ToolDefinition | undefined): tool is ToolDefinition => tool !== undefined && (!readOnly || tool.risk === 'read');
  const loaded = conversation.loadedTools.map((name) => catalog.get(name)).filter(allowed);
  if (strategy === 'loadSchemas' || strategy === 'appendOnly') {
    const tools: Anthropic.Messages.Tool[] = [searchTool, ...loaded.map(modelTool)];
    if (strategy === 'loadSchemas') {
      // Cache the tools + system prefix (too short to be cached in practice: see the bench).
      tools[tools.length - 1] = { ...tools[tools.length - 1]!, cache_control: ephemeral };
      return { tools, cacheHistory: false };
    }
    return { tools, cacheHistory: true };
  }
  const sent = new Set(loaded.map((t) => t.name));
  const deferred = strategy === 'references' ? [] : catalog.deferredDefinitions(readOnly).filter((t) => !sent.has(t.name));
  for (const t of deferred) sent.add(t.name);
  // The API refuses a request whose history references a tool it does not send, so every
  // referenced tool is sent: a write in read-only mode too (the call is refused when made,
  // toolCall.ts), and a tool no longer connected as a stub that fails as unknown.
  for (const name of referencedTools(conversation.messages)) {
    if (sent.has(name)) continue;
    sent.add(name);
    deferred.push(catalog.deferredDefinition(name) ?? unavailableTool(name));
  }
  const first: RequestTool = strategy === 'serverSearch' ? serverSearchTool : searchTool;
  return { tools: [first, ...loaded.map(modelTool), ...deferred], cacheHistory: true };
}

/** A referenced tool that is no longer in the catalog (its connection went away). */
function unavailableTool(name: string): Anthropic.Messages.Tool {
  return { name, description: 'No longer available: its account is not connected.', input_schema: { type: 'object' }, defer_loading: true };
}

/**
 * The messages with a cache breakpoint on the last block, so each request writes the whole
 * history and the next one reads it back. A second breakpoint sits where the previous request
 * put its own (the end of the user message before the last reply), so the read hits even when
 * one reply added more blocks than the API's 20-block lookback (many tool calls at once).
 * The stored conversation is not changed.
 */
export function withHistoryBreakpoint(messages: readonly Anthropic.Messages.MessageParam[]): Anthropic.Messages.MessageParam[] {
  const copy = [...messages];
  const last = markLastBlock(copy, copy.length - 1);
  const before = (role: 'user' | 'assistant', end: number): number => {
    for (let i = end - 1; i >= 0; i--) if (copy[i]!.role === role) return i;
    return -1;
  };
  const previousUser = before('user', before('assistant', last));
  if (previousUser >= 0) markLastBlock(copy, previousUser);
  return copy;
}

/** Puts cache_control on the last block of the last message at or before `from` that can take one; its index. */
function markLastBlock(messages: Anthropic.Messages.MessageParam[], from: number): number {
  for (let m = from; m >= 0; m--) {
    const message = messages[m]!;
    const blocks: Anthropic.Messages.ContentBlockParam[] =
      typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : [...message.content];
    // Thinking blocks cannot carry cache_control; the breakpoint goes on the last block that can.
    for (let b = blocks.length - 1; b >= 0; b--) {
      const block = blocks[b]!;
      if (block.type === 'thinking' || block.type === 'redacted_thinking') continue;
      blocks[b] = { ...block, cache_control: ephemeral };
      messages[m] = { ...message, content: blocks } as Anthropic.Messages.MessageParam;
      return m;
    }
  }
  return -1;
}

/** The names each history message references, kept with the message: every request asks for the whole history's. */
const referencesOf = keptPerMessage(referencesIn);

/** Names a tool_reference loaded anywhere in the history (client tool_result or server search result). */
export function referencedTools(messages: readonly Anthropic.Messages.MessageParam[]): Set<string> {
  const names = new Set<string>();
  for (const message of messages) for (const name of referencesOf(message)) names.add(name);
  return names;
}

function referencesIn(message: Anthropic.Messages.MessageParam): string[] {
  const names: string[] = [];
  if (typeof message.content === 'string') return names;
  for (const block of message.content) {
    if (block.type === 'tool_result' && Array.isArray(block.content)) {
      for (const part of block.content) if (part.type === 'tool_reference') names.push(part.tool_name);
    } else if (block.type === 'tool_search_tool_result' && 'tool_references' in block.content) {
      for (const ref of block.content.tool_references) names.push(ref.tool_name);
    }
  }
  return names;
}

/**
 * Which found tools one search loads by reference: the best match always (every tool stays
 * reachable, even a large one), then close matches while the total stays within the budget.
 * When the best match is already loaded, nothing more is: the model has what it asked for.
 */
export function pickReferences(found: readonly ScoredTool[], alreadyLoaded: ReadonlySet<string>): ToolDefinition[] {
  const best = found[0]?.score ?? 0;
  if (found[0] && alreadyLoaded.has(found[0].tool.name)) return [];
  const picked: ToolDefinition[] = [];
  let bytes = 0;
  for (const [rank, { tool, score }] of found.entries()) {
    if (picked.length >= maxReferencesPerSearch) break;
    if (rank > 0 && score < best * closeMatch) break;
    if (alreadyLoaded.has(tool.name)) continue;
    const size = definitionBytes(tool);
    if (rank > 0 && bytes + size > referenceBudgetBytes) continue;
    picked.push(tool);
    bytes += size;
  }
  return picked;
}
