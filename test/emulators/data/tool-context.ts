// What a tool handler gets besides its input.
import type { EmulatorData } from './world';

export type ConnectorKey = 'posthogmcp' | 'asana' | 'asanamcp';
export type JsonRecord = Record<string, unknown>;

export interface ToolContext {
  toolName: string;
  connector: ConnectorKey;
  /** The Scalekit identifier the call runs as. */
  identifier: string;
  /** The tool's input_schema from the catalog. */
  schema: JsonRecord;
  data: EmulatorData;
}

/** A handler returns the `data` object of ExecuteToolResponse. */
export type ToolHandler = (input: JsonRecord, ctx: ToolContext) => JsonRecord;

export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

export function num(value: unknown, fallback: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
  return Number.isFinite(n) ? n : fallback;
}

export function bool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

/** Splits "a, b,c" (or an array) into trimmed non-empty strings. */
export function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => String(v).trim()).filter(Boolean);
  if (typeof value === 'string')
    return value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
  return [];
}

export function page<T>(items: T[], limitRaw: unknown, offsetRaw: unknown, defaultLimit = 100): { slice: T[]; next: string | null } {
  const limit = Math.min(Math.max(1, Math.floor(num(limitRaw, defaultLimit))), 1000);
  const offset = Math.max(0, Math.floor(num(offsetRaw, 0)));
  const slice = items.slice(offset, offset + limit);
  const next = offset + limit < items.length ? `?limit=${limit}&offset=${offset + limit}` : null;
  return { slice, next };
}
