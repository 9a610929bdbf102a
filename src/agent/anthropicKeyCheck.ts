import Anthropic from '@anthropic-ai/sdk';
import { InvalidCredentialsError, RateLimitedError, ServiceUnavailableError, type OnBehalfError } from '../core/errors';

// Checks an Anthropic key before it replaces the stored one. Listing models is free and
// needs a valid key, so it is the cheapest honest check.

export async function checkAnthropicKey(apiKey: string, baseURL: string): Promise<void> {
  const client = new Anthropic({ apiKey, baseURL, maxRetries: 0, timeout: 15_000 });
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
