import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv } from '../../src/gateway/config';
import { openDatabase, type Database } from '../../src/gateway/database';
import type { MeResponse } from '../../src/gateway/protocol';
import { startGateway, type RunningGateway } from '../../src/gateway/server';
import { startGithubEmulator, type GithubEmulator } from '../emulators/github/server';
import { startIdpEmulator } from '../emulators/idp/server';
import { audience, call, errorCode, oidcConfig, startWorld, type World } from './support';

// How the gateway knows who is calling: GitHub tokens checked with the REST API (cached by
// a hash of the token, at most 60 s; optional org membership), OIDC ID tokens checked against
// the issuer's JWKS; and the configuration that sets it up, validated at start.

describe('gateway identity: GitHub', function () {
  this.timeout(60_000);
  let world: World;
  let github: GithubEmulator;
  let database: Database;
  const gateways: RunningGateway[] = [];
  const start = async (identity: { requiredOrg?: string; cacheSeconds?: number; apiUrl?: string } = {}) => {
    const gw = await startGateway(
      {
        ...oidcConfig(world),
        identity: {
          kind: 'github',
          apiUrl: identity.apiUrl ?? github.url,
          cacheSeconds: identity.cacheSeconds ?? 60,
          ...(identity.requiredOrg ? { requiredOrg: identity.requiredOrg } : {}),
        },
      },
      { database },
    );
    gateways.push(gw);
    return gw;
  };
  before(async () => {
    world = await startWorld();
    github = await startGithubEmulator();
    database = await openDatabase({ kind: 'pglite' });
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await database.close();
    await github.close();
    await world.close();
  });

  it('derives github:<numeric id> from /user, and asks GitHub once per token within the cache time', async () => {
    const gw = await start();
    const token = github.issueToken(583231);
    const before = github.log.length;
    for (let i = 0; i < 3; i++) {
      const me = await call<MeResponse>(gw, 'GET', '/v1/me', { token });
      assert.deepEqual(me.body, { identifier: 'github:583231', label: 'octocat' });
    }
    assert.equal(github.log.length - before, 1, 'one /user request for three calls');
    await call(gw, 'GET', '/v1/me', { token: github.issueToken(583231) });
    assert.equal(github.log.length - before, 2, 'a new token is checked anew');
  });

  it('a refused token is remembered too: a flood of one bad token asks GitHub once', async () => {
    const gw = await start();
    const before = github.log.length;
    for (let i = 0; i < 5; i++) assert.equal((await call(gw, 'GET', '/v1/me', { token: 'gho_not_a_real_token' })).status, 401);
    assert.equal(github.log.length - before, 1);
  });

  it('with no cache, a revoked token is refused at once', async () => {
    const gw = await start({ cacheSeconds: 0 });
    const token = github.issueToken(9919);
    assert.equal((await call(gw, 'GET', '/v1/me', { token })).status, 200);
    github.revokeToken(token);
    const refused = await call(gw, 'GET', '/v1/me', { token });
    assert.equal(refused.status, 401);
    assert.match((refused.body as { error: { message: string } }).error.message, /GitHub did not accept your sign-in token/);
  });

  it('a required organisation lets in active members only (pending, non-member and no read:org get 403)', async () => {
    const gw = await start({ requiredOrg: 'acme', cacheSeconds: 0 });
    github.setMembership('acme', 583231, 'active');
    github.setMembership('acme', 9919, 'pending');
    assert.equal((await call(gw, 'GET', '/v1/me', { token: github.issueToken(583231) })).status, 200);
    for (const token of [github.issueToken(9919), github.issueToken(583231, { readOrg: false })]) {
      const refused = await call(gw, 'GET', '/v1/me', { token });
      assert.equal(refused.status, 403);
      assert.equal(errorCode(refused), 'forbidden');
      assert.match((refused.body as { error: { message: string } }).error.message, /active members of the GitHub organisation "acme"/);
    }
    github.setMembership('acme', 9919, undefined);
    assert.equal((await call(gw, 'GET', '/v1/me', { token: github.issueToken(9919) })).status, 403);
  });

  it('GitHub unreachable is a 503 that says so, not a 401', async () => {
    const gw = await start({ apiUrl: 'http://127.0.0.1:9' });
    const answer = await call(gw, 'GET', '/v1/me', { token: 'gho_whatever' });
    assert.equal(answer.status, 503);
    assert.equal(errorCode(answer), 'unavailable');
    assert.equal(answer.headers.get('retry-after'), '5');
  });
});

