import type { TimeSeriesView } from '../shared/protocol';

// Finds PostHog trends-shaped series in a tool result so the chat can draw a chart:
// `{ results: [{ label, days | labels, data: number[] }] }`, possibly nested one level.

const maxSeries = 8;
const maxPoints = 400;

export function extractTimeSeries(data: unknown): TimeSeriesView[] {
  const candidates = findResultArrays(data, 0);
  for (const results of candidates) {
    const series = results.map(toSeries).filter((s): s is TimeSeriesView => s !== undefined);
    if (series.length > 0) return series.slice(0, maxSeries);
  }
  return [];
}

function findResultArrays(value: unknown, depth: number): unknown[][] {
  if (depth > 3 || !value || typeof value !== 'object') return [];
  if (Array.isArray(value)) return [value];
  const record = value as Record<string, unknown>;
  const found: unknown[][] = [];
  for (const key of ['results', 'result', 'series', 'data']) {
    const child = record[key];
    if (Array.isArray(child)) found.push(child);
    else if (child && typeof child === 'object') found.push(...findResultArrays(child, depth + 1));
  }
  return found;
}

function toSeries(entry: unknown): TimeSeriesView | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const record = entry as Record<string, unknown>;
  const values = record.data;
  const xs = Array.isArray(record.days) ? record.days : Array.isArray(record.labels) ? record.labels : undefined;
  if (!Array.isArray(values) || !xs || values.length === 0 || values.length !== xs.length) return undefined;
  if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) return undefined;
  const label = typeof record.label === 'string' ? record.label : typeof record.name === 'string' ? record.name : 'series';
  return {
    label: label.slice(0, 120),
    points: values.slice(0, maxPoints).map((y, i) => ({ x: String(xs[i]).slice(0, 40), y: y as number })),
  };
}
