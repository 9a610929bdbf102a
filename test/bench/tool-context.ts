import Anthropic from '@anthropic-ai/sdk';
import { runAgentTurn, searchToolName } from '../../src/agent/agentLoop';
import { appendUserText, newConversation } from '../../src/agent/conversation';
import { ApprovalPolicy } from '../../src/agent/policy';
import { ToolCatalog } from '../../src/agent/toolCatalog';
import { pickReferences, type ToolContextStrategy } from '../../src/agent/toolContext';
import type { Identifier } from '../../src/core/identifier';
import { ScalekitAccounts } from '../../src/scalekit/scalekitAccounts';
import { ScalekitToolBackend } from '../../src/scalekit/scalekitBackend';
import { systemPrompt } from '../../src/vscode/chat/systemPrompt';
import { blocksOf, messagesOf } from '../emulators/anthropic/conversation';
import { startAnthropicEmulator, type RecordedRequest, type TurnFunction } from '../emulators/anthropic/server';
import { bm25Search, type RequestTool } from '../emulators/anthropic/tool-search';
import { startScalekitEmulator } from '../emulators/scalekit/server';
import { identifierOf } from '../support/identifiers';
import { benchTasks, type BenchTask } from './tasks';

// Tool context and prompt-cache cost per TURN over one long chat: the 24 tasks of tasks.ts
// asked one after another in ONE conversation, with the real system prompt, through the real
// agent loop, the real Anthropic SDK over SSE and the real Scalekit SDK over gRPC. The
// Anthropic emulator applies the API's prompt-caching rules (test/emulators/anthropic/
// prompt-cache.ts), so its usage says what the API would bill. Four ways of giving the model
// its tools (src/agent/toolContext.ts) run side by side, each in a fresh emulator.

const model = 'claude-sonnet-5-5'; // the product's default (1,024-token minimum cacheable prefix)
const userLabel = 'Ada Lovelace (ada@example.com)';
const today = new Date('2026-12-02T09:00:00Z');

export const strategies: ReadonlyArray<{ id: ToolContextStrategy; label: string }> = [
  { id: 'loadSchemas', label: '(a) client search loads schemas (before)' },
  { id: 'appendOnly', label: '(b) append-only tools + history breakpoint' },
  { id: 'serverSearch', label: "(c) Anthropic's tool search, all deferred" },
  { id: 'referencesAllDeferred', label: '(d) client search → tool_reference, all deferred' },
  { id: 'references', label: '(e) as (d), only referenced tools sent (product)' },
];

export interface TurnFigure {
  readonly task: string;
  readonly succeeded: boolean;
  readonly discovery: boolean;
  readonly roundTrips: number;
  /** Largest over the turn's requests: definitions in the model's context, as the emulator counts them. */
  readonly loadedToolBytes: number;
  /** Mean over the turn's requests: the raw request body. */
  readonly requestBytes: number;
  /** Input tokens weighted by price: uncached ×1, cache writes ×1.25, cache reads ×0.1. */
  readonly weightedInput: number;
  readonly input: number;
  readonly cacheWrite: number;
  readonly cacheRead: number;
}

export interface StrategyFigures {
  readonly id: ToolContextStrategy;
  readonly label: string;
  readonly turns: TurnFigure[];
  readonly meanLoadedToolBytes: number;
  readonly maxLoadedToolBytes: number;
  readonly meanRequestBytes: number;
  readonly meanWeightedInput: number;
  readonly roundTripsPerDiscovery: number;
  readonly discoveryTurns: number;
  readonly succeeded: number;
  readonly cacheMissRequests: number;
  readonly requests: number;
}

export interface ToolContextFigures {
  readonly toolCount: number;
  readonly naiveToolBytes: number;
  readonly strategies: StrategyFigures[];
  readonly reachable: { references: number; serverSearch: number; unreachable: string[] };
}

