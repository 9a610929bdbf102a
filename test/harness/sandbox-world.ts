// The sandbox world: the three emulators (Scalekit with its seeded PostHog + Asana demo
// data, the Anthropic API with the ScriptedModel "sandbox model" as its fallback, the
// OIDC IdP with Ada and Grace) started in this process, and code-server configured
// against them with OnBehalf as a development extension. `npm start` hands it to a
// person; the e2e tier drives it with chromium and asserts on the emulators' state.
//
// Only non-secret settings go into code-server's User/settings.json. The Scalekit client
// secret and the Anthropic key never go into settings, env vars or files: a person (or a
// spec acting as one) pastes them into the extension's own input boxes, which keep them
// in VS Code SecretStorage.
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { workbenchUrl } from './browser';
import { launchCodeServer, makeWorkspace, REPO_ROOT, type CodeServer } from './code-server';
import { startAnthropicEmulator, type AnthropicEmulator } from '../emulators/anthropic/server';
import { ScriptedModel } from '../emulators/anthropic/scripted-model';
import { startIdpEmulator, type IdpEmulator } from '../emulators/idp/server';
import { startScalekitEmulator, type ScalekitEmulator } from '../emulators/scalekit/server';

export const HOST = '127.0.0.1';
/*
 * The IdP and Scalekit emulators are named in URLs the extension opens in the browser (the
 * login page, the consent page), and those names must not be spelled "localhost",
 * "127.0.0.1" or "0.0.0.0": code-server's resolveExternalUri rewrites every openExternal of
 * http://<one of those>:<port>/… to its own port proxy, http://<workbench>/proxy/<port>/,
 * dropping the path and the query (measured in 4.100.3), so the pages would never open.
 * Real IdPs and Scalekit environments are not on loopback; this is the sandbox's problem.
 * Both spellings below bind to, and only accept connections on, 127.0.0.1:
 *  - IdP: the IPv4-mapped IPv6 form. ("127.1" would not do: the OIDC client builds the
 *    authorize URL with `new URL()`, which turns it back into 127.0.0.1.)
 *  - Scalekit: the short form 127.1, which the OS binds as 127.0.0.1 and browsers and Node
 *    read as 127.0.0.1; the consent link is opened exactly as the emulator spells it.
 *    (The IPv6 form would not do: Node's HTTP/2 client sends an IPv6 :authority without
 *    brackets, which the emulator's gRPC server cannot parse.)
 */
export const IDP_HOST = '::ffff:127.0.0.1';
export const SCALEKIT_HOST = '127.1';
/** `onbehalf.model` that makes the chat say "Sandbox model"; the emulator answers it with the ScriptedModel. */
export const SANDBOX_MODEL = 'onbehalf-sandbox';
/** A demo Anthropic key for the emulator, which accepts any non-empty key. Worthless anywhere else. */
export const DEMO_ANTHROPIC_KEY = 'sk-ant-sandbox-demo';

export interface SandboxWorldOptions {
  /** Names code-server's log file: test-results/logs/<label>-code-server.log. */
  label: string;
  /** The port the browser uses for the workbench; 0 or undefined picks a free one. */
  port?: number;
  /**
   * Real Claude against the emulated tools: `onbehalf.anthropic.baseUrl` and
   * `onbehalf.model` stay at their defaults and the person pastes their own key.
   */
  realClaude?: boolean;
  /** Folder opened in the workbench; defaults to a fresh temp folder (removed on close). */
  workspace?: string;
  /** Extra environment for code-server and its extension host. */
  env?: Record<string, string>;
  /** Characters per streamed delta and delay per delta of the sandbox model (visible streaming). */
  streaming?: { chunkSize: number; delayMsPerChunk: number };
}

export interface SandboxWorld {
  readonly scalekit: ScalekitEmulator;
  readonly anthropic: AnthropicEmulator;
  readonly idp: IdpEmulator;
  readonly server: CodeServer;
  /** Base URL of the workbench as the browser sees it (http://127.0.0.1:<port>). */
  readonly url: string;
  /** The one URL to open: the workbench with the folder and the development extension. */
  readonly workbenchUrl: string;
  readonly workspace: string;
  /** What went into User/settings.json for OnBehalf. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** The values to paste into the input boxes. Demo values: they only work against these emulators. */
  readonly demoKeys: { readonly scalekitClientSecret: string; readonly anthropicApiKey: string | undefined };
  readonly realClaude: boolean;
  close(): Promise<void>;
}

