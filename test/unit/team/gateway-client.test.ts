// The extension's gateway client (src/team) against a real gateway (src/gateway, in process,
// PGlite in memory) in front of the Scalekit emulator, with tokens from the IdP emulator.
import * as assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { identifierFor, type Identifier } from '../../../src/core/identifier';
import type { RunningGateway } from '../../../src/gateway/server';
import { OutcomeUnknownError, ServiceUnavailableError } from '../../../src/core/errors';
import type { ToolCall } from '../../../src/core/toolBackend';
import { GatewayToolBackend } from '../../../src/team/gatewayBackend';
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

  describe('a tool call that may have run is never sent again', () => {
    const backendFor = (client: GatewayClient) => new GatewayToolBackend({ client: () => client, snapshot: { identifier: who('ada'), connections: [] } });
    const createTask = (name: string): ToolCall => ({
      identifier: who('ada'),
      connection: 'asana',
      toolName: 'asana_task_create',
      input: { name, workspace_gid: world.scalekit.data.asana.workspace.gid },
      signal: new AbortController().signal,
      decision: 'user-approved',
    });
    const created = (name: string) => [...world.scalekit.data.asana.tasks.values()].filter((task) => task.name === name).length;
    const mayHaveRun = (error: unknown) =>
      OutcomeUnknownError.is(error) && /may or may not have run/.test(error.message) && /Check in Asana/.test(error.hint ?? '');

    it("Scalekit's answer lost at the gateway: the same error as in personal mode, and the task exists once", async () => {
      world.scalekit.activateAccount(who('ada'), 'asana');
      const client = clientFor(who('ada'), sessionOf('ada'));
      world.scalekit.injectFault({ kind: 'lostAnswer', rpc: 'ExecuteTool', times: 1 });
      await assert.rejects(backendFor(client).execute(createTask('Lost at the gateway')), mayHaveRun);
      assert.equal(created('Lost at the gateway'), 1);
      await client.close();
    });

    it("the gateway's answer lost on the way back: the call ran once; a gateway that refuses connections stays 'unreachable'", async () => {
      world.scalekit.activateAccount(who('ada'), 'asana');
      // A proxy in front of the real gateway that forwards a tools/call, lets it run, and
      // then closes the connection instead of passing the answer back.
      const body = (req: IncomingMessage) =>
        new Promise<Buffer>((resolve) => {
          const chunks: Buffer[] = [];
          req.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks)));
        });
      const proxy: Server = createServer((req, res) => {
        void (async () => {
          const sent = await body(req);
          const headers = Object.fromEntries(
            Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)),
          ) as Record<string, string>;
          const upstream = await fetch(`${gateway.url}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(sent.length ? { body: sent } : {}) });
          const answer = Buffer.from(await upstream.arrayBuffer());
          if (sent.includes('"tools/call"')) {
            req.socket.destroy();
            return;
          }
          res
            .writeHead(
              upstream.status,
              Object.fromEntries([...upstream.headers].filter(([k]) => !['content-length', 'transfer-encoding', 'content-encoding', 'connection'].includes(k))),
            )
            .end(answer);
        })();
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      try {
        const client = clientFor(who('ada'), sessionOf('ada'), proxyUrl);
        await assert.rejects(backendFor(client).execute(createTask('Lost on the way back')), mayHaveRun);
        assert.equal(created('Lost on the way back'), 1, 'the gateway ran it once, and nothing sent it again');
        await client.close();
      } finally {
        await new Promise<void>((resolve) => proxy.close(() => resolve()));
      }
      // Nothing listens now: the request never left, so this is "unreachable", which Retry may answer.
      const refused = clientFor(who('ada'), sessionOf('ada'), proxyUrl);
      await assert.rejects(backendFor(refused).execute(createTask('Never sent')), (error: unknown) => ServiceUnavailableError.is(error));
      assert.equal(created('Never sent'), 0);
      await refused.close();
    });
  });
});