/** Messages since the user's last typed question. */
function sinceQuestion(request: RecordedRequest): ReturnType<typeof messagesOf> {
  const messages = messagesOf(request);
  for (let i = messages.length - 1; i >= 0; i--) {
    const blocks = blocksOf(messages[i]);
    if (messages[i]?.role === 'user' && blocks.some((b) => b.type === 'text') && !blocks.some((b) => b.type === 'tool_result')) return messages.slice(i + 1);
  }
  return [];
}

/**
 * A model that works as Claude would with each way: it calls the task's tool at once when the
 * tool is callable (sent whole, or loaded by a tool_reference earlier in the chat); otherwise it
 * searches with the task's keywords, with Anthropic's tool search in the same reply as the call
 * when the request carries it, else with search_tools, and calls the tool only if the search loaded it.
 */
function benchModel(task: BenchTask, input: Record<string, unknown>): TurnFunction {
  return (request) => {
    const turn = sinceQuestion(request);
    const blocks = turn.flatMap((m) => blocksOf(m));
    if (blocks.some((b) => b.type === 'tool_use' && b.name === task.tool)) return { text: 'Done.' };
    if (request.loadedToolNames.includes(task.tool)) return { toolUse: { name: task.tool, input } };
    const searched = blocks.some((b) => (b.type === 'tool_use' && b.name === searchToolName) || b.type === 'server_tool_use');
    if (searched) return { text: 'I could not find a tool for that.' };
    if (request.toolSearch) {
      const found = bm25Search(request.body.tools as RequestTool[], task.search, 5);
      const hit = found.ok && found.hits.some((h) => h.name === task.tool);
      return { content: [{ toolSearch: { query: task.search, maxResults: 5 } }, hit ? { toolUse: { name: task.tool, input } } : { text: 'Nothing to call.' }] };
    }
    return { toolUse: { name: searchToolName, input: { query: task.search } } };
  };
}

