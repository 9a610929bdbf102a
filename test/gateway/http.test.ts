import * as assert from 'node:assert/strict';
import { identifierFor } from '../../src/core/identifier';
import { openDatabase } from '../../src/gateway/database';
import type { AuditResponse, ConnectionsResponse, InfoResponse, MeResponse } from '../../src/gateway/protocol';
import type { RunningGateway } from '../../src/gateway/server';
import { call, errorCode, idToken, mcpClient, startOidcGateway, startWorld, type World } from './support';

// The /v1 contract over plain fetch: health, info, me, the connect flow, disconnect, the
// caller's own audit, and bad input (4xx with a clear error, and the server stays up).

describe('gateway HTTP API', function () {
  this.timeout(60_000);
  let world: World;
  let gateway: RunningGateway;
  let ada: string;
  let adaId: string;
  const logLines: string[] = [];

  before(async () => {
    world = await startWorld();
    gateway = await startOidcGateway(world, { logLevel: 'debug' }, { logStream: { write: (line) => void logLines.push(line) } });
    ada = await idToken(world, 'ada');
    adaId = identifierFor('oidc', 'ada', world.idp.issuer);
  });
  after(async () => {
    await gateway.close();
    await world.close();
  });

  it('healthz and readyz answer, info names the identity provider, issuer, audiences and connections', async () => {
    assert.deepEqual((await call(gateway, 'GET', '/healthz')).body, { ok: true });
    assert.deepEqual((await call(gateway, 'GET', '/readyz')).body, { ok: true, instance: 'gw-test' });
    const info = await call<InfoResponse>(gateway, 'GET', '/v1/info');
    assert.deepEqual(info.body, {
      version: '0.1.0',
      identityProvider: 'oidc',
      issuer: world.idp.issuer,
      audiences: ['onbehalf-vscode'],
      connections: ['posthog', 'asana'],
    });
  });

  it('me: the identifier the gateway derived, in the extension’s own format, and the display label', async () => {
    const me = await call<MeResponse>(gateway, 'GET', '/v1/me', { token: ada });
    assert.deepEqual(me.body, { identifier: adaId, label: 'Ada Lovelace' });
    assert.match(me.body.identifier, /^oidc:[0-9a-f]{16}:ada$/);
  });

  it('connect: status, an authorization link with a gateway-minted state, verify, ACTIVE, then disconnect', async () => {
    const before = await call<ConnectionsResponse>(gateway, 'GET', '/v1/connections', { token: ada });
    assert.deepEqual(before.body.connections, [
      { connection: 'posthog', status: 'NOT_CONNECTED', policy: { readOnly: false } },
      { connection: 'asana', status: 'NOT_CONNECTED', policy: { readOnly: false } },
    ]);
    const link = await call<{ url: string }>(gateway, 'POST', '/v1/connections/asana/authorize', {
      token: ada,
      body: { userVerifyUrl: 'http://127.0.0.1:9/verify?x=1' },
    });
    assert.equal(link.status, 200);
    const requestId = new URL(link.body.url).pathname.split('/').pop()!;
    const stored = world.scalekit.getAuthRequest(requestId);
    assert.equal(stored?.identifier, adaId);
    const redirect = new URL(world.scalekit.decideConsent(requestId, 'allow').redirectUrl!);
    const state = redirect.searchParams.get('state')!;
    assert.match(state, /^[A-Za-z0-9_-]{43}$/);
    const verified = await call(gateway, 'POST', '/v1/connections/verify', {
      token: ada,
      body: { authRequestId: redirect.searchParams.get('auth_request_id')!, state },
    });
    assert.deepEqual(verified.body, { connection: 'asana', status: 'ACTIVE' });
    assert.equal(world.scalekit.getAccount(adaId, 'asana')?.status, 'ACTIVE');
    const gone = await call(gateway, 'DELETE', '/v1/connections/asana', { token: ada });
    assert.deepEqual(gone.body, { connection: 'asana', status: 'NOT_CONNECTED' });
    assert.equal(world.scalekit.getAccount(adaId, 'asana'), undefined);
  });

  it("audit: the caller's own records, newest first, in pages", async () => {
    world.scalekit.activateAccount(adaId, 'asana');
    const graceId = identifierFor('oidc', 'grace', world.idp.issuer);
    world.scalekit.activateAccount(graceId, 'asana');
    const adaClient = await mcpClient(gateway, ada);
    const graceClient = await mcpClient(gateway, await idToken(world, 'grace'));
    try {
      for (let i = 0; i < 3; i++) await adaClient.callTool({ name: 'asana_workspaces_list', arguments: { i } });
      await graceClient.callTool({ name: 'asana_workspaces_list', arguments: {} });
    } finally {
      await adaClient.close();
      await graceClient.close();
    }
    const page1 = await call<AuditResponse>(gateway, 'GET', '/v1/audit?limit=2', { token: ada });
    assert.equal(page1.body.records.length, 2);
    assert.ok(page1.body.records.every((r) => r.identifier === adaId && r.outcome === 'ok'));
    assert.ok(page1.body.next);
    const page2 = await call<AuditResponse>(gateway, 'GET', `/v1/audit?limit=2&before=${page1.body.next}`, { token: ada });
    assert.equal(page2.body.records.length, 1);
    assert.equal(page2.body.next, undefined);
    const times = [...page1.body.records, ...page2.body.records].map((r) => r.id);
    assert.equal(new Set(times).size, 3);
    const grace = await call<AuditResponse>(gateway, 'GET', '/v1/audit', { token: await idToken(world, 'grace') });
    assert.deepEqual(
      grace.body.records.map((r) => r.identifier),
      [graceId],
    );
  });

  it('bad input gets a 4xx with a clear error, and the server stays up', async () => {
    const cases: { label: string; run: () => ReturnType<typeof call>; status: number; code: string; message: RegExp }[] = [
      {
        label: 'oversized body',
        run: () => call(gateway, 'POST', '/v1/connections/posthog/authorize', { token: ada, body: { userVerifyUrl: `https://x.test/${'a'.repeat(300_000)}` } }),
        status: 413,
        code: 'payload_too_large',
        message: /larger than the gateway accepts/,
      },
      {
        label: 'oversized MCP body',
        run: () =>
          call(gateway, 'POST', '/mcp', {
            token: ada,
            headers: { accept: 'application/json, text/event-stream' },
            body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'asana_workspaces_list', arguments: { x: 'a'.repeat(300_000) } } },
          }),
        status: 413,
        code: 'payload_too_large',
        message: /larger/,
      },
      {
        label: 'malformed JSON',
        run: () => call(gateway, 'POST', '/v1/connections/verify', { token: ada, rawBody: '{"authRequestId": "ar_1", ' }),
        status: 400,
        code: 'bad_request',
        message: /not valid JSON/,
      },
      {
        label: 'unknown field',
        run: () => call(gateway, 'POST', '/v1/connections/posthog/authorize', { token: ada, body: { userVerifyUrl: 'vscode://x/verify', extra: 1 } }),
        status: 400,
        code: 'bad_request',
        message: /does not accept: "extra"/,
      },
      {
        label: 'missing field',
        run: () => call(gateway, 'POST', '/v1/connections/verify', { token: ada, body: { state: 'x'.repeat(43) } }),
        status: 400,
        code: 'bad_request',
        message: /authRequestId/,
      },
      {
        label: 'wrong type',
        run: () => call(gateway, 'POST', '/v1/connections/verify', { token: ada, body: { authRequestId: 5, state: 'x'.repeat(43) } }),
        status: 400,
        code: 'bad_request',
        message: /not valid/,
      },
      {
        label: 'not JSON at all',
        run: () => call(gateway, 'POST', '/v1/connections/verify', { token: ada, rawBody: 'state=x', headers: { 'content-type': 'text/plain' } }),
        status: 415,
        code: 'unsupported_media_type',
        message: /application\/json/,
      },
      {
        label: 'a javascript: verify URL',
        run: () => call(gateway, 'POST', '/v1/connections/posthog/authorize', { token: ada, body: { userVerifyUrl: 'javascript:alert(1)' } }),
        status: 400,
        code: 'bad_request',
        message: /may not use javascript:/,
      },
      {
        label: 'a plain-http verify URL off loopback',
        run: () => call(gateway, 'POST', '/v1/connections/posthog/authorize', { token: ada, body: { userVerifyUrl: 'http://evil.example/verify' } }),
        status: 400,
        code: 'bad_request',
        message: /https/,
      },
      {
        label: 'a connection the gateway does not offer',
        run: () => call(gateway, 'POST', '/v1/connections/github/authorize', { token: ada, body: { userVerifyUrl: 'vscode://x/verify' } }),
        status: 404,
        code: 'not_found',
        message: /no connection named "github"/,
      },
      {
        label: 'a connection name with a path in it',
        run: () => call(gateway, 'DELETE', '/v1/connections/..%2Fetc', { token: ada }),
        status: 400,
        code: 'bad_request',
        message: /connection/,
      },
      {
        label: 'unknown route',
        run: () => call(gateway, 'GET', '/v1/secrets', { token: ada }),
        status: 404,
        code: 'not_found',
        message: /There is no GET \/v1\/secrets/,
      },
      {
        label: 'audit limit out of range',
        run: () => call(gateway, 'GET', '/v1/audit?limit=100000', { token: ada }),
        status: 400,
        code: 'bad_request',
        message: /limit/,
      },
      {
        label: 'MCP over GET',
        run: () => call(gateway, 'GET', '/mcp', { token: ada }),
        status: 405,
        code: 'bad_request',
        message: /stateless: send requests with POST/,
      },
    ];
    for (const c of cases) {
      const answer = await c.run();
      assert.equal(answer.status, c.status, `${c.label}: ${JSON.stringify(answer.body).slice(0, 300)}`);
      assert.equal(errorCode(answer), c.code, c.label);
      assert.match((answer.body as { error: { message: string } }).error.message, c.message, c.label);
      assert.deepEqual((await call(gateway, 'GET', '/healthz')).body, { ok: true }, `up after ${c.label}`);
    }
    // Malformed JSON-RPC on /mcp: the MCP SDK's own 4xx, and still up.
    const rpc = await call(gateway, 'POST', '/mcp', { token: ada, headers: { accept: 'application/json, text/event-stream' }, body: { hello: 'world' } });
    assert.equal(rpc.status, 400);
    assert.deepEqual((await call(gateway, 'GET', '/healthz')).body, { ok: true });
  });

  it('logs never hold a token, a state or a query string, even at debug level', async () => {
    await call(gateway, 'GET', `/v1/me?access_token=${ada}`, { token: ada });
    await call(gateway, 'GET', '/v1/me', { token: `${ada}tampered` });
    const link = await call<{ url: string }>(gateway, 'POST', '/v1/connections/posthog/authorize', {
      token: ada,
      body: { userVerifyUrl: 'vscode://x/verify' },
    });
    const redirect = new URL(world.scalekit.decideConsent(new URL(link.body.url).pathname.split('/').pop()!, 'allow').redirectUrl!);
    const state = redirect.searchParams.get('state')!;
    await call(gateway, 'POST', '/v1/connections/verify', { token: ada, body: { authRequestId: redirect.searchParams.get('auth_request_id')!, state } });
    const all = logLines.join('');
    assert.ok(logLines.length > 10, 'debug logs were written');
    const signature = ada.split('.')[2]!;
    assert.ok(!all.includes(signature), 'no token');
    assert.ok(!all.includes(state), 'no state');
    assert.ok(!all.includes(world.scalekit.clientSecret), 'no Scalekit secret');
    assert.ok(!all.includes('access_token='), 'no query string');
  });
});

