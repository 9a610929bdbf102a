// Prompt caching as the Messages API performs it, so a cache figure measured against the
// emulator means what it would mean against the real API.
//
// The rules, from Anthropic's docs:
// - Prompt caching (platform.claude.com/docs/en/build-with-claude/prompt-caching): the prompt
//   is rendered tools → system → messages; `cache_control` on a block marks a breakpoint and
//   caches the whole prefix up to and including that block; at most 4 breakpoints per request
//   (a top-level `cache_control` is automatic caching: a breakpoint on the last cacheable block);
//   a hit is an exact prefix match, and the API looks for one at the breakpoint and at earlier
//   block boundaries up to 20 blocks back; a prefix shorter than the model's minimum cacheable
//   length is processed normally, with no error and nothing written; entries live 5 minutes
//   (or 1 hour with `ttl: "1h"`) and each hit refreshes them; cache writes cost 1.25× (5 min) or
//   2× (1 h) the base input price and reads 0.1×. Changing tool_choice or thinking keeps the
//   tools + system cache but not the messages after it; any change to tools or system changes
//   the prefix and so misses everything after it.
// - Tool use with prompt caching (…/agents-and-tools/tool-use/tool-use-with-prompt-caching):
//   "Deferred tools are not included in the system-prompt prefix. When the model discovers a
//   deferred tool through tool search, the definition is appended inline as a tool_reference
//   block in the conversation history. The prefix is untouched, so prompt caching is preserved."
//   So `defer_loading: true` tools cost nothing until referenced, and a `tool_reference` (in a
//   tool_search_tool_result or in a client tool_result) costs its tool's definition where it sits.
//
// Token counts are an approximation (the emulator has no tokenizer): each block costs
// ceil(UTF-8 bytes of its JSON, without cache_control, / 4). Request framing (model, role
// names, max_tokens) is not counted. The real API also adds its own tool-use system prompt;
// that is left out too, so absolute counts run a little low, and ratios between strategies hold.

import { createHash } from 'node:crypto';
import { blocksOf, type LooseBlock, type LooseMessage } from './conversation';
import type { RequestTool } from './tool-search';

/** Minimum cacheable prefix in tokens, by model id prefix (docs' table; first match wins). */
const MINIMUM_CACHEABLE: ReadonlyArray<readonly [RegExp, number]> = [
  [/^claude-(opus|fable|mythos)-5/, 512],
  [/^claude-opus-4-7/, 2048],
  [/^claude-(opus-4-6|opus-4-5|haiku-4-5)/, 4096],
  [/^claude-haiku-3/, 2048],
  // Sonnet 5.x, Sonnet 4.x, Opus 4.8 / 4.1 / 4 and anything newer the table does not list yet.
  [/^claude-haiku-5/, 4096],
  [/./, 1024],
];

export function minimumCacheableTokens(model: string): number {
  return MINIMUM_CACHEABLE.find(([pattern]) => pattern.test(model))?.[1] ?? 1024;
}

/** How far back from a breakpoint the API looks for an earlier cached prefix. */
export const LOOKBACK_BLOCKS = 20;
export const MAX_BREAKPOINTS = 4;
const TTL_MS = { '5m': 5 * 60_000, '1h': 60 * 60_000 } as const;
type Ttl = keyof typeof TTL_MS;

export interface CacheUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

interface RenderedBlock {
  /** Running hash of the prefix up to and including this block. */
  readonly prefixHash: string;
  /** Tokens of the prefix up to and including this block. */
  readonly prefixTokens: number;
  readonly breakpoint: Ttl | undefined;
}

export function estimateTokens(bytes: number): number {
  return Math.max(0, Math.ceil(bytes / 4));
}

function withoutCacheControl(block: object): Record<string, unknown> {
  const copy = { ...(block as Record<string, unknown>) };
  delete copy.cache_control;
  return copy;
}

function ttlOf(block: unknown): Ttl | undefined {
  const control = block && typeof block === 'object' ? (block as { cache_control?: unknown }).cache_control : undefined;
  if (!control || typeof control !== 'object') return undefined;
  return (control as { ttl?: unknown }).ttl === '1h' ? '1h' : '5m';
}

/** The definition a tool_reference expands to (a deferred tool's, as sent). */
function referencedDefinition(name: unknown, tools: readonly RequestTool[]): string {
  const tool = tools.find((t) => t.name === name);
  if (!tool) return '';
  const definition = withoutCacheControl(tool);
  delete definition.defer_loading;
  return JSON.stringify(definition);
}

/** A content block's own tokens; tool_reference blocks anywhere inside it cost their definitions. */
function blockTokens(block: LooseBlock, tools: readonly RequestTool[]): number {
  const json = JSON.stringify(withoutCacheControl(block));
  let bytes = Buffer.byteLength(json);
  const references: unknown[] = [];
  if (block.type === 'tool_result' && Array.isArray(block.content)) references.push(...(block.content as unknown[]));
  if (block.type === 'tool_search_tool_result' && block.content && typeof block.content === 'object') {
    const refs = (block.content as { tool_references?: unknown }).tool_references;
    if (Array.isArray(refs)) references.push(...(refs as unknown[]));
  }
  for (const ref of references) {
    const r = ref as LooseBlock | undefined;
    if (r?.type === 'tool_reference') bytes += Buffer.byteLength(referencedDefinition(r.tool_name, tools));
  }
  return estimateTokens(bytes);
}

export interface CacheableRequest {
  model?: unknown;
  tools?: unknown;
  system?: unknown;
  messages?: unknown;
  tool_choice?: unknown;
  thinking?: unknown;
  cache_control?: unknown;
}

