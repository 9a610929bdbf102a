import type Anthropic from '@anthropic-ai/sdk';
import type { ToolDefinition } from '../core/toolBackend';
import type { ToolRisk } from '../core/toolRisk';
import { modelTool } from './toolContext';

// Every scoped tool the signed-in user can reach, with its risk, and a keyword search
// over them. The model sees only a small discovery tool plus the schemas its searches
// loaded by reference (toolContext.ts), so 409 tools cost a few kilobytes of context per
// turn instead of ~280 KB. A catalog is built once per tool list (catalogFor), not per turn.

interface IndexedTool {
  readonly tool: ToolDefinition;
  readonly nameTerms: ReadonlySet<string>;
  /** The name's words in order, with the owner words ("my", "me") a name is precise about. */
  readonly nameWords: readonly string[];
  readonly terms: Map<string, number>;
  readonly length: number;
}

const stopWords = new Set([
  'a',
  'an',
  'the',
  'of',
  'to',
  'in',
  'on',
  'for',
  'and',
  'or',
  'by',
  'with',
  'my',
  'me',
  'i',
  'is',
  'are',
  'do',
  'does',
  'how',
  'what',
  'which',
  'this',
  'that',
  'it',
  'as',
  'at',
  'be',
  'from',
  'we',
  'our',
  'did',
  'have',
  'had',
  'many',
  'each',
]);

// Stop words that still tell tools apart when a name has them: asana_my_tasks_list is not
// asana_tasks_list, so a search for "list tasks" must not match it as fully as "list my tasks".
const ownerWords = new Set(['my', 'me']);

// Synonyms turn how people ask into how tools are named.
const synonyms: Record<string, string[]> = {
  // Figures over time are answered by running a query; a saved chart is an insight.
  signups: ['signed', 'up', 'trends', 'query', 'run', 'events'],
  signup: ['signed', 'up', 'trends', 'query', 'run', 'events'],
  daily: ['trends', 'query', 'run'],
  day: ['trends', 'query', 'run'],
  week: ['trends', 'query', 'run'],
  trend: ['trends', 'query', 'run'],
  chart: ['trends', 'query', 'insight'],
  count: ['query', 'trends', 'run'],
  users: ['persons', 'users'],
  people: ['persons', 'users'],
  flag: ['feature', 'flag'],
  flags: ['feature', 'flag'],
  todo: ['task'],
  todos: ['tasks', 'task'],
  ticket: ['task'],
  assign: ['task', 'assignee', 'update'],
  comment: ['story', 'comment'],
  comments: ['stories', 'story', 'comment'],
  make: ['create'],
  add: ['create', 'add'],
  new: ['create'],
  remove: ['delete', 'remove'],
  change: ['update'],
  edit: ['update'],
  show: ['list', 'get'],
  list: ['get', 'all'],
  find: ['search', 'list'],
};

export function tokenize(text: string, keep: ReadonlySet<string> = new Set()): string[] {
  return splitWords(text)
    .filter((t) => keep.has(t) || !stopWords.has(t))
    .map(stem);
}

function splitWords(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 1);
}

function stem(term: string): string {
  if (term.length > 4 && term.endsWith('ies')) return `${term.slice(0, -3)}y`;
  if (term.length > 3 && term.endsWith('s') && !term.endsWith('ss')) return term.slice(0, -1);
  return term;
}

export interface SearchOptions {
  readonly limit?: number;
  readonly connection?: string;
  readonly allowedRisks?: readonly ToolRisk[];
}

export interface ScoredTool {
  readonly tool: ToolDefinition;
  readonly score: number;
}

export class ToolCatalog {
  private readonly tools = new Map<string, ToolDefinition>();
  private readonly index: IndexedTool[] = [];
  private readonly documentFrequency = new Map<string, number>();
  private averageLength = 1;

  /** The tools of every backend; each carries the risk its backend classified (defineTool). */
  constructor(tools: readonly ToolDefinition[]) {
    for (const tool of tools) {
      if (this.tools.has(tool.name)) continue;
      this.tools.set(tool.name, tool);
      // Name words count three times: they are the most reliable signal.
      const nameWords = tokenize(tool.name.replace(/_/g, ' ')).slice(1);
      const words = [
        ...nameWords,
        ...nameWords,
        ...nameWords,
        ...tokenize(tool.connection),
        ...tokenize(tool.description),
        ...tokenize(Object.keys(propertiesOf(tool.inputSchema)).join(' ')),
      ];
      const terms = new Map<string, number>();
      for (const word of words) terms.set(word, (terms.get(word) ?? 0) + 1);
      for (const term of terms.keys()) this.documentFrequency.set(term, (this.documentFrequency.get(term) ?? 0) + 1);
      const preciseNameWords = tokenize(tool.name.replace(/_/g, ' '), ownerWords).slice(1);
      this.index.push({ tool, nameTerms: new Set(preciseNameWords), nameWords: preciseNameWords, terms, length: words.length });
    }
    this.averageLength = this.index.reduce((sum, entry) => sum + entry.length, 0) / Math.max(1, this.index.length);
  }

  get size(): number {
    return this.tools.size;
  }

  private deferred: { all?: Anthropic.Messages.Tool[]; read?: Anthropic.Messages.Tool[] } = {};

