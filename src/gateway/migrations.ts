// Versioned schema migrations, applied in order at start under an advisory lock (see
// database.ts), each recorded in schema_migrations. Append only: never edit a migration
// that has shipped; add the next number. The same SQL runs on Postgres and on PGlite.

import { adminMigration } from './admin';
import { rateLimitMigration } from './rateLimit';
import { relayMigration } from './relay';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: '001_connect_states_audit_settings',
    sql: `
CREATE TABLE connect_states (
  -- SHA-256 (hex) of the state: a copy of the table cannot finish anyone's connection.
  state_hash TEXT PRIMARY KEY,
  identifier TEXT NOT NULL,
  connection TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ NOT NULL,
  consumed_at TIMESTAMPTZ
);
CREATE INDEX connect_states_expires_at ON connect_states (expires_at);

CREATE TABLE audit (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  at TIMESTAMPTZ NOT NULL,
  identifier TEXT NOT NULL,
  connection TEXT NOT NULL,
  tool TEXT NOT NULL,
  risk TEXT NOT NULL,
  decision TEXT NOT NULL,
  decision_source TEXT NOT NULL,
  outcome TEXT NOT NULL,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  approval_wait_ms INTEGER,
  input_hmac TEXT NOT NULL,
  execution_id TEXT,
  instance TEXT NOT NULL
);
CREATE INDEX audit_identifier_seq ON audit (identifier, seq DESC);

-- Values every instance must share (the audit HMAC key when none is configured).
CREATE TABLE gateway_settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
  },
  // Team mode at scale (numbered from 101 so they never clash with the core's own).
  rateLimitMigration,
  adminMigration,
  relayMigration,
];
