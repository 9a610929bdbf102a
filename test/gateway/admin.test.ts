import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { identifierFor } from '../../src/core/identifier';
import { auditPage, streamAudit } from '../../src/gateway/adminAudit';
import { migrate, openDatabase } from '../../src/gateway/database';
import type { RunningGateway } from '../../src/gateway/server';
import { launchBrowser, type BrowserSession } from '../harness/browser';
import { startPostgresServer } from './postgresServer';
import { startOidcGateway, startWorld, type World } from './support';

// The admin audit page in real chromium, used as a person would: sign in at the IdP
// emulator's login page, filter, page through, export. A non-admin is refused. Every
// result is compared with the same question asked of the audit table in SQL.

const seeded = 1_200;
// 1,200 rows over 10 users, 2 connections, 6 tools, 4 outcomes, 4 decisions and 50 days; some errors need CSV quoting.
const seedSql = `INSERT INTO audit (id, at, identifier, connection, tool, risk, decision, decision_source, outcome, error, duration_ms, input_hmac, instance)
       SELECT 'seed-' || lpad(i::text, 5, '0'),
              timestamptz '2026-10-01T00:00:00Z' + (i * interval '1 hour'),
              'oidc:seed:user' || (i % 10),
              CASE WHEN i % 3 = 0 THEN 'asana' ELSE 'posthog' END,
              (ARRAY['asana_task_create','asana_tasks_list','posthogmcp_query_run','posthogmcp_action_get','posthogmcp_insight_create','posthogmcp_entity_search'])[1 + (i / 2) % 6],
              CASE WHEN i % 2 = 0 THEN 'read' ELSE 'write' END,
              (ARRAY['user-approved','always','rule','auto'])[1 + (i / 7) % 4],
              'client-reported',
              (ARRAY['ok','ok','error','denied'])[1 + (i / 3) % 4],
              CASE WHEN i % 5 = 3 THEN 'Asana said "no", twice' || chr(10) || '=cmd' ELSE NULL END,
              i % 500, md5(i::text), 'gw-seed'
       FROM generate_series(1, ${seeded}) AS i`;

