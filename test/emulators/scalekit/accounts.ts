// Connected accounts and their authorization requests (magic links), keyed by
// identifier + connection name, with Scalekit's lifecycle:
//
//   (missing) → PENDING_AUTH → [user clicks Allow] → PENDING_VERIFICATION
//             → VerifyConnectedAccountUser(auth_request_id, same identifier) → ACTIVE
//
// Errors are thrown as ConnectError with the gRPC codes documented in README.md.
import { randomBytes } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Clock } from '../data/clock';
import type { ConnectorKey } from '../data/tool-context';

export type AccountStatus = 'ACTIVE' | 'EXPIRED' | 'PENDING_AUTH' | 'PENDING_VERIFICATION' | 'DISCONNECTED';

export const ACCOUNT_STATUSES: readonly AccountStatus[] = ['ACTIVE', 'EXPIRED', 'PENDING_AUTH', 'PENDING_VERIFICATION', 'DISCONNECTED'];

export interface Account {
  id: string;
  identifier: string;
  connectionName: string;
  connector: ConnectorKey;
  status: AccountStatus;
  createdAt: number;
  updatedAt: number;
  lastUsedAt?: number;
  /** Fake provider token, present once the account has been authorized. */
  accessToken?: string;
  apiConfig?: Record<string, unknown>;
}

export type AuthRequestPhase = 'issued' | 'approved' | 'denied' | 'verified';

export interface AuthRequest {
  id: string;
  accountId: string;
  identifier: string;
  connectionName: string;
  connector: ConnectorKey;
  state?: string;
  userVerifyUrl?: string;
  createdAt: number;
  expiresAt: number;
  phase: AuthRequestPhase;
}

/** How long a magic link (and its auth request) stays usable. */
export const AUTH_REQUEST_TTL_MS = 10 * 60 * 1000;

export class AccountStore {
  private readonly accounts = new Map<string, Account>();
  private readonly authRequests = new Map<string, AuthRequest>();
  private seq = 0;

  constructor(
    private readonly clock: Clock,
    /** connection name → connector */
    private readonly connections: Readonly<Record<string, ConnectorKey>>,
  ) {}

  connectorOf(connectionName: string): ConnectorKey | undefined {
    return Object.prototype.hasOwnProperty.call(this.connections, connectionName) ? this.connections[connectionName] : undefined;
  }

  connectionNames(): string[] {
    return Object.keys(this.connections);
  }

  /** Connection names configured for a connector, in configuration order. */
  connectionsFor(connector: ConnectorKey): string[] {
    return this.connectionNames().filter((n) => this.connections[n] === connector);
  }

  requireConnection(connectionName: string | undefined): ConnectorKey {
    if (!connectionName) throw new ConnectError('connector (connection name) is required', Code.InvalidArgument);
    const connector = this.connectorOf(connectionName);
    if (!connector) throw new ConnectError(`connection "${connectionName}" not found`, Code.NotFound);
    return connector;
  }

  private key(identifier: string, connectionName: string): string {
    return `${connectionName}\u0000${identifier}`;
  }

  get(identifier: string, connectionName: string): Account | undefined {
    return this.accounts.get(this.key(identifier, connectionName));
  }

  getById(id: string): Account | undefined {
    for (const a of this.accounts.values()) if (a.id === id) return a;
    return undefined;
  }

  all(): Account[] {
    return [...this.accounts.values()];
  }

  /**
   * Finds the account a request targets: by id, or by connection name +
   * identifier. Throws NotFound when there is none.
   */
  resolve(req: { id?: string; connector?: string; identifier?: string }): Account {
    if (req.id) {
      const byId = this.getById(req.id);
      if (!byId) throw new ConnectError(`connected account ${req.id} not found`, Code.NotFound);
      return byId;
    }
    this.requireConnection(req.connector);
    if (!req.identifier) throw new ConnectError('identifier is required', Code.InvalidArgument);
    const account = this.get(req.identifier, req.connector as string);
    if (!account) {
      throw new ConnectError(`connected account not found for identifier "${req.identifier}" on connection "${String(req.connector)}"`, Code.NotFound);
    }
    return account;
  }

