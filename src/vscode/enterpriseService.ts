import * as vscode from 'vscode';
import type { ToolSource } from '../agent/toolCatalog';
import { EnterprisePostHogClient, type EnterpriseStatus } from '../enterprise/client';
import { InvalidCredentialsError, ServiceUnavailableError, isErrorKind, messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import type { IdentityService } from './identityService';
import { DisposableOwner } from './lifecycle';
import type { OidcAuthProvider } from './oidcAuthProvider';
import type { SecretStore } from './secretStore';
import { enterpriseConnection } from '../shared/labels';
import { settings } from './settings';

// The enterprise PostHog connection: PostHog's MCP server reached through ID-JAG with the
// current OIDC session's ID token. Its tools join the agent's surface under their own
// connection name, through the same approval gate and audit log.

export { enterpriseConnection };
const toolPrefix = 'posthogent_';

export interface EnterpriseSnapshot {
  /** Undefined when the enterprise connection is not configured. */
  readonly status: EnterpriseStatus | undefined;
  readonly tools: readonly ToolSource[];
  /** The identifier the tools were listed for. */
  readonly identifier: string | undefined;
}

export class EnterpriseService extends DisposableOwner {
  private readonly changed = this.register(new vscode.EventEmitter<EnterpriseSnapshot>());
  readonly onDidChange = this.changed.event;
  private client: EnterprisePostHogClient | undefined;
  private current: EnterpriseSnapshot = { status: undefined, tools: [], identifier: undefined };
  private generation = 0;

  constructor(
    private readonly identity: IdentityService,
    private readonly oidc: OidcAuthProvider,
    private readonly secrets: SecretStore,
    private readonly log: Logger,
  ) {
    super();
    this.register(identity.onDidChange(() => void this.rebuild()));
    this.register(secrets.onDidChange((name) => name === 'enterpriseClientSecret' && void this.rebuild()));
    this.register(vscode.workspace.onDidChangeConfiguration((e) => settings.affects(e, 'enterprise.posthogMcp') && void this.rebuild()));
    this.register({ dispose: () => void this.client?.close() });
  }

  get snapshot(): EnterpriseSnapshot {
    return this.current;
  }

  async rebuild(): Promise<void> {
    const generation = ++this.generation;
    const previous = this.client;
    this.client = undefined;
    // Closing ends the old MCP session; a server that never answers must not hold up the new one.
    if (previous) {
      const closed = await Promise.race([previous.close().then(() => true, () => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 3_000))]);
      if (!closed) this.log.warn('Enterprise PostHog: the previous MCP session did not close within 3 s; going on without it.');
    }
    if (generation !== this.generation) return;
    const config = settings.enterprise();
    if (!config) return this.publish(generation, { status: undefined, tools: [], identifier: undefined });
    if (settings.identityProvider() !== 'oidc') {
      return this.publish(generation, { status: { state: 'needs-oidc-sign-in', message: 'Enterprise PostHog needs "onbehalf.identity.provider" set to "oidc".' }, tools: [], identifier: undefined });
    }
    const clientSecret = await this.secrets.get('enterpriseClientSecret');
    const client = new EnterprisePostHogClient({
      ...(config.mcpServerUrl ? { mcpServerUrl: config.mcpServerUrl } : {}),
      idpTokenEndpoint: config.idpTokenEndpoint,
      clientId: config.clientId,
      ...(clientSecret ? { clientSecret } : {}),
      scopes: config.scopes,
      // Read at call time from the current session, never cached here.
      getIdToken: () => this.oidc.currentIdToken(),
      connection: enterpriseConnection,
      toolNamePrefix: toolPrefix,
      log: (line) => this.log.info(line),
    });
    this.client = client;
    this.register(client.onDidChangeStatus((status) => generation === this.generation && this.publish(generation, { ...this.current, status })));
    const identity = await this.identity.current();
    if (!identity) return this.publish(generation, { status: client.status(), tools: [], identifier: undefined });
    try {
      const tools = await client.listTools();
      this.publish(generation, { status: client.status(), tools, identifier: identity.identifier });
    } catch (error) {
      this.log.warn(`Enterprise PostHog: ${messageOf(error)}`);
      this.publish(generation, { status: client.status(), tools: [], identifier: identity.identifier });
    }
  }

  /** A new IdP client secret is tried with a real token exchange before it is stored. */
  async checkClientSecret(secret: string): Promise<void> {
    const config = settings.enterprise();
    if (!config) throw new ServiceUnavailableError('Identity provider', 'the enterprise PostHog connection is not configured, so the secret cannot be tried');
    const probe = new EnterprisePostHogClient({
      ...(config.mcpServerUrl ? { mcpServerUrl: config.mcpServerUrl } : {}),
      idpTokenEndpoint: config.idpTokenEndpoint,
      clientId: config.clientId,
      clientSecret: secret,
      scopes: config.scopes,
      getIdToken: () => this.oidc.currentIdToken(),
      connection: enterpriseConnection,
      toolNamePrefix: toolPrefix,
    });
    try {
      await probe.connect();
    } catch (error) {
      if (isErrorKind(error, 'enterpriseInvalidClient')) throw new InvalidCredentialsError('enterpriseClientSecret', 'the identity provider did not accept this client secret.');
      throw new ServiceUnavailableError('Identity provider', messageOf(error));
    } finally {
      await probe.close().catch(() => undefined);
    }
  }

  async callTool(toolName: string, input: Record<string, unknown>, signal?: AbortSignal): Promise<{ data: unknown; isError: boolean; text: string }> {
    if (!this.client) throw new Error('The enterprise PostHog connection is not set up.');
    return this.client.callTool(toolName, input, signal);
  }

  private publish(generation: number, snapshot: EnterpriseSnapshot): void {
    if (generation !== this.generation) return;
    this.current = snapshot;
    this.changed.fire(snapshot);
  }
}
