import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { AuditEntry } from '../../agent/audit';
import { newConversation, type Conversation } from '../../agent/conversation';
import { ApprovalPolicy, type ToolRule, type UserAnswer } from '../../agent/policy';
import { ToolCatalog, catalogFor } from '../../agent/toolCatalog';
import { IdentityChangedError, messageOf } from '../../core/errors';
import { ToolBackends, type ToolCall, type ToolExecution } from '../../core/toolBackend';
import { EnterpriseToolBackend } from '../../enterprise/enterpriseBackend';
import { ScalekitToolBackend } from '../../scalekit/scalekitBackend';
import type { Identifier, Identity } from '../../core/identifier';
import type { Logger } from '../../core/logger';
import type { ScalekitAccounts } from '../../scalekit/scalekitAccounts';
import type { HostMessage } from '../../shared/protocol';
import type { ApprovalStore } from '../approvalStore';
import type { AuditLog } from '../auditLog';
import type { ConnectionsService } from '../connectionsService';
import type { ConversationStore } from '../conversationStore';
import { enterpriseConnection, type EnterpriseService } from '../enterpriseService';
import type { IdentityService } from '../identityService';
import { settings } from '../settings';
import type { TeamGateway } from '../teamGateway';
import { GatewayToolBackend } from '../../team/gatewayBackend';

// Everything that belongs to one signed-in person: their conversations and the throttle
// that saves them, the approvals waiting for them, the turn running for them, their
// "always allow" choices, their tools and their audit log. Created when an identity is
// established and disposed when it changes: disposal stops the turn, refuses the waiting
// approvals and flushes the pending save, and nothing of it is shown or run afterwards.

/** The window-wide services a session reads through, always for its own identifier. */
export interface IdentitySessionServices {
  readonly identity: IdentityService;
  readonly connections: ConnectionsService;
  readonly accounts: ScalekitAccounts;
  readonly enterprise: EnterpriseService;
  readonly team: TeamGateway;
  readonly store: ConversationStore;
  readonly audit: AuditLog;
  readonly approvals: ApprovalStore;
  readonly log: Logger;
}

/** Where a live session's changes go; nothing is sent once the session is disposed. */
export interface IdentitySessionOutlet {
  post(message: HostMessage): void;
  /** The session's state changed; the view should get the whole state again. */
  changed(): void;
}

interface RunningTurn {
  readonly conversationId: string;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

interface PendingApproval {
  readonly resolve: (answer: UserAnswer) => void;
  /** Whether the card offers "Always allow". */
  readonly canAlwaysAllow: boolean;
}

export class IdentitySession implements vscode.Disposable {
  readonly identifier: Identifier;
  readonly label: string;
  readonly policy: ApprovalPolicy;
  /** Direct mode: the enterprise MCP server for its own connection, Scalekit for the rest. */
  private readonly directBackends: ToolBackends;
  /** Team mode: the enterprise MCP server for its own connection, the gateway for every other. */
  private readonly teamBackends: ToolBackends;
  private conversationList: Conversation[] = [];
  private activeId: string | undefined;
  private running: RunningTurn | undefined;
  private readonly pendingApprovals = new Map<string, PendingApproval>();
  /** Failed tool cards after which the agent already continued once on reconnect. */
  readonly continued = new Set<string>();
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private pendingSave: Conversation | undefined;
  private disposed = false;
  private loaded = false;
  /** settings.toolRules(), as last read; dropped when the setting changes. */
  private rules: Record<string, ToolRule> | undefined;
  private readonly rulesWatch: vscode.Disposable;

