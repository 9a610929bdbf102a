// A realistic subset of the PostHog MCP server's tools, registered on an SDK McpServer
// with annotations. Names are the real server's style: the Scalekit catalog names
// (fixtures/posthogmcp.json) without the `posthogmcp_` prefix and with hyphens, so
// `posthogmcp_` + name.replace(/-/g, '_') is the catalog name again. The data and
// behaviour come from the shared seeded PostHog world (../data), the same one the
// Scalekit emulator serves.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { posthogHandlers } from '../data/handlers-posthog';
import type { PostHogUser } from '../data/posthog';
import type { JsonRecord } from '../data/tool-context';
import { ToolFailure } from '../data/tool-failure';
import type { EmulatorData } from '../data/world';

export interface ToolAnnotationsSpec {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface PostHogMcpToolSpec {
  /** MCP tool name, e.g. `feature-flag-get-all`. */
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: z.ZodRawShape;
  readonly annotations: ToolAnnotationsSpec;
}

const read: ToolAnnotationsSpec = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const write: ToolAnnotationsSpec = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };
const destroy: ToolAnnotationsSpec = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false };

const paging = {
  limit: z.number().int().min(1).max(1000).optional().describe('Number of results to return per page.'),
  offset: z.number().int().min(0).optional().describe('The initial index from which to return the results.'),
};
const flagFields = {
  key: z.string().optional().describe('Feature flag key.'),
  name: z.string().optional().describe('Feature flag description (stored in the `name` field for backwards compatibility).'),
  active: z.boolean().optional().describe('Whether the feature flag is active.'),
  filters: z.record(z.string(), z.unknown()).optional().describe('Feature flag targeting configuration.'),
  tags: z.array(z.string()).optional().describe('Organizational tags for this feature flag.'),
};

export const POSTHOG_MCP_TOOLS: readonly PostHogMcpToolSpec[] = [
  { name: 'projects-get', title: 'List projects', description: 'Gets PostHog projects in the current organization.', inputSchema: {}, annotations: read },
  {
    name: 'switch-project',
    title: 'Switch project',
    description: 'Switches the active PostHog project for this session.',
    inputSchema: { projectId: z.number().int().describe('The project to make active.') },
    annotations: { ...write, idempotentHint: true },
  },
  {
    name: 'organization-get',
    title: 'Get organization',
    description: 'Gets a PostHog organization.',
    inputSchema: { id: z.string().optional().describe('Organization ID. If omitted, uses the active organization.') },
    annotations: read,
  },
  {
    name: 'feature-flag-get-all',
    title: 'List feature flags',
    description: 'Lists all PostHog feature flags.',
    inputSchema: {
      search: z.string().optional().describe('Search by feature flag key or name (case-insensitive).'),
      active: z.enum(['true', 'false']).optional().describe('Only active or inactive flags.'),
      ...paging,
    },
    annotations: read,
  },
  {
    name: 'feature-flag-get-definition',
    title: 'Get feature flag',
    description: 'Gets definition for a PostHog feature flag.',
    inputSchema: { id: z.number().int().describe('A unique integer value identifying this feature flag.') },
    annotations: read,
  },
  {
    name: 'create-feature-flag',
    title: 'Create feature flag',
    description: 'Creates a PostHog feature flag.',
    inputSchema: { ...flagFields, key: z.string().describe('Feature flag key.') },
    annotations: write,
  },
  {
    name: 'update-feature-flag',
    title: 'Update feature flag',
    description: 'Updates a PostHog feature flag.',
    inputSchema: { id: z.number().int().describe('A unique integer value identifying this feature flag.'), ...flagFields },
    annotations: { ...write, idempotentHint: true },
  },
  {
    name: 'delete-feature-flag',
    title: 'Delete feature flag',
    description: 'Deletes a PostHog feature flag.',
    inputSchema: { id: z.number().int().describe('A unique integer value identifying this feature flag.') },
    annotations: destroy,
  },
  {
    name: 'insights-list',
    title: 'List insights',
    description: 'Lists PostHog insights.',
    inputSchema: { ...paging, short_id: z.string().optional() },
    annotations: read,
  },
  {
    name: 'insight-get',
    title: 'Get insight',
    description: 'Gets a PostHog insight.',
    inputSchema: { id: z.string().describe('Numeric primary key or 8-character `short_id` identifying the insight.') },
    annotations: read,
  },
  {
    name: 'insight-delete',
    title: 'Delete insight',
    description: 'Deletes a PostHog insight.',
    inputSchema: { id: z.string().describe('Numeric primary key or `short_id` of the insight.') },
    annotations: destroy,
  },
  {
    name: 'query-run',
    title: 'Run query',
    description:
      'Runs a PostHog query: a TrendsQuery (e.g. {"kind":"TrendsQuery","series":[{"event":"signed_up"}],"interval":"day","dateRange":{"date_from":"-7d"}}), FunnelsQuery, EventsQuery or HogQL.',
    inputSchema: { query: z.union([z.string(), z.record(z.string(), z.unknown())]).describe('A query node (object or JSON) or a HogQL string.') },
    annotations: read,
  },
  { name: 'dashboards-get-all', title: 'List dashboards', description: 'Lists all PostHog dashboards.', inputSchema: { ...paging }, annotations: read },
  {
    name: 'event-definitions-list',
    title: 'List event definitions',
    description: 'Lists PostHog event definitions.',
    inputSchema: { q: z.string().optional().describe('Search query to filter event names.'), ...paging },
    annotations: read,
  },
];

