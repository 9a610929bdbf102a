import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { identifierFor } from '../core/identifier';
import { OidcClient, type OidcAuthRequest } from '../core/oidc';
import { isLoopbackHost } from '../core/secureUrl';
import type { GatewayConfig } from './config';
import type { Database } from './database';
import { auditOutcomes, auditPage, csvHeader, csvLine, jsonLine, streamAudit, type AdminAuditFilter } from './adminAudit';
import { adminCss, adminCsp, auditPageHtml, continuePage, messagePage } from './adminPage';
import type { AuditOutcome } from './protocol';

// The admin audit page (/admin): admins are listed by identifier (ONBEHALF_GATEWAY_ADMINS)
// and sign in with the same OIDC issuer the extension uses (authorization code + PKCE). The
// login transaction and the session live in the database, so any instance serves any step;
// the browser holds only an HttpOnly, SameSite=Strict cookie (Secure unless on loopback).

export const adminMigration = {
  version: 102,
  name: '102_admin_sessions',
  sql: `
CREATE TABLE admin_logins (
  state_hash TEXT PRIMARY KEY,
  request TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE admin_sessions (
  -- SHA-256 of the cookie value: a copy of the table opens no session.
  id_hash TEXT PRIMARY KEY,
  identifier TEXT NOT NULL,
  label TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_at ON audit (at);
`,
} as const;

const cookieName = 'onbehalf_admin';
const sessionHours = 8;
const loginMinutes = 10;
const pageSize = 50;
const maxFilterLength = 512;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

interface AdminSession {
  readonly identifier: string;
  readonly label: string;
}

/** A filter the page cannot use: answered with a 400 page that says why (built by a function: error classes live in the errors modules). */
const filterError = (message: string): Error => Object.assign(new Error(message), { unusableFilter: true });
const isFilterError = (error: unknown): error is Error => error instanceof Error && (error as { unusableFilter?: unknown }).unusableFilter === true;

function one(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > maxFilterLength) throw filterError(`The "${name}" filter is not usable.`);
  return value.trim() || undefined;
}

function time(query: Record<string, unknown>, name: string): Date | undefined {
  const text = one(query, name);
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw filterError(`The "${name}" filter is not a time (use ISO 8601, e.g. 2026-12-02T15:00:00Z).`);
  return date;
}

/** The filters of a query string, checked; unknown or malformed values are a filter error. */
export function parseFilter(query: Record<string, unknown>): AdminAuditFilter {
  const known = new Set(['user', 'connection', 'tool', 'outcome', 'decision', 'from', 'to', 'before']);
  for (const key of Object.keys(query)) if (!known.has(key)) throw filterError(`There is no "${key.slice(0, 40)}" filter.`);
  const outcome = one(query, 'outcome');
  if (outcome !== undefined && !(auditOutcomes as readonly string[]).includes(outcome)) throw filterError(`"${outcome.slice(0, 40)}" is not an outcome.`);
  const filter: AdminAuditFilter = {
    ...(one(query, 'user') !== undefined ? { user: one(query, 'user')! } : {}),
    ...(one(query, 'connection') !== undefined ? { connection: one(query, 'connection')! } : {}),
    ...(one(query, 'tool') !== undefined ? { tool: one(query, 'tool')! } : {}),
    ...(outcome !== undefined ? { outcome: outcome as AuditOutcome } : {}),
    ...(one(query, 'decision') !== undefined ? { decision: one(query, 'decision')! } : {}),
    ...(time(query, 'from') !== undefined ? { from: time(query, 'from')! } : {}),
    ...(time(query, 'to') !== undefined ? { to: time(query, 'to')! } : {}),
  };
  return filter;
}

function cookieOf(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === cookieName) return rest.join('=');
  }
  return undefined;
}

/** Registers /admin and its assets when admins are configured and identity is OIDC. */
export function registerAdmin(app: FastifyInstance, config: GatewayConfig, db: Database): void {
  if ((config.admins ?? []).length === 0 || config.identity.kind !== 'oidc') return;
  // Encapsulated: the form body parser below exists for these routes only.
  void app.register((admin, _options, done) => {
    adminRoutes(admin, config, db);
    done();
  });
}

