import type { ToolDefinition } from '../core/toolBackend';
import type { Identifier } from '../core/identifier';
import type { ScalekitAccounts } from '../scalekit/scalekitAccounts';
import { judgeTool, type GatewayPolicy, type PolicyVerdict } from './policy';

// The caller's tools: every page of every ACTIVE connection's scoped tools, each with the
// policy's verdict. Listing asks Scalekit afresh; a call looks its tool up in a short-lived
// per-identifier cache first (the policy is applied again at the call, so a cached entry
// never outlives a rule).

export interface CatalogTool {
  readonly definition: ToolDefinition;
  readonly verdict: PolicyVerdict;
}

const cacheMs = 60_000;
const maxCachedIdentities = 5_000;

export class ToolCatalog {
  private readonly cache = new Map<string, { at: number; tools: Map<string, ToolDefinition> }>();

  constructor(
    private readonly accounts: Pick<ScalekitAccounts, 'status' | 'listTools'>,
    private readonly connections: readonly string[],
    private readonly policy: () => GatewayPolicy,
  ) {}

  /** Every tool of the caller's ACTIVE connections, denied ones included (with their verdict). */
  async list(identifier: Identifier): Promise<CatalogTool[]> {
    const perConnection = await Promise.all(
      this.connections.map(async (connection) => {
        const status = await this.accounts.status(identifier, connection).catch((error: unknown) => {
          // A connection the Scalekit environment does not have offers no tools; anything else is an outage.
          if (error instanceof Error && (error as { kind?: unknown }).kind === 'unknownScalekitConnection') return 'NOT_CONNECTED' as const;
          throw error;
        });
        return status === 'ACTIVE' ? this.accounts.listTools(identifier, connection) : [];
      }),
    );
    const tools = new Map<string, ToolDefinition>();
    for (const definition of perConnection.flat()) if (!tools.has(definition.name)) tools.set(definition.name, definition);
    this.remember(identifier, tools);
    return [...tools.values()].map((definition) => this.judged(definition));
  }

  /** One tool by name, from the cache when fresh, else from a new listing; undefined when the caller has no such tool. */
  async find(identifier: Identifier, name: string): Promise<CatalogTool | undefined> {
    const cached = this.cache.get(identifier);
    const fresh = cached && Date.now() - cached.at < cacheMs ? cached.tools.get(name) : undefined;
    if (fresh) return this.judged(fresh);
    const listed = await this.list(identifier);
    return listed.find((tool) => tool.definition.name === name);
  }

  private judged(definition: ToolDefinition): CatalogTool {
    return { definition, verdict: judgeTool(this.policy(), definition.connection, definition.name, definition.risk) };
  }

  private remember(identifier: Identifier, tools: Map<string, ToolDefinition>): void {
    this.cache.delete(identifier);
    if (this.cache.size >= maxCachedIdentities) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(identifier, { at: Date.now(), tools });
  }
}
