import { identifierFor, type Identifier, type IdentityProviderKind } from '../../src/core/identifier';

// Tests get their identifiers the honest way: through the real derivation, never a cast.

/** The issuer of the OIDC identities unit tests sign in with (no server behind it). */
export const testIssuer = 'https://idp.onbehalf.test';

/** `identifierFor`, with `testIssuer` for OIDC unless another issuer is given. */
export function identifierOf(provider: IdentityProviderKind, accountId: string, issuer: string = testIssuer): Identifier {
  return identifierFor(provider, accountId, issuer);
}
