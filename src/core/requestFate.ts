// Whether a failed request can have reached the other side. A tool call that may have run is
// never sent again (a write would run twice); one that provably never left may be.

/** Errors raised before a request is written: nothing reached the server. */
const beforeSendingCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL']);

/** The Node/undici error code behind a fetch or gRPC failure (`error.cause.code`), if any. */
export function causeCodeOf(error: unknown): string | undefined {
  const code = (error as { cause?: { code?: unknown } } | null | undefined)?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True only when the failure shows the request never left this machine. */
export function failedBeforeSending(error: unknown): boolean {
  return beforeSendingCodes.has(causeCodeOf(error) ?? '');
}
