// How found tools reach the model (src/agent/toolContext.ts), and what that does to the prompt
// cache: the real agent loop, the real @anthropic-ai/sdk over SSE against the emulator (which
// applies the API's prompt-caching rules), the real Scalekit SDK against its emulator.
import * as assert from 'node:assert/strict';
import type Anthropic from '@anthropic-ai/sdk';
import { runAgentTurn, searchToolName } from '../../../src/agent/agentLoop';
import { ToolCatalog, catalogFor } from '../../../src/agent/toolCatalog';
import { definitionBytes, pickReferences, referenceBudgetBytes, referencedTools } from '../../../src/agent/toolContext';
import type { RecordedRequest } from '../../emulators/anthropic/server';
import { ask, startAgentWorld, type AgentWorld } from './fixture';

const signupsQuery = JSON.stringify({ kind: 'TrendsQuery', series: [{ event: 'signed_up' }], interval: 'day', dateRange: { date_from: '-7d' } });
// Long enough that tools + system alone pass Sonnet's 1,024-token minimum cacheable prefix.
const longSystemPrompt = `You are a test agent. ${'Answer with care and cite the tool you used. '.repeat(120)}`;

type Block = { type?: string; tool_name?: string; cache_control?: unknown; content?: unknown };

function lastBlocks(request: RecordedRequest): Block[] {
  const last = request.body.messages.at(-1);
  return typeof last?.content === 'string' ? [] : (last?.content ?? []);
}

function referencesIn(request: RecordedRequest): string[] {
  return lastBlocks(request).flatMap((b) =>
    b.type === 'tool_result' && Array.isArray(b.content)
      ? (b.content as Block[]).filter((c) => c.type === 'tool_reference').map((c) => String(c.tool_name))
      : [],
  );
}

function wholeTools(request: RecordedRequest): string {
  return JSON.stringify((request.body.tools ?? []).filter((t) => !('defer_loading' in t && t.defer_loading === true)));
}

