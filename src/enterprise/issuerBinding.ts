import { sameResource } from './oauth';

// The enterprise token exchange sends the user's ID token (and the IdP client secret) to
// "onbehalf.enterprise.posthogMcp.idpTokenEndpoint". That endpoint must belong to the IdP
// the user signs in with: the token_endpoint its discovery document publishes, or a URL on
// the issuer's origin. Anything else is refused before a single request goes to it.

/** Why the token endpoint cannot be used, or undefined when it belongs to the OIDC issuer. */
export function tokenEndpointProblem(tokenEndpoint: string, issuer: string, discoveredTokenEndpoint: string | undefined): string | undefined {
  let endpoint: URL;
  try {
    endpoint = new URL(tokenEndpoint);
  } catch {
    return 'The enterprise token endpoint ("onbehalf.enterprise.posthogMcp.idpTokenEndpoint") is not a valid URL.';
  }
  if (!issuer) {
    return `The enterprise token endpoint (${endpoint.origin}) cannot be checked against your OIDC issuer because "onbehalf.oidc.issuer" is not set; OnBehalf sent nothing to it.`;
  }
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(issuer);
  } catch {
    return 'The OIDC issuer ("onbehalf.oidc.issuer") is not a valid URL, so the enterprise token endpoint cannot be checked against it.';
  }
  if (discoveredTokenEndpoint && sameResource(endpoint.href, discoveredTokenEndpoint)) return undefined;
  if (endpoint.origin === issuerUrl.origin) return undefined;
  return `The enterprise token endpoint (${endpoint.origin}) does not belong to your OIDC issuer (${issuerUrl.origin}): it must be the token_endpoint the issuer publishes or on the issuer's origin. OnBehalf sent nothing to it.`;
}
