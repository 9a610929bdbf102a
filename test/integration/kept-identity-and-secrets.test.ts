// Issue 15 part 2 in the real extension host: the identity, the Scalekit secret and the settings
// are kept between calls (src/vscode/identityService.ts, src/vscode/secretStore.ts,
// src/vscode/settings.ts), and dropped by their change events. A switch of account while calls
// are in flight, a secret changed in SecretStorage behind OnBehalf's back, and team mode turned
// on while a call waits, must all be seen by the very next call.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { OnBehalfTestApi } from '../../src/vscode/testApi';
import { type Browser, type Emulators, oidcIdentifier, setSetting, signInAs, statusOf, useSignedInWorld, waitFor } from './support';

describe('kept identity and secrets: a change is seen by the next call', function () {
  this.timeout(90_000);
  const world = useSignedInWorld({ anthropicKey: 'sk-ant-kept', activeFor: ['ada', 'grace'] });
  let emulators: Emulators;
  let onbehalf: OnBehalfTestApi;
  let browser: Browser;
  const conversation = () => onbehalf.chat.activeConversation()!;
  const card = (toolUseId: string) => {
    const item = onbehalf.chat.activeConversation()?.items.find((i) => i.kind === 'tool' && i.id === toolUseId);
    return item && item.kind === 'tool' ? item.card : undefined;
  };
  const newId = () => `toolu_${Math.random().toString(36).slice(2)}`;

  before(async () => {
    ({ emulators, onbehalf, browser } = world);
    // Writes must ask: no "always allow" left by another suite.
    await vscode.commands.executeCommand('onbehalf.resetApprovals');
  });

  async function freshConversation(tools: string[]): Promise<void> {
    await onbehalf.chat.handleMessage({ type: 'newConversation' });
    conversation().loadedTools = tools;
  }

  it("switching account while calls are in flight: none of them runs as the previous user, and the next call runs as the new one (Scalekit's record)", async () => {
    const workspace = emulators.scalekit.data.asana.workspace.gid;
    await freshConversation(['asana_workspaces_list', 'asana_task_create']);
    const [read1, write1, read2, write2] = [newId(), newId(), newId(), newId()];
    // One reply with four calls: a read that runs, a write that waits for approval, and two
    // more queued behind it when the account switches.
    emulators.anthropic.queue(
      {
        toolUse: [
          { name: 'asana_workspaces_list', input: {}, id: read1 },
          { name: 'asana_task_create', input: { name: 'in flight one', workspace_gid: workspace }, id: write1 },
          { name: 'asana_workspaces_list', input: {}, id: read2 },
          { name: 'asana_task_create', input: { name: 'in flight two', workspace_gid: workspace }, id: write2 },
        ],
      },
      { text: 'done' },
    );
    const turn = onbehalf.chat.handleMessage({ type: 'send', text: 'list workspaces and create two tasks' });
    await waitFor('the first write waits for approval', () => card(write1)?.status === 'awaitingApproval');
    const executions = () => emulators.scalekit.executions;
    assert.deepEqual(
      executions().map((e) => [e.toolName, e.identifier]),
      [['asana_workspaces_list', oidcIdentifier('ada')]],
      'before the switch, the first read ran as Ada',
    );
    const before = executions().length;

    // Grace signs in; the identity is not read back first, so nothing waits for the kept one to go.
    browser.user = 'grace';
    await onbehalf.signIn();
    // The card is approved at once, as a person clicking during the switch would.
    await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: write1, decision: 'approve' });
    await turn;
    await onbehalf.chat.whenIdle();

    // The next call, in the chat of whoever is signed in now (not read back here: the
    // extension's own answer is what is under test) once that person's accounts are loaded.
    await waitFor('connections loaded', () => {
      const snapshot = onbehalf.connections();
      return !snapshot.loading && snapshot.identity !== undefined && statusOf(onbehalf, 'asana') === 'ACTIVE';
    });
    await freshConversation(['asana_workspaces_list']);
    emulators.anthropic.reset(); // the stopped turn left its closing reply queued
    const graceRead = newId();
    emulators.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {}, id: graceRead } }, { text: 'done' });
    await onbehalf.chat.handleMessage({ type: 'send', text: 'list my workspaces' });
    await onbehalf.chat.whenIdle();

    assert.deepEqual(
      executions()
        .slice(before)
        .map((e) => [e.toolName, e.identifier]),
      [['asana_workspaces_list', oidcIdentifier('grace')]],
      'after the switch only Grace ran a call: none of the calls in flight, and the next call as Grace',
    );
    assert.equal(card(graceRead)?.status, 'succeeded', card(graceRead)?.error);
    const names = [...emulators.scalekit.data.asana.tasks.values()].map((t) => t.name);
    assert.ok(!names.includes('in flight one') && !names.includes('in flight two'), 'neither write ran');
  });

  it('a Scalekit secret changed in SecretStorage by another window is used by the next call, even one already waiting for approval', async () => {
    await signInAs(onbehalf, browser, 'ada');
    emulators.anthropic.reset();
    const workspace = emulators.scalekit.data.asana.workspace.gid;
    await freshConversation(['asana_task_create', 'asana_workspaces_list']);
    const write = newId();
    emulators.anthropic.queue(
      { toolUse: { name: 'asana_task_create', input: { name: 'after rotation', workspace_gid: workspace }, id: write } },
      { text: 'done' },
    );
    const turn = onbehalf.chat.handleMessage({ type: 'send', text: 'create a task' });
    await waitFor('the write waits for approval', () => card(write)?.status === 'awaitingApproval');

    // Another window stores a different secret (one Scalekit does not accept).
    const executionsBefore = emulators.scalekit.executions.length;
    const tokensIssued = emulators.scalekit.tokensIssued;
    const tokenRequests = emulators.scalekit.tokenRequests;
    await onbehalf.writeSecretStorage('scalekitClientSecret', 'secret-from-another-window');
    await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: write, decision: 'approve' });
    await turn;
    await onbehalf.chat.whenIdle();
    const failed = card(write);
    assert.equal(failed?.status, 'failed', 'the call ran with the new secret, which Scalekit refused');
    assert.match(failed?.error ?? '', /secret|credential/i);
    assert.equal(emulators.scalekit.executions.length, executionsBefore, 'nothing ran in Scalekit');
    assert.ok(emulators.scalekit.tokenRequests > tokenRequests, 'the new secret was sent for a token');
    assert.equal(emulators.scalekit.tokensIssued, tokensIssued, 'and no token was issued for it');

    // The right secret is back: the next call uses it.
    await onbehalf.writeSecretStorage('scalekitClientSecret', emulators.scalekit.clientSecret);
    await waitFor('connections active again', () => statusOf(onbehalf, 'asana') === 'ACTIVE' && statusOf(onbehalf, 'posthog') === 'ACTIVE', 30_000);
    await freshConversation(['asana_workspaces_list']);
    const read = newId();
    emulators.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {}, id: read } }, { text: 'done' });
    await onbehalf.chat.handleMessage({ type: 'send', text: 'list my workspaces' });
    await onbehalf.chat.whenIdle();
    assert.equal(card(read)?.status, 'succeeded');
    assert.deepEqual(
      emulators.scalekit.executions.slice(executionsBefore).map((e) => [e.toolName, e.identifier]),
      [['asana_workspaces_list', oidcIdentifier('ada')]],
    );
  });

  it('team mode turned on while a write waits for approval: the write goes to the gateway, never to Scalekit directly (the kept settings are dropped)', async () => {
    await signInAs(onbehalf, browser, 'ada');
    emulators.anthropic.reset();
    const workspace = emulators.scalekit.data.asana.workspace.gid;
    await freshConversation(['asana_task_create']);
    const write = newId();
    emulators.anthropic.queue(
      { toolUse: { name: 'asana_task_create', input: { name: 'after team mode', workspace_gid: workspace }, id: write } },
      { text: 'done' },
    );
    const turn = onbehalf.chat.handleMessage({ type: 'send', text: 'create a task' });
    await waitFor('the write waits for approval', () => card(write)?.status === 'awaitingApproval');
    const executionsBefore = emulators.scalekit.executions.length;

    // Team mode, with a gateway nobody listens on: a call sent there fails, one sent to Scalekit would run.
    await setSetting('gateway.url', 'http://127.0.0.1:9');
    try {
      await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: write, decision: 'approve' });
      await turn;
      await onbehalf.chat.whenIdle();
      assert.equal(card(write)?.status, 'failed', 'the write went to the (unreachable) gateway');
      assert.match(card(write)?.error ?? '', /gateway is unreachable/);
      assert.equal(emulators.scalekit.executions.length, executionsBefore, 'nothing ran in Scalekit directly');
      assert.ok(![...emulators.scalekit.data.asana.tasks.values()].some((t) => t.name === 'after team mode'), 'the write did not run');
    } finally {
      // Team mode removed the Scalekit secret from SecretStorage: put back the direct-mode world.
      await setSetting('gateway.url', undefined);
      await onbehalf.storeSecret('scalekitClientSecret', emulators.scalekit.clientSecret);
      await waitFor('connections active again', () => statusOf(onbehalf, 'asana') === 'ACTIVE' && statusOf(onbehalf, 'posthog') === 'ACTIVE', 30_000);
    }
  });
});