describe('tool context: tool_reference over deferred tools, and the prompt cache', function () {
  this.timeout(30_000);
  let world: AgentWorld;
  beforeEach(async () => {
    world = await startAgentWorld();
  });
  afterEach(async () => {
    await world.close();
  });

  async function signupsTurn(overrides: Parameters<AgentWorld['deps']>[0] = {}): Promise<RecordedRequest[]> {
    world.anthropic.queue(
      { toolUse: { name: searchToolName, input: { query: 'signups per day trends query' } } },
      { toolUse: { name: 'posthogmcp_query_run', input: { query: signupsQuery } } },
      { text: 'Here are the signups.' },
    );
    ask(world, 'How many signups did we have each day last week?');
    assert.equal(
      await runAgentTurn(world.conversation, world.deps({ systemPrompt: longSystemPrompt, ...overrides }), new AbortController().signal),
      'completed',
    );
    return world.anthropic.requests;
  }

  it('a search answers with tool_reference blocks and leaves tools and system unchanged, so each request reads all the previous one wrote', async () => {
    const requests = await signupsTurn();
    assert.equal(requests.length, 3);
    assert.ok(referencesIn(requests[1]!).includes('posthogmcp_query_run'), `references: ${referencesIn(requests[1]!).join(', ')}`);
    assert.equal(wholeTools(requests[1]!), wholeTools(requests[0]!), 'the tools in the prefix did not change');
    assert.deepEqual(requests[1]!.body.system, requests[0]!.body.system);
    assert.equal(world.scalekit.executions.at(-1)?.toolName, 'posthogmcp_query_run');
    for (const i of [1, 2]) {
      const before = requests[i - 1]!.usage!;
      const usage = requests[i]!.usage!;
      const prefix = (before.cache_read_input_tokens ?? 0) + (before.cache_creation_input_tokens ?? 0);
      assert.ok(prefix > 1024, `request ${i - 1} cached its prompt (${prefix} tokens)`);
      assert.equal(usage.cache_read_input_tokens, prefix, `request ${i} reads everything request ${i - 1} cached`);
    }
  });

  it('sends only search_tools whole, and as deferred only the tools a search referenced', async () => {
    const requests = await signupsTurn();
    assert.deepEqual(requests[0]!.toolNames, [searchToolName]);
    const deferred = requests[1]!.deferredToolNames;
    assert.ok(deferred.includes('posthogmcp_query_run'));
    assert.deepEqual([...deferred].sort(), [...referencesIn(requests[1]!)].sort());
    assert.ok(requests[1]!.rawBytes < 20 * 1024, `a small request: ${requests[1]!.rawBytes} bytes`);
  });

  it('puts the cache breakpoint on the last block sent and where the previous request put it, never into the saved conversation', async () => {
    const requests = await signupsTurn();
    for (const [i, request] of requests.entries()) {
      assert.deepEqual(lastBlocks(request).at(-1)?.cache_control, { type: 'ephemeral' });
      const marked = request.body.messages.flatMap((m) => (typeof m.content === 'string' ? [] : (m.content as Block[]))).filter((b) => b.cache_control);
      assert.equal(marked.length, i === 0 ? 1 : 2, `request ${i}: the last block, and the previous request's last block`);
    }
    assert.ok(!JSON.stringify(world.conversation.messages).includes('cache_control'), 'the saved transcript carries no breakpoint');
  });

  it('a reply with more tool calls than the 20-block lookback still reads the whole earlier prompt', async () => {
    world.conversation.loadedTools = ['asana_workspaces_list'];
    world.anthropic.queue({ toolUse: Array.from({ length: 12 }, () => ({ name: 'asana_workspaces_list', input: {} })) }, { text: 'Twelve times.' });
    ask(world, 'List the workspaces twelve times');
    await runAgentTurn(world.conversation, world.deps({ systemPrompt: longSystemPrompt }), new AbortController().signal);
    const [first, second] = world.anthropic.requests;
    const prefix = (first!.usage!.cache_read_input_tokens ?? 0) + (first!.usage!.cache_creation_input_tokens ?? 0);
    assert.ok(prefix > 1024);
    assert.equal(second!.usage!.cache_read_input_tokens, prefix, '24 blocks later, the first request is still read');
  });

  it('a second search whose best match is already loaded loads nothing more and says so', async () => {
    await signupsTurn();
    world.anthropic.reset();
    world.anthropic.queue({ toolUse: { name: searchToolName, input: { query: 'signups per day trends query' } } }, { text: 'Already there.' });
    ask(world, 'And again?');
    await runAgentTurn(world.conversation, world.deps({ systemPrompt: longSystemPrompt }), new AbortController().signal);
    const result = lastBlocks(world.anthropic.requests[1]!).find((b) => b.type === 'tool_result');
    assert.equal(typeof result?.content, 'string');
    assert.match(String(result?.content), /already loaded; call them directly: .*posthogmcp_query_run/);
  });

  it('in read-only mode a search references only reads; a write referenced earlier stays sent (the API needs it) and its call is refused', async () => {
    world.anthropic.queue({ toolUse: { name: searchToolName, input: { query: 'create asana task' } } }, { text: 'Found it.' });
    ask(world, 'Make a task');
    await runAgentTurn(world.conversation, world.deps(), new AbortController().signal);
    assert.ok(referencesIn(world.anthropic.requests[1]!).includes('asana_task_create'));
    world.anthropic.reset();
    const workspace = world.scalekit.data.asana.workspace.gid;
    world.anthropic.queue(
      { toolUse: { name: searchToolName, input: { query: 'create asana task' } } },
      { toolUse: { name: 'asana_task_create', input: { name: 'Sneaky', workspace_gid: workspace } } },
      { text: 'Read-only.' },
    );
    ask(world, 'Make another');
    const executed = world.scalekit.executions.length;
    assert.equal(await runAgentTurn(world.conversation, world.deps({ readOnly: true }), new AbortController().signal), 'completed');
    const risks = referencesIn(world.anthropic.requests[1]!).map((name) => world.catalog.get(name)?.risk);
    assert.ok(risks.length > 0 && risks.every((risk) => risk === 'read'), `only reads referenced: ${risks.join(', ')}`);
    assert.ok(world.anthropic.requests[1]!.deferredToolNames.includes('asana_task_create'), 'still sent: the history references it');
    assert.equal(world.scalekit.executions.length, executed, 'nothing ran');
    const refused = lastBlocks(world.anthropic.requests[2]!).find((b) => b.type === 'tool_result');
    assert.match(String(refused?.content), /read-only mode/);
  });

  it('a referenced tool whose account went away is sent as a stub, so the chat goes on', async () => {
    await signupsTurn();
    world.anthropic.reset();
    world.catalog = new ToolCatalog(world.catalog.all().filter((t) => t.connection !== 'posthog'));
    world.anthropic.queue({ text: 'Still here.' });
    ask(world, 'Thanks');
    assert.equal(await runAgentTurn(world.conversation, world.deps(), new AbortController().signal), 'completed');
    assert.equal(world.anthropic.requests[0]!.status, 200);
    assert.ok(world.anthropic.requests[0]!.deferredToolNames.includes('posthogmcp_query_run'));
  });

  it("with Anthropic's tool search the search and the call come in one reply (two round trips), sent back as they came", async () => {
    world.anthropic.queue(
      { content: [{ toolSearch: { query: 'run trends query' } }, { toolUse: { name: 'posthogmcp_query_run', input: { query: signupsQuery } } }] },
      { text: 'Signups, in two round trips.' },
    );
    ask(world, 'How many signups did we have each day last week?');
    const outcome = await runAgentTurn(world.conversation, world.deps({ toolContext: 'serverSearch' }), new AbortController().signal);
    assert.equal(outcome, 'completed');
    const requests = world.anthropic.requests;
    assert.equal(requests.length, 2);
    assert.equal(requests[0]!.toolSearch, 'bm25');
    const replayed = (requests[1]!.body.messages.at(-2)?.content ?? []) as Block[];
    assert.deepEqual(
      replayed.map((b) => b.type),
      ['server_tool_use', 'tool_search_tool_result', 'tool_use'],
    );
    assert.equal(world.scalekit.executions.at(-1)?.toolName, 'posthogmcp_query_run');
  });

  it('a search loads its best match plus close matches within the byte budget, never two large survey schemas', () => {
    const found = world.catalog.searchScored('create or update a survey');
    assert.deepEqual(
      found.slice(0, 2).map((s) => s.tool.name),
      ['posthogmcp_survey_create', 'posthogmcp_survey_update'],
    );
    const picked = pickReferences(found, new Set());
    assert.equal(picked[0]?.name, 'posthogmcp_survey_create', 'the best match always, however large');
    assert.ok(!picked.some((t) => t.name === 'posthogmcp_survey_update'), `a second large schema stays out: ${picked.map((t) => t.name).join(', ')}`);
    const rest = picked.slice(1).reduce((sum, t) => sum + definitionBytes(t), 0);
    assert.ok(rest <= referenceBudgetBytes, `${rest} bytes beside the best match`);
  });

  it('a search loads a second match only when it nearly ties with the best: "list feature flags" loads just the list tool', () => {
    const found = world.catalog.searchScored('list feature flags');
    assert.equal(found[0]?.tool.name, 'posthogmcp_feature_flag_get_all');
    assert.ok(found[1]!.score >= found[0].score * 0.8, 'the runner-up is within 20%, so only the near-tie rule keeps it out');
    assert.deepEqual(
      pickReferences(found, new Set()).map((t) => t.name),
      ['posthogmcp_feature_flag_get_all'],
    );
    const nearTie = world.catalog.searchScored('update task or project');
    assert.deepEqual(
      pickReferences(nearTie, new Set()).map((t) => t.name),
      ['asana_task_update', 'asana_project_update'],
      'two tools the query names equally both load',
    );
  });

  it('every one of the 409 tools is reachable: a search for its exact name loads it first', () => {
    assert.equal(world.catalog.size, 409);
    const missed = world.catalog.all().filter((tool) => pickReferences(world.catalog.searchScored(tool.name), new Set())[0]?.name !== tool.name);
    assert.deepEqual(
      missed.map((t) => t.name),
      [],
    );
  });

  it('builds the catalog once per tool list: the same lists give the same catalog, a changed list a new one', () => {
    const posthog = world.catalog.all().filter((t) => t.connection === 'posthog');
    const asana = world.catalog.all().filter((t) => t.connection === 'asana');
    const first = catalogFor([posthog, asana]);
    assert.equal(catalogFor([posthog, asana]), first);
    const changed = catalogFor([posthog, asana.slice(1)]);
    assert.notEqual(changed, first);
    assert.ok(changed instanceof ToolCatalog);
    assert.equal(changed.size, first.size - 1);
  });
});

describe('referencedTools', () => {
  it("is every tool the history's searches loaded, a replaced message read as it is now", () => {
    const messages: Anthropic.Messages.MessageParam[] = [
      { role: 'user', content: 'find tools' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: searchToolName, input: { query: 'trends' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'tool_reference', tool_name: 'posthogmcp_query_run' }] }] },
    ];
    assert.deepEqual([...referencedTools(messages)], ['posthogmcp_query_run']);
    messages.push(
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_2', name: searchToolName, input: { query: 'tasks' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'tool_reference', tool_name: 'asana_tasks_list' }] }] },
    );
    assert.deepEqual([...referencedTools(messages)], ['posthogmcp_query_run', 'asana_tasks_list']);
    // A refused turn or a rewind replaces the history's tail: the replaced message's references go with it.
    messages[4] = { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: 'No tools matched "tasks".' }] };
    assert.deepEqual([...referencedTools(messages)], ['posthogmcp_query_run']);
  });
});
