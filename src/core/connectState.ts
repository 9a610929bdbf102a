import { randomBytes } from 'node:crypto';
import type { Identifier } from './identifier';
import { ConnectStateError } from './errors';

// The `state` sent with a Scalekit authorization link: random, single use, short lived,
// and bound to both the identifier and the connection it was minted for.

export const connectStateTtlMs = 10 * 60 * 1000;

interface StateRecord {
  readonly identifier: Identifier;
  readonly connection: string;
  readonly expiresAt: number;
  consumed: boolean;
}

export interface ConnectStateOptions {
  readonly now?: () => number;
  readonly randomToken?: () => string;
  readonly ttlMs?: number;
}

export class ConnectStateStore {
  private readonly records = new Map<string, StateRecord>();
  private readonly now: () => number;
  private readonly randomToken: () => string;
  private readonly ttlMs: number;

  constructor(options: ConnectStateOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.randomToken = options.randomToken ?? (() => randomBytes(32).toString('base64url'));
    this.ttlMs = options.ttlMs ?? connectStateTtlMs;
  }

  mint(identifier: Identifier, connection: string): string {
    this.prune();
    const state = this.randomToken();
    this.records.set(state, { identifier, connection, expiresAt: this.now() + this.ttlMs, consumed: false });
    return state;
  }

  /**
   * Checks and consumes a state for the identifier signed in *now*. Returns the
   * connection it was minted for, or throws a ConnectStateError saying why not.
   * A state presented by the wrong identity is burned too, so it cannot be retried.
   */
  consume(state: string | undefined, currentIdentifier: Identifier): string {
    if (!state) throw new ConnectStateError('malformed');
    const record = this.records.get(state);
    if (!record) throw new ConnectStateError('unknown');
    if (record.consumed) throw new ConnectStateError('replayed');
    record.consumed = true;
    if (this.now() > record.expiresAt) throw new ConnectStateError('expired');
    if (record.identifier !== currentIdentifier) throw new ConnectStateError('otherIdentity');
    return record.connection;
  }

  /** Pending (unconsumed, unexpired) connections for an identifier. */
  pendingFor(identifier: Identifier): string[] {
    const now = this.now();
    return [...this.records.values()].filter((r) => r.identifier === identifier && !r.consumed && now <= r.expiresAt).map((r) => r.connection);
  }

  /** Forget everything, e.g. on sign-out, so no state survives into another identity. */
  clear(): void {
    this.records.clear();
  }

  private prune(): void {
    // Keep consumed/expired records for one more TTL so a replay says "already used", not "unknown".
    const cutoff = this.now() - this.ttlMs;
    for (const [state, record] of this.records) {
      if (record.expiresAt < cutoff) this.records.delete(state);
    }
  }
}
