import { MissingCredentialsError } from './errors';
import type { ConnectionStatus } from './connectionStatus';

// What the user should do next, for the status bar and the chat's blocker banner.

export type NextStep =
  | { readonly kind: 'signIn' }
  | { readonly kind: 'setAnthropicKey' }
  | { readonly kind: 'setScalekitSecret' }
  | { readonly kind: 'configureScalekit' }
  | { readonly kind: 'connect'; readonly connection: string }
  | { readonly kind: 'none' };

export interface SetupFacts {
  readonly signedIn: boolean;
  readonly problem?: Error;
  readonly hasAnthropicKey: boolean;
  readonly connections: readonly { readonly name: string; readonly status: ConnectionStatus }[];
  /** Any Scalekit setting or the Scalekit secret is set. Absent means yes. */
  readonly scalekitConfigured?: boolean;
  /** The enterprise PostHog connection (ID-JAG) is connected for the signed-in user. */
  readonly enterpriseActive?: boolean;
}

/**
 * Enterprise-only setup: the user has an active enterprise connection and has set up no
 * part of Scalekit, so Scalekit is not missing, just unused.
 */
export function scalekitUnused(facts: Pick<SetupFacts, 'scalekitConfigured' | 'enterpriseActive'>): boolean {
  return facts.scalekitConfigured === false && facts.enterpriseActive === true;
}

export function nextStepFor(facts: SetupFacts): NextStep {
  if (!facts.signedIn) return { kind: 'signIn' };
  if (scalekitUnused(facts)) return facts.hasAnthropicKey ? { kind: 'none' } : { kind: 'setAnthropicKey' };
  if (MissingCredentialsError.is(facts.problem)) {
    return facts.problem.missing === 'scalekitClientSecret' ? { kind: 'setScalekitSecret' } : { kind: 'configureScalekit' };
  }
  if (!facts.hasAnthropicKey) return { kind: 'setAnthropicKey' };
  const inactive = facts.connections.find((c) => c.status !== 'ACTIVE' && c.status !== 'UNKNOWN');
  if (inactive) return { kind: 'connect', connection: inactive.name };
  return { kind: 'none' };
}
