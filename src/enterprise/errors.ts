import { OnBehalfError, isErrorKind } from '../core/errors';

// Typed errors of the enterprise (ID-JAG) path. Every OAuth error the IdP or PostHog's
// authorization server documents, and the MCP server's insufficient_scope, gets its own
// class with a message that says what happened and a hint that says what to do.
// Messages never carry tokens, assertions or secrets: server-provided descriptions go
// through redact() first.

/** Where an error came from. */
export type EnterpriseStage = 'identity provider' | 'PostHog authorization server' | 'PostHog MCP server';

/** The PostHog MCP server answers insufficient_scope unless all three are granted. */
export const BOOTSTRAP_SCOPES: readonly string[] = ['user:read', 'organization:read', 'project:read'];

const jwtLike = /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g;
const longOpaque = /[A-Za-z0-9_\-+/=]{40,}/g;

/**
 * A server-provided text made safe to show: anything shaped like a JWT or a long opaque
 * token is replaced, the given secrets are removed, and the length is capped.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  out = out.replace(jwtLike, '[redacted]').replace(longOpaque, '[redacted]');
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > 300 ? `${out.slice(0, 297)}...` : out;
}

function said(description: string | undefined): string {
  return description ? ` (it said: "${redact(description)}")` : '';
}

export class EnterpriseNotConfiguredError extends OnBehalfError {
  readonly kind = 'enterpriseNotConfigured';
  constructor(readonly missing: readonly string[]) {
    super(
      `Enterprise PostHog access is not set up: missing ${missing.join(', ')}.`,
      'Set the identity provider token endpoint and client id for enterprise-managed authorization in Settings.',
    );
  }
  static override is(value: unknown): value is EnterpriseNotConfiguredError {
    return isErrorKind(value, 'enterpriseNotConfigured');
  }
}

export class EnterpriseNoSessionError extends OnBehalfError {
  readonly kind = 'enterpriseNoSession';
  constructor(message = 'Enterprise PostHog access needs your company sign-in (OIDC), and you are not signed in.') {
    super(message, 'Set "onbehalf.identity.provider" to "oidc" and run "OnBehalf: Sign In".');
  }
  static override is(value: unknown): value is EnterpriseNoSessionError {
    return isErrorKind(value, 'enterpriseNoSession');
  }
}

export class EnterpriseDiscoveryError extends OnBehalfError {
  readonly kind = 'enterpriseDiscovery';
  constructor(detail: string) {
    super(`Could not discover how to authorize with the PostHog MCP server: ${detail}`, 'Check the PostHog MCP server URL setting, then retry.');
  }
  static override is(value: unknown): value is EnterpriseDiscoveryError {
    return isErrorKind(value, 'enterpriseDiscovery');
  }
}

export class EnterpriseProfileUnsupportedError extends OnBehalfError {
  readonly kind = 'enterpriseProfileUnsupported';
  constructor(
    readonly authorizationServer: string,
    readonly advertised: readonly string[],
    readonly profile: string,
  ) {
    super(
      `The authorization server ${authorizationServer} does not support enterprise-managed authorization: ` +
        `its metadata does not list ${profile} in authorization_grant_profiles_supported` +
        (advertised.length ? ` (it lists ${advertised.join(', ')}).` : ' (it lists none).'),
      'Ask your PostHog administrator to enable enterprise-managed authorization (ID-JAG) for your organization, or connect PostHog through Scalekit instead.',
    );
  }
  static override is(value: unknown): value is EnterpriseProfileUnsupportedError {
    return isErrorKind(value, 'enterpriseProfileUnsupported');
  }
}

/**
 * Why an invalid_grant happened, as far as the server's description tells:
 * - expired: the ID-JAG's exp passed (beyond the server's clock-skew tolerance)
 * - notYetValid: its iat/nbf lies in the server's future: the clocks disagree (skew)
 * - replayed: its jti was already used (an ID-JAG works once)
 * - badSignature: the signature does not verify against the IdP's keys
 * - subjectToken: the IdP refused the ID token (expired or not its own)
 * - clientMismatch: the client id sent to PostHog is not the one the ID-JAG names
 * - other: anything else
 */
