import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Identifier } from '../core/identifier';
import type { ToolRisk } from '../core/toolRisk';
import type { DecisionSource } from './policy';

// One record per tool call, including denied and failed ones. The input is kept only as
// an HMAC-SHA256 under a random 256-bit key of the identity's own (kept in SecretStorage,
// never in the log), so no raw values (which may hold secrets or personal data) reach the
// log, and a small input cannot be recovered by hashing guesses. Whoever holds the key
// can check a given input against a record (auditInputMatches; the command
// "OnBehalf: Check Input Against Audit Record").

export interface AuditRecord {
  readonly time: string;
  readonly identifier: string;
  readonly connection: string;
  readonly tool: string;
  readonly risk: ToolRisk;
  readonly decision: DecisionSource;
  readonly outcome: 'success' | 'failure' | 'cancelled';
  readonly errorCode?: string;
  /** How long the call ran, not counting the wait for the user's approval. */
  readonly durationMs: number;
  /** How long the call waited for the user's approval; absent when nobody was asked. */
  readonly approvalWaitMs?: number;
  readonly executionId?: string;
  /** HMAC-SHA256 (hex) of the input's canonical JSON under the identity's audit key. */
  readonly inputHmac: string;
  /** Records written before keyed hashes: plain SHA-256 (hex) of the canonical JSON. */
  readonly inputSha256?: string;
}

/**
 * What the agent hands to the audit sink: the record, with the raw input still in memory only,
 * for an identifier derived from the session (a record read back from disk stays a plain string).
 */
export type AuditEntry = Omit<AuditRecord, 'inputHmac' | 'inputSha256' | 'identifier'> & { readonly identifier: Identifier; readonly input: unknown };

/** Plain SHA-256 of the canonical JSON: how records before keyed hashes were written. */
export function hashInput(input: unknown): string {
  return createHash('sha256').update(stableStringify(input)).digest('hex');
}

/** HMAC-SHA256 (hex) of the input's canonical JSON (keys sorted, no spaces). */
export function hmacInput(key: Uint8Array, input: unknown): string {
  return createHmac('sha256', key).update(stableStringify(input)).digest('hex');
}

/** The record to write: the input replaced by its HMAC. */
export function sealAuditEntry(entry: AuditEntry, key: Uint8Array): AuditRecord {
  const { input, ...rest } = entry;
  return { ...rest, inputHmac: hmacInput(key, input) };
}

/** What a pasted record (a JSON line of the log or its JSONL export) or a bare hash names. */
export interface AuditReference {
  readonly hash: string;
  readonly kind: 'hmac' | 'sha256';
  readonly identifier?: string;
}

export function parseAuditReference(text: string): AuditReference | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return { hash: trimmed.toLowerCase(), kind: 'hmac' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const record = parsed as Record<string, unknown>;
  const identifier = typeof record['identifier'] === 'string' ? { identifier: record['identifier'] } : {};
  const hex = (value: unknown) => (typeof value === 'string' && /^[0-9a-fA-F]{64}$/.test(value) ? value.toLowerCase() : undefined);
  const hmac = hex(record['inputHmac']);
  if (hmac) return { hash: hmac, kind: 'hmac', ...identifier };
  const sha = hex(record['inputSha256']);
  if (sha) return { hash: sha, kind: 'sha256', ...identifier };
  return undefined;
}

/** Whether `input` is the input a record (or a bare HMAC) was written for, under `key`. */
export function auditInputMatches(
  key: Uint8Array,
  input: unknown,
  record: Pick<AuditRecord, 'inputHmac'> | { readonly inputSha256: string } | AuditReference | string,
): boolean {
  const reference: AuditReference | undefined =
    typeof record === 'string' ? parseAuditReference(record) : 'hash' in record ? record : parseAuditReference(JSON.stringify(record));
  if (!reference) return false;
  const actual = reference.kind === 'hmac' ? hmacInput(key, input) : hashInput(input);
  return timingSafeEqual(Buffer.from(actual, 'hex'), Buffer.from(reference.hash, 'hex'));
}

