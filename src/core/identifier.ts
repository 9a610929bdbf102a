import { createHash } from 'node:crypto';

// The identifier selects whose connected accounts a call uses. It is derived only from
// the current VS Code authentication session, never from webview, settings, URI or tool input.
//
// Format (the string Scalekit sees as the connected account's identifier):
//   github:<GitHub user id>                 e.g. github:583231
//   microsoft:<Microsoft account id>        e.g. microsoft:00000000-0000-0000-0000-000000000000.9188040d-…
//   oidc:<issuer tag>:<sub>                 e.g. oidc:3f1c9a0e5b7d2c48:ada
// An OIDC `sub` is only unique within its issuer, so OIDC identifiers carry the issuer too:
// the issuer tag is the first 16 hex digits (64 bits) of SHA-256 over the issuer URL with
// trailing slashes removed, i.e. the session's verified `iss`. The account id may not
// contain ':' or whitespace, so no account id can imitate another provider's or issuer's
// prefix. Every character is in [A-Za-z0-9._@|+:-].
// Identifiers of the earlier form `oidc:<sub>` (no issuer tag) are never produced and their
// data is not migrated: an old key cannot prove which issuer it came from.

/**
 * An identifier derived from a VS Code authentication session. Branded so that only this
 * module makes one: a plain string (from a webview message, a setting, a URI or tool input)
 * does not type-check where an `Identifier` is expected.
 */
export type Identifier = string & { readonly __brand: 'OnBehalfIdentifier' };

export type IdentityProviderKind = 'github' | 'microsoft' | 'oidc';

export const identityProviderKinds: readonly IdentityProviderKind[] = ['github', 'microsoft', 'oidc'];

/** The VS Code authentication provider id behind each kind. */
export const authProviderIds: Record<IdentityProviderKind, string> = {
  github: 'github',
  microsoft: 'microsoft',
  oidc: 'onbehalf-oidc',
};

export interface Identity {
  readonly provider: IdentityProviderKind;
  readonly accountId: string;
  /** Human label, e.g. the GitHub login or the OIDC name/email. Display only. */
  readonly label: string;
  readonly identifier: Identifier;
}

export function isIdentityProviderKind(value: unknown): value is IdentityProviderKind {
  return typeof value === 'string' && (identityProviderKinds as readonly string[]).includes(value);
}

const accountIdPattern = /^[A-Za-z0-9._@|+-]{1,200}$/;

/** The issuer part of an OIDC identifier: 16 hex digits of SHA-256 over the issuer URL, trailing slashes removed. */
export function oidcIssuerTag(issuer: string): string {
  const normalized = issuer.trim().replace(/\/+$/, '');
  if (!normalized) throw new Error('An OIDC identity needs the issuer it was signed in at.');
  return createHash('sha256').update(normalized, 'utf8').digest('hex').slice(0, 16);
}

/**
 * `<provider>:<account id>`, or `oidc:<issuer tag>:<sub>` for OIDC (see the format above);
 * rejects ids that could smuggle separators or whitespace. `issuer` is required for OIDC
 * and ignored for the other providers.
 */
export function identifierFor(provider: IdentityProviderKind, accountId: string, issuer?: string): Identifier {
  if (!isIdentityProviderKind(provider)) throw new Error(`Unknown identity provider "${String(provider)}".`);
  if (provider === 'microsoft') accountId = microsoftAccountId(accountId);
  if (!accountIdPattern.test(accountId)) throw new Error('The signed-in account has an id OnBehalf cannot use.');
  if (provider === 'oidc') return `oidc:${oidcIssuerTag(issuer ?? '')}:${accountId}` as Identifier;
  return `${provider}:${accountId}` as Identifier;
}

const guid = '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}';
const classicMicrosoftId = new RegExp(`^(${guid})/(${guid})$`);

/**
 * VS Code's Microsoft providers name one account two ways: the classic one (VS Code for the
 * Web, or `microsoft-authentication.implementation` = classic) as `<tenant id>/<object id>`,
 * MSAL on desktop as `<object id>.<tenant id>`. Both become `<oid>.<tid>` in lowercase, so
 * one person has one identifier wherever they sign in.
 */
function microsoftAccountId(accountId: string): string {
  const classic = classicMicrosoftId.exec(accountId);
  if (classic) return `${classic[2]!}.${classic[1]!}`.toLowerCase();
  return new RegExp(`^${guid}\\.${guid}$`).test(accountId) ? accountId.toLowerCase() : accountId;
}

/** `issuer` is the OIDC session's issuer (required for `oidc`). */
export function identityFromSession(provider: IdentityProviderKind, session: { account: { id: string; label: string } }, issuer?: string): Identity {
  return {
    provider,
    accountId: session.account.id,
    label: session.account.label,
    identifier: identifierFor(provider, session.account.id, issuer),
  };
}

const storageKeys = new Map<string, string>();

/**
 * A short, filesystem-safe key for per-identity storage (conversations, audit, approvals):
 * the provider as a readable prefix, then 32 hex digits of SHA-256 over the whole identifier.
 * Lowercase only, so two identifiers that differ only in case (`oidc:…:Ab`, `oidc:…:ab`)
 * never share a file on a case-insensitive file system.
 */
export function storageKeyFor(identifier: string): string {
  let key = storageKeys.get(identifier);
  if (key === undefined) {
    const prefix = /^([a-z]{1,12}):/.exec(identifier)?.[1] ?? 'id';
    key = `${prefix}-${createHash('sha256').update(identifier, 'utf8').digest('hex').slice(0, 32)}`;
    // A pure function asked at every audited call: the few identities of a window are hashed once.
    if (storageKeys.size >= 64) storageKeys.clear();
    storageKeys.set(identifier, key);
  }
  return key;
}

/**
 * The storage key OnBehalf used before keys were hashed, for the identities whose identifier
 * did not change (GitHub, Microsoft), so their history, audit and choices carry over. None
 * for OIDC: an old `oidc:<sub>` key cannot prove which issuer it came from.
 */
export function legacyStorageKeyFor(identifier: string): string | undefined {
  if (!/^(github|microsoft):/.test(identifier)) return undefined;
  return identifier.replace(/[^A-Za-z0-9.-]/g, (ch) => `_${ch.charCodeAt(0).toString(16)}`);
}
