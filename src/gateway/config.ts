import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { insecureUrlProblem } from '../core/secureUrl';
import { connectionNamePattern } from './protocol';
import { parsePolicy, type GatewayPolicy } from './policy';
import type { RelayConfig } from './relay';
import { telemetryConfigFromEnv, type TelemetryConfig } from './telemetry';

// The gateway's configuration, from environment variables, validated once at start. A bad
// or missing value stops the start with an error that names the variable and says what it
// should hold; no value of a secret variable is ever part of an error or a log line.

export interface OidcIdentityConfig {
  readonly kind: 'oidc';
  /** Exact issuer URL (as in the ID token's `iss`). */
  readonly issuer: string;
  /** Accepted `aud` values: the client ids the users' extensions sign in with. */
  readonly audiences: readonly string[];
  /** Accepted signing algorithms (asymmetric only). */
  readonly algorithms: readonly string[];
  /** Allowed clock skew for exp/nbf/iat, in seconds. */
  readonly clockToleranceSeconds: number;
}

export interface GithubIdentityConfig {
  readonly kind: 'github';
  /** https://api.github.com, or https://<host>/api/v3 for GitHub Enterprise Server. */
  readonly apiUrl: string;
  /** When set, only active members of this organisation are let in. */
  readonly requiredOrg?: string;
  /** How long a checked token is trusted without asking GitHub again (at most 60 s). */
  readonly cacheSeconds: number;
}

export type IdentityConfig = OidcIdentityConfig | GithubIdentityConfig;

export interface ScalekitConfig {
  readonly environmentUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

export type DatabaseConfig =
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number }
  /** `dataDir` absent: in memory (tests, a throwaway sandbox). */
  | { readonly kind: 'pglite'; readonly dataDir?: string };

export interface GatewayConfig {
  readonly identity: IdentityConfig;
  readonly scalekit: ScalekitConfig;
  readonly database: DatabaseConfig;
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** The connection names the organisation offers. */
  readonly connections: readonly string[];
  readonly policy: GatewayPolicy;
  /** Names this instance in logs and audit records. */
  readonly instance: string;
  /** Key of the audit's input HMACs; absent → one kept in the database, shared by every instance. */
  readonly auditKey?: Uint8Array;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest request body, in bytes. */
  readonly bodyLimitBytes: number;
  /** Requests per minute per identifier, one token bucket in the database shared by every instance (absent: 600; 0: no limit). */
  readonly rateLimitPerMinute?: number;
  /** Requests an idle identifier may send at once (absent: the per-minute limit). */
  readonly rateBurst?: number;
  /** Identifiers allowed on the admin audit page (/admin); none: no admin page. */
  readonly admins?: readonly string[];
  /** The URL users reach the gateway at (behind a load balancer), for the admin sign-in's redirect. */
  readonly publicUrl?: string;
  /** The client id the admin page signs in with (default: the first OIDC audience). */
  readonly adminClientId?: string;
  /** OTLP/HTTP export of one span per tool call; absent: off. */
  readonly telemetry?: TelemetryConfig;
  /** The model relay (POST /v1/messages); absent: off. */
  readonly relay?: RelayConfig;
}

export const gatewayVersion = '0.1.0';

/** Asymmetric JWS algorithms only: HS* (a shared secret) and `none` are never accepted. */
export const allowedOidcAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

const defaultBodyLimit = 256 * 1024;
export const defaultRateLimit = 600;
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

type Env = Readonly<Record<string, string | undefined>>;

/** Collects every problem, so one start names all of them. */
class Problems {
  readonly list: string[] = [];
  add(variable: string, problem: string): void {
    this.list.push(`${variable}: ${problem}`);
  }
}

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function required(env: Env, problems: Problems, name: string, what: string): string {
  const value = read(env, name);
  if (value === undefined) problems.add(name, `is not set; set it to ${what}.`);
  return value ?? '';
}

function secureUrl(env: Env, problems: Problems, name: string, value: string): string {
  if (!value) return value;
  const problem = insecureUrlProblem(value, name);
  if (problem) problems.add(name, problem.replace(`${name} `, ''));
  return value.replace(/\/+$/, '');
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function integer(env: Env, problems: Problems, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.add(name, `must be a whole number from ${min} to ${max} (it is "${raw.slice(0, 40)}").`);
    return fallback;
  }
  return value;
}