/** Key order must not change the hash of the same input. */
function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const auditCsvColumns = [
  'time',
  'identifier',
  'connection',
  'tool',
  'risk',
  'decision',
  'outcome',
  'errorCode',
  'durationMs',
  'approvalWaitMs',
  'executionId',
  'inputHmac',
  'inputSha256',
] as const;

export function auditRecordsToCsv(records: readonly AuditRecord[]): string {
  const escape = (value: unknown) => {
    const text = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
    // Quote always; neutralise spreadsheet formulas.
    const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
    return `"${safe.replace(/"/g, '""')}"`;
  };
  const lines = [auditCsvColumns.join(',')];
  for (const record of records) lines.push(auditCsvColumns.map((c) => escape(record[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The audit log as a Markdown table, newest first, for VS Code's Markdown preview. */
export function auditRecordsToMarkdown(label: string, records: readonly AuditRecord[], filter: string): string {
  const cell = markdownText;
  const time = (iso: string) => {
    const readable = readableTime(iso);
    return /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(readable) ? readable : markdownText(readable);
  };
  if (records.length === 0) {
    const none = filter ? `No tool calls match ${cell(filter)}.` : 'No tool calls yet.';
    return `# OnBehalf audit log: ${cell(label)}\n\n${none}\n`;
  }
  const lines = [
    `# OnBehalf audit log: ${cell(label)}`,
    '',
    `${records.length} tool call${records.length === 1 ? '' : 's'}${filter ? ` (${cell(filter)})` : ''}, newest first.`,
    '',
    '| Time (UTC) | Connection | Tool | Risk | Decision | Outcome | Error | Duration | Approval wait | Execution id |',
    '| --- | --- | --- | --- | --- | --- | --- | ---: | ---: | --- |',
  ];
  for (const r of [...records].reverse()) {
    lines.push(
      `| ${time(r.time)} | ${cell(r.connection)} | ${cell(r.tool)} | ${cell(r.risk)} | ${cell(r.decision)} | ${cell(r.outcome)} | ${cell(r.errorCode)} | ${cell(r.durationMs)} ms | ${r.approvalWaitMs !== undefined ? `${cell(r.approvalWaitMs)} ms` : ''} | ${cell(r.executionId)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Text that renders as exactly itself inside a Markdown table cell or heading, in VS Code's
 * preview (markdown-it with raw HTML and linkify on). Every ASCII punctuation character is
 * backslash-escaped, so nothing can open an image, link, autolink, HTML tag, entity, code
 * span, emphasis or a new cell; escaped '.', ':', '/' and '@' also keep linkify (markdown-it
 * 13 and later) from seeing a URL, domain or e-mail. Left alone, for readability: '-' (never active mid-line) and '_'
 * between two letters or digits (never emphasis). Line breaks become spaces.
 */
export function markdownText(value: unknown): string {
  const text = (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '')
    .replace(/[\r\n\t\u2028\u2029]/g, ' ')
    // VS Code's preview (markdown-it 12) folds escaped characters back into the text before
    // linkify looks at it, so escaping alone does not stop "http://…", "//…" or "a@b.c" from
    // becoming links there. A zero-width space after ':' and between '/' '/', and before '@',
    // does: the text reads the same, and no scheme, host or e-mail is contiguous.
    .replace(/:(?=\/)/g, ':\u200b')
    .replace(/\/(?=\/)/g, '/\u200b')
    .replace(/@/g, '\u200b@');
  return text.replace(/[!-/:-@[-`{-~]/g, (ch, index: number) => {
    if (ch === '-') return ch;
    if (ch === '_' && /[A-Za-z0-9]/.test(text[index - 1] ?? '') && /[A-Za-z0-9]/.test(text[index + 1] ?? '')) return ch;
    return `\\${ch}`;
  });
}

/** "2026-11-23T16:46:48.774Z" reads as "2026-11-23 16:46:48"; anything else is shown as stored. */
function readableTime(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return match ? `${match[1]} ${match[2]}` : iso;
}