export interface ActingUser {
  readonly sub: string;
  readonly email: string | undefined;
}

export interface ToolCallRecord {
  readonly name: string;
  readonly sub: string;
  readonly email: string | undefined;
  readonly args: JsonRecord;
  readonly isError: boolean;
}

export interface RegisterToolsOptions {
  readonly data: EmulatorData;
  readonly user: ActingUser;
  /** Per tool: hints to change, or null to register the tool with no annotations at all. */
  readonly annotationOverrides?: Record<string, ToolAnnotationsSpec | null>;
  readonly onCall?: (record: ToolCallRecord) => void;
}

function handlerKey(name: string): string {
  return `posthogmcp_${name.replace(/-/g, '_')}`;
}

function actingPostHogUser(user: ActingUser): PostHogUser {
  const local = (user.email ?? user.sub).split('@')[0] ?? user.sub;
  return {
    id: 5000 + [...user.sub].reduce((a, c) => a + c.charCodeAt(0), 0),
    uuid: `user-${user.sub}`,
    first_name: local,
    last_name: '',
    email: user.email ?? '',
  };
}

export function registerPostHogTools(server: McpServer, opts: RegisterToolsOptions): void {
  for (const spec of POSTHOG_MCP_TOOLS) {
    const handler = posthogHandlers[handlerKey(spec.name)];
    if (!handler) throw new Error(`no handler for ${spec.name}`);
    const override = opts.annotationOverrides?.[spec.name];
    const annotations = override === null ? undefined : { ...spec.annotations, ...(override ?? {}) };
    const run = async (args: JsonRecord): Promise<CallToolResult> => {
      let result: CallToolResult;
      try {
        const data = handler(args, {
          toolName: handlerKey(spec.name),
          connector: 'posthogmcp',
          identifier: `enterprise:${opts.user.sub}`,
          schema: {},
          data: opts.data,
        });
        if (spec.name === 'create-feature-flag') {
          // PostHog records who acted: with ID-JAG that is the signed-in user, not a bot.
          const flag = opts.data.posthog.featureFlags.find((f) => f.id === data.id);
          if (flag) flag.created_by = actingPostHogUser(opts.user);
          data.created_by = flag?.created_by ?? data.created_by;
        }
        result = { content: [{ type: 'text', text: JSON.stringify(data) }] };
      } catch (error) {
        if (!ToolFailure.is(error)) throw error;
        result = { isError: true, content: [{ type: 'text', text: `${error.kind}: ${error.message}` }] };
      }
      opts.onCall?.({ name: spec.name, sub: opts.user.sub, email: opts.user.email, args, isError: result.isError === true });
      return result;
    };
    server.registerTool(
      spec.name,
      { title: spec.title, description: spec.description, inputSchema: spec.inputSchema, ...(annotations ? { annotations } : {}) },
      async (args: JsonRecord) => run(args),
    );
  }
}
