import { identifierFor } from '../../src/core/identifier';
import { ScalekitAccounts } from '../../src/scalekit/scalekitAccounts';
import { idToken, mcpClient, startOidcGateway, startWorld } from '../gateway/support';

// Gateway overhead per tool call: the same read tool (asana_workspaces_list) called N times
// through the gateway (MCP client → Streamable HTTP → token check → audit row before and
// after → Scalekit SDK → emulator) and N times straight through the Scalekit SDK adapter
// against the same emulator, interleaved in one run, after a warm-up of each.

export interface GatewayOverhead {
  readonly calls: number;
  readonly direct: { median: number; p95: number };
  readonly gateway: { median: number; p95: number };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(times: number[]): { median: number; p95: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

export async function benchGatewayOverhead(calls = 200): Promise<GatewayOverhead> {
  const world = await startWorld();
  // No rate limit: the bench sends more calls a minute than one person would.
  const gateway = await startOidcGateway(world, { rateLimitPerMinute: 0 });
  try {
    const identifier = identifierFor('oidc', 'ada', world.idp.issuer);
    world.scalekit.activateAccount(identifier, 'asana');
    world.scalekit.activateAccount(identifier, 'posthog');
    const direct = new ScalekitAccounts(() =>
      Promise.resolve({ environmentUrl: world.scalekit.url, clientId: world.scalekit.clientId, clientSecret: world.scalekit.clientSecret }),
    );
    const client = await mcpClient(gateway, await idToken(world, 'ada'));
    const viaGateway = async () => {
      const result = await client.callTool({ name: 'asana_workspaces_list', arguments: {}, _meta: { 'onbehalf/decision': 'auto' } });
      if (result.isError) throw new Error('the gateway call failed');
    };
    const viaSdk = () => direct.executeTool(identifier, 'asana', 'asana_workspaces_list', {});
    for (let i = 0; i < 20; i++) {
      await viaGateway();
      await viaSdk();
    }
    const times = { direct: [] as number[], gateway: [] as number[] };
    for (let i = 0; i < calls; i++) {
      let started = performance.now();
      await viaSdk();
      times.direct.push(performance.now() - started);
      started = performance.now();
      await viaGateway();
      times.gateway.push(performance.now() - started);
    }
    await client.close();
    return { calls, direct: summary(times.direct), gateway: summary(times.gateway) };
  } finally {
    await gateway.close();
    await world.close();
  }
}

export function printGatewayOverhead(figures: GatewayOverhead): void {
  const { direct, gateway } = figures;
  console.log('\n== Gateway overhead per tool call ==');
  console.log(
    `median ${gateway.median.toFixed(2)} ms through the gateway vs ${direct.median.toFixed(2)} ms direct (×${(gateway.median / direct.median).toFixed(2)}, +${(gateway.median - direct.median).toFixed(2)} ms); ` +
      `p95 ${gateway.p95.toFixed(2)} ms vs ${direct.p95.toFixed(2)} ms (×${(gateway.p95 / direct.p95).toFixed(2)}, +${(gateway.p95 - direct.p95).toFixed(2)} ms)`,
  );
  console.log(
    `measured: ${figures.calls} calls of asana_workspaces_list each way, interleaved, after 20 warm-up calls each, in one process on loopback: ` +
      'the MCP client SDK through the in-process gateway (OIDC token check, audit row written before and completed after, PGlite in memory) ' +
      'vs the Scalekit SDK adapter straight to the same Scalekit emulator.',
  );
}
