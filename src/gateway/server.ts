import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ConnectionInactiveError, OnBehalfError, messageOf } from '../core/errors';
import { isLoopbackHost } from '../core/secureUrl';
import { ScalekitAccounts } from '../scalekit/scalekitAccounts';
import { defaultRateLimit, gatewayVersion, type GatewayConfig } from './config';
import { migrate, openDatabase, type Database } from './database';
import { gatewayError, isGatewayError, type GatewayHttpError } from './httpErrors';
import { bearerToken, createIdentityVerifier, type Caller, type IdentityVerifier } from './identity';
import { serveMcp } from './mcp';
import { connectionPolicy } from './policy';
import {
  connectionNamePattern,
  type AuditResponse,
  type AuthorizeRequest,
  type AuthorizeResponse,
  type ConnectionsResponse,
  type DisconnectResponse,
  type GatewayErrorBody,
  type InfoResponse,
  type MeResponse,
  type VerifyRequest,
  type VerifyResponse,
} from './protocol';
import { RateLimiter } from './rateLimit';
import { registerAdmin } from './admin';
import { registerRelay } from './relay';
import { startTelemetry, TracedAuditStore } from './telemetry';
import { AuditStore, ConnectStates, sharedAuditKey, type StateProblem } from './store';
import { ToolCatalog } from './tools';

// The gateway's HTTP server (Fastify 5): the contract in docs/team-mode.md ("Protocol").
// Every /v1 route but /v1/info, and /mcp, needs a bearer token; the caller is derived from
// it in an onRequest hook, before the body is even read, and routes know only `request.caller`.

export interface GatewayOptions {
  /** Use this database instead of opening the configured one (two in-process instances sharing one PGlite). It is migrated, not closed. */
  readonly database?: Database;
  /** For the identity provider and GitHub (tests may count calls). */
  readonly fetch?: typeof fetch;
  /** Where log lines go (default stdout): tests read them to check nothing secret is logged. */
  readonly logStream?: { write(line: string): void };
}

export interface RunningGateway {
  /** http://host:port, no trailing slash. */
  readonly url: string;
  readonly instance: string;
  readonly database: Database;
  /** Stops taking requests, lets those in flight finish, closes the database (unless it was given). */
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    /** The route needs a verified bearer token. */
    auth?: boolean;
  }
}

const statePattern = '^[A-Za-z0-9_-]{43}$';
const authRequestIdPattern = '^[A-Za-z0-9._~:-]{1,512}$';
const connectionParams = {
  type: 'object',
  additionalProperties: false,
  required: ['connection'],
  properties: { connection: { type: 'string', pattern: connectionNamePattern } },
} as const;
const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

const stateMessages: Record<StateProblem, string> = {
  unknown: 'This connection link is not one the gateway issued to you. Start connecting again from the Connections view.',
  expired: 'This connection link expired (links last 10 minutes). Start connecting again from the Connections view.',
  replayed: 'This connection link was already used. Start connecting again from the Connections view.',
  otherIdentity: 'This connection link was started by a different signed-in user. Start connecting again from the Connections view.',
};

/** Starts a gateway: opens and migrates the database, then listens. */
export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<RunningGateway> {
  const database = options.database ?? (await openDatabase(config.database));
  try {
    await migrate(database);
    const auditKey = config.auditKey ?? (await sharedAuditKey(database));
    const inFlight = { count: 0 };
    const app = buildApp(config, database, auditKey, createIdentityVerifier(config.identity, options.fetch), inFlight, options.logStream);
    const address = await app.listen({ host: config.host, port: config.port });
    const url = new URL(address);
    // Fastify may answer with the first address it bound; keep the host as configured for loopback clients.
    const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
    return {
      url: `http://${host}:${url.port}`,
      instance: config.instance,
      database,
      async close() {
        // Stop listening and let requests in flight finish; keep-alive connections that are
        // idle (or become idle once their request is done) are then closed, not waited out.
        const closing = app.close();
        const sweep = setInterval(() => {
          if (inFlight.count === 0) app.server.closeAllConnections();
        }, 25);
        try {
          await closing;
        } finally {
          clearInterval(sweep);
        }
        if (!options.database) await database.close();
      },
    };
  } catch (error) {
    if (!options.database) await database.close().catch(() => undefined);
    throw error;
  }
}