async function runStrategy(id: ToolContextStrategy, label: string, catalog: ToolCatalog, identifier: Identifier): Promise<StrategyFigures> {
  // Fresh services per way, so one way's writes (a created flag) do not fail the next way's.
  const anthropic = await startAnthropicEmulator();
  const scalekit = await startScalekitEmulator();
  scalekit.activateAccount(identifier, 'posthog');
  scalekit.activateAccount(identifier, 'asana');
  const backend = new ScalekitToolBackend(
    new ScalekitAccounts(async () => ({ environmentUrl: scalekit.url, clientId: scalekit.clientId, clientSecret: scalekit.clientSecret })),
  );
  try {
    const asana = scalekit.data.asana;
    const ctx = { workspaceGid: asana.workspace.gid, projectGid: asana.projects[0]!.gid, taskGid: [...asana.tasks.keys()][0]! };
    const conversation = newConversation(`bench-${id}`, today.getTime());
    const client = new Anthropic({ apiKey: 'sk-bench', baseURL: anthropic.url, maxRetries: 0 });
    const prompt = systemPrompt(userLabel, catalog, today);
    let n = 0;
    const turns: TurnFigure[] = [];
    for (const task of benchTasks) {
      appendUserText(conversation, task.ask, `u${turns.length}`, Date.now());
      anthropic.setFallback(benchModel(task, task.input(ctx)));
      const firstMessage = conversation.messages.length;
      const firstRequest = anthropic.requests.length;
      const executed = scalekit.executions.length;
      const usageBefore = conversation.usage;
      const outcome = await runAgentTurn(
        conversation,
        {
          anthropic: client,
          model,
          maxSteps: 6,
          systemPrompt: prompt,
          catalog,
          readOnly: false,
          toolContext: id,
          currentIdentifier: async () => identifier,
          backend,
          policy: new ApprovalPolicy({
            ruleFor: () => 'allow',
            isAlwaysAllowed: () => true,
            rememberAlwaysAllowed: async () => undefined,
            askUser: async () => 'approve',
          }),
          audit: () => undefined,
          events: { onItem: () => undefined, onTextDelta: () => undefined },
          newId: () => `i${++n}`,
        },
        new AbortController().signal,
      );
      const requests = anthropic.requests.slice(firstRequest);
      const delta = {
        input: conversation.usage.inputTokens - usageBefore.inputTokens,
        cacheWrite: conversation.usage.cacheWriteTokens - usageBefore.cacheWriteTokens,
        cacheRead: conversation.usage.cacheReadTokens - usageBefore.cacheReadTokens,
      };
      const replies = conversation.messages.slice(firstMessage).flatMap((m) => (typeof m.content === 'string' ? [] : m.content));
      turns.push({
        task: task.ask,
        succeeded: outcome === 'completed' && scalekit.executions.slice(executed).some((e) => e.toolName === task.tool && e.ok),
        discovery: replies.some((b) => (b.type === 'tool_use' && b.name === searchToolName) || b.type === 'server_tool_use'),
        roundTrips: requests.length,
        loadedToolBytes: Math.max(...requests.map((r) => r.loadedToolsBytes)),
        requestBytes: Math.round(requests.reduce((s, r) => s + r.rawBytes, 0) / requests.length),
        weightedInput: Math.round(delta.input + 1.25 * delta.cacheWrite + 0.1 * delta.cacheRead),
        ...delta,
      });
    }
    const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
    const discovery = turns.filter((t) => t.discovery);
    return {
      id,
      label,
      turns,
      meanLoadedToolBytes: mean(turns.map((t) => t.loadedToolBytes)),
      maxLoadedToolBytes: Math.max(...turns.map((t) => t.loadedToolBytes)),
      meanRequestBytes: mean(turns.map((t) => t.requestBytes)),
      meanWeightedInput: mean(turns.map((t) => t.weightedInput)),
      roundTripsPerDiscovery: Math.round((discovery.reduce((s, t) => s + t.roundTrips, 0) / Math.max(1, discovery.length)) * 100) / 100,
      discoveryTurns: discovery.length,
      succeeded: turns.filter((t) => t.succeeded).length,
      requests: anthropic.requests.length,
      // Turns after the first that read nothing from the cache.
      cacheMissRequests: turns.slice(1).filter((t) => t.cacheRead === 0).length,
    };
  } finally {
    await anthropic.close();
    await scalekit.close();
  }
}

export async function benchToolContext(): Promise<ToolContextFigures> {
  const scalekit = await startScalekitEmulator();
  const identifier = identifierOf('oidc', 'ada');
  try {
    scalekit.activateAccount(identifier, 'posthog');
    scalekit.activateAccount(identifier, 'asana');
    const accounts = new ScalekitAccounts(async () => ({ environmentUrl: scalekit.url, clientId: scalekit.clientId, clientSecret: scalekit.clientSecret }));
    const backend = new ScalekitToolBackend(accounts);
    const catalog = new ToolCatalog([...(await backend.listTools(identifier, 'posthog')), ...(await backend.listTools(identifier, 'asana'))]);
    const naiveTools = catalog.all().map((t) => ({ name: t.name, description: t.description, input_schema: t.inputSchema }));
    const naiveToolBytes = Buffer.byteLength(JSON.stringify(naiveTools));
    const results: StrategyFigures[] = [];
    for (const s of strategies) results.push(await runStrategy(s.id, s.label, catalog, identifier));

    // Every tool reachable: a search by its name loads it (client search: as the first tool_reference;
    // Anthropic's bm25 tool search: among the references it returns by default).
    const deferred = catalog.deferredDefinitions(false) as RequestTool[];
    const unreachable: string[] = [];
    let references = 0;
    let serverSearch = 0;
    for (const tool of catalog.all()) {
      const picked = pickReferences(catalog.searchScored(tool.name), new Set());
      if (picked[0]?.name === tool.name) references++;
      else unreachable.push(tool.name);
      const server = bm25Search(deferred, tool.name.replace(/_/g, ' '), 5);
      if (server.ok && server.hits.some((h) => h.name === tool.name)) serverSearch++;
    }
    return { toolCount: catalog.size, naiveToolBytes, strategies: results, reachable: { references, serverSearch, unreachable } };
  } finally {
    await scalekit.close();
  }
}

