// Connection statuses as shown to the user. Scalekit's ConnectorStatus enum is
// 1 ACTIVE, 2 EXPIRED, 3 PENDING_AUTH, 4 PENDING_VERIFICATION, 5 DISCONNECTED.

export type ConnectionStatus = 'ACTIVE' | 'EXPIRED' | 'PENDING_AUTH' | 'PENDING_VERIFICATION' | 'DISCONNECTED' | 'NOT_CONNECTED' | 'UNKNOWN';

const byNumber: Record<number, ConnectionStatus> = {
  1: 'ACTIVE',
  2: 'EXPIRED',
  3: 'PENDING_AUTH',
  4: 'PENDING_VERIFICATION',
  5: 'DISCONNECTED',
};

export function statusFromScalekit(value: number | string | undefined): ConnectionStatus {
  if (typeof value === 'number') return byNumber[value] ?? 'UNKNOWN';
  if (typeof value === 'string' && Object.values(byNumber).includes(value as ConnectionStatus)) return value as ConnectionStatus;
  return 'UNKNOWN';
}

export function isPending(status: ConnectionStatus): boolean {
  return status === 'PENDING_AUTH' || status === 'PENDING_VERIFICATION';
}

export function statusLabel(status: ConnectionStatus): string {
  switch (status) {
    case 'ACTIVE':
      return 'Connected';
    case 'EXPIRED':
      return 'Expired';
    case 'PENDING_AUTH':
      return 'Waiting for consent';
    case 'PENDING_VERIFICATION':
      return 'Waiting for verification';
    case 'DISCONNECTED':
      return 'Disconnected';
    case 'NOT_CONNECTED':
      return 'Not connected yet';
    case 'UNKNOWN':
      return 'Status unknown';
  }
}

/** What the primary action for a connection in this status is. */
export function nextActionFor(status: ConnectionStatus): 'connect' | 'reauthorize' | 'none' {
  switch (status) {
    case 'ACTIVE':
      return 'none';
    case 'EXPIRED':
      return 'reauthorize';
    default:
      return 'connect';
  }
}

/** Backoff for re-checking a pending connection when the redirect never arrives. */
export function pendingRecheckDelays(): number[] {
  return [3_000, 6_000, 12_000, 24_000, 48_000, 96_000];
}

export type Product = 'posthog' | 'asana';

/**
 * Which products have an ACTIVE connection. The admin names connections freely, so a
 * connection counts by its name or, once active, by its tools' prefixes (Scalekit names
 * tools after the connector: posthogmcp_*, asana_*).
 */
export function activeProducts(
  connections: readonly { name: string; status: ConnectionStatus; tools: readonly { name: string }[] }[],
): Record<Product, boolean> {
  const active = { posthog: false, asana: false };
  for (const connection of connections) {
    if (connection.status !== 'ACTIVE') continue;
    for (const product of ['posthog', 'asana'] as const) {
      if (connection.name.toLowerCase().includes(product) || connection.tools.some((tool) => tool.name.toLowerCase().startsWith(product)))
        active[product] = true;
    }
  }
  return active;
}