  constructor(
    identity: Identity,
    private readonly services: IdentitySessionServices,
    private readonly outlet: IdentitySessionOutlet,
  ) {
    this.identifier = identity.identifier;
    this.label = identity.label;
    const enterprise = new EnterpriseToolBackend(services.enterprise, enterpriseConnection);
    this.directBackends = new ToolBackends([enterprise, new ScalekitToolBackend(services.accounts)]);
    this.teamBackends = new ToolBackends([
      enterprise,
      new GatewayToolBackend({
        client: () => services.team.current(),
        get snapshot() {
          const snapshot = services.connections.snapshot;
          return { identifier: snapshot.identity?.identifier, connections: snapshot.connections };
        },
      }),
    ]);
    // The rules are read once and kept until the configuration event: the extension host
    // replaces its copy of the settings and fires the event in one synchronous step, so no
    // call can read between the two.
    this.rulesWatch = vscode.workspace.onDidChangeConfiguration((event) => {
      if (settings.affects(event, 'toolRules')) this.rules = undefined;
    });
    this.policy = new ApprovalPolicy({
      ruleFor: (toolName) => tightened((this.rules ??= settings.toolRules())[toolName], this.orgPolicy(toolName)),
      // The loop names the identifier it derived; only this person's own choices apply.
      isAlwaysAllowed: (identifier, toolName) => identifier === this.identifier && services.approvals.isAlwaysAllowed(this.identifier, toolName),
      rememberAlwaysAllowed: async (identifier, toolName) => {
        if (identifier === this.identifier) await services.approvals.allowAlways(this.identifier, toolName);
      },
      askUser: (call, options, signal) => this.askUser(call.toolUseId, options.canAlwaysAllow, signal),
    });
  }

  /** Chosen at each call: team mode sends everything through the gateway, never to Scalekit directly. */
  private get backends(): ToolBackends {
    return this.services.team.enabled ? this.teamBackends : this.directBackends;
  }

  /** The organisation's mark for a tool, as the gateway listed it for this person (team mode). */
  private orgPolicy(toolName: string): 'ask' | 'allow' | undefined {
    if (!this.services.team.enabled) return undefined;
    const snapshot = this.services.connections.snapshot;
    if (snapshot.identity?.identifier !== this.identifier) return 'ask';
    return snapshot.orgPolicies?.get(toolName);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Reads this person's conversations from disk. */
  async load(): Promise<void> {
    const conversations = await this.services.store.list(this.identifier).catch((error: unknown) => {
      this.services.log.error(`Could not load conversations: ${messageOf(error)}`);
      return [] as Conversation[];
    });
    if (this.disposed) return;
    this.conversationList = conversations;
    this.activeId = conversations[0]?.id;
    this.loaded = true;
  }

  /** Whether this person's conversations are read; until then the view shows nobody's. */
  get isLoaded(): boolean {
    return this.loaded;
  }

  get conversations(): readonly Conversation[] {
    return this.conversationList;
  }

  get activeConversation(): Conversation | undefined {
    return this.conversationList.find((c) => c.id === this.activeId);
  }

  get activeConversationId(): string | undefined {
    return this.activeId;
  }

  has(conversationId: string): boolean {
    return this.conversationList.some((c) => c.id === conversationId);
  }

  activate(conversationId: string): void {
    this.activeId = conversationId;
  }

  startNewConversation(): Conversation {
    const existingEmpty = this.conversationList.find((c) => c.messages.length === 0);
    const conversation = existingEmpty ?? newConversation(randomUUID(), Date.now());
    if (!existingEmpty) this.conversationList.unshift(conversation);
    this.activeId = conversation.id;
    return conversation;
  }

  async deleteConversation(conversationId: string): Promise<void> {
    if (this.running?.conversationId === conversationId) {
      this.stop();
      await this.whenIdle();
    }
    this.conversationList = this.conversationList.filter((c) => c.id !== conversationId);
    await this.services.store.delete(this.identifier, conversationId);
    if (this.activeId === conversationId) this.activeId = this.conversationList[0]?.id;
  }

  // The running turn.

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Marks a turn as running for `conversation` until `finish` is called; undefined if one already runs or the session is over. */
  beginTurn(conversation: Conversation): { readonly signal: AbortSignal; readonly finish: () => void } | undefined {
    if (this.running || this.disposed) return undefined;
    const controller = new AbortController();
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const running: RunningTurn = { conversationId: conversation.id, controller, done };
    this.running = running;
    return {
      signal: controller.signal,
      finish: () => {
        if (this.running === running) this.running = undefined;
        finish();
      },
    };
  }

  stop(): void {
    this.running?.controller.abort();
  }

  async whenIdle(): Promise<void> {
    while (this.running) await this.running.done;
  }

  // Approvals.

  private askUser(toolUseId: string, canAlwaysAllow: boolean, signal: AbortSignal): Promise<UserAnswer> {
    return new Promise<UserAnswer>((resolve) => {
      if (signal.aborted || this.disposed) return resolve('deny');
      const onAbort = () => {
        this.pendingApprovals.delete(toolUseId);
        resolve('deny');
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pendingApprovals.set(toolUseId, {
        canAlwaysAllow,
        resolve: (answer) => {
          signal.removeEventListener('abort', onAbort);
          resolve(answer);
        },
      });
    });
  }

  /** The user's answer on a card; a reason when it is refused. */
  decide(toolUseId: string, decision: UserAnswer): string | undefined {
    const pending = this.pendingApprovals.get(toolUseId);
    if (!pending) return 'That approval is no longer pending.';
    // The card offered no "Always allow" (a destructive call): such an answer was not the user's.
    if (decision === 'always' && !pending.canAlwaysAllow) return '"Always allow" is not offered for this call; it still waits for your answer.';
    this.pendingApprovals.delete(toolUseId);
    pending.resolve(decision);
    return undefined;
  }

  // Calls as this person.

  /** Re-derives the identifier from the VS Code session now (at each call and after an approval wait). */
  currentIdentifier(): Promise<Identifier> {
    return this.services.identity.requireIdentifier();
  }

  /** This person's tools: their active connections and their enterprise tools. */
  catalog(): ToolCatalog {
    const snapshot = this.services.connections.snapshot;
    if (snapshot.identity?.identifier !== this.identifier) return new ToolCatalog([]);
    const enterprise = this.services.enterprise.snapshot;
    const enterpriseTools = enterprise.identifier === this.identifier ? enterprise.tools : [];
    // Built once per tool list: the same snapshot arrays give back the same catalog.
    return catalogFor([...snapshot.connections.filter((c) => c.status === 'ACTIVE').map((c) => c.tools), enterpriseTools]);
  }

  /**
   * Runs a call the loop derived `identifier` for, only if that is still this session's
   * person, through the tool-backend seam: the enterprise MCP server for its own connection,
   * Scalekit for the rest. Stop cancels an MCP request; the Scalekit SDK takes no signal.
   */
  async executeTool(call: ToolCall): Promise<ToolExecution> {
    if (this.disposed || call.identifier !== this.identifier) throw new IdentityChangedError();
    return this.backends.execute({ ...call, identifier: this.identifier });
  }

  /** The audit writer: records go to this person's log only. */
  audit(entry: AuditEntry): void {
    this.services.audit.append(this.identifier, entry);
  }

  // What the view sees.

  post(message: HostMessage): void {
    if (!this.disposed) this.outlet.post(message);
  }

  /** Posts a streaming update only while `conversation` is the one shown. */
  postFor(conversation: Conversation, message: HostMessage): void {
    if (conversation.id === this.activeId) this.post(message);
  }

  changed(): void {
    if (!this.disposed) this.outlet.changed();
  }

  // Saving.

  /**
   * Saves at most every 300 ms while a reply streams. A throttle, not a debounce: a steady
   * stream would otherwise postpone every save, and a reload would lose the partial reply.
   */
  scheduleSave(conversation: Conversation): void {
    if (this.saveTimer && this.pendingSave === conversation) return;
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      if (this.pendingSave) void this.save(this.pendingSave).catch(() => undefined);
    }
    this.pendingSave = conversation;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.pendingSave = undefined;
      void this.save(conversation).catch(() => undefined);
    }, 300);
  }

