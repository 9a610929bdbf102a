import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import type { Conversation } from '../../agent/conversation';
import { messageOf } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { ScalekitAccounts } from '../../scalekit/scalekitAccounts';
import { parseWebviewMessage, type ChatItemView, type HostMessage, type WebviewMessage } from '../../shared/protocol';
import type { ApprovalStore } from '../approvalStore';
import type { AuditLog } from '../auditLog';
import type { ConnectionsService } from '../connectionsService';
import { commands } from '../constants';
import type { ConversationStore } from '../conversationStore';
import type { EnterpriseService } from '../enterpriseService';
import type { ExternalOpener } from '../externalUris';
import type { IdentityService } from '../identityService';
import { DisposableOwner } from '../lifecycle';
import type { ModelAccess } from '../modelAccess';
import type { SecretStore } from '../secretStore';
import { settings } from '../settings';
import type { TeamGateway } from '../teamGateway';
import { chatState } from './chatState';
import { IdentitySession } from './identitySession';
import { TurnRunner } from './turnRunner';

// Routes the chat webview's validated messages to the signed-in person's IdentitySession.
// On every identity change the session is disposed and a new one is made for whoever is
// signed in now, so nothing of the previous person stays visible or running.

export interface ChatViewPort {
  post(message: HostMessage): void;
  /** The page said a valid `ready`: it loaded. */
  pageReady?(): void;
}

export interface ChatControllerDeps {
  readonly identity: IdentityService;
  readonly connections: ConnectionsService;
  readonly accounts: ScalekitAccounts;
  readonly enterprise: EnterpriseService;
  readonly team: TeamGateway;
  readonly secrets: SecretStore;
  readonly model: ModelAccess;
  readonly store: ConversationStore;
  readonly audit: AuditLog;
  readonly approvals: ApprovalStore;
  readonly log: Logger;
  /** Opens links the user clicked in the chat, through the same opener as every other external URL. */
  readonly openExternal: () => ExternalOpener;
}

export class ChatController extends DisposableOwner {
  private session: IdentitySession | undefined;
  private view: ChatViewPort | undefined;
  private draft: string | undefined;
  private hasAnthropicKey = false;
  /** Identity changes, one after another; messages wait for the latest. */
  private loading: Promise<void> = Promise.resolve();
  private readonly turns: TurnRunner;
  private readonly sent = this.register(new vscode.EventEmitter<void>());
  /** Fires when the user sends a message (for the walkthrough). */
  readonly onDidSendMessage = this.sent.event;

  constructor(private readonly deps: ChatControllerDeps) {
    super();
    this.turns = new TurnRunner(deps.model, deps.log);
    this.register(deps.identity.onDidChange(() => void this.reloadForIdentity()));
    this.register(deps.enterprise.onDidChange(() => this.postState()));
    this.register(
      deps.connections.onDidChange(() => {
        this.postState();
        void this.continueAfterReconnect();
      }),
    );
    this.register(deps.model.onDidChange(() => void this.refreshKeyState()));
    this.register({ dispose: () => this.endSession() });
    void this.reloadForIdentity();
  }

  /** Reads whether the Anthropic key is set; called once activation has returned. */
  start(): void {
    void this.refreshKeyState();
  }

  attachView(view: ChatViewPort | undefined): void {
    this.view = view;
    this.deps.log.info(view ? 'Chat view opened' : 'Chat view closed');
    if (view) this.postState();
  }

  get activeConversation(): Conversation | undefined {
    return this.session?.activeConversation;
  }

