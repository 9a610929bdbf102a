import {
  BadInputError,
  NotSignedInError,
  OnBehalfConnectError,
  OnBehalfError,
  RateLimitedError,
  ServiceUnavailableError,
  ToolFailedError,
  isErrorKind,
} from '../core/errors';
import type { GatewayErrorBody } from '../gateway/protocol';
import { causeCodeOf } from '../core/requestFate';

// What the team gateway's answers become: the extension's existing typed errors, with the
// gateway's own user-worded message, so the chat, the tree and the commands show them as
// they show any other failure (a retryable one keeps its Retry button).

const gateway = 'The OnBehalf gateway';

/** The gateway derived another identifier from this window's token than the window did. */
export class GatewayIdentityMismatchError extends OnBehalfError {
  readonly kind = 'identityChanged';
  constructor(
    readonly ours: string,
    readonly theirs: string,
  ) {
    super(
      `The gateway sees you as someone else (${theirs.slice(0, 120)}) than this window does (${ours.slice(0, 120)}), so nothing runs through it.`,
      'Sign out and sign in again; if it persists, the gateway and "onbehalf.oidc.issuer" name different issuers: tell your administrator.',
    );
  }
  static override is(value: unknown): value is GatewayIdentityMismatchError {
    return isErrorKind(value, 'identityChanged') && 'theirs' in value;
  }
}

/** The gateway trusts another identity provider (or issuer) than the one this window signs in with. */
export class GatewayProviderMismatchError extends OnBehalfError {
  readonly kind = 'oidc';
  constructor(detail: string) {
    super(
      `The OnBehalf gateway does not accept this window's sign-in: ${detail}`,
      'Set "onbehalf.identity.provider" (and "onbehalf.oidc.issuer") to what your gateway expects, then sign in again.',
    );
  }
}

/** What a request was about, for the wording of the error. */
export interface GatewayErrorContext {
  /** The tool a tools/call ran, when it was one. */
  readonly toolName?: string;
  /** "connections", "verify", "audit", … for the unreachable message. */
  readonly operation?: string;
}

/** The `{ error: { code, message } }` of a gateway answer, when it has one. */
export function parseGatewayError(text: string): GatewayErrorBody['error'] | undefined {
  try {
    const body = JSON.parse(text) as Partial<GatewayErrorBody> | null;
    const error = body?.error;
    if (error && typeof error.code === 'string' && typeof error.message === 'string') return { code: error.code, message: error.message.slice(0, 500) };
  } catch {
    // Not the gateway's JSON (a proxy's HTML page, say): the status decides.
  }
  return undefined;
}

/** Seconds from a Retry-After header (seconds or an HTTP date), when present. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined;
}

/** A non-2xx gateway answer as a typed error. */
export function gatewayHttpError(status: number, bodyText: string, retryAfter: string | null, context: GatewayErrorContext = {}): OnBehalfError {
  const parsed = parseGatewayError(bodyText);
  const message = parsed?.message ?? `it answered HTTP ${status}`;
  const code = parsed?.code;
  if (status === 401) return new NotSignedInError(`The OnBehalf gateway did not accept your sign-in (${message}).`);
  if (status === 429) {
    const wait = retryAfterSeconds(retryAfter);
    return new RateLimitedError(gateway, wait !== undefined ? `${message}; retry in ${wait} s` : message);
  }
  if (status >= 500 || code === 'scalekit_unavailable' || code === 'audit_unavailable' || code === 'unavailable')
    return new ServiceUnavailableError(gateway, message);
  if (context.toolName) return new ToolFailedError(context.toolName, message, code ?? `http_${status}`);
  if (code === 'state_invalid') return new OnBehalfConnectError(message, 'Start the connection again from the Connections view.');
  if (status === 403) return new OnBehalfConnectError(message, 'Ask your OnBehalf gateway administrator if you need this.');
  return new BadInputError(`The OnBehalf gateway refused the request: ${message}`);
}

/** A request that never got an answer (refused, reset, DNS, timeout) as a typed error. */
export function gatewayUnreachable(baseUrl: string, error: unknown): ServiceUnavailableError {
  const detail = causeCodeOf(error) ?? (error instanceof Error ? error.message : String(error));
  let host = baseUrl;
  try {
    host = new URL(baseUrl).host;
  } catch {
    // The URL was checked before any request; keep it whole.
  }
  return new ServiceUnavailableError(gateway, `${host}: ${detail.slice(0, 200)}`);
}
