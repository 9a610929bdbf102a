import * as vscode from 'vscode';
import type { ToolDefinition } from '../core/toolBackend';
import { EnterprisePostHogClient, type EnterpriseStatus } from '../enterprise/client';
import { EnterpriseNoSessionError } from '../enterprise/errors';
import { InvalidCredentialsError, ServiceUnavailableError, isErrorKind, messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Identifier } from '../core/identifier';
import type { IdentityService } from './identityService';
import { DisposableOwner } from './lifecycle';
import type { OidcAuthProvider } from './oidcAuthProvider';
import type { SecretStore } from './secretStore';
import { enterpriseConnection } from '../shared/labels';
import { settings } from './settings';
import { tokenEndpointProblem } from '../enterprise/issuerBinding';

// The enterprise PostHog connection: PostHog's MCP server reached through ID-JAG with the
// current OIDC session's ID token. Its tools join the agent's surface under their own
// connection name, through the same approval gate and audit log.

export { enterpriseConnection };
const toolPrefix = 'posthogent_';
const tokenEndpointHint =
  'Set "onbehalf.enterprise.posthogMcp.idpTokenEndpoint" in your user settings to the token endpoint of the issuer in "onbehalf.oidc.issuer".';

export interface EnterpriseSnapshot {
  /** Undefined when the enterprise connection is not configured. */
  readonly status: EnterpriseStatus | undefined;
  readonly tools: readonly ToolDefinition[];
  /** The identifier the tools were listed for. */
  readonly identifier: Identifier | undefined;
}

/** The client of one signed-in user, with what must end with it. */
interface Lease {
  readonly client: EnterprisePostHogClient;
  readonly subscription: { dispose(): void };
}

/** How long a rebuild or deactivation waits for the previous client to end its session. */
const CLOSE_TIMEOUT_MS = 3_000;

export class EnterpriseService extends DisposableOwner {
  private readonly changed = this.register(new vscode.EventEmitter<EnterpriseSnapshot>());
  readonly onDidChange = this.changed.event;
  /** At most one client, built for one signed-in identity; closed when that identity goes. */
  private lease: Lease | undefined;
  private current: EnterpriseSnapshot = { status: undefined, tools: [], identifier: undefined };
  private generation = 0;
  /** Clients built and not closed yet (normally zero or one). */
  private readonly live = new Set<EnterprisePostHogClient>();

  constructor(
    private readonly identity: IdentityService,
    private readonly oidc: OidcAuthProvider,
    private readonly secrets: SecretStore,
    private readonly log: Logger,
  ) {
    super();
    this.register(identity.onDidChange(() => void this.rebuild()));
    // Signing in again as the same person changes no identity, but it is the way out of
    // "sign in with your company IdP": try again then.
    this.register(oidc.onDidChangeSessions(() => this.lease && this.current.status?.state === 'needs-oidc-sign-in' && void this.rebuild()));
    this.register(secrets.onDidChange((name) => name === 'enterpriseClientSecret' && void this.rebuild()));
    this.register(vscode.workspace.onDidChangeConfiguration((e) => settings.affects(e, 'enterprise.posthogMcp') && void this.rebuild()));
    this.register({ dispose: () => void this.shutdown() });
  }

  get snapshot(): EnterpriseSnapshot {
    return this.current;
  }

  /** Clients built and not closed, what they hold, and this service's subscriptions (tests). */
  held(): { clients: number; tokens: number; sessions: number; subscriptions: number } {
    const clients = [...this.live];
    return {
      clients: clients.length,
      tokens: clients.filter((c) => c.held().accessToken).length,
      sessions: clients.filter((c) => c.held().mcpSession).length,
      subscriptions: this.ownedCount,
    };
  }

