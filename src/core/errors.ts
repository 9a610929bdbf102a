// Typed errors the UI can turn into a clear, actionable message. Each has a static
// `is()` so callers never depend on instanceof across bundles.

export type ErrorKind =
  | 'oidc'
  | 'scalekitRejected'
  | 'connectFailed'
  | 'unknownConnection'
  | 'unknownScalekitConnection'
  | 'notSignedIn'
  | 'identityChanged'
  | 'missingCredentials'
  | 'invalidCredentials'
  | 'serviceUnavailable'
  | 'rateLimited'
  | 'connectionInactive'
  | 'connectState'
  | 'verifyRejected'
  | 'toolFailed'
  | 'outcomeUnknown'
  | 'modelRequestRejected'
  | 'enterpriseNotConfigured'
  | 'enterpriseNoSession'
  | 'enterpriseDiscovery'
  | 'enterpriseProfileUnsupported'
  | 'enterpriseInvalidGrant'
  | 'enterpriseInvalidTarget'
  | 'enterpriseInvalidClient'
  | 'enterpriseAccessDenied'
  | 'enterpriseInsufficientScope'
  | 'enterpriseTokenRejected'
  | 'enterpriseUnreachable'
  | 'enterpriseProtocol'
  | 'insecureUrl'
  | 'badInput';

export abstract class OnBehalfError extends Error {
  abstract readonly kind: ErrorKind;
  /** What the user can do about it, shown beside the message. */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
    // Bundlers may rename classes (_ConnectStateError); keep the readable name for logs.
    Object.defineProperty(this, 'name', { value: new.target.name.replace(/^_+/, ''), enumerable: false });
  }
  static is(value: unknown): value is OnBehalfError {
    return value instanceof Error && typeof (value as { kind?: unknown }).kind === 'string' && 'hint' in value;
  }
}

/**
 * Type guard by kind, not instanceof: the extension bundle and code loaded beside it
 * (tests in the extension host) hold different copies of these classes.
 */
export function isErrorKind<K extends ErrorKind>(value: unknown, kind: K): value is OnBehalfError & { kind: K } {
  return OnBehalfError.is(value) && value.kind === kind;
}

export class NotSignedInError extends OnBehalfError {
  readonly kind = 'notSignedIn';
  constructor(message = 'You are not signed in.') {
    super(message, 'Run "OnBehalf: Sign In".');
  }
  static override is(value: unknown): value is NotSignedInError {
    return isErrorKind(value, 'notSignedIn');
  }
}

/** The signed-in identity is no longer the one a call, a turn or a choice belonged to. */
export class IdentityChangedError extends OnBehalfError {
  readonly kind = 'identityChanged';
  constructor(message = 'The signed-in account changed before this call ran, so it did not run.') {
    super(message, 'Send your message again as the account signed in now.');
  }
  static override is(value: unknown): value is IdentityChangedError {
    return isErrorKind(value, 'identityChanged');
  }
}

export type CredentialName = 'anthropicApiKey' | 'scalekitClientSecret' | 'scalekitEnvironmentUrl' | 'scalekitClientId' | 'enterpriseClientSecret';

const credentialHints: Record<CredentialName, string> = {
  anthropicApiKey: 'Run "OnBehalf: Set Anthropic API Key".',
  scalekitClientSecret: 'Run "OnBehalf: Set Scalekit Client Secret".',
  scalekitEnvironmentUrl: 'Set "onbehalf.scalekit.environmentUrl" in Settings.',
  scalekitClientId: 'Set "onbehalf.scalekit.clientId" in Settings.',
  enterpriseClientSecret: 'Run "OnBehalf: Set Enterprise IdP Client Secret".',
};

export class MissingCredentialsError extends OnBehalfError {
  readonly kind = 'missingCredentials';
  constructor(readonly missing: CredentialName) {
    super(`OnBehalf is missing ${describeCredential(missing)}.`, credentialHints[missing]);
  }
  static override is(value: unknown): value is MissingCredentialsError {
    return isErrorKind(value, 'missingCredentials');
  }
}

