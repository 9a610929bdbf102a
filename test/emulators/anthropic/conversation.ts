// Helpers that read a Messages API request body the way the API does.
import type { RecordedRequest } from './types';
import { deferredTools, toolSearchVariantOf, type RequestTool } from './tool-search';

export interface LooseBlock {
  type?: unknown;
  [key: string]: unknown;
}

export interface LooseMessage {
  role?: unknown;
  content?: unknown;
}

type BodyLike = { messages?: unknown; tools?: unknown };
type RequestOrBody = RecordedRequest | BodyLike;

function bodyOf(r: RequestOrBody): BodyLike {
  return 'body' in r && r.body && typeof r.body === 'object' ? r.body : (r as BodyLike);
}

export function messagesOf(r: RequestOrBody): LooseMessage[] {
  const m = bodyOf(r).messages;
  return Array.isArray(m) ? (m as LooseMessage[]) : [];
}

export function toolsOf(r: RequestOrBody): RequestTool[] {
  const t = bodyOf(r).tools;
  return Array.isArray(t) ? (t as RequestTool[]).filter((x) => x && typeof x === 'object') : [];
}

/** Content as a block array (a string becomes one text block). */
export function blocksOf(message: LooseMessage | undefined): LooseBlock[] {
  if (!message) return [];
  if (typeof message.content === 'string') return [{ type: 'text', text: message.content }];
  return Array.isArray(message.content) ? (message.content as LooseBlock[]).filter((b) => b && typeof b === 'object') : [];
}

export function textOf(message: LooseMessage | undefined): string {
  return blocksOf(message)
    .filter((b) => b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text as string)
    .join('\n');
}

/** The most recent user message that carries text the user typed (not only tool results). */
export function lastUserText(r: RequestOrBody): string | undefined {
  const msgs = messagesOf(r);
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i];
    if (m?.role !== 'user') continue;
    const text = textOf(m).trim();
    if (text && !blocksOf(m).some((b) => b.type === 'tool_result')) return text;
  }
  return undefined;
}

/** Text of a tool_result block's `content` (string or text blocks). */
export function toolResultText(block: LooseBlock): string {
  const c = block.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) {
    return (c as LooseBlock[])
      .filter((b) => b && b.type === 'text' && typeof b.text === 'string')
      .map((b) => b.text as string)
      .join('\n');
  }
  return '';
}

export interface ToolResultMismatch {
  messageIndex: number;
  blockIndex: number;
  toolUseId: string;
  reason: 'no-preceding-assistant' | 'unknown-id';
}

/** Every tool_result whose tool_use_id is not a tool_use id in the immediately preceding assistant message. */
export function toolResultMismatches(r: RequestOrBody): ToolResultMismatch[] {
  const msgs = messagesOf(r);
  const out: ToolResultMismatch[] = [];
  msgs.forEach((m, i) => {
    if (m.role !== 'user') return;
    const prev = i > 0 ? msgs[i - 1] : undefined;
    const ids = new Set(
      prev?.role === 'assistant'
        ? blocksOf(prev)
            .filter((b) => b.type === 'tool_use' && typeof b.id === 'string')
            .map((b) => b.id as string)
        : [],
    );
    blocksOf(m).forEach((b, j) => {
      if (b.type !== 'tool_result') return;
      const id = typeof b.tool_use_id === 'string' ? b.tool_use_id : '';
      if (!ids.has(id)) {
        out.push({
          messageIndex: i,
          blockIndex: j,
          toolUseId: id,
          reason: prev?.role === 'assistant' ? 'unknown-id' : 'no-preceding-assistant',
        });
      }
    });
  });
  return out;
}

/** True when every tool_result.tool_use_id matches a tool_use id in the preceding assistant message. */
export function toolResultIdsMatch(r: RequestOrBody): boolean {
  return toolResultMismatches(r).length === 0;
}

/** tool_use ids of assistant messages that the next message does not answer with a tool_result. */
export function unansweredToolUses(r: RequestOrBody): Array<{ messageIndex: number; ids: string[] }> {
  const msgs = messagesOf(r);
  const out: Array<{ messageIndex: number; ids: string[] }> = [];
  msgs.forEach((m, i) => {
    if (m.role !== 'assistant') return;
    const ids = blocksOf(m)
      .filter((b) => b.type === 'tool_use' && typeof b.id === 'string')
      .map((b) => b.id as string);
    if (ids.length === 0) return;
    const next = msgs[i + 1];
    const answered = new Set(
      next?.role === 'user'
        ? blocksOf(next)
            .filter((b) => b.type === 'tool_result')
            .map((b) => b.tool_use_id)
        : [],
    );
    const missing = ids.filter((id) => !answered.has(id));
    if (missing.length) out.push({ messageIndex: i, ids: missing });
  });
  return out;
}

