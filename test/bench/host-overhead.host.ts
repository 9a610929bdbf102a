// Runs inside the real VS Code 1.100.3 extension host (loaded as extensionTestsPath by
// test/bench/host-overhead.ts): drives scripted conversations through the real chat path
// (identity, SecretStorage, policy, audit, webview) against emulators that run in the bench's
// own process, and records when each request and reply crosses the host's network boundary.
// Nothing here is a test: it prints one result line for the runner.
import * as diagnosticsChannel from 'node:diagnostics_channel';
import * as http2 from 'node:http2';
import * as vscode from 'vscode';
import { api, installBrowser, signInAs, statusOf, waitFor } from '../integration/support';

/** What the runner hands over through the environment. */
export interface HostOverheadSetup {
  readonly scalekitUrl: string;
  readonly scalekitClientId: string;
  readonly scalekitClientSecret: string;
  readonly anthropicUrl: string;
  readonly idpIssuer: string;
  readonly idpClientId: string;
  readonly conversations: number;
  /** Tool calls the scripted model makes in each conversation (after its searches). */
  readonly callsPerConversation: number;
  /** Starts the one line the runner reads the figures from. */
  readonly resultPrefix: string;
}

/** One crossing of the host's network boundary, by performance.now() in the extension host. */
type Crossing = { kind: 'modelRequestSent' | 'modelReplyEnded' | 'toolRequestSent' | 'toolReplyEnded'; at: number };

/** The environment variable holding the setup (test/bench/host-overhead.ts sets it). */
const setupVariable = 'ONBEHALF_BENCH_HOST_OVERHEAD';

/**
 * Records the four crossings with no code in the extension: undici's diagnostics channels for
 * the Anthropic SDK's fetch (request handed to the HTTP client; last byte of the reply), and the
 * HTTP/2 session the Scalekit SDK's gRPC transport uses (ExecuteTool sent; its trailers arrived).
 */
function recordCrossings(): { crossings: Crossing[]; dispose(): void } {
  const crossings: Crossing[] = [];
  const isMessages = (message: unknown) => {
    const request = (message as { request?: { method?: string; path?: string } }).request;
    return request?.method === 'POST' && (request.path ?? '').startsWith('/v1/messages');
  };
  const onCreate = (message: unknown) => {
    if (isMessages(message)) crossings.push({ kind: 'modelRequestSent', at: performance.now() });
  };
  const onTrailers = (message: unknown) => {
    if (isMessages(message)) crossings.push({ kind: 'modelReplyEnded', at: performance.now() });
  };
  diagnosticsChannel.subscribe('undici:request:create', onCreate);
  diagnosticsChannel.subscribe('undici:request:trailers', onTrailers);
  const probe = http2.connect('http://127.0.0.1:9');
  probe.on('error', () => undefined);
  const sessionProto = Object.getPrototypeOf(probe) as { request: (this: http2.ClientHttp2Session, ...args: unknown[]) => http2.ClientHttp2Stream };
  probe.destroy();
  const request = sessionProto.request;
  sessionProto.request = function (this: http2.ClientHttp2Session, ...args: unknown[]) {
    const headers = (args[0] ?? {}) as http2.OutgoingHttpHeaders;
    const isExecute = String(headers[':path'] ?? '').endsWith('/ExecuteTool');
    if (isExecute) crossings.push({ kind: 'toolRequestSent', at: performance.now() });
    const stream = request.apply(this, args);
    if (isExecute) stream.once('trailers', () => crossings.push({ kind: 'toolReplyEnded', at: performance.now() }));
    return stream;
  };
  return {
    crossings,
    dispose: () => {
      diagnosticsChannel.unsubscribe('undici:request:create', onCreate);
      diagnosticsChannel.unsubscribe('undici:request:trailers', onTrailers);
      sessionProto.request = request;
    },
  };
}

/**
 * Host time per tool call: from the model's reply (holding the tool_use) ending to ExecuteTool
 * leaving, plus from ExecuteTool's reply ending to the next model request leaving.
 */
