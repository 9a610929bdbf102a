import * as assert from 'node:assert/strict';
import { tokenEndpointProblem } from '../../../src/enterprise/issuerBinding';

// Issue 10: the ID token and IdP client secret go only to a token endpoint of the OIDC
// issuer the user signs in with.

describe('enterprise token endpoint bound to the OIDC issuer', () => {
  const issuer = 'https://login.corp.example/realms/main';

  it('accepts the token_endpoint the issuer publishes, even on another origin', () => {
    assert.equal(tokenEndpointProblem('https://tokens.corp.example/oauth2/token', issuer, 'https://tokens.corp.example/oauth2/token'), undefined);
  });

  it("accepts a URL on the issuer's origin", () => {
    assert.equal(tokenEndpointProblem('https://login.corp.example/realms/main/protocol/openid-connect/token', issuer, undefined), undefined);
    assert.equal(tokenEndpointProblem('http://127.0.0.1:4000/token', 'http://127.0.0.1:4000', undefined), undefined);
  });

  it('refuses any other host, port or scheme, with a message naming both origins', () => {
    for (const endpoint of [
      'https://attacker.example/token',
      'https://login.corp.example.attacker.example/token',
      'https://login.corp.example:8443/token',
      'http://login.corp.example/token',
    ]) {
      const problem = tokenEndpointProblem(endpoint, issuer, 'https://login.corp.example/realms/main/token');
      assert.ok(problem, endpoint);
      assert.match(problem, /does not belong to your OIDC issuer \(https:\/\/login\.corp\.example\)/);
      assert.match(problem, /sent nothing/);
    }
  });

  it('refuses when no issuer is configured or a URL is malformed', () => {
    assert.match(tokenEndpointProblem('https://login.corp.example/token', '', undefined) ?? '', /"onbehalf\.oidc\.issuer" is not set/);
    assert.match(tokenEndpointProblem('not a url', issuer, undefined) ?? '', /not a valid URL/);
    assert.match(tokenEndpointProblem('https://login.corp.example/token', 'nope', undefined) ?? '', /not a valid URL/);
  });
});
