import * as assert from 'node:assert/strict';
import { ToolCatalog, tokenize } from '../../../src/agent/toolCatalog';
import { defineTool } from '../../../src/core/toolBackend';
import { ApprovalPolicy, type ToolCallRequest, type UserAnswer } from '../../../src/agent/policy';
import { auditRecordsToCsv, hashInput, type AuditRecord } from '../../../src/agent/audit';
import { boundToolResult, formatBytes } from '../../../src/agent/boundedResult';
import { extractTimeSeries } from '../../../src/agent/timeSeries';
import { addUsage, emptyUsage } from '../../../src/agent/pricing';
import { checkToolInput } from '../../../src/agent/inputValidation';
import posthog from '../../emulators/fixtures/posthogmcp.json';
import asana from '../../emulators/fixtures/asana.json';
import { identifierOf } from '../../support/identifiers';

const ada = identifierOf('oidc', 'ada');
const grace = identifierOf('oidc', 'grace');

interface CatalogFile {
  tools: { name: string; description: string; input_schema: Record<string, unknown> }[];
}

function realCatalog(): ToolCatalog {
  const sources = [
    ...(posthog as CatalogFile).tools.map((t) => defineTool({ name: t.name, description: t.description, inputSchema: t.input_schema, connection: 'posthog' })),
    ...(asana as CatalogFile).tools.map((t) => defineTool({ name: t.name, description: t.description, inputSchema: t.input_schema, connection: 'asana' })),
  ];
  return new ToolCatalog(sources);
}

describe('tool catalog search', () => {
  const catalog = realCatalog();

  it('holds all 409 tools', () => {
    assert.equal(catalog.size, 409);
  });

  it('reaches every one of the 409 tools from the words of its name', () => {
    const unreachable: string[] = [];
    for (const tool of catalog.all()) {
      const words = tool.name.split('_').slice(1).join(' ');
      if (!catalog.search(words, { limit: 8 }).some((t) => t.name === tool.name)) unreachable.push(tool.name);
    }
    assert.deepEqual(unreachable, []);
  });

  it('finds the right tool for how people ask', () => {
    const cases: [string, string][] = [
      ['signups per day trends query', 'posthogmcp_query_run'],
      ['create asana task', 'asana_task_create'],
      ['list feature flags', 'posthogmcp_feature_flag_get_all'],
      ['delete a task', 'asana_task_delete'],
      ['comment on a task', 'asana_story_create'],
      ['list projects', 'asana_projects_list'],
    ];
    for (const [query, expected] of cases) {
      const names = catalog.search(query, { limit: 8 }).map((t) => t.name);
      assert.ok(names.includes(expected), `"${query}" → ${names.join(', ')}`);
    }
  });

  it('ranks first the tool the query names, so a search loads just that one', () => {
    const cases: [string, string][] = [
      // Figures over time come from running a query, not from reading a saved insight.
      ['signups per day trends query', 'posthogmcp_query_run'],
      ['how many users signed up this week', 'posthogmcp_query_run'],
      // "my" is part of a name: asana_my_tasks_list only when the query says whose.
      ['list tasks', 'asana_tasks_list'],
      ['list my tasks', 'asana_my_tasks_list'],
      // The name's word order: a project's tasks, or a task's projects.
      ['project tasks list', 'asana_project_tasks_list'],
      ['task projects list', 'asana_task_projects_list'],
      // Words kept apart by "or" are not a pair of the name.
      ['update task or project', 'asana_task_update'],
    ];
    for (const [query, expected] of cases) {
      const names = catalog.search(query, { limit: 3 }).map((t) => t.name);
      assert.equal(names[0], expected, `"${query}" → ${names.join(', ')}`);
    }
  });

  it('filters by connection and by risk (read-only mode)', () => {
    const asanaOnly = catalog.search('list', { connection: 'asana', limit: 20 });
    assert.ok(asanaOnly.length > 0, 'the asana filter keeps asana tools');
    assert.ok(asanaOnly.every((t) => t.connection === 'asana'));
    assert.ok(
      catalog.search('list', { limit: 20 }).some((t) => t.connection === 'posthog'),
      'without the filter, posthog tools match too',
    );
    const readOnly = catalog.search('delete task create', { allowedRisks: ['read'], limit: 20 });
    assert.ok(readOnly.length > 0, 'read tools still match in read-only mode');
    assert.ok(readOnly.every((t) => t.risk === 'read'));
    assert.ok(
      catalog.search('delete task create', { limit: 20 }).some((t) => t.risk !== 'read'),
      'without the filter, writes match too',
    );
  });

  it('returns nothing for an empty or stop-word query, and caps the limit', () => {
    assert.deepEqual(catalog.search(''), []);
    assert.deepEqual(catalog.search('the of and'), []);
    assert.ok(catalog.search('list', { limit: 500 }).length <= 20);
    assert.deepEqual(tokenize('Feature-Flags ListAll'), ['feature', 'flag', 'list', 'all']);
  });
});