export function printToolContext(f: ToolContextFigures): void {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const pct = (n: number) => `${((n / f.naiveToolBytes) * 100).toFixed(1)}%`;
  console.log('\n== Tool context and prompt-cache cost per turn (24 tasks in ONE chat) ==');
  console.log(
    `measured: the ${benchTasks.length} tasks of test/bench/tasks.ts asked in one conversation with the real system prompt (${model}), real agent loop, ` +
      'real Anthropic SDK over SSE against the emulator (which applies the API prompt-caching rules: breakpoints, tools→system→messages prefix, ' +
      '1,024-token minimum, 20-block lookback, deferred tools outside the prefix; tokens ≈ JSON bytes / 4) and real Scalekit SDK over gRPC. ' +
      `Loaded tool context = tool definitions in the model's context (largest request of the turn); naive = all ${f.toolCount} schemas = ${kb(f.naiveToolBytes)}.`,
  );
  console.log(
    'strategy'.padEnd(50),
    'loaded/turn'.padStart(11),
    '% naive'.padStart(8),
    'max'.padStart(9),
    'request'.padStart(9),
    'weighted in/turn'.padStart(17),
    'trips/disc.'.padStart(12),
    'misses'.padStart(7),
    'ok'.padStart(6),
  );
  const before = f.strategies.find((s) => s.id === 'loadSchemas');
  for (const s of f.strategies) {
    console.log(
      s.label.padEnd(50),
      kb(s.meanLoadedToolBytes).padStart(11),
      pct(s.meanLoadedToolBytes).padStart(8),
      kb(s.maxLoadedToolBytes).padStart(9),
      kb(s.meanRequestBytes).padStart(9),
      `${s.meanWeightedInput} tok${before ? ` (${((s.meanWeightedInput / before.meanWeightedInput) * 100).toFixed(0)}%)` : ''}`.padStart(17),
      `${s.roundTripsPerDiscovery} (${s.discoveryTurns})`.padStart(12),
      String(s.cacheMissRequests).padStart(7),
      `${s.succeeded}/${s.turns.length}`.padStart(6),
    );
  }
  console.log(
    'weighted in = input + 1.25 × cache writes + 0.1 × cache reads, in tokens per turn (% of (a)); trips/disc. = model requests per turn that searched ' +
      '(number of such turns); misses = turns after the first that read nothing from the cache; ok = turns whose tool ran and succeeded.',
  );
  console.log(
    `Reachable by a search for its name: ${f.reachable.references}/${f.toolCount} as the first tool_reference of search_tools; ` +
      `${f.reachable.serverSearch}/${f.toolCount} in the emulator's bm25 tool search top 5.${f.reachable.unreachable.length ? ` Not: ${f.reachable.unreachable.slice(0, 5).join(', ')}` : ''}`,
  );
}

export function printToolContextTurns(f: ToolContextFigures): void {
  for (const s of f.strategies) {
    console.log(`\n${s.label}`);
    for (const t of s.turns)
      console.log(
        `  ${t.task.slice(0, 48).padEnd(49)} trips ${t.roundTrips} loaded ${(t.loadedToolBytes / 1024).toFixed(1).padStart(5)} KB in ${String(t.input).padStart(5)} w ${String(t.cacheWrite).padStart(5)} r ${String(t.cacheRead).padStart(6)} weighted ${t.weightedInput}${t.succeeded ? '' : ' FAILED'}`,
      );
  }
}
