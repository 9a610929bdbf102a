import type { MessageCreateParams, StopReason, Usage } from '@anthropic-ai/sdk/resources/messages';
import type { ToolSearchVariant } from './tool-search';

/** A client tool call the scripted model makes. `id` defaults to a fresh `toolu_…` id. */
export interface ToolUseSpec {
  name: string;
  input?: unknown;
  id?: string;
  /** Call it even though the request did not offer it, as a misbehaving or prompt-injected model would. */
  unoffered?: boolean;
}

/**
 * A server-side tool search the scripted model performs. The emulator runs it
 * over the request's deferred tools and emits `server_tool_use` followed by
 * `tool_search_tool_result`. `variant` defaults to the tool-search tool the
 * request carries (the turn fails loudly when the request carries none).
 */
export interface ToolSearchSpec {
  query: string;
  variant?: ToolSearchVariant;
  maxResults?: number;
  id?: string;
}

/** Extended thinking, emitted with a signature the emulator checks when the block is sent back. */
export interface ThinkingSpec {
  thinking: string;
}

export type BlockSpec = { text: string } | { toolUse: ToolUseSpec } | { toolSearch: ToolSearchSpec } | ThinkingSpec;

export interface UsageSpec {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export interface TurnOptions {
  /** Defaults to `tool_use` when the reply holds a client tool_use block, else `end_turn`. */
  stopReason?: StopReason;
  /** Characters per text_delta / input_json_delta. Default 12 (tool JSON is always split into ≥ 3 chunks when long enough). */
  chunkSize?: number;
  /** Pause before every content_block_delta, so a test can stop mid-stream. */
  delayMsPerChunk?: number;
  /** Pause before the response headers are sent. */
  initialDelayMs?: number;
  /** Overrides the estimated token counts. */
  usage?: UsageSpec;
  /** `model` in the reply; defaults to the request's model. */
  model?: string;
  /**
   * Streaming only: after `afterEvents` SSE events (default 1, i.e. right after
   * message_start) send `event: error` with this error and end the stream, as the
   * API does when it overloads mid-stream.
   */
  streamError?: { afterEvents?: number; type?: string; message?: string };
}

/**
 * One model reply. Shorthand fields are emitted in this order:
 * toolSearch, text, toolUse (one or several), then `content`.
 */
export interface ReplyTurn extends TurnOptions {
  /** A thinking block emitted first, as models that think by default do. */
  thinking?: string;
  text?: string;
  toolUse?: ToolUseSpec | ToolUseSpec[];
  toolSearch?: ToolSearchSpec;
  content?: BlockSpec[];
}

/** An HTTP error answer (429 rate_limit_error, 529 overloaded_error, 500 api_error, 401 authentication_error, …). */
export interface ErrorTurn {
  error: number;
  /** Seconds, sent as the `retry-after` header (fractions allowed; the SDK honours them). */
  retryAfter?: number;
  message?: string;
  /** Overrides the error `type` derived from the status. */
  errorType?: string;
  /** Sent as `x-should-retry`, which the SDK obeys over its status rules. */
  shouldRetry?: boolean;
}

export type TurnFunction = (request: RecordedRequest) => ScriptedTurn | Promise<ScriptedTurn>;

export type ScriptedTurn = ReplyTurn | ErrorTurn | BlockSpec[] | TurnFunction;

/** Anything that can decide the next turn from a request (the ScriptedModel does). */
export interface TurnSource {
  nextTurn(request: RecordedRequest): ScriptedTurn | Promise<ScriptedTurn>;
}

export interface RecordedRequest {
  /** 0-based position in `emu.requests`. */
  index: number;
  time: number;
  method: string;
  /** Path without the query string, e.g. `/v1/messages`. */
  path: string;
  /** Path with the query string as sent. */
  url: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The key from `x-api-key` or `authorization: Bearer`. */
  apiKey: string | undefined;
  authHeader: 'x-api-key' | 'authorization' | undefined;
  /** Size of the raw request body in bytes. */
  rawBytes: number;
  /** The parsed JSON body (as sent; not validated against the type). */
  body: MessageCreateParams;
  stream: boolean;
  /** Every tool name in `tools`, in order (server tools by their `name`, e.g. `tool_search_tool_regex`). */
  toolNames: string[];
  /** Names of tools sent with `defer_loading: true`. */
  deferredToolNames: string[];
  /** The tool-search tool the request carries, if any. */
  toolSearch: ToolSearchVariant | undefined;
  /** Bytes of `JSON.stringify(body.tools)`. */
  toolsBytes: number;
  /**
   * Tools whose schemas the model has loaded for this request: the non-deferred
   * ones plus deferred ones referenced by a `tool_reference` earlier in the conversation.
   */
  loadedToolNames: string[];
  /** Bytes of the JSON of the loaded tool definitions. */
  loadedToolsBytes: number;
  /** The usage the reply reported (input, cache writes and reads), once a reply was built. */
  usage?: Usage;
  /** HTTP status the emulator answered with (set once decided). */
  status: number | undefined;
  /** What answered: a queued turn, the fallback, or the emulator itself (auth/validation/empty queue). */
  answeredBy: 'queue' | 'fallback' | 'emulator' | undefined;
  /** True when the client went away before the response finished (e.g. an abort mid-stream). */
  clientDisconnected: boolean;
  /** True when the whole response was written. */
  completed: boolean;
}
