import * as vscode from 'vscode';
import { activeProducts } from '../core/connectionStatus';
import type { ConnectionsService } from './connectionsService';
import { contextKeys } from './constants';
import { DisposableOwner } from './lifecycle';
import type { SecretStore } from './secretStore';
import { settings } from './settings';

// when-clause context keys for menus and the walkthrough's completion events.

const askedKey = contextKeys.askedFirstQuestion;

export class ContextKeys extends DisposableOwner {
  constructor(
    connections: ConnectionsService,
    private readonly secrets: SecretStore,
    private readonly state: vscode.Memento,
    onDidSendMessage: vscode.Event<void>,
  ) {
    super();
    const updateConnections = () => {
      const snapshot = connections.snapshot;
      void set(contextKeys.signedIn, snapshot.identity !== undefined);
      const active = activeProducts(snapshot.connections);
      void set(contextKeys.posthogActive, active.posthog);
      void set(contextKeys.asanaActive, active.asana);
    };
    this.register(connections.onDidChange(updateConnections));
    this.register(secrets.onDidChange(() => void this.updateKeys()));
    this.register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (settings.affects(event, 'gateway.url')) void this.updateKeys();
      }),
    );
    this.register(
      onDidSendMessage(() => {
        void state.update(askedKey, true);
        void set(askedKey, true);
      }),
    );
    updateConnections();
    void this.updateKeys();
    void set(askedKey, state.get<boolean>(askedKey) === true);
  }

  private async updateKeys(): Promise<void> {
    const team = settings.gatewayUrl() !== '';
    await set(contextKeys.teamMode, team);
    // Team mode needs only the Anthropic key; the Scalekit secret is not even read.
    const keysSet = (await this.secrets.has('anthropicApiKey')) && (team || (await this.secrets.has('scalekitClientSecret')));
    await set(contextKeys.keysSet, keysSet);
  }
}

function set(key: string, value: boolean): Thenable<unknown> {
  return vscode.commands.executeCommand('setContext', key, value);
}
