import Ajv, { type ValidateFunction } from 'ajv';

// Tool input from the model is untrusted: it is checked against the tool's own JSON
// schema before anything runs. Validators are compiled lazily and cached per tool.

export type InputCheck = { ok: true; input: Record<string, unknown> } | { ok: false; problem: string };

const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, allowUnionTypes: true });
const cache = new Map<string, ValidateFunction | null>();

export function checkToolInput(toolName: string, schema: Record<string, unknown>, input: unknown): InputCheck {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, problem: `Input for ${toolName} must be a JSON object, got ${Array.isArray(input) ? 'an array' : typeof input}.` };
  }
  let validate = cache.get(toolName);
  if (validate === undefined) {
    try {
      validate = ajv.compile(schema);
    } catch {
      validate = null; // A schema ajv cannot compile is not a reason to refuse a call.
    }
    cache.set(toolName, validate);
  }
  if (validate && !validate(input)) {
    const problems = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '(input)'} ${e.message ?? 'is invalid'}`.trim());
    return { ok: false, problem: `Input for ${toolName} does not match its schema: ${problems.join('; ')}.` };
  }
  return { ok: true, input: input as Record<string, unknown> };
}
