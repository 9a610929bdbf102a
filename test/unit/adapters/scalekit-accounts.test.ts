import * as assert from 'node:assert/strict';
import { ScalekitAccounts } from '../../../src/scalekit/scalekitAccounts';
import {
  ConnectionInactiveError,
  InvalidCredentialsError,
  OutcomeUnknownError,
  RateLimitedError,
  ServiceUnavailableError,
  ToolFailedError,
  VerifyRejectedError,
} from '../../../src/core/errors';
import { startScalekitEmulator, type ScalekitEmulator } from '../../emulators/scalekit/server';
import { identifierOf } from '../../support/identifiers';

const ada = identifierOf('oidc', 'ada');
const grace = identifierOf('oidc', 'grace');

// The adapter over the real @scalekit-sdk/node, against the gRPC emulator.

describe('Scalekit adapter', function () {
  this.timeout(30_000);
  let emu: ScalekitEmulator;
  let accounts: ScalekitAccounts;
  beforeEach(async () => {
    emu = await startScalekitEmulator();
    accounts = new ScalekitAccounts(async () => ({ environmentUrl: emu.url, clientId: emu.clientId, clientSecret: emu.clientSecret }));
  });
  afterEach(async () => {
    await emu.close();
  });

  it('reports NOT_CONNECTED, then each lifecycle status', async () => {
    assert.equal(await accounts.status(ada, 'posthog'), 'NOT_CONNECTED');
    assert.equal(await accounts.getOrCreate(ada, 'posthog'), 'PENDING_AUTH');
    for (const status of ['PENDING_VERIFICATION', 'ACTIVE', 'EXPIRED', 'DISCONNECTED'] as const) {
      emu.setAccountStatus(ada, 'posthog', status);
      assert.equal(await accounts.status(ada, 'posthog'), status);
    }
    assert.equal(await accounts.status(grace, 'posthog'), 'NOT_CONNECTED', 'accounts are per identifier');
  });

  it('connects through the consent page and verify, as the same identifier only', async () => {
    await accounts.getOrCreate(ada, 'asana');
    const link = await accounts.authorizationLink(ada, 'asana', 'state-1', 'http://127.0.0.1:9/verify?x=1');
    const id = new URL(link).pathname.split('/').pop()!;
    const outcome = emu.decideConsent(id, 'allow');
    const redirect = new URL(outcome.redirectUrl!);
    assert.equal(redirect.searchParams.get('state'), 'state-1');
    assert.equal(redirect.searchParams.get('x'), '1');
    const authRequestId = redirect.searchParams.get('auth_request_id')!;
    await assert.rejects(accounts.verifyUser(grace, 'asana', authRequestId), (e: unknown) => VerifyRejectedError.is(e));
    assert.equal(await accounts.status(ada, 'asana'), 'PENDING_VERIFICATION');
    await accounts.verifyUser(ada, 'asana', authRequestId);
    assert.equal(await accounts.status(ada, 'asana'), 'ACTIVE');
    await assert.rejects(accounts.verifyUser(ada, 'asana', authRequestId), (e: unknown) => VerifyRejectedError.is(e), 'replay');
  });

  it('lists every page of tools (199 PostHog, 210 Asana) for active connections only', async () => {
    assert.deepEqual(await accounts.listTools(ada, 'posthog'), []);
    emu.activateAccount(ada, 'posthog');
    emu.activateAccount(ada, 'asana');
    const posthog = await accounts.listTools(ada, 'posthog');
    const asana = await accounts.listTools(ada, 'asana');
    assert.equal(posthog.length, 199);
    assert.equal(asana.length, 210);
    assert.ok(posthog.every((t) => t.connection === 'posthog' && t.name.startsWith('posthogmcp_')));
    assert.ok(emu.rpcLog.filter((r) => r.method === 'ListScopedTools').length >= 4, 'more than one page each');
  });

  it('maps inactive accounts, tool errors, rate limits and outages to typed errors', async () => {
    emu.activateAccount(ada, 'asana');
    emu.expireAccount(ada, 'asana');
    await assert.rejects(
      accounts.executeTool(ada, 'asana', 'asana_workspaces_list', {}),
      (e: unknown) => ConnectionInactiveError.is(e) && e.status === 'EXPIRED',
    );
    emu.activateAccount(ada, 'asana');
    emu.injectFault({ kind: 'toolError', code: 'other', message: 'upstream broke', times: 1 });
    await assert.rejects(
      accounts.executeTool(ada, 'asana', 'asana_workspaces_list', {}),
      (e: unknown) => ToolFailedError.is(e) && /upstream broke/.test(e.message),
    );
    emu.injectFault({ kind: 'toolError', code: 'rate_limit', times: 1 });
    await assert.rejects(accounts.executeTool(ada, 'asana', 'asana_workspaces_list', {}), (e: unknown) => RateLimitedError.is(e));
    emu.injectFault({ kind: 'resourceExhausted', rpc: 'GetConnectedAccountAuth', times: 1 });
    await assert.rejects(accounts.status(ada, 'asana'), (e: unknown) => RateLimitedError.is(e));
    const result = await accounts.executeTool(ada, 'asana', 'asana_workspaces_list', {});
    assert.ok(result.executionId);
  });

  describe('a tool call is sent at most once once it may have reached the provider', () => {
    const taskNamed = (name: string) => [...emu.data.asana.tasks.values()].filter((task) => task.name === name);
    const executeTries = () => emu.rpcLog.filter((entry) => entry.method === 'ExecuteTool').length;
    const createTask = (name: string) => accounts.executeTool(ada, 'asana', 'asana_task_create', { name, workspace_gid: emu.data.asana.workspace.gid });
    beforeEach(async () => {
      emu.activateAccount(ada, 'asana');
      // The SDK's token first, so the tries counted below are the tool call's own.
      await accounts.status(ada, 'asana');
      emu.resetLogs();
    });

    it('a write whose answer was lost is not sent again: one task in Asana, and an error that says to check there', async () => {
      emu.injectFault({ kind: 'lostAnswer', rpc: 'ExecuteTool', times: 1 });
      await assert.rejects(
        createTask('Lost answer recap'),
        (e: unknown) =>
          OutcomeUnknownError.is(e) &&
          /asana_task_create may or may not have run/.test(e.message) &&
          /Check in Asana before running it again/.test(e.hint ?? ''),
      );
      assert.equal(taskNamed('Lost answer recap').length, 1, 'the task was created once, not once per SDK retry');
      assert.equal(executeTries(), 1);
    });

    it('an Unavailable answer is not resent either: from outside it cannot be told from a lost one', async () => {
      emu.injectFault({ kind: 'unavailable', rpc: 'ExecuteTool', times: 1 });
      await assert.rejects(createTask('Maybe sent'), (e: unknown) => OutcomeUnknownError.is(e));
      assert.equal(executeTries(), 1);
    });

    it('a call past its deadline is not sent again either, and says it may have run', async () => {
      const impatient = new ScalekitAccounts(async () => ({ environmentUrl: emu.url, clientId: emu.clientId, clientSecret: emu.clientSecret }), {
        toolTimeoutMs: 300,
      });
      await impatient.status(ada, 'asana');
      emu.resetLogs();
      emu.injectFault({ kind: 'latency', ms: 1_500, rpc: 'ExecuteTool', times: 1 });
      await assert.rejects(
        impatient.executeTool(ada, 'asana', 'asana_task_create', { name: 'Too slow', workspace_gid: emu.data.asana.workspace.gid }),
        (e: unknown) => OutcomeUnknownError.is(e) && /may or may not have run/.test(e.message),
      );
      // The emulator logs the call when its delayed handling ends, after the client gave up.
      for (let waited = 0; executeTries() === 0 && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(executeTries(), 1);
    });

    it('a refused token is renewed and the call sent again: Scalekit refused it before anything ran', async () => {
      emu.revokeTokens();
      const created = await createTask('After a new token');
      assert.ok(created.executionId);
      assert.equal(taskNamed('After a new token').length, 1);
      assert.deepEqual(
        emu.rpcLog.filter((entry) => entry.method === 'ExecuteTool').map((entry) => entry.code),
        ['Unauthenticated', 'ok'],
      );
    });

    it('a call that never left (connection refused) is tried again by the SDK, then says Scalekit is unreachable', async () => {
      const down = new ScalekitAccounts(async () => ({ environmentUrl: 'http://127.0.0.1:1', clientId: 'x', clientSecret: 'y' }));
      await assert.rejects(down.executeTool(ada, 'asana', 'asana_workspaces_list', {}), (e: unknown) => ServiceUnavailableError.is(e));
    });
  });

  it('says Scalekit is unreachable when nothing listens, and rejects a bad secret', async () => {
    const down = new ScalekitAccounts(async () => ({ environmentUrl: 'http://127.0.0.1:1', clientId: 'x', clientSecret: 'y' }));
    await assert.rejects(down.status(ada, 'posthog'), (e: unknown) => ServiceUnavailableError.is(e));
    await assert.rejects(
      ScalekitAccounts.checkCredentials({ environmentUrl: emu.url, clientId: emu.clientId, clientSecret: 'wrong-secret' }),
      (e: unknown) => InvalidCredentialsError.is(e) && !e.message.includes('wrong-secret'),
    );
    await ScalekitAccounts.checkCredentials({ environmentUrl: emu.url, clientId: emu.clientId, clientSecret: emu.clientSecret });
  });
});
