// The ID-JAG token exchange (draft-ietf-oauth-identity-assertion-authz-grant §4.3, MCP
// ext-auth "Enterprise-Managed Authorization" §4) installed on the IdP emulator through
// registerGrant: an ID token in, an Identity Assertion JWT Authorization Grant out.
//
//   POST /token  grant_type=urn:ietf:params:oauth:grant-type:token-exchange
//                requested_token_type=urn:ietf:params:oauth:token-type:id-jag
//                audience=<resource AS issuer>  resource=<MCP server URL>  scope=...
//                subject_token=<ID token>  subject_token_type=urn:ietf:params:oauth:token-type:id_token
//   → { access_token: <ID-JAG>, issued_token_type: ...:id-jag, token_type: "N_A", expires_in, scope }
//
// Client authentication is the IdP emulator's own (client_secret_basic or _post); this
// grant additionally requires a confidential client unless told otherwise.
import { randomBytes } from 'node:crypto';
import { SignJWT, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import { OAuthError, type GrantContext, type IdpEmulator } from './server';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
export const ID_JAG_TYP = 'oauth-id-jag+jwt';

export interface IdJagTarget {
  audience: string;
  resource: string;
}

export interface IdJagGrantOptions {
  /** ID-JAG lifetime. Default 300 s. */
  ttlSeconds?: number;
  /** Allowed (audience, resource) pairs (ext-auth §7.6.1); others get invalid_target. Default: any pair. */
  targets?: IdJagTarget[];
  /** Token exchange requires client authentication (ext-auth §7.7). Default true. */
  requireClientSecret?: boolean;
  /** Admin policy: the scopes a user gets out of those requested. Default: all requested. */
  scopePolicy?: (sub: string, requested: string[]) => string[];
  /** Admin policy: users who may not use the client for the target → access_denied. */
  deniedSubjects?: string[];
  /**
   * The client id at each resource authorization server (by audience). The ID-JAG's
   * `client_id` claim names the client at the *resource* AS, which may differ from the
   * client registered at the IdP (draft-ietf-oauth-identity-assertion-authz-grant, "ID-JAG
   * claims"). Default: the IdP client id.
   */
  resourceClientIds?: Record<string, string>;
}

/** Alterations of the next ID-JAG (once). */
export interface IdJagTamper {
  /** exp 10 minutes in the past. */
  expired?: boolean;
  /** Shift iat (and exp) by this many seconds; positive = in the future (clock skew). */
  skewSeconds?: number;
  /** Sign with a key the JWKS does not hold (same kid): the signature fails. */
  foreignKey?: boolean;
  /** Return the previously issued ID-JAG again instead of a new one (a caching IdP). */
  replayPrevious?: boolean;
  /** Extra or overriding claims (e.g. `{ aud: 'https://elsewhere' }`). */
  claims?: Record<string, unknown>;
}

export interface IssuedIdJag {
  token: string;
  header: { alg: string; kid: string; typ: string };
  claims: JWTPayload & Record<string, unknown>;
}

export interface IdJagRequestLog {
  clientId: string;
  confidential: boolean;
  audience: string | undefined;
  resource: string | undefined;
  scope: string | undefined;
  ok: boolean;
  error?: string;
  /** True when the response re-used an earlier ID-JAG (tamper replayPrevious). */
  replayed?: boolean;
}

export interface IdJagGrant {
  readonly options: IdJagGrantOptions;
  readonly issued: IssuedIdJag[];
  readonly requests: IdJagRequestLog[];
  /** Successful exchanges (including replayed answers). */
  readonly exchanges: number;
  /** The next exchange fails with this OAuth error (once). */
  failNext(error: string, description?: string, status?: number): void;
  tamperNext(tamper: IdJagTamper): void;
  reset(): void;
}

export function installIdJagGrant(idp: IdpEmulator, options: IdJagGrantOptions = {}): IdJagGrant {
  const issued: IssuedIdJag[] = [];
  const requests: IdJagRequestLog[] = [];
  let exchanges = 0;
  let forced: OAuthError | undefined;
  let tamper: IdJagTamper | undefined;
  let foreignKey: Promise<CryptoKey> | undefined;
  const alg = idp.jwk.alg ?? 'RS256';
  const kid = idp.jwk.kid ?? '';

  const handle = async (params: URLSearchParams, ctx: GrantContext): Promise<{ body: Record<string, unknown> }> => {
    const audience = params.get('audience') ?? undefined;
    const resource = params.get('resource') ?? undefined;
    const scopeParam = params.get('scope') ?? undefined;
    const entry: IdJagRequestLog = { clientId: ctx.clientId, confidential: ctx.confidential, audience, resource, scope: scopeParam, ok: false };
    requests.push(entry);
    try {
      const body = await exchange(params, ctx, audience, resource, scopeParam, entry);
      entry.ok = true;
      exchanges++;
      return { body };
    } catch (error) {
      entry.error = error instanceof OAuthError ? error.error : 'server_error';
      throw error;
    }
  };

  async function exchange(
    params: URLSearchParams,
    ctx: GrantContext,
    audience: string | undefined,
    resource: string | undefined,
    scopeParam: string | undefined,
    entry: IdJagRequestLog,
  ): Promise<Record<string, unknown>> {
    if (forced) {
      const f = forced;
      forced = undefined;
      throw f;
    }
    if ((options.requireClientSecret ?? true) && !ctx.confidential) {
      throw new OAuthError('invalid_client', 'token exchange requires client authentication', 401);
    }
    if (params.get('requested_token_type') !== ID_JAG_TOKEN_TYPE) {
      throw new OAuthError('invalid_request', `requested_token_type must be ${ID_JAG_TOKEN_TYPE}`);
    }
    if (params.get('subject_token_type') !== ID_TOKEN_TYPE) throw new OAuthError('invalid_request', `subject_token_type must be ${ID_TOKEN_TYPE}`);
    const subjectToken = params.get('subject_token');
    if (!subjectToken) throw new OAuthError('invalid_request', 'subject_token is required');
    if (!audience) throw new OAuthError('invalid_request', 'audience is required (the resource authorization server issuer)');
    if (!resource) throw new OAuthError('invalid_request', 'resource is required (the MCP server resource identifier)');
    if (params.get('actor_token')) throw new OAuthError('invalid_request', 'actor_token is not used by this profile');

    // The subject token must be this IdP's ID token, issued to the requesting client, unexpired.
    let subject: JWTPayload & Record<string, unknown>;
    try {
      subject = await idp.verifyJwt(subjectToken, { audience: ctx.clientId });
    } catch (error) {
      throw new OAuthError('invalid_grant', `subject_token is not a valid ID token for this client: ${(error as Error).message}`);
    }
    const sub = typeof subject.sub === 'string' ? subject.sub : '';
    if (!sub) throw new OAuthError('invalid_grant', 'subject_token has no sub');

    if (options.targets && !options.targets.some((t) => t.audience === audience && t.resource === resource)) {
      throw new OAuthError('invalid_target', `policy does not allow an ID-JAG for resource ${resource} at ${audience}`);
    }
    if (options.deniedSubjects?.includes(sub)) {
      throw new OAuthError('access_denied', `policy does not allow ${sub} to use ${ctx.clientId} with ${resource}`, 403);
    }
    const requested = (scopeParam ?? '').split(/\s+/).filter(Boolean);
    const granted = options.scopePolicy ? options.scopePolicy(sub, requested) : requested;

    const t = tamper;
    tamper = undefined;
    const ttl = options.ttlSeconds ?? 300;
    if (t?.replayPrevious) {
      const previous = issued[issued.length - 1];
      if (!previous) throw new OAuthError('server_error', 'nothing issued yet to replay', 500);
      entry.replayed = true;
      return {
        access_token: previous.token,
        issued_token_type: ID_JAG_TOKEN_TYPE,
        token_type: 'N_A',
        expires_in: ttl,
        scope: String(previous.claims.scope ?? ''),
      };
    }

    let iat = Math.floor(idp.now() / 1000) + (t?.skewSeconds ?? 0);
    let exp = iat + ttl;
    if (t?.expired) {
      iat = Math.floor(idp.now() / 1000) - ttl - 600;
      exp = Math.floor(idp.now() / 1000) - 600;
    }
    const email = typeof subject.email === 'string' ? subject.email : idp.users.find((u) => u.sub === sub)?.email;
    const claims: JWTPayload & Record<string, unknown> = {
      iss: idp.issuer,
      sub,
      aud: audience,
      client_id: (audience ? options.resourceClientIds?.[audience] : undefined) ?? ctx.clientId,
      jti: randomBytes(16).toString('base64url'),
      iat,
      exp,
      resource,
      scope: granted.join(' '),
      ...(email ? { email } : {}),
      ...(t?.claims ?? {}),
    };
    const header = { alg, kid, typ: ID_JAG_TYP };
    let token: string;
    if (t?.foreignKey) {
      foreignKey ??= generateKeyPair(alg, { extractable: false }).then((k) => k.privateKey);
      token = await new SignJWT(claims).setProtectedHeader(header).sign(await foreignKey);
    } else {
      // signJwt signs with the IdP's published key and our header typ; explicit iat/exp win.
      token = await idp.signJwt(claims, { typ: ID_JAG_TYP });
    }
    issued.push({ token, header, claims });
    return { access_token: token, issued_token_type: ID_JAG_TOKEN_TYPE, token_type: 'N_A', expires_in: exp - iat, scope: granted.join(' ') };
  }

  idp.registerGrant(TOKEN_EXCHANGE_GRANT, handle);
  return {
    options,
    issued,
    requests,
    get exchanges() {
      return exchanges;
    },
    failNext(error, description = `forced ${error}`, status) {
      forced = new OAuthError(error, description, status ?? (error === 'invalid_client' ? 401 : error === 'access_denied' ? 403 : 400));
    },
    tamperNext(next) {
      tamper = { ...next };
    },
    reset() {
      issued.length = 0;
      requests.length = 0;
      exchanges = 0;
      forced = undefined;
      tamper = undefined;
    },
  };
}
