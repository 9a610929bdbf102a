// The extension's gateway client (src/team) against a real gateway (src/gateway, in process,
// PGlite in memory) in front of the Scalekit emulator, with tokens from the IdP emulator.
import * as assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { identifierFor, type Identifier } from '../../../src/core/identifier';
import type { RunningGateway } from '../../../src/gateway/server';
import { GatewayClient, type GatewayCredential } from '../../../src/team/gatewayClient';
import { idToken, startOidcGateway, startWorld, type World } from '../../gateway/support';

describe('team: the gateway client', function () {
  this.timeout(60_000);
  let world: World;
  let gateway: RunningGateway;
  const who = (sub: string) => identifierFor('oidc', sub, world.idp.issuer);

  /** A client for `identifier` whose session, at every request, is `session()`. */
  const clientFor = (identifier: Identifier, session: () => Promise<GatewayCredential>, baseUrl = gateway.url) =>
    new GatewayClient({ baseUrl, identifier, credential: session, identityProvider: 'oidc', issuer: world.idp.issuer });
  const sessionOf = (sub: string) => async () => ({ token: await idToken(world, sub), identifier: who(sub) });

  before(async () => {
    world = await startWorld();
    gateway = await startOidcGateway(world, { policy: { connections: { asana: { readOnly: false, default: 'allow', tools: { asana_task_create: 'ask' } } } } });
  });
  after(async () => {
    await gateway?.close();
    await world?.close();
  });

  it("lists the caller's tools with the organisation's marks and runs a call as the token's person, reporting the decision", async () => {
    world.scalekit.activateAccount(who('ada'), 'asana');
    const client = clientFor(who('ada'), sessionOf('ada'));
    const tools = await client.listTools();
    const mark = (name: string) => tools.find((t) => t.definition.name === name)?.policy;
    assert.equal(mark('asana_task_create'), 'ask');
    assert.equal(mark('asana_workspaces_list'), 'allow');
    assert.ok(
      tools.every((t) => t.definition.connection === 'asana'),
      'only the active connection',
    );
    await client.callTool('asana_workspaces_list', {}, { decision: 'auto' });
    assert.deepEqual(
      world.scalekit.executions.map((e) => [e.identifier, e.toolName]),
      [[who('ada'), 'asana_workspaces_list']],
    );
    const [record] = await client.audit();
    assert.deepEqual(
      [record?.identifier, record?.tool, record?.decision, record?.decisionSource, record?.outcome],
      [who('ada'), 'asana_workspaces_list', 'auto', 'client-reported', 'ok'],
    );
    await client.close();
  });

  it('refuses everything, and nothing runs, when the gateway sees the caller as someone else', async () => {
    const executions = world.scalekit.executions.length;
    // This window believes Grace is signed in, but the token it holds is Ada's.
    const client = clientFor(who('grace'), async () => ({ token: await idToken(world, 'ada'), identifier: who('grace') }));
    await assert.rejects(client.connections(), /The gateway sees you as someone else/);
    await assert.rejects(client.callTool('asana_workspaces_list', {}, { decision: 'auto' }), /The gateway sees you as someone else/);
    await assert.rejects(client.listTools(), /The gateway sees you as someone else/);
    assert.equal(world.scalekit.executions.length, executions);
    await client.close();
  });

  it('a client made for one person sends nothing once someone else is signed in', async () => {
    let session = sessionOf('ada');
    const client = clientFor(who('ada'), () => session());
    await client.verifyIdentity();
    session = sessionOf('grace');
    await assert.rejects(client.connections(), (error: Error) => (error as { kind?: string }).kind === 'identityChanged');
    await client.close();
  });

  it('gateway answers become typed errors: 401 not signed in, another provider, unreachable, insecure URL', async () => {
    const expired = clientFor(who('ada'), async () => ({ token: 'not-a-jwt', identifier: who('ada') }));
    await assert.rejects(
      expired.connections(),
      (error: Error & { kind?: string }) => error.kind === 'notSignedIn' && /did not accept your sign-in/.test(error.message),
    );
    const github = new GatewayClient({
      baseUrl: gateway.url,
      identifier: identifierFor('github', '1'),
      credential: sessionOf('ada'),
      identityProvider: 'github',
    });
    await assert.rejects(github.connections(), /expects oidc sign-in, and this window signs in with github/);
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const port = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(port));
      });
    });
    const unreachable = clientFor(who('ada'), sessionOf('ada'), `http://127.0.0.1:${closed}`);
    await assert.rejects(
      unreachable.connections(),
      (error: Error & { kind?: string }) => error.kind === 'serviceUnavailable' && /The OnBehalf gateway is unreachable/.test(error.message),
    );
    assert.throws(() => clientFor(who('ada'), sessionOf('ada'), 'http://gateway.example.com'), /must use https/);
  });

  it("429 with Retry-After and 503 keep the gateway's words and become retryable typed errors", async () => {
    // A server answering exactly as the contract's error section says, as a gateway's rate
    // limiter or a failing database would (the real gateway cannot be made to on demand).
    let answer: { status: number; code: string; message: string; headers?: Record<string, string> } = { status: 200, code: '', message: '' };
    const server: Server = createServer((req, res) => {
      if (req.url === '/v1/info') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: '0', identityProvider: 'oidc', connections: [] }));
        return;
      }
      if (req.url === '/v1/me') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ identifier: who('ada'), label: 'Ada' }));
        return;
      }
      res
        .writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) })
        .end(JSON.stringify({ error: { code: answer.code, message: answer.message } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = clientFor(who('ada'), sessionOf('ada'), `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      answer = { status: 429, code: 'rate_limited', message: 'Too many requests from you.', headers: { 'retry-after': '7' } };
      await assert.rejects(
        client.connections(),
        (error: Error & { kind?: string }) => error.kind === 'rateLimited' && /Too many requests from you\.; retry in 7 s/.test(error.message),
      );
      answer = { status: 503, code: 'audit_unavailable', message: 'The audit log cannot be written, so nothing runs.' };
      await assert.rejects(
        client.audit(),
        (error: Error & { kind?: string }) => error.kind === 'serviceUnavailable' && /the audit log cannot be written/i.test(error.message),
      );
      answer = { status: 400, code: 'state_invalid', message: 'This connection link was already used.' };
      await assert.rejects(
        client.verify('ar_1', 'x'.repeat(43)),
        (error: Error & { kind?: string }) => error.kind === 'connectFailed' && /already used/.test(error.message),
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
