import * as assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OidcClient } from '../../../src/core/oidc';
import { discoverEnterpriseAuthorization, requestIdJag } from '../../../src/enterprise/oauth';

// Issue 10: discovery, token and OIDC requests have a timeout and a response size limit.
// A local server that never answers, or answers with a huge body, must end in a clear error.

describe('HTTP limits: timeout and response size (OIDC and enterprise)', function () {
  this.timeout(5_000);
  let server: Server;
  let base = '';
  const huge = 'x'.repeat(2 * 1024 * 1024);

  before(async () => {
    server = createServer((req, res) => {
      const url = req.url ?? '';
      if (url.includes('stall')) return; // Never answers.
      if (url.includes('huge')) {
        const issuer = `${base}/huge`;
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify({
            issuer,
            authorization_endpoint: `${issuer}/a`,
            token_endpoint: `${issuer}/t`,
            jwks_uri: `${issuer}/j`,
            resource: `${base}/huge/mcp`,
            padding: huge,
          }),
        );
      }
      if (url === '/ok/.well-known/openid-configuration') {
        const issuer = `${base}/ok`;
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/a`, token_endpoint: `${base}/stall/token`, jwks_uri: `${issuer}/j` }));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const timedOut = (e: Error) => /within 0\.3 s/.test(e.message);
  const tooLarge = (e: Error) => /larger than 1 MB/.test(e.message);

  it('OIDC discovery from a server that never answers times out', async () => {
    await assert.rejects(new OidcClient(`${base}/stall`, 'client', fetch, { timeoutMs: 300 }).discover(), timedOut);
  });

  it('OIDC discovery with a huge body is refused', async () => {
    await assert.rejects(new OidcClient(`${base}/huge`, 'client').discover(), tooLarge);
  });

  it('an OIDC token request that never answers times out', async () => {
    const client = new OidcClient(`${base}/ok`, 'client', fetch, { timeoutMs: 300 });
    await assert.rejects(client.refresh('refresh-token', { sub: 'ada' }), timedOut);
  });

  it('enterprise discovery from a server that never answers times out', async () => {
    await assert.rejects(discoverEnterpriseAuthorization(`${base}/stall/mcp`, fetch, undefined, { timeoutMs: 300 }), timedOut);
  });

  it('enterprise discovery with a huge body is refused', async () => {
    await assert.rejects(discoverEnterpriseAuthorization(`${base}/huge/mcp`, fetch), tooLarge);
  });

  it('an enterprise token exchange that never answers times out', async () => {
    await assert.rejects(
      requestIdJag(fetch, {
        tokenEndpoint: `${base}/stall/token`,
        clientId: 'c',
        idToken: 'id',
        audience: 'https://as.example',
        resource: 'https://mcp.example/mcp',
        scopes: [],
        limits: { timeoutMs: 300 },
      }),
      timedOut,
    );
  });

  it('an enterprise token exchange with a huge body is refused', async () => {
    await assert.rejects(
      requestIdJag(fetch, {
        tokenEndpoint: `${base}/huge/token`,
        clientId: 'c',
        idToken: 'id',
        audience: 'https://as.example',
        resource: 'https://mcp.example/mcp',
        scopes: [],
      }),
      tooLarge,
    );
  });
});
