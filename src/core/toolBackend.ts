import type { ConnectionStatus } from './connectionStatus';
import { ConnectionInactiveError } from './errors';
import { classifyTool, type ToolAnnotations, type ToolRisk } from './toolRisk';
import type { Identifier } from './identifier';

// The one seam between the agent and whatever runs tools as the signed-in user: Scalekit
// connected accounts (src/scalekit/scalekitBackend.ts), the enterprise PostHog MCP client
// (src/enterprise/enterpriseBackend.ts), and later a team gateway over MCP. The agent loop
// and the Connections tree know only this module; a backend knows nothing of the agent.
//
// The contract every backend keeps:
// - The identifier is an argument of every call. The caller derives it from the current
//   session at the moment of the call; a backend never remembers whose call the last one was.
// - Every rejection is an OnBehalfError (src/core/errors.ts), already worded for the user,
//   except after `signal` aborted, when the rejection may be the transport's abort error.
// - Tools are listed with their MCP risk annotations and the risk they imply (`defineTool`).

/** A tool as a backend lists it: the one shape the catalog, the loop and the tree share. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
  /** The connection the tool acts through (posthog, asana, …): what routes a call to its backend. */
  readonly connection: string;
  readonly annotations?: ToolAnnotations;
  /** From the name and the annotations, the higher risk winning (core/toolRisk.ts). */
  readonly risk: ToolRisk;
}

/** Builds a ToolDefinition, with the risk classified once, in one place. */
export function defineTool(fields: Omit<ToolDefinition, 'risk'>): ToolDefinition {
  return { ...fields, risk: classifyTool(fields.name, fields.annotations) };
}

export interface ToolCall {
  /** Derived from the current session by the caller at the moment of this call. */
  readonly identifier: Identifier;
  readonly connection: string;
  readonly toolName: string;
  readonly input: Record<string, unknown>;
  /** Stop. A backend that can cancel a request in flight does; one that cannot lets it run on. */
  readonly signal: AbortSignal;
  /** How the call was approved, for a backend that audits it too (the team gateway, as client-reported). */
  readonly decision?: 'auto' | 'user-approved' | 'rule' | 'always-rule';
  /** How long the call waited for the user's approval; absent when nobody was asked. */
  readonly approvalWaitMs?: number;
}

export interface ToolExecution {
  readonly data: unknown;
  /** The backend's id for the execution, for the audit; '' when it gives none. */
  readonly executionId: string;
}

export interface ToolBackend {
  /** For logs and errors: "Scalekit", "PostHog MCP". */
  readonly label: string;
  /** Whether calls for this connection go to this backend. */
  serves(connection: string): boolean;
  /** The user's connection status at this backend, worded as Scalekit's statuses. */
  connectionStatus(identifier: Identifier, connection: string): Promise<ConnectionStatus>;
  /** Every tool of one connection the user can reach. */
  listTools(identifier: Identifier, connection: string): Promise<ToolDefinition[]>;
  execute(call: ToolCall): Promise<ToolExecution>;
}

/**
 * Several backends as one: each call goes to the first backend that serves its connection.
 * Order matters only when two serve the same connection (list the specific one first).
 */
export class ToolBackends implements ToolBackend {
  readonly label: string;

  constructor(private readonly backends: readonly ToolBackend[]) {
    this.label = backends.map((b) => b.label).join(' + ');
  }

  serves(connection: string): boolean {
    return this.backends.some((b) => b.serves(connection));
  }

  connectionStatus(identifier: Identifier, connection: string): Promise<ConnectionStatus> {
    const backend = this.backendFor(connection);
    return backend ? backend.connectionStatus(identifier, connection) : Promise.resolve('NOT_CONNECTED');
  }

  listTools(identifier: Identifier, connection: string): Promise<ToolDefinition[]> {
    const backend = this.backendFor(connection);
    return backend ? backend.listTools(identifier, connection) : Promise.resolve([]);
  }

  execute(call: ToolCall): Promise<ToolExecution> {
    const backend = this.backendFor(call.connection);
    if (!backend) return Promise.reject(new ConnectionInactiveError(call.connection, 'NOT_CONNECTED'));
    return backend.execute(call);
  }

  private backendFor(connection: string): ToolBackend | undefined {
    return this.backends.find((b) => b.serves(connection));
  }
}
