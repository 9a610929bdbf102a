// Scalekit's catalogs carry no read/write flag, so risk comes from the tool's name and,
// where a tool has them, MCP annotations. When unsure, the answer is the stricter class:
// an unknown name is "write" (it asks), and an MCP tool that does not say it is read-only
// or non-destructive is "destructive", as the MCP spec's defaults say.

export type ToolRisk = 'read' | 'write' | 'destructive';

export interface ToolAnnotations {
  readonly readOnlyHint?: boolean;
  readonly destructiveHint?: boolean;
}

const riskOrder: Record<ToolRisk, number> = { read: 0, write: 1, destructive: 2 };

const destructiveWords = new Set(['delete', 'remove', 'rm', 'destroy', 'purge', 'revoke', 'unmaterialize', 'erase', 'wipe', 'truncate', 'drop']);
const writeWords = new Set([
  'create',
  'update',
  'set',
  'add',
  'duplicate',
  'copy',
  'instantiate',
  'save',
  'reorder',
  'upsert',
  'move',
  'enable',
  'disable',
  'materialize',
  'post',
  'put',
  'patch',
  'send',
  'assign',
  'invite',
  'archive',
  'unarchive',
  'restore',
  'merge',
  'split',
  'reset',
  'rename',
  'publish',
  'unpublish',
  'import',
  'upload',
  'approve',
  'resolve',
  'reopen',
  'mark',
  'toggle',
  'schedule',
  'launch',
  'ship',
  'end',
  'switch',
  'simulate',
  'trigger',
  'cancel',
  'complete',
  'pause',
  'resume',
  'share',
  'unshare',
  'link',
  'unlink',
  'follow',
  'unfollow',
  'attach',
  'detach',
  'insert',
  'replace',
  'write',
  'edit',
  'bulk',
  'partial',
  'submit',
  'start',
  'stop',
  'retry',
  'apply',
]);
const readWords = new Set([
  'get',
  'list',
  'retrieve',
  'search',
  'query',
  'find',
  'read',
  'describe',
  'fetch',
  'count',
  'counts',
  'filters',
  'history',
  'status',
  'statuses',
  'values',
  'sparkline',
  'preview',
  'show',
  'view',
  'lookup',
  'check',
  'all',
  'summary',
  'summarize',
  'generate',
  'explain',
  'definition',
  'definitions',
  'reasons',
  'stats',
  'logs',
  'log',
  'me',
  'whoami',
  'info',
  'details',
  'export',
  'download',
  'docs',
  'schema',
  'suggest',
  'suggestions',
  'estimate',
  'dependent',
  'dependents',
]);

/** Every word of a name, lower-cased: split at `_ - .` and spaces, then at camelCase humps (`deleteHTTPCache` → delete, http, cache). */
function allWords(toolName: string): string[] {
  return toolName
    .split(/[_\-.\s]+/)
    .flatMap((part) =>
      part
        .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
        .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
        .split(' '),
    )
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** The name without its connector prefix, split into lower-case words. */
export function toolNameWords(toolName: string): string[] {
  const parts = toolName.split(/[_\-.\s]+/).filter(Boolean);
  return parts.length > 1 ? allWords(parts.slice(1).join('_')) : allWords(toolName);
}

export function classifyByName(toolName: string): ToolRisk | 'unsure' {
  const words = toolNameWords(toolName);
  // Deleting and writing words count wherever they stand, the first word too: a name
  // without a connector prefix ("delete-feature-flag") must not lose its verb. Only the
  // looser read words skip the prefix, so a connector's name can never make a tool "read".
  const every = allWords(toolName);
  if (every.some((w) => destructiveWords.has(w))) return 'destructive';
  // "create_project_preview" only previews; a trailing read verb that is not "all" wins over write verbs before it.
  const last = words[words.length - 1];
  if (last === 'preview') return 'read';
  if (every.some((w) => writeWords.has(w))) return 'write';
  if (words.some((w) => readWords.has(w))) return 'read';
  return 'unsure';
}

/**
 * MCP annotations with the spec's defaults: readOnlyHint is false unless said, and a tool
 * that is not read-only is destructive unless destructiveHint is false. So `{}` and
 * `{ readOnlyHint: false }` are destructive; only `destructiveHint: false` makes a write.
 */
function classifyByAnnotations(annotations: ToolAnnotations): ToolRisk {
  if (annotations.readOnlyHint === true) return 'read';
  if (annotations.destructiveHint === false) return 'write';
  return 'destructive';
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
