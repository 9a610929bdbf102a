import * as assert from 'node:assert/strict';
import { ScalekitAccounts } from '../../../src/scalekit/scalekitAccounts';
import { ConnectionInactiveError, UnknownScalekitConnectionError } from '../../../src/core/errors';
import { runAgentTurn } from '../../../src/agent/agentLoop';
import { startScalekitEmulator, type ScalekitEmulator } from '../../emulators/scalekit/server';
import { ask, lastCard, startAgentWorld } from '../agent/fixture';
import { identifierOf } from '../../support/identifiers';

const ada = identifierOf('oidc', 'ada');
const grace = identifierOf('oidc', 'grace');

// Tool calls as Scalekit really resolves and refuses them, through the real @scalekit-sdk/node.

describe('Scalekit tool calls as the real service answers them', function () {
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

  it('names the connection with the identifier, so Scalekit resolves the account from the pair', async () => {
    emu.activateAccount(ada, 'asana');
    await accounts.executeTool(ada, 'asana', 'asana_workspaces_list', {});
    const execution = emu.executions.at(-1)!;
    assert.equal(execution.ok, true);
    assert.equal(execution.connectionName, 'asana');
  });

  it('a connection name Scalekit does not know is said plainly, not shown as "not connected yet"', async () => {
    await assert.rejects(
      accounts.status(ada, 'PostHog'),
      (e: unknown) => UnknownScalekitConnectionError.is(e) && /no connection named "PostHog"/.test(e.message) && /exactly/.test(e.hint ?? ''),
    );
    assert.equal(await accounts.status(grace, 'asana'), 'NOT_CONNECTED', 'a known connection without an account is still "not connected"');
  });

  it('a provider 401 on an ACTIVE account asks for re-authorization, not a plain failure', async () => {
    emu.activateAccount(ada, 'asana');
    emu.injectFault({ kind: 'toolError', code: 'unauthorized', toolName: 'asana_workspaces_list', message: 'Asana answered 401: token revoked', times: 1 });
    await assert.rejects(
      accounts.executeTool(ada, 'asana', 'asana_workspaces_list', {}),
      (e: unknown) => ConnectionInactiveError.is(e) && e.connection === 'asana' && /revoked|re-authorize/i.test(`${e.message} ${e.hint ?? ''}`),
    );
  });

  it('the card offers Re-authorize when the provider revoked a grant Scalekit still calls ACTIVE', async () => {
    const world = await startAgentWorld();
    try {
      world.scalekit.injectFault({ kind: 'toolError', code: 'unauthorized', toolName: 'asana_workspaces_list', message: 'Asana answered 401', times: 1 });
      world.conversation.loadedTools = ['asana_workspaces_list'];
      world.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {} } }, { text: 'Please re-authorize Asana.' });
      ask(world, 'Which workspaces?');
      assert.equal(await runAgentTurn(world.conversation, world.deps(), new AbortController().signal), 'completed');
      const card = lastCard(world, 'asana_workspaces_list');
      assert.equal(card.status, 'failed');
      assert.deepEqual(card.fix, { kind: 'reauthorize', connection: 'asana' });
    } finally {
      await world.close();
    }
  });
});
