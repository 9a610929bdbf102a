import type { Database } from './database';
import { gatewayError } from './httpErrors';

// Per-identifier rate limits shared by every gateway instance: one token bucket per
// identifier, kept in Postgres and updated in a single atomic statement (the row lock
// orders racing requests on any instance). A bucket holds at most `burst` requests and
// refills at `perMinute` a minute. Every authenticated request takes one token.

export interface RateLimitConfig {
  /** Sustained requests a minute per identifier. */
  readonly perMinute: number;
  /** Requests an idle identifier may send at once. */
  readonly burst: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  /** Whole seconds until the next request would be allowed (0 when allowed). */
  readonly retryAfterSeconds: number;
}

/** How long the limiter waits for the database before letting a request through (the audit still guards tool calls). */
const decisionTimeoutMs = 2_000;

export const rateLimitMigration = {
  version: 101,
  name: '101_rate_buckets',
  sql: `
CREATE TABLE rate_buckets (
  identifier TEXT PRIMARY KEY,
  tokens DOUBLE PRECISION NOT NULL,
  allowed BOOLEAN NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
`,
} as const;

export class RateLimiter {
  private readonly perSecond: number;

  constructor(
    private readonly db: Database,
    private readonly config: RateLimitConfig,
    private readonly log: { warn(obj: object, msg: string): void },
  ) {
    this.perSecond = config.perMinute / 60;
  }

  /** Takes one token from the identifier's bucket (refilled for the time since its last request). */
  async take(identifier: string): Promise<RateDecision> {
    const refilled = `LEAST($2::double precision, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM (now() - b.updated_at))::double precision) * $3::double precision)`;
    const [row] = await this.db.query<{ tokens: number; allowed: boolean }>(
      `INSERT INTO rate_buckets AS b (identifier, tokens, allowed, updated_at) VALUES ($1, $2::double precision - 1, true, now())
       ON CONFLICT (identifier) DO UPDATE SET
         tokens = CASE WHEN ${refilled} >= 1 THEN ${refilled} - 1 ELSE ${refilled} END,
         allowed = ${refilled} >= 1,
         updated_at = GREATEST(b.updated_at, now())
       RETURNING tokens, allowed`,
      [identifier, this.config.burst, this.perSecond],
    );
    if (!row || row.allowed) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - Number(row.tokens)) / this.perSecond)) };
  }

  /**
   * Throws the contract's 429 (with Retry-After) when the identifier is over its limit. When
   * the database does not answer, the request goes on: a limiter outage must not lock
   * everyone out, and a tool call still needs its audit row in that same database.
   */
  async admit(identifier: string): Promise<void> {
    let decision: RateDecision;
    try {
      decision = await withTimeout(this.take(identifier), decisionTimeoutMs);
    } catch (error) {
      this.log.warn({ err: error }, 'rate limit not checked: the database did not answer');
      return;
    }
    if (!decision.allowed) {
      throw gatewayError(
        429,
        'rate_limited',
        `Too many requests from your account: your organisation allows ${this.config.perMinute} a minute. Retry in ${decision.retryAfterSeconds} s.`,
        decision.retryAfterSeconds,
      );
    }
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
