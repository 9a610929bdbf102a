import * as assert from 'node:assert/strict';
import { runAgentTurn } from '../../../src/agent/agentLoop';
import { ApprovalPolicy } from '../../../src/agent/policy';
import type { ToolBackend } from '../../../src/core/toolBackend';
import { ask, startAgentWorld, type AgentWorld } from './fixture';

// The time a call ran and the time it waited for the user's approval are kept apart: an
// approved call that ran in milliseconds must not show seconds of someone reading a card.

/** The real backend, whose requests move the test clock on by `ms`. */
function slowBy<B extends Pick<ToolBackend, 'execute'>>(real: B, ms: number, advance: (ms: number) => void): B {
  const execute = real.execute.bind(real);
  real.execute = async (request) => {
    const result = await execute(request);
    advance(ms);
    return result;
  };
  return real;
}

describe('tool call durations: execution and approval wait apart', function () {
  this.timeout(30_000);
  let world: AgentWorld;
  beforeEach(async () => {
    world = await startAgentWorld();
  });
  afterEach(async () => {
    await world.close();
  });

  it('a slow approval and a fast execution: the card and the audit record show the execution, and the wait apart', async () => {
    let clock = 1_000;
    const real = world.deps().backend;
    const backend = slowBy(real, 40, (ms) => (clock += ms)); // the request took 40 ms
    const policy = new ApprovalPolicy({
      ruleFor: () => undefined,
      isAlwaysAllowed: () => false,
      rememberAlwaysAllowed: async () => undefined,
      askUser: async () => {
        clock += 6_750; // the user read the card for 6.75 s
        return 'approve';
      },
    });
    world.conversation.loadedTools = ['asana_task_create'];
    world.anthropic.queue(
      { toolUse: { name: 'asana_task_create', input: { name: 'Write docs', workspace: world.scalekit.data.asana.workspace.gid } } },
      { text: 'Done.' },
    );
    ask(world, 'create a task');
    await runAgentTurn(world.conversation, world.deps({ now: () => clock, backend, policy }), new AbortController().signal);
    const card = [...world.items].reverse().find((i) => i.kind === 'tool' && i.card.toolName === 'asana_task_create');
    assert.ok(card && card.kind === 'tool');
    assert.equal(card.card.status, 'succeeded');
    assert.equal(card.card.durationMs, 40);
    assert.equal(card.card.approvalWaitMs, 6_750);
    assert.equal(world.audit.length, 1);
    assert.equal(world.audit[0]!.durationMs, 40);
    assert.equal(world.audit[0]!.approvalWaitMs, 6_750);
  });

  it('a call run by a rule waits for nobody: no approval wait on the card or in the record', async () => {
    let clock = 1_000;
    const real = world.deps().backend;
    const backend = slowBy(real, 12, (ms) => (clock += ms));
    world.conversation.loadedTools = ['asana_workspaces_list'];
    world.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {} } }, { text: 'Done.' });
    ask(world, 'list');
    await runAgentTurn(world.conversation, world.deps({ now: () => clock, backend }), new AbortController().signal);
    const card = [...world.items].reverse().find((i) => i.kind === 'tool' && i.card.toolName === 'asana_workspaces_list');
    assert.ok(card && card.kind === 'tool');
    assert.equal(card.card.status, 'succeeded');
    assert.equal(card.card.durationMs, 12);
    assert.equal(card.card.approvalWaitMs, undefined);
    assert.equal(world.audit[0]!.durationMs, 12);
    assert.equal(world.audit[0]!.approvalWaitMs, undefined);
  });
});
