// Says in words what a destructive call will delete, from the tool's name and its input:
// "delete feature flag 1 in PostHog", "remove followers from goal 42 in Asana". Shared by
// the approval card; no vscode, no DOM.

import { clip } from './labels';

const identifyingKey = /(^|_)(ids?|gids?|keys?|names?|slugs?|emails?)$/i;

type Target = { kind: 'one'; label: string } | { kind: 'several'; count: number };

/** What names the target, from the first identifying field of the input. */
function targetOf(input: unknown): Target | undefined {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return undefined;
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (!identifyingKey.test(key)) continue;
    if (typeof value === 'number') return { kind: 'one', label: String(value) };
    if (typeof value === 'string' && value.trim()) return { kind: 'one', label: clip(value, 60) };
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
      return value.length === 1 ? { kind: 'one', label: String(value[0]) } : { kind: 'several', count: value.length };
    }
  }
  return undefined;
}

/**
 * A plain sentence for a destructive call, e.g. "This will delete feature flag 1 in PostHog."
 * `service` is the display name of the connection.
 */
export function destructiveSummary(toolName: string, service: string, input: unknown): string {
  // posthogmcp_delete_feature_flag → delete feature flag; asana_goal_remove_followers → goal remove followers.
  const words = toolName.split('_').slice(1).filter(Boolean);
  const verbAt = words.findIndex((w) => w === 'delete' || w === 'remove' || w === 'destroy' || w === 'purge');
  const target = targetOf(input);
  const named = (thing: string) => {
    if (!target) return `a ${thing}`;
    if (target.kind === 'several') return `${target.count} ${thing}`;
    return `${thing} ${/^\d+$/.test(target.label) ? target.label : `"${target.label}"`}`;
  };
  if (verbAt < 0) return `This will remove data in ${service}${target ? ` (${target.kind === 'one' ? target.label : `${target.count} items`})` : ''}.`;
  const verb = words[verbAt] === 'remove' ? 'remove' : 'delete';
  const before = words.slice(0, verbAt).filter((w) => w !== 'bulk').join(' ');
  const after = words.slice(verbAt + 1).join(' ');
  if (verb === 'remove' && before && after) return `This will remove ${after} from ${named(before)} in ${service}.`;
  const thing = after || before || 'item';
  return `This will ${verb} ${named(thing)} in ${service}.`;
}
