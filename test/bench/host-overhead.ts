import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { identifierFor } from '../../src/core/identifier';
import { ASANA_LIST_FIELDS, SIGNUPS_TRENDS_QUERY } from '../emulators/anthropic/scripted-model';
import { startAnthropicEmulator } from '../emulators/anthropic/server';
import type { RecordedRequest, ScriptedTurn } from '../emulators/anthropic/types';
import { startIdpEmulator } from '../emulators/idp/server';
import { startScalekitEmulator } from '../emulators/scalekit/server';
import { launchBrowser, workbenchUrl } from '../harness/browser';
import { ensureCodeServer, launchCodeServer, makeWorkspace, REPO_ROOT } from '../harness/code-server';
import type { HostOverheadSetup } from './host-overhead.host';

/** Read by host-overhead.host.ts in the extension host, which inherits code-server's environment. */
const setupVariable = 'ONBEHALF_BENCH_HOST_OVERHEAD';
const resultPrefix = 'host-overhead-result ';

// Host overhead per tool call, in the real extension host of VS Code 1.100.3 (code-server):
// test/bench/host-overhead.host.ts runs there as the extension's test entry and drives the real
// chat path; the emulators run here, in another process, so none of their work lands on the
// extension host's thread. A benchmark, not a test: it prints figures and asserts nothing.

const conversations = 20;
const callsPerConversation = 10;
/** A real model streams its reply over time; the host parses each delta as it arrives. */
const delayMsPerChunk = 1;
/** What the scripted model searches for first in each conversation, then the reads it makes. */
const searches = ['list workspaces', 'list tasks', 'list insights', 'run trends query'];
const reads = (workspaceGid: string): { name: string; input: Record<string, unknown> }[] => [
  { name: 'asana_workspaces_list', input: {} },
  { name: 'asana_tasks_list', input: { assignee: 'me', workspace_gid: workspaceGid, ...ASANA_LIST_FIELDS } },
  { name: 'posthogmcp_insights_list', input: { limit: 10 } },
  { name: 'posthogmcp_query_run', input: { query: SIGNUPS_TRENDS_QUERY } },
];

/** The scripted model: searches, then one read per reply, then a closing text. */
function nextTurn(request: RecordedRequest, calls: ReturnType<typeof reads>): ScriptedTurn {
  const messages = request.body.messages;
  let step = 0;
  // Replies since the person's own message (the user turns between are tool results).
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role === 'assistant') step++;
    else if (typeof message.content === 'string' || !message.content.some((block) => block.type === 'tool_result')) break;
  }
  if (step < searches.length) return { toolUse: { name: 'search_tools', input: { query: searches[step] } }, delayMsPerChunk };
  const call = step - searches.length;
  if (call < callsPerConversation) return { toolUse: calls[call % calls.length]!, delayMsPerChunk };
  return { text: 'Here is what I found.' };
}

export interface HostOverheadFigures {
  readonly calls: number;
  readonly failed: number;
  readonly onBehalf: { median: number; p95: number };
  readonly boundary: { median: number; p95: number };
}

function quantiles(values: readonly number[]): { median: number; p95: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { median: pick(0.5), p95: pick(0.95) };
}

export async function benchHostOverhead(): Promise<HostOverheadFigures> {
  await ensureCodeServer();
  const scalekit = await startScalekitEmulator();
  const calls = reads(scalekit.data.asana.workspace.gid);
  const [anthropic, idp] = await Promise.all([startAnthropicEmulator({ fallback: (request) => nextTurn(request, calls) }), startIdpEmulator()]);
  const workspace = makeWorkspace();
  const server = await launchCodeServer({
    workspace,
    label: 'bench-host-overhead',
    env: {
      [setupVariable]: JSON.stringify({
        scalekitUrl: scalekit.url,
        scalekitClientId: scalekit.clientId,
        scalekitClientSecret: scalekit.clientSecret,
        anthropicUrl: anthropic.url,
        idpIssuer: idp.issuer,
        idpClientId: idp.clientId,
        conversations,
        callsPerConversation,
        resultPrefix,
        ...(process.env.ONBEHALF_BENCH_CPU_PROFILE ? { cpuProfilePath: process.env.ONBEHALF_BENCH_CPU_PROFILE } : {}),
      } satisfies HostOverheadSetup),
    },
  });
  const browser = await launchBrowser();
  try {
    for (const connection of ['posthog', 'asana']) scalekit.activateAccount(identifierFor('oidc', 'ada', idp.issuer), connection);
    let result: string | undefined;
    const log: string[] = [];
    let exited!: (code: number) => void;
    const exit = new Promise<number>((resolve) => (exited = resolve));
    await browser.page.exposeFunction('codeAutomationLog', (_type: string, args: unknown) => {
      const text = (Array.isArray(args) ? args : [args]).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
      log.push(text);
      for (const line of text.split('\n')) if (line.startsWith(resultPrefix)) result = line.slice(resultPrefix.length);
    });
    await browser.page.exposeFunction('codeAutomationExit', (code: number) => exited(code));
    const entry = join(REPO_ROOT, 'out', 'test', 'bench', 'host-overhead.host.js');
    await browser.page.goto(
      workbenchUrl(server.url, workspace, [
        ['extensionDevelopmentPath', server.remoteUri(REPO_ROOT)],
        ['extensionTestsPath', server.remoteUri(entry)],
      ]),
      { waitUntil: 'domcontentloaded' },
    );
    const timeout = new Promise<number>((resolve) => setTimeout(() => resolve(-1), 170_000).unref());
    const code = await Promise.race([exit, timeout]);
    if (result === undefined) throw new Error(`the extension host printed no result (exit ${code}); last log lines:\n${log.slice(-15).join('\n')}`);
    const parsed = JSON.parse(result) as { onBehalf: number[]; boundary: number[]; failed: number; failures: string[] };
    if (parsed.failed > 0) console.log(`host-overhead: ${parsed.failed} calls failed, e.g. ${parsed.failures.join(' | ')}`);
    return { calls: parsed.onBehalf.length, failed: parsed.failed, onBehalf: quantiles(parsed.onBehalf), boundary: quantiles(parsed.boundary) };
  } finally {
    await browser.close();
    await server.close();
    await Promise.all([scalekit.close(), anthropic.close(), idp.close()]);
    rmSync(workspace, { recursive: true, force: true });
  }
}

export function printHostOverhead(f: HostOverheadFigures): void {
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  console.log('\n== Host overhead per tool call, in the real VS Code extension host ==');
  console.log(
    `measured: ${f.calls} tool calls (${conversations} conversations × ${callsPerConversation} allowed reads after 4 searches, ${f.failed} failed) in VS Code 1.100.3's extension host (code-server), ` +
      'through the real chat path (OIDC session, SecretStorage, tool catalog, input schema check, policy, audit, open chat webview), the model streaming its reply in 12-character deltas 1 ms apart, emulators in another process. ' +
      `From the reply holding the tool_use ending at the host to the tool backend being called, plus from the backend's answer to the Anthropic SDK calling fetch for the next request: median ${ms(f.onBehalf.median)}, p95 ${ms(f.onBehalf.p95)}. ` +
      `At the network boundary (adds the Scalekit SDK's gRPC encoding and decoding and VS Code's fetch): median ${ms(f.boundary.median)}, p95 ${ms(f.boundary.p95)}.`,
  );
}
