import type * as vscode from 'vscode';
import type { Identity } from '../core/identifier';
import type { AuditRecord } from '../agent/audit';
import type { Conversation } from '../agent/conversation';
import type { HostMessage } from '../shared/protocol';
import type { ConnectionsSnapshot } from './connectionsService';
import type { EnterpriseSnapshot } from './enterpriseService';
import type { ConnectionsNode } from './connectionsTree';
import type { ChatViewObserver } from './chat/chatView';
import type { ToolBackendProbe } from './chat/turnRunner';
import type { ExternalOpener } from './externalUris';

// Handed out by activate() only when VS Code runs the extension in Test mode, so tests in
// the real extension host can observe state and stand in for the system browser.

export interface OnBehalfTestApi {
  currentIdentity(): Promise<Identity | undefined>;
  connections(): ConnectionsSnapshot;
  enterprise(): EnterpriseSnapshot;
  /** Enterprise MCP clients built and not closed, how many hold a token or a session, and the service's subscriptions. */
  enterpriseHeld(): { clients: number; tokens: number; sessions: number; subscriptions: number };
  refreshConnections(): Promise<void>;
  onConnectionsChanged(listener: (snapshot: ConnectionsSnapshot) => void): vscode.Disposable;
  treeChildren(node?: ConnectionsNode): ConnectionsNode[];
  treeItem(node: ConnectionsNode): vscode.TreeItem;
  /** How many times the Connections tree re-rendered. */
  treeRenders(): number;
  statusBar(): { text: string; tooltip: string };
  routeUri(uri: vscode.Uri): Promise<{ ok: true } | { ok: false; error: unknown }>;
  /** Replaces the system browser; `undefined` restores it. */
  setExternalOpener(opener: ExternalOpener | undefined): void;
  readonly chat: {
    /** Delivers a message exactly as if the webview had posted it. */
    handleMessage(raw: unknown): Promise<void>;
    whenIdle(): Promise<void>;
    activeConversation(): Conversation | undefined;
    renderedHtml(): readonly string[];
    postedMessages(): readonly HostMessage[];
    /** How many times the chat page said `ready`. */
    readyCount(): number;
    /** The next `count` renders of the chat page never say `ready`, as a stalled webview frame. */
    stallNextRenders(count: number): void;
    /** The chat view's live webview (its real options and page), while the view exists. */
    webview(): vscode.Webview | undefined;
  };
  /** Stores a secret as the Set/Rotate commands would after their check (e2e drives the real input boxes). */
  storeSecret(name: 'anthropicApiKey' | 'scalekitClientSecret' | 'enterpriseClientSecret', value: string): Promise<void>;
  /**
   * Writes a secret straight into SecretStorage, past OnBehalf's own store, as another window
   * sharing the storage would: only SecretStorage's change event tells this window.
   */
  writeSecretStorage(name: 'anthropicApiKey' | 'scalekitClientSecret' | 'enterpriseClientSecret', value: string): Promise<void>;
  /** Removes one secret, as Clear All Stored Keys would for it. */
  clearSecret(name: 'anthropicApiKey' | 'scalekitClientSecret' | 'enterpriseClientSecret'): Promise<void>;
  /** Observes each tool call's hand-off to its backend and the answer (the host-overhead bench). */
  setToolBackendProbe(probe: ToolBackendProbe | undefined): void;
  signIn(): Promise<Identity | undefined>;
  /** The Connect command's work, with its error thrown instead of shown. */
  connect(connection: string): Promise<void>;
  signOut(): Promise<void>;
  auditRecords(): Promise<AuditRecord[]>;
  /** What Show Audit Log shows the signed-in identity: the gateway's records in team mode, else the local log. */
  shownAuditRecords(): Promise<AuditRecord[]>;
  /** Every secret OnBehalf keeps in SecretStorage, by name (undefined when absent), for the leak scan. */
  storedSecrets(): Promise<Record<string, string | undefined>>;
  auditFile(): Promise<string>;
  /** The signed-in identity's audit HMAC key from SecretStorage, base64 (created if missing). */
  auditKey(): Promise<string>;
  /** Export Audit Log's work for the signed-in identity, to `target` instead of a save dialog. */
  exportAuditLog(target: vscode.Uri): Promise<number>;
  readonly globalStoragePath: string;
  /** Folder of this extension's log files (the LogOutputChannel writes there). */
  readonly logPath: string;
  /** Everything in globalState and workspaceState, for the leak scan. */
  storedState(): { global: Record<string, unknown>; workspace: Record<string, unknown> };
}

/** Records what the chat view renders and posts, and stalls renders on request; handed to the view in Test mode only. */
export class ChatViewRecorder {
  readonly renderedHtml: string[] = [];
  readonly postedMessages: HostMessage[] = [];
  readyCount = 0;
  private stalls = 0;

  readonly observer: ChatViewObserver = {
    rendered: (html) => void this.renderedHtml.push(html),
    posted: (message) => void this.postedMessages.push(message),
    pageReady: () => void this.readyCount++,
    stallRender: () => this.stalls > 0 && this.stalls-- > 0,
  };

  stallNextRenders(count: number): void {
    this.stalls = count;
  }
}

/** Counts how many times a view re-rendered, from its change event. */
export function renderCounter(onDidChange: vscode.Event<unknown>): { readonly count: () => number; readonly subscription: vscode.Disposable } {
  let renders = 0;
  const subscription = onDidChange(() => renders++);
  return { count: () => renders, subscription };
}
