import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { identifierFor } from '../../src/core/identifier';
import { openDatabase } from '../../src/gateway/database';
import type { AuditResponse } from '../../src/gateway/protocol';
import type { RunningGateway } from '../../src/gateway/server';
import { startPostgresServer, type PostgresServer } from './postgresServer';
import { auditRows, call, idToken, mcpClient, startOidcGateway, startWorld, type World } from './support';

// Several instances, one database: a link minted on instance A verifies on instance B, and
// audit rows from both are one history. In-process on a shared PGlite, and as real
// `node dist/gateway.js` processes on a real Postgres server (SIGTERM finishes in-flight work).

const root = join(__dirname, '..', '..', '..');

async function connectAcross(world: World, a: RunningGateway, b: RunningGateway): Promise<void> {
  const ada = await idToken(world, 'ada');
  const adaId = identifierFor('oidc', 'ada', world.idp.issuer);
  const link = await call<{ url: string }>(a, 'POST', '/v1/connections/posthog/authorize', {
    token: ada,
    body: { userVerifyUrl: 'vscode://onbehalf.onbehalf/verify' },
  });
  assert.equal(link.status, 200, JSON.stringify(link.body));
  const redirect = new URL(world.scalekit.decideConsent(new URL(link.body.url).pathname.split('/').pop()!, 'allow').redirectUrl!);
  const body = { authRequestId: redirect.searchParams.get('auth_request_id')!, state: redirect.searchParams.get('state')! };
  const verified = await call(b, 'POST', '/v1/connections/verify', { token: ada, body });
  assert.deepEqual(verified.body, { connection: 'posthog', status: 'ACTIVE' });
  assert.equal(world.scalekit.getAccount(adaId, 'posthog')?.status, 'ACTIVE');
  const replay = await call(a, 'POST', '/v1/connections/verify', { token: ada, body });
  assert.equal(replay.status, 400, 'consumed on B means consumed on A');
}

describe('gateway instances sharing one database', function () {
  this.timeout(180_000);
  let world: World;
  let postgres: PostgresServer | undefined;
  const children: ChildProcess[] = [];
  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await postgres?.close();
    await world.close();
  });

  it('in-process on one PGlite: a state minted on A verifies on B; both write one audit history', async () => {
    const database = await openDatabase({ kind: 'pglite' });
    const a = await startOidcGateway(world, { instance: 'gw-a' }, { database });
    const b = await startOidcGateway(world, { instance: 'gw-b' }, { database });
    try {
      await connectAcross(world, a, b);
      const ada = await idToken(world, 'ada');
      for (const gw of [a, b]) {
        const client = await mcpClient(gw, ada);
        await client.callTool({ name: 'posthogmcp_action_get', arguments: { id: 1 } });
        await client.close();
      }
      assert.deepEqual(
        (await auditRows(a)).map((r) => r.instance),
        ['gw-a', 'gw-b'],
      );
    } finally {
      await a.close();
      await b.close();
      await database.close();
    }
  });

  it('as two `node dist/gateway.js` processes on a real Postgres server: A mints, B verifies; SIGTERM lets a call in flight finish', async () => {
    postgres = await startPostgresServer();
    const url = await postgres.createDatabase();
    const start = async (instance: string): Promise<{ url: string; child: ChildProcess; exited: Promise<number | null> }> => {
      const child = spawn(process.execPath, [join(root, 'dist', 'gateway.js')], {
        env: {
          PATH: process.env['PATH'] ?? '',
          ONBEHALF_GATEWAY_IDENTITY: 'oidc',
          OIDC_ISSUER: world.idp.issuer,
          OIDC_AUDIENCES: 'onbehalf-vscode',
          SCALEKIT_ENVIRONMENT_URL: world.scalekit.url,
          SCALEKIT_CLIENT_ID: world.scalekit.clientId,
          SCALEKIT_CLIENT_SECRET: world.scalekit.clientSecret,
          DATABASE_URL: url,
          PORT: '0',
          ONBEHALF_GATEWAY_INSTANCE: instance,
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      let output = '';
      const address = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/\S+)/.exec(output);
          if (match) resolve(match[1]!);
        });
        void exited.then((code) => reject(new Error(`gateway ${instance} exited with ${code}: ${output}`)));
      });
      return { url: address, child, exited };
    };
    const [a, b] = await Promise.all([start('proc-a'), start('proc-b')]);
    const asGateway = (g: { url: string }) => ({ url: g.url }) as RunningGateway;
    await connectAcross(world, asGateway(a), asGateway(b));

    // A call in flight when SIGTERM arrives still completes, is audited, and the process exits 0.
    const ada = await idToken(world, 'ada');
    world.scalekit.injectFault({ kind: 'latency', ms: 1500, rpc: 'ExecuteTool', times: 1 });
    const client = await mcpClient(a, ada);
    const inFlight = client.callTool({ name: 'posthogmcp_action_get', arguments: { id: 1 } });
    const db = await openDatabase({ kind: 'postgres', url, poolSize: 1 });
    try {
      for (let i = 0; i < 300 && (await db.query('SELECT 1 FROM audit')).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      a.child.kill('SIGTERM');
      const result = await inFlight;
      assert.notEqual(result.isError, true);
      assert.equal(await a.exited, 0);
      const rows = await db.query<{ outcome: string; instance: string }>('SELECT outcome, instance FROM audit');
      assert.deepEqual(rows, [{ outcome: 'ok', instance: 'proc-a' }]);
      const viaB = await call<AuditResponse>(asGateway(b), 'GET', '/v1/audit', { token: ada });
      assert.deepEqual(
        viaB.body.records.map((r) => r.instance),
        ['proc-a'],
        'B reads what A wrote',
      );
    } finally {
      await client.close().catch(() => undefined);
      await db.close();
      b.child.kill('SIGTERM');
      assert.equal(await b.exited, 0);
    }
  });

  it('`node dist/gateway.js` with a bad configuration stops at once, naming each variable', async () => {
    const child = spawn(process.execPath, [join(root, 'dist', 'gateway.js')], {
      env: { PATH: process.env['PATH'] ?? '', ONBEHALF_GATEWAY_IDENTITY: 'oidc', OIDC_ISSUER: 'http://idp.example.com', SCALEKIT_CLIENT_ID: 'x' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(output, /OIDC_ISSUER: must use https/);
    assert.match(output, /OIDC_AUDIENCES: is not set/);
    assert.match(output, /SCALEKIT_ENVIRONMENT_URL: is not set/);
    assert.match(output, /SCALEKIT_CLIENT_SECRET: is not set/);
    assert.doesNotMatch(output, /SCALEKIT_CLIENT_ID:/);
  });
});
