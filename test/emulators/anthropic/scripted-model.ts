// The "sandbox model": a tiny deterministic stand-in for Claude. It reads the
// conversation in a request and picks the next turn with keyword rules, so the
// emulator can run the extension's agent loop end to end without a queue.
import { blocksOf, lastUserText, messagesOf, toolResultText, toolsOf, type LooseBlock } from './conversation';
import { deferredTools, searchTools, toolSearchVariantOf, type RequestTool, type ToolSearchVariant } from './tool-search';
import type { RecordedRequest, ReplyTurn, TurnSource } from './types';

export const SIGNUPS_TOOL = 'posthogmcp_query_run';
export const ASANA_CREATE_TOOL = 'asana_task_create';
export const ASANA_LIST_TOOL = 'asana_tasks_list';
export const ASANA_WORKSPACES_TOOL = 'asana_workspaces_list';
export const INSIGHTS_LIST_TOOL = 'posthogmcp_insights_list';
/** What "list my tasks" asks Asana for: open tasks, with their due dates. */
export const ASANA_LIST_FIELDS = { completed_since: 'now', opt_fields: 'name,due_on,completed' } as const;

export const SIGNUPS_TRENDS_QUERY = JSON.stringify({
  kind: 'TrendsQuery',
  series: [{ event: 'signed_up' }],
  interval: 'day',
  dateRange: { date_from: '-7d' },
});

export type Intent =
  { kind: 'signups' } | { kind: 'create-task'; name: string } | { kind: 'list-tasks'; dueThisWeek?: true } | { kind: 'insights-edited' } | { kind: 'help' };

interface IntentPlan {
  tool: string;
  input: Record<string, unknown>;
  /** Query for a client-side discovery tool and the bm25 tool search. */
  keywords: string;
  /** Pattern for the regex tool search. */
  pattern: string;
}

export const HELP_TEXT =
  "I'm the OnBehalf sandbox model. I can:\n\n" +
  '- look at your PostHog analytics, e.g. *"How many signups per day last week?"*\n' +
  '- create Asana tasks, e.g. *"Create an Asana task called Write launch notes"*\n' +
  '- list your Asana tasks, e.g. *"List my open Asana tasks due this week"*\n' +
  '- find recently edited PostHog insights, e.g. *"Which PostHog insights were edited since Monday?"*';

