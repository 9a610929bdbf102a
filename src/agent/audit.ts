import { createHash } from 'node:crypto';
import type { ToolRisk } from '../core/toolRisk';
import type { DecisionSource } from './policy';

// One record per tool call, including denied and failed ones. The input is kept only as
// a hash, so no raw values (which may hold secrets or personal data) reach the log.

export interface AuditRecord {
  readonly time: string;
  readonly identifier: string;
  readonly connection: string;
  readonly tool: string;
  readonly risk: ToolRisk;
  readonly decision: DecisionSource;
  readonly outcome: 'success' | 'failure' | 'cancelled';
  readonly errorCode?: string;
  readonly durationMs: number;
  readonly executionId?: string;
  readonly inputSha256: string;
}

export function hashInput(input: unknown): string {
  return createHash('sha256').update(stableStringify(input)).digest('hex');
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

export const auditCsvColumns = ['time', 'identifier', 'connection', 'tool', 'risk', 'decision', 'outcome', 'errorCode', 'durationMs', 'executionId', 'inputSha256'] as const;

export function auditRecordsToCsv(records: readonly AuditRecord[]): string {
  const escape = (value: unknown) => {
    const text = value === undefined || value === null ? '' : String(value);
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
  const lines = [
    `# OnBehalf audit log: ${cell(label)}`,
    '',
    `${records.length} tool call${records.length === 1 ? '' : 's'}${filter ? ` (${cell(filter)})` : ''}, newest first.`,
    '',
    '| Time (UTC) | Connection | Tool | Risk | Decision | Outcome | Error | Duration | Execution id |',
    '| --- | --- | --- | --- | --- | --- | --- | ---: | --- |',
  ];
  for (const r of [...records].reverse()) {
    lines.push(`| ${time(r.time)} | ${cell(r.connection)} | ${cell(r.tool)} | ${cell(r.risk)} | ${cell(r.decision)} | ${cell(r.outcome)} | ${cell(r.errorCode)} | ${cell(r.durationMs)} ms | ${cell(r.executionId)} |`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Text that renders as exactly itself inside a Markdown table cell or heading, in VS Code's
 * preview (markdown-it with raw HTML and linkify on). Every ASCII punctuation character is
 * backslash-escaped, so nothing can open an image, link, autolink, HTML tag, entity, code
 * span, emphasis or a new cell; escaped '.', ':', '/' and '@' also keep linkify from seeing
 * a URL, domain or e-mail. Left alone, for readability: '-' (never active mid-line) and '_'
 * between two letters or digits (never emphasis). Line breaks become spaces.
 */
export function markdownText(value: unknown): string {
  const text = String(value ?? '').replace(/[\r\n\t\u2028\u2029]/g, ' ');
  return text.replace(/[!-\/:-@\[-`{-~]/g, (ch, index: number) => {
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