function buildApp(
  config: GatewayConfig,
  database: Database,
  auditKey: Uint8Array,
  identity: IdentityVerifier,
  inFlight: { count: number },
  logStream?: { write(line: string): void },
): FastifyInstance {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(logStream ? { stream: logStream } : {}),
      base: { instance: config.instance },
      // The path only: a query string may carry what a client should never have put there (a token).
      serializers: {
        req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, path: (req.url ?? '').split('?')[0], remoteAddress: req.ip }),
      },
      // Tokens and secrets never reach a log line, whichever object carries them.
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'authorization',
          '*.clientSecret',
          'clientSecret',
          '*.token',
          'token',
          'state',
          '*.state',
        ],
        censor: '[redacted]',
      },
    },
    bodyLimit: config.bodyLimitBytes,
    // Unknown fields are errors, not silently dropped (Fastify's default strips them).
    // No type coercion either: a number where a string belongs is an error (query values are strings).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  const accounts = new ScalekitAccounts(() => Promise.resolve(config.scalekit));
  const states = new ConnectStates(database);
  const telemetry = config.telemetry ? startTelemetry(config.telemetry, config.instance, gatewayVersion) : undefined;
  const audit = telemetry ? new TracedAuditStore(database, telemetry.tracer, auditKey) : new AuditStore(database);
  if (telemetry) app.addHook('onClose', () => telemetry.shutdown());
  const catalog = new ToolCatalog(accounts, config.connections, () => config.policy);
  const offered = new Set(config.connections);
  const perMinute = config.rateLimitPerMinute ?? defaultRateLimit;
  const limiter = perMinute > 0 ? new RateLimiter(database, { perMinute, burst: config.rateBurst ?? perMinute }, app.log) : undefined;

  // JSON only: Fastify would otherwise also take text/plain bodies.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (request, reply) => {
    // Counted until the response is done, hijacked MCP replies included (graceful shutdown waits for these).
    inFlight.count++;
    reply.raw.once('close', () => inFlight.count--);
    if (!request.routeOptions.config.auth) return;
    request.caller = await identity.verify(bearerToken(request.headers.authorization));
    await limiter?.admit(request.caller.identifier);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => sendError(reply, toGatewayError(error, request)));
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, gatewayError(404, 'not_found', `There is no ${request.method} ${request.url.split('?')[0]!.slice(0, 100)} on this gateway.`)),
  );

  const callerOf = (request: FastifyRequest): Caller => {
    if (!request.caller) throw gatewayError(401, 'invalid_token', 'Sign in to VS Code again.');
    return request.caller;
  };
  const offeredConnection = (connection: string): string => {
    if (!offered.has(connection)) throw gatewayError(404, 'not_found', `This gateway offers no connection named "${connection}".`);
    return connection;
  };

  app.get('/healthz', () => Promise.resolve({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await withTimeout(database.query('SELECT 1 FROM schema_migrations LIMIT 1'), 2_000);
      return { ok: true, instance: config.instance };
    } catch {
      return reply.code(503).send({ ok: false, instance: config.instance });
    }
  });

  app.get('/v1/info', { schema: { querystring: noQuery } }, (): Promise<InfoResponse> =>
    Promise.resolve({
      version: gatewayVersion,
      identityProvider: config.identity.kind,
      ...(config.identity.kind === 'oidc' ? { issuer: config.identity.issuer, audiences: [...config.identity.audiences] } : {}),
      connections: [...config.connections],
    }),
  );

  app.get('/v1/me', { config: { auth: true }, schema: { querystring: noQuery } }, (request): Promise<MeResponse> => {
    const caller = callerOf(request);
    return Promise.resolve({ identifier: caller.identifier, label: caller.label });
  });

  app.get('/v1/connections', { config: { auth: true }, schema: { querystring: noQuery } }, async (request): Promise<ConnectionsResponse> => {
    const caller = callerOf(request);
    const connections = await Promise.all(
      config.connections.map(async (connection) => ({
        connection,
        status: await accounts.status(caller.identifier, connection).catch((error: unknown) => {
          if (OnBehalfError.is(error) && error.kind === 'unknownScalekitConnection') return 'UNKNOWN' as const;
          throw error;
        }),
        policy: { readOnly: connectionPolicy(config.policy, connection).readOnly },
      })),
    );
    return { connections };
  });

  app.post<{ Params: { connection: string }; Body: AuthorizeRequest }>(
    '/v1/connections/:connection/authorize',
    {
      config: { auth: true },
      schema: {
        params: connectionParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['userVerifyUrl'],
          properties: { userVerifyUrl: { type: 'string', minLength: 1, maxLength: 2048 } },
        },
      },
    },
    async (request): Promise<AuthorizeResponse> => {
      const caller = callerOf(request);
      const connection = offeredConnection(request.params.connection);
      const userVerifyUrl = checkUserVerifyUrl(request.body.userVerifyUrl);
      await accounts.getOrCreate(caller.identifier, connection);
      const state = await states.mint(caller.identifier, connection);
      return { url: await accounts.authorizationLink(caller.identifier, connection, state, userVerifyUrl) };
    },
  );

  app.post<{ Body: VerifyRequest }>(
    '/v1/connections/verify',
    {
      config: { auth: true },
      schema: {
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['authRequestId', 'state'],
          properties: {
            authRequestId: { type: 'string', pattern: authRequestIdPattern },
            state: { type: 'string', pattern: statePattern },
          },
        },
      },
    },
    async (request): Promise<VerifyResponse> => {
      const caller = callerOf(request);
      const consumed = await states.consume(caller.identifier, request.body.state);
      if (!consumed.ok) throw gatewayError(400, 'state_invalid', stateMessages[consumed.problem]);
      // The identifier is the one this gateway derived from the token, never one from the request.
      await accounts.verifyUser(caller.identifier, consumed.connection, request.body.authRequestId);
      return { connection: consumed.connection, status: await accounts.status(caller.identifier, consumed.connection) };
    },
  );

  app.delete<{ Params: { connection: string } }>(
    '/v1/connections/:connection',
    { config: { auth: true }, schema: { params: connectionParams, querystring: noQuery } },
    async (request): Promise<DisconnectResponse> => {
      const caller = callerOf(request);
      const connection = offeredConnection(request.params.connection);
      await accounts.disconnect(caller.identifier, connection);
      return { connection, status: 'NOT_CONNECTED' };
    },
  );

  app.get<{ Querystring: { limit?: string; before?: string } }>(
    '/v1/audit',
    {
      config: { auth: true },
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'string', pattern: '^(?:[1-9][0-9]?|1[0-9][0-9]|200)$' }, before: { type: 'string', pattern: '^[0-9]{1,19}$' } },
        },
      },
    },
    async (request): Promise<AuditResponse> => {
      const caller = callerOf(request);
      return audit.listFor(caller.identifier, Number(request.query.limit ?? 50), request.query.before);
    },
  );

  app.post('/mcp', { config: { auth: true }, schema: { querystring: noQuery } }, async (request, reply) => {
    const caller = callerOf(request);
    reply.hijack();
    try {
      await serveMcp(
        { version: gatewayVersion, instance: config.instance, catalog, accounts, audit, auditKey, log: request.log },
        caller,
        request.raw,
        reply.raw,
        request.body,
      );
    } catch (error) {
      request.log.error({ err: error }, 'MCP request failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify(errorBody(gatewayError(500, 'internal', 'The gateway failed to answer this MCP request.'))));
      }
    }
  });
  // Stateless Streamable HTTP: no server-initiated stream (GET) and no session to end (DELETE).
  for (const method of ['GET', 'DELETE'] as const) {
    app.route({
      method,
      url: '/mcp',
      handler: async (_request, reply) =>
        reply
          .code(405)
          .header('allow', 'POST')
          .send(errorBody(gatewayError(405, 'bad_request', 'This MCP endpoint is stateless: send requests with POST.'))),
    });
  }

  registerAdmin(app, config, database);
  registerRelay(app, config.relay, database, callerOf);

  // A token that could not be verified: say why in the WWW-Authenticate header too (RFC 6750).
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', 'Bearer error="invalid_token"');
    return payload;
  });

  return app;
}

