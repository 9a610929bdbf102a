import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from './database';
import { gatewayError } from './httpErrors';
import type { Caller } from './identity';

// The model relay (optional per organisation): with ANTHROPIC_API_KEY on the gateway, the
// extension sends Messages API requests here and no model key sits on user machines. The
// request body goes to Anthropic as sent; the answer comes back as Anthropic sent it (a
// stream passes through chunk for chunk, so SSE event for event, flushed as it arrives).
// Each identifier has a daily token budget; usage is read from the answer and recorded in
// the database, so every instance counts against the same budget.

export interface RelayConfig {
  readonly apiKey: string;
  /** https://api.anthropic.com unless ANTHROPIC_BASE_URL says otherwise. */
  readonly baseUrl: string;
  /** Input + output tokens per identifier per UTC day; 0: no budget. */
  readonly dailyTokens: number;
}

export const relayMigration = {
  version: 103,
  name: '103_model_usage',
  sql: `
CREATE TABLE model_usage (
  identifier TEXT NOT NULL,
  day DATE NOT NULL,
  input_tokens BIGINT NOT NULL DEFAULT 0,
  output_tokens BIGINT NOT NULL DEFAULT 0,
  requests INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (identifier, day)
);
`,
} as const;

/** Request headers the relay forwards (the key is the gateway's own; everything else stays behind). */
const forwardedRequestHeaders = ['anthropic-version', 'anthropic-beta', 'accept'];
/** Answer headers passed back. */
const passedResponseHeaders = ['content-type', 'request-id', 'retry-after', 'anthropic-ratelimit-tokens-remaining'];

interface Usage {
  input: number;
  output: number;
}

function usageOf(value: unknown): Usage {
  const u = (value ?? {}) as Record<string, unknown>;
  const n = (key: string) => (typeof u[key] === 'number' && Number.isFinite(u[key]) ? u[key] : 0);
  return { input: n('input_tokens') + n('cache_creation_input_tokens') + n('cache_read_input_tokens'), output: n('output_tokens') };
}

/** Reads usage out of an SSE stream as it passes: message_start has the input, message_delta the running output. */
class StreamUsage {
  private pending = '';
  readonly usage: Usage = { input: 0, output: 0 };

  push(chunk: string): void {
    this.pending += chunk;
    let end: number;
    while ((end = this.pending.search(/\r?\n\r?\n/)) >= 0) {
      const event = this.pending.slice(0, end);
      this.pending = this.pending.slice(end).replace(/^\r?\n\r?\n/, '');
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim())
        .join('\n');
      if (!data) continue;
      try {
        const parsed = JSON.parse(data) as { type?: string; message?: { usage?: unknown }; usage?: unknown };
        if (parsed.type === 'message_start') {
          const start = usageOf(parsed.message?.usage);
          this.usage.input = start.input;
          this.usage.output = Math.max(this.usage.output, start.output);
        } else if (parsed.type === 'message_delta') {
          const delta = usageOf(parsed.usage);
          this.usage.output = Math.max(this.usage.output, delta.output);
          if (delta.input > 0) this.usage.input = delta.input;
        }
      } catch {
        /* not JSON: passed through, not counted */
      }
    }
  }
}

const secondsToUtcMidnight = (): number => {
  const now = new Date();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
};

export function registerRelay(app: FastifyInstance, config: RelayConfig | undefined, db: Database, callerOf: (request: FastifyRequest) => Caller): void {
  if (!config) return;

  const spent = async (identifier: string): Promise<number> => {
    const [row] = await db.query<{ total: string | number }>(
      `SELECT input_tokens + output_tokens AS total FROM model_usage WHERE identifier = $1 AND day = (now() AT TIME ZONE 'UTC')::date`,
      [identifier],
    );
    return Number(row?.total ?? 0);
  };
  const record = (identifier: string, usage: Usage): Promise<unknown> =>
    db.query(
      `INSERT INTO model_usage (identifier, day, input_tokens, output_tokens, requests) VALUES ($1, (now() AT TIME ZONE 'UTC')::date, $2, $3, 1)
       ON CONFLICT (identifier, day) DO UPDATE SET input_tokens = model_usage.input_tokens + $2, output_tokens = model_usage.output_tokens + $3,
         requests = model_usage.requests + 1`,
      [identifier, usage.input, usage.output],
    );

  app.post<{ Body: Record<string, unknown> }>(
    '/v1/messages',
    { config: { auth: true }, bodyLimit: 32 * 1024 * 1024, schema: { body: { type: 'object', required: ['model', 'messages'] } } },
    async (request, reply) => {
      const caller = callerOf(request);
      if (config.dailyTokens > 0) {
        const used = await spent(caller.identifier);
        if (used >= config.dailyTokens) {
          const wait = secondsToUtcMidnight();
          throw gatewayError(
            429,
            'rate_limited',
            `Your daily model budget (${config.dailyTokens.toLocaleString('en')} tokens) is spent; it renews at 00:00 UTC, in ${Math.floor(wait / 3600)} h ${Math.ceil((wait % 3600) / 60)} min. Ask your administrator for a larger budget.`,
            wait,
          );
        }
      }
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': config.apiKey };
      for (const name of forwardedRequestHeaders) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      headers['anthropic-version'] ??= '2023-06-01';
      // The user going away (Stop, a closed window) cancels the model call. (The request's own
      // 'close' fires once its body is read, so the response's is the one that says so.)
      const cancelled = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) cancelled.abort();
      });
      let upstream: Response;
      try {
        upstream = await fetch(`${config.baseUrl}/v1/messages`, { method: 'POST', headers, body: JSON.stringify(request.body), signal: cancelled.signal });
      } catch {
        throw gatewayError(503, 'unavailable', 'The gateway could not reach the model provider; retry in a moment.', 5);
      }
      const answerHeaders: Record<string, string> = { 'cache-control': 'no-store' };
      for (const name of passedResponseHeaders) {
        const value = upstream.headers.get(name);
        if (value !== null) answerHeaders[name] = value;
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(upstream.status, answerHeaders);
      const streaming = (upstream.headers.get('content-type') ?? '').includes('text/event-stream');
      const meter = new StreamUsage();
      const decoder = new TextDecoder();
      let body = '';
      try {
        if (upstream.body) {
          for await (const chunk of upstream.body) {
            const bytes = chunk as Uint8Array;
            if (!res.write(bytes)) await new Promise((resolve) => res.once('drain', resolve));
            const text = decoder.decode(bytes, { stream: true });
            if (streaming) meter.push(text);
            else if (body.length < 4 * 1024 * 1024) body += text;
          }
        }
        res.end();
      } catch (error) {
        request.log.warn({ err: error }, 'model relay stream ended early');
        res.destroy();
      }
      let usage = meter.usage;
      if (!streaming) {
        try {
          usage = usageOf((JSON.parse(body) as { usage?: unknown }).usage);
        } catch {
          usage = { input: 0, output: 0 };
        }
      }
      if (upstream.ok || usage.input + usage.output > 0) {
        await record(caller.identifier, usage).catch((error: unknown) => request.log.error({ err: error }, 'model usage not recorded'));
      }
    },
  );
}
