// Drives the Scalekit emulator through the REAL @scalekit-sdk/node over its
// real wire protocol (HTTP/1.1 token endpoint + gRPC over h2c on one port).
import * as assert from 'node:assert/strict';
import {
  ScalekitBadRequestException,
  ScalekitClient,
  ScalekitForbiddenException,
  ScalekitNotFoundException,
  ScalekitServiceUnavailableException,
  ScalekitTooManyRequestsException,
  ScalekitToolException,
  ScalekitToolForbiddenException,
  ScalekitToolRateLimitException,
  ScalekitToolUnauthorizedException,
  ScalekitUnauthorizedException,
} from '@scalekit-sdk/node';
import { ConnectorStatus } from '@scalekit-sdk/node/lib/pkg/grpc/scalekit/v1/connected_accounts/connected_accounts_pb';
import asanaFixture from '../emulators/fixtures/asana.json';
import asanamcpFixture from '../emulators/fixtures/asanamcp.json';
import posthogFixture from '../emulators/fixtures/posthogmcp.json';
import { type ScalekitEmulator, type ScalekitEmulatorOptions, startScalekitEmulator } from '../emulators/scalekit/server';

const TODAY = Date.parse('2026-03-15T12:00:00Z');
const ADA = 'oidc:ada';
const GRACE = 'github:grace';

type Rec = Record<string, unknown>;

function rec(value: unknown): Rec {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `expected an object, got ${JSON.stringify(value)}`);
  return value as Rec;
}

function arr(value: unknown): unknown[] {
  assert.ok(Array.isArray(value), `expected an array, got ${JSON.stringify(value)}`);
  return value;
}

