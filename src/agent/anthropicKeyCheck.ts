import type Anthropic from '@anthropic-ai/sdk';
import { anthropicSdk } from '../core/sdkLoader';
import {
  InsecureUrlError,
  InvalidCredentialsError,
  ModelRequestRejectedError,
  RateLimitedError,
  ServiceUnavailableError,
  type OnBehalfError,
} from '../core/errors';
import { checkSecureUrl } from '../core/secureUrl';

// Checks an Anthropic key before it replaces the stored one. Listing models is free and
// needs a valid key, so it is the cheapest honest check.

/**
 * The SDK's OpenTelemetry instrumentation is off: OnBehalf exports no traces from the editor,
 * and the global tracer is shared with every extension in the host, so none of them sees our
 * requests (or adds trace headers to them), and no request pays for building spans.
 */
const noTelemetry = { openTelemetry: false } as const;

/** An Anthropic client, refused when the base URL (where the key goes) is not https or loopback. */
export function anthropicClient(apiKey: string, baseURL: string, options: { maxRetries: number; timeout?: number }): Anthropic {
  checkSecureUrl(
    baseURL,
    'The Anthropic base URL ("onbehalf.anthropic.baseUrl")',
    (problem) => new InsecureUrlError(problem, 'Fix "onbehalf.anthropic.baseUrl" in your user settings.'),
  );
  return new (anthropicSdk().default)({ apiKey, baseURL, ...options, ...noTelemetry });
}

/**
 * A client for the OnBehalf gateway's model relay: the bearer is the user's own sign-in token,
 * never a model key (the gateway holds the organisation's); refused unless https or loopback.
 */
export function anthropicRelayClient(token: string, gatewayUrl: string, options: { maxRetries: number; timeout?: number }): Anthropic {
  checkSecureUrl(
    gatewayUrl,
    'The OnBehalf gateway URL ("onbehalf.gateway.url")',
    (problem) => new InsecureUrlError(problem, 'Fix "onbehalf.gateway.url" in your user settings.'),
  );
  return new (anthropicSdk().default)({ apiKey: null, authToken: token, baseURL: gatewayUrl, ...options, ...noTelemetry });
}

export async function checkAnthropicKey(apiKey: string, baseURL: string): Promise<void> {
  const client = anthropicClient(apiKey, baseURL, { maxRetries: 0, timeout: 15_000 });
  try {
    await client.models.list({ limit: 1 });
  } catch (error) {
    throw mapAnthropicError(error);
  }
}

/** Whether sending the same request again could succeed. */
export function isRetryableModelError(error: OnBehalfError): boolean {
  return error.kind === 'serviceUnavailable' || error.kind === 'rateLimited';
}

/** What the SDK itself would retry: 429, 5xx (529 is "overloaded") and a failed connection. */
export function isTransientModelError(error: unknown): boolean {
  if (error instanceof anthropicSdk().APIConnectionError) return true;
  if (!(error instanceof anthropicSdk().APIError)) return false;
  return error.status === 429 || (typeof error.status === 'number' && error.status >= 500);
}

/** The API's own message for a 4xx, e.g. "prompt is too long: …" (never request content). */
function apiMessage(error: InstanceType<typeof Anthropic.APIError>): string {
  const body: unknown = error.error;
  if (!body || typeof body !== 'object' || !('error' in body)) return '';
  const inner: unknown = body.error;
  if (!inner || typeof inner !== 'object' || !('message' in inner)) return '';
  return typeof inner.message === 'string' ? inner.message : '';
}

export function mapAnthropicError(error: unknown, model?: string): OnBehalfError {
  if (error instanceof anthropicSdk().AuthenticationError || error instanceof anthropicSdk().PermissionDeniedError) {
    return new InvalidCredentialsError('anthropicApiKey', 'Anthropic did not accept this key.');
  }
  if (error instanceof anthropicSdk().RateLimitError) return new RateLimitedError('Anthropic', 'HTTP 429');
  if (error instanceof anthropicSdk().APIConnectionError) return new ServiceUnavailableError('Anthropic', 'no connection');
  // 400, 404 and 413 describe the request, so Retry cannot help; say what is wrong instead.
  if (error instanceof anthropicSdk().NotFoundError) {
    return new ModelRequestRejectedError(
      `The model "${model ?? 'configured'}" does not exist or has been retired.`,
      'Pick another model in the onbehalf.model setting.',
    );
  }
  if (error instanceof anthropicSdk().APIError && error.status === 413) {
    return new ModelRequestRejectedError('The conversation is too large to send to Claude.', 'Start a new chat.');
  }
  if (error instanceof anthropicSdk().BadRequestError) {
    const detail = apiMessage(error);
    if (/prompt is too long|context window|too many tokens/i.test(detail)) {
      return new ModelRequestRejectedError('The conversation is too long for the model.', 'Start a new chat to go on.');
    }
    return new ModelRequestRejectedError(
      `Claude refused the request${detail ? `: ${detail.slice(0, 200)}` : ''}.`,
      'Start a new chat; if it happens again, check the onbehalf.model setting and the extension log.',
    );
  }
  if (error instanceof anthropicSdk().APIError) return new ServiceUnavailableError('Anthropic', `HTTP ${error.status ?? 'error'}`);
  return new ServiceUnavailableError('Anthropic', error instanceof Error ? error.name : 'unknown error');
}
