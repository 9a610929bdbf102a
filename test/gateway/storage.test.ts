import * as assert from 'node:assert/strict';
import { migrate, openDatabase, type Database } from '../../src/gateway/database';
import { migrations } from '../../src/gateway/migrations';
import { AuditStore, ConnectStates, sharedAuditKey, type AuditStart } from '../../src/gateway/store';
import type { Identifier } from '../../src/core/identifier';
import { identifierOf } from '../support/identifiers';
import { postgresBinDir, startPostgresServer, type PostgresServer } from './postgresServer';

// The same storage suite on both drivers: PGlite (embedded) and a real Postgres server
// this suite starts itself (Debian's binaries). Same SQL, same migrations, same answers.

const ada = identifierOf('oidc', 'ada');
const grace = identifierOf('oidc', 'grace');

const entry = (identifier: Identifier, tool = 'asana_workspaces_list'): AuditStart => ({
  identifier,
  connection: 'asana',
  tool,
  risk: 'read',
  decision: 'auto',
  decisionSource: 'client-reported',
  inputHmac: 'a'.repeat(64),
  instance: 'gw-test',
});

function storageSuite(name: string, open: () => Promise<Database>): void {
  describe(`gateway storage on ${name}`, function () {
    this.timeout(120_000);
    let db: Database;
    beforeEach(async () => {
      db = await open();
      await migrate(db);
    });
    afterEach(async () => {
      await db.close();
    });

    it('applies each migration once and records it: a second run applies nothing', async () => {
      assert.deepEqual(await migrate(db), []);
      const rows = await db.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
      assert.deepEqual(
        rows.map((r) => [Number(r.version), r.name]),
        migrations.map((m) => [m.version, m.name]),
      );
    });

    it('a connect state is consumed once, by the identifier it was minted for, within its 10 minutes', async () => {
      const states = new ConnectStates(db);
      const state = await states.mint(ada, 'posthog');
      assert.match(state, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
      assert.deepEqual(await states.consume(grace, state), { ok: false, problem: 'otherIdentity' });
      assert.deepEqual(await states.consume(ada, state), { ok: true, connection: 'posthog' }, 'another identifier did not burn it');
      assert.deepEqual(await states.consume(ada, state), { ok: false, problem: 'replayed' });
      assert.deepEqual(await states.consume(ada, 'x'.repeat(43)), { ok: false, problem: 'unknown' });
      const late = await states.mint(ada, 'asana');
      const [row] = await db.query<{ minutes: number }>(
        `SELECT EXTRACT(EPOCH FROM (expires_at - created_at)) / 60 AS minutes FROM connect_states WHERE connection = 'asana'`,
      );
      assert.equal(Math.round(Number(row!.minutes)), 10);
      await db.query(`UPDATE connect_states SET expires_at = now() - interval '1 second' WHERE connection = 'asana'`);
      assert.deepEqual(await states.consume(ada, late), { ok: false, problem: 'expired' });
    });

    it('the database never holds a state itself, only its SHA-256', async () => {
      const state = await new ConnectStates(db).mint(ada, 'posthog');
      const dump = JSON.stringify(await db.query('SELECT * FROM connect_states'));
      assert.ok(!dump.includes(state));
    });

    it('of 20 racing consumptions of one state, exactly one wins', async () => {
      const states = new ConnectStates(db);
      const state = await states.mint(ada, 'posthog');
      const results = await Promise.all(Array.from({ length: 20 }, () => states.consume(ada, state)));
      assert.equal(results.filter((r) => r.ok).length, 1);
      assert.ok(results.filter((r) => !r.ok).every((r) => !r.ok && r.problem === 'replayed'));
    });

    it('audit: a started record is completed in place (one row), pages newest first, and lists only its own identifier', async () => {
      const audit = new AuditStore(db);
      const id = await audit.start(entry(ada));
      await audit.finish(id, { outcome: 'ok', durationMs: 12.4, executionId: 'exec-1' });
      for (let i = 0; i < 4; i++) await audit.record(entry(ada, `tool_${i}`), { outcome: 'denied', error: 'no', durationMs: 0 });
      await audit.record(entry(grace), { outcome: 'ok', durationMs: 1 });
      const [count] = await db.query<{ n: string }>('SELECT count(*) AS n FROM audit');
      assert.equal(Number(count!.n), 6);
      const first = await audit.listFor(ada, 3);
      assert.deepEqual(
        first.records.map((r) => r.tool),
        ['tool_3', 'tool_2', 'tool_1'],
      );
      assert.ok(first.next);
      const second = await audit.listFor(ada, 3, first.next);
      assert.deepEqual(
        second.records.map((r) => r.tool),
        ['tool_0', 'asana_workspaces_list'],
      );
      assert.equal(second.next, undefined);
      const done = second.records[1]!;
      assert.equal(done.outcome, 'ok');
      assert.equal(done.durationMs, 12);
      assert.equal(done.executionId, 'exec-1');
      assert.equal(done.instance, 'gw-test');
      assert.ok(!Number.isNaN(Date.parse(done.at)));
      assert.deepEqual(
        (await audit.listFor(grace, 50)).records.map((r) => r.identifier),
        [grace],
      );
    });

    it('every instance gets the same audit key from the database', async () => {
      const a = await sharedAuditKey(db);
      const b = await sharedAuditKey(db);
      assert.equal(a.length, 32);
      assert.deepEqual(Buffer.from(a), Buffer.from(b));
    });
  });
}

storageSuite('PGlite', () => openDatabase({ kind: 'pglite' }));

// One server for this file; each test gets a fresh database on it.
let server: PostgresServer | undefined;
const postgres = async (): Promise<PostgresServer> => (server ??= await startPostgresServer());
after(async () => {
  await server?.close();
});

storageSuite('a real Postgres server', async () => openDatabase({ kind: 'postgres', url: await (await postgres()).createDatabase(), poolSize: 25 }));

describe('gateway migrations on a real Postgres server', function () {
  this.timeout(120_000);

  it('without the server binaries the suite fails, saying what to install (it never skips)', () => {
    assert.throws(
      () => postgresBinDir('/nonexistent/postgresql'),
      /No PostgreSQL server binaries in \/nonexistent\/postgresql\/\*\/bin .*apt-get install -y postgresql/,
    );
    assert.match(postgresBinDir(), /^\/usr\/lib\/postgresql\/\d+\/bin$/);
  });

  it('five instances migrating one empty database at once apply each migration exactly once', async () => {
    const url = await (await postgres()).createDatabase();
    const dbs = await Promise.all(Array.from({ length: 5 }, () => openDatabase({ kind: 'postgres', url, poolSize: 2 })));
    try {
      const applied = await Promise.all(dbs.map((db) => migrate(db)));
      assert.deepEqual(
        applied.flat().sort(),
        migrations.map((m) => m.version),
      );
      const rows = await dbs[0]!.query<{ n: string }>('SELECT count(*) AS n FROM schema_migrations');
      assert.equal(Number(rows[0]!.n), migrations.length);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });
});