  /** Entry point for everything the webview sends. Anything malformed is rejected and logged. */
  async handleMessage(raw: unknown): Promise<void> {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.deps.log.warn(`Rejected a chat message: ${parsed.reason}`);
      this.view?.post({ type: 'rejected', reason: parsed.reason });
      return;
    }
    try {
      // A message sent while the signed-in identity's history is loading applies to that history.
      await this.loading;
      await this.dispatch(parsed.message);
    } catch (error) {
      this.deps.log.error(`Chat action "${parsed.message.type}" failed: ${messageOf(error)}`);
      this.pushNotice(`Something went wrong: ${messageOf(error)}`);
    }
  }

  private async dispatch(message: WebviewMessage): Promise<void> {
    const session = this.session;
    switch (message.type) {
      case 'ready':
        this.deps.log.info('Chat webview ready');
        this.view?.pageReady?.();
        this.postState();
        return;
      case 'send':
        return this.send(message.text);
      case 'stop':
        this.stop();
        return;
      case 'retry':
        return this.retry();
      case 'newConversation':
        session?.startNewConversation();
        this.postState();
        return;
      case 'switchConversation':
        if (!session?.has(message.conversationId)) return this.reject('No such conversation.');
        session.activate(message.conversationId);
        this.postState();
        return;
      case 'deleteConversation':
        if (!session?.has(message.conversationId)) return this.reject('No such conversation.');
        await session.deleteConversation(message.conversationId);
        this.postState();
        return;
      case 'decide': {
        const refused = session ? session.decide(message.toolUseId, message.decision) : 'That approval is no longer pending.';
        if (refused) this.reject(refused);
        return;
      }
      case 'connect':
        if (!settings.connections().includes(message.connection)) return this.reject('Unknown connection.');
        await vscode.commands.executeCommand(message.reauthorize ? commands.reauthorize : commands.connect, message.connection);
        return;
      case 'runCommand':
        await vscode.commands.executeCommand(commands[message.command]);
        return;
      case 'copy':
        await vscode.env.clipboard.writeText(message.text);
        return;
      case 'cspViolation':
        this.deps.log.warn(`The chat page's Content Security Policy blocked ${message.directive} (${message.blocked || 'inline'}).`);
        return;
      case 'openLink':
        vscode.Uri.parse(message.url, true); // throws on a URL that is not well formed
        await this.deps.openExternal()(message.url);
        return;
    }
  }

  private reject(reason: string): void {
    this.deps.log.warn(`Rejected a chat action: ${reason}`);
    this.view?.post({ type: 'rejected', reason });
  }

  private async send(text: string): Promise<void> {
    if (this.session?.busy) return this.reject('The agent is still working; press Stop first.');
    const identity = await this.deps.identity.current();
    const session = this.session;
    if (!identity || !session || identity.identifier !== session.identifier) {
      this.draft = text;
      this.postState();
      if (identity) await this.reloadForIdentity();
      return;
    }
    if (!(await this.deps.model.available())) {
      this.draft = text;
      this.postState();
      return;
    }
    this.draft = undefined;
    this.sent.fire();
    await this.turns.send(session, text);
  }

  private async retry(): Promise<void> {
    const session = this.session;
    if (!session || session.busy) return;
    const refused = await this.turns.retry(session);
    if (refused) this.reject(refused);
  }

  private async continueAfterReconnect(): Promise<void> {
    const session = this.session;
    if (session) await this.turns.continueAfterReconnect(session, this.deps.connections.snapshot);
  }

  stop(): void {
    this.session?.stop();
  }

  /** Resolves when no history is loading and no turn is running; for tests. */
  async whenIdle(): Promise<void> {
    await this.loading;
    await this.session?.whenIdle();
  }

  /** Ends the current person's session: their turn stops, their approvals are refused, their save is flushed. */
  private endSession(): void {
    const previous = this.session;
    this.session = undefined;
    previous?.dispose();
  }

  private reloadForIdentity(): Promise<void> {
    // Nothing from the previous identity may stay visible or running, from this moment on.
    this.endSession();
    this.draft = undefined;
    this.postState();
    const loaded = this.loading.then(() => this.startSession());
    this.loading = loaded.catch(() => undefined);
    return loaded;
  }

  /** Makes the session of whoever is signed in now (changes are handled one after another). */
  private async startSession(): Promise<void> {
    this.endSession();
    const identity = await this.deps.identity.current();
    if (!identity) return;
    const session = new IdentitySession(identity, this.deps, { post: (message) => this.view?.post(message), changed: () => this.postState() });
    this.session = session;
    await session.load();
    session.changed();
  }

  private async refreshKeyState(): Promise<void> {
    this.hasAnthropicKey = await this.deps.model.available();
    this.postState();
  }

  private pushNotice(text: string): void {
    const conversation = this.session?.activeConversation;
    const item: ChatItemView = { kind: 'notice', id: randomUUID(), text };
    if (conversation) conversation.items.push(item);
    this.view?.post({ type: 'item', item });
  }

  postState(): void {
    if (!this.view) return;
    const state = chatState({
      session: this.session,
      connections: this.deps.connections.snapshot,
      enterprise: this.deps.enterprise.snapshot,
      hasAnthropicKey: this.hasAnthropicKey,
      model: settings.model(),
      draft: this.draft,
    });
    this.view.post({ type: 'state', state });
  }
}
