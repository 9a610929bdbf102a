import type Anthropic from '@anthropic-ai/sdk';
import * as vscode from 'vscode';
import { anthropicClient, anthropicRelayClient } from '../agent/anthropicKeyCheck';
import type { IdentityService } from './identityService';
import { DisposableOwner } from './lifecycle';
import type { SecretStore } from './secretStore';
import { settings } from './settings';

// How the model is reached: with the user's own Anthropic key, or, in team mode with
// `onbehalf.gateway.relayModel` on, through the organisation's gateway (its model relay),
// authenticated by the current VS Code session's token, so no model key sits on this machine.

export class ModelAccess extends DisposableOwner {
  private readonly changeEmitter = this.register(new vscode.EventEmitter<void>());
  /** Whether the model is reachable may have changed (a key stored or cleared, the relay setting). */
  readonly onDidChange = this.changeEmitter.event;

  constructor(
    private readonly secrets: SecretStore,
    private readonly identity: IdentityService,
  ) {
    super();
    this.register(secrets.onDidChange((name) => name === 'anthropicApiKey' && this.changeEmitter.fire()));
    this.register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('onbehalf.gateway')) this.changeEmitter.fire();
      }),
    );
  }

  /** Model requests go through the gateway's relay. */
  relayed(): boolean {
    return settings.gatewayUrl() !== '' && settings.gatewayRelayModel();
  }

  /** Whether a message can be answered: through the relay, or with a stored key. */
  async available(): Promise<boolean> {
    return this.relayed() || (await this.secrets.has('anthropicApiKey'));
  }

  /**
   * A client for one turn, or undefined when no model access is set up. Through the relay,
   * the token is the session's at the start of the turn (renewed by its provider as needed).
   */
  async client(): Promise<Anthropic | undefined> {
    if (this.relayed()) {
      const { token } = await this.identity.currentCredential();
      return anthropicRelayClient(token, settings.gatewayUrl(), { maxRetries: 0 }); // The loop retries, visibly.
    }
    const apiKey = await this.secrets.get('anthropicApiKey');
    return apiKey ? anthropicClient(apiKey, settings.anthropicBaseUrl(), { maxRetries: 0 }) : undefined;
  }
}