export class InvalidCredentialsError extends OnBehalfError {
  readonly kind = 'invalidCredentials';
  constructor(
    readonly credential: CredentialName,
    detail: string,
  ) {
    super(`The ${describeCredential(credential)} was rejected: ${detail}`, credentialHints[credential]);
  }
  static override is(value: unknown): value is InvalidCredentialsError {
    return isErrorKind(value, 'invalidCredentials');
  }
}

export class ServiceUnavailableError extends OnBehalfError {
  readonly kind = 'serviceUnavailable';
  constructor(
    readonly service: 'Scalekit' | 'Anthropic' | 'Identity provider' | 'The OnBehalf gateway',
    detail: string,
  ) {
    super(`${service} is unreachable right now (${detail}).`, 'Check your network and the configured URL, then retry.');
  }
  static override is(value: unknown): value is ServiceUnavailableError {
    return isErrorKind(value, 'serviceUnavailable');
  }
}

export class RateLimitedError extends OnBehalfError {
  readonly kind = 'rateLimited';
  constructor(
    readonly service: string,
    detail: string,
  ) {
    super(`${service} is rate limiting requests (${detail}).`, 'Wait a moment, then retry.');
  }
  static override is(value: unknown): value is RateLimitedError {
    return isErrorKind(value, 'rateLimited');
  }
}

/** The Messages API refused the request itself (400, 404, 413): Retry would send the same thing. */
export class ModelRequestRejectedError extends OnBehalfError {
  readonly kind = 'modelRequestRejected';
  constructor(message: string, hint: string) {
    super(message, hint);
  }
  static override is(value: unknown): value is ModelRequestRejectedError {
    return isErrorKind(value, 'modelRequestRejected');
  }
}

export class ConnectionInactiveError extends OnBehalfError {
  readonly kind = 'connectionInactive';
  constructor(
    readonly connection: string,
    readonly status: string,
  ) {
    super(
      status === 'REVOKED'
        ? `${connection} no longer accepts your connection's authorization (it was revoked or expired there).`
        : `Your ${connection} connection is ${status.toLowerCase().replace(/_/g, ' ')}.`,
      `Connect or re-authorize ${connection}, then retry.`,
    );
  }
  static override is(value: unknown): value is ConnectionInactiveError {
    return isErrorKind(value, 'connectionInactive');
  }
}

export type ConnectStateProblem = 'unknown' | 'expired' | 'replayed' | 'otherIdentity' | 'malformed';

const stateMessages: Record<ConnectStateProblem, string> = {
  unknown: 'This connection link was not started from this window.',
  expired: 'This connection link expired (links last 10 minutes).',
  replayed: 'This connection link was already used.',
  otherIdentity: 'This connection link was started by a different signed-in user.',
  malformed: 'This connection callback is missing its parameters.',
};

export class ConnectStateError extends OnBehalfError {
  readonly kind = 'connectState';
  constructor(readonly problem: ConnectStateProblem) {
    super(stateMessages[problem], 'Start the connection again from the Connections view.');
  }
  static override is(value: unknown): value is ConnectStateError {
    return isErrorKind(value, 'connectState');
  }
}

export class VerifyRejectedError extends OnBehalfError {
  readonly kind = 'verifyRejected';
  constructor(
    readonly connection: string,
    detail: string,
  ) {
    super(`Scalekit did not confirm your ${connection} connection: ${detail}`, 'Start the connection again from the Connections view.');
  }
  static override is(value: unknown): value is VerifyRejectedError {
    return isErrorKind(value, 'verifyRejected');
  }
}

export class ToolFailedError extends OnBehalfError {
  readonly kind = 'toolFailed';
  constructor(
    readonly toolName: string,
    readonly detail: string,
    readonly code?: string,
    readonly executionId?: string,
  ) {
    super(`${toolName} failed: ${detail}`);
  }
  static override is(value: unknown): value is ToolFailedError {
    return isErrorKind(value, 'toolFailed');
  }
}

/**
 * A tool call whose answer was lost after it may have reached the provider (the connection
 * dropped, a proxy answered 503, the deadline passed). It is not sent again: a write that
 * already ran would run twice. The person checks the provider instead.
 */