  /** Every tool as a deferred definition (defer_loading: true), built once per catalog. */
  deferredDefinitions(readOnly: boolean): Anthropic.Messages.Tool[] {
    const key = readOnly ? 'read' : 'all';
    this.deferred[key] ??= this.all()
      .filter((t) => !readOnly || t.risk === 'read')
      .map((t) => ({ ...modelTool(t), defer_loading: true }));
    return this.deferred[key];
  }

  /** One tool's deferred definition, or undefined when it is not in the catalog. */
  deferredDefinition(name: string): Anthropic.Messages.Tool | undefined {
    this.deferredByName ??= new Map(this.deferredDefinitions(false).map((t) => [t.name, t]));
    return this.deferredByName.get(name);
  }

  private deferredByName: Map<string, Anthropic.Messages.Tool> | undefined;

  private readonly deferredSizes = new Map<string, number>();

  /** Bytes of one tool's deferred definition as sent, counted once per catalog. */
  deferredBytes(name: string): number {
    let size = this.deferredSizes.get(name);
    if (size === undefined) {
      const tool = this.tools.get(name);
      size = tool ? Buffer.byteLength(JSON.stringify({ ...modelTool(tool), defer_loading: true })) : 0;
      this.deferredSizes.set(name, size);
    }
    return size;
  }

  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name);
  }

  all(): ToolDefinition[] {
    return [...this.tools.values()];
  }

  connections(): string[] {
    // Asked at every model request (the search tool names them); the catalog never changes.
    this.connectionNames ??= [...new Set(this.all().map((t) => t.connection))];
    return [...this.connectionNames];
  }

  private connectionNames: readonly string[] | undefined;

  /** BM25 over names, descriptions and parameter names, with a few query synonyms. */
  search(query: string, options: SearchOptions = {}): ToolDefinition[] {
    return this.searchScored(query, options).map((s) => s.tool);
  }

  /** The same search, with each tool's score (a tool named exactly in the query comes first). */
  searchScored(query: string, options: SearchOptions = {}): ScoredTool[] {
    const limit = Math.min(Math.max(options.limit ?? 8, 1), 20);
    const queryTerms = tokenize(query);
    // Every word, stop words too: "task or project" does not put task and project side by side.
    const queryWords = splitWords(query).map(stem);
    const expanded = [...queryTerms, ...queryTerms.flatMap((t) => (synonyms[t] ?? []).map(stem))];
    const exactNames = new Set(query.toLowerCase().split(/[\s,;"'`]+/));
    if (expanded.length === 0) return [];
    const k1 = 1.2;
    const b = 0.75;
    const total = this.index.length;
    const scored: { tool: ToolDefinition; score: number }[] = [];
    for (const entry of this.index) {
      if (options.connection && entry.tool.connection !== options.connection) continue;
      if (options.allowedRisks && !options.allowedRisks.includes(entry.tool.risk)) continue;
      let score = 0;
      for (const term of expanded) {
        const frequency = entry.terms.get(term);
        if (!frequency) continue;
        const df = this.documentFrequency.get(term) ?? 0;
        const idf = Math.log(1 + (total - df + 0.5) / (df + 0.5));
        score += (idf * frequency * (k1 + 1)) / (frequency + k1 * (1 - b + (b * entry.length) / this.averageLength));
      }
      // A query that names the tool outright (all its name words, nothing else) wins; a name
      // word the query lacks ("my") means another tool than the one asked for.
      const namesAll = [...entry.nameTerms].every((t) => queryWords.includes(t));
      if (namesAll && queryTerms.every((t) => entry.nameTerms.has(t))) score += 10;
      else if (namesAll) score += 2;
      // Name words in the query's order: "project tasks list" is project_tasks_list, not task_projects_list.
      score += 2 * namePairsInOrder(entry.nameWords, queryWords);
      // The model asking for a tool by its exact name (as the search result invites) gets it.
      if (exactNames.has(entry.tool.name.toLowerCase())) score += 100;
      if (score > 0) scored.push({ tool: entry.tool, score });
    }
    scored.sort((x, y) => y.score - x.score || x.tool.name.localeCompare(y.tool.name));
    return scored.slice(0, limit);
  }
}

/** How many neighbouring word pairs of a tool's name stand side by side, in that order, in the query. */
function namePairsInOrder(nameWords: readonly string[], queryWords: readonly string[]): number {
  let pairs = 0;
  for (let i = 0; i + 1 < nameWords.length; i++) {
    const at = queryWords.indexOf(nameWords[i]!);
    if (at >= 0 && queryWords[at + 1] === nameWords[i + 1]) pairs++;
  }
  return pairs;
}

let lastLists: readonly (readonly ToolDefinition[])[] = [];
let lastCatalog: ToolCatalog | undefined;

/**
 * The catalog of these tool lists (one per connection or backend), built again only when a
 * list changes: the same arrays give the same catalog, so each turn does not re-index 409 tools.
 */
export function catalogFor(lists: readonly (readonly ToolDefinition[])[]): ToolCatalog {
  const same = lastCatalog !== undefined && lists.length === lastLists.length && lists.every((list, i) => list === lastLists[i]);
  if (same && lastCatalog) return lastCatalog;
  lastLists = [...lists];
  lastCatalog = new ToolCatalog(lists.flat());
  return lastCatalog;
}

export function propertiesOf(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = schema.properties;
  return properties && typeof properties === 'object' && !Array.isArray(properties) ? (properties as Record<string, unknown>) : {};
}