/** Reads the task name out of "create an Asana task …". */
export function parseTaskName(text: string): string {
  const quoted = /["“'‘]([^"”'’]+)["”'’]/.exec(text);
  if (quoted?.[1]?.trim()) return quoted[1].trim();
  const after = /\btask\b\s*(?::|-|called|named|titled|to|for|that says)?\s*(.+)$/is.exec(text);
  let name = (after?.[1] ?? '').trim();
  name = name
    .replace(/^(called|named|titled)\s+/i, '')
    .replace(/[.!?\s]+$/, '')
    .trim();
  if (!name) return 'New task';
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export function classify(text: string | undefined): Intent {
  const t = (text ?? '').toLowerCase();
  if (/\bsign(?:ed)?[\s-]?ups?\b/.test(t)) return { kind: 'signups' };
  if (/\b(create|add|make|new)\b.*\btask\b/.test(t)) {
    return { kind: 'create-task', name: parseTaskName(text ?? '') };
  }
  if (/\binsights?\b/.test(t) && /\b(edit|chang|modif|updat)/.test(t)) return { kind: 'insights-edited' };
  if (/\b(list|show)\b.*\btasks?\b/.test(t) || /\bmy (open )?tasks\b/.test(t)) {
    return /\bdue this week\b/.test(t) ? { kind: 'list-tasks', dueThisWeek: true } : { kind: 'list-tasks' };
  }
  return { kind: 'help' };
}

function planFor(intent: Intent): IntentPlan | undefined {
  switch (intent.kind) {
    case 'signups':
      return { tool: SIGNUPS_TOOL, input: { query: SIGNUPS_TRENDS_QUERY }, keywords: 'run trends query', pattern: '(?i)query_run' };
    case 'create-task':
      return { tool: ASANA_CREATE_TOOL, input: { name: intent.name }, keywords: 'create task', pattern: '(?i)asana_task_create' };
    case 'list-tasks':
      return { tool: ASANA_LIST_TOOL, input: { assignee: 'me', ...ASANA_LIST_FIELDS }, keywords: 'list tasks', pattern: '(?i)asana_tasks_list' };
    case 'insights-edited':
      return { tool: INSIGHTS_LIST_TOOL, input: { limit: 100 }, keywords: 'list insights', pattern: '(?i)posthogmcp_insights_list' };
    case 'help':
      return undefined;
  }
}

const DISCOVERY_NAME = /(discover|search|find|lookup|load)_?tools?\b|tools?_(search|discover)/i;

/** A client tool the extension may offer for its own tool discovery. */
export function findDiscoveryTool(tools: readonly RequestTool[]): RequestTool | undefined {
  return tools.find(
    (t) =>
      typeof t.name === 'string' &&
      t.defer_loading !== true &&
      !(typeof t.type === 'string' && t.type.startsWith('tool_search_tool_')) &&
      DISCOVERY_NAME.test(t.name),
  );
}

/** Input for the discovery tool: the query goes into `query`, else the first string property. */
function discoveryInput(tool: RequestTool, keywords: string): Record<string, unknown> {
  const schema = (tool.input_schema ?? {}) as { properties?: Record<string, { type?: unknown }>; required?: unknown };
  const props = schema.properties ?? {};
  const key = ['query', 'q', 'search', 'keywords', 'text'].find((k) => k in props) ?? Object.keys(props).find((k) => props[k]?.type === 'string') ?? 'query';
  return { [key]: keywords };
}

interface ToolExchange {
  use: LooseBlock;
  result: LooseBlock | undefined;
}

/** tool_use / tool_result pairs since the last typed user question, oldest first. */
function exchangesSinceQuestion(request: RecordedRequest | { messages?: unknown }): ToolExchange[] {
  const msgs = messagesOf(request);
  let start = 0;
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i];
    if (m?.role === 'user' && !blocksOf(m).some((b) => b.type === 'tool_result') && blocksOf(m).some((b) => b.type === 'text')) {
      start = i + 1;
      break;
    }
  }
  const out: ToolExchange[] = [];
  for (let i = start; i < msgs.length; i++) {
    const m = msgs[i];
    if (m?.role !== 'assistant') continue;
    const results = blocksOf(msgs[i + 1]).filter((b) => b.type === 'tool_result');
    for (const use of blocksOf(m).filter((b) => b.type === 'tool_use')) {
      out.push({ use, result: results.find((r) => r.tool_use_id === use.id) });
    }
  }
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function cell(v: unknown): string {
  const s = typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 80);
}

interface Series {
  label: string;
  days: string[];
  data: number[];
}

/** Finds a PostHog-trends-like series ({days|labels, data}) anywhere in a result. */
export function findTrendSeries(value: unknown, depth = 0): Series | undefined {
  if (depth > 6 || !value || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const s = findTrendSeries(v, depth + 1);
      if (s) return s;
    }
    return undefined;
  }
  const o = value as Record<string, unknown>;
  const days = Array.isArray(o.days) ? o.days : Array.isArray(o.labels) ? o.labels : undefined;
  if (days && Array.isArray(o.data) && o.data.every((n) => typeof n === 'number')) {
    return {
      label: typeof o.label === 'string' ? o.label : 'count',
      days: days.map((d) => String(d)),
      data: o.data,
    };
  }
  for (const v of Object.values(o)) {
    const s = findTrendSeries(v, depth + 1);
    if (s) return s;
  }
  return undefined;
}

function listOfObjects(value: unknown, depth = 0): Array<Record<string, unknown>> | undefined {
  if (depth > 4 || !value || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    return value.every((v) => v && typeof v === 'object' && !Array.isArray(v)) ? (value as Array<Record<string, unknown>>) : undefined;
  }
  for (const key of ['data', 'results', 'tasks', 'items']) {
    const l = listOfObjects((value as Record<string, unknown>)[key], depth + 1);
    if (l) return l;
  }
  return undefined;
}

