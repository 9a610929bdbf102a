// Small text helpers shared by the host and the webview: how a connection is named to the
// user, and how long text is cut for a one-line label. No vscode, no DOM.

/** The connection name of PostHog reached through its MCP server with ID-JAG (not a Scalekit connection). */
export const enterpriseConnection = 'posthog-enterprise';

const knownNames: Record<string, string> = {
  posthog: 'PostHog',
  asana: 'Asana',
  asanamcp: 'Asana',
  posthogmcp: 'PostHog',
  github: 'GitHub',
  [enterpriseConnection]: 'PostHog (enterprise)',
};

/** "posthog" → "PostHog"; unknown names get a capital first letter. */
export function connectionLabel(name: string): string {
  const known = knownNames[name.toLowerCase()];
  if (known) return known;
  return name.length ? name.charAt(0).toUpperCase() + name.slice(1) : name;
}

/** Cuts text longer than `max` characters to `max`, the last one an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}…` : text;
}
