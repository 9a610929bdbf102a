import * as assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { identifierFor } from '../../src/core/identifier';
import { startCluster, idToken, waitForStatus, type Cluster, type GatewayProcess } from './cluster';
import { checkLedger, loadTool, percentile, tally, toolCall, unclearError, type CallRecord, type Target } from './driver';

// The load tier: two `node dist/gateway.js` processes on one real Postgres server, in front
// of the Scalekit emulator, driven by simulated users over MCP. Figures print on lines
// starting with "measured:"; the assertions are about correctness (nothing lost, nothing
// ran twice, every failure said why, everything recovered), never about speed.

const users = 50;
const callsPerUser = 20;
const ratePerMinute = 120;
const burst = 30;

function measured(line: string): void {
  console.log(`      measured: ${line}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function mcpClient(gateway: GatewayProcess, token: string): Promise<Client> {
  const client = new Client({ name: 'onbehalf-load-test', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

interface SimUser {
  readonly sub: string;
  readonly token: string;
}

async function makeUsers(cluster: Cluster, prefix: string, count: number): Promise<SimUser[]> {
  const made: SimUser[] = [];
  for (let i = 1; i <= count; i++) {
    const sub = `${prefix}-${String(i).padStart(3, '0')}`;
    cluster.scalekit.activateAccount(identifierFor('oidc', sub, cluster.idp.issuer), 'posthog');
    made.push({ sub, token: await idToken(cluster.idp, sub) });
  }
  return made;
}

function targets(cluster: Cluster): Target[] {
  return cluster.gateways.map((g) => ({ name: g.name, url: g.url }));
}

describe('load: two gateway processes on one Postgres server', function () {
  this.timeout(300_000);
  let cluster: Cluster;

  before(async function () {
    this.timeout(180_000);
    // Generous enough that no simulated user below reaches it, but for the one meant to.
    cluster = await startCluster({
      instances: 2,
      env: { ONBEHALF_GATEWAY_RATE_LIMIT: String(ratePerMinute), ONBEHALF_GATEWAY_BURST: String(burst) },
      envFor: ({ idp }) => ({ ONBEHALF_GATEWAY_ADMINS: identifierFor('oidc', 'ada', idp.issuer) }),
    });
  });
  after(async function () {
    this.timeout(60_000);
    await cluster?.close();
  });

  it('a connect link minted on instance A verifies on instance B; a user alternating instances gets the same tools and answers', async () => {
    const [a, b] = cluster.gateways as [GatewayProcess, GatewayProcess];
    const token = await idToken(cluster.idp, 'ada');
    const identifier = identifierFor('oidc', 'ada', cluster.idp.issuer);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const link = await fetch(`${a.url}/v1/connections/posthog/authorize`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ userVerifyUrl: 'vscode://onbehalf.onbehalf/verify' }),
    });
    assert.equal(link.status, 200);
    const { url } = (await link.json()) as { url: string };
    const redirect = new URL(cluster.scalekit.decideConsent(new URL(url).pathname.split('/').pop()!, 'allow').redirectUrl!);
    const body = JSON.stringify({ authRequestId: redirect.searchParams.get('auth_request_id'), state: redirect.searchParams.get('state') });
    const verified = await fetch(`${b.url}/v1/connections/verify`, { method: 'POST', headers, body });
    assert.deepEqual(await verified.json(), { connection: 'posthog', status: 'ACTIVE' });
    assert.equal(cluster.scalekit.getAccount(identifier, 'posthog')?.status, 'ACTIVE');
    const replayed = await fetch(`${a.url}/v1/connections/verify`, { method: 'POST', headers, body });
    assert.equal(replayed.status, 400, 'the state B consumed is consumed on A too');
    assert.equal(((await replayed.json()) as { error: { code: string } }).error.code, 'state_invalid');

    const [onA, onB] = [await mcpClient(a, token), await mcpClient(b, token)];
    try {
      const names = async (client: Client) =>
        (await client.listTools()).tools.map((t) => `${t.name} ${JSON.stringify(t.annotations)} ${JSON.stringify(t._meta)}`).sort();
      assert.deepEqual(await names(onA), await names(onB));
      const answers: string[] = [];
      for (let i = 0; i < 6; i++) {
        const client = i % 2 === 0 ? onA : onB;
        const result = (await client.callTool({ name: loadTool, arguments: { query: 'signup' } })) as CallToolResult;
        assert.notEqual(result.isError, true, JSON.stringify(result));
        answers.push(JSON.stringify(result.content));
      }
      assert.equal(new Set(answers).size, 1, 'the same call answers the same on either instance');
      const audit = (await (await fetch(`${b.url}/v1/audit?limit=20`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        records: Array<{ tool: string; instance: string; outcome: string }>;
      };
      const calls = audit.records.filter((r) => r.tool === loadTool);
      assert.equal(calls.length, 6, 'one audit history, whichever instance is asked');
      assert.deepEqual(new Set(calls.map((r) => r.instance)), new Set(['gw-a', 'gw-b']));
      assert.ok(calls.every((r) => r.outcome === 'ok'));
    } finally {
      await Promise.all([onA.close(), onB.close()]);
    }
  });

  it('the admin sign-in started on instance A finishes on instance B, and the session works on both', async () => {
    const [a, b] = cluster.gateways as [GatewayProcess, GatewayProcess];
    const login = await fetch(`${a.url}/admin/login`, { redirect: 'manual' });
    assert.equal(login.status, 302);
    const authorize = login.headers.get('location')!;
    assert.ok(authorize.startsWith(`${cluster.idp.issuer}/authorize`), authorize);
    // The IdP's login page, as a person would click "Ada" on it.
    const page = await (await fetch(authorize)).text();
    const adaLink = /id="login-ada" href="([^"]+)"/.exec(page)?.[1]?.replace(/&amp;/g, '&');
    assert.ok(adaLink, 'the IdP offers Ada');
    const back = await fetch(new URL(adaLink, cluster.idp.issuer), { redirect: 'manual' });
    const callback = new URL(back.headers.get('location')!);
    assert.equal(`${callback.origin}${callback.pathname}`, `${a.url}/admin/callback`);
    // The load balancer sends the browser's return to B: the login transaction is in the database.
    const finished = await fetch(`${b.url}/admin/callback${callback.search}`, { redirect: 'manual' });
    assert.equal(finished.status, 200, await finished.text());
    const cookie = /^(onbehalf_admin=[^;]+)/.exec(finished.headers.get('set-cookie') ?? '')?.[1];
    assert.ok(cookie, 'a session cookie');
    assert.match(finished.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Strict/);
    for (const gateway of [a, b]) {
      const audit = await fetch(`${gateway.url}/admin`, { headers: { cookie }, redirect: 'manual' });
      assert.equal(audit.status, 200, `${gateway.name}: ${audit.status}`);
      assert.match(await audit.text(), /<table id="audit">/);
    }
    // The same code cannot be used twice, on either instance.
    assert.equal((await fetch(`${a.url}/admin/callback${callback.search}`, { redirect: 'manual' })).status, 400);
  });

  it(`load: ${users} users × ${callsPerUser} tool calls spread over both instances; every success has one audit row, nothing ran twice`, async () => {
    const simUsers = await makeUsers(cluster, 'load', users);
    const runId = `load${Date.now().toString(36)}`;
    const executionMs = (id: string) => cluster.scalekit.executions.find((e) => e.executionId === id)?.durationMs ?? 0;
    // Unloaded first: one user, calls one after the other (after a warm-up call per instance), for the overhead without queueing.
    // (Its own user, and fewer calls than the rate limit's burst.)
    const [soloUser] = await makeUsers(cluster, 'solo', 1);
    const solo: CallRecord[] = [];
    for (let i = 0; i < 27; i++) solo.push(await toolCall(targets(cluster), i, soloUser!.sub, soloUser!.token, { query: `${runId}-solo-${i}` }));
    const soloOverhead = solo
      .slice(2)
      .flatMap((call) => (call.outcome.kind === 'ok' ? [call.ms - executionMs(call.outcome.executionId)] : []))
      .sort((x, y) => x - y);
    measured(
      `gateway overhead per call, one user alone (25 sequential calls alternating instances, after a warm-up call on each), ms: p50 ${percentile(soloOverhead, 50).toFixed(1)}, p95 ${percentile(soloOverhead, 95).toFixed(1)}, p99 ${percentile(soloOverhead, 99).toFixed(1)}`,
    );
    assert.deepEqual(
      solo.map((c) => c.outcome.kind),
      solo.map(() => 'ok'),
    );
    const started = performance.now();
    const calls: CallRecord[] = [];
    await Promise.all(
      simUsers.map(async (user, u) => {
        for (let i = 0; i < callsPerUser; i++) {
          calls.push(await toolCall(targets(cluster), u + i, user.sub, user.token, { query: `${runId}-${user.sub}-${i}` }));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const ledger = await checkLedger(cluster.databaseUrl, [...solo, ...calls], cluster.scalekit.executions);
    const counts = tally(calls);

    const byExecution = new Map(cluster.scalekit.executions.map((e) => [e.executionId, e]));
    const overhead = calls
      .flatMap((call) => (call.outcome.kind === 'ok' ? [call.ms - (byExecution.get(call.outcome.executionId)?.durationMs ?? 0)] : []))
      .sort((x, y) => x - y);
    measured(
      `${calls.length} tool calls (${users} users × ${callsPerUser}, each user's calls sequential and alternating between 2 gateway processes, all users at once) in ${seconds.toFixed(1)} s = ${(calls.length / seconds).toFixed(1)} calls/s`,
    );
    measured(
      `gateway overhead per call under that load (user's wall time minus the Scalekit emulator's own execution time), ms: p50 ${percentile(overhead, 50).toFixed(1)}, p95 ${percentile(overhead, 95).toFixed(1)}, p99 ${percentile(overhead, 99).toFixed(1)} (n=${overhead.length})`,
    );
    measured(
      `outcomes: ${JSON.stringify(counts)}; per instance: ${JSON.stringify(Object.fromEntries(['gw-a', 'gw-b'].map((n) => [n, calls.filter((c) => c.answeredBy === n).length])))}`,
    );
    measured(`ledger: ${ledger.executions} Scalekit executions, ${ledger.auditRows} audit rows, ${ledger.problems.length} problems`);

    assert.deepEqual(ledger.problems, []);
    assert.equal(counts['ok'], users * callsPerUser, `every call succeeds without faults: ${JSON.stringify(counts)}`);
    assert.equal(ledger.executions, users * callsPerUser + solo.length);
    assert.equal(ledger.auditRows, users * callsPerUser + solo.length);
    for (const name of ['gw-a', 'gw-b']) assert.equal(calls.filter((c) => c.answeredBy === name).length, (users * callsPerUser) / 2);
  });

  it(`rate limit shared by both instances: a user over ${burst} requests at once gets 429 with Retry-After from either instance; another user is unaffected`, async () => {
    const [hammer, bystander] = await makeUsers(cluster, 'rate', 2);
    const runId = `rate${Date.now().toString(36)}`;
    const [flood, calm] = await Promise.all([
      Promise.all(Array.from({ length: 2 * burst }, (_, i) => toolCall(targets(cluster), i, hammer!.sub, hammer!.token, { query: `${runId}-flood-${i}` }))),
      (async () => {
        const calls: CallRecord[] = [];
        for (let i = 0; i < 10; i++) calls.push(await toolCall(targets(cluster), i, bystander!.sub, bystander!.token, { query: `${runId}-calm-${i}` }));
        return calls;
      })(),
    ]);
    const limited = flood.filter((c) => c.outcome.kind === 'httpError' && c.outcome.status === 429);
    const ok = flood.filter((c) => c.outcome.kind === 'ok');
    measured(
      `rate limit (${ratePerMinute}/min, burst ${burst}, one bucket per user in Postgres): ${flood.length} calls at once by one user → ${ok.length} ok, ${limited.length} × 429 ` +
        `(${limited.filter((c) => c.answeredBy === 'gw-a').length} from gw-a, ${limited.filter((c) => c.answeredBy === 'gw-b').length} from gw-b); other user ${calm.filter((c) => c.outcome.kind === 'ok').length}/${calm.length} ok`,
    );
    assert.equal(ok.length + limited.length, flood.length, JSON.stringify(tally(flood)));
    // The bucket is shared: both instances together let through the burst (plus what refilled meanwhile), not a burst each.
    assert.ok(ok.length >= burst && ok.length < 2 * burst - 10, `${ok.length} allowed`);
    assert.ok(limited.some((c) => c.answeredBy === 'gw-a') && limited.some((c) => c.answeredBy === 'gw-b'), 'both instances refuse');
    for (const call of limited) {
      const outcome = call.outcome as Extract<CallRecord['outcome'], { kind: 'httpError' }>;
      assert.equal(outcome.code, 'rate_limited');
      assert.match(outcome.message ?? '', /Too many requests from your account: your organisation allows .*Retry in \d+ s/);
      assert.match(outcome.retryAfter ?? '', /^[1-9]\d*$/);
    }
    assert.deepEqual(
      calm.map((c) => c.outcome.kind),
      calm.map(() => 'ok'),
    );
    const ledger = await checkLedger(cluster.databaseUrl, [...flood, ...calm], cluster.scalekit.executions);
    assert.deepEqual(ledger.problems, []);
    assert.equal(ledger.executions, ok.length + calm.length, 'a refused call never reached Scalekit');
    // Once Retry-After has passed, the user is let through again.
    const wait = Math.max(...limited.map((c) => Number((c.outcome as { retryAfter?: string }).retryAfter)));
    await sleep(wait * 1000);
    const again = await toolCall(targets(cluster), 1, hammer!.sub, hammer!.token, { query: `${runId}-again` });
    assert.equal(again.outcome.kind, 'ok', JSON.stringify(again.outcome));
  });

  it('faults during load: kill -9 an instance (and restart it), restart Postgres, a Scalekit outage; nothing lost or run twice, every failure said why, both instances recover', async () => {
    const [a, b] = cluster.gateways as [GatewayProcess, GatewayProcess];
    const simUsers = await makeUsers(cluster, 'fault', users);
    const runId = `fault${Date.now().toString(36)}`;
    const calls: CallRecord[] = [];
    const timeline: string[] = [];
    const t0 = Date.now();
    const mark = (what: string) => timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
    let faultsDone = false;

    const load = Promise.all(
      simUsers.map(async (user, u) => {
        await sleep(u * 20);
        for (let i = 0; i < callsPerUser || !faultsDone; i++) {
          calls.push(await toolCall(targets(cluster), u + i, user.sub, user.token, { query: `${runId}-${user.sub}-${i}` }));
          await sleep(150);
        }
      }),
    );

    const readyz: Record<string, number[]> = { 'gw-a': [], 'gw-b': [] };
    const faults = (async () => {
      try {
        await sleep(1_500);
        mark('kill -9 gw-b');
        await b.killHard();
        await sleep(2_000);
        mark('restarting gw-b');
        await b.start();
        mark('gw-b ready again');
        await sleep(1_500);

        mark('stopping Postgres');
        await cluster.postgres.stop('fast');
        // Both instances see the database gone, then come back on their own (no restart).
        await Promise.all([a, b].map((g) => waitForStatus(`${g.url}/readyz`, 503, 30_000).then(() => readyz[g.name]!.push(503))));
        mark('both /readyz 503');
        await sleep(1_500);
        await cluster.postgres.start();
        mark('Postgres started');
        await Promise.all([a, b].map((g) => waitForStatus(`${g.url}/readyz`, 200, 60_000).then((ms) => readyz[g.name]!.push(200, ms))));
        mark('both /readyz 200');
        await sleep(1_500);

        mark('Scalekit failing (Unavailable)');
        // Tool calls fail at once (an Unavailable ExecuteTool is not resent: it may have run); the
        // control-plane calls ride on the SDK's own retries (3, with 0.5–4 s backoff), so 8 s outlasts those.
        cluster.scalekit.injectFault({ kind: 'unavailable', message: 'Scalekit is down for maintenance' });
        await sleep(8_000);
        cluster.scalekit.clearFaults();
        mark('Scalekit back');
        await sleep(1_500);
      } finally {
        faultsDone = true;
      }
    })();
    await Promise.all([load, faults]);
    mark(`load done (${calls.length} calls)`);

    // Both instances serve every user again, without having been restarted for Postgres or Scalekit.
    const after: CallRecord[] = [];
    for (const [u, user] of simUsers.slice(0, 10).entries()) {
      for (let i = 0; i < 2; i++) after.push(await toolCall(targets(cluster), u + i, user.sub, user.token, { query: `${runId}-after-${user.sub}-${i}` }));
    }

    const all = [...calls, ...after];
    const ledger = await checkLedger(cluster.databaseUrl, all, cluster.scalekit.executions);
    const counts = tally(calls);
    const lost = calls.filter((c) => c.outcome.kind === 'lost');
    const failed = calls.filter((c) => c.outcome.kind !== 'ok' && c.outcome.kind !== 'lost');
    measured(`fault run: ${calls.length} tool calls by ${users} users (150 ms apart, alternating instances) over ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    measured(`fault timeline: ${timeline.join('; ')}`);
    measured(`fault run outcomes: ${JSON.stringify(counts)}`);
    measured(
      `fault run ledger: ${ledger.executions} Scalekit executions, ${ledger.auditRows} audit rows (${ledger.startedRows} left "started" by the kill or the database outage), ` +
        `${lost.length} calls lost with the killed instance, ${failed.length} answered with an error, ${ledger.problems.length} problems`,
    );
    measured(`readyz through the Postgres restart: ${JSON.stringify(readyz)} (status, then ms until 200)`);
    measured(
      `after the faults: ${after.filter((c) => c.outcome.kind === 'ok').length}/${after.length} calls ok on ${new Set(after.map((c) => c.answeredBy)).size} instances`,
    );

    assert.deepEqual(ledger.problems, [], 'every success has exactly one audit row, nothing ran twice, every error is clear');
    assert.deepEqual(
      failed.map((c) => unclearError(c.outcome)).filter((x) => x !== undefined),
      [],
    );
    // A call is lost only when its instance died under it: sent to gw-b, around the kill.
    for (const call of lost) assert.equal(call.instance, 'gw-b', `lost on ${call.instance}: ${JSON.stringify(call.outcome)}`);
    assert.ok((counts['ok'] ?? 0) > calls.length / 2, `most calls succeed: ${JSON.stringify(counts)}`);
    // The faults were felt (else this test proves nothing): the database outage refused calls before they ran; in the
    // Scalekit outage a call may have reached Scalekit, so it failed as outcome_unknown and was not sent again.
    assert.ok((counts['tool error audit_unavailable'] ?? 0) > 0, JSON.stringify(counts));
    assert.ok((counts['tool error outcome_unknown'] ?? 0) > 0, JSON.stringify(counts));
    assert.deepEqual(readyz['gw-a']?.slice(0, 2), [503, 200]);
    assert.deepEqual(readyz['gw-b']?.slice(0, 2), [503, 200]);
    assert.deepEqual(
      after.map((c) => c.outcome.kind),
      after.map(() => 'ok'),
      'both instances recovered',
    );
    assert.deepEqual(new Set(after.map((c) => c.answeredBy)), new Set(['gw-a', 'gw-b']));
  });
});
