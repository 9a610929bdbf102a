import type * as vscode from 'vscode';
import { storageKeyFor } from '../core/identifier';

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

  isAlwaysAllowed(identifier: string, toolName: string): boolean {
    const tools = this.read()[storageKeyFor(identifier)];
    return Array.isArray(tools) && tools.includes(toolName);
  }

  async allowAlways(identifier: string, toolName: string): Promise<void> {
    const stored = this.read();
    const key = storageKeyFor(identifier);
    const tools = new Set(stored[key] ?? []);
    tools.add(toolName);
    await this.state.update(stateKey, { ...stored, [key]: [...tools].sort() });
  }

  allowedFor(identifier: string): string[] {
    return [...(this.read()[storageKeyFor(identifier)] ?? [])];
  }

  async reset(identifier: string): Promise<number> {
    const stored = this.read();
    const key = storageKeyFor(identifier);
    const count = stored[key]?.length ?? 0;
    delete stored[key];
    await this.state.update(stateKey, stored);
    return count;
  }
}