describe('gateway rate limit', function () {
  this.timeout(60_000);
  it('over the per-identifier limit: 429 rate_limited with Retry-After, for that account only', async () => {
    const world = await startWorld();
    const gateway = await startOidcGateway(world, { rateLimitPerMinute: 3 });
    try {
      const ada = await idToken(world, 'ada');
      for (let i = 0; i < 3; i++) assert.equal((await call(gateway, 'GET', '/v1/me', { token: ada })).status, 200);
      const limited = await call(gateway, 'GET', '/v1/connections', { token: ada });
      assert.equal(limited.status, 429);
      assert.equal(errorCode(limited), 'rate_limited');
      const retryAfter = Number(limited.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      assert.match((limited.body as { error: { message: string } }).error.message, /Too many requests from your account/);
      assert.equal((await call(gateway, 'GET', '/v1/me', { token: await idToken(world, 'grace') })).status, 200, 'Grace is not limited by Ada');
    } finally {
      await gateway.close();
      await world.close();
    }
  });
});

describe('gateway readiness', function () {
  this.timeout(60_000);
  it('readyz answers 503 when the database does not, while healthz stays 200', async () => {
    const world = await startWorld();
    const database = await openDatabase({ kind: 'pglite' });
    const gateway = await startOidcGateway(world, {}, { database });
    try {
      assert.equal((await call(gateway, 'GET', '/readyz')).status, 200);
      await database.close();
      const ready = await call(gateway, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.body, { ok: false, instance: 'gw-test' });
      assert.equal((await call(gateway, 'GET', '/healthz')).status, 200);
    } finally {
      await gateway.close();
      await world.close();
    }
  });
});