  create(identifier: string, connectionName: string, status: AccountStatus = 'PENDING_AUTH'): Account {
    const connector = this.requireConnection(connectionName);
    if (!identifier) throw new ConnectError('identifier is required', Code.InvalidArgument);
    if (this.get(identifier, connectionName)) {
      throw new ConnectError(`connected account already exists for identifier "${identifier}" on connection "${connectionName}"`, Code.AlreadyExists);
    }
    const now = this.clock();
    const account: Account = {
      id: `ca_${String(++this.seq).padStart(6, '0')}${randomBytes(4).toString('hex')}`,
      identifier,
      connectionName,
      connector,
      status,
      createdAt: now,
      updatedAt: now,
    };
    if (status === 'ACTIVE') account.accessToken = this.newProviderToken();
    this.accounts.set(this.key(identifier, connectionName), account);
    return account;
  }

  getOrCreate(identifier: string, connectionName: string): Account {
    return this.get(identifier, connectionName) ?? this.create(identifier, connectionName);
  }

  setStatus(account: Account, status: AccountStatus): Account {
    account.status = status;
    account.updatedAt = this.clock();
    if (status === 'ACTIVE' && !account.accessToken) account.accessToken = this.newProviderToken();
    return account;
  }

  delete(account: Account): void {
    this.accounts.delete(this.key(account.identifier, account.connectionName));
    for (const r of this.authRequests.values()) if (r.accountId === account.id) this.authRequests.delete(r.id);
  }

  private newProviderToken(): string {
    return `emu_provider_${randomBytes(12).toString('hex')}`;
  }

  // ---- authorization requests (magic links) -----------------------------

  issueAuthRequest(account: Account, state: string | undefined, userVerifyUrl: string | undefined): AuthRequest {
    if (userVerifyUrl !== undefined) {
      try {
        new URL(userVerifyUrl);
      } catch {
        throw new ConnectError(`user_verify_url is not a valid absolute URL: ${userVerifyUrl}`, Code.InvalidArgument);
      }
    }
    const now = this.clock();
    const request: AuthRequest = {
      id: `ar_${randomBytes(16).toString('hex')}`,
      accountId: account.id,
      identifier: account.identifier,
      connectionName: account.connectionName,
      connector: account.connector,
      state,
      userVerifyUrl,
      createdAt: now,
      expiresAt: now + AUTH_REQUEST_TTL_MS,
      phase: 'issued',
    };
    this.authRequests.set(request.id, request);
    return request;
  }

  authRequest(id: string): AuthRequest | undefined {
    return this.authRequests.get(id);
  }

  isExpired(request: AuthRequest): boolean {
    return this.clock() > request.expiresAt;
  }

  /** The user clicked Allow or Deny on the consent page. */
  decide(request: AuthRequest, allow: boolean): Account | undefined {
    const account = this.getById(request.accountId);
    if (!allow) {
      request.phase = 'denied';
      return account;
    }
    if (!account) return undefined;
    account.accessToken = this.newProviderToken();
    if (request.userVerifyUrl) {
      request.phase = 'approved';
      this.setStatus(account, 'PENDING_VERIFICATION');
    } else {
      // No user_verify_url: Scalekit verifies the user itself and the account
      // becomes ACTIVE right after consent.
      request.phase = 'verified';
      this.setStatus(account, 'ACTIVE');
    }
    return account;
  }

  /** VerifyConnectedAccountUser. */
  verify(authRequestId: string, identifier: string): { request: AuthRequest; account: Account } {
    const request = this.authRequests.get(authRequestId);
    if (!request) throw new ConnectError(`auth request ${authRequestId} not found`, Code.NotFound);
    if (request.phase === 'verified') {
      throw new ConnectError(`auth request ${authRequestId} was already used`, Code.InvalidArgument);
    }
    if (this.isExpired(request)) throw new ConnectError(`auth request ${authRequestId} has expired`, Code.InvalidArgument);
    if (request.phase === 'denied') {
      throw new ConnectError(`the user denied access for auth request ${authRequestId}`, Code.FailedPrecondition);
    }
    if (request.phase === 'issued') {
      throw new ConnectError(`the user has not completed consent for auth request ${authRequestId}`, Code.FailedPrecondition);
    }
    if (request.identifier !== identifier) {
      throw new ConnectError('identifier does not match the user who started this authorization', Code.PermissionDenied);
    }
    const account = this.getById(request.accountId);
    if (!account) throw new ConnectError(`connected account for auth request ${authRequestId} no longer exists`, Code.NotFound);
    request.phase = 'verified';
    this.setStatus(account, 'ACTIVE');
    return { request, account };
  }
}
