// Which value of a setting OnBehalf uses: the user's own (global) value, else the default.
// Never the merged value: VS Code drops workspace values only for keys registered as
// application-scoped, and keeps a dotted sub-key (`onbehalf.toolRules.x`), a parent object
// (`onbehalf.anthropic`) or the whole section (`onbehalf`) from a repository's
// .vscode/settings.json, merging it over the user's value. Pure, so it is unit-tested.

/** The part of `WorkspaceConfiguration.inspect()` this reads; every other layer is ignored. */
export interface InspectedSetting<T> {
  readonly defaultValue?: T | undefined;
  readonly globalValue?: T | undefined;
}

/** The user's global value when set, else the registered default, else `fallback`. */
export function userValue<T>(inspected: InspectedSetting<T> | undefined, fallback: T): T {
  if (inspected?.globalValue !== undefined) return inspected.globalValue;
  if (inspected?.defaultValue !== undefined) return inspected.defaultValue;
  return fallback;
}