  /** Writes `conversation` under this person's key, if it is still theirs. */
  async save(conversation: Conversation): Promise<void> {
    if (!this.conversationList.includes(conversation)) return;
    await this.services.store.save(this.identifier, conversation);
  }

  private flushSave(): void {
    if (!this.saveTimer) return;
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const conversation = this.pendingSave;
    this.pendingSave = undefined;
    if (conversation) void this.save(conversation).catch((error: unknown) => this.services.log.error(`Could not save the conversation: ${messageOf(error)}`));
  }

  /** The person changed: stop their turn, refuse their waiting approvals, flush their save. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.rulesWatch.dispose();
    this.stop();
    for (const pending of this.pendingApprovals.values()) pending.resolve('deny');
    this.pendingApprovals.clear();
    this.flushSave();
    this.continued.clear();
  }
}

/**
 * A local rule combined with the organisation's mark: local settings can only tighten. An
 * organisation's "ask" stays "ask" whatever the local rule (bar "deny"), so "Always allow"
 * is never offered for it; an organisation's "allow" still asks when the local rule says so.
 */
export function tightened(local: ToolRule | undefined, org: 'ask' | 'allow' | undefined): ToolRule | undefined {
  if (local === 'deny') return 'deny';
  if (org === 'ask') return 'ask';
  return local;
}
