// A tiny PostHog query engine over the seeded daily counts: TrendsQuery,
// FunnelsQuery, EventsQuery and a pattern-matching HogQL fallback.
//
// Date ranges: `date_from: "-Nd"` means the N days ending today (N daily
// points, today included); `-Nw` is 7N days, `-Nm` 30N, `-Nq` 90N, `-Ny` 365N;
// `dStart` is today, `mStart`/`yStart` the start of the month/year, `all` the
// whole 90-day history, and `YYYY-MM-DD` an absolute day. `date_to` defaults
// to today; `-Nd` there means N days ago.
import { type Clock, DAY_MS, dayStart, isoDay } from './clock';
import { HISTORY_DAYS, type PostHogStore, isRecord } from './posthog';
import { ToolFailure } from './tool-failure';

export type JsonRecord = Record<string, unknown>;

interface DayRange {
  /** Inclusive, days ago. */
  from: number;
  /** Inclusive, days ago (from >= to). */
  to: number;
}

interface Bucket {
  day: string;
  label: string;
  /** Days-ago values covered by this bucket. */
  days: number[];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MAX_RANGE_DAYS = 400;

function daysBetween(clock: Clock, isoDate: string): number {
  const target = Date.parse(isoDate.length === 10 ? `${isoDate}T00:00:00Z` : isoDate);
  if (Number.isNaN(target)) throw new ToolFailure('invalid_input', `Invalid date "${isoDate}".`);
  return Math.round((dayStart(clock, 0) - Math.floor(target / DAY_MS) * DAY_MS) / DAY_MS);
}

function relativeDays(value: string, clock: Clock, isFrom: boolean): number {
  const v = value.trim();
  const rel = /^-(\d+)([hdwmqy])(Start)?$/.exec(v);
  if (rel) {
    const n = Number(rel[1]);
    const unit = rel[2];
    if (unit === 'h') return 0;
    const span = unit === 'd' ? n : unit === 'w' ? 7 * n : unit === 'm' ? 30 * n : unit === 'q' ? 90 * n : 365 * n;
    return isFrom ? Math.max(0, span - 1) : span;
  }
  const today = new Date(clock());
  if (v === 'dStart' || v === 'today') return 0;
  if (v === 'mStart') return today.getUTCDate() - 1;
  if (v === 'yStart') return Math.round((dayStart(clock, 0) - Date.UTC(today.getUTCFullYear(), 0, 1)) / DAY_MS);
  if (v === 'all') return HISTORY_DAYS - 1;
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) return daysBetween(clock, v);
  throw new ToolFailure('invalid_input', `Unsupported date "${value}". Use e.g. -7d, -4w, -3m, mStart, all or YYYY-MM-DD.`);
}

export function parseDateRange(dateRange: unknown, clock: Clock): DayRange {
  const range = isRecord(dateRange) ? dateRange : {};
  const fromRaw = typeof range.date_from === 'string' && range.date_from ? range.date_from : '-7d';
  const toRaw = typeof range.date_to === 'string' && range.date_to ? range.date_to : undefined;
  const from = Math.min(relativeDays(fromRaw, clock, true), MAX_RANGE_DAYS);
  const to = toRaw ? Math.max(0, relativeDays(toRaw, clock, false)) : 0;
  if (to > from) throw new ToolFailure('invalid_input', `date_to (${toRaw}) is before date_from (${fromRaw}).`);
  return { from, to };
}