describe('gateway identity: OIDC', function () {
  this.timeout(60_000);

  it('accepts an ES256 issuer, and a token expired within the 30 s clock skew', async () => {
    const world = await startWorld();
    const idp = await startIdpEmulator({ clientId: audience, alg: 'ES256' });
    const gw = await startGateway({
      ...oidcConfig(world),
      identity: { kind: 'oidc', issuer: idp.issuer, audiences: [audience], algorithms: ['RS256', 'ES256'], clockToleranceSeconds: 30 },
    });
    try {
      const now = Math.floor(Date.now() / 1000);
      const token = await idp.signJwt({ sub: 'ada', aud: audience, name: 'Ada Lovelace', iat: now - 3600, exp: now - 10 });
      const me = await call<MeResponse>(gw, 'GET', '/v1/me', { token });
      assert.equal(me.status, 200, JSON.stringify(me.body));
      assert.match(me.body.identifier, /^oidc:[0-9a-f]{16}:ada$/);
    } finally {
      await gw.close();
      await idp.close();
      await world.close();
    }
  });

  it('an unreachable issuer is a 503, and a discovery document for another issuer is refused', async () => {
    const world = await startWorld();
    const database = await openDatabase({ kind: 'pglite' });
    const down = await startGateway({ ...oidcConfig(world), identity: { ...oidcIdentity(world), issuer: 'http://127.0.0.1:9' } }, { database });
    // An issuer URL whose discovery names the real emulator's issuer: a different string, so refused.
    const mismatched = await startGateway(
      { ...oidcConfig(world), identity: { ...oidcIdentity(world), issuer: world.idp.issuer.replace('127.0.0.1', 'localhost') } },
      { database },
    );
    try {
      const token = await world.idp.signJwt({ sub: 'ada', aud: audience }, { expiresInSeconds: 600 });
      const unreachable = await call(down, 'GET', '/v1/me', { token });
      assert.equal(unreachable.status, 503);
      assert.match((unreachable.body as { error: { message: string } }).error.message, /cannot reach your identity provider/);
      const wrong = await call(mismatched, 'GET', '/v1/me', { token });
      assert.equal(wrong.status, 503);
      assert.match((wrong.body as { error: { message: string } }).error.message, /does not match the gateway's configured issuer/);
    } finally {
      await down.close();
      await mismatched.close();
      await database.close();
      await world.close();
    }
  });
});

function oidcIdentity(world: World) {
  const config = oidcConfig(world).identity;
  if (config.kind !== 'oidc') throw new Error('oidc expected');
  return config;
}

describe('gateway configuration from the environment', () => {
  const base = {
    ONBEHALF_GATEWAY_IDENTITY: 'oidc',
    OIDC_ISSUER: 'https://idp.example.com/',
    OIDC_AUDIENCES: 'onbehalf-vscode, other',
    SCALEKIT_ENVIRONMENT_URL: 'https://acme.scalekit.dev',
    SCALEKIT_CLIENT_ID: 'skc_1',
    SCALEKIT_CLIENT_SECRET: 'canary-secret-value',
  };

  it('reads a complete OIDC configuration with its defaults: PGlite in memory, 127.0.0.1:8787, posthog and asana', () => {
    const config = configFromEnv(base);
    assert.deepEqual(config.identity, {
      kind: 'oidc',
      issuer: 'https://idp.example.com',
      audiences: ['onbehalf-vscode', 'other'],
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
      clockToleranceSeconds: 30,
    });
    assert.deepEqual(config.database, { kind: 'pglite' });
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8787);
    assert.deepEqual(config.connections, ['posthog', 'asana']);
    assert.equal(config.bodyLimitBytes, 262_144);
    assert.deepEqual(configFromEnv({ ...base, DATABASE_URL: 'postgres://gw@db:5432/gw' }).database, {
      kind: 'postgres',
      url: 'postgres://gw@db:5432/gw',
      poolSize: 10,
    });
    assert.deepEqual(configFromEnv({ ...base, ONBEHALF_GATEWAY_DATA_DIR: '/var/lib/gw' }).database, { kind: 'pglite', dataDir: '/var/lib/gw' });
  });

  it('reads GitHub with api.github.com by default; the cache can never exceed 60 s', () => {
    const config = configFromEnv({ ...base, ONBEHALF_GATEWAY_IDENTITY: 'github', GITHUB_REQUIRED_ORG: 'acme' });
    assert.deepEqual(config.identity, { kind: 'github', apiUrl: 'https://api.github.com', requiredOrg: 'acme', cacheSeconds: 60 });
    assert.throws(
      () => configFromEnv({ ...base, ONBEHALF_GATEWAY_IDENTITY: 'github', GITHUB_TOKEN_CACHE_SECONDS: '600' }),
      /GITHUB_TOKEN_CACHE_SECONDS: must be a whole number from 0 to 60/,
    );
  });

  it('names every wrong variable at once, and never repeats a secret', () => {
    const problems = [
      [{ ONBEHALF_GATEWAY_IDENTITY: 'saml' }, /ONBEHALF_GATEWAY_IDENTITY: must be "oidc" or "github"/],
      [{ OIDC_ALGORITHMS: 'RS256,HS256,none' }, /OIDC_ALGORITHMS: may only name asymmetric algorithms .*; not HS256, none/],
      [{ SCALEKIT_ENVIRONMENT_URL: 'http://acme.scalekit.dev' }, /SCALEKIT_ENVIRONMENT_URL: must use https/],
      [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a postgres:\/\//],
      [{ PORT: 'eighty' }, /PORT: must be a whole number/],
      [{ ONBEHALF_GATEWAY_CONNECTIONS: 'posthog,../etc' }, /ONBEHALF_GATEWAY_CONNECTIONS: holds names that are not connection names: \.\.\/etc/],
      [{ ONBEHALF_GATEWAY_AUDIT_KEY: 'c2hvcnQ=' }, /ONBEHALF_GATEWAY_AUDIT_KEY: must be at least 32 random bytes/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL: must be one of/],
    ] as const;
    for (const [env, message] of problems) {
      assert.throws(
        () => configFromEnv({ ...base, ...env }),
        (e: unknown) => e instanceof Error && message.test(e.message) && !e.message.includes('canary-secret-value'),
        JSON.stringify(env),
      );
    }
    assert.throws(
      () => configFromEnv({}),
      (e: unknown) => e instanceof Error && (e.message.match(/^ {2}- /gm) ?? []).length >= 5,
    );
  });

  it('a policy file is read strictly: a typo or an unknown rule stops the start instead of loosening anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-policy-'));
    try {
      const file = join(dir, 'policy.json');
      writeFileSync(file, JSON.stringify({ connections: { asana: { readOnly: true, tools: { asana_task_create: 'ask' } } } }));
      assert.deepEqual(configFromEnv({ ...base, ONBEHALF_GATEWAY_POLICY: file }).policy, {
        connections: { asana: { readOnly: true, default: 'allow', tools: { asana_task_create: 'ask' } } },
      });
      for (const [policy, message] of [
        [{ connections: { asana: { readonly: true } } }, /unknown key "readonly" in connections\.asana/],
        [{ connections: { asana: { tools: { x: 'block' } } } }, /connections\.asana\.tools\.x must be "allow", "ask" or "deny"/],
        [{ connection: {} }, /unknown policy key "connection"/],
        [{ connections: { asana: { readOnly: 'yes' } } }, /readOnly must be true or false/],
      ] as const) {
        writeFileSync(file, JSON.stringify(policy));
        assert.throws(() => configFromEnv({ ...base, ONBEHALF_GATEWAY_POLICY: file }), message);
      }
      writeFileSync(file, '{ not json');
      assert.throws(() => configFromEnv({ ...base, ONBEHALF_GATEWAY_POLICY: file }), /ONBEHALF_GATEWAY_POLICY: could not be used/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
