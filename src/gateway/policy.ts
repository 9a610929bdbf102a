import type { ToolRisk } from '../core/toolRisk';
import type { ToolPolicyMark } from './protocol';

// The organisation's policy, set by the admin in a JSON file (ONBEHALF_GATEWAY_POLICY) and
// enforced here, where users cannot loosen it:
//
//   {
//     "connections": {
//       "posthog": { "default": "allow", "tools": { "posthogmcp_persons_bulk_delete": "deny" } },
//       "asana":   { "readOnly": true, "tools": { "asana_task_create": "ask" } }
//     }
//   }
//
// A tool's rule is its own entry, else its connection's `default`, else "allow". A read-only
// connection denies every write and destructive tool whatever its rule. "deny": absent from
// tools/list and refused at tools/call. "ask": listed, marked so the extension asks every time
// and never offers "always allow". "allow": the extension's own approvals still apply.

export type ToolRule = 'allow' | 'ask' | 'deny';

export interface ConnectionPolicy {
  readonly readOnly: boolean;
  readonly default: ToolRule;
  readonly tools: Readonly<Record<string, ToolRule>>;
}

export interface GatewayPolicy {
  readonly connections: Readonly<Record<string, ConnectionPolicy>>;
}

export type PolicyVerdict =
  { readonly allowed: true; readonly mark: ToolPolicyMark } | { readonly allowed: false; readonly reason: 'policy-deny' | 'read-only' };

const rules: readonly ToolRule[] = ['allow', 'ask', 'deny'];
const openConnection: ConnectionPolicy = { readOnly: false, default: 'allow', tools: {} };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rule(value: unknown, where: string): ToolRule {
  if (typeof value === 'string' && (rules as readonly string[]).includes(value)) return value as ToolRule;
  throw new Error(`${where} must be "allow", "ask" or "deny"`);
}

/** Checks a policy document strictly: an unknown key is an error, not ignored, so a typo never loosens a rule. */
export function parsePolicy(raw: unknown): GatewayPolicy {
  if (!isRecord(raw)) throw new Error('the policy must be a JSON object');
  for (const key of Object.keys(raw)) if (key !== 'connections') throw new Error(`unknown policy key "${key.slice(0, 40)}"`);
  const connections: Record<string, ConnectionPolicy> = {};
  const rawConnections = raw['connections'] ?? {};
  if (!isRecord(rawConnections)) throw new Error('"connections" must be an object');
  for (const [name, value] of Object.entries(rawConnections)) {
    if (!isRecord(value)) throw new Error(`connections.${name} must be an object`);
    for (const key of Object.keys(value)) {
      if (!['readOnly', 'default', 'tools'].includes(key)) throw new Error(`unknown key "${key.slice(0, 40)}" in connections.${name}`);
    }
    const readOnly = value['readOnly'] ?? false;
    if (typeof readOnly !== 'boolean') throw new Error(`connections.${name}.readOnly must be true or false`);
    const tools: Record<string, ToolRule> = {};
    const rawTools = value['tools'] ?? {};
    if (!isRecord(rawTools)) throw new Error(`connections.${name}.tools must be an object`);
    for (const [tool, toolRule] of Object.entries(rawTools)) tools[tool] = rule(toolRule, `connections.${name}.tools.${tool}`);
    connections[name] = { readOnly, default: value['default'] === undefined ? 'allow' : rule(value['default'], `connections.${name}.default`), tools };
  }
  return { connections };
}

export function connectionPolicy(policy: GatewayPolicy, connection: string): ConnectionPolicy {
  return Object.hasOwn(policy.connections, connection) ? policy.connections[connection]! : openConnection;
}

/** What the policy says about one tool of one connection, given the tool's risk. */
export function judgeTool(policy: GatewayPolicy, connection: string, tool: string, risk: ToolRisk): PolicyVerdict {
  const forConnection = connectionPolicy(policy, connection);
  if (forConnection.readOnly && risk !== 'read') return { allowed: false, reason: 'read-only' };
  const toolRule = Object.hasOwn(forConnection.tools, tool) ? forConnection.tools[tool]! : forConnection.default;
  if (toolRule === 'deny') return { allowed: false, reason: 'policy-deny' };
  return { allowed: true, mark: toolRule };
}
