import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Identifier } from '../core/identifier';
import type { ToolRisk } from '../core/toolRisk';
import type { Database } from './database';
import type { AuditOutcome, AuditRecord, DecisionSource } from './protocol';

// What the gateway keeps in its database: single-use connect states and the audit. Every
// instance reads and writes the same rows, so any instance can answer any request.

export const connectStateTtlMs = 10 * 60_000;

export type StateProblem = 'unknown' | 'expired' | 'replayed' | 'otherIdentity';

export type ConsumedState = { readonly ok: true; readonly connection: string } | { readonly ok: false; readonly problem: StateProblem };

const hashState = (state: string): string => createHash('sha256').update(state, 'utf8').digest('hex');

export class ConnectStates {
  constructor(private readonly db: Database) {}

  /** A new state (32 random bytes, base64url) bound to the identifier and connection, valid 10 minutes. */
  async mint(identifier: Identifier, connection: string): Promise<string> {
    const state = randomBytes(32).toString('base64url');
    await this.db.query(
      `INSERT INTO connect_states (state_hash, identifier, connection, expires_at) VALUES ($1, $2, $3, now() + ($4::int * interval '1 millisecond'))`,
      [hashState(state), identifier, connection, connectStateTtlMs],
    );
    // Expired states are useless; clear them now and then, on the way.
    if (Math.random() < 0.05) await this.db.query(`DELETE FROM connect_states WHERE expires_at < now() - interval '1 day'`);
    return state;
  }

  /**
   * Consumes the state for this identifier, atomically: of two racing requests (on any
   * instances) one wins. A state bound to another identifier is not consumed, so its owner
   * can still finish.
   */
  async consume(identifier: Identifier, state: string): Promise<ConsumedState> {
    const hash = hashState(state);
    const won = await this.db.query<{ connection: string }>(
      `UPDATE connect_states SET consumed_at = now()
        WHERE state_hash = $1 AND identifier = $2 AND consumed_at IS NULL AND expires_at > now()
        RETURNING connection`,
      [hash, identifier],
    );
    if (won[0]) return { ok: true, connection: won[0].connection };
    const [row] = await this.db.query<{ identifier: string; consumed: boolean; expired: boolean }>(
      `SELECT identifier, consumed_at IS NOT NULL AS consumed, expires_at <= now() AS expired FROM connect_states WHERE state_hash = $1`,
      [hash],
    );
    if (!row) return { ok: false, problem: 'unknown' };
    if (row.identifier !== identifier) return { ok: false, problem: 'otherIdentity' };
    return { ok: false, problem: row.consumed ? 'replayed' : 'expired' };
  }
}

export interface AuditStart {
  readonly identifier: Identifier;
  readonly connection: string;
  readonly tool: string;
  readonly risk: ToolRisk;
  readonly decision: AuditRecord['decision'];
  readonly decisionSource: DecisionSource;
  readonly approvalWaitMs?: number;
  readonly inputHmac: string;
  readonly instance: string;
}

export interface AuditFinish {
  readonly outcome: AuditOutcome;
  readonly error?: string;
  readonly durationMs: number;
  readonly executionId?: string;
}

/** One row of the audit table, as the database driver returns it (the admin page and tests read the same). */
export interface AuditRow {
  seq: string;
  id: string;
  at: Date | string;
  identifier: string;
  connection: string;
  tool: string;
  risk: ToolRisk;
  decision: AuditRecord['decision'];
  decision_source: DecisionSource;
  outcome: AuditOutcome;
  error: string | null;
  duration_ms: number;
  approval_wait_ms: number | null;
  input_hmac: string;
  execution_id: string | null;
  instance: string;
}

export class AuditStore {
  constructor(private readonly db: Database) {}

  /**
   * Writes the record of a call about to run (outcome `started`); the call runs only once
   * this resolved. Returns the record's id for `finish`.
   */
  async start(entry: AuditStart): Promise<string> {
    return this.insert(entry, { outcome: 'started', durationMs: 0 });
  }

  /** Sets the outcome of a started record (same row: one row per call). */
  async finish(id: string, finish: AuditFinish): Promise<void> {
    const rows = await this.db.query<{ id: string }>(
      `UPDATE audit SET outcome = $2, error = $3, duration_ms = $4, execution_id = $5 WHERE id = $1 RETURNING id`,
      [id, finish.outcome, finish.error ?? null, Math.round(finish.durationMs), finish.executionId || null],
    );
    if (rows.length !== 1) throw new Error('the audit record of this call is gone');
  }

  /** One complete record (a refusal or denial, which never runs). */
  async record(entry: AuditStart, finish: AuditFinish): Promise<string> {
    return this.insert(entry, finish);
  }

  /** The identifier's own records, newest first; `before` is the previous page's `next`. */
  async listFor(identifier: Identifier, limit: number, before?: string): Promise<{ records: AuditRecord[]; next?: string }> {
    const cursor = before !== undefined && /^\d{1,19}$/.test(before) ? before : undefined;
    const rows = await this.db.query<AuditRow>(
      `SELECT * FROM audit WHERE identifier = $1 ${cursor !== undefined ? 'AND seq < $3' : ''} ORDER BY seq DESC LIMIT $2`,
      cursor !== undefined ? [identifier, limit + 1, cursor] : [identifier, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { records: page.map(toRecord), ...(rows.length > limit && last ? { next: String(last.seq) } : {}) };
  }

  private async insert(entry: AuditStart, finish: AuditFinish): Promise<string> {
    const id = randomUUID();
    await this.db.query(
      `INSERT INTO audit (id, at, identifier, connection, tool, risk, decision, decision_source, outcome, error, duration_ms,
                          approval_wait_ms, input_hmac, execution_id, instance)
       VALUES ($1, now(), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        id,
        entry.identifier,
        entry.connection,
        entry.tool,
        entry.risk,
        entry.decision,
        entry.decisionSource,
        finish.outcome,
        finish.error ?? null,
        Math.round(finish.durationMs),
        entry.approvalWaitMs === undefined ? null : Math.round(entry.approvalWaitMs),
        entry.inputHmac,
        finish.executionId || null,
        entry.instance,
      ],
    );
    return id;
  }
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    identifier: row.identifier,
    connection: row.connection,
    tool: row.tool,
    risk: row.risk,
    decision: row.decision,
    decisionSource: row.decision_source,
    outcome: row.outcome,
    ...(row.error !== null ? { error: row.error } : {}),
    durationMs: Number(row.duration_ms),
    ...(row.approval_wait_ms !== null ? { approvalWaitMs: Number(row.approval_wait_ms) } : {}),
    inputHmac: row.input_hmac,
    ...(row.execution_id !== null ? { executionId: row.execution_id } : {}),
    instance: row.instance,
  };
}

/** The audit HMAC key every instance shares: created once (the first instance wins), then read. */
export async function sharedAuditKey(db: Database): Promise<Uint8Array> {
  await db.query(`INSERT INTO gateway_settings (name, value) VALUES ('audit_hmac_key', $1) ON CONFLICT (name) DO NOTHING`, [
    randomBytes(32).toString('base64'),
  ]);
  const [row] = await db.query<{ value: string }>(`SELECT value FROM gateway_settings WHERE name = 'audit_hmac_key'`);
  if (!row) throw new Error('the audit key could not be stored');
  return Buffer.from(row.value, 'base64');
}
