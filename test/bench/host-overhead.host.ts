// Runs inside the real VS Code 1.100.3 extension host (loaded as extensionTestsPath by
// test/bench/host-overhead.ts): drives scripted conversations through the real chat path
// (identity, SecretStorage, policy, audit, webview) against emulators that run in the bench's
// own process, and records when each request and reply crosses the host's network boundary.
// Nothing here is a test: it prints one result line for the runner.
import * as diagnosticsChannel from 'node:diagnostics_channel';
import * as http2 from 'node:http2';
import * as inspector from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { OnBehalfTestApi } from '../../src/vscode/testApi';
import { api, configure, installBrowser, resetSettings, signInAs, statusOf, waitFor } from '../integration/support';

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
  /** When set, a V8 CPU profile of the extension host during the measured conversations is written here. */
  readonly cpuProfilePath?: string;
}

/** The environment variable holding the setup (test/bench/host-overhead.ts sets it). */
const setupVariable = 'ONBEHALF_BENCH_HOST_OVERHEAD';

/** One timing point, by performance.now() in the extension host. */
type Crossing = {
  kind: 'modelReplyEnded' | 'backendCalled' | 'toolRequestSent' | 'toolReplyEnded' | 'backendAnswered' | 'modelFetchCalled' | 'modelRequestSent';
  at: number;
};

/**
 * Records the timing points without timing code in the extension: undici's diagnostics
 * channels for the Anthropic SDK's fetch (request handed to the HTTP client; last byte of the
 * reply), a wrapper around the global fetch the SDK calls, and the HTTP/2 session the Scalekit
 * SDK's gRPC transport uses (ExecuteTool sent; its trailers arrived). The tool backend's
 * hand-off comes from the Test-mode probe.
 */
function recordCrossings(onbehalf: OnBehalfTestApi): { crossings: Crossing[]; dispose(): void } {
  const crossings: Crossing[] = [];
  const push = (kind: Crossing['kind']) => crossings.push({ kind, at: performance.now() });
  const isMessages = (message: unknown) => {
    const request = (message as { request?: { method?: string; path?: string } }).request;
    return request?.method === 'POST' && (request.path ?? '').startsWith('/v1/messages');
  };
  const onCreate = (message: unknown) => isMessages(message) && push('modelRequestSent');
  const onTrailers = (message: unknown) => isMessages(message) && push('modelReplyEnded');
  diagnosticsChannel.subscribe('undici:request:create', onCreate);
  diagnosticsChannel.subscribe('undici:request:trailers', onTrailers);
  const fetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (new URL(url).pathname.startsWith('/v1/messages')) push('modelFetchCalled');
    return fetch(input, init);
  };
  onbehalf.setToolBackendProbe({ called: () => push('backendCalled'), answered: () => push('backendAnswered') });
  const probe = http2.connect('http://127.0.0.1:9');
  probe.on('error', () => undefined);
  const sessionProto = Object.getPrototypeOf(probe) as { request: (this: http2.ClientHttp2Session, ...args: unknown[]) => http2.ClientHttp2Stream };
  probe.destroy();
  const request = sessionProto.request;
  sessionProto.request = function (this: http2.ClientHttp2Session, ...args: unknown[]) {
    const headers = (args[0] ?? {}) as http2.OutgoingHttpHeaders;
    const isExecute = String(headers[':path'] ?? '').endsWith('/ExecuteTool');
    if (isExecute) push('toolRequestSent');
    const stream = request.apply(this, args);
    if (isExecute) stream.once('trailers', () => push('toolReplyEnded'));
    return stream;
  };
  return {
    crossings,
    dispose: () => {
      diagnosticsChannel.unsubscribe('undici:request:create', onCreate);
      diagnosticsChannel.unsubscribe('undici:request:trailers', onTrailers);
      globalThis.fetch = fetch;
      onbehalf.setToolBackendProbe(undefined);
      sessionProto.request = request;
    },
  };
}

/**
 * Per tool call, in ms. `onBehalf`: from the model's reply (holding the tool_use) ending at the
 * host to the tool backend being called, plus from the backend's answer to the Anthropic SDK
 * calling fetch for the next request. `boundary`: from that reply ending to ExecuteTool leaving
 * for Scalekit, plus from its reply ending to the next model request handed to the HTTP client
 * (adds the Scalekit SDK's encoding and decoding, and VS Code's fetch, to `onBehalf`).
 */
