import * as vscode from 'vscode';
import { isIdentityProviderKind, type IdentityProviderKind } from '../core/identifier';
import type { ToolRule } from '../agent/policy';
import { userValue } from '../core/userSetting';
import { defaultModel } from '../agent/modelPrices';

// Typed access to OnBehalf's settings, and the only place that reads them. Nothing secret
// lives here, and nothing read here ever selects whose accounts a call uses.
//
// Every value is the user's own (global) value or the default, read through inspect(),
// never the merged one: VS Code drops workspace values only for keys registered as
// application-scoped, so a repository's .vscode/settings.json could otherwise set
// `onbehalf.toolRules.<tool>`, `onbehalf.enterprise.posthogMcp.idpTokenEndpoint`, or the
// whole `onbehalf` object, and win over the user.

const section = 'onbehalf';

export const defaultAnthropicBaseUrl = 'https://api.anthropic.com';

/**
 * Values read since the last configuration event, while keepSettingsUntilChanged() is on.
 * Reading a setting costs more than the rest of a tool call (team mode is checked at each).
 * Kept exactly: the extension host replaces its copy of the configuration and fires
 * onDidChangeConfiguration in one synchronous step, and this listener is the first of this
 * extension's (activate() subscribes it before any other service exists), so the kept values
 * are gone before any code of ours runs after a change.
 */
let kept: Map<string, unknown> | undefined;

/** Keeps read values until the next configuration event; call first in activate(). */
export function keepSettingsUntilChanged(): vscode.Disposable {
  const values = new Map<string, unknown>();
  kept = values;
  const watch = vscode.workspace.onDidChangeConfiguration(() => values.clear());
  return {
    dispose: () => {
      watch.dispose();
      if (kept === values) kept = undefined;
    },
  };
}

function read<T>(key: string, fallback: T): T {
  if (kept?.has(key)) return kept.get(key) as T;
  const value = userValue(vscode.workspace.getConfiguration(section).inspect<T>(key), fallback);
  kept?.set(key, value);
  return value;
}

function config(): { get<T>(key: string, fallback: T): T } {
  return { get: read };
}

export const settings = {
  /** VS Code's own switch for opening an extension's walkthrough when it is installed. */
  openWalkthroughOnInstall: (): boolean =>
    userValue(vscode.workspace.getConfiguration('workbench.welcomePage').inspect<boolean>('walkthroughs.openOnInstall'), true) === true,
  identityProvider(): IdentityProviderKind {
    const value = config().get<string>('identity.provider', 'github');
    return isIdentityProviderKind(value) ? value : 'github';
  },
  oidcIssuer: (): string => config().get<string>('oidc.issuer', '').trim(),
  oidcClientId: (): string => config().get<string>('oidc.clientId', '').trim(),
  scalekitEnvironmentUrl: (): string => config().get<string>('scalekit.environmentUrl', '').trim().replace(/\/+$/, ''),
  scalekitClientId: (): string => config().get<string>('scalekit.clientId', '').trim(),
  /** The team gateway's base URL; empty when team mode is off. Application scope: a workspace cannot redirect where your token goes. */
  gatewayUrl: (): string => config().get<string>('gateway.url', '').trim().replace(/\/+$/, ''),
  /** Team mode: model requests go through the gateway's relay instead of the user's own key. */
  gatewayRelayModel: (): boolean => config().get<boolean>('gateway.relayModel', false) === true,
  anthropicBaseUrl: (): string => config().get<string>('anthropic.baseUrl', defaultAnthropicBaseUrl).trim().replace(/\/+$/, '') || defaultAnthropicBaseUrl,
  connections(): string[] {
    const value = config().get<unknown>('connections', ['posthog', 'asana']);
    if (!Array.isArray(value)) return ['posthog', 'asana'];
    const names = value
      .filter((v): v is string => typeof v === 'string')
      .map((v) => v.trim())
      .filter((v) => /^[A-Za-z0-9_.-]{1,64}$/.test(v));
    return [...new Set(names)];
  },
  model: (): string => config().get<string>('model', defaultModel).trim() || defaultModel,
  maxSteps(): number {
    const value = config().get<number>('maxSteps', 12);
    return Number.isFinite(value) ? Math.min(50, Math.max(1, Math.floor(value))) : 12;
  },
  enterprise(): { mcpServerUrl: string; idpTokenEndpoint: string; clientId: string; resourceClientId: string; scopes: string[] } | undefined {
    const raw = config().get<unknown>('enterprise.posthogMcp', {});
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
    const value = raw as Record<string, unknown>;
    const text = (key: string) => (typeof value[key] === 'string' ? value[key].trim() : '');
    if (!text('idpTokenEndpoint') && !text('clientId')) return undefined; // Not set up: the feature is off.
    const scopes = Array.isArray(value.scopes) ? value.scopes.filter((s): s is string => typeof s === 'string') : [];
    return {
      mcpServerUrl: text('mcpServerUrl'),
      idpTokenEndpoint: text('idpTokenEndpoint'),
      clientId: text('clientId'),
      resourceClientId: text('resourceClientId'),
      scopes,
    };
  },
  readOnly: (): boolean => config().get<boolean>('readOnly', false) === true,
  toolRules(): Record<string, ToolRule> {
    const raw = config().get<unknown>('toolRules', {});
    // No prototype: a tool named "constructor" must not find Object's.
    const rules: Record<string, ToolRule> = Object.create(null) as Record<string, ToolRule>;
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      for (const [tool, rule] of Object.entries(raw as Record<string, unknown>)) {
        if (rule === 'ask' || rule === 'allow' || rule === 'deny') rules[tool] = rule;
      }
    }
    return rules;
  },
  affects(event: vscode.ConfigurationChangeEvent, key: string): boolean {
    return event.affectsConfiguration(`${section}.${key}`);
  },
};