async function rejectsWith<T>(promise: Promise<unknown>, type: abstract new (...args: never[]) => T): Promise<T> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${(err as Error)?.name}: ${(err as Error)?.message}`);
    return err;
  }
  assert.fail(`expected ${type.name}, but the call succeeded`);
}

function names(fixture: { tools: Array<{ name: string }> }): string[] {
  return fixture.tools.map((t) => t.name);
}

describe('Scalekit emulator (real @scalekit-sdk/node)', function () {
  this.timeout(30000);
  let emu: ScalekitEmulator;
  let sk: ScalekitClient;
  let now = TODAY;

  async function start(opts: ScalekitEmulatorOptions = {}): Promise<void> {
    emu = await startScalekitEmulator({ now: () => now, ...opts });
    sk = new ScalekitClient(emu.url, emu.clientId, emu.clientSecret);
  }

  beforeEach(async () => {
    now = TODAY;
    await start();
  });

  afterEach(async () => {
    await emu.close();
  });

  describe('token endpoint', () => {
    it('issues a bearer token for the right client credentials and answers invalid_client for a wrong secret', async () => {
      const good = await fetch(`${emu.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: emu.clientId, client_secret: emu.clientSecret }),
      });
      assert.equal(good.status, 200);
      const token = rec(await good.json());
      assert.match(String(token.access_token), /^emu_at_/);
      assert.equal(token.token_type, 'Bearer');

      const bad = await fetch(`${emu.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: emu.clientId, client_secret: 'nope' }),
      });
      assert.equal(bad.status, 401);
      assert.equal(rec(await bad.json()).error, 'invalid_client');
      assert.equal(emu.tokenRequests, 2);
      assert.equal(emu.tokensIssued, 1);
    });

    it('lets the SDK fetch its token lazily once, and refuses an SDK client with a wrong secret', async () => {
      await sk.actions.listConnectedAccounts({ identifier: ADA });
      await sk.actions.listConnectedAccounts({ identifier: ADA });
      assert.equal(emu.tokenRequests, 1, 'one token serves both calls');
      // The SDK sends its first RPC without a token and fetches one on Unauthenticated.
      assert.deepEqual(
        emu.rpcLog.map((e) => e.code),
        ['Unauthenticated', 'ok', 'ok'],
      );

      const wrong = new ScalekitClient(emu.url, emu.clientId, 'wrong-secret');
      let failure: unknown;
      try {
        await wrong.actions.listConnectedAccounts({ identifier: ADA });
      } catch (err) {
        failure = err;
      }
      assert.ok(failure, 'a wrong secret must not work');
      // The token endpoint's 401 surfaces as the raw axios error.
      assert.equal((failure as { response?: { status?: number } }).response?.status, 401);
      assert.equal(emu.tokensIssued, 1);
      assert.equal(emu.rpcLog.filter((e) => e.code === 'ok').length, 2);
    });

    it('rejects an RPC with a made-up bearer token', async () => {
      const res = await fetch(`${emu.url}/scalekit.v1.connected_accounts.ConnectedAccountService/ListConnectedAccounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer forged' },
        body: '{}',
      });
      assert.equal(res.status, 401);
      assert.equal(rec(await res.json()).code, 'unauthenticated');
    });
  });

  describe('connected accounts', () => {
    it('getOrCreateConnectedAccount creates a PENDING_AUTH account, then gets the same one', async () => {
      const first = await sk.actions.getOrCreateConnectedAccount({ connectionName: 'posthog', identifier: ADA });
      assert.equal(first.connectedAccount?.status, ConnectorStatus.PENDING_AUTH);
      assert.equal(first.connectedAccount?.identifier, ADA);
      assert.equal(first.connectedAccount?.connector, 'posthog');
      assert.ok(emu.rpcLog.some((e) => e.method === 'CreateConnectedAccount' && e.code === 'ok'));

      const creates = emu.rpcLog.filter((e) => e.method === 'CreateConnectedAccount').length;
      const second = await sk.actions.getOrCreateConnectedAccount({ connectionName: 'posthog', identifier: ADA });
      assert.equal(second.connectedAccount?.id, first.connectedAccount?.id);
      assert.equal(emu.rpcLog.filter((e) => e.method === 'CreateConnectedAccount').length, creates, 'no second create');
      assert.equal(emu.getAccount(ADA, 'posthog')?.status, 'PENDING_AUTH');
    });

    it('answers NotFound for a missing account and for an unknown connection', async () => {
      await rejectsWith(sk.actions.getConnectedAccount({ connectionName: 'posthog', identifier: ADA }), ScalekitNotFoundException);
      await rejectsWith(sk.actions.getOrCreateConnectedAccount({ connectionName: 'salesforce', identifier: ADA }), ScalekitNotFoundException);
    });

    it('lists connected accounts with filters and pages, and deletes them', async () => {
      emu.activateAccount(ADA, 'posthog');
      emu.setAccountStatus(ADA, 'asana', 'EXPIRED');
      emu.activateAccount(GRACE, 'posthog');

      const ada = await sk.actions.listConnectedAccounts({ identifier: ADA });
      assert.equal(ada.totalSize, 2);
      assert.deepEqual(ada.connectedAccounts.map((a) => [a.connector, a.status]).sort(), [
        ['asana', ConnectorStatus.EXPIRED],
        ['posthog', ConnectorStatus.ACTIVE],
      ]);
      const posthogOnly = await sk.actions.listConnectedAccounts({ connectionName: 'posthog' });
      assert.deepEqual(posthogOnly.connectedAccounts.map((a) => a.identifier).sort(), [GRACE, ADA].sort());

      const page1 = await sk.actions.listConnectedAccounts({ pageSize: 2 });
      assert.equal(page1.connectedAccounts.length, 2);
      assert.equal(page1.totalSize, 3);
      assert.ok(page1.nextPageToken);
      const page2 = await sk.actions.listConnectedAccounts({ pageSize: 2, pageToken: page1.nextPageToken });
      assert.equal(page2.connectedAccounts.length, 1);
      assert.equal(page2.nextPageToken, '');

      await sk.actions.deleteConnectedAccount({ connectionName: 'asana', identifier: ADA });
      assert.equal(emu.getAccount(ADA, 'asana'), undefined);
      const after = await sk.actions.listConnectedAccounts({ identifier: ADA });
      assert.deepEqual(
        after.connectedAccounts.map((a) => a.connector),
        ['posthog'],
      );
      await rejectsWith(sk.actions.deleteConnectedAccount({ connectionName: 'asana', identifier: ADA }), ScalekitNotFoundException);
    });
  });

  describe('authorization link, consent page and user verification', () => {
    async function linkFor(identifier: string, connectionName = 'posthog') {
      await sk.actions.getOrCreateConnectedAccount({ connectionName, identifier });
      const res = await sk.actions.getAuthorizationLink({
        connectionName,
        identifier,
        state: 'st-123',
        userVerifyUrl: 'http://127.0.0.1:9/verify?session=abc&x=1',
      });
      const prefix = `${emu.url}/connect/`;
      assert.ok(res.link.startsWith(prefix), res.link);
      return { link: res.link, authRequestId: res.link.slice(prefix.length), expiry: res.expiry };
    }

    async function decide(link: string, decision: 'allow' | 'deny'): Promise<URL> {
      const res = await fetch(link, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ decision }),
        redirect: 'manual',
      });
      assert.equal(res.status, 302);
      return new URL(res.headers.get('location') ?? '');
    }

    it('serves a consent page; Allow redirects to user_verify_url with auth_request_id and state appended', async () => {
      const { link, authRequestId, expiry } = await linkFor(ADA);
      assert.ok(expiry, 'expiry is set');
      assert.equal(Number(expiry.seconds) * 1000, TODAY + 10 * 60 * 1000);

      const page = await fetch(link);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /<h1>Connect PostHog<\/h1>/);
      assert.match(html, /oidc:ada/);
      assert.match(html, /<button id="allow"/);
      assert.match(html, /<button id="deny"/);
      assert.match(html, new RegExp(`<form method="post" action="/connect/${authRequestId}">`));

      const redirect = await decide(link, 'allow');
      assert.equal(`${redirect.origin}${redirect.pathname}`, 'http://127.0.0.1:9/verify');
      assert.equal(redirect.searchParams.get('session'), 'abc');
      assert.equal(redirect.searchParams.get('x'), '1');
      assert.equal(redirect.searchParams.get('auth_request_id'), authRequestId);
      assert.equal(redirect.searchParams.get('state'), 'st-123');
      assert.equal(emu.getAccount(ADA, 'posthog')?.status, 'PENDING_VERIFICATION');

      // The link is single-use.
      assert.equal((await fetch(link)).status, 410);
    });

    it('verifies only the same identifier, activates the account, and refuses a replay', async () => {
      const { link, authRequestId } = await linkFor(ADA);
      await rejectsWith(sk.actions.verifyConnectedAccountUser({ authRequestId, identifier: ADA }), ScalekitBadRequestException);
      await decide(link, 'allow');

      const wrong = await rejectsWith(sk.actions.verifyConnectedAccountUser({ authRequestId, identifier: GRACE }), ScalekitForbiddenException);
      assert.match(wrong.message, /identifier does not match/);
      assert.equal(emu.getAccount(ADA, 'posthog')?.status, 'PENDING_VERIFICATION');

      const ok = await sk.actions.verifyConnectedAccountUser({ authRequestId, identifier: ADA });
      assert.equal(ok.postUserVerifyRedirectUrl, `${emu.url}/connect/${authRequestId}/done`);
      // The last page closes its own tab, by a script its CSP allows by nonce, and says so.
      const done = await fetch(ok.postUserVerifyRedirectUrl);
      const html = await done.text();
      const nonce = /script-src 'nonce-([^']+)'/.exec(done.headers.get('content-security-policy') ?? '')?.[1];
      assert.ok(nonce, 'a CSP with a script nonce');
      assert.match(html, new RegExp(`<script nonce="${nonce.replace(/[+/=]/g, '\\$&')}">[^<]*window\\.close\\(\\)`));
      assert.match(html, /this tab closes itself/);
      assert.doesNotMatch(html, /<script(?! nonce)/);
      const got = await sk.actions.getConnectedAccount({ connectionName: 'posthog', identifier: ADA });
      assert.equal(got.connectedAccount?.status, ConnectorStatus.ACTIVE);
      assert.equal(got.connectedAccount?.authorizationDetails?.details.case, 'oauthToken');

      await rejectsWith(sk.actions.verifyConnectedAccountUser({ authRequestId, identifier: ADA }), ScalekitBadRequestException);
      await rejectsWith(sk.actions.verifyConnectedAccountUser({ authRequestId: 'ar_unknown', identifier: ADA }), ScalekitNotFoundException);
      assert.equal(emu.getAccount(ADA, 'posthog')?.status, 'ACTIVE');
    });

    it('Deny redirects with error=access_denied, keeps the account PENDING_AUTH and the request unusable', async () => {
      const { link, authRequestId } = await linkFor(GRACE, 'asana');
      const html = await (await fetch(link)).text();
      assert.match(html, /<h1>Connect Asana<\/h1>/);
      const redirect = await decide(link, 'deny');
      assert.equal(redirect.searchParams.get('error'), 'access_denied');
      assert.equal(redirect.searchParams.get('state'), 'st-123');
      assert.equal(redirect.searchParams.get('session'), 'abc');
      assert.equal(redirect.searchParams.get('auth_request_id'), null);
      assert.equal(emu.getAccount(GRACE, 'asana')?.status, 'PENDING_AUTH');
      await rejectsWith(sk.actions.verifyConnectedAccountUser({ authRequestId, identifier: GRACE }), ScalekitBadRequestException);
      assert.equal(emu.getAccount(GRACE, 'asana')?.status, 'PENDING_AUTH');
    });

    it('expires an unused link after 10 minutes', async () => {
      const { link, authRequestId } = await linkFor(ADA);
      now += 11 * 60 * 1000;
      assert.equal((await fetch(link)).status, 410);
      assert.throws(() => emu.decideConsent(authRequestId, 'allow'), /expired/);
    });
  });

  describe('listScopedTools', () => {
    async function collect(identifier: string, connectionNames: string[], pageSize?: number) {
      const all: Array<{ name: string; definition: Rec; connectedAccountId: string }> = [];
      let pageToken: string | undefined;
      let pages = 0;
      let totalSize: number;
      do {
        const res = await sk.tools.listScopedTools(identifier, {
          filter: { connectionNames },
          ...(pageSize !== undefined ? { pageSize } : {}),
          ...(pageToken ? { pageToken } : {}),
        });
        totalSize = res.totalSize;
        for (const t of res.tools) {
          const definition = rec(t.tool?.definition);
          all.push({ name: String(definition.name), definition, connectedAccountId: t.connectedAccountId });
        }
        pageToken = res.nextPageToken || undefined;
        pages++;
      } while (pageToken && pages < 100);
      return { all, pages, totalSize };
    }

    it('pages through all 199 PostHog and 210 Asana tools for an ACTIVE identifier', async () => {
      const posthog = emu.activateAccount(ADA, 'posthog');
      emu.activateAccount(ADA, 'asana');

      const ph = await collect(ADA, ['posthog'], 100);
      assert.equal(ph.totalSize, 199);
      assert.equal(ph.pages, 2);
      assert.deepEqual(
        ph.all.map((t) => t.name),
        names(posthogFixture),
      );
      assert.ok(ph.all.every((t) => t.connectedAccountId === posthog.id));

      const both = await collect(ADA, ['posthog', 'asana'], 50);
      assert.equal(both.totalSize, 409);
      assert.equal(both.pages, 9);
      assert.deepEqual(
        both.all.map((t) => t.name),
        [...names(posthogFixture), ...names(asanaFixture)],
      );
      assert.equal(new Set(both.all.map((t) => t.name)).size, 409);

      const create = both.all.find((t) => t.name === 'asana_task_create');
      assert.ok(create);
      assert.equal(create.definition.description, 'Creates an Asana task.');
      assert.deepEqual(rec(create.definition.input_schema).required, ['name']);
    });

    it('uses a default page size of 30 and caps pageSize at 100', async () => {
      emu.activateAccount(ADA, 'posthog');
      const first = await sk.tools.listScopedTools(ADA, { filter: { connectionNames: ['posthog'] } });
      assert.equal(first.tools.length, 30);
      const big = await sk.tools.listScopedTools(ADA, { filter: { connectionNames: ['posthog'] }, pageSize: 500 });
      assert.equal(big.tools.length, 100);
      await rejectsWith(sk.tools.listScopedTools(ADA, { filter: { connectionNames: ['posthog'] }, pageToken: 'garbage' }), ScalekitBadRequestException);
    });

    it('returns no tools for connections whose account is not ACTIVE', async () => {
      emu.activateAccount(ADA, 'posthog');
      emu.setAccountStatus(GRACE, 'posthog', 'PENDING_AUTH');
      emu.expireAccount(GRACE, 'asana');
      const grace = await collect(GRACE, ['posthog', 'asana']);
      assert.equal(grace.totalSize, 0);
      assert.equal(grace.all.length, 0);
      const nobody = await collect('oidc:nobody', ['posthog', 'asana']);
      assert.equal(nobody.totalSize, 0);
      const adaAsana = await collect(ADA, ['asana']);
      assert.equal(adaAsana.totalSize, 0, 'ada has no asana account');
    });
  });

  describe('executeTool', () => {
    beforeEach(() => {
      emu.activateAccount(ADA, 'posthog');
      emu.activateAccount(ADA, 'asana');
    });

    it('answers a last-week signups TrendsQuery with 7 daily points ending today', async () => {
      const res = await sk.actions.executeTool({
        toolName: 'posthogmcp_query_run',
        identifier: ADA,
        connector: 'posthog',
        toolInput: { query: JSON.stringify({ kind: 'TrendsQuery', series: [{ event: 'signed_up' }], dateRange: { date_from: '-7d' } }) },
      });
      const result = rec(arr(rec(res.data).results)[0]);
      const data = arr(result.data).map(Number);
      assert.equal(data.length, 7);
      assert.deepEqual(result.days, ['2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13', '2026-03-14', '2026-03-15']);
      const seeded = emu.data.posthog.events.get('signed_up')?.total.slice(0, 7).reverse();
      assert.deepEqual(data, seeded);
      assert.ok(data.every((n) => n > 0));
      assert.equal(
        result.count,
        data.reduce((a, b) => a + b, 0),
      );
      assert.equal(result.label, 'signed_up');

      const last = emu.executions[emu.executions.length - 1];
      assert.ok(last);
      assert.equal(last.executionId, res.executionId);
      assert.equal(last.toolName, 'posthogmcp_query_run');
      assert.equal(last.identifier, ADA);
      assert.equal(last.connectionName, 'posthog');
      assert.equal(last.ok, true);

      // The HogQL fallback agrees with the trends numbers.
      const sql = await sk.actions.executeTool({
        toolName: 'posthogmcp_query_run',
        identifier: ADA,
        connector: 'posthog',
        toolInput: { query: "SELECT count() FROM events WHERE event = 'signed_up' AND timestamp > now() - INTERVAL 7 DAY" },
      });
      assert.deepEqual(rec(sql.data).results, [[result.count]]);
    });

    it('serves insights, feature flags and persons from the seeded project, and really creates flags', async () => {
      const insights = rec((await sk.actions.executeTool({ toolName: 'posthogmcp_insights_list', identifier: ADA, connector: 'posthog', toolInput: {} })).data);
      assert.equal(insights.count, 5);
      const q = rec(
        (
          await sk.actions.executeTool({
            toolName: 'posthogmcp_insight_query',
            identifier: ADA,
            connector: 'posthog',
            toolInput: { insightId: 'sgnUpD7x', output_format: 'json' },
          })
        ).data,
      );
      assert.equal(arr(rec(arr(q.results)[0]).data).length, 30);

      const created = rec(
        (
          await sk.actions.executeTool({
            toolName: 'posthogmcp_create_feature_flag',
            identifier: ADA,
            connector: 'posthog',
            toolInput: { key: 'checkout-v2', name: 'New checkout', active: true },
          })
        ).data,
      );
      assert.equal(created.key, 'checkout-v2');
      const flags = rec(
        (
          await sk.actions.executeTool({
            toolName: 'posthogmcp_feature_flag_get_all',
            identifier: ADA,
            connector: 'posthog',
            toolInput: { search: 'checkout' },
          })
        ).data,
      );
      assert.deepEqual(
        arr(flags.results).map((f) => rec(f).key),
        ['checkout-v2'],
      );
      const dup = await rejectsWith(
        sk.actions.executeTool({ toolName: 'posthogmcp_create_feature_flag', identifier: ADA, connector: 'posthog', toolInput: { key: 'checkout-v2' } }),
        ScalekitToolException,
      );
      assert.match(dup.toolErrorMessage, /already a feature flag/);

      const persons = rec(
        (await sk.actions.executeTool({ toolName: 'posthogmcp_persons_list', identifier: ADA, connector: 'posthog', toolInput: { limit: 10 } })).data,
      );
      assert.equal(persons.count, 200);
      assert.equal(arr(persons.results).length, 10);
    });

    it('asana_task_create really creates a task that later calls see', async () => {
      const project = emu.data.asana.projects.find((p) => p.name === 'Website Relaunch');
      assert.ok(project);
      const res = await sk.actions.executeTool({
        toolName: 'asana_task_create',
        identifier: ADA,
        connector: 'asana',
        toolInput: { name: 'Write the PostHog launch recap', projects: project.gid, assignee: 'me', due_on: '2026-03-20' },
      });
      const task = rec(rec(res.data).data);
      const gid = String(task.gid);
      assert.match(gid, /^\d{16}$/);
      assert.equal(rec(task.assignee).name, 'Ada Lovelace');
      assert.equal(emu.data.asana.tasks.get(gid)?.name, 'Write the PostHog launch recap');

      const got = rec(
        rec((await sk.actions.executeTool({ toolName: 'asana_task_get', identifier: ADA, connector: 'asana', toolInput: { task_gid: gid } })).data).data,
      );
      assert.equal(got.due_on, '2026-03-20');
      const inProject = arr(
        rec(
          (await sk.actions.executeTool({ toolName: 'asana_project_tasks_list', identifier: ADA, connector: 'asana', toolInput: { project_gid: project.gid } }))
            .data,
        ).data,
      );
      assert.ok(inProject.some((t) => rec(t).gid === gid));

      await sk.actions.executeTool({
        toolName: 'asana_story_create',
        identifier: ADA,
        connector: 'asana',
        toolInput: { task_gid: gid, text: 'Draft is ready.' },
      });
      const stories = arr(
        rec((await sk.actions.executeTool({ toolName: 'asana_task_stories_list', identifier: ADA, connector: 'asana', toolInput: { task_gid: gid } })).data)
          .data,
      );
      assert.ok(stories.some((s) => rec(s).text === 'Draft is ready.'));

      await sk.actions.executeTool({ toolName: 'asana_task_delete', identifier: ADA, connector: 'asana', toolInput: { task_gid: gid } });
      assert.equal(emu.data.asana.tasks.has(gid), false);
    });

    it('rejects missing required parameters with a tool error naming them', async () => {
      const err = await rejectsWith(
        sk.actions.executeTool({ toolName: 'asana_task_get', identifier: ADA, connector: 'asana', toolInput: {} }),
        ScalekitToolException,
      );
      assert.match(err.toolErrorMessage, /Missing required parameter for asana_task_get: task_gid/);
      assert.equal(err.toolErrorCode, 'INVALID_INPUT');
      assert.ok(err.executionId.startsWith('exec_'));
      assert.equal(emu.executions[emu.executions.length - 1]?.ok, false);
    });

    it('answers any catalog tool without a specific handler plausibly', async () => {
      const res = rec(
        (await sk.actions.executeTool({ toolName: 'posthogmcp_survey_get', identifier: ADA, connector: 'posthog', toolInput: { id: 'sv-1' } })).data,
      );
      assert.equal(res.id, 'sv-1');
      assert.equal(res.name, 'Survey sv-1');
      const goals = rec(
        (
          await sk.actions.executeTool({
            toolName: 'asana_goals_list',
            identifier: ADA,
            connector: 'asana',
            toolInput: { workspace_gid: emu.data.asana.workspace.gid },
          })
        ).data,
      );
      assert.equal(arr(goals.data).length, 3);
      assert.equal(rec(arr(goals.data)[0]).resource_type, 'goal');
    });

    it('answers every tool of all three catalogs without an internal error', async function () {
      this.timeout(60000);
      await emu.close();
      await start({ connections: { posthog: 'posthogmcp', asana: 'asana', asanamcp: 'asanamcp' } });
      for (const c of ['posthog', 'asana', 'asanamcp']) emu.activateAccount(ADA, c);
      const asana = emu.data.asana;
      const task = [...asana.tasks.values()][0];
      assert.ok(task);
      const sample = (key: string, schema: Rec): unknown => {
        const type = schema.type;
        if (type === 'number' || type === 'integer') return 1;
        if (type === 'boolean') return true;
        if (type === 'array') return [];
        if (type === 'object') return {};
        if (/workspace|organization/.test(key)) return asana.workspace.gid;
        if (/project/.test(key)) return asana.projects[0]?.gid;
        if (/section/.test(key)) return asana.sections[0]?.gid;
        if (/task|parent/.test(key)) return task.gid;
        if (/team/.test(key)) return asana.teams[0]?.gid;
        if (/user|assignee/.test(key)) return 'me';
        if (key === 'query') return 'SELECT event, count() FROM events GROUP BY event';
        return 'sample';
      };
      const fixtures = [posthogFixture, asanaFixture, asanamcpFixture] as Array<{ tools: Array<{ name: string; input_schema: Rec }> }>;
      let ok = 0;
      const refused: string[] = [];
      for (const tool of fixtures.flatMap((f) => f.tools)) {
        const props = rec(tool.input_schema.properties ?? {});
        const input: Rec = {};
        for (const key of arr(tool.input_schema.required ?? []).map(String)) input[key] = sample(key, rec(props[key] ?? {}));
        try {
          const connector = tool.name.startsWith('asana_') ? 'asana' : tool.name.startsWith('posthogmcp_') ? 'posthog' : 'asanamcp';
          const res = await sk.actions.executeTool({ toolName: tool.name, identifier: ADA, connector, toolInput: input });
          assert.ok(res.data && typeof res.data === 'object', tool.name);
          ok++;
        } catch (err) {
          assert.ok(err instanceof ScalekitToolException, `${tool.name}: ${String(err)}`);
          assert.ok(['NOT_FOUND', 'INVALID_INPUT', 'CONFLICT'].includes(err.toolErrorCode), `${tool.name}: ${err.toolErrorCode} ${err.toolErrorMessage}`);
          refused.push(tool.name);
        }
      }
      assert.equal(ok + refused.length, 436);
      assert.ok(ok >= 400, `only ${ok} tools answered; refused: ${refused.join(', ')}`);
    });

    it('refuses an EXPIRED or missing account with a tool unauthorized error', async () => {
      await sk.actions.listConnectedAccounts({ identifier: ADA }); // fetch the SDK's token first
      emu.expireAccount(ADA, 'posthog');
      const expired = await rejectsWith(
        sk.actions.executeTool({ toolName: 'posthogmcp_insights_list', identifier: ADA, connector: 'posthog', toolInput: {} }),
        ScalekitToolUnauthorizedException,
      );
      assert.match(expired.toolErrorMessage, /is EXPIRED/);
      assert.equal(expired.toolErrorCode, 'CONNECTED_ACCOUNT_EXPIRED');

      const missing = await rejectsWith(
        sk.actions.executeTool({ toolName: 'asana_workspaces_list', identifier: GRACE, connector: 'asana', toolInput: {} }),
        ScalekitToolUnauthorizedException,
      );
      assert.equal(missing.toolErrorCode, 'CONNECTED_ACCOUNT_NOT_FOUND');
      assert.match(missing.toolErrorMessage, /not found/);
      // Tool errors are never retried and never refresh the token.
      assert.deepEqual(
        emu.rpcLog.filter((e) => e.method === 'ExecuteTool').map((e) => e.code),
        ['Unauthenticated', 'Unauthenticated'],
      );
      assert.equal(emu.tokenRequests, 1);
      assert.deepEqual(
        emu.executions.map((e) => e.ok),
        [false, false],
      );
    });
  });

  describe('faults', () => {
    beforeEach(async () => {
      emu.activateAccount(ADA, 'posthog');
      // Warm up the SDK's token so retries below are not spent on it.
      await sk.actions.listConnectedAccounts({ identifier: ADA });
      emu.resetLogs();
    });

    const run = () => sk.actions.executeTool({ toolName: 'posthogmcp_dashboards_get_all', identifier: ADA, connector: 'posthog', toolInput: {} });
    const executeLog = () => emu.rpcLog.filter((e) => e.method === 'ExecuteTool').map((e) => e.code);

    it('unavailable: the SDK retries with backoff and finally raises ScalekitServiceUnavailableException', async () => {
      emu.injectFault({ kind: 'unavailable', rpc: 'ExecuteTool' });
      await rejectsWith(run(), ScalekitServiceUnavailableException);
      assert.deepEqual(executeLog(), ['Unavailable', 'Unavailable', 'Unavailable', 'Unavailable']);
    });

    it('unavailable once: the SDK retries silently and succeeds', async () => {
      emu.injectFault({ kind: 'unavailable', rpc: 'executeTool', times: 1 });
      const res = await run();
      assert.equal(rec(res.data).count, 3);
      assert.deepEqual(executeLog(), ['Unavailable', 'ok']);
      assert.equal(emu.activeFaults().length, 0);
    });

    it('resourceExhausted: ScalekitTooManyRequestsException without a retry', async () => {
      emu.injectFault({ kind: 'resourceExhausted' });
      await rejectsWith(run(), ScalekitTooManyRequestsException);
      assert.deepEqual(executeLog(), ['ResourceExhausted']);
    });

    it('unauthenticated once: the SDK re-fetches its token and succeeds; always: ScalekitUnauthorizedException', async () => {
      emu.injectFault({ kind: 'unauthenticated', times: 1 });
      await run();
      assert.equal(emu.tokenRequests, 1);
      assert.deepEqual(executeLog(), ['Unauthenticated', 'ok']);

      emu.resetLogs();
      emu.injectFault({ kind: 'unauthenticated', rpc: 'ExecuteTool' });
      await rejectsWith(run(), ScalekitUnauthorizedException);
      assert.equal(emu.tokenRequests, 3);
      assert.deepEqual(executeLog(), ['Unauthenticated', 'Unauthenticated', 'Unauthenticated', 'Unauthenticated']);
    });

    it('revokeTokens: the next RPC is Unauthenticated and the SDK silently re-fetches a token', async () => {
      emu.revokeTokens();
      const res = await run();
      assert.equal(rec(res.data).count, 3);
      assert.equal(emu.tokenRequests, 1);
      assert.deepEqual(executeLog(), ['Unauthenticated', 'ok']);
    });

    it('an expired bearer token is refreshed the same way', async () => {
      now += 2 * 3600 * 1000;
      await run();
      assert.equal(emu.tokenRequests, 1);
      assert.deepEqual(executeLog(), ['Unauthenticated', 'ok']);
    });

    it('toolError maps each code to the SDK tool exception, carrying executionId and code, without retry', async () => {
      const cases = [
        { code: 'unauthorized', type: ScalekitToolUnauthorizedException, toolErrorCode: 'UNAUTHORIZED' },
        { code: 'forbidden', type: ScalekitToolForbiddenException, toolErrorCode: 'FORBIDDEN' },
        { code: 'rate_limit', type: ScalekitToolRateLimitException, toolErrorCode: 'RATE_LIMITED' },
        { code: 'other', type: ScalekitToolException, toolErrorCode: 'UPSTREAM_ERROR' },
      ] as const;
      for (const c of cases) {
        emu.injectFault({ kind: 'toolError', code: c.code, message: `boom ${c.code}`, times: 1 });
        const err: ScalekitToolException = await rejectsWith(run(), c.type);
        assert.equal(err.name, c.type.name);
        assert.equal(err.toolErrorCode, c.toolErrorCode);
        assert.equal(err.toolErrorMessage, `boom ${c.code}`);
        assert.equal(err.executionId, emu.executions[emu.executions.length - 1]?.executionId);
        if (c.code === 'rate_limit') assert.ok(err instanceof ScalekitTooManyRequestsException);
      }
      assert.equal(executeLog().length, 4, 'no retries');
      assert.equal(emu.tokenRequests, 0);
    });

    it('toolError with toolName only hits that tool', async () => {
      emu.injectFault({ kind: 'toolError', code: 'forbidden', toolName: 'posthogmcp_insights_list' });
      await run();
      await rejectsWith(
        sk.actions.executeTool({ toolName: 'posthogmcp_insights_list', identifier: ADA, connector: 'posthog', toolInput: {} }),
        ScalekitToolForbiddenException,
      );
    });

    it('latency delays the matching RPC measurably', async () => {
      const fastStart = Date.now();
      await run();
      const fast = Date.now() - fastStart;
      emu.injectFault({ kind: 'latency', ms: 800, rpc: 'ExecuteTool', times: 1 });
      const slowStart = Date.now();
      await run();
      const slow = Date.now() - slowStart;
      assert.ok(slow >= 790, `expected >= 800 ms, took ${slow}`);
      assert.ok(fast < 600, `baseline took ${fast} ms`);
      const againStart = Date.now();
      await sk.actions.listConnectedAccounts({ identifier: ADA });
      assert.ok(Date.now() - againStart < 600, 'other RPCs are not delayed');
    });

    it('hugeResult pads the result to the requested size', async () => {
      emu.injectFault({ kind: 'hugeResult', bytes: 2_000_000, toolName: 'posthogmcp_dashboards_get_all', times: 1 });
      const res = rec((await run()).data);
      assert.ok(JSON.stringify(res).length >= 2_000_000);
      assert.equal(res.count, 3, 'the real result is still there');
      assert.ok(arr(res.rows).length > 1000);
      const normal = rec((await run()).data);
      assert.equal(normal.rows, undefined);
    });
  });
});
