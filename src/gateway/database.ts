import { PGlite } from '@electric-sql/pglite';
import { Pool, type PoolClient } from 'pg';
import type { DatabaseConfig } from './config';
import { migrations as allMigrations, type Migration } from './migrations';

// One Database interface over two drivers that speak the same SQL: `pg` (a Pool against a
// real Postgres server, for N gateway instances) and PGlite (Postgres compiled to WASM,
// embedded: one instance, the sandbox, the fast tests). Queries use $1-style parameters.

export interface Queryable {
  query<Row extends object>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

class PgDatabase implements Database {
  readonly kind = 'postgres';
  constructor(private readonly pool: Pool) {}

  async query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    const result = await this.pool.query(sql, [...params]);
    return result.rows as Row[];
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client: PoolClient = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const tx: Queryable = {
        query: async <Row extends object>(sql: string, params: readonly unknown[] = []) => (await client.query(sql, [...params])).rows as Row[],
      };
      const result = await work(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

class PgliteDatabase implements Database {
  readonly kind = 'pglite';
  constructor(private readonly db: PGlite) {}

  async query<Row extends object>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.db.query<Row>(sql, [...params])).rows;
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) =>
      work({ query: async <Row extends object>(sql: string, params: readonly unknown[] = []) => (await tx.query<Row>(sql, [...params])).rows }),
    );
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** Opens the configured database (nothing is created or migrated yet: see `migrate`). */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.kind === 'postgres') {
    const pool = new Pool({ connectionString: config.url, max: config.poolSize, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
    // A dropped idle connection (a Postgres restart) must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    return new PgDatabase(pool);
  }
  const db = config.dataDir ? new PGlite(config.dataDir) : new PGlite();
  await db.waitReady;
  return new PgliteDatabase(db);
}

/** Any fixed 64-bit number unique to this application: the advisory lock migrations run under. */
const migrationLockKey = 0x0b_e4a1_f6a7;

/**
 * Applies the migrations not yet recorded, in order, in one transaction holding an advisory
 * lock, so several instances starting at once apply each migration exactly once (the others
 * wait on the lock, then find nothing left to do). Returns the versions it applied.
 */
export async function migrate(db: Database, migrations: readonly Migration[] = allMigrations): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [migrationLockKey]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return applied;
  });
}

/** Statements of a migration, one by one (extended-protocol queries take one statement each). */
function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}
