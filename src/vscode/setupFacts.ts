import type { SetupFacts } from '../core/nextStep';
import type { ConnectionsSnapshot } from './connectionsService';
import type { EnterpriseSnapshot } from './enterpriseService';

// The facts the next step is decided from, read the same way by the status bar, the chat's
// blocker banner and the tree: Scalekit connections and the enterprise connection together.

export function setupFacts(connections: ConnectionsSnapshot, enterprise: EnterpriseSnapshot, hasAnthropicKey: boolean): SetupFacts {
  const identifier = connections.identity?.identifier;
  const status = enterprise.status;
  return {
    signedIn: identifier !== undefined,
    ...(connections.problem ? { problem: connections.problem } : {}),
    hasAnthropicKey,
    connections: connections.connections,
    scalekitConfigured: connections.scalekitConfigured ?? true,
    enterpriseActive: identifier !== undefined && enterprise.identifier === identifier && status?.state === 'ready' && status.connected,
  };
}
