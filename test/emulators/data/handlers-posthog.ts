// Realistic handlers for the PostHog tools agents use most. Everything else in
// the posthogmcp catalog falls through to handlers-generic.ts.
import { type FeatureFlag, type Insight, isRecord } from './posthog';
import { runQuery, summarizeQueryResult } from './posthog-query';
import { ToolFailure } from './tool-failure';
import { type JsonRecord, type ToolHandler, bool, list, num, page, str } from './tool-context';

function insightSummary(i: Insight): JsonRecord {
  return {
    id: i.id,
    short_id: i.short_id,
    name: i.name,
    description: i.description,
    favorited: i.favorited,
    saved: i.saved,
    dashboards: i.dashboards,
    tags: i.tags,
    created_at: i.created_at,
    last_modified_at: i.last_modified_at,
    created_by: i.created_by,
    query: i.query,
  };
}

function flagRecord(f: FeatureFlag): JsonRecord {
  const group = Array.isArray(f.filters.groups) ? f.filters.groups[0] : undefined;
  return {
    id: f.id,
    key: f.key,
    name: f.name,
    active: f.active,
    filters: f.filters,
    tags: f.tags,
    rollout_percentage: isRecord(group) ? (group.rollout_percentage ?? null) : null,
    created_at: f.created_at,
    updated_at: f.updated_at,
    created_by: f.created_by,
    version: f.version,
    deleted: f.deleted,
    ensure_experience_continuity: false,
    evaluation_runtime: 'all',
  };
}

function parseMaybeJson(value: unknown, field: string): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) return value;
  try {
    return JSON.parse(text);
  } catch {
    throw new ToolFailure('invalid_input', `${field} is not valid JSON.`);
  }
}

