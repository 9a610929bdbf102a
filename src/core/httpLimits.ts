import { HttpLimitError } from './errors';
// A timeout and a response size limit for the small JSON requests of discovery, token and
// OIDC flows. The wrapped fetch reads the whole body within both limits and hands back a
// Response over the bytes it read. Not for streams (the MCP transport keeps its own fetch).

export interface HttpLimits {
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

export const defaultHttpLimits: HttpLimits = { timeoutMs: 15_000, maxResponseBytes: 1024 * 1024 };

export type LimitedFetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;
const size = (bytes: number): string => (bytes >= 1024 * 1024 ? `${Number((bytes / (1024 * 1024)).toFixed(1))} MB` : `${Math.round(bytes / 1024)} KB`);

function where(input: string | URL): string {
  try {
    const url = new URL(typeof input === 'string' ? input : input.href);
    return `${url.origin}${url.pathname}`;
  } catch {
    return 'the server';
  }
}

export function limitedFetch(fetchFn: LimitedFetchLike, limits: Partial<HttpLimits> = {}): LimitedFetchLike {
  const { timeoutMs, maxResponseBytes } = { ...defaultHttpLimits, ...limits };
  return async (input, init) => {
    const target = where(input);
    const controller = new AbortController();
    const outer = init?.signal;
    if (outer?.aborted) controller.abort(outer.reason);
    else outer?.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new HttpLimitError('timeout', `no complete answer from ${target} within ${seconds(timeoutMs)}`);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    const exchange = (async () => {
      const response = await fetchFn(input, { ...init, signal: controller.signal });
      const body = await readLimited(response, maxResponseBytes, target);
      const empty = response.status === 204 || response.status === 205 || response.status === 304;
      return new Response(empty ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
    })();
    exchange.catch(() => undefined); // The race below reports it; a late failure must not go unhandled.
    try {
      return await Promise.race([exchange, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };
}

async function readLimited(response: Response, max: number, target: string): Promise<Uint8Array> {
  const tooLarge = () => new HttpLimitError('tooLarge', `the answer from ${target} is larger than ${size(max)}`);
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array(0);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