function label(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCDate()}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()}`;
}

function buckets(range: DayRange, interval: string, clock: Clock): Bucket[] {
  const out: Bucket[] = [];
  const keyOf = (ms: number): string => {
    if (interval === 'month') return isoDay(ms).slice(0, 7) + '-01';
    if (interval === 'week') {
      const weekday = (new Date(ms).getUTCDay() + 6) % 7; // Monday = 0
      return isoDay(ms - weekday * DAY_MS);
    }
    return isoDay(ms);
  };
  for (let daysAgo = range.from; daysAgo >= range.to; daysAgo--) {
    const ms = dayStart(clock, daysAgo);
    const key = keyOf(ms);
    const last = out[out.length - 1];
    if (last && last.day === key) last.days.push(daysAgo);
    else out.push({ day: key, label: label(Date.parse(`${key}T00:00:00Z`)), days: [daysAgo] });
  }
  return out;
}

function hashFraction(text: string, min: number, max: number): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return min + (((h >>> 0) % 1000) / 1000) * (max - min);
}

/** A deterministic share for a set of property filters (each filter keeps 15–75%). */
function filterFactor(...filterLists: unknown[]): number {
  let factor = 1;
  for (const list of filterLists) {
    const items = Array.isArray(list) ? list : isRecord(list) && Array.isArray(list.values) ? list.values : [];
    for (const item of items) factor *= hashFraction(JSON.stringify(item), 0.15, 0.75);
  }
  return factor;
}

const BREAKDOWN_VALUES: Record<string, Array<[string, number]>> = {
  $browser: [
    ['Chrome', 0.56],
    ['Safari', 0.24],
    ['Firefox', 0.12],
    ['Edge', 0.08],
  ],
  $os: [
    ['Mac OS X', 0.41],
    ['Windows', 0.33],
    ['iOS', 0.14],
    ['Android', 0.09],
    ['Linux', 0.03],
  ],
  $device_type: [
    ['Desktop', 0.71],
    ['Mobile', 0.25],
    ['Tablet', 0.04],
  ],
  $geoip_country_code: [
    ['US', 0.38],
    ['GB', 0.14],
    ['DE', 0.12],
    ['IN', 0.11],
    ['BR', 0.08],
    ['FR', 0.07],
    ['CA', 0.1],
  ],
  plan: [
    ['free', 0.62],
    ['pro', 0.29],
    ['enterprise', 0.09],
  ],
  signup_source: [
    ['organic', 0.4],
    ['google-ads', 0.25],
    ['referral', 0.17],
    ['newsletter', 0.1],
    ['producthunt', 0.08],
  ],
};

function eventCount(store: PostHogStore, event: string | null, daysAgo: number, unique: boolean): number {
  if (daysAgo < 0 || daysAgo >= HISTORY_DAYS) return 0;
  const names = event === null ? [...store.events.keys()] : [event];
  let sum = 0;
  for (const name of names) {
    const series = store.events.get(name);
    if (!series) continue;
    sum += (unique ? series.unique[daysAgo] : series.total[daysAgo]) ?? 0;
  }
  // Unique persons across several events overlap; approximate.
  return unique && names.length > 1 ? Math.round(sum * 0.45) : sum;
}

function seriesEvent(node: JsonRecord): string | null {
  if (typeof node.event === 'string' && node.event) return node.event;
  if (node.event === null || node.event === undefined) {
    if (node.kind === 'ActionsNode') return '$pageview';
    return null;
  }
  return null;
}

function readSeries(source: JsonRecord): JsonRecord[] {
  const series = source.series;
  if (!Array.isArray(series) || series.length === 0) {
    throw new ToolFailure('invalid_input', 'The query needs a non-empty "series" array, e.g. [{"kind":"EventsNode","event":"$pageview"}].');
  }
  return series.map((s, i) => {
    if (!isRecord(s)) throw new ToolFailure('invalid_input', `series[${i}] must be an object.`);
    return s;
  });
}

function trendsQuery(store: PostHogStore, source: JsonRecord): JsonRecord {
  const clock = store.clock;
  const range = parseDateRange(source.dateRange, clock);
  const interval = typeof source.interval === 'string' ? source.interval : 'day';
  const bks = buckets(range, interval, clock);
  const breakdownFilter = isRecord(source.breakdownFilter) ? source.breakdownFilter : {};
  const breakdown = typeof breakdownFilter.breakdown === 'string' ? breakdownFilter.breakdown : undefined;
  const breakdownValues: Array<[string | undefined, number]> = breakdown ? (BREAKDOWN_VALUES[breakdown] ?? [['(none)', 1]]) : [[undefined, 1]];
  const trendsFilter = isRecord(source.trendsFilter) ? source.trendsFilter : {};
  const display = typeof trendsFilter.display === 'string' ? trendsFilter.display : 'ActionsLineGraph';
  const results: JsonRecord[] = [];
  readSeries(source).forEach((node, order) => {
    // An unknown event yields zeros rather than an error, as in PostHog.
    const event = seriesEvent(node);
    const math = typeof node.math === 'string' ? node.math : 'total';
    const unique = math === 'dau' || math === 'weekly_active' || math === 'monthly_active' || math === 'unique_session';
    const factor = filterFactor(node.properties, source.properties);
    for (const [value, share] of breakdownValues) {
      const data = bks.map((b) => Math.round(b.days.reduce((sum, d) => sum + eventCount(store, event, d, unique), 0) * factor * share));
      const name = event ?? 'All events';
      const customName = typeof node.custom_name === 'string' ? node.custom_name : undefined;
      const item: JsonRecord = {
        action: { id: event, type: 'events', name, custom_name: customName ?? null, math, order },
        label: value === undefined ? (customName ?? name) : `${customName ?? name} - ${value}`,
        count: data.reduce((a, b) => a + b, 0),
        data,
        labels: bks.map((b) => b.label),
        days: bks.map((b) => b.day),
      };
      if (value !== undefined) item.breakdown_value = value;
      if (display === 'BoldNumber' || display === 'ActionsPie' || display === 'ActionsTable') {
        item.aggregated_value = item.count;
      }
      results.push(item);
    }
  });
  return {
    kind: 'TrendsQueryResponse',
    results,
    interval,
    timezone: 'UTC',
    is_cached: false,
    last_refresh: new Date(clock()).toISOString(),
  };
}

function funnelsQuery(store: PostHogStore, source: JsonRecord): JsonRecord {
  const range = parseDateRange(source.dateRange ?? { date_from: '-30d' }, store.clock);
  const steps = readSeries(source);
  let previous = Number.POSITIVE_INFINITY;
  const results = steps.map((node, order) => {
    const event = seriesEvent(node);
    let uniques = 0;
    for (let d = range.from; d >= range.to; d--) uniques += eventCount(store, event, d, true);
    const count = Math.min(previous, Math.round(uniques * filterFactor(node.properties, source.properties)));
    previous = count;
    return {
      action_id: event,
      name: event ?? 'All events',
      custom_name: typeof node.custom_name === 'string' ? node.custom_name : null,
      order,
      type: 'events',
      count,
      average_conversion_time: order === 0 ? null : 3600 * (order + 1) * 1.7,
      median_conversion_time: order === 0 ? null : 3600 * (order + 1),
    };
  });
  return { kind: 'FunnelsQueryResponse', results, is_cached: false, timezone: 'UTC' };
}

function sampleEventRows(store: PostHogStore, event: string | null, limit: number): unknown[][] {
  const rows: unknown[][] = [];
  const names = event ? [event] : [...store.events.keys()];
  for (let i = 0; i < limit; i++) {
    const person = store.persons[(i * 37) % store.persons.length];
    const name = names[i % names.length] ?? '$pageview';
    const ts = new Date(store.clock() - (i * 7 + 3) * 60 * 1000).toISOString();
    rows.push([`0190${String(i).padStart(4, '0')}-0000-7000-8000-${String(i).padStart(12, '0')}`, name, ts, person?.distinct_ids[1] ?? 'anonymous']);
  }
  return rows;
}

function eventsQuery(store: PostHogStore, source: JsonRecord): JsonRecord {
  const limit = Math.min(Math.max(Number(source.limit ?? 20) || 20, 1), 100);
  const event = typeof source.event === 'string' ? source.event : null;
  const rows = sampleEventRows(store, event, limit);
  return { kind: 'EventsQueryResponse', columns: ['uuid', 'event', 'timestamp', 'distinct_id'], results: rows, hasMore: true };
}

/** Pattern-matches a HogQL string well enough for common agent questions. */
export function hogqlQuery(store: PostHogStore, sql: string): JsonRecord {
  const q = sql.replace(/\s+/g, ' ').trim();
  if (!/^\s*(select|with)\b/i.test(q)) {
    throw new ToolFailure('invalid_input', `Syntax error: expected a SELECT statement, got "${q.slice(0, 40)}".`);
  }
  const eventMatch = /event\s*=\s*'([^']+)'/i.exec(q);
  const event = eventMatch?.[1] ?? null;
  const windowMatch = /interval\s+(\d+)\s+(day|week|month)/i.exec(q) ?? /toInterval(Day|Week|Month)\((\d+)\)/i.exec(q);
  let days = HISTORY_DAYS;
  if (windowMatch) {
    const [n, unit] = /^\d+$/.test(windowMatch[1] ?? '') ? [Number(windowMatch[1]), windowMatch[2]] : [Number(windowMatch[2]), windowMatch[1]];
    const u = (unit ?? 'day').toLowerCase();
    days = Math.min(MAX_RANGE_DAYS, n * (u === 'week' ? 7 : u === 'month' ? 30 : 1));
  }
  const limitMatch = /\blimit\s+(\d+)/i.exec(q);
  const limit = Math.min(Number(limitMatch?.[1] ?? 100), 1000);
  const unique = /count\(\s*distinct\s+(person_id|distinct_id)\s*\)|uniq\(/i.test(q);
  const base = { kind: 'HogQLQueryResponse', hogql: q, is_cached: false, timezone: 'UTC' };
  const fromPersons = /\bfrom\s+persons\b/i.test(q);
  if (fromPersons) {
    if (/count\(/i.test(q)) return { ...base, columns: ['count()'], types: [['count()', 'UInt64']], results: [[store.persons.length]] };
    const rows = store.persons.slice(0, Math.min(limit, 100)).map((p) => [p.uuid, p.properties.email, p.properties.name, p.created_at]);
    return {
      ...base,
      columns: ['id', 'email', 'name', 'created_at'],
      types: [
        ['id', 'UUID'],
        ['email', 'String'],
        ['name', 'String'],
        ['created_at', 'DateTime'],
      ],
      results: rows,
    };
  }
  if (/group by/i.test(q) && /(toDate|toStartOfDay|toStartOfInterval|\bday\b)/i.test(q)) {
    const rows: unknown[][] = [];
    for (let d = Math.min(days, MAX_RANGE_DAYS) - 1; d >= 0; d--) rows.push([isoDay(dayStart(store.clock, d)), eventCount(store, event, d, unique)]);
    return {
      ...base,
      columns: ['day', 'count'],
      types: [
        ['day', 'Date'],
        ['count', 'UInt64'],
      ],
      results: rows.slice(0, limit),
    };
  }
  if (/group by\s+event/i.test(q)) {
    const rows = [...store.events.keys()]
      .map((name) => {
        let sum = 0;
        for (let d = 0; d < days; d++) sum += eventCount(store, name, d, unique);
        return [name, sum];
      })
      .sort((a, b) => Number(b[1]) - Number(a[1]));
    return {
      ...base,
      columns: ['event', 'count'],
      types: [
        ['event', 'String'],
        ['count', 'UInt64'],
      ],
      results: rows.slice(0, limit),
    };
  }
  if (/count\(|uniq\(/i.test(q)) {
    let sum = 0;
    for (let d = 0; d < days; d++) sum += eventCount(store, event, d, unique);
    return { ...base, columns: ['count()'], types: [['count()', 'UInt64']], results: [[sum]] };
  }
  const rows = sampleEventRows(store, event, Math.min(limit, 100));
  return {
    ...base,
    columns: ['uuid', 'event', 'timestamp', 'distinct_id'],
    types: [
      ['uuid', 'UUID'],
      ['event', 'String'],
      ['timestamp', 'DateTime'],
      ['distinct_id', 'String'],
    ],
    results: rows,
  };
}

/** Runs any supported query node (object or JSON string; a non-JSON string is HogQL). */
export function runQuery(store: PostHogStore, query: unknown): JsonRecord {
  let node: unknown = query;
  if (typeof query === 'string') {
    const text = query.trim();
    if (text.startsWith('{')) {
      try {
        node = JSON.parse(text);
      } catch {
        throw new ToolFailure('invalid_input', 'query is not valid JSON.');
      }
    } else {
      return hogqlQuery(store, text);
    }
  }
  if (!isRecord(node)) throw new ToolFailure('invalid_input', 'query must be a query object or a JSON string.');
  switch (node.kind) {
    case 'InsightVizNode':
    case 'DataVisualizationNode':
    case 'DataTableNode':
      return runQuery(store, node.source);
    case 'TrendsQuery':
      return trendsQuery(store, node);
    case 'FunnelsQuery':
      return funnelsQuery(store, node);
    case 'EventsQuery':
      return eventsQuery(store, node);
    case 'HogQLQuery':
      if (typeof node.query !== 'string') throw new ToolFailure('invalid_input', 'HogQLQuery needs a "query" string.');
      return hogqlQuery(store, node.query);
    default:
      throw new ToolFailure(
        'invalid_input',
        `Unsupported query kind ${JSON.stringify(node.kind)}. Supported: TrendsQuery, FunnelsQuery, EventsQuery, HogQLQuery (optionally wrapped in InsightVizNode or DataVisualizationNode).`,
      );
  }
}

/** A short human-readable summary, like PostHog's "optimized" output format. */
export function summarizeQueryResult(name: string, result: JsonRecord): string {
  const results = Array.isArray(result.results) ? result.results : [];
  const lines = [`${name}`];
  for (const r of results) {
    if (isRecord(r) && Array.isArray(r.data) && Array.isArray(r.days)) {
      const points = r.days.map((d, i) => `${String(d)}: ${String(r.data instanceof Array ? r.data[i] : '')}`).join(', ');
      lines.push(`${String(r.label)} (total ${String(r.count)}): ${points}`);
    } else if (isRecord(r) && 'count' in r) {
      lines.push(`Step ${Number(r.order) + 1} ${String(r.name)}: ${String(r.count)}`);
    } else if (Array.isArray(r)) {
      lines.push(r.map(String).join(' | '));
    }
  }
  return lines.join('\n');
}
