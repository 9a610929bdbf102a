import * as assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { identifierFor } from '../../src/core/identifier';
import { parsePolicy } from '../../src/gateway/policy';
import { mcpMeta } from '../../src/gateway/protocol';
import type { RunningGateway } from '../../src/gateway/server';
import { auditRows, idToken, mcpClient, startOidcGateway, startWorld, type World } from './support';

// The gateway's MCP server through the real MCP client SDK: the caller's tools of every
// ACTIVE connection, risk annotations, the organisation's policy, and one audit row per call.

const text = (result: CallToolResult): string => result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

describe('gateway MCP tools', function () {
  this.timeout(60_000);
  let world: World;
  let gateway: RunningGateway;
  let ada: string;
  let adaId: string;
  let client: Client;
  const clients: Client[] = [];
  const connect = async (token: string, gw: RunningGateway = gateway) => {
    const c = await mcpClient(gw, token);
    clients.push(c);
    return c;
  };

  before(async () => {
    world = await startWorld();
    gateway = await startOidcGateway(world);
    ada = await idToken(world, 'ada');
    adaId = identifierFor('oidc', 'ada', world.idp.issuer);
    world.scalekit.activateAccount(adaId, 'posthog');
    world.scalekit.activateAccount(adaId, 'asana');
    client = await connect(ada);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await gateway.close();
    await world.close();
  });
  beforeEach(async () => {
    world.scalekit.resetLogs();
    world.scalekit.clearFaults();
    await gateway.database.query('DELETE FROM audit');
  });

  it('lists every tool of every ACTIVE connection (199 PostHog + 210 Asana), with risk annotations and the connection in _meta', async () => {
    const { tools } = await client.listTools();
    assert.equal(tools.length, 409);
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.deepEqual(byName.get('posthogmcp_action_get')?.annotations, { readOnlyHint: true, destructiveHint: false });
    assert.deepEqual(byName.get('asana_allocation_create')?.annotations, { readOnlyHint: false, destructiveHint: false });
    assert.deepEqual(byName.get('posthogmcp_action_delete')?.annotations, { readOnlyHint: false, destructiveHint: true });
    assert.deepEqual(byName.get('asana_allocation_create')?._meta, { [mcpMeta.connection]: 'asana', [mcpMeta.policy]: 'allow' });
    assert.equal(byName.get('posthogmcp_action_get')?._meta?.[mcpMeta.connection], 'posthog');
  });

  it("lists only the caller's own tools: Grace, with nothing connected, gets none; an expired connection offers none", async () => {
    const grace = await connect(await idToken(world, 'grace'));
    assert.deepEqual((await grace.listTools()).tools, []);
    world.scalekit.expireAccount(adaId, 'asana');
    try {
      const { tools } = await client.listTools();
      assert.equal(tools.length, 199);
      assert.ok(tools.every((t) => t.name.startsWith('posthogmcp_')));
    } finally {
      world.scalekit.activateAccount(adaId, 'asana');
    }
  });

  it('runs a read as the caller and writes exactly one audit row with the client-reported decision and the execution id', async () => {
    const result = (await client.callTool({
      name: 'asana_workspaces_list',
      arguments: {},
      _meta: { [mcpMeta.decision]: 'user-approved', [mcpMeta.approvalWaitMs]: 1234 },
    })) as CallToolResult;
    assert.notEqual(result.isError, true, text(result));
    assert.match(text(result), /Acme Corp/);
    assert.deepEqual(
      world.scalekit.executions.map((e) => [e.toolName, e.identifier, e.connectionName]),
      [['asana_workspaces_list', adaId, 'asana']],
    );
    const rows = await auditRows(gateway);
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.identifier, adaId);
    assert.equal(row.connection, 'asana');
    assert.equal(row.tool, 'asana_workspaces_list');
    assert.equal(row.risk, 'read');
    assert.equal(row.outcome, 'ok');
    assert.equal(row.decision, 'user-approved');
    assert.equal(row.decision_source, 'client-reported');
    assert.equal(Number(row.approval_wait_ms), 1234);
    assert.equal(row.execution_id, world.scalekit.executions[0]!.executionId);
    assert.equal(row.instance, 'gw-test');
    assert.match(row.input_hmac, /^[0-9a-f]{64}$/);
    assert.equal(result._meta?.[mcpMeta.executionId], row.execution_id);
  });

  it('exactly one audit row per call: a success, a tool error, an unknown tool, and an unreported decision', async () => {
    await client.callTool({ name: 'posthogmcp_action_get', arguments: { id: 1 } });
    world.scalekit.injectFault({ kind: 'toolError', code: 'other', message: 'upstream broke', times: 1 });
    const failed = (await client.callTool({ name: 'asana_workspaces_list', arguments: {} })) as CallToolResult;
    assert.equal(failed.isError, true);
    assert.match(text(failed), /upstream broke/);
    await assert.rejects(client.callTool({ name: 'asana_no_such_tool', arguments: {} }), (e: unknown) => e instanceof McpError && e.code === -32602);
    const rows = await auditRows(gateway);
    assert.deepEqual(
      rows.map((r) => [r.tool, r.outcome, r.decision]),
      [
        ['posthogmcp_action_get', 'ok', 'unreported'],
        ['asana_workspaces_list', 'error', 'unreported'],
        ['asana_no_such_tool', 'refused', 'unknown-tool'],
      ],
    );
    assert.match(rows[1]!.error ?? '', /upstream broke/);
    assert.equal(rows[2]!.decision_source, 'gateway');
  });

  it('a call whose answer Scalekit lost is not sent again: outcome_unknown, one task, one audit row saying so', async () => {
    world.scalekit.injectFault({ kind: 'lostAnswer', rpc: 'ExecuteTool', times: 1 });
    const name = 'Recap whose answer was lost';
    const result = (await client.callTool({
      name: 'asana_task_create',
      arguments: { name, workspace_gid: world.scalekit.data.asana.workspace.gid },
      _meta: { [mcpMeta.decision]: 'user-approved' },
    })) as CallToolResult;
    assert.equal(result.isError, true);
    assert.equal(result._meta?.[mcpMeta.errorCode], 'outcome_unknown');
    assert.match(text(result), /asana_task_create may or may not have run.*Check in Asana before running it again/s);
    assert.equal([...world.scalekit.data.asana.tasks.values()].filter((task) => task.name === name).length, 1, 'created once');
    assert.equal(world.scalekit.rpcLog.filter((entry) => entry.method === 'ExecuteTool').length, 1, 'sent once');
    const rows = await auditRows(gateway);
    assert.deepEqual(
      rows.map((r) => [r.tool, r.outcome]),
      [['asana_task_create', 'error']],
    );
    assert.match(rows[0]!.error ?? '', /may or may not have run/);
  });

  it('an unknown tool is refused with a clear error and never reaches Scalekit', async () => {
    await assert.rejects(
      client.callTool({ name: 'posthogmcp_not_a_tool', arguments: {} }),
      (e: unknown) => e instanceof McpError && /Unknown tool "posthogmcp_not_a_tool"/.test(e.message),
    );
    assert.deepEqual(world.scalekit.executions, []);
  });

  it('a call whose tool lookup fails (Scalekit refuses the listing) is refused with a clear error and audited as refused', async () => {
    // Grace's tools are not cached yet, so the call has to list them first.
    const graceId = identifierFor('oidc', 'grace', world.idp.issuer);
    world.scalekit.activateAccount(graceId, 'asana');
    const grace = await connect(await idToken(world, 'grace'));
    world.scalekit.injectFault({ kind: 'unauthenticated', rpc: 'ListScopedTools' });
    const result = (await grace.callTool({ name: 'asana_workspaces_list', arguments: {} })) as CallToolResult;
    assert.equal(result.isError, true);
    assert.equal(result._meta?.[mcpMeta.errorCode], 'scalekit_unavailable');
    assert.match(text(result), /could not look up asana_workspaces_list/);
    assert.deepEqual(world.scalekit.executions, []);
    const rows = await auditRows(gateway);
    assert.deepEqual(
      rows.map((r) => [r.identifier, r.tool, r.outcome, r.decision_source]),
      [[graceId, 'asana_workspaces_list', 'refused', 'gateway']],
    );
  });

  it('when the audit cannot be written, the call is refused and Scalekit never runs it', async () => {
    // A real database failure: a trigger that rejects every new audit row.
    await gateway.database.query(
      `CREATE OR REPLACE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit disk full'; END $$ LANGUAGE plpgsql`,
    );
    await gateway.database.query('CREATE TRIGGER refuse_audit BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION refuse_audit()');
    try {
      const result = (await client.callTool({ name: 'asana_task_create', arguments: { name: 'x', workspace: '1' } })) as CallToolResult;
      assert.equal(result.isError, true);
      assert.equal(result._meta?.[mcpMeta.errorCode], 'audit_unavailable');
      assert.match(text(result), /did not run: the gateway could not write its audit record/);
      assert.deepEqual(world.scalekit.executions, [], 'Scalekit never ran it');
      assert.equal(world.scalekit.rpcLog.filter((r) => r.method === 'ExecuteTool').length, 0);
    } finally {
      await gateway.database.query('DROP TRIGGER refuse_audit ON audit');
    }
    assert.deepEqual(await auditRows(gateway), []);
  });

  it('a dropped request (the client aborts) is recorded as cancelled, with one row', async () => {
    world.scalekit.injectFault({ kind: 'latency', ms: 1500, rpc: 'ExecuteTool', times: 1 });
    const controller = new AbortController();
    const pending = client.callTool({ name: 'asana_workspaces_list', arguments: {} }, undefined, { signal: controller.signal });
    // Abort once the gateway has written the started row (the call is in flight).
    for (let i = 0; i < 200 && (await auditRows(gateway)).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await assert.rejects(pending);
    let rows = await auditRows(gateway);
    for (let i = 0; i < 200 && rows[0]?.outcome === 'started'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      rows = await auditRows(gateway);
    }
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.outcome, 'error');
    assert.match(rows[0]!.error ?? '', /cancelled/);
  });
});

