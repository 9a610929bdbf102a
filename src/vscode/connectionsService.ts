import * as vscode from 'vscode';
import { type ConnectStateStore } from '../core/connectState';
import { isPending, pendingRecheckDelays, statusLabel, type ConnectionStatus } from '../core/connectionStatus';
import {
  ConnectStateError,
  MissingCredentialsError,
  NotSignedInError,
  OnBehalfConnectError,
  OnBehalfError,
  RateLimitedError,
  ServiceUnavailableError,
  UnknownScalekitConnectionError,
  messageOf,
} from '../core/errors';
import type { Identifier, Identity } from '../core/identifier';
import type { GatewayClient } from '../team/gatewayClient';
import type { Logger } from '../core/logger';
import { type ScalekitAccounts } from '../scalekit/scalekitAccounts';
import type { ToolDefinition } from '../core/toolBackend';
import { connectionLabel } from '../shared/labels';
import type { IdentityService } from './identityService';
import { DisposableOwner } from './lifecycle';
import { externalHandlerUrl, queryParams, type ExternalOpener } from './externalUris';
import { settings } from './settings';
import type { TeamGateway } from './teamGateway';
import type { ToolPolicyMark } from '../gateway/protocol';

// Connection state for the current identity: status per connection, tools of the active
// ones, and the connect + verify flow. Everything is dropped the moment the identity changes.

export interface ConnectionState {
  readonly name: string;
  readonly status: ConnectionStatus;
  readonly tools: readonly ToolDefinition[];
  readonly error?: string;
  /** Scalekit has no connection of this name (the setting differs from the dashboard). */
  readonly unknownToScalekit?: boolean;
}

export interface ConnectionsSnapshot {
  readonly identity: Identity | undefined;
  readonly loading: boolean;
  /** Why connections cannot be listed at all (not signed in, missing credentials, service down). */
  readonly problem?: OnBehalfError;
  readonly connections: readonly ConnectionState[];
  /** Any Scalekit setting or the Scalekit secret is set (known once loaded). */
  readonly scalekitConfigured?: boolean;
  /** Team mode: the gateway every connection and tool call goes through (its host, for display). */
  readonly gateway?: { readonly host: string };
  /** Team mode: the organisation's mark per tool name (`ask`: approval every time, never "Always allow"). */
  readonly orgPolicies?: ReadonlyMap<string, ToolPolicyMark>;
}

export class ConnectionsService extends DisposableOwner {
  private readonly changed = this.register(new vscode.EventEmitter<ConnectionsSnapshot>());
  readonly onDidChange = this.changed.event;
  private current: ConnectionsSnapshot = { identity: undefined, loading: true, connections: [] };
  private generation = 0;
  private refreshing: Promise<void> | undefined;
  private followUp: Promise<void> | undefined;
  private recheckTimer: ReturnType<typeof setTimeout> | undefined;
  private recheckAttempt = 0;

