// Says in words what a destructive call will delete, from the tool's name and its input:
// "delete feature flag 1 in PostHog", "remove followers from goal 42 in Asana". Shared by
// the approval card; no vscode, no DOM.
//
// The input comes from the model and may be steered by a prompt injection, so the sentence
// names what will really be deleted: the ids (every one, or the count and the first few),
// never a free-text field in their place. A name, slug or email is used only when no field
// names the target by id, and every further id field is named too.

import { clip } from './labels';

const idKey = /(^|_)(ids?|gids?|uuids?|keys?)$/i;
const camelIdKey = /[a-z](Ids?|Gids?|Uuids?|Keys?)$/;
const nameKey = /(^|_)(names?|slugs?|emails?)$/i;
/** How many values of a list are spelled out before "and N more". */
const shownValues = 5;

interface Field {
  readonly key: string;
  readonly values: readonly string[];
}

function valuesOf(value: unknown): string[] | undefined {
  if (typeof value === 'number') return [String(value)];
  if (typeof value === 'string') return value.trim() ? [value] : undefined;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.map(String);
  return undefined;
}

/** The fields whose key passes `names`, in input order, with the values they carry. */
function fieldsOf(input: unknown, names: (key: string) => boolean): Field[] {
  // An array's keys are indices, which name nothing, so only null and non-objects need a guard.
  if (!input || typeof input !== 'object') return [];
  const fields: Field[] = [];
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (!names(key)) continue;
    const values = valuesOf(value);
    if (values) fields.push({ key, values });
  }
  return fields;
}

/** All-digit labels read as numbers; anything else is quoted. */
function label(value: string): string {
  const text = clip(value, 60);
  return /^\d+$/.test(text) ? text : `"${text}"`;
}

function listed(values: readonly string[]): string {
  const shown = values.slice(0, shownValues).map(label).join(', ');
  const rest = values.length - shownValues;
  return rest > 0 ? `${shown} and ${rest} more` : shown;
}

/**
 * A plain sentence for a destructive call, e.g. "This will delete feature flag 1 in PostHog."
 * `service` is the display name of the connection.
 */
export function destructiveSummary(toolName: string, service: string, input: unknown): string {
  // posthogmcp_delete_feature_flag → delete feature flag; asana_goal_remove_followers → goal remove followers.
  const words = toolName.split('_').slice(1).filter(Boolean);
  const verbAt = words.findIndex((w) => w === 'delete' || w === 'remove' || w === 'destroy' || w === 'purge');
  const ids = fieldsOf(input, (key) => idKey.test(key) || camelIdKey.test(key));
  const [target, ...others] = ids.length > 0 ? ids : fieldsOf(input, (key) => nameKey.test(key)).slice(0, 1);
  const also = others.length > 0 ? ` The input also names ${others.map((f) => `${f.key} ${listed(f.values)}`).join('; ')}.` : '';
  const named = (thing: string) => {
    if (!target) return `a ${thing}`;
    if (target.values.length > 1) return `${target.values.length} ${thing} (${listed(target.values)})`;
    return `${thing} ${label(target.values[0] ?? '')}`;
  };
  if (verbAt < 0) {
    const what = !target ? '' : target.values.length > 1 ? ` (${target.values.length} items: ${listed(target.values)})` : ` (${listed(target.values)})`;
    return `This will remove data in ${service}${what}.${also}`;
  }
  const verb = words[verbAt] === 'remove' ? 'remove' : 'delete';
  const before = words
    .slice(0, verbAt)
    .filter((w) => w !== 'bulk')
    .join(' ');
  const after = words.slice(verbAt + 1).join(' ');
  if (verb === 'remove' && before && after) return `This will remove ${after} from ${named(before)} in ${service}.${also}`;
  const thing = after || before || 'item';
  return `This will ${verb} ${named(thing)} in ${service}.${also}`;
}
