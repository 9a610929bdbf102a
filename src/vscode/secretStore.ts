import * as vscode from 'vscode';
import { DisposableOwner } from './lifecycle';

// The only place secrets are read or written. Values never leave this wrapper except
// to the SDK client that needs them, and are never logged.
//
// A read is a round trip to the workbench (about 5 ms, 33 ms at p95), and every tool call
// needs the Scalekit secret, so a value read is kept until SecretStorage's change event for
// its key. That event is sent by the workbench in the same synchronous step in which the new
// value becomes readable there (SecretStorageService stores and fires onDidChangeSecret →
// $onDidChangePassword at once, for this window's writes and other windows' alike), over the
// same ordered channel as the replies to reads, and it is handled here synchronously, first
// of this store's listeners. So a reply carrying the new value always arrives after the
// kept one was dropped, and the kept value equals what a read finishing at the same moment
// would return. A read overtaken by an event is not kept (its value may predate it).

export type SecretName = 'anthropicApiKey' | 'scalekitClientSecret' | 'enterpriseClientSecret';

const storageKeys: Record<SecretName, string> = {
  anthropicApiKey: 'onbehalf.anthropicApiKey',
  scalekitClientSecret: 'onbehalf.scalekitClientSecret',
  enterpriseClientSecret: 'onbehalf.enterpriseClientSecret',
};

/** The key a secret is stored under in the extension's SecretStorage. */
export function secretStorageKey(name: SecretName): string {
  return storageKeys[name];
}

export const secretNames: readonly SecretName[] = ['anthropicApiKey', 'scalekitClientSecret', 'enterpriseClientSecret'];

export class SecretStore extends DisposableOwner {
  private readonly changed = this.register(new vscode.EventEmitter<SecretName>());
  /** Fires for changes from this window and from other windows sharing the store. */
  readonly onDidChange = this.changed.event;
  /** Values read and not changed since (undefined: none stored). */
  private readonly kept = new Map<SecretName, string | undefined>();
  /** Bumped by every change event of a name; a read overtaken by one is not kept. */
  private readonly generations = new Map<SecretName, number>();

  constructor(private readonly secrets: vscode.SecretStorage) {
    super();
    this.register(
      secrets.onDidChange((event) => {
        const name = secretNames.find((n) => storageKeys[n] === event.key);
        if (!name) return;
        // Dropped before anyone hears of the change.
        this.forget(name);
        this.changed.fire(name);
      }),
    );
  }

  private forget(name: SecretName): void {
    this.kept.delete(name);
    this.generations.set(name, (this.generations.get(name) ?? 0) + 1);
  }

  async get(name: SecretName): Promise<string | undefined> {
    if (this.kept.has(name)) return this.kept.get(name);
    for (let attempt = 1; ; attempt++) {
      const generation = this.generations.get(name) ?? 0;
      const stored = await this.secrets.get(storageKeys[name]);
      const value = stored ? stored : undefined;
      if (generation === (this.generations.get(name) ?? 0)) {
        this.kept.set(name, value);
        return value;
      }
      // Changed while the read was in flight: read again; in a storm, answer uncached.
      if (attempt >= 3) return value;
    }
  }

  async has(name: SecretName): Promise<boolean> {
    return (await this.get(name)) !== undefined;
  }

  async set(name: SecretName, value: string): Promise<void> {
    this.forget(name);
    try {
      await this.secrets.store(storageKeys[name], value);
    } finally {
      // The change event has normally dropped it already; this covers a store that sends none.
      this.forget(name);
    }
  }

  async clear(name: SecretName): Promise<void> {
    this.forget(name);
    try {
      await this.secrets.delete(storageKeys[name]);
    } finally {
      this.forget(name);
    }
  }
}