  constructor(
    private readonly identity: IdentityService,
    private readonly accounts: ScalekitAccounts,
    private readonly states: ConnectStateStore,
    private readonly extensionId: string,
    private readonly openExternal: () => ExternalOpener,
    private readonly log: Logger,
    private readonly team: TeamGateway,
    private readonly hasScalekitSecret: () => Promise<boolean> = () => Promise.resolve(true),
  ) {
    super();
    this.register(identity.onDidChange(() => this.onIdentityChanged()));
    // Team mode on, off, or another gateway: nothing listed through the previous one stays.
    this.register(team.onDidChange(() => this.onIdentityChanged()));
    this.register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (['connections', 'scalekit.environmentUrl', 'scalekit.clientId'].some((key) => settings.affects(event, key))) void this.refresh();
      }),
    );
    // The verify redirect may never arrive (closed tab, other browser): re-check on focus.
    this.register(
      vscode.window.onDidChangeWindowState((state) => {
        if (state.focused && this.current.connections.some((c) => isPending(c.status))) void this.refresh();
      }),
    );
    this.register({ dispose: () => this.stopRecheck() });
  }

  get snapshot(): ConnectionsSnapshot {
    return this.current;
  }

  /**
   * Re-reads identity and every connection's status. Callers during a load share one
   * follow-up load that starts after it, so a change made mid-load (a new secret, a
   * setting) is always read.
   */
  refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.load().finally(() => {
        this.refreshing = undefined;
      });
      return this.refreshing;
    }
    this.followUp ??= this.refreshing.then(() => {
      this.followUp = undefined;
      return this.refresh();
    });
    return this.followUp;
  }

  /** The connections the user can pick: the gateway's in team mode, else the configured ones. */
  connectionNames(): string[] {
    if (!this.team.enabled) return settings.connections();
    return this.current.connections.map((c) => c.name);
  }

  async connect(name: string): Promise<void> {
    if (this.team.enabled) return this.connectThroughGateway(name, { ifInactive: true });
    const identifier = await this.identity.requireIdentifier();
    const status = await this.accounts.getOrCreate(identifier, name);
    if (status === 'ACTIVE') {
      void vscode.window.showInformationMessage(`${connectionLabel(name)} is already connected.`);
      await this.refresh();
      return;
    }
    await this.openAuthorization(identifier, name);
  }

  async reauthorize(name: string): Promise<void> {
    if (this.team.enabled) return this.connectThroughGateway(name, { ifInactive: false });
    const identifier = await this.identity.requireIdentifier();
    await this.accounts.getOrCreate(identifier, name);
    await this.openAuthorization(identifier, name);
  }

  async disconnect(name: string): Promise<void> {
    if (this.team.enabled) {
      await this.gatewayClient().then((client) => client.disconnect(name));
      this.log.info(`Disconnected ${name} through the gateway.`);
      await this.refresh();
      return;
    }
    const identifier = await this.identity.requireIdentifier();
    await this.accounts.disconnect(identifier, name);
    this.log.info(`Disconnected ${name}.`);
    await this.refresh();
  }

  /** The /verify callback: check and consume the state, then verify as the *current* identity. */
  async handleVerifyCallback(uri: vscode.Uri): Promise<string> {
    const params = queryParams(uri);
    // Which parameters came back (names only: values are single-use secrets), so the first real
    // report says whether Scalekit appended or replaced the query.
    this.log.info(`Connection callback with parameters: ${[...new Set([...params.keys()])].join(', ') || 'none'}.`);
    const identity = await this.identity.current();
    if (!identity) throw new NotSignedInError('The connection callback arrived, but nobody is signed in.');
    // A repeated parameter is ambiguous (which one did the service send?): refuse it outright.
    if (['state', 'auth_request_id', 'error'].some((key) => params.getAll(key).length > 1)) throw new ConnectStateError('malformed');
    if (this.team.enabled) return this.verifyThroughGateway(params);
    const providerError = params.get('error');
    const connection = this.states.consume(params.get('state') ?? undefined, identity.identifier);
    if (providerError) {
      await this.refresh();
      throw new OnBehalfConnectError(`${connectionLabel(connection)} consent was not given (${providerError}).`);
    }
    const authRequestId = params.get('auth_request_id');
    if (!authRequestId) {
      throw new OnBehalfConnectError(
        `${connectionLabel(connection)} sent you back without an auth_request_id, so the connection cannot be verified. Connect again; if it happens again, the OnBehalf log shows what the callback carried.`,
      );
    }
    await this.accounts.verifyUser(identity.identifier, connection, authRequestId);
    this.log.info(`Verified ${connection} for ${identity.identifier}.`);
    await this.refresh();
    return connection;
  }

  /** The gateway client of the person signed in now (their token is read again at each request). */
  private async gatewayClient(): Promise<GatewayClient> {
    const identity = await this.identity.current();
    if (!identity) throw new NotSignedInError();
    return this.team.clientFor(identity);
  }

  /**
   * Team mode's connect and re-authorize: the gateway mints the single-use state (bound to
   * the identifier IT derives) and asks Scalekit for the link; this window only opens it.
   */
  private async connectThroughGateway(name: string, options: { ifInactive: boolean }): Promise<void> {
    const client = await this.gatewayClient();
    if (options.ifInactive) {
      const status = (await client.connections()).find((c) => c.connection === name)?.status;
      if (status === 'ACTIVE') {
        void vscode.window.showInformationMessage(`${connectionLabel(name)} is already connected.`);
        await this.refresh();
        return;
      }
    }
    const verifyUrl = await externalHandlerUrl(this.extensionId, '/verify');
    const link = await client.authorize(name, verifyUrl);
    this.log.info(`Opening the ${name} authorization page from the gateway ${client.host}; Scalekit will redirect to ${verifyUrl}.`);
    const opened = await this.openExternal()(link);
    if (!opened) throw new OnBehalfConnectError(`The browser could not be opened for ${connectionLabel(name)}.`);
    await this.refresh();
    this.startRecheck();
  }

  /**
   * Team mode's /verify: only `auth_request_id` and `state` go on, to the gateway, which
   * consumes the state and verifies as the identifier it derives from this window's token.
   * Nothing else in the URI (an identifier, a connection name) is read.
   */
  private async verifyThroughGateway(params: URLSearchParams): Promise<string> {
    const providerError = params.get('error');
    if (providerError) {
      await this.refresh();
      throw new OnBehalfConnectError(`The connection consent was not given (${providerError.slice(0, 100)}).`);
    }
    const state = params.get('state');
    const authRequestId = params.get('auth_request_id');
    if (!state) throw new ConnectStateError('malformed');
    if (!authRequestId) {
      throw new OnBehalfConnectError(
        'Scalekit sent you back without an auth_request_id, so the connection cannot be verified. Connect again; if it happens again, the OnBehalf log shows what the callback carried.',
      );
    }
    const client = await this.gatewayClient();
    const verified = await client.verify(authRequestId, state);
    this.log.info(`Verified ${verified.connection} through the gateway ${client.host}.`);
    await this.refresh();
    return verified.connection;
  }

  private async openAuthorization(identifier: Identifier, name: string): Promise<void> {
    const state = this.states.mint(identifier, name);
    const verifyUrl = await externalHandlerUrl(this.extensionId, '/verify');
    const link = await this.accounts.authorizationLink(identifier, name, state, verifyUrl);
    // The verify URL holds no secret (the state is added by Scalekit's redirect, not here).
    this.log.info(`Opening the ${name} authorization page; Scalekit will redirect to ${verifyUrl}.`);
    const opened = await this.openExternal()(link);
    if (!opened) throw new OnBehalfConnectError(`The browser could not be opened for ${connectionLabel(name)}.`);
    await this.refresh();
    this.startRecheck();
  }

  private onIdentityChanged(): void {
    // Drop everything shown for the old identity before anything is fetched for the new one.
    this.generation++;
    this.stopRecheck();
    this.current = { identity: undefined, loading: true, connections: [] };
    this.changed.fire(this.current);
    void this.refresh();
  }

  private async load(): Promise<void> {
    const generation = ++this.generation;
    const names = settings.connections();
    const identity = await this.identity.current();
    if (generation !== this.generation) return;
    if (!identity) {
      this.publish(generation, { identity: undefined, loading: false, problem: new NotSignedInError(), connections: [] });
      return;
    }
    if (this.team.enabled) return this.loadThroughGateway(generation, identity);
    const missing = missingScalekitSetting();
    if (missing) {
      const scalekitConfigured = Boolean(settings.scalekitEnvironmentUrl() || settings.scalekitClientId()) || (await this.hasScalekitSecret());
      this.publish(generation, {
        identity,
        loading: false,
        problem: new MissingCredentialsError(missing),
        connections: names.map((name) => ({ name, status: 'UNKNOWN', tools: [] })),
        scalekitConfigured,
      });
      return;
    }
    this.publish(generation, {
      identity,
      loading: true,
      connections: this.current.identity?.identifier === identity.identifier ? this.current.connections : [],
    });
    try {
      const connections = await Promise.all(names.map((name) => this.loadConnection(identity.identifier, name)));
      this.publish(generation, { identity, loading: false, connections });
      if (connections.some((c) => isPending(c.status))) this.startRecheck();
      else this.stopRecheck();
    } catch (error) {
      const problem = OnBehalfError.is(error) ? error : new OnBehalfConnectError(messageOf(error));
      this.log.warn(`Could not load connections: ${problem.message}`);
      this.publish(generation, { identity, loading: false, problem, connections: names.map((name) => ({ name, status: 'UNKNOWN', tools: [] })) });
    }
  }

  /**
   * Team mode: the gateway first says who it thinks the caller is (a different answer stops
   * everything), then the organisation's connections and their statuses, then the tools of
   * the active ones with the organisation's marks.
   */
  private async loadThroughGateway(generation: number, identity: Identity): Promise<void> {
    const host = this.team.host ?? settings.gatewayUrl();
    const gateway = { host };
    let client: GatewayClient;
    try {
      client = this.team.clientFor(identity);
    } catch (error) {
      const problem = OnBehalfError.is(error) ? error : new OnBehalfConnectError(messageOf(error));
      this.publish(generation, { identity, loading: false, problem, connections: [], gateway });
      return;
    }
    this.publish(generation, {
      identity,
      loading: true,
      connections: this.current.identity?.identifier === identity.identifier ? this.current.connections : [],
      gateway,
    });
    try {
      await client.verifyIdentity();
      const entries = await client.connections();
      let tools: Awaited<ReturnType<GatewayClient['listTools']>> = [];
      let toolsError: string | undefined;
      if (entries.some((e) => e.status === 'ACTIVE')) {
        try {
          tools = await client.listTools();
        } catch (error) {
          toolsError = `Tools could not be listed: ${messageOf(error)}`;
        }
      }
      const connections: ConnectionState[] = entries.map((entry) => {
        if (entry.status !== 'ACTIVE') return { name: entry.connection, status: entry.status, tools: [] };
        if (toolsError) return { name: entry.connection, status: entry.status, tools: [], error: toolsError };
        return {
          name: entry.connection,
          status: entry.status,
          tools: tools.filter((t) => t.definition.connection === entry.connection).map((t) => t.definition),
        };
      });
      const orgPolicies = new Map(tools.map((t) => [t.definition.name, t.policy] as const));
      this.publish(generation, { identity, loading: false, connections, gateway, orgPolicies });
      if (connections.some((c) => isPending(c.status))) this.startRecheck();
      else this.stopRecheck();
    } catch (error) {
      const problem = OnBehalfError.is(error) ? error : new OnBehalfConnectError(messageOf(error));
      this.log.warn(`Could not load connections from the gateway ${host}: ${problem.message}`);
      // The gateway is down or busy for a moment: this person's rows stay, so a call made now
      // fails with the gateway's own retryable error (and Retry works once it is back)
      // instead of an unknown tool. Anything else (a refusal, another identity) shows nothing.
      const transient = ServiceUnavailableError.is(error) || RateLimitedError.is(error);
      const kept = transient && this.current.identity?.identifier === identity.identifier && this.current.gateway ? this.current : undefined;
      this.publish(generation, {
        identity,
        loading: false,
        problem,
        connections: kept?.connections ?? [],
        gateway,
        ...(kept?.orgPolicies ? { orgPolicies: kept.orgPolicies } : {}),
      });
    }
  }

  private async loadConnection(identifier: Identifier, name: string): Promise<ConnectionState> {
    let status: ConnectionStatus;
    try {
      status = await this.accounts.status(identifier, name);
    } catch (error) {
      // One misnamed connection should not hide the others: say so on its own row.
      if (UnknownScalekitConnectionError.is(error))
        return { name, status: 'UNKNOWN', tools: [], unknownToScalekit: true, error: `${error.message} ${error.hint ?? ''}`.trim() };
      throw error;
    }
    if (status !== 'ACTIVE') return { name, status, tools: [] };
    try {
      return { name, status, tools: await this.accounts.listTools(identifier, name) };
    } catch (error) {
      return { name, status, tools: [], error: `Tools could not be listed: ${messageOf(error)}` };
    }
  }

  private publish(generation: number, snapshot: ConnectionsSnapshot): void {
    if (generation !== this.generation) return; // A newer identity or refresh owns the view now.
    this.current = snapshot;
    this.changed.fire(snapshot);
  }

  private startRecheck(): void {
    if (this.recheckTimer) return;
    const delays = pendingRecheckDelays();
    const delay = delays[Math.min(this.recheckAttempt, delays.length - 1)] ?? 30_000;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      this.recheckAttempt++;
      if (this.recheckAttempt > delays.length * 2) return; // Give up quietly; focus still re-checks.
      const attempt = this.recheckAttempt;
      this.log.info(`Re-checking a pending connection (timed re-check ${attempt}, after ${delay} ms).`);
      void this.refresh().then(() => this.log.info(`Timed re-check ${attempt} done.`));
    }, delay);
  }

  private stopRecheck(): void {
    if (this.recheckTimer) clearTimeout(this.recheckTimer);
    this.recheckTimer = undefined;
    this.recheckAttempt = 0;
  }
}

function missingScalekitSetting(): 'scalekitEnvironmentUrl' | 'scalekitClientId' | undefined {
  if (!settings.scalekitEnvironmentUrl()) return 'scalekitEnvironmentUrl';
  if (!settings.scalekitClientId()) return 'scalekitClientId';
  return undefined;
}

export function describeStatus(status: ConnectionStatus): string {
  return statusLabel(status);
}