function adminRoutes(app: FastifyInstance, config: GatewayConfig, db: Database): void {
  const admins = new Set(config.admins ?? []);
  if (config.identity.kind !== 'oidc') return;
  // The sign-out form posts an empty urlencoded body; nothing in it is read.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_request, _body, done) => done(null, {}));
  const identity = config.identity;
  const oidc = new OidcClient(identity.issuer, config.adminClientId ?? identity.audiences[0]!);

  const html = (reply: FastifyReply, status: number, body: string): FastifyReply =>
    reply
      .code(status)
      .header('content-security-policy', adminCsp)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .type('text/html; charset=utf-8')
      .send(body);

  /** Where the issuer sends the browser back: the configured public URL, else this loopback host. */
  const callbackUrl = (request: FastifyRequest): string | undefined => {
    if (config.publicUrl) return `${config.publicUrl}/admin/callback`;
    let url: URL;
    try {
      url = new URL(`http://${request.host}`);
    } catch {
      return undefined;
    }
    return isLoopbackHost(url.hostname.replace(/^\[|\]$/g, '')) ? `${url.origin}/admin/callback` : undefined;
  };
  const secureCookie = (): boolean => config.publicUrl === undefined || config.publicUrl.startsWith('https://');

  const session = async (request: FastifyRequest): Promise<AdminSession | undefined> => {
    const id = cookieOf(request);
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const [row] = await db.query<{ identifier: string; label: string }>(
      `SELECT identifier, label FROM admin_sessions WHERE id_hash = $1 AND expires_at > now()`,
      [sha256(id)],
    );
    // Someone removed from ONBEHALF_GATEWAY_ADMINS loses the page at once, whatever their cookie says.
    return row && admins.has(row.identifier) ? row : undefined;
  };

  /** The admin of this request, or undefined after answering with the sign-in redirect. */
  const requireAdmin = async (request: FastifyRequest, reply: FastifyReply): Promise<AdminSession | undefined> => {
    const admin = await session(request);
    if (!admin) void reply.code(302).header('cache-control', 'no-store').redirect('/admin/login');
    return admin;
  };

  app.get('/admin/admin.css', (_request, reply) =>
    reply.header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').type('text/css; charset=utf-8').send(adminCss),
  );

  app.get('/admin/login', async (request, reply) => {
    const redirectUri = callbackUrl(request);
    if (!redirectUri)
      return html(reply, 500, messagePage('Admin sign-in is not set up', 'Set ONBEHALF_GATEWAY_PUBLIC_URL to the URL users reach this gateway at.'));
    const auth = await oidc.createAuthRequest(redirectUri, ['profile', 'email']);
    await db.query(`INSERT INTO admin_logins (state_hash, request, expires_at) VALUES ($1, $2, now() + ($3::int * interval '1 minute'))`, [
      sha256(auth.state),
      JSON.stringify(auth),
      loginMinutes,
    ]);
    if (Math.random() < 0.05) await db.query(`DELETE FROM admin_logins WHERE expires_at < now()`);
    return reply.code(302).header('cache-control', 'no-store').redirect(auth.url);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/admin/callback', async (request, reply) => {
    const { code, state, error } = request.query;
    const again = { href: '/admin/login', text: 'Sign in again' };
    if (error) return html(reply, 400, messagePage('Sign-in did not finish', `The identity provider said: ${String(error).slice(0, 200)}.`, again));
    if (typeof code !== 'string' || typeof state !== 'string' || state.length > 200)
      return html(reply, 400, messagePage('Sign-in did not finish', 'The sign-in answer is incomplete.', again));
    // Single use: the row is deleted by the request that reads it.
    const [row] = await db.query<{ request: string }>(`DELETE FROM admin_logins WHERE state_hash = $1 AND expires_at > now() RETURNING request`, [
      sha256(state),
    ]);
    if (!row) return html(reply, 400, messagePage('Sign-in did not finish', 'This sign-in link is unknown, expired or already used.', again));
    let identifier: string;
    let label: string;
    try {
      const tokens = await oidc.exchangeCode(JSON.parse(row.request) as OidcAuthRequest, code);
      identifier = identifierFor('oidc', tokens.claims.sub, identity.issuer);
      const claims = tokens.claims as { name?: unknown; email?: unknown; sub: string };
      label = typeof claims.name === 'string' ? claims.name : typeof claims.email === 'string' ? claims.email : claims.sub;
    } catch (cause) {
      request.log.warn({ err: cause }, 'admin sign-in failed');
      return html(reply, 400, messagePage('Sign-in did not finish', 'The identity provider did not confirm the sign-in.', again));
    }
    if (!admins.has(identifier)) {
      request.log.warn({ identifier }, 'admin page refused: not an administrator');
      return html(reply, 403, messagePage('Not an administrator', `${label} (${identifier}) is not an administrator of this gateway.`));
    }
    const id = randomBytes(32).toString('base64url');
    await db.query(`INSERT INTO admin_sessions (id_hash, identifier, label, expires_at) VALUES ($1, $2, $3, now() + ($4::int * interval '1 hour'))`, [
      sha256(id),
      identifier,
      label.slice(0, 200),
      sessionHours,
    ]);
    const attributes = ['Path=/admin', 'HttpOnly', 'SameSite=Strict', `Max-Age=${sessionHours * 3600}`, ...(secureCookie() ? ['Secure'] : [])];
    void reply.header('set-cookie', `${cookieName}=${id}; ${attributes.join('; ')}`);
    return html(reply, 200, continuePage());
  });

  app.post('/admin/logout', async (request, reply) => {
    const id = cookieOf(request);
    if (id) await db.query(`DELETE FROM admin_sessions WHERE id_hash = $1`, [sha256(id)]);
    void reply.header('set-cookie', `${cookieName}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0`);
    return html(reply, 200, messagePage('Signed out', 'You are signed out of the audit page.', { href: '/admin/login', text: 'Sign in' }));
  });

  app.get<{ Querystring: Record<string, unknown> }>('/admin', async (request, reply) => {
    const admin = await requireAdmin(request, reply);
    if (!admin) return reply;
    let filter: AdminAuditFilter;
    const before = request.query['before'];
    try {
      filter = parseFilter(request.query);
      if (before !== undefined && (typeof before !== 'string' || !/^\d{1,19}$/.test(before))) throw filterError('The page link is not valid.');
    } catch (error) {
      if (!isFilterError(error)) throw error;
      return html(reply, 400, messagePage('Filter not usable', error.message, { href: '/admin', text: 'Show every row' }));
    }
    const page = await auditPage(db, filter, pageSize, before);
    return html(reply, 200, auditPageHtml(admin, filter, page.rows, page.next));
  });

  for (const format of ['csv', 'jsonl'] as const) {
    app.get<{ Querystring: Record<string, unknown> }>(`/admin/export.${format}`, async (request, reply) => {
      const admin = await requireAdmin(request, reply);
      if (!admin) return reply;
      let filter: AdminAuditFilter;
      try {
        filter = parseFilter(request.query);
      } catch (error) {
        if (!isFilterError(error)) throw error;
        return html(reply, 400, messagePage('Filter not usable', error.message, { href: '/admin', text: 'Show every row' }));
      }
      request.log.info({ admin: admin.identifier, format }, 'audit export');
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
        'content-disposition': `attachment; filename="onbehalf-audit.${format}"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      // Written as the cursor yields, waiting for the client to drain: memory stays one batch.
      const write = (text: string): Promise<void> => (res.write(text) ? Promise.resolve() : new Promise((resolve) => res.once('drain', () => resolve())));
      try {
        if (format === 'csv') await write(csvHeader());
        await streamAudit(db, filter, async (rows) => {
          if (res.destroyed) throw new Error('the client went away');
          await write(rows.map(format === 'csv' ? csvLine : jsonLine).join(''));
        });
        res.end();
      } catch (error) {
        request.log.error({ err: error }, 'audit export failed');
        // Headers are gone: cut the response so the file is visibly incomplete, not silently short.
        res.destroy();
      }
    });
  }
}