export function perCallOverheads(crossings: readonly Crossing[]): { onBehalf: number[]; boundary: number[] } {
  const onBehalf: number[] = [];
  const boundary: number[] = [];
  const next = (from: number, kind: Crossing['kind']) => {
    for (let i = from + 1; i < crossings.length; i++) if (crossings[i]!.kind === kind) return { index: i, at: crossings[i]!.at };
    return undefined;
  };
  crossings.forEach((crossing, index) => {
    if (crossing.kind !== 'backendCalled') return;
    let replyEnded: number | undefined;
    for (let i = index - 1; i >= 0 && replyEnded === undefined; i--) if (crossings[i]!.kind === 'modelReplyEnded') replyEnded = crossings[i]!.at;
    const sent = next(index, 'toolRequestSent');
    const replied = sent && next(sent.index, 'toolReplyEnded');
    const answered = next(index, 'backendAnswered');
    const fetched = answered && next(answered.index, 'modelFetchCalled');
    const requested = answered && next(answered.index, 'modelRequestSent');
    if (replyEnded === undefined || !sent || !replied || !answered || !fetched || !requested) return;
    onBehalf.push(crossing.at - replyEnded + (fetched.at - answered.at));
    boundary.push(sent.at - replyEnded + (requested.at - replied.at));
  });
  return { onBehalf, boundary };
}

/** Profiles this thread (the extension host) from inside, so no flag on code-server is needed. */
async function startProfile(): Promise<{ startedAt: number; stop(): Promise<unknown> }> {
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  // The profile's timestamps are the monotonic clock in µs; this maps them onto performance.now().
  const startedAt = performance.now() - Number(process.hrtime.bigint() / 1000n) / 1000;
  return {
    startedAt,
    stop: async () => {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      return profile;
    },
  };
}

export async function run(): Promise<void> {
  const setup = JSON.parse(process.env[setupVariable] ?? '{}') as HostOverheadSetup;
  const onbehalf = await api();
  const target = vscode.ConfigurationTarget.Global;
  const config = () => vscode.workspace.getConfiguration('onbehalf');
  await configure({
    idp: { issuer: setup.idpIssuer, clientId: setup.idpClientId },
    scalekit: { url: setup.scalekitUrl, clientId: setup.scalekitClientId },
    anthropic: { url: setup.anthropicUrl },
  });
  await config().update('maxSteps', setup.callsPerConversation + 6, target);
  const browser = installBrowser(onbehalf);
  await onbehalf.storeSecret('scalekitClientSecret', setup.scalekitClientSecret);
  await onbehalf.storeSecret('anthropicApiKey', 'sk-ant-bench-host-overhead');
  await signInAs(onbehalf, browser, 'ada');
  await waitFor('both connections active', () => statusOf(onbehalf, 'posthog') === 'ACTIVE' && statusOf(onbehalf, 'asana') === 'ACTIVE', 30_000);
  // The chat view is open, as for a person chatting: every card goes to a live webview.
  await vscode.commands.executeCommand('onbehalf.chat.focus');
  await waitFor('chat view rendered', () => onbehalf.chat.renderedHtml().length > 0, 30_000);

  const recorder = recordCrossings(onbehalf);
  const profiler = setup.cpuProfilePath ? await startProfile() : undefined;
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
    if (profiler && setup.cpuProfilePath) writeFileSync(setup.cpuProfilePath, JSON.stringify(await profiler.stop()));
    if (setup.cpuProfilePath)
      writeFileSync(`${setup.cpuProfilePath}.crossings.json`, JSON.stringify({ startedAt: profiler?.startedAt, crossings: recorder.crossings }));
  }
  const overheads = perCallOverheads(recorder.crossings);
  console.log(
    setup.resultPrefix +
      JSON.stringify({ ...overheads, failed: failures.length, failures: [...new Set(failures)].slice(0, 5), crossings: recorder.crossings.length }),
  );
  await onbehalf.signOut();
  onbehalf.setExternalOpener(undefined);
  await resetSettings();
}
