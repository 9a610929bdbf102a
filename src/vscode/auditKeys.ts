import { randomBytes } from 'node:crypto';
import type * as vscode from 'vscode';
import { storageKeyFor, type Identifier } from '../core/identifier';

// One random 256-bit key per identity, kept in SecretStorage only, keys the HMAC of each
// audit record's input (see src/agent/audit.ts). It is created on first use, never logged,
// never written to the audit file, and not removed by "Clear Keys": without it the
// identity's records can no longer be checked against an input.

const keyPrefix = 'onbehalf.auditKey.';

export class AuditKeys {
  private readonly pending = new Map<string, Promise<Uint8Array>>();

  constructor(private readonly secrets: vscode.SecretStorage) {}

  /** The identity's audit key, created (32 random bytes) the first time it is needed. */
  keyFor(identifier: Identifier): Promise<Uint8Array> {
    let key = this.pending.get(identifier);
    if (!key) {
      key = this.readOrCreate(identifier);
      this.pending.set(identifier, key);
      // Read again next time: another window may have created or replaced it.
      void key.then(
        () => this.pending.delete(identifier),
        () => this.pending.delete(identifier),
      );
    }
    return key;
  }

  private async readOrCreate(identifier: Identifier): Promise<Uint8Array> {
    const name = keyPrefix + storageKeyFor(identifier);
    const stored = await this.secrets.get(name);
    if (stored) return Buffer.from(stored, 'base64');
    await this.secrets.store(name, randomBytes(32).toString('base64'));
    // Whatever is stored now wins, should another window have raced this one.
    return Buffer.from((await this.secrets.get(name)) ?? '', 'base64');
  }
}