/** Tool names referenced by tool_reference blocks anywhere in the conversation (server tool-search results and client tool_results). */
export function referencedToolNames(r: RequestOrBody): string[] {
  const names = new Set<string>();
  const visitRefs = (refs: unknown): void => {
    if (!Array.isArray(refs)) return;
    for (const ref of refs as LooseBlock[]) {
      if (ref && ref.type === 'tool_reference' && typeof ref.tool_name === 'string') names.add(ref.tool_name);
    }
  };
  for (const m of messagesOf(r)) {
    for (const b of blocksOf(m)) {
      if (b.type === 'tool_search_tool_result' && b.content && typeof b.content === 'object') {
        visitRefs((b.content as { tool_references?: unknown }).tool_references);
      }
      if (b.type === 'tool_result' && Array.isArray(b.content)) visitRefs(b.content);
    }
  }
  return [...names];
}

export interface ToolInventory {
  toolNames: string[];
  deferredToolNames: string[];
  loadedToolNames: string[];
  toolsBytes: number;
  loadedToolsBytes: number;
  toolSearch: ReturnType<typeof toolSearchVariantOf>;
}

export function toolInventory(r: RequestOrBody): ToolInventory {
  const tools = toolsOf(r);
  const rawTools = bodyOf(r).tools;
  const named = tools.filter((t) => typeof t.name === 'string');
  const deferred = new Set(deferredTools(tools).map((t) => t.name as string));
  const referenced = new Set(referencedToolNames(r));
  const loaded = named.filter((t) => !deferred.has(t.name as string) || referenced.has(t.name as string));
  return {
    toolNames: named.map((t) => t.name as string),
    deferredToolNames: [...deferred],
    loadedToolNames: loaded.map((t) => t.name as string),
    toolsBytes: rawTools === undefined ? 0 : Buffer.byteLength(JSON.stringify(rawTools)),
    loadedToolsBytes: loaded.length ? Buffer.byteLength(JSON.stringify(loaded)) : 0,
    toolSearch: toolSearchVariantOf(tools),
  };
}

/**
 * The request checks the real API makes that matter to an agent loop. Returns
 * the API's error message, or undefined when the request is acceptable.
 */
export function validateMessagesRequest(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'body: Input should be an object';
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || !b.model) return 'model: Field required';
  if (typeof b.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(b.messages)) return 'messages: Field required';
  if (b.messages.length === 0) return 'messages: at least one message is required';
  for (const [i, m] of (b.messages as LooseMessage[]).entries()) {
    if (!m || (m.role !== 'user' && m.role !== 'assistant' && m.role !== 'system')) {
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    }
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) return `messages.${i}.content: Field required`;
  }
  // The real API refuses an empty or whitespace-only text block anywhere in the transcript,
  // including the model's own "\n\n" sent back (docs: Messages API errors; observed 400s).
  for (const [i, m] of (b.messages as LooseMessage[]).entries()) {
    for (const [j, block] of blocksOf(m).entries()) {
      if (block.type !== 'text' || typeof block.text !== 'string') continue;
      if (block.text.length === 0) return `messages.${i}.content.${j}.text: text content blocks must be non-empty`;
      if (block.text.trim().length === 0) return `messages.${i}.content.${j}.text: text content blocks must contain non-whitespace text`;
    }
  }
  if (b.tools !== undefined) {
    if (!Array.isArray(b.tools)) return 'tools: Input should be a valid list';
    const tools = b.tools as RequestTool[];
    const seen = new Set<string>();
    for (const [i, t] of tools.entries()) {
      if (!t || typeof t.name !== 'string' || !t.name) return `tools.${i}.name: Field required`;
      if (seen.has(t.name)) return 'tools: Tool names must be unique.';
      seen.add(t.name);
      const isServerTool = typeof t.type === 'string' && t.type !== 'custom';
      if (!isServerTool && (!t.input_schema || typeof t.input_schema !== 'object')) {
        return `tools.${i}.custom.input_schema: Field required`;
      }
      if (typeof t.type === 'string' && t.type.startsWith('tool_search_tool_') && t.defer_loading === true) {
        return `tools.${i}: the tool search tool itself cannot have defer_loading set`;
      }
    }
    if (tools.length > 0 && tools.every((t) => t.defer_loading === true)) {
      return 'tools: All tools have defer_loading set. At least one tool must be non-deferred.';
    }
    for (const name of referencedToolNames(body)) {
      if (!seen.has(name)) {
        return `Tool reference '${name}' not found in available tools.`;
      }
    }
  }
  const unanswered = unansweredToolUses(body)[0];
  if (unanswered) {
    return (
      `messages.${unanswered.messageIndex + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ` +
      `${unanswered.ids.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`
    );
  }
  const mismatch = toolResultMismatches(body)[0];
  if (mismatch) {
    return (
      `messages.${mismatch.messageIndex}.content.${mismatch.blockIndex}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ` +
      `${mismatch.toolUseId}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`
    );
  }
  return undefined;
}
