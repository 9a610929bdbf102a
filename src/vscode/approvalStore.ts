import type * as vscode from 'vscode';
import { legacyStorageKeyFor, storageKeyFor, type Identifier } from '../core/identifier';

// "Always allow this tool" choices, kept per identity in globalState. A choice made by
// one signed-in user is never consulted for another.

const stateKey = 'onbehalf.alwaysAllowedTools';

type Stored = Record<string, string[]>;

export class ApprovalStore {
  constructor(private readonly state: vscode.Memento) {}

  private read(): Stored {
    const value = this.state.get<unknown>(stateKey);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Stored) : {};
  }

  /** The identity's choices, including those kept under the pre-hash key (GitHub, Microsoft). */
  private choicesOf(stored: Stored, identifier: Identifier): string[] {
    const legacy = legacyStorageKeyFor(identifier);
    const lists = [stored[storageKeyFor(identifier)], legacy === undefined ? undefined : stored[legacy]];
    return [...new Set(lists.flatMap((list) => (Array.isArray(list) ? list : [])))].sort();
  }

  isAlwaysAllowed(identifier: Identifier, toolName: string): boolean {
    return this.choicesOf(this.read(), identifier).includes(toolName);
  }

  async allowAlways(identifier: Identifier, toolName: string): Promise<void> {
    const stored = this.read();
    const tools = new Set(this.choicesOf(stored, identifier));
    tools.add(toolName);
    const legacy = legacyStorageKeyFor(identifier);
    if (legacy !== undefined) delete stored[legacy];
    await this.state.update(stateKey, { ...stored, [storageKeyFor(identifier)]: [...tools].sort() });
  }

  allowedFor(identifier: Identifier): string[] {
    return this.choicesOf(this.read(), identifier);
  }

  async reset(identifier: Identifier): Promise<number> {
    const stored = this.read();
    const count = this.choicesOf(stored, identifier).length;
    delete stored[storageKeyFor(identifier)];
    const legacy = legacyStorageKeyFor(identifier);
    if (legacy !== undefined) delete stored[legacy];
    await this.state.update(stateKey, stored);
    return count;
  }
}