/** OnBehalf's settings for this world: identity through the IdP, Scalekit and (unless real Claude) Anthropic emulated. */
export function sandboxSettings(
  emulators: { scalekit: ScalekitEmulator; anthropic: AnthropicEmulator; idp: IdpEmulator },
  realClaude: boolean,
): Record<string, unknown> {
  return {
    'onbehalf.identity.provider': 'oidc',
    'onbehalf.oidc.issuer': emulators.idp.issuer,
    'onbehalf.oidc.clientId': emulators.idp.clientId,
    'onbehalf.scalekit.environmentUrl': emulators.scalekit.url,
    'onbehalf.scalekit.clientId': emulators.scalekit.clientId,
    'onbehalf.connections': ['posthog', 'asana'],
    ...(realClaude ? {} : { 'onbehalf.anthropic.baseUrl': emulators.anthropic.url, 'onbehalf.model': SANDBOX_MODEL }),
  };
}

/**
 * Forwards 127.0.0.1:<port> to code-server's own port, byte for byte (HTTP and its
 * WebSockets alike), so `--port N` works with the harness's launcher, which always picks
 * a free port itself.
 */
async function forwardPort(port: number, target: number): Promise<{ server: Server; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = netConnect(target, HOST);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  server.listen(port, HOST);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => {
      throw new Error(`cannot listen on ${HOST}:${port}: ${(error as Error).message}`);
    }),
  ]);
  return {
    server,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function settle(what: string, close: () => Promise<void>, timeoutMs = 5_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      close(),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          console.error(`[sandbox] ${what} did not close within ${timeoutMs / 1000}s; going on`);
          resolve();
        }, timeoutMs);
      }),
    ]);
  } catch (error) {
    console.error(`[sandbox] closing ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

export async function startSandboxWorld(options: SandboxWorldOptions): Promise<SandboxWorld> {
  const realClaude = options.realClaude === true;
  const closers: Array<[string, () => Promise<void>]> = [];
  const closeAll = async () => {
    for (const [what, close] of closers.reverse()) await settle(what, close);
    closers.length = 0;
  };
  try {
    const [scalekit, anthropic, idp] = await Promise.all([
      startScalekitEmulator({ host: SCALEKIT_HOST }),
      startAnthropicEmulator({
        host: HOST,
        apiKeys: [DEMO_ANTHROPIC_KEY],
        models: [SANDBOX_MODEL, 'claude-sonnet-5-5', 'claude-sonnet-4-6'],
        fallback: new ScriptedModel(options.streaming ?? { chunkSize: 12, delayMsPerChunk: 15 }),
      }),
      startIdpEmulator({ host: IDP_HOST }),
    ]);
    closers.push(
      ['the Scalekit emulator', () => scalekit.close()],
      ['the Anthropic emulator', () => anthropic.close()],
      ['the IdP emulator', () => idp.close()],
    );

    const ownWorkspace = options.workspace === undefined;
    const workspace =
      options.workspace ??
      makeWorkspace({
        'README.md': '# OnBehalf sandbox\n\nA scratch folder for the sandbox workbench. Open the OnBehalf view in the activity bar to start.\n',
      });
    if (ownWorkspace) closers.unshift(['the workspace folder', async () => rmSync(workspace, { recursive: true, force: true })]);

    const settings = sandboxSettings({ scalekit, anthropic, idp }, realClaude);
    // A key in the environment must not reach the extension host; it goes in through the input box only.
    delete process.env['ANTHROPIC_API_KEY'];
    // As a person's fresh VS Code: walkthroughs open on install (the harness's default turns that off).
    const workbenchSettings = { ...settings, 'workbench.welcomePage.walkthroughs.openOnInstall': true };
    const server = await launchCodeServer({ workspace, label: options.label, settings: workbenchSettings, ...(options.env ? { env: options.env } : {}) });
    closers.push(['code-server', () => server.close()]);

    let port = server.port;
    if (options.port !== undefined && options.port !== 0 && options.port !== server.port) {
      const forward = await forwardPort(options.port, server.port);
      // Closed before code-server (closers run in reverse).
      closers.push([`the forward from port ${options.port}`, () => forward.close()]);
      port = options.port;
    }
    const url = `http://${HOST}:${port}`;
    const remote = `vscode-remote://${HOST}:${port}${REPO_ROOT}`;
    return {
      scalekit,
      anthropic,
      idp,
      server,
      url,
      workspace,
      settings,
      realClaude,
      workbenchUrl: workbenchUrl(url, workspace, [['extensionDevelopmentPath', remote]]),
      demoKeys: { scalekitClientSecret: scalekit.clientSecret, anthropicApiKey: realClaude ? undefined : DEMO_ANTHROPIC_KEY },
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
