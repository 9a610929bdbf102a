import * as vscode from 'vscode';
import type { Identity } from '../core/identifier';
import type { Logger } from '../core/logger';
import { GatewayClient } from '../team/gatewayClient';
import type { IdentityService } from './identityService';
import { DisposableOwner } from './lifecycle';
import { settings } from './settings';

// Team mode: when "onbehalf.gateway.url" is set, every connection operation and every tool
// call goes through the organisation's gateway with the current session's token. This holds
// at most one gateway client, bound to one signed-in person; it is closed the moment the
// identity or the gateway settings change, so nothing made for one person serves another.

export class TeamGateway extends DisposableOwner {
  private bound: GatewayClient | undefined;
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  /** Team mode was turned on or off, or pointed at another gateway. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly identity: IdentityService,
    private readonly log: Logger,
    /** Deletes a Scalekit client secret left in SecretStorage from direct mode (without reading it). */
    private readonly forgetScalekitSecret: () => Promise<void>,
  ) {
    super();
    this.register(identity.onDidChange(() => this.unbind()));
    this.register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (!['gateway.url', 'identity.provider', 'oidc.issuer'].some((key) => settings.affects(event, key))) return;
        this.unbind();
        void this.forgetSecretInTeamMode();
        this.changed.fire();
      }),
    );
    this.register({ dispose: () => this.unbind() });
  }

  /** Called once activation has returned: it reads the settings and SecretStorage. */
  start(): void {
    void this.forgetSecretInTeamMode();
  }

  /**
   * In team mode the organisation's Scalekit secret belongs on the gateway only: one stored
   * here earlier (direct mode) is deleted, so this machine holds no credential that could act
   * as another user.
   */
  private async forgetSecretInTeamMode(): Promise<void> {
    if (!this.enabled) return;
    try {
      await this.forgetScalekitSecret();
    } catch (error) {
      this.log.warn(`Could not remove the Scalekit client secret from SecretStorage: ${(error as Error).message}`);
    }
  }

  /** Team mode: a gateway URL is set. */
  get enabled(): boolean {
    return settings.gatewayUrl() !== '';
  }

  /** The gateway's host for the tree and the status bar, or undefined when the URL is not usable. */
  get host(): string | undefined {
    try {
      return new URL(settings.gatewayUrl()).host || undefined;
    } catch {
      return undefined;
    }
  }

  /** The client of `identity`, built when first needed; throws InsecureUrlError for a bad URL. */
  clientFor(identity: Identity): GatewayClient {
    const url = settings.gatewayUrl();
    const bound = this.bound;
    if (bound && bound.identifier === identity.identifier && bound.baseUrl === url.replace(/\/+$/, '')) return bound;
    this.unbind();
    const client = new GatewayClient({
      baseUrl: url,
      identifier: identity.identifier,
      identityProvider: identity.provider,
      ...(identity.provider === 'oidc' ? { issuer: settings.oidcIssuer() } : {}),
      credential: async () => {
        const { identity: now, token } = await this.identity.currentCredential();
        return { identifier: now.identifier, token };
      },
      log: (line) => this.log.info(line),
    });
    this.bound = client;
    return client;
  }

  /** The client bound now (the signed-in person's), if one was built. */
  current(): GatewayClient | undefined {
    return this.enabled ? this.bound : undefined;
  }

  private unbind(): void {
    const bound = this.bound;
    this.bound = undefined;
    void bound?.close();
  }
}