export const posthogHandlers: Record<string, ToolHandler> = {
  posthogmcp_query_run: (input, { data }) => runQuery(data.posthog, input.query),

  posthogmcp_insights_list: (input, { data }) => {
    const shortId = str(input.short_id);
    const all = data.posthog.insights.filter((i) => !i.deleted && (!shortId || i.short_id === shortId));
    const { slice, next } = page(all, input.limit, input.offset, 100);
    return { count: all.length, next, previous: null, results: slice.map(insightSummary) };
  },

  posthogmcp_insight_get: (input, { data }) => insightSummary(data.posthog.requireInsight(str(input.id) ?? '')),

  posthogmcp_insight_query: (input, { data }) => {
    const insight = data.posthog.requireInsight(str(input.insightId) ?? '');
    const result = runQuery(data.posthog, insight.query);
    const ref = { id: insight.id, short_id: insight.short_id, name: insight.name };
    if (str(input.output_format) === 'json') return { insight: ref, ...result };
    return { insight: ref, output_format: 'optimized', summary: summarizeQueryResult(insight.name, result) };
  },

  posthogmcp_insight_create: (input, { data }) => {
    const query = parseMaybeJson(input.query, 'query');
    runQuery(data.posthog, query); // validates the query like PostHog does
    const store = data.posthog;
    const now = new Date(store.clock()).toISOString();
    const insight: Insight = {
      id: store.newId(),
      short_id: `em${String(store.insights.length + 1).padStart(6, '0')}`,
      name: str(input.name) ?? 'Untitled insight',
      description: str(input.description) ?? '',
      query: isRecord(query) ? query : { kind: 'HogQLQuery', query: String(query) },
      favorited: bool(input.favorited) ?? false,
      saved: true,
      deleted: false,
      dashboards: list(input.dashboards).map(Number),
      tags: list(input.tags),
      created_at: now,
      last_modified_at: now,
      created_by: store.me,
    };
    store.insights.push(insight);
    return insightSummary(insight);
  },

  posthogmcp_insight_update: (input, { data }) => {
    const insight = data.posthog.requireInsight(str(input.id) ?? '');
    if (input.name !== undefined) insight.name = String(input.name);
    if (input.description !== undefined) insight.description = String(input.description);
    if (input.favorited !== undefined) insight.favorited = bool(input.favorited) ?? insight.favorited;
    if (input.tags !== undefined) insight.tags = list(input.tags);
    if (input.dashboards !== undefined) insight.dashboards = list(input.dashboards).map(Number);
    if (input.query !== undefined) {
      const query = parseMaybeJson(input.query, 'query');
      runQuery(data.posthog, query);
      if (isRecord(query)) insight.query = query;
    }
    insight.last_modified_at = new Date(data.clock()).toISOString();
    return insightSummary(insight);
  },

  posthogmcp_insight_delete: (input, { data }) => {
    const insight = data.posthog.requireInsight(str(input.id) ?? '');
    insight.deleted = true;
    return { success: true, message: `Insight ${insight.id} deleted.`, id: insight.id };
  },

  posthogmcp_dashboards_get_all: (input, { data }) => {
    const all = data.posthog.dashboards.filter((d) => !d.deleted);
    const { slice, next } = page(all, input.limit, input.offset, 100);
    return {
      count: all.length,
      next,
      previous: null,
      results: slice.map((d) => ({
        id: d.id,
        name: d.name,
        description: d.description,
        pinned: d.pinned,
        tags: d.tags,
        created_at: d.created_at,
        created_by: d.created_by,
        tile_count: d.tiles.length,
      })),
    };
  },

  posthogmcp_dashboard_get: (input, { data }) => {
    const d = data.posthog.dashboards.find((x) => !x.deleted && String(x.id) === String(input.id));
    if (!d) throw new ToolFailure('not_found', `Dashboard ${String(input.id)} not found.`);
    return {
      id: d.id,
      name: d.name,
      description: d.description,
      pinned: d.pinned,
      tags: d.tags,
      created_at: d.created_at,
      created_by: d.created_by,
      tiles: d.tiles.map((insightId, i) => {
        const insight = data.posthog.findInsight(insightId);
        return { id: d.id * 100 + i, insight: insight ? { id: insight.id, short_id: insight.short_id, name: insight.name } : null };
      }),
    };
  },

  posthogmcp_feature_flag_get_all: (input, { data }) => {
    const search = str(input.search)?.toLowerCase();
    const active = str(input.active);
    const all = data.posthog.liveFlags().filter((f) => {
      if (search && !f.key.toLowerCase().includes(search) && !f.name.toLowerCase().includes(search)) return false;
      if (active === 'true' && !f.active) return false;
      if (active === 'false' && f.active) return false;
      return true;
    });
    const { slice, next } = page(all, input.limit, input.offset, 100);
    return { count: all.length, next, previous: null, results: slice.map(flagRecord) };
  },

  posthogmcp_feature_flag_get_definition: (input, { data }) => flagRecord(data.posthog.requireFlag(input.id)),

  posthogmcp_create_feature_flag: (input, { data }) => flagRecord(data.posthog.createFlag(input)),

  posthogmcp_update_feature_flag: (input, { data }) => {
    const flag = data.posthog.requireFlag(input.id);
    if (input.key !== undefined) {
      const key = String(input.key);
      if (data.posthog.liveFlags().some((f) => f.key === key && f.id !== flag.id)) {
        throw new ToolFailure('conflict', `key: There is already a feature flag with the key "${key}".`);
      }
      flag.key = key;
    }
    if (input.name !== undefined) flag.name = String(input.name);
    if (input.active !== undefined) flag.active = bool(input.active) ?? flag.active;
    if (input.filters !== undefined) {
      const filters = parseMaybeJson(input.filters, 'filters');
      if (!isRecord(filters)) throw new ToolFailure('invalid_input', 'filters must be an object.');
      flag.filters = filters;
    }
    if (input.tags !== undefined) flag.tags = list(input.tags);
    flag.version += 1;
    flag.updated_at = new Date(data.clock()).toISOString();
    return flagRecord(flag);
  },

  posthogmcp_delete_feature_flag: (input, { data }) => {
    const flag = data.posthog.requireFlag(input.id);
    flag.deleted = true;
    flag.active = false;
    return { success: true, message: `Feature flag ${flag.key} (${flag.id}) deleted.`, id: flag.id };
  },

  posthogmcp_persons_list: (input, { data }) => {
    const all = data.posthog.searchPersons({ search: str(input.search), email: str(input.email), distinctId: str(input.distinct_id) });
    const { slice, next } = page(all, input.limit, input.offset, 100);
    return { count: all.length, next, previous: null, results: slice };
  },

  posthogmcp_persons_retrieve: (input, { data }) => {
    const id = str(input.id) ?? '';
    const person = data.posthog.persons.find((p) => String(p.id) === id || p.uuid === id);
    if (!person) throw new ToolFailure('not_found', `Person ${id} not found.`);
    return { ...person };
  },

  posthogmcp_event_definitions_list: (input, { data }) => {
    const q = str(input.q)?.toLowerCase();
    const all = [...data.posthog.events.values()].filter((e) => !q || e.name.toLowerCase().includes(q));
    const { slice, next } = page(all, input.limit, input.offset, 100);
    return {
      count: all.length,
      next,
      previous: null,
      results: slice.map((e, i) => ({
        id: `evt-${i + 1}`,
        name: e.name,
        description: e.description,
        volume_30_day: e.total.slice(0, 30).reduce((a, b) => a + b, 0),
        query_usage_30_day: 10 + i * 3,
        last_seen_at: new Date(data.clock()).toISOString(),
        tags: [],
      })),
    };
  },

  posthogmcp_projects_get: (_input, { data }) => ({
    results: [
      {
        id: data.posthog.project.id,
        uuid: data.posthog.project.uuid,
        name: data.posthog.project.name,
        organization: data.posthog.project.organization,
        timezone: data.posthog.project.timezone,
      },
    ],
  }),

  posthogmcp_organization_get: (_input, { data }) => ({
    id: data.posthog.project.uuid,
    name: data.posthog.project.organization,
    membership_level: 8,
    teams: [{ id: data.posthog.project.id, name: data.posthog.project.name }],
  }),

  posthogmcp_org_members_list: (_input, { data }) => ({
    count: data.posthog.members.length,
    next: null,
    previous: null,
    results: data.posthog.members.map((u) => ({ id: u.uuid, user: u, level: 8, joined_at: '2024-01-15T09:00:00Z' })),
  }),

  posthogmcp_entity_search: (input, { data }) => {
    const q = (str(input.query) ?? '').toLowerCase();
    const hits: JsonRecord[] = [];
    for (const i of data.posthog.insights)
      if (!i.deleted && i.name.toLowerCase().includes(q)) hits.push({ type: 'insight', id: i.id, short_id: i.short_id, name: i.name });
    for (const d of data.posthog.dashboards) if (!d.deleted && d.name.toLowerCase().includes(q)) hits.push({ type: 'dashboard', id: d.id, name: d.name });
    for (const f of data.posthog.liveFlags())
      if (f.key.includes(q) || f.name.toLowerCase().includes(q)) hits.push({ type: 'feature_flag', id: f.id, name: f.key });
    return { count: hits.length, results: hits };
  },

  posthogmcp_properties_list: (input, { data }) => {
    const type = str(input.type) ?? 'event';
    const names =
      type === 'person'
        ? ['email', 'name', 'plan', '$geoip_country_code', '$browser', 'signup_source']
        : ['$current_url', '$browser', '$os', '$device_type', '$geoip_country_code', '$referrer', '$pathname'];
    const { slice, next } = page(names, input.limit, input.offset, 100);
    void data;
    return { count: names.length, next, previous: null, results: slice.map((name) => ({ name, property_type: 'String', is_numerical: false })) };
  },

  posthogmcp_query_generate_hogql_from_question: (input) => {
    const question = (str(input.question) ?? str(input.query) ?? '').toLowerCase();
    const event = question.includes('sign') ? 'signed_up' : '$pageview';
    return {
      query: `SELECT toDate(timestamp) AS day, count() FROM events WHERE event = '${event}' AND timestamp > now() - INTERVAL 7 DAY GROUP BY day ORDER BY day`,
    };
  },

  posthogmcp_switch_project: (input, { data }) => {
    const id = num(input.projectId, NaN);
    if (id !== data.posthog.project.id) throw new ToolFailure('not_found', `Project ${String(input.projectId)} not found or not accessible.`);
    return { success: true, project: { id: data.posthog.project.id, name: data.posthog.project.name } };
  },
};
