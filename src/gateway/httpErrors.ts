import type { GatewayErrorCode } from './protocol';

// A refusal the gateway answers with: an HTTP status, a contract error code and a message
// worded for the user. Built by a function (error classes live only in the errors modules).

export interface GatewayHttpError extends Error {
  readonly statusCode: number;
  readonly gatewayCode: GatewayErrorCode;
  /** Seconds, for 429 and 503 answers. */
  readonly retryAfterSeconds?: number;
}

export function gatewayError(statusCode: number, code: GatewayErrorCode, message: string, retryAfterSeconds?: number): GatewayHttpError {
  return Object.assign(new Error(message), {
    statusCode,
    gatewayCode: code,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  });
}

export function isGatewayError(value: unknown): value is GatewayHttpError {
  return value instanceof Error && typeof (value as { gatewayCode?: unknown }).gatewayCode === 'string';
}

export const invalidToken = (message: string): GatewayHttpError => gatewayError(401, 'invalid_token', message);