describe('approval policy', () => {
  const call = (toolName: string, risk: ToolCallRequest['risk']): ToolCallRequest => ({ toolUseId: 't1', toolName, connection: 'asana', risk, input: {} });
  function policyWith(options: { rule?: 'ask' | 'allow' | 'deny'; always?: Set<string>; answer?: UserAnswer }) {
    const asked: { tool: string; canAlwaysAllow: boolean }[] = [];
    const always = options.always ?? new Set<string>();
    const policy = new ApprovalPolicy({
      ruleFor: () => options.rule,
      isAlwaysAllowed: (identifier, tool) => always.has(`${identifier}|${tool}`),
      rememberAlwaysAllowed: async (identifier, tool) => {
        always.add(`${identifier}|${tool}`);
      },
      askUser: async (c, o) => {
        asked.push({ tool: c.toolName, canAlwaysAllow: o.canAlwaysAllow });
        return options.answer ?? 'deny';
      },
    });
    return { policy, asked, always };
  }
  const signal = new AbortController().signal;

  it('runs reads, asks for writes with an "always" option, and always asks for destructive without one', async () => {
    const { policy, asked, always } = policyWith({ answer: 'approve' });
    assert.deepEqual(await policy.decide(ada, call('asana_tasks_list', 'read'), signal), { approved: true, source: 'auto' });
    assert.deepEqual(await policy.decide(ada, call('asana_task_create', 'write'), signal), { approved: true, source: 'user-approved' });
    assert.deepEqual(await policy.decide(ada, call('asana_task_delete', 'destructive'), signal), { approved: true, source: 'user-approved' });
    assert.deepEqual(asked, [
      { tool: 'asana_task_create', canAlwaysAllow: true },
      { tool: 'asana_task_delete', canAlwaysAllow: false },
    ]);
    // A plain Approve is for this call only: nothing is remembered, and the next write asks again.
    assert.equal(always.size, 0);
    await policy.decide(ada, call('asana_task_create', 'write'), signal);
    assert.equal(asked.length, 3);
    // A declined call is not approved, and says why.
    const declined = await policyWith({ answer: 'deny' }).policy.decide(ada, call('asana_task_create', 'write'), signal);
    assert.deepEqual(declined, { approved: false, source: 'denied', reason: 'You declined this call.' });
  });

  it('"always allow" sticks for the same identity only', async () => {
    const { policy, asked } = policyWith({ answer: 'always' });
    await policy.decide(ada, call('asana_task_create', 'write'), signal);
    assert.deepEqual(await policy.decide(ada, call('asana_task_create', 'write'), signal), { approved: true, source: 'always-rule' });
    await policy.decide(grace, call('asana_task_create', 'write'), signal);
    assert.equal(asked.length, 2, 'Grace was asked even though Ada chose always');
  });

  it('signals "asking" only when the user is really asked, so cards show buttons only then', async () => {
    const { policy } = policyWith({ rule: 'allow', answer: 'approve' });
    const asking: string[] = [];
    const note = (tool: string) => (canAlwaysAllow: boolean) => asking.push(`${tool}:${canAlwaysAllow}`);
    await policy.decide(ada, call('asana_task_create', 'write'), signal, note('create'));
    await policy.decide(ada, call('asana_tasks_list', 'read'), signal, note('list'));
    await policy.decide(ada, call('asana_task_delete', 'destructive'), signal, note('delete'));
    assert.deepEqual(asking, ['delete:false']);
    const plain = policyWith({ answer: 'approve' });
    await plain.policy.decide(ada, call('asana_task_create', 'write'), signal, note('create'));
    assert.deepEqual(asking, ['delete:false', 'create:true']);
  });

  it('"always" can never be remembered for a destructive tool', async () => {
    const { policy, asked, always } = policyWith({ answer: 'always' });
    await policy.decide(ada, call('asana_task_delete', 'destructive'), signal);
    await policy.decide(ada, call('asana_task_delete', 'destructive'), signal);
    assert.equal(asked.length, 2);
    assert.equal(always.size, 0);
  });

  it('rules: deny beats everything, allow skips asking for writes but not for destructive, ask makes reads ask', async () => {
    assert.equal((await policyWith({ rule: 'deny', answer: 'approve' }).policy.decide(ada, call('asana_tasks_list', 'read'), signal)).approved, false);
    const allow = policyWith({ rule: 'allow' });
    assert.deepEqual(await allow.policy.decide(ada, call('asana_task_create', 'write'), signal), { approved: true, source: 'rule' });
    assert.equal((await allow.policy.decide(ada, call('asana_task_delete', 'destructive'), signal)).approved, false);
    assert.equal(allow.asked.length, 1, 'destructive still asked despite allow');
    const askRule = policyWith({ rule: 'ask', answer: 'deny' });
    assert.equal((await askRule.policy.decide(ada, call('asana_tasks_list', 'read'), signal)).approved, false);
    assert.equal(askRule.asked.length, 1);
    assert.deepEqual(await policyWith({ rule: 'deny', answer: 'approve' }).policy.decide(ada, call('asana_task_create', 'write'), signal), {
      approved: false,
      source: 'denied',
      reason: 'A rule in your settings blocks this tool.',
    });
  });

  it('rules: an "ask" rule beats a remembered "always", and offers no "always" of its own', async () => {
    const askRule = policyWith({ rule: 'ask', always: new Set([`${ada}|asana_task_create`]), answer: 'always' });
    assert.deepEqual(await askRule.policy.decide(ada, call('asana_task_create', 'write'), signal), { approved: true, source: 'user-approved' });
    // "Always" would be ignored while the rule stands, so it is not offered nor remembered.
    assert.deepEqual(askRule.asked, [{ tool: 'asana_task_create', canAlwaysAllow: false }]);
    assert.deepEqual([...askRule.always], [`${ada}|asana_task_create`]);
    const fresh = policyWith({ rule: 'ask', answer: 'always' });
    await fresh.policy.decide(ada, call('asana_task_create', 'write'), signal);
    assert.equal(fresh.always.size, 0);
    assert.deepEqual(fresh.asked, [{ tool: 'asana_task_create', canAlwaysAllow: false }]);
  });
});

