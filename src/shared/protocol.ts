import type { z as zodMini } from 'zod/mini';
import { zodSdk, type ZodSdk } from '../core/sdkLoader';

// Every message between the chat webview and the extension host, typed in one place.
// The webview is untrusted input: the host parses each arriving message with
// `parseWebviewMessage` and rejects anything that does not match exactly. No message
// carries an identity; the host derives it from the VS Code session.

export const maxUserMessageChars = 32_000;

/**
 * Messages the webview sends to the host. Strict objects reject unknown fields, e.g. a smuggled `identifier`.
 * Built on the first message, with zod/mini (src/core/sdkLoader.ts): nothing of zod loads at activation.
 */
function buildWebviewMessageSchema(z: ZodSdk) {
  const id = z.string().check(z.minLength(1), z.maxLength(128), z.regex(/^[A-Za-z0-9_\-:.]+$/));
  const connectionName = z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[A-Za-z0-9_.-]+$/));
  return z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('ready') }),
    z.strictObject({ type: z.literal('send'), text: z.string().check(z.trim(), z.minLength(1), z.maxLength(maxUserMessageChars)) }),
    z.strictObject({ type: z.literal('stop') }),
    z.strictObject({ type: z.literal('retry') }),
    z.strictObject({ type: z.literal('newConversation') }),
    z.strictObject({ type: z.literal('switchConversation'), conversationId: id }),
    z.strictObject({ type: z.literal('deleteConversation'), conversationId: id }),
    z.strictObject({ type: z.literal('decide'), toolUseId: id, decision: z.enum(['approve', 'deny', 'always']) }),
    z.strictObject({ type: z.literal('connect'), connection: connectionName, reauthorize: z.boolean() }),
    z.strictObject({ type: z.literal('runCommand'), command: z.enum(['signIn', 'setAnthropicKey', 'setScalekitSecret', 'showLog']) }),
    z.strictObject({ type: z.literal('copy'), text: z.string().check(z.maxLength(1_000_000)) }),
    // Something the page's CSP blocked (injected markup, a hostile image URL in an answer): logged by the host.
    z.strictObject({ type: z.literal('cspViolation'), directive: z.string().check(z.maxLength(100)), blocked: z.string().check(z.maxLength(300)) }),
    z.strictObject({ type: z.literal('openLink'), url: z.string().check(z.maxLength(2048), z.regex(/^https?:\/\//)) }),
  ]);
}

let schema: ReturnType<typeof buildWebviewMessageSchema> | undefined;
export function webviewMessageSchema(): ReturnType<typeof buildWebviewMessageSchema> {
  return (schema ??= buildWebviewMessageSchema(zodSdk()));
}

export type WebviewMessage = zodMini.infer<ReturnType<typeof buildWebviewMessageSchema>>;

export type ParseResult = { ok: true; message: WebviewMessage } | { ok: false; reason: string };

export function parseWebviewMessage(raw: unknown): ParseResult {
  const result = webviewMessageSchema().safeParse(raw);
  if (result.success) return { ok: true, message: result.data };
  const first = result.error.issues[0];
  const where = first?.path.length ? ` at ${first.path.join('.')}` : '';
  return { ok: false, reason: `${first?.message ?? 'invalid message'}${where}` };
}

// ---- Host → webview (trusted, so typed but not parsed) ----

export type ToolRiskView = 'read' | 'write' | 'destructive';

export type ToolCardStatus = 'awaitingApproval' | 'running' | 'succeeded' | 'failed' | 'denied' | 'cancelled';

export interface ToolCardView {
  readonly toolUseId: string;
  readonly toolName: string;
  readonly connection: string;
  readonly risk: ToolRiskView;
  /** Pretty JSON of the whole input that runs, never a preview (an input too large to show is refused unrun). */
  readonly input: string;
  readonly status: ToolCardStatus;
  /** Pretty JSON or text of the output, already bounded by the host. */
  readonly output?: string;
  readonly outputBytes?: number;
  readonly outputTruncated?: boolean;
  /** How long the call ran (not counting the approval wait). */
  readonly durationMs?: number;
  /** How long the card waited for the user's approval, when it asked. */
  readonly approvalWaitMs?: number;
  readonly error?: string;
  /** The call failed for a passing reason (service unreachable, rate limited): Retry runs the turn again. */
  readonly retryable?: boolean;
  /** Offered when the call failed because the account is not ACTIVE. */
  readonly fix?: { readonly kind: 'connect' | 'reauthorize'; readonly connection: string };
  /** Whether "Always allow this tool" may be offered (never for destructive tools). */
  readonly canAlwaysAllow?: boolean;
  /** A time series found in the output, for a chart. */
  readonly series?: readonly TimeSeriesView[];
}

export interface TimeSeriesView {
  readonly label: string;
  readonly points: readonly { readonly x: string; readonly y: number }[];
}

export type ChatItemView =
  | { readonly kind: 'user'; readonly id: string; readonly text: string }
  | { readonly kind: 'assistant'; readonly id: string; readonly markdown: string; readonly streaming: boolean }
  | { readonly kind: 'tool'; readonly id: string; readonly card: ToolCardView }
  | {
      readonly kind: 'error';
      readonly id: string;
      readonly message: string;
      readonly retryable: boolean;
      readonly fix?: ToolCardView['fix'];
      /** The reply was cut off by a window reload: Retry answers the question afresh. */
      readonly interrupted?: boolean;
    }
  | { readonly kind: 'notice'; readonly id: string; readonly text: string };

export interface UsageView {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  readonly estimatedCostUsd: number;
}

export interface ConversationSummaryView {
  readonly id: string;
  readonly title: string;
  readonly updatedAt: number;
}

export type BlockerView =
  | { readonly kind: 'signIn'; readonly message: string }
  | { readonly kind: 'setAnthropicKey'; readonly message: string }
  | { readonly kind: 'setScalekitSecret'; readonly message: string }
  | { readonly kind: 'connect'; readonly message: string; readonly connection: string };

export interface ChatStateView {
  readonly identityLabel: string | null;
  readonly modelLabel: string;
  readonly sandboxModel: boolean;
  readonly busy: boolean;
  readonly blocker: BlockerView | null;
  readonly conversations: readonly ConversationSummaryView[];
  readonly activeConversationId: string | null;
  readonly items: readonly ChatItemView[];
  readonly usage: UsageView;
  /** A draft the host kept for the user (e.g. after a failed send), restored into the input box. */
  readonly draft?: string;
}

export type HostMessage =
  | { readonly type: 'state'; readonly state: ChatStateView }
  | { readonly type: 'textDelta'; readonly itemId: string; readonly text: string }
  | { readonly type: 'item'; readonly item: ChatItemView }
  | { readonly type: 'busy'; readonly busy: boolean }
  | { readonly type: 'rejected'; readonly reason: string };
