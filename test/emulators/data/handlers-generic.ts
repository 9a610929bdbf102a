// A plausible answer for every catalog tool without a hand-written handler,
// so no tool the emulator lists is unanswerable. The shape follows the tool's
// name: *_list / *_get_all / *_search → a short list, *_get / *_retrieve → one
// record carrying the requested id, *_create → the input echoed with a new id,
// *_update → the input echoed, *_delete → a confirmation, anything else → a
// success envelope echoing the input.
import type { JsonRecord, ToolContext } from './tool-context';

type Verb = 'list' | 'get' | 'create' | 'update' | 'delete' | 'action';

const TAIL_VERBS: Array<[string[], Verb]> = [
  [['get', 'all'], 'list'],
  [['partial', 'update'], 'update'],
  [['list'], 'list'],
  [['search'], 'list'],
  [['get'], 'get'],
  [['retrieve'], 'get'],
  [['create'], 'create'],
  [['update'], 'update'],
  [['delete'], 'delete'],
  [['destroy'], 'delete'],
];
const HEAD_VERBS: Record<string, Verb> = { create: 'create', update: 'update', delete: 'delete', get: 'get', list: 'list', search: 'list' };

function classify(tokens: string[]): { verb: Verb; noun: string[] } {
  for (const [tail, verb] of TAIL_VERBS) {
    if (tokens.length > tail.length && tail.every((t, i) => tokens[tokens.length - tail.length + i] === t)) {
      return { verb, noun: tokens.slice(0, tokens.length - tail.length) };
    }
  }
  const head = tokens[0] ? HEAD_VERBS[tokens[0]] : undefined;
  if (head) {
    const noun = tokens.slice(1);
    // MCP-style get_portfolios is a list; get_portfolio a single record.
    const verb = head === 'get' && (noun[noun.length - 1] ?? '').endsWith('s') ? 'list' : head;
    return { verb, noun };
  }
  return { verb: 'action', noun: tokens };
}

function singular(word: string): string {
  if (word.endsWith('ies')) return word.slice(0, -3) + 'y';
  if (word.endsWith('ses')) return word.slice(0, -2);
  if (/(ss|us|is|ics)$/.test(word)) return word;
  if (word.endsWith('s')) return word.slice(0, -1);
  return word;
}

function title(noun: string[]): string {
  const text = noun.map(singular).join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function idField(schema: JsonRecord, input: JsonRecord): [string, unknown] | undefined {
  const required = Array.isArray(schema.required) ? schema.required.map(String) : [];
  const props = typeof schema.properties === 'object' && schema.properties !== null ? Object.keys(schema.properties) : [];
  const idLike = (k: string) => k === 'id' || /(_id|_gid|Id|^gid|short_id)$/.test(k);
  for (const k of [...required, ...props]) {
    if (idLike(k) && input[k] !== undefined) return [k, input[k]];
  }
  return undefined;
}

function stableNumber(text: string): number {
  let h = 7;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) % 900_000;
  return 100_000 + h;
}

export function genericHandler(input: JsonRecord, ctx: ToolContext): JsonRecord {
  const isAsana = ctx.connector !== 'posthogmcp';
  const prefix = `${ctx.connector}_`;
  const tokens = ctx.toolName.slice(prefix.length).split('_').filter(Boolean);
  const { verb, noun } = classify(tokens);
  const kind = noun.map(singular).join('_') || 'item';
  const name = title(noun.length ? noun : ['item']);
  const now = new Date(ctx.data.clock()).toISOString();
  const base = stableNumber(ctx.toolName);
  const idOf = (n: number) => (isAsana ? String(1_300_000_000_000_000 + base * 10 + n) : base + n);
  const record = (n: number): JsonRecord =>
    isAsana ? { gid: idOf(n), resource_type: kind, name: `${name} ${n}` } : { id: idOf(n), name: `${name} ${n}`, created_at: now };
  const wrap = (value: unknown): JsonRecord => (isAsana ? { data: value } : (value as JsonRecord));

  switch (verb) {
    case 'list': {
      const items = [record(1), record(2), record(3)];
      return isAsana ? { data: items, next_page: null } : { count: items.length, next: null, previous: null, results: items };
    }
    case 'get': {
      const id = idField(ctx.schema, input);
      const out = record(1);
      if (id) {
        if (isAsana) out.gid = id[1];
        else out.id = id[1];
        out[id[0]] = id[1];
        out.name = `${name} ${String(id[1])}`;
      }
      return wrap(out);
    }
    case 'create': {
      const created: JsonRecord = { ...record(0), ...input, ...(isAsana ? { gid: ctx.data.asana.newGid() } : { id: ctx.data.posthog.newId() }) };
      if (!isAsana) created.created_at = now;
      return wrap(created);
    }
    case 'update': {
      const id = idField(ctx.schema, input);
      return wrap({ ...record(1), ...(id ? (isAsana ? { gid: id[1] } : { id: id[1] }) : {}), ...input, updated_at: now });
    }
    case 'delete': {
      const id = idField(ctx.schema, input);
      return isAsana ? { data: {} } : { success: true, deleted: true, ...(id ? { id: id[1] } : {}) };
    }
    default:
      return wrap({ success: true, tool: ctx.toolName, status: 'completed', completed_at: now, input });
  }
}