function genericTable(value: unknown): string {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const rows = Object.entries(value as Record<string, unknown>).slice(0, 10);
    return ['| Field | Value |', '|---|---|', ...rows.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`)].join('\n');
  }
  return '```\n' + String(JSON.stringify(value) ?? '').slice(0, 500) + '\n```';
}

/** Markdown summary of a tool result for the question that triggered it. */
export function summarise(intent: Intent, toolName: string, resultText: string, isError: boolean): string {
  if (isError) return `The \`${toolName}\` call failed: ${resultText.slice(0, 300) || 'no details'}`;
  const value = parseJson(resultText);
  if (intent.kind === 'signups') {
    const series = findTrendSeries(value);
    if (series) {
      const rows = series.days.map((d, i) => `| ${cell(d)} | ${series.data[i] ?? 0} |`);
      const total = series.data.reduce((a, b) => a + b, 0);
      return [`Signups per day over the last 7 days${dayRange(series.days)} (${total} in total):`, '', '| Day | Signups |', '|---|---|', ...rows].join('\n');
    }
    const pairs = [...resultText.matchAll(/(\d{4}-\d{2}-\d{2})\s*:\s*(\d+)/g)];
    if (pairs.length > 0) {
      const rows = pairs.map((m) => `| ${m[1] ?? ''} | ${m[2] ?? ''} |`);
      const total = pairs.reduce((a, m) => a + Number(m[2] ?? 0), 0);
      return [`Signups per day over the last 7 days (${total} in total):`, '', '| Day | Signups |', '|---|---|', ...rows].join('\n');
    }
    return `Here is what PostHog returned for signups per day last week:\n\n${genericTable(value ?? resultText)}`;
  }
  if (intent.kind === 'create-task') {
    const task = (value && typeof value === 'object' ? ((value as { data?: unknown }).data ?? value) : {}) as Record<string, unknown>;
    const gid = typeof task.gid === 'string' ? ` (gid ${task.gid})` : '';
    const name = typeof task.name === 'string' ? task.name : intent.name;
    return `Created the Asana task **${name}**${gid}.`;
  }
  if (intent.kind === 'list-tasks') {
    const tasks = listOfObjects(value);
    if (tasks) {
      if (intent.dueThisWeek) {
        const { monday, sunday } = thisWeek();
        const due = tasks
          .filter((t) => typeof t.due_on === 'string' && t.due_on >= isoDate(monday) && t.due_on <= isoDate(sunday))
          .sort((a, b) => String(a.due_on).localeCompare(String(b.due_on)));
        const week = `this week (${dayLabel(monday)} to ${dayLabel(sunday)})`;
        if (due.length === 0) return `None of your ${tasks.length} open tasks is due ${week}.`;
        const rows = due.map((t) => `| ${cell(t.name ?? t.gid)} | ${dayLabel(Date.parse(`${String(t.due_on)}T00:00:00Z`))} |`);
        return [
          `${due.length} of your ${tasks.length} open tasks ${due.length === 1 ? 'is' : 'are'} due ${week}:`,
          '',
          '| Task | Due |',
          '|---|---|',
          ...rows,
        ].join('\n');
      }
      if (tasks.length === 0) return 'You have no open tasks.';
      const rows = tasks.slice(0, 20).map((t) => `| ${cell(t.name ?? t.gid)} | ${cell(t.due_on ?? '')} |`);
      return [`You have ${tasks.length} open task${tasks.length === 1 ? '' : 's'}:`, '', '| Task | Due |', '|---|---|', ...rows].join('\n');
    }
    return `Your tasks:\n\n${genericTable(value ?? resultText)}`;
  }
  if (intent.kind === 'insights-edited') {
    const insights = listOfObjects(value);
    if (insights) {
      const { monday } = thisWeek();
      const edited = insights
        .filter((i) => typeof i.last_modified_at === 'string' && Date.parse(i.last_modified_at) >= monday)
        .sort((a, b) => String(b.last_modified_at).localeCompare(String(a.last_modified_at)));
      const since = `since Monday (${dayLabel(monday)})`;
      if (edited.length === 0) return `None of your ${insights.length} insights was edited ${since}.`;
      const rows = edited.map((i) => `| ${cell(i.name ?? i.short_id)} | ${dayLabel(Date.parse(String(i.last_modified_at)))} | ${cell(i.short_id ?? i.id)} |`);
      return [
        `${edited.length} of your ${insights.length} insights ${edited.length === 1 ? 'was' : 'were'} edited ${since}:`,
        '',
        '| Insight | Last edited | Short id |',
        '|---|---|---|',
        ...rows,
      ].join('\n');
    }
  }
  return `Result of \`${toolName}\`:\n\n${genericTable(value ?? resultText)}`;
}

const DAY = 24 * 60 * 60 * 1000;

/** Midnight UTC of this week's Monday and Sunday. */
export function thisWeek(now = Date.now()): { monday: number; sunday: number } {
  const today = Math.floor(now / DAY) * DAY;
  const monday = today - ((new Date(today).getUTCDay() + 6) % 7) * DAY;
  return { monday, sunday: monday + 6 * DAY };
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** "Mon 30 Nov". */
function dayLabel(ms: number): string {
  const d = new Date(ms);
  return `${d.toLocaleDateString('en-GB', { weekday: 'short', timeZone: 'UTC' })} ${d.getUTCDate()} ${d.toLocaleDateString('en-GB', { month: 'short', timeZone: 'UTC' })}`;
}

/** ", Mon 23 Nov to Sun 29 Nov" for ISO days, so the reply says which days it used; else empty. */
function dayRange(days: readonly string[]): string {
  const first = Date.parse(`${days[0] ?? ''}T00:00:00Z`);
  const last = Date.parse(`${days.at(-1) ?? ''}T00:00:00Z`);
  return Number.isNaN(first) || Number.isNaN(last) ? '' : `, ${dayLabel(first)} to ${dayLabel(last)}`;
}

export interface ScriptedModelOptions {
  /** Characters per streamed delta for its replies. */
  chunkSize?: number;
  delayMsPerChunk?: number;
}

export class ScriptedModel implements TurnSource {
  constructor(private readonly options: ScriptedModelOptions = {}) {}

  nextTurn(request: RecordedRequest): ReplyTurn {
    return { ...this.decide(request), ...this.streamOptions() };
  }

  /** The decision alone, for unit tests (no streaming options). */
  decide(request: RecordedRequest | { messages?: unknown; tools?: unknown }): ReplyTurn {
    const tools = toolsOf(request);
    const intent = classify(lastUserText(request));
    const plan = planFor(intent);
    if (!plan) return { text: HELP_TEXT };

    const exchanges = exchangesSinceQuestion(request);
    const last = exchanges.at(-1);
    const recovered = workspaceRecovery(intent, exchanges, tools, request);
    if (recovered) return recovered;
    if (last?.result) {
      const usedName = String(last.use.name ?? '');
      const text = toolResultText(last.result);
      if (usedName === plan.tool) {
        return { text: summarise(intent, usedName, text, last.result.is_error === true) };
      }
      // The last result came from a discovery tool: call the target if it is now callable.
      if (callable(tools, plan.tool, request)) return { toolUse: { name: plan.tool, input: plan.input } };
      if (last.result.is_error === true) return { text: `I couldn't look up the tools I need: ${text.slice(0, 300)}` };
      return { text: `I searched for a tool to do that but could not find \`${plan.tool}\` among your tools.` };
    }
    if (exchanges.some((e) => String(e.use.name ?? '') === plan.tool)) {
      return { text: 'Done.' };
    }

    if (callable(tools, plan.tool, request)) return { toolUse: { name: plan.tool, input: plan.input } };

    const variant = toolSearchVariantOf(tools);
    if (variant && deferredTools(tools).some((t) => t.name === plan.tool)) {
      const query = searchQuery(variant, plan);
      const found = searchTools(tools, variant, query, 5);
      const hit = found.ok && found.hits.some((h) => h.name === plan.tool);
      return hit
        ? { content: [{ toolSearch: { query } }, { toolUse: { name: plan.tool, input: plan.input } }] }
        : { content: [{ toolSearch: { query } }, { text: `I searched your tools but found nothing to call for that.` }] };
    }

    const discovery = findDiscoveryTool(tools);
    if (discovery && !exchanges.some((e) => e.use.name === discovery.name)) {
      return { toolUse: { name: discovery.name as string, input: discoveryInput(discovery, plan.keywords) } };
    }

    const service = plan.tool.startsWith('posthog') ? 'PostHog' : 'Asana';
    return { text: `I can't reach ${service} right now: the \`${plan.tool}\` tool is not available. Connect ${service} and ask again.` };
  }

  private streamOptions(): Partial<ReplyTurn> {
    const o: Partial<ReplyTurn> = {};
    if (this.options.chunkSize !== undefined) o.chunkSize = this.options.chunkSize;
    if (this.options.delayMsPerChunk !== undefined) o.delayMsPerChunk = this.options.delayMsPerChunk;
    return o;
  }
}

/**
 * Asana lists tasks by assignee only within a workspace, so "list my tasks" first asks
 * without one, as a model might, reads the error, looks the workspace up with
 * asana_workspaces_list (searching for it first when it is not loaded) and asks again.
 */
function workspaceRecovery(
  intent: Intent,
  exchanges: readonly ToolExchange[],
  tools: readonly RequestTool[],
  request: RecordedRequest | { messages?: unknown },
): ReplyTurn | undefined {
  if (intent.kind !== 'list-tasks') return undefined;
  const failed = exchanges.findIndex((e) => e.use.name === ASANA_LIST_TOOL && e.result?.is_error === true && /workspace/i.test(toolResultText(e.result)));
  if (failed < 0) return undefined;
  const last = exchanges.at(-1);
  // The retry ran (or is running): the usual summary takes over.
  if (!last?.result || (last.use.name === ASANA_LIST_TOOL && exchanges.indexOf(last) !== failed)) return undefined;
  const listed = exchanges.find((e) => e.use.name === ASANA_WORKSPACES_TOOL && e.result && e.result.is_error !== true);
  if (listed?.result) {
    const workspace = listOfObjects(parseJson(toolResultText(listed.result)))?.find((w) => typeof w.gid === 'string');
    if (!workspace) return { text: 'I could not find your Asana workspace, so I cannot list your tasks.' };
    return { toolUse: { name: ASANA_LIST_TOOL, input: { assignee: 'me', workspace_gid: workspace.gid as string, ...ASANA_LIST_FIELDS } } };
  }
  if (exchanges.some((e) => e.use.name === ASANA_WORKSPACES_TOOL)) return { text: 'I could not look up your Asana workspace.' };
  const input = {};
  if (callable(tools, ASANA_WORKSPACES_TOOL, request)) return { toolUse: { name: ASANA_WORKSPACES_TOOL, input } };
  const variant = toolSearchVariantOf(tools);
  if (variant && deferredTools(tools).some((t) => t.name === ASANA_WORKSPACES_TOOL)) {
    return {
      content: [
        { toolSearch: { query: variant === 'regex' ? '(?i)asana_workspaces_list' : 'list workspaces' } },
        { toolUse: { name: ASANA_WORKSPACES_TOOL, input } },
      ],
    };
  }
  const discovery = findDiscoveryTool(tools);
  const searched = exchanges.slice(failed).some((e) => e.use.name === discovery?.name);
  if (discovery && !searched) return { toolUse: { name: discovery.name as string, input: discoveryInput(discovery, 'list workspaces') } };
  return undefined;
}

function searchQuery(variant: ToolSearchVariant, plan: IntentPlan): string {
  return variant === 'regex' ? plan.pattern : plan.keywords;
}

/** A tool is callable when sent and either not deferred or already loaded by a tool_reference. */
function callable(tools: readonly RequestTool[], name: string, request: RecordedRequest | { messages?: unknown }): boolean {
  const tool = tools.find((t) => t.name === name);
  if (!tool) return false;
  if (tool.defer_loading !== true) return true;
  for (const m of messagesOf(request)) {
    for (const b of blocksOf(m)) {
      const refs =
        b.type === 'tool_search_tool_result' && b.content && typeof b.content === 'object'
          ? (b.content as { tool_references?: unknown }).tool_references
          : b.type === 'tool_result'
            ? b.content
            : undefined;
      if (Array.isArray(refs) && (refs as LooseBlock[]).some((r) => r?.type === 'tool_reference' && r.tool_name === name)) return true;
    }
  }
  return false;
}
