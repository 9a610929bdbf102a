import type { ConnectionStatus } from '../core/connectionStatus';
import type { Identifier } from '../core/identifier';
import type { ToolBackend, ToolCall, ToolDefinition, ToolExecution } from '../core/toolBackend';
import type { ScalekitAccounts } from './scalekitAccounts';

// Scalekit connected accounts behind the tool-backend seam. ScalekitAccounts already takes
// the identifier on every call and maps SDK errors to typed ones; this only fits its shape.
// The Scalekit SDK takes no AbortSignal, so a request already sent runs on after Stop (the
// agent loop says so on the card and audits what really happened).

export class ScalekitToolBackend implements ToolBackend {
  readonly label = 'Scalekit';

  /** `serves`: the connections routed here; by default every one (list Scalekit last). */
  constructor(
    private readonly accounts: Pick<ScalekitAccounts, 'status' | 'listTools' | 'executeTool'>,
    private readonly servesConnection: (connection: string) => boolean = () => true,
  ) {}

  serves(connection: string): boolean {
    return this.servesConnection(connection);
  }

  connectionStatus(identifier: Identifier, connection: string): Promise<ConnectionStatus> {
    return this.accounts.status(identifier, connection);
  }

  listTools(identifier: Identifier, connection: string): Promise<ToolDefinition[]> {
    return this.accounts.listTools(identifier, connection);
  }

  execute(call: ToolCall): Promise<ToolExecution> {
    return this.accounts.executeTool(call.identifier, call.connection, call.toolName, call.input);
  }
}
