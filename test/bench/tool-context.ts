import Anthropic from '@anthropic-ai/sdk';
import { runAgentTurn, searchToolName, type RequestMetrics } from '../../src/agent/agentLoop';
import { appendUserText, newConversation } from '../../src/agent/conversation';
import { ApprovalPolicy } from '../../src/agent/policy';
import { ToolCatalog } from '../../src/agent/toolCatalog';
import { ScalekitAccounts } from '../../src/scalekit/scalekitAccounts';
import { ScalekitToolBackend } from '../../src/scalekit/scalekitBackend';
import { startAnthropicEmulator } from '../emulators/anthropic/server';
import { startScalekitEmulator } from '../emulators/scalekit/server';
import { benchTasks } from './tasks';

// Loaded tool context and request bytes per turn, ours against sending every schema,
// over the emulator task set. Real SDKs, real agent loop, real emulators.

export interface TaskFigure {
  readonly task: string;
  readonly tool: string;
  readonly reachable: boolean;
  readonly succeeded: boolean;
  readonly requests: number;
  readonly loadedToolBytes: number;
  readonly requestBytes: number;
  readonly naiveToolBytes: number;
  readonly naiveRequestBytes: number;
}

export interface ToolContextFigures {
  readonly tasks: TaskFigure[];
  readonly toolCount: number;
  readonly naiveToolBytes: number;
  readonly meanLoadedToolBytes: number;
  readonly maxLoadedToolBytes: number;
  readonly loadedRatio: number;
  readonly meanRequestBytes: number;
  readonly meanNaiveRequestBytes: number;
  readonly reachable: number;
  readonly succeeded: number;
}

export async function benchToolContext(): Promise<ToolContextFigures> {
  const anthropic = await startAnthropicEmulator();
  const scalekit = await startScalekitEmulator();
  const identifier = 'oidc:ada';
  try {
    scalekit.activateAccount(identifier, 'posthog');
    scalekit.activateAccount(identifier, 'asana');
    const accounts = new ScalekitAccounts(async () => ({ environmentUrl: scalekit.url, clientId: scalekit.clientId, clientSecret: scalekit.clientSecret }));
    const backend = new ScalekitToolBackend(accounts);
    const catalog = new ToolCatalog([...(await backend.listTools(identifier, 'posthog')), ...(await backend.listTools(identifier, 'asana'))]);
    const naiveTools = catalog.all().map((t) => ({ name: t.name, description: t.description, input_schema: t.inputSchema }));
    const naiveToolBytes = Buffer.byteLength(JSON.stringify(naiveTools));
    const asana = scalekit.data.asana;
    const project = asana.projects[0]!;
    const ctx = { workspaceGid: asana.workspace.gid, projectGid: project.gid, taskGid: [...asana.tasks.keys()][0]! };
    const figures: TaskFigure[] = [];

    for (const task of benchTasks) {
      const conversation = newConversation(`bench-${figures.length}`, Date.now());
      appendUserText(conversation, task.ask, 'u', Date.now());
      const metrics: RequestMetrics[] = [];
      let reachable = false;
      // A model that searches, then calls the target tool only if the search loaded it.
      anthropic.queue(
        { toolUse: { name: searchToolName, input: { query: task.search } } },
        (request) => {
          reachable = request.toolNames.includes(task.tool);
          return reachable ? { toolUse: { name: task.tool, input: task.input(ctx) } } : { text: 'I could not find a tool for that.' };
        },
        { text: 'Done.' },
      );
      const before = scalekit.executions.length;
      const outcome = await runAgentTurn(
        conversation,
        {
          anthropic: new Anthropic({ apiKey: 'sk-bench', baseURL: anthropic.url, maxRetries: 0 }),
          model: 'claude-sonnet-4-6',
          maxSteps: 4,
          systemPrompt: 'bench',
          catalog,
          readOnly: false,
          currentIdentifier: async () => identifier,
          backend,
          policy: new ApprovalPolicy({
            ruleFor: () => 'allow',
            isAlwaysAllowed: () => true,
            rememberAlwaysAllowed: async () => undefined,
            askUser: async () => 'approve',
          }),
          audit: () => undefined,
          events: {
            onItem: () => undefined,
            onTextDelta: () => undefined,
            onRequest: (m) => metrics.push(m),
          },
          newId: (() => {
            let n = 0;
            return () => `i${++n}`;
          })(),
        },
        new AbortController().signal,
      );
      const succeeded = outcome === 'completed' && scalekit.executions.slice(before).some((e) => e.toolName === task.tool && e.ok);
      const loaded = Math.max(...metrics.map((m) => m.loadedToolBytes));
      const request = Math.max(...metrics.map((m) => m.requestBytes));
      figures.push({
        task: task.ask,
        tool: task.tool,
        reachable,
        succeeded,
        requests: metrics.length,
        loadedToolBytes: loaded,
        requestBytes: request,
        naiveToolBytes,
        naiveRequestBytes: request - loaded + naiveToolBytes,
      });
    }
    const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
    const meanLoaded = mean(figures.map((f) => f.loadedToolBytes));
    return {
      tasks: figures,
      toolCount: catalog.size,
      naiveToolBytes,
      meanLoadedToolBytes: meanLoaded,
      maxLoadedToolBytes: Math.max(...figures.map((f) => f.loadedToolBytes)),
      loadedRatio: Math.round((meanLoaded / naiveToolBytes) * 10000) / 10000,
      meanRequestBytes: mean(figures.map((f) => f.requestBytes)),
      meanNaiveRequestBytes: mean(figures.map((f) => f.naiveRequestBytes)),
      reachable: figures.filter((f) => f.reachable).length,
      succeeded: figures.filter((f) => f.succeeded).length,
    };
  } finally {
    await anthropic.close();
    await scalekit.close();
  }
}

export function printToolContext(f: ToolContextFigures): void {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  console.log('\n== Tool context per turn (emulator task set) ==');
  console.log(`${f.tasks.length} tasks over ${f.toolCount} tools. Naive (every schema, every request): ${kb(f.naiveToolBytes)} of tools per request.`);
  console.log('task'.padEnd(52), 'tool'.padEnd(40), 'reach', 'ok ', 'loaded'.padStart(9), 'request'.padStart(9), 'naive req'.padStart(10));
  for (const t of f.tasks) {
    console.log(
      t.task.slice(0, 51).padEnd(52),
      t.tool.padEnd(40),
      (t.reachable ? 'yes' : 'NO').padEnd(5),
      (t.succeeded ? 'yes' : 'NO ').padEnd(3),
      kb(t.loadedToolBytes).padStart(9),
      kb(t.requestBytes).padStart(9),
      kb(t.naiveRequestBytes).padStart(10),
    );
  }
  console.log(
    `Loaded tool context: mean ${kb(f.meanLoadedToolBytes)}, max ${kb(f.maxLoadedToolBytes)} = ${(f.loadedRatio * 100).toFixed(1)}% of naive (goal ≤ 10%).`,
  );
  console.log(`Raw request bytes: mean ${kb(f.meanRequestBytes)} vs naive ${kb(f.meanNaiveRequestBytes)}.`);
  console.log(`Reachable: ${f.reachable}/${f.tasks.length}. Task success: ${f.succeeded}/${f.tasks.length}.`);
}
