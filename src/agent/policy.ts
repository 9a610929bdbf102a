import type { ToolRisk } from '../core/toolRisk';
import type { Identifier } from '../core/identifier';

// Decides whether a tool call may run. Reads run; writes ask (with "always allow" as an
// option); destructive calls always ask. Rules and "always" choices belong to one
// identity and never apply to another.

export type ToolRule = 'ask' | 'allow' | 'deny';

export interface ToolCallRequest {
  readonly toolUseId: string;
  readonly toolName: string;
  readonly connection: string;
  readonly risk: ToolRisk;
  readonly input: Record<string, unknown>;
}

export type DecisionSource = 'auto' | 'user-approved' | 'rule' | 'always-rule' | 'denied';

export interface PolicyDecision {
  readonly approved: boolean;
  readonly source: DecisionSource;
  readonly reason?: string;
}

export type UserAnswer = 'approve' | 'deny' | 'always';

export interface ApprovalDeps {
  /** Per-tool rule from settings, if any. */
  readonly ruleFor: (toolName: string) => ToolRule | undefined;
  /** Whether this identity chose "Always allow" for this tool. */
  readonly isAlwaysAllowed: (identifier: Identifier, toolName: string) => boolean;
  readonly rememberAlwaysAllowed: (identifier: Identifier, toolName: string) => Promise<void>;
  /** Shows the approval card and resolves with the user's answer (or 'deny' on Stop). */
  readonly askUser: (call: ToolCallRequest, options: { canAlwaysAllow: boolean }, signal: AbortSignal) => Promise<UserAnswer>;
}

export class ApprovalPolicy {
  constructor(private readonly deps: ApprovalDeps) {}

  /**
   * `onAsking` runs just before the user is asked, and only then, so a card shows its
   * approval buttons only for calls that really wait for the user.
   */
  async decide(identifier: Identifier, call: ToolCallRequest, signal: AbortSignal, onAsking?: (canAlwaysAllow: boolean) => void): Promise<PolicyDecision> {
    const rule = this.deps.ruleFor(call.toolName);
    if (rule === 'deny') return { approved: false, source: 'denied', reason: 'A rule in your settings blocks this tool.' };
    if (call.risk === 'destructive') return this.ask(identifier, call, false, signal, onAsking);
    if (rule === 'allow') return { approved: true, source: 'rule' };
    if (call.risk === 'read' && rule !== 'ask') return { approved: true, source: 'auto' };
    if (call.risk === 'write' && rule !== 'ask' && this.deps.isAlwaysAllowed(identifier, call.toolName)) return { approved: true, source: 'always-rule' };
    // Under an "ask" rule a remembered "always" is ignored, so "always" is not offered either.
    return this.ask(identifier, call, call.risk === 'write' && rule !== 'ask', signal, onAsking);
  }

  private async ask(
    identifier: Identifier,
    call: ToolCallRequest,
    canAlwaysAllow: boolean,
    signal: AbortSignal,
    onAsking?: (canAlwaysAllow: boolean) => void,
  ): Promise<PolicyDecision> {
    onAsking?.(canAlwaysAllow);
    const answer = await this.deps.askUser(call, { canAlwaysAllow }, signal);
    if (answer === 'deny') return { approved: false, source: 'denied', reason: 'You declined this call.' };
    if (answer === 'always' && canAlwaysAllow) {
      await this.deps.rememberAlwaysAllowed(identifier, call.toolName);
    }
    return { approved: true, source: 'user-approved' };
  }
}