function errorBody(error: GatewayHttpError): GatewayErrorBody {
  return { error: { code: error.gatewayCode, message: error.message } };
}

function sendError(reply: FastifyReply, error: GatewayHttpError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  if (error.statusCode === 401) reply.header('www-authenticate', 'Bearer error="invalid_token"');
  return reply.code(error.statusCode).type('application/json').send(errorBody(error));
}

/** Any error a route or Fastify raised, as the contract's error with a status and a user-worded message. */
function toGatewayError(error: FastifyError, request: FastifyRequest): GatewayHttpError {
  if (isGatewayError(error)) return error;
  if (error.validation) {
    const first = error.validation[0];
    const extra = (first?.params as { additionalProperty?: unknown } | undefined)?.additionalProperty;
    const where = error.validationContext ?? 'request';
    const detail =
      typeof extra === 'string'
        ? `${where} has a field the gateway does not accept: "${extra.slice(0, 64)}"`
        : `${where}${first?.instancePath ?? ''} ${first?.message ?? 'is not valid'}`;
    return gatewayError(400, 'bad_request', `The request is not valid: ${detail}.`);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return gatewayError(413, 'payload_too_large', 'The request body is larger than the gateway accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return gatewayError(415, 'unsupported_media_type', 'Send the request body as application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return gatewayError(400, 'bad_request', 'The request body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return gatewayError(400, 'bad_request', 'The request body is not valid JSON.');
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return gatewayError(400, 'bad_request', 'The request body is not valid JSON.');
  }
  if (OnBehalfError.is(error)) return fromOnBehalfError(error);
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return gatewayError(error.statusCode, 'bad_request', `The request was refused: ${error.message.slice(0, 200)}`);
  }
  request.log.error({ err: error }, 'unexpected error');
  return gatewayError(500, 'internal', 'The gateway failed unexpectedly; retry, and tell your administrator if it keeps happening.');
}

/** A Scalekit adapter error (already worded for the user) as the contract's error. */
function fromOnBehalfError(error: OnBehalfError): GatewayHttpError {
  const text = messageOf(error);
  switch (error.kind) {
    case 'serviceUnavailable':
      return gatewayError(503, 'scalekit_unavailable', text, 5);
    case 'rateLimited':
      return gatewayError(429, 'rate_limited', text, 10);
    case 'invalidCredentials':
      // The gateway's own Scalekit secret was refused: nothing the user can fix.
      return gatewayError(503, 'scalekit_unavailable', "Scalekit did not accept the gateway's credentials. Tell your administrator.", 30);
    case 'unknownScalekitConnection':
      return gatewayError(404, 'not_found', text);
    case 'verifyRejected':
      return gatewayError(403, 'forbidden', text);
    case 'connectionInactive':
      return gatewayError(409, 'scalekit_rejected', ConnectionInactiveError.is(error) ? text : error.message);
    case 'scalekitRejected':
      return gatewayError(400, 'scalekit_rejected', text);
    case 'insecureUrl':
      return gatewayError(503, 'unavailable', "The gateway's Scalekit URL is not secure. Tell your administrator.");
    default:
      return gatewayError(502, 'scalekit_unavailable', text);
  }
}

const refusedSchemes = new Set(['javascript:', 'data:', 'file:', 'blob:', 'vbscript:', 'about:']);

/** Where Scalekit sends the browser back: the extension's URI handler (vscode://…, or https via asExternalUri). */
function checkUserVerifyUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw gatewayError(400, 'bad_request', 'userVerifyUrl is not a valid URL.');
  }
  const scheme = url.protocol.toLowerCase();
  if (refusedSchemes.has(scheme) || !/^[a-z][a-z0-9+.-]*:$/.test(scheme)) {
    throw gatewayError(400, 'bad_request', `userVerifyUrl may not use ${scheme}.`);
  }
  if (scheme === 'http:' && !isLoopbackHost(url.hostname)) {
    throw gatewayError(400, 'bad_request', 'userVerifyUrl must use https (plain http only on a loopback address).');
  }
  return value;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
