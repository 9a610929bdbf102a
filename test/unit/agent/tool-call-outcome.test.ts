import * as assert from 'node:assert/strict';
import { runAgentTurn } from '../../../src/agent/agentLoop';
import { NotSignedInError } from '../../../src/core/errors';
import { ask, startAgentWorld, type AgentWorld } from './fixture';
import { identifierOf } from '../../support/identifiers';

const ada = identifierOf('oidc', 'ada');
const grace = identifierOf('oidc', 'grace');

// One outcome per tool call, turned into cards and audit records in one place
// (toolCallTranslator.ts): the exact cards and records each path produces.

describe('tool call outcomes: cards and audit records', function () {
  this.timeout(30_000);
  let world: AgentWorld;
  beforeEach(async () => {
    world = await startAgentWorld();
  });
  afterEach(async () => {
    await world.close();
  });

  const toolCards = (w: AgentWorld, toolName: string) => w.items.flatMap((i) => (i.kind === 'tool' && i.card.toolName === toolName ? [i.card] : []));

  it('an approved write: running, awaiting approval, running, succeeded; one audit record as the signed-in identifier', async () => {
    world.conversation.loadedTools = ['asana_task_create'];
    world.answers.push('approve');
    world.anthropic.queue(
      { toolUse: { name: 'asana_task_create', input: { name: 'Write docs', workspace: world.scalekit.data.asana.workspace.gid } } },
      { text: 'Done.' },
    );
    ask(world, 'create a task');
    await runAgentTurn(world.conversation, world.deps({ now: () => 1_000 }), new AbortController().signal);
    const cards = toolCards(world, 'asana_task_create');
    assert.deepEqual(
      cards.map((c) => c.status),
      ['running', 'awaitingApproval', 'running', 'succeeded'],
    );
    assert.equal(cards[1]!.canAlwaysAllow, true);
    assert.equal(cards[3]!.durationMs, 0);
    assert.match(cards[3]!.output ?? '', /Write docs/);
    assert.equal(world.audit.length, 1);
    const { inputHmac, executionId, ...record } = world.audit[0]!;
    assert.ok(inputHmac && executionId);
    assert.deepEqual(record, {
      time: new Date(1_000).toISOString(),
      identifier: ada,
      connection: 'asana',
      tool: 'asana_task_create',
      risk: 'write',
      decision: 'user-approved',
      outcome: 'success',
      durationMs: 0,
      approvalWaitMs: 0,
    });
    const conversationCard = world.conversation.items.find((i) => i.kind === 'tool' && i.card.toolName === 'asana_task_create');
    assert.deepEqual(
      conversationCard,
      [...world.items].reverse().find((i) => i.kind === 'tool'),
      'the conversation keeps the last card',
    );
    assert.equal(world.conversation.items.filter((i) => i.kind === 'tool' && i.card.toolName === 'asana_task_create').length, 1, 'once');
  });

  it('the identifier is derived again after the approval wait: a switch or a sign-out runs nothing and is audited for the approver', async () => {
    world.conversation.loadedTools = ['asana_task_create'];
    for (const after of [async () => grace, async () => Promise.reject(new NotSignedInError())]) {
      world.answers.push('approve');
      let calls = 0;
      const deps = world.deps({ now: () => 5, currentIdentifier: () => (++calls === 1 ? Promise.resolve(ada) : after()) });
      world.anthropic.queue({ toolUse: { name: 'asana_task_create', input: { name: 'x', workspace: '1' } } }, { text: 'ok' });
      ask(world, 'create');
      await runAgentTurn(world.conversation, deps, new AbortController().signal);
      assert.equal(calls, 2, 'once before the decision, once after it');
    }
    assert.equal(world.scalekit.executions.length, 0);
    assert.deepEqual(
      world.audit.map((r) => [r.identifier, r.decision, r.outcome, r.errorCode, r.durationMs]),
      [
        [ada, 'user-approved', 'failure', 'identity_changed', 0],
        [ada, 'user-approved', 'failure', 'not_signed_in', 0],
      ],
    );
    const finals = toolCards(world, 'asana_task_create').filter((c) => c.status === 'failed');
    assert.equal(finals.length, 2);
    assert.ok(
      finals.every((c) => c.durationMs === undefined),
      'nothing ran, so no duration',
    );
  });

  it('refusals before the decision are audited with decision denied and no duration; signed out, nothing is audited', async () => {
    world.conversation.loadedTools = ['asana_task_create'];
    world.anthropic.queue({ toolUse: { name: 'no_such_tool', input: {}, unoffered: true } }, { text: 'ok' });
    ask(world, 'x');
    await runAgentTurn(world.conversation, world.deps({ now: () => 7 }), new AbortController().signal);
    assert.deepEqual(
      world.audit.map((r) => [r.tool, r.connection, r.risk, r.decision, r.outcome, r.errorCode, r.durationMs, r.time]),
      [['no_such_tool', 'unknown', 'write', 'denied', 'failure', 'unknown_tool', 0, new Date(7).toISOString()]],
    );
    assert.deepEqual(
      toolCards(world, 'no_such_tool').map((c) => [c.status, c.error]),
      [['failed', 'No such tool in your connected accounts.']],
    );

    world.anthropic.queue({ toolUse: { name: 'asana_task_create', input: { name: 'y', workspace: '1' } } }, { text: 'ok' });
    ask(world, 'again');
    await runAgentTurn(world.conversation, world.deps({ currentIdentifier: async () => Promise.reject(new NotSignedInError()) }), new AbortController().signal);
    assert.equal(world.audit.length, 1, 'signed out: no record');
    assert.deepEqual(
      toolCards(world, 'asana_task_create').map((c) => c.status),
      ['failed'],
    );
  });
});