export function perCallOverheads(crossings: readonly Crossing[]): { before: number[]; after: number[]; total: number[] } {
  const before: number[] = [];
  const after: number[] = [];
  const total: number[] = [];
  crossings.forEach((crossing, index) => {
    if (crossing.kind !== 'toolRequestSent') return;
    const replyEnded = crossings
      .slice(0, index)
      .reverse()
      .find((c) => c.kind === 'modelReplyEnded');
    const resultEnded = crossings.slice(index + 1).find((c) => c.kind === 'toolReplyEnded');
    const nextRequest = resultEnded && crossings.slice(crossings.indexOf(resultEnded) + 1).find((c) => c.kind === 'modelRequestSent');
    if (!replyEnded || !resultEnded || !nextRequest) return;
    before.push(crossing.at - replyEnded.at);
    after.push(nextRequest.at - resultEnded.at);
    total.push(crossing.at - replyEnded.at + (nextRequest.at - resultEnded.at));
  });
  return { before, after, total };
}

export async function run(): Promise<void> {
  const setup = JSON.parse(process.env[setupVariable] ?? '{}') as HostOverheadSetup;
  const onbehalf = await api();
  const target = vscode.ConfigurationTarget.Global;
  const config = () => vscode.workspace.getConfiguration('onbehalf');
  await config().update('identity.provider', 'oidc', target);
  await config().update('oidc.issuer', setup.idpIssuer, target);
  await config().update('oidc.clientId', setup.idpClientId, target);
  await config().update('scalekit.environmentUrl', setup.scalekitUrl, target);
  await config().update('scalekit.clientId', setup.scalekitClientId, target);
  await config().update('anthropic.baseUrl', setup.anthropicUrl, target);
  await config().update('connections', ['posthog', 'asana'], target);
  await config().update('maxSteps', setup.callsPerConversation + 6, target);
  const browser = installBrowser(onbehalf);
  await onbehalf.storeSecret('scalekitClientSecret', setup.scalekitClientSecret);
  await onbehalf.storeSecret('anthropicApiKey', 'sk-ant-bench-host-overhead');
  await signInAs(onbehalf, browser, 'ada');
  await waitFor('both connections active', () => statusOf(onbehalf, 'posthog') === 'ACTIVE' && statusOf(onbehalf, 'asana') === 'ACTIVE', 30_000);
  // The chat view is open, as for a person chatting: every card goes to a live webview.
  await vscode.commands.executeCommand('onbehalf.chat.focus');
  await waitFor('chat view rendered', () => onbehalf.chat.renderedHtml().length > 0, 30_000);

  const recorder = recordCrossings();
  const failures: string[] = [];
  try {
    for (let i = 0; i < setup.conversations; i++) {
      await onbehalf.chat.handleMessage({ type: 'newConversation' });
      await onbehalf.chat.handleMessage({ type: 'send', text: `Bench conversation ${i + 1}: look at my workspaces, tasks and insights.` });
      await onbehalf.chat.whenIdle();
      const conversation = onbehalf.chat.activeConversation();
      for (const item of conversation?.items ?? []) {
        if (item.kind === 'tool' && item.card.status !== 'succeeded') failures.push(`${item.card.toolName}: ${item.card.error ?? item.card.status}`);
        if (item.kind === 'error') failures.push(item.message);
      }
    }
  } finally {
    recorder.dispose();
  }
  const overheads = perCallOverheads(recorder.crossings);
  console.log(
    setup.resultPrefix +
      JSON.stringify({ ...overheads, failed: failures.length, failures: [...new Set(failures)].slice(0, 5), crossings: recorder.crossings.length }),
  );
  await onbehalf.signOut();
  onbehalf.setExternalOpener(undefined);
  for (const key of [
    'identity.provider',
    'oidc.issuer',
    'oidc.clientId',
    'scalekit.environmentUrl',
    'scalekit.clientId',
    'anthropic.baseUrl',
    'connections',
    'maxSteps',
  ]) {
    await config().update(key, undefined, target);
  }
}
