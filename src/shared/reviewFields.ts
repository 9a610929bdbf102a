// The top-level fields of a tool input, ordered for review on the approval card: the fields
// that say who and what (ids, assignee, project…) first, then other short fields, then long
// ones (free text, big arrays) last, so padding cannot push the assignee out of sight. The
// card still shows the whole input below; this list only orders it. No vscode, no DOM.

export interface ReviewField {
  /** Dotted path of the field, e.g. `assignee` or `data.assignee`. */
  readonly path: string;
  /** Compact JSON of the value when short, or undefined when long (shown in full below). */
  readonly json?: string;
  readonly kind: 'text' | 'list' | 'object' | 'value';
  /** UTF-8 bytes of the compact JSON of the value. */
  readonly bytes: number;
  /** For a list, how many items. */
  readonly items?: number;
}

/** Values whose compact JSON is longer than this are listed by size, not inline. */
export const shortValueChars = 200;
const maxDepth = 3;

const whoOrWhat =
  /(^|_)(ids?|gids?|uuids?|keys?|assignees?|owners?|users?|members?|followers?|emails?|projects?|workspaces?|teams?|parents?|sections?|portfolios?|goals?|tags?|cohorts?|dashboards?|flags?)$/;
const camelWhoOrWhat = /[a-z](Id|Ids|Gid|Gids|Uuid|Key|Email)$/;

function identifying(key: string): boolean {
  return whoOrWhat.test(key.toLowerCase()) || camelWhoOrWhat.test(key);
}

function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The fields of a JSON object text, ordered for review; [] when it is not a JSON object. */
export function reviewFields(inputJson: string): ReviewField[] {
  let input: unknown;
  try {
    input = JSON.parse(inputJson) as unknown;
  } catch {
    return [];
  }
  if (!isPlainObject(input)) return [];
  const who: ReviewField[] = [];
  const short: ReviewField[] = [];
  const long: ReviewField[] = [];
  const visit = (object: Record<string, unknown>, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(object)) {
      const path = `${prefix}${key}`;
      const json = JSON.stringify(value) ?? 'null';
      const isShort = json.length <= shortValueChars;
      // A long object is opened up, so an assignee nested next to padding still comes first.
      if (!isShort && isPlainObject(value) && depth < maxDepth) {
        visit(value, `${path}.`, depth + 1);
        continue;
      }
      const kind = typeof value === 'string' ? 'text' : Array.isArray(value) ? 'list' : isPlainObject(value) ? 'object' : 'value';
      const field: ReviewField = { path, kind, bytes: utf8Bytes(json), ...(isShort ? { json } : {}), ...(Array.isArray(value) ? { items: value.length } : {}) };
      (isShort ? (identifying(key) ? who : short) : long).push(field);
    }
  };
  visit(input, '', 0);
  return [...who, ...short, ...long];
}
