// Server-side tool search as the Anthropic API performs it for
// `tool_search_tool_regex_20251119` / `tool_search_tool_bm25_20251119`:
// it searches the request's deferred tools (defer_loading: true) by name,
// description, argument names and argument descriptions, and answers with
// `tool_reference` blocks naming the best matches.

export type ToolSearchVariant = 'regex' | 'bm25';

/** A tool definition as it appears in a request's `tools` array (loosely typed on purpose). */
export interface RequestTool {
  name?: unknown;
  type?: unknown;
  description?: unknown;
  input_schema?: unknown;
  defer_loading?: unknown;
  [key: string]: unknown;
}

export interface ToolSearchHit {
  name: string;
  score: number;
}

export type ToolSearchOutcome = { ok: true; hits: ToolSearchHit[] } | { ok: false; errorCode: 'invalid_tool_input'; message: string };

export const TOOL_SEARCH_TYPES: Record<string, ToolSearchVariant> = {
  tool_search_tool_regex_20251119: 'regex',
  tool_search_tool_regex: 'regex',
  tool_search_tool_bm25_20251119: 'bm25',
  tool_search_tool_bm25: 'bm25',
};

export const TOOL_SEARCH_NAMES: Record<ToolSearchVariant, 'tool_search_tool_regex' | 'tool_search_tool_bm25'> = {
  regex: 'tool_search_tool_regex',
  bm25: 'tool_search_tool_bm25',
};

/** The tool-search variant a request enables, if any. */
export function toolSearchVariantOf(tools: readonly RequestTool[] | undefined): ToolSearchVariant | undefined {
  for (const tool of tools ?? []) {
    if (typeof tool.type === 'string' && tool.type in TOOL_SEARCH_TYPES) return TOOL_SEARCH_TYPES[tool.type];
  }
  return undefined;
}

/** Name, description, argument names and argument descriptions, one per line. */
export function searchableText(tool: RequestTool): string {
  const parts: string[] = [];
  if (typeof tool.name === 'string') parts.push(tool.name);
  if (typeof tool.description === 'string') parts.push(tool.description);
  const schema = tool.input_schema;
  if (schema && typeof schema === 'object') {
    const props = (schema as { properties?: unknown }).properties;
    if (props && typeof props === 'object') {
      for (const [argName, argSchema] of Object.entries(props as Record<string, unknown>)) {
        parts.push(argName);
        const d = argSchema && typeof argSchema === 'object' ? (argSchema as { description?: unknown }).description : undefined;
        if (typeof d === 'string') parts.push(d);
      }
    }
  }
  return parts.join('\n');
}

export function deferredTools(tools: readonly RequestTool[] | undefined): RequestTool[] {
  return (tools ?? []).filter((t) => t.defer_loading === true && typeof t.name === 'string');
}

const MAX_PATTERN_LENGTH = 200;

/**
 * Compiles a Python-`re`-style pattern to a JS RegExp. Supports a leading inline
 * flag group such as `(?i)`; anything JS cannot compile is an invalid input.
 */
export function compilePythonishRegex(pattern: string): RegExp {
  let flags = '';
  let source = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    for (const f of inline[1] ?? '') {
      if (f === 'i' && !flags.includes('i')) flags += 'i';
      if (f === 'm' && !flags.includes('m')) flags += 'm';
      if (f === 's' && !flags.includes('s')) flags += 's';
    }
  }
  return new RegExp(source, flags);
}

/** Regex variant: every deferred tool whose searchable text matches (re.search semantics). */
export function regexSearch(tools: readonly RequestTool[], pattern: string, maxResults = 5): ToolSearchOutcome {
  if (typeof pattern !== 'string' || pattern.length === 0) {
    return { ok: false, errorCode: 'invalid_tool_input', message: 'query must be a non-empty regex pattern' };
  }
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return { ok: false, errorCode: 'invalid_tool_input', message: `pattern longer than ${MAX_PATTERN_LENGTH} characters` };
  }
  let re: RegExp;
  try {
    re = compilePythonishRegex(pattern);
  } catch (err) {
    return { ok: false, errorCode: 'invalid_tool_input', message: `invalid regex: ${(err as Error).message}` };
  }
  const hits: ToolSearchHit[] = [];
  for (const tool of deferredTools(tools)) {
    const name = tool.name as string;
    // Name matches rank before description-only matches, then catalog order.
    if (re.test(name)) hits.push({ name, score: 2 });
    else if (re.test(searchableText(tool))) hits.push({ name, score: 1 });
  }
  hits.sort((a, b) => b.score - a.score);
  return { ok: true, hits: hits.slice(0, maxResults) };
}

/** Splits text into lower-case word tokens; snake_case and camelCase are split too. */
export function tokenize(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 1 && !STOPWORDS.has(t));
}

const STOPWORDS = new Set([
  'a',
  'an',
  'the',
  'and',
  'or',
  'of',
  'to',
  'in',
  'on',
  'for',
  'by',
  'with',
  'is',
  'are',
  'be',
  'it',
  'this',
  'that',
  'from',
  'as',
  'at',
  'if',
  'use',
  'you',
  'your',
  'can',
  'no',
  'not',
  'description',
]);

/** BM25 variant (k1 = 1.2, b = 0.75) over the deferred tools; the tool name counts twice. */
export function bm25Search(tools: readonly RequestTool[], query: string, maxResults = 5): ToolSearchOutcome {
  if (typeof query !== 'string' || query.trim().length === 0) {
    return { ok: false, errorCode: 'invalid_tool_input', message: 'query must be a non-empty string' };
  }
  const queryTerms = [...new Set(tokenize(query))];
  const docs = deferredTools(tools).map((tool) => {
    const name = tool.name as string;
    const tokens = [...tokenize(name), ...tokenize(name), ...tokenize(searchableText(tool))];
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    return { name, length: tokens.length, tf };
  });
  if (docs.length === 0 || queryTerms.length === 0) return { ok: true, hits: [] };
  const avgLength = docs.reduce((s, d) => s + d.length, 0) / docs.length;
  const k1 = 1.2;
  const b = 0.75;
  const hits: ToolSearchHit[] = [];
  for (const doc of docs) {
    let score = 0;
    for (const term of queryTerms) {
      const f = doc.tf.get(term) ?? 0;
      if (f === 0) continue;
      const n = docs.filter((d) => d.tf.has(term)).length;
      const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
      score += idf * ((f * (k1 + 1)) / (f + k1 * (1 - b + (b * doc.length) / avgLength)));
    }
    if (score > 0) hits.push({ name: doc.name, score });
  }
  hits.sort((x, y) => y.score - x.score || x.name.localeCompare(y.name));
  return { ok: true, hits: hits.slice(0, maxResults) };
}

export function searchTools(tools: readonly RequestTool[] | undefined, variant: ToolSearchVariant, query: string, maxResults = 5): ToolSearchOutcome {
  return variant === 'regex' ? regexSearch(tools ?? [], query, maxResults) : bm25Search(tools ?? [], query, maxResults);
}
