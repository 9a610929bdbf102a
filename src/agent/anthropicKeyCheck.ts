import Anthropic from '@anthropic-ai/sdk';
import { InsecureUrlError, InvalidCredentialsError, RateLimitedError, ServiceUnavailableError, type OnBehalfError } from '../core/errors';
import { checkSecureUrl } from '../core/secureUrl';

// Checks an Anthropic key before it replaces the stored one. Listing models is free and
// needs a valid key, so it is the cheapest honest check.

/** An Anthropic client, refused when the base URL (where the key goes) is not https or loopback. */
export function anthropicClient(apiKey: string, baseURL: string, options: { maxRetries: number; timeout?: number }): Anthropic {
  checkSecureUrl(baseURL, 'The Anthropic base URL ("onbehalf.anthropic.baseUrl")', (problem) => new InsecureUrlError(problem, 'Fix "onbehalf.anthropic.baseUrl" in your user settings.'));
  return new Anthropic({ apiKey, baseURL, ...options });
}

export async function checkAnthropicKey(apiKey: string, baseURL: string): Promise<void> {
  const client = anthropicClient(apiKey, baseURL, { maxRetries: 0, timeout: 15_000 });
  try {
    await client.models.list({ limit: 1 });
  } catch (error) {
    throw mapAnthropicError(error);
  }
}

export function mapAnthropicError(error: unknown): OnBehalfError {
  if (error instanceof Anthropic.AuthenticationError || error instanceof Anthropic.PermissionDeniedError) {
    return new InvalidCredentialsError('anthropicApiKey', 'Anthropic did not accept this key.');
  }
  if (error instanceof Anthropic.RateLimitError) return new RateLimitedError('Anthropic', 'HTTP 429');
  if (error instanceof Anthropic.APIConnectionError) return new ServiceUnavailableError('Anthropic', 'no connection');
  if (error instanceof Anthropic.APIError) return new ServiceUnavailableError('Anthropic', `HTTP ${error.status ?? 'error'}`);
  return new ServiceUnavailableError('Anthropic', error instanceof Error ? error.name : 'unknown error');
}