export type InvalidGrantReason = 'expired' | 'notYetValid' | 'replayed' | 'badSignature' | 'subjectToken' | 'clientMismatch' | 'other';

const invalidGrantText: Record<InvalidGrantReason, { message: string; hint: string }> = {
  expired: {
    message: 'PostHog refused the identity assertion (ID-JAG) because it had expired by the time it arrived',
    hint: "Check that this computer's clock is correct. If it is, the identity provider's clock or its assertion lifetime is off: tell your IdP administrator.",
  },
  notYetValid: {
    message:
      "PostHog refused the identity assertion (ID-JAG) as not yet valid: the identity provider's clock is ahead of PostHog's by more than the allowed 30 seconds",
    hint: "Ask your IdP administrator to check the identity provider's clock (NTP). Retrying will not help until the clocks agree.",
  },
  replayed: {
    message: 'PostHog refused an identity assertion (ID-JAG) that had already been used; each one works only once',
    hint: 'OnBehalf already asked for a fresh one and retried. If this keeps happening, your identity provider is handing out cached assertions: tell your IdP administrator.',
  },
  badSignature: {
    message: "PostHog could not verify the identity provider's signature on the identity assertion (ID-JAG)",
    hint: 'Your IdP administrator must make sure PostHog trusts this identity provider and its current signing keys (JWKS).',
  },
  subjectToken: {
    message: 'Your identity provider refused your sign-in token (ID token) for the exchange; it may have expired or belong to another app',
    hint: 'Sign out of OnBehalf and sign in again with your company account.',
  },
  clientMismatch: {
    message: 'PostHog refused the identity assertion (ID-JAG) because it names a different client than the client id OnBehalf sent',
    hint: 'Clear "resourceClientId" in "onbehalf.enterprise.posthogMcp" (PostHog then takes the client from the ID-JAG), or set it to the client id your identity provider registered for PostHog.',
  },
  other: {
    message: 'The identity assertion (ID-JAG) was refused as an invalid grant',
    hint: 'Retry. If it keeps failing, tell your IdP or PostHog administrator the message above.',
  },
};

export class EnterpriseInvalidGrantError extends OnBehalfError {
  readonly kind = 'enterpriseInvalidGrant';
  constructor(
    readonly stage: EnterpriseStage,
    readonly reason: InvalidGrantReason,
    description?: string,
  ) {
    const text = invalidGrantText[reason];
    super(`${text.message}${said(description)}.`, text.hint);
  }
  static override is(value: unknown): value is EnterpriseInvalidGrantError {
    return isErrorKind(value, 'enterpriseInvalidGrant');
  }
}

export class EnterpriseInvalidTargetError extends OnBehalfError {
  readonly kind = 'enterpriseInvalidTarget';
  constructor(
    readonly stage: EnterpriseStage,
    readonly resource: string,
    readonly audience: string,
    description?: string,
  ) {
    super(
      stage === 'identity provider'
        ? `Your identity provider will not issue access to the PostHog MCP server ${resource} (authorization server ${audience})${said(description)}.`
        : `PostHog's authorization server does not issue tokens for ${resource}${said(description)}.`,
      stage === 'identity provider'
        ? 'Ask your IdP administrator to allow OnBehalf to reach this PostHog MCP server, or check the MCP server URL setting.'
        : 'Check the PostHog MCP server URL setting; it must be the MCP server your organization enabled.',
    );
  }
  static override is(value: unknown): value is EnterpriseInvalidTargetError {
    return isErrorKind(value, 'enterpriseInvalidTarget');
  }
}

export class EnterpriseInvalidClientError extends OnBehalfError {
  readonly kind = 'enterpriseInvalidClient';
  constructor(
    readonly stage: EnterpriseStage,
    readonly clientId: string,
    description?: string,
  ) {
    super(
      stage === 'identity provider'
        ? `Your identity provider rejected OnBehalf's client credentials (client id "${clientId}")${said(description)}.`
        : `PostHog does not accept OnBehalf's client id "${clientId}" for enterprise-managed authorization${said(description)}.`,
      stage === 'identity provider'
        ? 'Check the client id setting and store the client secret again.'
        : 'Ask your PostHog administrator to register this client id for enterprise-managed authorization.',
    );
  }
  static override is(value: unknown): value is EnterpriseInvalidClientError {
    return isErrorKind(value, 'enterpriseInvalidClient');
  }
}

