import * as assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { identifierFor } from '../../src/core/identifier';
import { configFromEnv } from '../../src/gateway/config';
import { mcpMeta } from '../../src/gateway/protocol';
import type { RunningGateway } from '../../src/gateway/server';
import { idToken, mcpClient, startOidcGateway, startWorld, type World } from './support';

// OpenTelemetry: the gateway exports one span per tool call over OTLP/HTTP (JSON) to a
// receiver this test runs on loopback, with the audit's metadata as attributes and never
// the call's input, the caller's token or the plain identifier.

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}
interface OtlpSpan {
  name: string;
  attributes: OtlpAttribute[];
  status?: { code?: number };
}
interface OtlpExport {
  resourceSpans: Array<{ resource: { attributes: OtlpAttribute[] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

function attributes(list: readonly OtlpAttribute[]): Record<string, string | number | boolean | undefined> {
  return Object.fromEntries(
    list.map((a) => [a.key, a.value.stringValue ?? (a.value.intValue !== undefined ? Number(a.value.intValue) : (a.value.doubleValue ?? a.value.boolValue))]),
  );
}

describe('gateway OpenTelemetry export', function () {
  this.timeout(60_000);
  let world: World;
  let receiver: Server;
  let receiverUrl: string;
  const bodies: string[] = [];
  const contentTypes: string[] = [];

  before(async () => {
    world = await startWorld();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/v1/traces') {
          bodies.push(Buffer.concat(chunks).toString('utf8'));
          contentTypes.push(String(req.headers['content-type']));
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => receiver.close(resolve));
    await world.close();
  });

  it('is off unless an OTLP endpoint is configured, and takes OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces', () => {
    const base = {
      ONBEHALF_GATEWAY_IDENTITY: 'oidc',
      OIDC_ISSUER: world.idp.issuer,
      OIDC_AUDIENCES: 'onbehalf-vscode',
      SCALEKIT_ENVIRONMENT_URL: world.scalekit.url,
      SCALEKIT_CLIENT_ID: 'id',
      SCALEKIT_CLIENT_SECRET: 'secret',
    };
    assert.equal(configFromEnv(base).telemetry, undefined);
    assert.deepEqual(
      configFromEnv({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=k%3D1' }).telemetry,
      {
        tracesUrl: 'http://collector:4318/v1/traces',
        headers: { 'x-api-key': 'k=1' },
      },
    );
  });

  it('exports one span per tool call with identifier hash, connection, tool, risk, decision, outcome and duration; no input, token or identifier', async () => {
    const adaId = identifierFor('oidc', 'ada', world.idp.issuer);
    world.scalekit.activateAccount(adaId, 'posthog');
    const gateway: RunningGateway = await startOidcGateway(world, { telemetry: { tracesUrl: `${receiverUrl}/v1/traces`, headers: {} } });
    const token = await idToken(world, 'ada');
    const canary = 'canary-input-7f3a9c';
    try {
      const client = await mcpClient(gateway, token);
      const ok = (await client.callTool({
        name: 'posthogmcp_entity_search',
        arguments: { query: canary },
        _meta: { [mcpMeta.decision]: 'user-approved' },
      })) as CallToolResult;
      assert.notEqual(ok.isError, true);
      world.scalekit.injectFault({ kind: 'toolError', code: 'other', message: 'upstream broke', times: 1 });
      const failed = (await client.callTool({ name: 'posthogmcp_entity_search', arguments: { query: `${canary}-2` } })) as CallToolResult;
      assert.equal(failed.isError, true);
      await client.close();
    } finally {
      // Closing flushes the batch.
      await gateway.close();
    }
    const spans = bodies.flatMap((b) => (JSON.parse(b) as OtlpExport).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    assert.ok(contentTypes.every((t) => t.startsWith('application/json')));
    assert.equal(spans.length, 2, JSON.stringify(spans.map((s) => s.name)));
    const [first, second] = spans.map((s) => attributes(s.attributes));
    assert.equal(spans[0]!.name, 'tools/call posthogmcp_entity_search');
    assert.match(String(first!['onbehalf.identifier_hash']), /^[0-9a-f]{32}$/);
    assert.equal(first!['onbehalf.identifier_hash'], second!['onbehalf.identifier_hash'], 'the same user hashes the same');
    assert.deepEqual(
      { ...first, 'onbehalf.identifier_hash': 'h', 'onbehalf.duration_ms': typeof first!['onbehalf.duration_ms'] },
      {
        'onbehalf.identifier_hash': 'h',
        'onbehalf.connection': 'posthog',
        'onbehalf.tool': 'posthogmcp_entity_search',
        'onbehalf.risk': 'read',
        'onbehalf.decision': 'user-approved',
        'onbehalf.decision_source': 'client-reported',
        'onbehalf.instance': 'gw-test',
        'onbehalf.outcome': 'ok',
        'onbehalf.duration_ms': 'number',
      },
    );
    assert.equal(second!['onbehalf.outcome'], 'error');
    assert.equal(second!['onbehalf.decision'], 'unreported');
    assert.equal(spans[1]!.status?.code, 2, 'a failed call is an error span');
    const all = bodies.join('\n');
    for (const secret of [canary, token, adaId, 'upstream broke', world.scalekit.clientSecret]) {
      assert.ok(!all.includes(`"${secret}`) && !all.includes(secret.slice(0, 40)), `the export holds "${secret.slice(0, 20)}…"`);
    }
  });
});
