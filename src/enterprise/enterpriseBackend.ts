import type { ConnectionStatus } from '../core/connectionStatus';
import type { Identifier } from '../core/identifier';
import { ToolFailedError } from '../core/errors';
import type { ToolBackend, ToolCall, ToolDefinition, ToolExecution } from '../core/toolBackend';
import type { EnterpriseStatus } from './client';

// The enterprise PostHog MCP connection behind the tool-backend seam. The client derives
// whose call it is from the current OIDC session's ID token at the moment of each request;
// its tools are the ones listed for the identity now signed in (the port's snapshot), and
// Stop cancels the MCP request in flight.

/** What the backend needs of the enterprise connection (the vscode EnterpriseService fits). */
export interface EnterpriseToolPort {
  readonly snapshot: {
    readonly status: EnterpriseStatus | undefined;
    readonly tools: readonly ToolDefinition[];
    /** The identifier the tools were listed for. */
    readonly identifier: Identifier | undefined;
  };
  callTool(toolName: string, input: Record<string, unknown>, signal?: AbortSignal): Promise<{ data: unknown; isError: boolean; text: string }>;
}

export class EnterpriseToolBackend implements ToolBackend {
  readonly label = 'PostHog MCP';

  constructor(
    private readonly port: EnterpriseToolPort,
    private readonly connection: string,
  ) {}

  serves(connection: string): boolean {
    return connection === this.connection;
  }

  connectionStatus(identifier: Identifier, connection: string): Promise<ConnectionStatus> {
    const snapshot = this.port.snapshot;
    if (connection !== this.connection || snapshot.identifier !== identifier) return Promise.resolve('NOT_CONNECTED');
    return Promise.resolve(statusOf(snapshot.status));
  }

  listTools(identifier: Identifier, connection: string): Promise<ToolDefinition[]> {
    const snapshot = this.port.snapshot;
    return Promise.resolve(connection === this.connection && snapshot.identifier === identifier ? [...snapshot.tools] : []);
  }

  async execute(call: ToolCall): Promise<ToolExecution> {
    const result = await this.port.callTool(call.toolName, call.input, call.signal);
    if (result.isError) throw new ToolFailedError(call.toolName, result.text.slice(0, 500) || 'the PostHog MCP server reported an error');
    return { data: result.data, executionId: '' };
  }
}

function statusOf(status: EnterpriseStatus | undefined): ConnectionStatus {
  if (!status) return 'NOT_CONNECTED';
  switch (status.state) {
    case 'ready':
      return status.connected ? 'ACTIVE' : 'NOT_CONNECTED';
    case 'error':
      return 'UNKNOWN';
    default:
      return 'NOT_CONNECTED';
  }
}
