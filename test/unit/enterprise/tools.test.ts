// The PostHog MCP server's tools through the enterprise client: every page of tools/list,
// annotations mapped into ToolSource and from there into risk, and tool calls by the
// catalog-style name.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ToolCatalog } from '../../../src/agent/toolCatalog';
import { OutcomeUnknownError } from '../../../src/core/errors';
import { classifyTool, groupByRisk } from '../../../src/core/toolRisk';
import { DEFAULT_POSTHOG_MCP_URL, EnterprisePostHogClient, type EnterprisePostHogConfig } from '../../../src/enterprise/client';
import { startEnterpriseWorld, type EnterpriseWorld, type EnterpriseWorldOptions } from '../../emulators/posthog-mcp/harness';
import { POSTHOG_MCP_TOOLS } from '../../emulators/posthog-mcp/tools';

const root = join(__dirname, '..', '..', '..', '..');

describe('enterprise PostHog via ID-JAG: tools', function () {
  this.timeout(30_000);
  let world: EnterpriseWorld | undefined;
  let client: EnterprisePostHogClient | undefined;

  afterEach(async () => {
    await client?.close();
    client = undefined;
    await world?.close();
    world = undefined;
  });

  async function setup(
    options: EnterpriseWorldOptions = {},
    overrides: Partial<EnterprisePostHogConfig> = {},
  ): Promise<{ world: EnterpriseWorld; client: EnterprisePostHogClient }> {
    const w = await startEnterpriseWorld(options);
    world = w;
    client = new EnterprisePostHogClient({
      mcpServerUrl: w.posthog.mcpUrl,
      idpTokenEndpoint: `${w.idp.issuer}/token`,
      clientId: w.clientId,
      clientSecret: w.clientSecret,
      getIdToken: () => w.idToken('ada'),
      now: () => w.now(),
      ...overrides,
    });
    return { world: w, client };
  }

  it('lists every page of tools (14 tools, pages of 5 → 3 tools/list requests)', async () => {
    const { world: w, client: c } = await setup();
    const tools = await c.listTools();
    assert.equal(tools.length, POSTHOG_MCP_TOOLS.length);
    assert.equal(tools.length, 14);
    assert.equal(w.posthog.mcpLog.filter((e) => e.rpcMethod === 'tools/list').length, 3);
    assert.deepEqual(
      tools.map((t) => t.name),
      POSTHOG_MCP_TOOLS.map((t) => `posthogmcp_${t.name.replace(/-/g, '_')}`),
    );
    for (const t of tools) {
      assert.equal(t.connection, 'posthog');
      assert.equal((t.inputSchema as { type?: string }).type, 'object');
      assert.ok(t.description.length > 10);
    }
    const flag = tools.find((t) => t.name === 'posthogmcp_feature_flag_get_definition');
    assert.deepEqual((flag?.inputSchema as { required?: string[] }).required, ['id']);
  });

  it('one page when the server does not paginate, with the same result', async () => {
    const { world: w, client: c } = await setup({ posthog: { toolsPageSize: 0 } });
    const tools = await c.listTools();
    assert.equal(tools.length, 14);
    assert.equal(w.posthog.mcpLog.filter((e) => e.rpcMethod === 'tools/list').length, 1);
  });

  it('tool names are the catalog names: every one exists in the real posthogmcp catalog', async () => {
    const { client: c } = await setup();
    const catalog = JSON.parse(readFileSync(join(root, 'test', 'emulators', 'fixtures', 'posthogmcp.json'), 'utf8')) as { tools: { name: string }[] };
    const known = new Set(catalog.tools.map((t) => t.name));
    for (const t of await c.listTools()) assert.ok(known.has(t.name), `${t.name} is not in the catalog`);
  });

  it('maps annotations into ToolSource, and risk follows them: readOnly → read, destructive → destructive', async () => {
    const { client: c } = await setup();
    const tools = await c.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.deepEqual(byName.get('posthogmcp_query_run')?.annotations, { readOnlyHint: true, destructiveHint: false });
    assert.deepEqual(byName.get('posthogmcp_delete_feature_flag')?.annotations, { readOnlyHint: false, destructiveHint: true });
    assert.deepEqual(byName.get('posthogmcp_create_feature_flag')?.annotations, { readOnlyHint: false, destructiveHint: false });
    for (const spec of POSTHOG_MCP_TOOLS) {
      const source = byName.get(`posthogmcp_${spec.name.replace(/-/g, '_')}`)!;
      const expected = spec.annotations.readOnlyHint ? 'read' : spec.annotations.destructiveHint ? 'destructive' : 'write';
      assert.equal(classifyTool(source.name, source.annotations), expected, source.name);
    }
    const catalog = new ToolCatalog(tools);
    assert.equal(catalog.get('posthogmcp_insight_delete')?.risk, 'destructive');
    assert.equal(catalog.get('posthogmcp_event_definitions_list')?.risk, 'read');
    const groups = groupByRisk(tools);
    assert.deepEqual([groups.read.length, groups.write.length, groups.destructive.length], [9, 3, 2]);
  });

  it('the annotations decide even where the name says otherwise', async () => {
    const { client: c } = await setup({
      posthog: {
        toolAnnotationOverrides: {
          'organization-get': { readOnlyHint: false, destructiveHint: true },
          'projects-get': { readOnlyHint: false, destructiveHint: false },
        },
      },
    });
    const tools = await c.listTools();
    const org = tools.find((t) => t.name === 'posthogmcp_organization_get')!;
    assert.deepEqual(org.annotations, { readOnlyHint: false, destructiveHint: true });
    assert.equal(classifyTool(org.name, org.annotations), 'destructive', 'a "get" that says it is destructive asks first');
    const projects = tools.find((t) => t.name === 'posthogmcp_projects_get')!;
    assert.equal(classifyTool(projects.name, projects.annotations), 'write');
  });

  it('MCP defaults: a tool not said to be read-only, without destructiveHint or any annotations, is destructive', async () => {
    const { client: c } = await setup({
      posthog: {
        toolAnnotationOverrides: {
          'switch-project': { readOnlyHint: false, destructiveHint: undefined },
          'insights-list': null,
        },
      },
    });
    const catalog = new ToolCatalog(await c.listTools());
    assert.equal(catalog.get('posthogmcp_switch_project')?.risk, 'destructive', 'readOnlyHint: false and no destructiveHint');
    assert.equal(catalog.get('posthogmcp_insights_list')?.risk, 'destructive', 'no annotations at all');
    assert.equal(catalog.get('posthogmcp_projects_get')?.risk, 'read');
    assert.equal(catalog.get('posthogmcp_create_feature_flag')?.risk, 'write');
  });

  it('calls a tool by its catalog name before any listing, and by its MCP name', async () => {
    const { world: w, client: c } = await setup();
    const created = await c.callTool('posthogmcp_create_feature_flag', { key: 'enterprise-beta', name: 'Enterprise beta', active: true });
    assert.equal(created.isError, false, created.text);
    const flag = created.data as { id: number; key: string; active: boolean };
    assert.equal(flag.key, 'enterprise-beta');
    assert.deepEqual(
      w.posthog.toolCalls.map((t) => t.name),
      ['create-feature-flag'],
    );

    const fetched = await c.callTool('feature-flag-get-definition', { id: flag.id });
    assert.equal((fetched.data as { key: string }).key, 'enterprise-beta');
    const deleted = await c.callTool('posthogmcp_delete_feature_flag', { id: flag.id });
    assert.equal(deleted.isError, false);
    assert.equal(w.posthog.data.posthog.featureFlags.find((f) => f.id === flag.id)?.deleted, true);
  });

  it('a tool failure comes back as an error result; an unknown tool as an error too', async () => {
    const { client: c } = await setup();
    const missing = await c.callTool('posthogmcp_feature_flag_get_definition', { id: 987654 });
    assert.equal(missing.isError, true);
    assert.match(missing.text, /not_found: Feature flag 987654 not found/);
    const invalid = await c.callTool('posthogmcp_create_feature_flag', { key: 'bad key with spaces' });
    assert.equal(invalid.isError, true);
    assert.match(invalid.text, /invalid_input/);
    // McpServer answers an unknown tool (and bad arguments) with an isError result, not a JSON-RPC error.
    const unknown = await c.callTool('posthogmcp_no_such_tool', {});
    assert.equal(unknown.isError, true);
    assert.match(unknown.text, /Tool posthogmcp_no_such_tool not found/);
    const badArgs = await c.callTool('posthogmcp_feature_flag_get_definition', { id: 'abc' });
    assert.equal(badArgs.isError, true);
    assert.match(badArgs.text, /Input validation error/);
    assert.equal(c.status().state, 'ready', 'tool errors are not connection errors');
  });

  it('a call whose answer was lost after it reached the server is not repeated: "may or may not have run", the flag exists once', async () => {
    // The fetch under the MCP transport delivers a tools/call and lets it run, then fails the
    // way undici does when the connection closes before the answer.
    let dropNextCall = true;
    const { world: w, client: c } = await setup(
      {},
      {
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          if (dropNextCall && typeof init?.body === 'string' && init.body.includes('"tools/call"')) {
            dropNextCall = false;
            await response.arrayBuffer();
            throw new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
          }
          return response;
        },
      },
    );
    await assert.rejects(
      c.callTool('posthogmcp_create_feature_flag', { key: 'lost-answer', name: 'Lost answer', active: true }),
      (e: unknown) => OutcomeUnknownError.is(e) && /may or may not have run/.test(e.message) && /Check in PostHog/.test(e.hint ?? ''),
    );
    assert.equal(w.posthog.data.posthog.featureFlags.filter((f) => f.key === 'lost-answer').length, 1, 'it ran once and was not sent again');
    assert.equal(w.posthog.toolCalls.filter((t) => t.name === 'create-feature-flag').length, 1);
  });

  it('honours a custom connection name and tool prefix; defaults to the real PostHog MCP URL', async () => {
    const { client: c } = await setup({}, { connection: 'posthog-enterprise', toolNamePrefix: 'ph_' });
    const tools = await c.listTools();
    assert.ok(tools.every((t) => t.connection === 'posthog-enterprise' && t.name.startsWith('ph_')));
    const result = await c.callTool('ph_projects_get', {});
    assert.equal(result.isError, false);
    assert.equal(DEFAULT_POSTHOG_MCP_URL, 'https://mcp.posthog.com/mcp');
    const plain = new EnterprisePostHogClient({ getIdToken: async () => undefined });
    assert.equal(plain.mcpServerUrl, DEFAULT_POSTHOG_MCP_URL);
    assert.equal(plain.status().state, 'not-configured');
  });

  it('src/enterprise is pure TypeScript: no vscode import', () => {
    const dir = join(root, 'src', 'enterprise');
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /from ['"]vscode['"]|require\(['"]vscode['"]\)/.test(readFileSync(join(dir, f), 'utf8')));
    assert.deepEqual(offenders, []);
    assert.ok(readdirSync(dir).length >= 4);
  });
});
