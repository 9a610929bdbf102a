import * as vscode from 'vscode';
import { DisposableOwner } from './lifecycle';

// The only place secrets are read or written. Values never leave this wrapper except
// to the SDK client that needs them, and are never logged.

export type SecretName = 'anthropicApiKey' | 'scalekitClientSecret' | 'enterpriseClientSecret';

const storageKeys: Record<SecretName, string> = {
  anthropicApiKey: 'onbehalf.anthropicApiKey',
  scalekitClientSecret: 'onbehalf.scalekitClientSecret',
  enterpriseClientSecret: 'onbehalf.enterpriseClientSecret',
};

export const secretNames: readonly SecretName[] = ['anthropicApiKey', 'scalekitClientSecret', 'enterpriseClientSecret'];

export class SecretStore extends DisposableOwner {
  private readonly changed = this.register(new vscode.EventEmitter<SecretName>());
  /** Fires for changes from this window and from other windows sharing the store. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly secrets: vscode.SecretStorage) {
    super();
    this.register(
      secrets.onDidChange((event) => {
        const name = secretNames.find((n) => storageKeys[n] === event.key);
        if (name) this.changed.fire(name);
      }),
    );
  }

  async get(name: SecretName): Promise<string | undefined> {
    const value = await this.secrets.get(storageKeys[name]);
    return value ? value : undefined;
  }

  async has(name: SecretName): Promise<boolean> {
    return (await this.get(name)) !== undefined;
  }

  async set(name: SecretName, value: string): Promise<void> {
    await this.secrets.store(storageKeys[name], value);
  }

  async clear(name: SecretName): Promise<void> {
    await this.secrets.delete(storageKeys[name]);
  }

  /** Deletes `name` without reading its value (nothing happens when it is not stored). */
  async forget(name: SecretName): Promise<void> {
    await this.secrets.delete(storageKeys[name]);
  }
}
