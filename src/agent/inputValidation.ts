import { createHash } from 'node:crypto';
import type { default as Ajv, ValidateFunction } from 'ajv';
import type { RE2JS } from 're2js';
import { UncheckablePatternError } from '../core/errors';
import { validationSdk } from '../core/sdkLoader';

// Tool input from the model is untrusted: it is checked against the tool's own JSON
// schema before anything runs. Validators are compiled lazily and cached by a hash of the
// schema, so a tool whose schema changes on the server is checked with the new one.
//
// Schemas come from the server too, and their `pattern`s run on the extension host thread,
// shared by every extension. A backtracking JavaScript RegExp lets a pattern like
// `^(a+)+$` freeze the host for minutes on a 30-character input, so patterns are compiled
// with RE2 (re2js, a pure-JavaScript port; linear time, no native binary to download).

export type InputCheck = { ok: true; input: Record<string, unknown> } | { ok: false; problem: string; code: 'invalid_input' | 'unchecked_schema' };

/** A schema pattern RE2 cannot compile (lookaround, backreferences): it cannot be checked in linear time. */
interface RegExpLike {
  test(input: string): boolean;
}

/** Ajv's `code.regExp`: ECMAScript pattern syntax translated for RE2, searched (not anchored) as JSON Schema says. */
function re2RegExp(pattern: string, _flags: string): RegExpLike {
  let re: RE2JS;
  try {
    const { RE2JS: re2 } = validationSdk();
    re = re2.compile(re2.translateRegExp(pattern));
  } catch {
    throw new UncheckablePatternError(pattern);
  }
  // Ajv keys compiled patterns by toString(), so it must differ per pattern.
  return { test: (input: string) => re.test(input), toString: () => `re2:${pattern}` } as RegExpLike;
}
re2RegExp.code = 're2RegExp'; // only used by Ajv's standalone code generation, which OnBehalf does not use

// Built on the first check, with Ajv itself: nothing of it loads at activation.
let ajv: Ajv | undefined;
function validatorCompiler(): Ajv {
  ajv ??= new (validationSdk().Ajv)({
    strict: false,
    allErrors: true,
    validateSchema: false,
    allowUnionTypes: true,
    addUsedSchema: false,
    code: { regExp: re2RegExp },
  });
  return ajv;
}

type Compiled = { kind: 'validator'; validate: ValidateFunction } | { kind: 'unchecked' } | { kind: 'refused'; pattern: string };
const cache = new Map<string, Compiled>();
const maxCached = 1000;
/**
 * The compiled validator of each schema object already seen. Hashing a large schema costs more
 * than the rest of a call's checks together, and the catalog hands the same object back on
 * every call. Schemas are never changed in place (a new tool listing builds new objects, which
 * are hashed again), so the object decides as well as its hash would.
 */
const bySchemaObject = new WeakMap<object, Compiled>();

function schemaKey(schema: Record<string, unknown>): string {
  return createHash('sha256')
    .update(JSON.stringify(schema) ?? 'null')
    .digest('hex');
}

function compile(schema: Record<string, unknown>): Compiled {
  try {
    // Ajv keeps its own cache by schema object; the hash above decides what is new.
    return { kind: 'validator', validate: validatorCompiler().compile(schema) };
  } catch (error) {
    // Fail closed: a pattern that cannot be checked in linear time refuses the call rather
    // than being skipped, since skipping would let any value through (no catalog fixture
    // schema uses lookaround or backreferences; most use no pattern at all).
    if (error instanceof UncheckablePatternError) return { kind: 'refused', pattern: error.pattern };
    // Any other schema Ajv cannot compile is not a reason to refuse a call; the service
    // checks the input as well.
    return { kind: 'unchecked' };
  }
}

export function checkToolInput(toolName: string, schema: Record<string, unknown>, input: unknown): InputCheck {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    return {
      ok: false,
      code: 'invalid_input',
      problem: `Input for ${toolName} must be a JSON object, got ${Array.isArray(input) ? 'an array' : typeof input}.`,
    };
  }
  const compiled = compiledFor(schema);
  if (compiled.kind === 'refused') {
    return {
      ok: false,
      code: 'unchecked_schema',
      problem: `The schema of ${toolName} has a pattern ${JSON.stringify(compiled.pattern.slice(0, 200))} that cannot be checked safely (it needs lookaround or backreferences, which OnBehalf's linear-time pattern engine refuses), so the call did not run.`,
    };
  }
  if (compiled.kind === 'validator' && !compiled.validate(input)) {
    const problems = (compiled.validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '(input)'} ${e.message ?? 'is invalid'}`.trim());
    return { ok: false, code: 'invalid_input', problem: `Input for ${toolName} does not match its schema: ${problems.join('; ')}.` };
  }
  return { ok: true, input: input as Record<string, unknown> };
}

function compiledFor(schema: Record<string, unknown>): Compiled {
  const seen = bySchemaObject.get(schema);
  if (seen) return seen;
  const key = schemaKey(schema);
  let compiled = cache.get(key);
  if (compiled === undefined) {
    compiled = compile(schema);
    if (cache.size >= maxCached) {
      const [oldest] = cache.keys();
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(key, compiled);
  }
  bySchemaObject.set(schema, compiled);
  return compiled;
}

/**
 * Compiles these schemas ahead of their first call, one per macrotask so the extension host
 * stays responsive, while the model is still answering: a tool's first call then finds its
 * validator ready (compiling one takes about 1.6 ms, 5.8 ms at p95). Resolves when done.
 */
export async function warmToolSchemas(schemas: readonly Record<string, unknown>[]): Promise<void> {
  for (const schema of schemas) {
    if (bySchemaObject.has(schema)) continue;
    await new Promise<void>((resolve) => setImmediate(resolve));
    compiledFor(schema);
  }
}