describe('gateway MCP policy', function () {
  this.timeout(60_000);
  let world: World;
  let gateway: RunningGateway;
  let client: Client;
  let adaId: string;

  before(async () => {
    world = await startWorld();
    gateway = await startOidcGateway(world, {
      policy: parsePolicy({
        connections: {
          posthog: { tools: { posthogmcp_action_get: 'deny', posthogmcp_action_create: 'ask' } },
          asana: { readOnly: true, tools: { asana_allocation_create: 'allow', asana_workspaces_list: 'ask' } },
        },
      }),
    });
    adaId = identifierFor('oidc', 'ada', world.idp.issuer);
    world.scalekit.activateAccount(adaId, 'posthog');
    world.scalekit.activateAccount(adaId, 'asana');
    client = await mcpClient(gateway, await idToken(world, 'ada'));
  });
  after(async () => {
    await client.close();
    await gateway.close();
    await world.close();
  });

  it('a denied tool is absent from tools/list and refused at tools/call, audited as denied, never run', async () => {
    const names = new Set((await client.listTools()).tools.map((t) => t.name));
    assert.ok(!names.has('posthogmcp_action_get'));
    assert.ok(names.has('posthogmcp_action_update'));
    world.scalekit.resetLogs();
    const result = (await client.callTool({ name: 'posthogmcp_action_get', arguments: { id: 1 } })) as CallToolResult;
    assert.equal(result.isError, true);
    assert.equal(result._meta?.[mcpMeta.errorCode], 'policy_denied');
    assert.match(text(result), /policy does not allow posthogmcp_action_get/);
    assert.deepEqual(world.scalekit.executions, []);
    const row = (await auditRows(gateway)).find((r) => r.tool === 'posthogmcp_action_get');
    assert.equal(row?.outcome, 'denied');
    assert.equal(row?.decision, 'policy-deny');
    assert.equal(row?.decision_source, 'gateway');
  });

  it('a read-only connection lists only its reads and refuses its writes, even one the rules "allow"', async () => {
    const asana = (await client.listTools()).tools.filter((t) => t.name.startsWith('asana_'));
    assert.ok(asana.length > 0);
    assert.ok(asana.every((t) => t.annotations?.readOnlyHint === true));
    assert.ok(!asana.some((t) => t.name === 'asana_allocation_create'));
    world.scalekit.resetLogs();
    const result = (await client.callTool({ name: 'asana_allocation_create', arguments: {} })) as CallToolResult;
    assert.equal(result.isError, true);
    assert.match(text(result), /read-only/);
    assert.deepEqual(world.scalekit.executions, []);
  });

  it('an "ask" tool is listed and marked ask; others are marked allow', async () => {
    const byName = new Map((await client.listTools()).tools.map((t) => [t.name, t]));
    assert.equal(byName.get('posthogmcp_action_create')?._meta?.[mcpMeta.policy], 'ask');
    assert.equal(byName.get('asana_workspaces_list')?._meta?.[mcpMeta.policy], 'ask');
    assert.equal(byName.get('posthogmcp_action_update')?._meta?.[mcpMeta.policy], 'allow');
  });
});
