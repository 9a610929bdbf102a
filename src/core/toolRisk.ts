// Scalekit's catalogs carry no read/write flag, so risk comes from the tool's name and,
// where a tool has them, MCP annotations. When unsure, the answer is "write" (it asks).

export type ToolRisk = 'read' | 'write' | 'destructive';

export interface ToolAnnotations {
  readonly readOnlyHint?: boolean;
  readonly destructiveHint?: boolean;
}

const riskOrder: Record<ToolRisk, number> = { read: 0, write: 1, destructive: 2 };

const destructiveWords = new Set(['delete', 'remove', 'rm', 'destroy', 'purge', 'revoke', 'unmaterialize', 'erase', 'wipe', 'truncate', 'drop']);
const writeWords = new Set([
  'create', 'update', 'set', 'add', 'duplicate', 'copy', 'instantiate', 'save', 'reorder', 'upsert', 'move', 'enable',
  'disable', 'materialize', 'post', 'put', 'patch', 'send', 'assign', 'invite', 'archive', 'unarchive', 'restore', 'merge',
  'split', 'reset', 'rename', 'publish', 'unpublish', 'import', 'upload', 'approve', 'resolve', 'reopen', 'mark', 'toggle',
  'schedule', 'launch', 'ship', 'end', 'switch', 'simulate', 'trigger', 'cancel', 'complete', 'pause', 'resume', 'share', 'unshare', 'link', 'unlink', 'follow', 'unfollow',
  'attach', 'detach', 'insert', 'replace', 'write', 'edit', 'bulk', 'partial', 'submit', 'start', 'stop', 'retry', 'apply',
]);
const readWords = new Set([
  'get', 'list', 'retrieve', 'search', 'query', 'find', 'read', 'describe', 'fetch', 'count', 'counts', 'filters',
  'history', 'status', 'statuses', 'values', 'sparkline', 'preview', 'show', 'view', 'lookup', 'check', 'all', 'summary',
  'summarize', 'generate', 'explain', 'definition', 'definitions', 'reasons', 'stats', 'logs', 'log', 'me', 'whoami', 'info',
  'details', 'export', 'download', 'docs', 'schema', 'suggest', 'suggestions', 'estimate', 'dependent', 'dependents',
]);

/** The name without its connector prefix, split into lower-case words. */
export function toolNameWords(toolName: string): string[] {
  const words = toolName.toLowerCase().split(/[_\-.\s]+/).filter(Boolean);
  return words.length > 1 ? words.slice(1) : words;
}

export function classifyByName(toolName: string): ToolRisk | 'unsure' {
  const words = toolNameWords(toolName);
  if (words.some((w) => destructiveWords.has(w))) return 'destructive';
  // "create_project_preview" only previews; a trailing read verb that is not "all" wins over write verbs before it.
  const last = words[words.length - 1];
  if (last === 'preview') return 'read';
  if (words.some((w) => writeWords.has(w))) return 'write';
  if (words.some((w) => readWords.has(w))) return 'read';
  return 'unsure';
}

function classifyByAnnotations(annotations: ToolAnnotations): ToolRisk | 'unsure' {
  if (annotations.readOnlyHint === true) return 'read';
  if (annotations.destructiveHint === true) return 'destructive';
  if (annotations.destructiveHint === false || annotations.readOnlyHint === false) return 'write';
  return 'unsure';
}

/**
 * Risk of a tool. Name and annotations are both consulted and the higher risk wins, so a
 * tool annotated read-only whose name says "delete" still asks before it runs.
 */
export function classifyTool(toolName: string, annotations?: ToolAnnotations): ToolRisk {
  const byName = classifyByName(toolName);
  const byAnnotations = annotations ? classifyByAnnotations(annotations) : 'unsure';
  const known = [byName, byAnnotations].filter((r): r is ToolRisk => r !== 'unsure');
  if (known.length === 0) return 'write';
  return known.reduce((a, b) => (riskOrder[b] > riskOrder[a] ? b : a));
}

export interface RiskGroups<T> {
  readonly read: T[];
  readonly write: T[];
  readonly destructive: T[];
}

export function groupByRisk<T extends { name: string; annotations?: ToolAnnotations }>(tools: readonly T[]): RiskGroups<T> {
  const groups: RiskGroups<T> = { read: [], write: [], destructive: [] };
  for (const tool of tools) groups[classifyTool(tool.name, tool.annotations)].push(tool);
  return groups;
}
