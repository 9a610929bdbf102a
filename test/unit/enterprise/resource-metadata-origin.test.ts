import * as assert from 'node:assert/strict';
import { discoverEnterpriseAuthorization } from '../../../src/enterprise/oauth';

// Issue 10: a 401's WWW-Authenticate resource_metadata is followed only on the MCP server's
// own origin; otherwise an MCP server (or anyone in front of it) could make OnBehalf send
// GETs to any host.

describe('resource_metadata from a 401 challenge', () => {
  const mcp = 'https://mcp.posthog.example/mcp';
  function server(resourceMetadata: string) {
    const fetched: string[] = [];
    const fetchFn = async (input: string | URL): Promise<Response> => {
      const url = typeof input === 'string' ? input : input.href;
      fetched.push(url);
      if (url === mcp) return new Response('', { status: 401, headers: { 'www-authenticate': `Bearer resource_metadata="${resourceMetadata}"` } });
      if (url === 'https://mcp.posthog.example/.well-known/prm-elsewhere')
        return new Response(JSON.stringify({ resource: mcp, authorization_servers: ['https://as.posthog.example'] }), { status: 200 });
      if (url.startsWith('https://as.posthog.example/.well-known/oauth-authorization-server')) {
        return new Response(
          JSON.stringify({
            issuer: 'https://as.posthog.example',
            token_endpoint: 'https://as.posthog.example/token',
            authorization_grant_profiles_supported: ['urn:ietf:params:oauth:grant-profile:id-jag'],
          }),
          { status: 200 },
        );
      }
      return new Response('{}', { status: 404 });
    };
    return { fetched, fetchFn };
  }

  it('is not followed to another origin', async () => {
    const { fetched, fetchFn } = server('https://attacker.example/prm');
    await assert.rejects(
      discoverEnterpriseAuthorization(mcp, fetchFn),
      (e: Error) => /resource_metadata/.test(e.message) && /attacker\.example/.test(e.message) && /not on the MCP server's origin/.test(e.message),
    );
    assert.deepEqual(
      fetched.filter((u) => !u.startsWith('https://mcp.posthog.example/')),
      [],
    );
  });

  it('is not followed from a hint on another origin either', async () => {
    const { fetched, fetchFn } = server('https://attacker.example/prm');
    await assert.rejects(discoverEnterpriseAuthorization(mcp, fetchFn, 'https://attacker.example/prm'));
    assert.deepEqual(
      fetched.filter((u) => u.includes('attacker')),
      [],
    );
  });

  it("is followed on the MCP server's origin", async () => {
    const { fetchFn } = server('/.well-known/prm-elsewhere');
    const found = await discoverEnterpriseAuthorization(mcp, fetchFn);
    assert.equal(found.resourceMetadataUrl, 'https://mcp.posthog.example/.well-known/prm-elsewhere');
    assert.equal(found.tokenEndpoint, 'https://as.posthog.example/token');
  });
});
