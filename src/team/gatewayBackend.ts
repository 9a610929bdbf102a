import type { ConnectionStatus } from '../core/connectionStatus';
import type { Identifier } from '../core/identifier';
import { IdentityChangedError, OutcomeUnknownError, ToolFailedError } from '../core/errors';
import { connectionLabel } from '../shared/labels';
import type { ToolBackend, ToolCall, ToolDefinition, ToolExecution } from '../core/toolBackend';
import type { ClientDecision } from '../gateway/protocol';
import { outcomeUnknownCode, type GatewayClient } from './gatewayClient';

// The team gateway behind the tool-backend seam: every connection goes to it, every call
// carries the current session's token, and the gateway (not this window) holds the
// organisation's Scalekit secret and derives whose accounts the call uses.

/** What the backend reads of the connections the host listed through the gateway. */
export interface GatewayToolPort {
  /** The client for the signed-in person, or undefined when the gateway is not in use. */
  client(): GatewayClient | undefined;
  /** The statuses and tools last listed through the gateway, with the identifier they were listed for. */
  readonly snapshot: {
    readonly identifier: Identifier | undefined;
    readonly connections: readonly { readonly name: string; readonly status: ConnectionStatus; readonly tools: readonly ToolDefinition[] }[];
  };
}

export class GatewayToolBackend implements ToolBackend {
  readonly label = 'OnBehalf gateway';

  constructor(private readonly port: GatewayToolPort) {}

  /** In team mode every connection is the gateway's: nothing reaches Scalekit from this window. */
  serves(): boolean {
    return true;
  }

  connectionStatus(identifier: Identifier, connection: string): Promise<ConnectionStatus> {
    const snapshot = this.port.snapshot;
    if (snapshot.identifier !== identifier) return Promise.resolve('NOT_CONNECTED');
    return Promise.resolve(snapshot.connections.find((c) => c.name === connection)?.status ?? 'NOT_CONNECTED');
  }

  listTools(identifier: Identifier, connection: string): Promise<ToolDefinition[]> {
    const snapshot = this.port.snapshot;
    if (snapshot.identifier !== identifier) return Promise.resolve([]);
    return Promise.resolve([...(snapshot.connections.find((c) => c.name === connection)?.tools ?? [])]);
  }

  async execute(call: ToolCall): Promise<ToolExecution> {
    const client = this.port.client();
    // The client speaks for one person; a call derived for someone else never uses it.
    if (!client || client.identifier !== call.identifier) throw new IdentityChangedError();
    const decision = clientDecision(call.decision);
    try {
      const result = await client.callTool(
        call.toolName,
        call.input,
        decision ? { decision, ...(call.approvalWaitMs !== undefined ? { approvalWaitMs: call.approvalWaitMs } : {}) } : undefined,
        call.signal,
      );
      return { data: result.data, executionId: result.executionId };
    } catch (error) {
      // The gateway's answer says the call may have run (or the answer itself was lost): the
      // same error as in personal mode, so the card and the model treat it alike.
      if (ToolFailedError.is(error) && error.code === outcomeUnknownCode) {
        throw new OutcomeUnknownError(call.toolName, connectionLabel(call.connection), error.detail);
      }
      throw error;
    }
  }
}

/** The loop's decision source in the contract's words; a denial never reaches execute. */
export function clientDecision(source: ToolCall['decision']): ClientDecision | undefined {
  switch (source) {
    case 'user-approved':
      return 'user-approved';
    case 'always-rule':
      return 'always';
    case 'rule':
      return 'rule';
    case 'auto':
      return 'auto';
    default:
      return undefined;
  }
}