/**
 * The configuration from environment variables (see docs/team-mode.md for each one), or a
 * thrown Error whose message lists every variable that is missing or wrong.
 */
export function configFromEnv(env: Env = process.env): GatewayConfig {
  const problems = new Problems();
  const identityKind = read(env, 'ONBEHALF_GATEWAY_IDENTITY');
  let identity: IdentityConfig;
  if (identityKind === 'github') {
    const requiredOrg = read(env, 'GITHUB_REQUIRED_ORG');
    if (requiredOrg !== undefined && !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(requiredOrg)) {
      problems.add('GITHUB_REQUIRED_ORG', 'is not a GitHub organisation login.');
    }
    identity = {
      kind: 'github',
      apiUrl: secureUrl(env, problems, 'GITHUB_API_URL', read(env, 'GITHUB_API_URL') ?? 'https://api.github.com'),
      ...(requiredOrg !== undefined ? { requiredOrg } : {}),
      cacheSeconds: integer(env, problems, 'GITHUB_TOKEN_CACHE_SECONDS', 60, 0, 60),
    };
  } else {
    if (identityKind !== 'oidc')
      problems.add('ONBEHALF_GATEWAY_IDENTITY', 'must be "oidc" or "github" (the identity provider your users sign in to VS Code with).');
    const issuer = secureUrl(
      env,
      problems,
      'OIDC_ISSUER',
      required(env, problems, 'OIDC_ISSUER', 'your identity provider\'s issuer URL (the ID tokens\' "iss")'),
    );
    const audiences = list(read(env, 'OIDC_AUDIENCES'));
    if (identityKind === 'oidc' && audiences.length === 0) {
      problems.add('OIDC_AUDIENCES', 'is not set; set it to the client id(s) the extension signs in with, comma-separated.');
    }
    const algorithms = list(read(env, 'OIDC_ALGORITHMS'));
    const unknownAlgorithms = algorithms.filter((a) => !(allowedOidcAlgorithms as readonly string[]).includes(a));
    if (unknownAlgorithms.length > 0) {
      problems.add('OIDC_ALGORITHMS', `may only name asymmetric algorithms (${allowedOidcAlgorithms.join(', ')}); not ${unknownAlgorithms.join(', ')}.`);
    }
    identity = {
      kind: 'oidc',
      issuer,
      audiences,
      algorithms: algorithms.length > 0 && unknownAlgorithms.length === 0 ? algorithms : [...allowedOidcAlgorithms],
      clockToleranceSeconds: integer(env, problems, 'OIDC_CLOCK_TOLERANCE_SECONDS', 30, 0, 300),
    };
  }

  const scalekit: ScalekitConfig = {
    environmentUrl: secureUrl(env, problems, 'SCALEKIT_ENVIRONMENT_URL', required(env, problems, 'SCALEKIT_ENVIRONMENT_URL', 'your Scalekit environment URL')),
    clientId: required(env, problems, 'SCALEKIT_CLIENT_ID', 'your Scalekit client id'),
    clientSecret: required(env, problems, 'SCALEKIT_CLIENT_SECRET', 'your Scalekit client secret'),
  };

  const databaseUrl = read(env, 'DATABASE_URL');
  let database: DatabaseConfig;
  if (databaseUrl !== undefined) {
    if (!/^postgres(?:ql)?:\/\//.test(databaseUrl)) problems.add('DATABASE_URL', 'must be a postgres:// or postgresql:// URL.');
    database = { kind: 'postgres', url: databaseUrl, poolSize: integer(env, problems, 'DATABASE_POOL_SIZE', 10, 1, 200) };
  } else {
    const dataDir = read(env, 'ONBEHALF_GATEWAY_DATA_DIR');
    database = dataDir !== undefined ? { kind: 'pglite', dataDir } : { kind: 'pglite' };
  }

  const connections = list(read(env, 'ONBEHALF_GATEWAY_CONNECTIONS') ?? 'posthog,asana');
  const badNames = connections.filter((c) => !new RegExp(connectionNamePattern).test(c));
  if (badNames.length > 0) problems.add('ONBEHALF_GATEWAY_CONNECTIONS', `holds names that are not connection names: ${badNames.join(', ').slice(0, 200)}.`);
  if (connections.length === 0) problems.add('ONBEHALF_GATEWAY_CONNECTIONS', 'names no connection.');

  let policy: GatewayPolicy = parsePolicy({});
  const policyPath = read(env, 'ONBEHALF_GATEWAY_POLICY');
  if (policyPath !== undefined) {
    try {
      policy = parsePolicy(JSON.parse(readFileSync(policyPath, 'utf8')) as unknown);
    } catch (error) {
      problems.add('ONBEHALF_GATEWAY_POLICY', `could not be used (${error instanceof Error ? error.message : String(error)}).`);
    }
  }

  let auditKey: Uint8Array | undefined;
  const auditKeyText = read(env, 'ONBEHALF_GATEWAY_AUDIT_KEY');
  if (auditKeyText !== undefined) {
    auditKey = Buffer.from(auditKeyText, 'base64');
    if (auditKey.length < 32) problems.add('ONBEHALF_GATEWAY_AUDIT_KEY', 'must be at least 32 random bytes, base64-encoded (openssl rand -base64 32).');
  }

  const logLevel = read(env, 'LOG_LEVEL') ?? 'info';
  if (!(logLevels as readonly string[]).includes(logLevel)) problems.add('LOG_LEVEL', `must be one of ${logLevels.join(', ')}.`);

  const burst = read(env, 'ONBEHALF_GATEWAY_BURST') !== undefined ? integer(env, problems, 'ONBEHALF_GATEWAY_BURST', 1, 1, 1_000_000) : undefined;

  const admins = list(read(env, 'ONBEHALF_GATEWAY_ADMINS'));
  const badAdmins = admins.filter((a) => !/^(?:oidc|github|microsoft):\S+$/.test(a));
  if (badAdmins.length > 0)
    problems.add(
      'ONBEHALF_GATEWAY_ADMINS',
      `holds values that are not identifiers (oidc:<issuer tag>:<sub>, github:<id>): ${badAdmins.join(', ').slice(0, 200)}.`,
    );
  const publicUrlText = read(env, 'ONBEHALF_GATEWAY_PUBLIC_URL');
  const publicUrl = publicUrlText !== undefined ? secureUrl(env, problems, 'ONBEHALF_GATEWAY_PUBLIC_URL', publicUrlText) : undefined;
  const adminClientId = read(env, 'ONBEHALF_GATEWAY_ADMIN_CLIENT_ID');
  const anthropicKey = read(env, 'ANTHROPIC_API_KEY');
  const relay: RelayConfig | undefined =
    anthropicKey !== undefined
      ? {
          apiKey: anthropicKey,
          baseUrl: secureUrl(env, problems, 'ANTHROPIC_BASE_URL', read(env, 'ANTHROPIC_BASE_URL') ?? 'https://api.anthropic.com'),
          dailyTokens: integer(env, problems, 'ONBEHALF_GATEWAY_DAILY_TOKENS', 2_000_000, 0, 1_000_000_000_000),
        }
      : undefined;
  const telemetry = telemetryConfigFromEnv(env);
  if (telemetry) {
    try {
      new URL(telemetry.tracesUrl);
    } catch {
      problems.add('OTEL_EXPORTER_OTLP_ENDPOINT', 'is not a URL.');
    }
  }

  const config: GatewayConfig = {
    identity,
    scalekit,
    database,
    host: read(env, 'HOST') ?? '127.0.0.1',
    port: integer(env, problems, 'PORT', 8787, 0, 65535),
    connections,
    policy,
    instance: read(env, 'ONBEHALF_GATEWAY_INSTANCE') ?? `${hostname()}-${process.pid}`,
    ...(auditKey ? { auditKey } : {}),
    logLevel: logLevel as GatewayConfig['logLevel'],
    bodyLimitBytes: integer(env, problems, 'ONBEHALF_GATEWAY_BODY_LIMIT', defaultBodyLimit, 1024, 16 * 1024 * 1024),
    rateLimitPerMinute: integer(env, problems, 'ONBEHALF_GATEWAY_RATE_LIMIT', defaultRateLimit, 0, 1_000_000),
    ...(burst !== undefined ? { rateBurst: burst } : {}),
    ...(admins.length > 0 ? { admins } : {}),
    ...(publicUrl !== undefined ? { publicUrl } : {}),
    ...(adminClientId !== undefined ? { adminClientId } : {}),
    ...(telemetry ? { telemetry } : {}),
    ...(relay ? { relay } : {}),
  };
  if (problems.list.length > 0) {
    throw new Error(`The gateway's configuration is not usable:\n  - ${problems.list.join('\n  - ')}`);
  }
  return config;
}
