import * as assert from 'node:assert/strict';
import { ConnectionInactiveError, ToolFailedError } from '../../../src/core/errors';
import { ToolBackends, defineTool, type ToolBackend, type ToolCall } from '../../../src/core/toolBackend';
import { EnterpriseToolBackend } from '../../../src/enterprise/enterpriseBackend';
import { ScalekitToolBackend } from '../../../src/scalekit/scalekitBackend';
import { identifierOf } from '../../support/identifiers';

const ada = identifierOf('oidc', 'ada');
const grace = identifierOf('oidc', 'grace');

// The one seam for tool backends: routing by connection, the risk classified once, and
// each backend's answers mapped to the typed errors.

function call(connection: string, toolName = 'x_list'): ToolCall {
  return { identifier: ada, connection, toolName, input: {}, signal: new AbortController().signal };
}

describe('tool backends', () => {
  it('defineTool classifies risk once, from the name and the annotations', () => {
    assert.equal(defineTool({ name: 'asana_task_delete', description: '', inputSchema: {}, connection: 'asana' }).risk, 'destructive');
    assert.equal(defineTool({ name: 'asana_tasks_list', description: '', inputSchema: {}, connection: 'asana' }).risk, 'read');
    assert.equal(defineTool({ name: 'posthogent_thing', description: '', inputSchema: {}, connection: 'p', annotations: {} }).risk, 'destructive');
  });

  it('routes each call to the first backend serving its connection, and refuses an unserved one', async () => {
    const seen: string[] = [];
    const backend = (label: string, serves: (c: string) => boolean): ToolBackend => ({
      label,
      serves,
      connectionStatus: async () => 'ACTIVE',
      listTools: async () => [],
      execute: async (c) => {
        seen.push(`${label}:${c.connection}:${c.identifier}`);
        return { data: label, executionId: '' };
      },
    });
    const routed = new ToolBackends([backend('mcp', (c) => c === 'posthog-enterprise'), backend('scalekit', (c) => c !== 'nowhere')]);
    await routed.execute(call('posthog-enterprise'));
    await routed.execute(call('asana'));
    assert.deepEqual(seen, [`mcp:posthog-enterprise:${ada}`, `scalekit:asana:${ada}`]);
    await assert.rejects(routed.execute(call('nowhere')), (e: unknown) => ConnectionInactiveError.is(e));
    assert.equal(await routed.connectionStatus(ada, 'nowhere'), 'NOT_CONNECTED');
  });

  it('Scalekit: passes the identifier of each call through', async () => {
    const calls: string[] = [];
    const backend = new ScalekitToolBackend({
      status: async () => 'EXPIRED',
      listTools: async () => [],
      executeTool: async (identifier, connection, toolName) => {
        calls.push(`${identifier} ${connection} ${toolName}`);
        return { data: 1, executionId: 'e1' };
      },
    });
    assert.deepEqual(await backend.execute(call('asana', 'asana_tasks_list')), { data: 1, executionId: 'e1' });
    assert.deepEqual(calls, [`${ada} asana asana_tasks_list`]);
    assert.equal(await backend.connectionStatus(ada, 'asana'), 'EXPIRED');
  });

  it('enterprise MCP: an isError result is a ToolFailedError; tools and status only for the identity they were listed for', async () => {
    const tool = defineTool({ name: 'posthogent_flags_list', description: '', inputSchema: {}, connection: 'posthog-enterprise' });
    let signal: AbortSignal | undefined;
    const port = {
      snapshot: { status: { state: 'ready', connected: true } as const, tools: [tool], identifier: ada },
      callTool: async (name: string, _input: Record<string, unknown>, s?: AbortSignal) => {
        signal = s;
        return name === 'bad' ? { data: null, isError: true, text: 'no such flag' } : { data: { ok: true }, isError: false, text: '' };
      },
    };
    const backend = new EnterpriseToolBackend(port, 'posthog-enterprise');
    const c = call('posthog-enterprise', 'posthogent_flags_list');
    assert.deepEqual(await backend.execute(c), { data: { ok: true }, executionId: '' });
    assert.equal(signal, c.signal, 'Stop reaches the MCP request');
    await assert.rejects(backend.execute(call('posthog-enterprise', 'bad')), (e: unknown) => ToolFailedError.is(e) && /no such flag/.test(e.message));
    assert.deepEqual(await backend.listTools(ada, 'posthog-enterprise'), [tool]);
    assert.deepEqual(await backend.listTools(grace, 'posthog-enterprise'), []);
    assert.equal(await backend.connectionStatus(ada, 'posthog-enterprise'), 'ACTIVE');
    assert.equal(await backend.connectionStatus(grace, 'posthog-enterprise'), 'NOT_CONNECTED');
    assert.equal(backend.serves('posthog'), false);
  });
});