describe('audit, bounds, series, pricing, input checks', () => {
  it('hashes input independent of key order, and never stores it raw', () => {
    assert.equal(hashInput({ a: 1, b: [1, { c: 2, d: 3 }] }), hashInput({ b: [1, { d: 3, c: 2 }], a: 1 }));
    assert.notEqual(hashInput({ a: 1 }), hashInput({ a: 2 }));
  });

  it('writes CSV with a header, quoting, and formula neutralising', () => {
    const record: AuditRecord = {
      time: 't',
      identifier: ada,
      connection: 'asana',
      tool: '=HYPERLINK("x")',
      risk: 'write',
      decision: 'user-approved',
      outcome: 'success',
      durationMs: 5,
      inputHmac: 'ab',
    };
    const csv = auditRecordsToCsv([record]);
    const lines = csv.trim().split('\r\n');
    assert.equal(lines[0], 'time,identifier,connection,tool,risk,decision,outcome,errorCode,durationMs,approvalWaitMs,executionId,inputHmac,inputSha256');
    assert.match(lines[1]!, /"'=HYPERLINK\(""x""\)"/);
  });

  it('bounds by UTF-8 bytes and says so', () => {
    const small = boundToolResult({ a: 1 });
    assert.equal(small.truncated, false);
    const big = boundToolResult('é'.repeat(100_000), 1000);
    assert.equal(big.truncated, true);
    assert.equal(big.bytes, 200_000);
    assert.ok(!big.text.includes('\uFFFD'));
    assert.match(big.text, /was 195 KB and only the first 1000 B/);
    assert.equal(formatBytes(10 * 1024 * 1024), '10.0 MB');
  });

  it('finds trends series, and ignores data that is not one', () => {
    const series = extractTimeSeries({ results: [{ label: 'signed_up', days: ['2026-11-16', '2026-11-17'], data: [3, 5] }] });
    assert.deepEqual(series, [
      {
        label: 'signed_up',
        points: [
          { x: '2026-11-16', y: 3 },
          { x: '2026-11-17', y: 5 },
        ],
      },
    ]);
    assert.deepEqual(extractTimeSeries({ results: [{ label: 'x', days: ['a'], data: [1, 2] }] }), []);
    assert.deepEqual(extractTimeSeries({ data: [{ gid: '1', name: 'task' }] }), []);
    assert.deepEqual(extractTimeSeries('text'), []);
  });

  it('estimates cost from usage', () => {
    const usage = addUsage(
      emptyUsage,
      { input_tokens: 1_000_000, output_tokens: 100_000, cache_read_input_tokens: 1_000_000, cache_creation_input_tokens: 0 },
      'claude-sonnet-4-6',
    );
    assert.equal(usage.estimatedCostUsd, 3 + 1.5 + 0.3);
    assert.equal(usage.inputTokens, 1_000_000);
  });

  it('checks tool input against the schema', () => {
    const schema = { type: 'object', properties: { name: { type: 'string' }, count: { type: 'integer' } }, required: ['name'] };
    assert.equal(checkToolInput('t_a', schema, { name: 'x', count: 2 }).ok, true);
    for (const bad of [null, 'str', [], 42, { count: 1 }, { name: 5 }]) assert.equal(checkToolInput('t_a', schema, bad).ok, false, JSON.stringify(bad));
  });
});
