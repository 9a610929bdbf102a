import type { AuditRow } from '../../src/gateway/store';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { GatewayConfig } from '../../src/gateway/config';
import { parsePolicy } from '../../src/gateway/policy';
import type { GatewayErrorBody } from '../../src/gateway/protocol';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../src/gateway/server';
import { startIdpEmulator, type IdpEmulator } from '../emulators/idp/server';
import { startScalekitEmulator, type ScalekitEmulator } from '../emulators/scalekit/server';

// A whole team-mode world on loopback for the gateway tier: the Scalekit emulator, the IdP
// emulator (Ada and Grace), and gateways in-process, each on PGlite in memory unless told.

export const audience = 'onbehalf-vscode';

export interface World {
  readonly scalekit: ScalekitEmulator;
  readonly idp: IdpEmulator;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const [scalekit, idp] = await Promise.all([startScalekitEmulator(), startIdpEmulator({ clientId: audience })]);
  return {
    scalekit,
    idp,
    async close() {
      await Promise.all([scalekit.close(), idp.close()]);
    },
  };
}

export function oidcConfig(world: World, overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    identity: { kind: 'oidc', issuer: world.idp.issuer, audiences: [audience], algorithms: ['RS256', 'ES256', 'PS256'], clockToleranceSeconds: 30 },
    scalekit: { environmentUrl: world.scalekit.url, clientId: world.scalekit.clientId, clientSecret: world.scalekit.clientSecret },
    database: { kind: 'pglite' },
    host: '127.0.0.1',
    port: 0,
    connections: ['posthog', 'asana'],
    policy: parsePolicy({}),
    instance: 'gw-test',
    logLevel: 'silent',
    bodyLimitBytes: 256 * 1024,
    ...overrides,
  };
}

export function startOidcGateway(world: World, overrides: Partial<GatewayConfig> = {}, options: GatewayOptions = {}): Promise<RunningGateway> {
  return startGateway(oidcConfig(world, overrides), options);
}

/** A valid ID token for `sub` from the IdP emulator, as the extension's session holds it. */
export function idToken(world: World, sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  const user = world.idp.users.find((u) => u.sub === sub);
  return world.idp.signJwt({ sub, aud: audience, ...(user ? { name: user.name, email: user.email } : {}), ...claims }, { expiresInSeconds: 3600 });
}

export interface JsonAnswer<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** A JSON request to the gateway with plain fetch. */
export async function call<T = unknown>(
  gateway: { url: string },
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<JsonAnswer<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const response = await fetch(`${gateway.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: kept as text */
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

export function errorCode(answer: JsonAnswer): string | undefined {
  return (answer.body as Partial<GatewayErrorBody>)?.error?.code;
}

/** The real MCP client SDK against the gateway's /mcp, with `token` as the bearer on every request. */
export async function mcpClient(gateway: { url: string }, token: string): Promise<Client> {
  const client = new Client({ name: 'onbehalf-gateway-test', version: '0.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  return client;
}

/** Rows of the gateway's audit table, oldest first. */
export type { AuditRow };

export async function auditRows(gateway: RunningGateway): Promise<AuditRow[]> {
  return gateway.database.query<AuditRow>('SELECT * FROM audit ORDER BY seq');
}
