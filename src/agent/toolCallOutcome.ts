import type { ToolRisk } from '../core/toolRisk';
import type { Identifier } from '../core/identifier';
import type { AuditRecord } from './audit';
import type { DecisionSource } from './policy';

// What the agent loop produces for one tool call: progress while it waits, then one
// outcome. The loop builds no card and writes no audit record; toolCallTranslator.ts turns
// these values into both, in one place.

/** The call as the model asked for it, as far as the loop knows it. */
export interface ToolCallSubject {
  readonly toolUseId: string;
  readonly toolName: string;
  /** 'unknown' for a tool not in the catalog; 'OnBehalf' for search_tools. */
  readonly connection: string;
  readonly risk: ToolRisk;
  /** The whole input, pretty-printed from the object that runs; cut only when it is refused for its size. */
  readonly inputText: string;
}

export type ToolCallProgress = { readonly stage: 'running' } | { readonly stage: 'awaitingApproval'; readonly canAlwaysAllow: boolean };

export type ToolCallStatus = 'succeeded' | 'failed' | 'denied' | 'cancelled';

export interface ToolCallError {
  /** For the user. */
  readonly message: string;
  /** The account is not ACTIVE: connect or re-authorize, then the turn can go on. */
  readonly fix?: { readonly kind: 'connect' | 'reauthorize'; readonly connection: string };
  /** A passing failure (service unreachable, rate limited): Retry may help. */
  readonly retryable?: boolean;
}

/** What really happened to a request that was still running when the user pressed Stop. */
export interface LateSettlement {
  readonly outcome: AuditRecord['outcome'];
  readonly errorCode: string;
  readonly executionId?: string;
}

export interface ToolCallOutcome extends ToolCallSubject {
  readonly status: ToolCallStatus;
  /**
   * Whose call it was and how it was decided: present exactly when the call is audited.
   * Absent for search_tools (it reaches no account) and when nobody was signed in.
   */
  readonly audit?: {
    readonly identifier: Identifier;
    readonly decision: DecisionSource;
    readonly outcome: AuditRecord['outcome'];
    readonly errorCode?: string;
    readonly executionId?: string;
    /** The input as validated when the call got that far, else as the model sent it. */
    readonly input: unknown;
    /** Stopped while running: the record waits for what the backend really did. */
    readonly settled?: Promise<LateSettlement>;
  };
  readonly error?: ToolCallError;
  /** When the checks passed and the decision began (or the refusal, for a call refused before that), ms epoch. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** Whether the request went to the backend (the card then shows how long it took). */
  readonly executed: boolean;
  /** When the request went to the backend, ms epoch: the execution time runs from here to endedAt. */
  readonly executionStartedAt?: number;
  /** How long the card waited for the user's approval; absent when nobody was asked (a rule, "always", a refusal). */
  readonly approvalWaitMs?: number;
  /** What the backend returned, or the text of a search. */
  readonly result?: { readonly data: unknown; readonly executionId: string } | { readonly text: string };
}