  /**
   * Closes the current client and builds one for whoever is signed in now. A newer rebuild
   * (a second event for the same sign-in, a setting saved twice) supersedes this one at
   * every await: superseded work builds nothing.
   */
  async rebuild(): Promise<void> {
    const generation = ++this.generation;
    const superseded = () => generation !== this.generation;
    await this.closeCurrent();
    if (superseded()) return;
    const config = settings.enterprise();
    if (!config) return this.publish(generation, { status: undefined, tools: [], identifier: undefined });
    if (settings.identityProvider() !== 'oidc') {
      return this.publish(generation, {
        status: { state: 'needs-oidc-sign-in', message: 'Enterprise PostHog needs "onbehalf.identity.provider" set to "oidc".' },
        tools: [],
        identifier: undefined,
      });
    }
    const identity = await this.identity.current();
    if (superseded()) return;
    const missing = [...(config.idpTokenEndpoint ? [] : ['the identity provider token endpoint']), ...(config.clientId ? [] : ['the client id'])];
    if (missing.length) return this.publish(generation, { status: { state: 'not-configured', missing }, tools: [], identifier: undefined });
    // A token endpoint off the issuer is refused before anything is sent, signed in or not.
    const problem = await this.tokenEndpointProblem(config.idpTokenEndpoint);
    if (superseded()) return;
    if (problem) {
      this.log.warn(`Enterprise PostHog: ${problem}`);
      return this.publish(generation, {
        status: { state: 'error', kind: 'enterpriseNotConfigured', message: problem, hint: tokenEndpointHint },
        tools: [],
        identifier: undefined,
      });
    }
    // Nobody signed in: no client, so nothing of anyone is held.
    if (!identity)
      return this.publish(generation, {
        status: { state: 'needs-oidc-sign-in', message: new EnterpriseNoSessionError().message },
        tools: [],
        identifier: undefined,
      });
    const clientSecret = await this.secrets.get('enterpriseClientSecret');
    if (superseded()) return;
    const client = new EnterprisePostHogClient({
      ...(config.mcpServerUrl ? { mcpServerUrl: config.mcpServerUrl } : {}),
      idpTokenEndpoint: config.idpTokenEndpoint,
      clientId: config.clientId,
      ...(config.resourceClientId ? { resourceClientId: config.resourceClientId } : {}),
      ...(clientSecret ? { clientSecret } : {}),
      scopes: config.scopes,
      // Read at call time from the current session, never cached here.
      getIdToken: () => this.oidc.currentIdToken(),
      connection: enterpriseConnection,
      toolNamePrefix: toolPrefix,
      closeTimeoutMs: CLOSE_TIMEOUT_MS - 500,
      log: (line) => this.log.info(line),
    });
    const subscription = client.onDidChangeStatus((status) => this.publish(generation, { ...this.current, status }));
    this.lease = { client, subscription };
    this.live.add(client);
    try {
      const tools = await client.listTools();
      this.publish(generation, { status: client.status(), tools, identifier: identity.identifier });
    } catch (error) {
      if (superseded()) return;
      this.log.warn(`Enterprise PostHog: ${messageOf(error)}`);
      this.publish(generation, { status: client.status(), tools: [], identifier: identity.identifier });
    }
  }

  /** Deactivation: ends the current MCP session on the server, waiting a bounded time. */
  async shutdown(): Promise<void> {
    this.generation++;
    await this.closeCurrent();
  }

  /** Ends the current client: its status subscription, its MCP session (DELETE), its tokens. */
  private async closeCurrent(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    if (!lease) return;
    lease.subscription.dispose();
    const closing = lease.client
      .close()
      .catch(() => undefined)
      .finally(() => this.live.delete(lease.client));
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A server that never answers must not hold up the next user or deactivation.
    const closed = await Promise.race([
      closing.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (!closed) this.log.warn(`Enterprise PostHog: the previous MCP session did not close within ${CLOSE_TIMEOUT_MS / 1000} s; going on without it.`);
  }

  /** A new IdP client secret is tried with a real token exchange before it is stored. */
  async checkClientSecret(secret: string): Promise<void> {
    const config = settings.enterprise();
    if (!config) throw new ServiceUnavailableError('Identity provider', 'the enterprise PostHog connection is not configured, so the secret cannot be tried');
    const problem = await this.tokenEndpointProblem(config.idpTokenEndpoint);
    if (problem) throw new ServiceUnavailableError('Identity provider', problem);
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
      if (isErrorKind(error, 'enterpriseInvalidClient'))
        throw new InvalidCredentialsError('enterpriseClientSecret', 'the identity provider did not accept this client secret.');
      throw new ServiceUnavailableError('Identity provider', messageOf(error));
    } finally {
      await probe.close().catch(() => undefined);
    }
  }

  async callTool(toolName: string, input: Record<string, unknown>, signal?: AbortSignal): Promise<{ data: unknown; isError: boolean; text: string }> {
    const lease = this.lease;
    if (!lease) throw new Error('The enterprise PostHog connection is not set up.');
    return lease.client.callTool(toolName, input, signal);
  }

  /**
   * The ID token and the IdP client secret go only to a token endpoint of the OIDC issuer the
   * user signs in with. Checked before any request; the issuer's own discovery document is
   * read only when the endpoint is not on the issuer's origin.
   */
  private async tokenEndpointProblem(tokenEndpoint: string): Promise<string | undefined> {
    if (!tokenEndpoint) return undefined; // Not configured: the client reports what is missing.
    const issuer = settings.oidcIssuer();
    const quick = tokenEndpointProblem(tokenEndpoint, issuer, undefined);
    if (!quick || !issuer) return quick;
    return tokenEndpointProblem(tokenEndpoint, issuer, await this.oidc.issuerTokenEndpoint());
  }

  private publish(generation: number, snapshot: EnterpriseSnapshot): void {
    if (generation !== this.generation) return;
    this.current = snapshot;
    this.changed.fire(snapshot);
  }
}