/** The request rendered as blocks in prompt order, each with its running prefix hash and tokens. */
export function renderPrompt(body: CacheableRequest): { blocks: RenderedBlock[]; totalTokens: number; breakpoints: number } {
  const tools = (Array.isArray(body.tools) ? body.tools : []) as RequestTool[];
  const system: unknown[] = typeof body.system === 'string' ? [{ type: 'text', text: body.system }] : Array.isArray(body.system) ? body.system : [];
  const messages = (Array.isArray(body.messages) ? body.messages : []) as LooseMessage[];
  const raw: Array<{ json: string; tokens: number; breakpoint: Ttl | undefined; mix?: string }> = [];
  const model = typeof body.model === 'string' ? body.model : '';
  // A cache is per model; the first block carries the model into every hash.
  let mix: string | undefined = `model:${model}`;
  for (const tool of tools) {
    if (tool.defer_loading === true) continue; // not in the prefix until referenced
    const json = JSON.stringify(withoutCacheControl(tool));
    raw.push({ json, tokens: estimateTokens(Buffer.byteLength(json)), breakpoint: ttlOf(tool), ...(mix ? { mix } : {}) });
    mix = undefined;
  }
  for (const block of system) {
    const json = JSON.stringify(withoutCacheControl(block as object));
    raw.push({ json, tokens: estimateTokens(Buffer.byteLength(json)), breakpoint: ttlOf(block), ...(mix ? { mix } : {}) });
    mix = undefined;
  }
  // tool_choice and thinking change the messages' cache, not the tools + system one.
  mix = `${mix ?? ''}settings:${JSON.stringify({ tool_choice: body.tool_choice ?? null, thinking: body.thinking ?? null })}`;
  for (const [index, message] of messages.entries()) {
    for (const block of blocksOf(message)) {
      const json = `${String(message.role)}#${index}:${JSON.stringify(withoutCacheControl(block))}`;
      raw.push({ json, tokens: blockTokens(block, tools), breakpoint: ttlOf(block), mix });
      mix = undefined;
    }
  }
  // Automatic caching: a top-level cache_control puts a breakpoint on the last cacheable block.
  const automatic = ttlOf(body);
  const last = raw.at(-1);
  if (automatic && last && !last.breakpoint) last.breakpoint = automatic;

  const blocks: RenderedBlock[] = [];
  let hash = '';
  let tokens = 0;
  for (const block of raw) {
    hash = createHash('sha256')
      .update(hash)
      .update(block.mix ?? '')
      .update(block.json)
      .digest('base64url');
    tokens += block.tokens;
    blocks.push({ prefixHash: hash, prefixTokens: tokens, breakpoint: block.breakpoint });
  }
  return { blocks, totalTokens: tokens, breakpoints: raw.filter((b) => b.breakpoint).length };
}

/** The API's 400 for a request with too many breakpoints, or undefined. */
export function cacheControlProblem(body: CacheableRequest): string | undefined {
  const { breakpoints } = renderPrompt(body);
  return breakpoints > MAX_BREAKPOINTS ? `A maximum of ${MAX_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints}.` : undefined;
}

/** The cache of one emulator: entries per account (API key) and model, by prefix hash. */
export class PromptCache {
  private readonly entries = new Map<string, number>(); // key → expires at (ms)

  constructor(private readonly now: () => number = Date.now) {}

  /** Reads and writes the cache for one request and says what it cost, as the API's usage does. */
  apply(account: string, body: CacheableRequest): CacheUsage {
    const model = typeof body.model === 'string' ? body.model : '';
    const minimum = minimumCacheableTokens(model);
    const { blocks, totalTokens } = renderPrompt(body);
    const now = this.now();
    const keyOf = (block: RenderedBlock) => `${account}\u0000${block.prefixHash}`;
    const live = (block: RenderedBlock) => (this.entries.get(keyOf(block)) ?? 0) > now;

    // Read: the longest cached prefix at a breakpoint or up to 20 blocks before one.
    let hit = -1;
    blocks.forEach((block, index) => {
      if (!block.breakpoint) return;
      for (let back = index; back >= Math.max(0, index - LOOKBACK_BLOCKS + 1); back--) {
        const candidate = blocks[back]!;
        if (candidate.prefixTokens >= minimum && live(candidate)) {
          hit = Math.max(hit, back);
          break;
        }
      }
    });
    const readTokens = hit >= 0 ? blocks[hit]!.prefixTokens : 0;

    // Write: every breakpoint past the hit whose prefix is long enough; hits refresh their entry.
    let written5m = readTokens;
    let written1h = readTokens;
    blocks.forEach((block, index) => {
      if (!block.breakpoint || block.prefixTokens < minimum || index <= hit) return;
      this.entries.set(keyOf(block), now + TTL_MS[block.breakpoint]);
      if (block.breakpoint === '1h') written1h = Math.max(written1h, block.prefixTokens);
      else written5m = Math.max(written5m, block.prefixTokens);
    });
    // A hit refreshes its entry's lifetime ("refreshed for no additional cost each time the cached content is used").
    if (hit >= 0) this.entries.set(keyOf(blocks[hit]!), Math.max(this.entries.get(keyOf(blocks[hit]!)) ?? 0, now + TTL_MS['5m']));
    // 1-hour entries must come before 5-minute ones (docs), so the 1 h write ends first.
    const oneHour = Math.max(0, written1h - readTokens);
    const fiveMinutes = Math.max(0, written5m - Math.max(readTokens, written1h));
    const creation = oneHour + fiveMinutes;
    return {
      input_tokens: Math.max(0, totalTokens - readTokens - creation),
      cache_creation_input_tokens: creation,
      cache_read_input_tokens: readTokens,
      cache_creation: { ephemeral_5m_input_tokens: fiveMinutes, ephemeral_1h_input_tokens: oneHour },
    };
  }

  clear(): void {
    this.entries.clear();
  }
}