export class OutcomeUnknownError extends OnBehalfError {
  readonly kind = 'outcomeUnknown';
  constructor(
    readonly toolName: string,
    /** The provider as the user knows it: "Asana", "PostHog". */
    readonly service: string,
    detail: string,
  ) {
    super(
      `${toolName} may or may not have run: its answer did not arrive (${detail}).`,
      `Check in ${service} before running it again, so a change is not made twice.`,
    );
  }
  static override is(value: unknown): value is OutcomeUnknownError {
    return isErrorKind(value, 'outcomeUnknown');
  }
}

export class BadInputError extends OnBehalfError {
  readonly kind = 'badInput';
  constructor(detail: string) {
    super(detail);
  }
  static override is(value: unknown): value is BadInputError {
    return isErrorKind(value, 'badInput');
  }
}

/** A configured or discovered URL that is not https (and not loopback http). */
export class InsecureUrlError extends OnBehalfError {
  readonly kind = 'insecureUrl';
  constructor(problem: string, hint?: string) {
    super(problem, hint);
  }
  static override is(value: unknown): value is InsecureUrlError {
    return isErrorKind(value, 'insecureUrl');
  }
}

export function describeCredential(name: CredentialName): string {
  switch (name) {
    case 'anthropicApiKey':
      return 'Anthropic API key';
    case 'scalekitClientSecret':
      return 'Scalekit client secret';
    case 'scalekitEnvironmentUrl':
      return 'Scalekit environment URL';
    case 'scalekitClientId':
      return 'Scalekit client id';
    case 'enterpriseClientSecret':
      return 'enterprise IdP client secret';
  }
}

/** A one-line message for any thrown value, safe to show (never includes request bodies). */
export function messageOf(error: unknown): string {
  if (OnBehalfError.is(error)) return error.hint ? `${error.message} ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export class OidcError extends OnBehalfError {
  readonly kind = 'oidc';
  constructor(message: string) {
    super(message, 'Check "onbehalf.oidc.issuer" and "onbehalf.oidc.clientId", then sign in again.');
  }
  static override is(value: unknown): value is OidcError {
    return isErrorKind(value, 'oidc');
  }
}

/** A request ran over a limit; its message names the host and the limit. */
export class HttpLimitError extends Error {
  constructor(
    readonly reason: 'timeout' | 'tooLarge',
    message: string,
  ) {
    super(message);
    this.name = 'HttpLimitError';
  }
}

/** Connecting an account failed for a reason the user can act on. */
export class OnBehalfConnectError extends OnBehalfError {
  readonly kind = 'connectFailed';
}

/** A command named a connection that is not in the user's configured list. */
export class UnknownConnectionError extends OnBehalfError {
  readonly kind = 'unknownConnection';
  constructor(name: string) {
    super(`"${name.slice(0, 64)}" is not one of your configured connections.`, 'Check the "onbehalf.connections" setting.');
  }
}

/** Scalekit understood the request and refused it (not found, not allowed, bad argument). */
export class ScalekitRejectedError extends OnBehalfError {
  readonly kind = 'scalekitRejected';
  constructor(readonly detail: string) {
    super(`Scalekit refused the request: ${detail}`);
  }
  static override is(value: unknown): value is ScalekitRejectedError {
    return isErrorKind(value, 'scalekitRejected');
  }
}

/** A tool schema `pattern` RE2 cannot run in linear time (lookaround, backreferences): the call is refused. */
export class UncheckablePatternError extends Error {
  constructor(readonly pattern: string) {
    super(`pattern ${JSON.stringify(pattern)} cannot be checked safely`);
  }
}

/** Scalekit has no connection of this name: the configured name differs from the dashboard's. */
export class UnknownScalekitConnectionError extends OnBehalfError {
  readonly kind = 'unknownScalekitConnection';
  constructor(readonly connection: string) {
    super(
      `Scalekit has no connection named "${connection.slice(0, 64)}".`,
      'Connection names must match the Scalekit dashboard exactly (case included): check "onbehalf.connections".',
    );
  }
  static override is(value: unknown): value is UnknownScalekitConnectionError {
    return isErrorKind(value, 'unknownScalekitConnection');
  }
}