export class EnterpriseAccessDeniedError extends OnBehalfError {
  readonly kind = 'enterpriseAccessDenied';
  constructor(
    readonly stage: EnterpriseStage,
    description?: string,
  ) {
    super(
      stage === 'identity provider'
        ? `Your identity provider's policy does not let you use PostHog through OnBehalf${said(description)}.`
        : `PostHog denied access for your account${said(description)}.`,
      stage === 'identity provider'
        ? 'Ask your IdP administrator to assign you to OnBehalf and PostHog.'
        : 'Ask your PostHog administrator to add your account to the organization.',
    );
  }
  static override is(value: unknown): value is EnterpriseAccessDeniedError {
    return isErrorKind(value, 'enterpriseAccessDenied');
  }
}

export class EnterpriseInsufficientScopeError extends OnBehalfError {
  readonly kind = 'enterpriseInsufficientScope';
  constructor(
    /** Scopes the server asked for that the token lacks (all it asked for when unknown). */
    readonly missing: readonly string[],
    /** The scope list of the server's challenge. */
    readonly required: readonly string[],
    /** What the authorization server granted, when it said. */
    readonly granted: readonly string[] | undefined,
  ) {
    const bootstrapMissing = missing.filter((s) => BOOTSTRAP_SCOPES.includes(s));
    super(
      `PostHog's MCP server needs scopes that were not granted: ${missing.join(', ') || required.join(', ')}` +
        (bootstrapMissing.length ? ` (every session needs ${BOOTSTRAP_SCOPES.join(', ')})` : '') +
        (granted ? `. Granted: ${granted.length ? granted.join(', ') : 'none'}.` : '.'),
      `Ask your IdP administrator to grant OnBehalf the PostHog scopes ${(missing.length ? missing : required).join(', ')}.`,
    );
  }
  static override is(value: unknown): value is EnterpriseInsufficientScopeError {
    return isErrorKind(value, 'enterpriseInsufficientScope');
  }
}

export class EnterpriseTokenRejectedError extends OnBehalfError {
  readonly kind = 'enterpriseTokenRejected';
  constructor(description?: string) {
    super(
      `PostHog's MCP server rejected a freshly issued access token${said(description)}.`,
      'Retry in a moment. If it persists, the MCP server and its authorization server disagree: tell your PostHog administrator.',
    );
  }
  static override is(value: unknown): value is EnterpriseTokenRejectedError {
    return isErrorKind(value, 'enterpriseTokenRejected');
  }
}

export class EnterpriseUnreachableError extends OnBehalfError {
  readonly kind = 'enterpriseUnreachable';
  constructor(
    readonly service: EnterpriseStage,
    detail: string,
  ) {
    super(`The ${service} is unreachable or failing right now (${redact(detail)}).`, 'Check your network and the configured URLs, then retry.');
  }
  static override is(value: unknown): value is EnterpriseUnreachableError {
    return isErrorKind(value, 'enterpriseUnreachable');
  }
}

export class EnterpriseProtocolError extends OnBehalfError {
  readonly kind = 'enterpriseProtocol';
  constructor(
    readonly service: EnterpriseStage,
    detail: string,
  ) {
    super(
      `The ${service} answered in a way OnBehalf does not understand: ${redact(detail)}`,
      'Tell your administrator; the server may not implement enterprise-managed authorization correctly.',
    );
  }
  static override is(value: unknown): value is EnterpriseProtocolError {
    return isErrorKind(value, 'enterpriseProtocol');
  }
}

/** The client was closed (sign-out, account switch or a setting change); nothing more runs on it. */
export class EnterpriseClosedError extends Error {
  constructor() {
    super('The enterprise PostHog connection was closed (sign-out, account switch or a setting change).');
  }
}