/** RFC 4180: fields, quoted fields with "" escapes and line breaks inside. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}

describe('admin audit page (real chromium)', function () {
  this.timeout(240_000);
  let world: World;
  let gateway: RunningGateway;
  let browser: BrowserSession;
  let adaId: string;
  let graceId: string;

  before(async function () {
    this.timeout(120_000);
    world = await startWorld();
    adaId = identifierFor('oidc', 'ada', world.idp.issuer);
    graceId = identifierFor('oidc', 'grace', world.idp.issuer);
    gateway = await startOidcGateway(world, { admins: [adaId] });
    await gateway.database.query(seedSql);
    browser = await launchBrowser();
  });
  after(async function () {
    this.timeout(60_000);
    await browser?.close();
    await gateway?.close();
    await world?.close();
  });

  async function signIn(context: BrowserContext, sub: 'ada' | 'grace'): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${gateway.url}/admin`);
    // Not signed in: the gateway sent the browser to the issuer's login page.
    assert.ok(page.url().startsWith(`${world.idp.issuer}/authorize`), page.url());
    await page.click(`#login-${sub}`);
    await page.waitForLoadState('load');
    return page;
  }

  /** Every row id the page shows for the current filter, following "Older rows" to the end. */
  async function allPages(page: Page): Promise<string[]> {
    const ids: string[] = [];
    for (let pages = 0; pages < 100; pages++) {
      ids.push(...(await page.locator('#audit tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id') ?? ''))));
      const older = page.locator('#older');
      if ((await older.count()) === 0) return ids;
      await Promise.all([page.waitForLoadState('load'), older.click()]);
      await page.locator('#count').waitFor();
    }
    throw new Error('more than 100 pages');
  }

  async function expectedIds(where: string, params: unknown[]): Promise<string[]> {
    return (await gateway.database.query<{ id: string }>(`SELECT id FROM audit ${where} ORDER BY seq DESC`, params)).map((r) => r.id);
  }

  async function download(page: Page, link: string): Promise<string> {
    const [file] = await Promise.all([page.waitForEvent('download'), page.click(link)]);
    return readFileSync(await file.path(), 'utf8');
  }

  it('refuses a signed-in user who is not an administrator: no session, no rows, no export', async () => {
    const context = await browser.browser.newContext();
    try {
      const page = await signIn(context, 'grace');
      assert.match(await page.locator('#message').innerText(), /is not an administrator of this gateway/);
      assert.ok((await page.locator('#message').innerText()).includes(graceId));
      assert.equal((await context.cookies()).filter((c) => c.name === 'onbehalf_admin').length, 0);
      for (const path of ['/admin', '/admin/export.csv', '/admin/export.jsonl']) {
        const answer = await context.request.get(`${gateway.url}${path}`, { maxRedirects: 0 });
        assert.equal(answer.status(), 302, path);
        assert.equal(answer.headers()['location'], '/admin/login');
        assert.doesNotMatch(await answer.text(), /seed-/);
      }
    } finally {
      await context.close();
    }
  });

  it('an admin signs in with the OIDC flow, filters by user, connection, tool, outcome, decision and time, pages through, and exports exactly the matching rows', async () => {
    const context = await browser.browser.newContext({ acceptDownloads: true });
    try {
      const page = await signIn(context, 'ada');
      await page.waitForURL(`${gateway.url}/admin`);
      assert.match(await page.locator('#who').innerText(), new RegExp(adaId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      const cookie = (await context.cookies()).find((c) => c.name === 'onbehalf_admin');
      assert.ok(cookie, 'a session cookie');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal(cookie.path, '/admin');
      const headers = (await context.request.get(`${gateway.url}/admin`)).headers();
      assert.match(headers['content-security-policy'] ?? '', /default-src 'none'/);
      assert.doesNotMatch(headers['content-security-policy'] ?? '', /unsafe-inline|script-src/);
      assert.equal(await page.locator('script').count(), 0, 'no script on the page at all');

      // Unfiltered: every row, newest first, across pages of 50.
      const everything = await expectedIds('', []);
      assert.ok(everything.length >= seeded);
      assert.deepEqual(await allPages(page), everything);

      // One filter: asana rows that went ok (several pages).
      await page.fill('#filter-connection', 'asana');
      await page.selectOption('#filter-outcome', 'ok');
      await Promise.all([page.waitForLoadState('load'), page.click('#apply')]);
      const asanaOk = await expectedIds(`WHERE connection = 'asana' AND outcome = 'ok'`, []);
      assert.ok(asanaOk.length > 50, `${asanaOk.length} rows: more than one page`);
      assert.deepEqual(await allPages(page), asanaOk);

      // Every filter at once.
      await page.goto(`${gateway.url}/admin`);
      await page.fill('#filter-user', 'oidc:seed:user3');
      await page.fill('#filter-connection', 'asana');
      await page.fill('#filter-tool', 'asana_tasks_list');
      await page.selectOption('#filter-outcome', 'ok');
      await page.fill('#filter-decision', 'always');
      await page.fill('#filter-from', '2026-10-05T00:00:00Z');
      await page.fill('#filter-to', '2026-11-20T00:00:00Z');
      await Promise.all([page.waitForLoadState('load'), page.click('#apply')]);
      const narrow = await expectedIds(
        `WHERE identifier = $1 AND connection = $2 AND tool = $3 AND outcome = $4 AND decision = $5 AND at >= $6::timestamptz AND at < $7::timestamptz`,
        ['oidc:seed:user3', 'asana', 'asana_tasks_list', 'ok', 'always', '2026-10-05T00:00:00Z', '2026-11-20T00:00:00Z'],
      );
      assert.ok(narrow.length > 0, 'the seed has rows for this filter');
      assert.deepEqual(await allPages(page), narrow);

      // Exports of the filtered view: the same rows, the error text intact (quotes, a line break, a defused formula).
      const csv = parseCsv(await download(page, '#export-csv'));
      assert.equal(
        csv[0]!.join(','),
        'id,at,identifier,connection,tool,risk,decision,decisionSource,outcome,error,durationMs,approvalWaitMs,inputHmac,executionId,instance',
      );
      assert.deepEqual(
        csv.slice(1).map((r) => r[0]),
        narrow,
      );
      assert.ok(csv.slice(1).every((r) => r[9] === 'Asana said "no", twice\n=cmd' && r[2] === 'oidc:seed:user3'));
      const jsonl = (await download(page, '#export-jsonl'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { id: string; outcome: string; decision: string });
      assert.deepEqual(
        jsonl.map((r) => r.id),
        narrow,
      );
      assert.ok(jsonl.every((r) => r.outcome === 'ok' && r.decision === 'always'));

      // The unfiltered export streams every row.
      await page.goto(`${gateway.url}/admin`);
      const all = parseCsv(await download(page, '#export-csv'));
      assert.deepEqual(
        all.slice(1).map((r) => r[0]),
        everything,
      );

      // A malformed filter is a clear refusal, not a crash.
      const bad = await page.goto(`${gateway.url}/admin?from=yesterday`);
      assert.equal(bad?.status(), 400);
      assert.match(await page.locator('#message').innerText(), /"from" filter is not a time/);

      // Signing out ends the session on the server.
      await page.goto(`${gateway.url}/admin`);
      await Promise.all([page.waitForURL(`${gateway.url}/admin/logout`), page.click('#logout')]);
      assert.match(await page.locator('#message').innerText(), /signed out/);
      const afterLogout = await context.request.get(`${gateway.url}/admin`, { maxRedirects: 0, headers: { cookie: `onbehalf_admin=${cookie.value}` } });
      assert.equal(afterLogout.status(), 302);
    } finally {
      await context.close();
    }
  });

  it('on a real Postgres server too: the cursor export and the keyset pages return exactly the filtered rows', async () => {
    const postgres = await startPostgresServer();
    const db = await openDatabase({ kind: 'postgres', url: await postgres.createDatabase(), poolSize: 2 });
    try {
      await migrate(db);
      await db.query(seedSql);
      const filter = { connection: 'asana', outcome: 'ok' as const, from: new Date('2026-10-10T00:00:00Z'), to: new Date('2026-11-10T00:00:00Z') };
      const expected = (
        await db.query<{ id: string }>(
          `SELECT id FROM audit WHERE connection = 'asana' AND outcome = 'ok' AND at >= '2026-10-10T00:00:00Z' AND at < '2026-11-10T00:00:00Z' ORDER BY seq DESC`,
        )
      ).map((r) => r.id);
      assert.ok(expected.length > 20);
      const streamed: string[] = [];
      let batches = 0;
      const total = await streamAudit(
        db,
        filter,
        async (rows) => {
          batches++;
          streamed.push(...rows.map((r) => r.id));
          return Promise.resolve();
        },
        7,
      );
      assert.equal(total, expected.length);
      assert.deepEqual(streamed, expected);
      assert.ok(batches > 1, 'read in batches');
      const paged: string[] = [];
      let before: string | undefined;
      do {
        const page = await auditPage(db, filter, 10, before);
        paged.push(...page.rows.map((r) => r.id));
        before = page.next;
      } while (before !== undefined);
      assert.deepEqual(paged, expected);
    } finally {
      await db.close();
      await postgres.close();
    }
  });
});
