import type { AuditRow } from './store';
import type { Database, Queryable } from './database';
import type { AuditOutcome } from './protocol';

// The admin page's view of the audit table: every identifier's rows, filtered, in keyset
// pages (seq DESC, so a page costs the same on row 10 and on row 10 million), and the
// whole filtered set streamed through a server-side cursor for CSV/JSONL exports.

export const auditOutcomes: readonly AuditOutcome[] = ['ok', 'error', 'denied', 'refused', 'started'];

export interface AdminAuditFilter {
  readonly user?: string;
  readonly connection?: string;
  readonly tool?: string;
  readonly outcome?: AuditOutcome;
  readonly decision?: string;
  /** Inclusive lower bound. */
  readonly from?: Date;
  /** Exclusive upper bound. */
  readonly to?: Date;
}

export interface AdminAuditRow {
  readonly seq: string;
  readonly id: string;
  readonly at: string;
  readonly identifier: string;
  readonly connection: string;
  readonly tool: string;
  readonly risk: string;
  readonly decision: string;
  readonly decisionSource: string;
  readonly outcome: string;
  readonly error: string | null;
  readonly durationMs: number;
  readonly approvalWaitMs: number | null;
  readonly inputHmac: string;
  readonly executionId: string | null;
  readonly instance: string;
}

/** The export's columns, in order (the CSV header and the JSONL keys). */
export const exportColumns: ReadonlyArray<keyof AdminAuditRow> = [
  'id',
  'at',
  'identifier',
  'connection',
  'tool',
  'risk',
  'decision',
  'decisionSource',
  'outcome',
  'error',
  'durationMs',
  'approvalWaitMs',
  'inputHmac',
  'executionId',
  'instance',
];

function toRow(raw: AuditRow): AdminAuditRow {
  return {
    seq: String(raw.seq),
    id: raw.id,
    at: new Date(raw.at).toISOString(),
    identifier: raw.identifier,
    connection: raw.connection,
    tool: raw.tool,
    risk: raw.risk,
    decision: raw.decision,
    decisionSource: raw.decision_source,
    outcome: raw.outcome,
    error: raw.error,
    durationMs: Number(raw.duration_ms),
    approvalWaitMs: raw.approval_wait_ms === null ? null : Number(raw.approval_wait_ms),
    inputHmac: raw.input_hmac,
    executionId: raw.execution_id,
    instance: raw.instance,
  };
}

/** The WHERE clause and its parameters; every value is a bound parameter, never SQL text. */
function where(filter: AdminAuditFilter, params: unknown[]): string {
  const clauses: string[] = [];
  const bind = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.user !== undefined) clauses.push(`identifier = ${bind(filter.user)}`);
  if (filter.connection !== undefined) clauses.push(`connection = ${bind(filter.connection)}`);
  if (filter.tool !== undefined) clauses.push(`tool = ${bind(filter.tool)}`);
  if (filter.outcome !== undefined) clauses.push(`outcome = ${bind(filter.outcome)}`);
  if (filter.decision !== undefined) clauses.push(`decision = ${bind(filter.decision)}`);
  if (filter.from !== undefined) clauses.push(`at >= ${bind(filter.from.toISOString())}::timestamptz`);
  if (filter.to !== undefined) clauses.push(`at < ${bind(filter.to.toISOString())}::timestamptz`);
  return clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
}

/** One page, newest first; `before` is the previous page's `next` (a seq). */
export async function auditPage(db: Database, filter: AdminAuditFilter, limit: number, before?: string): Promise<{ rows: AdminAuditRow[]; next?: string }> {
  const params: unknown[] = [];
  let clause = where(filter, params);
  if (before !== undefined) {
    params.push(before);
    clause = `${clause ? `${clause} AND` : 'WHERE'} seq < $${params.length}::bigint`;
  }
  params.push(limit + 1);
  const raw = await db.query<AuditRow>(`SELECT * FROM audit ${clause} ORDER BY seq DESC LIMIT $${params.length}`, params);
  const rows = raw.slice(0, limit).map(toRow);
  const last = rows[rows.length - 1];
  return { rows, ...(raw.length > limit && last ? { next: last.seq } : {}) };
}

/**
 * Every row matching `filter`, newest first, handed to `each` in batches read through a
 * server-side cursor, so an export of millions of rows holds one batch in memory. `each`
 * may wait (the HTTP response draining) before the next batch is fetched.
 */
export async function streamAudit(db: Database, filter: AdminAuditFilter, each: (rows: AdminAuditRow[]) => Promise<void>, batch = 500): Promise<number> {
  return db.transaction(async (tx: Queryable) => {
    const params: unknown[] = [];
    // The filter values are bind parameters of the cursor's query, never SQL text.
    await tx.query(`DECLARE audit_export NO SCROLL CURSOR FOR SELECT * FROM audit ${where(filter, params)} ORDER BY seq DESC`, params);
    let total = 0;
    for (;;) {
      const raw = await tx.query<AuditRow>(`FETCH ${Math.trunc(batch)} FROM audit_export`);
      if (raw.length === 0) break;
      total += raw.length;
      await each(raw.map(toRow));
    }
    await tx.query('CLOSE audit_export');
    return total;
  });
}

function csvCell(value: string | number | null): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  // Quote what needs it, and defuse spreadsheet formulas (a leading = + - @ runs as a formula in Excel).
  const defused = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n']/.test(defused) ? `"${defused.replace(/"/g, '""')}"` : defused;
}

export function csvHeader(): string {
  return `${exportColumns.join(',')}\r\n`;
}

export function csvLine(row: AdminAuditRow): string {
  return `${exportColumns.map((c) => csvCell(row[c])).join(',')}\r\n`;
}

export function jsonLine(row: AdminAuditRow): string {
  return `${JSON.stringify(Object.fromEntries(exportColumns.map((c) => [c, row[c]])))}\n`;
}
