// The identifier selects whose connected accounts a call uses. It is derived only from
// the current VS Code authentication session, never from webview, settings, URI or tool input.

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
  readonly identifier: string;
}

export function isIdentityProviderKind(value: unknown): value is IdentityProviderKind {
  return typeof value === 'string' && (identityProviderKinds as readonly string[]).includes(value);
}

const accountIdPattern = /^[A-Za-z0-9._@|+\-]{1,200}$/;

/** `<provider>:<account id>`; rejects ids that could smuggle separators or whitespace. */
export function identifierFor(provider: IdentityProviderKind, accountId: string): string {
  if (!isIdentityProviderKind(provider)) throw new Error(`Unknown identity provider "${String(provider)}".`);
  if (!accountIdPattern.test(accountId)) throw new Error('The signed-in account has an id OnBehalf cannot use.');
  return `${provider}:${accountId}`;
}

export function identityFromSession(provider: IdentityProviderKind, session: { account: { id: string; label: string } }): Identity {
  return {
    provider,
    accountId: session.account.id,
    label: session.account.label,
    identifier: identifierFor(provider, session.account.id),
  };
}

/** A short, filesystem-safe key for per-identity storage (conversations, audit, approvals). */
export function storageKeyFor(identifier: string): string {
  return identifier.replace(/[^A-Za-z0-9.-]/g, (ch) => `_${ch.charCodeAt(0).toString(16)}`);
}
