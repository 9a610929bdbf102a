// Formatting helpers for labels shown in the chat.

export { connectionLabel } from '../shared/labels';

/** 1234 → "1.2k", 2_500_000 → "2.5M". */
export function compactNumber(n: number): string {
  if (!Number.isFinite(n)) return '0';
  const abs = Math.abs(n);
  if (abs < 1000) return String(Math.round(n));
  if (abs < 1_000_000) return `${trim1(n / 1000)}k`;
  return `${trim1(n / 1_000_000)}M`;
}

function trim1(n: number): string {
  const s = n >= 100 ? n.toFixed(0) : n.toFixed(1);
  return s.endsWith('.0') ? s.slice(0, -2) : s;
}

export function groupedNumber(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function costLabel(usd: number): string {
  if (!Number.isFinite(usd) || usd <= 0) return '$0.00';
  if (usd < 0.01) return '<$0.01';
  return `$${usd.toFixed(2)}`;
}

export function durationLabel(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${s} s`;
}

export function bytesLabel(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${trim1(bytes / 1024)} KB`;
  return `${trim1(bytes / (1024 * 1024))} MB`;
}

/** A JSON string re-indented when it parses; otherwise returned as is. */
export function prettyJson(text: string): string {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return text;
  // Already multi-line JSON from the host: keep it (no need to re-parse big outputs).
  if (trimmed.includes('\n')) return text;
  try {
    return JSON.stringify(JSON.parse(trimmed), null, 2);
  } catch {
    return text;
  }
}
