// A real OnBehalf gateway (h-gw-server's src/gateway, as `node dist/gateway.js` runs it) in
// its own process, for the team-mode suite. Its own process, so the wire tap in the extension
// host records only what the extension sends: the gateway's own calls to Scalekit, which carry
// the organisation's secret, leave from this child, not from the host.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IdpEmulator } from '../emulators/idp/server';
import type { ScalekitEmulator } from '../emulators/scalekit/server';

export interface GatewayProcess {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Its PGlite directory: open it only after close(), one process owns it at a time. */
  readonly dataDir: string;
  /** Everything the gateway wrote to stderr (its start line, its pino logs). */
  output(): string;
  /** SIGTERM, then waits for the exit (it finishes requests in flight first). */
  close(): Promise<void>;
}

/** The gateway's entry point as esbuild transpiles it into out/ (the same module dist/gateway.js bundles). */
const entry = join(__dirname, '..', '..', 'src', 'gateway', 'main.js');

export async function spawnGateway(options: {
  scalekit: ScalekitEmulator;
  idp: IdpEmulator;
  dataDir: string;
  policy?: unknown;
  instance?: string;
  /** A fixed port (a restart at the same URL); default a free one. */
  port?: number;
  /** Turns the model relay on: the organisation's Anthropic key and where it goes. */
  relay?: { apiKey: string; baseUrl: string };
}): Promise<GatewayProcess> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    ONBEHALF_GATEWAY_IDENTITY: 'oidc',
    OIDC_ISSUER: options.idp.issuer,
    OIDC_AUDIENCES: options.idp.clientId,
    SCALEKIT_ENVIRONMENT_URL: options.scalekit.url,
    SCALEKIT_CLIENT_ID: options.scalekit.clientId,
    SCALEKIT_CLIENT_SECRET: options.scalekit.clientSecret,
    ONBEHALF_GATEWAY_DATA_DIR: join(options.dataDir, 'pglite'),
    ONBEHALF_GATEWAY_INSTANCE: options.instance ?? 'gw-integration',
    ONBEHALF_GATEWAY_CONNECTIONS: 'posthog,asana',
    HOST: '127.0.0.1',
    PORT: String(options.port ?? 0),
    LOG_LEVEL: 'warn',
  };
  if (options.relay) {
    env['ANTHROPIC_API_KEY'] = options.relay.apiKey;
    env['ANTHROPIC_BASE_URL'] = options.relay.baseUrl;
  }
  if (options.policy !== undefined) {
    const file = join(options.dataDir, 'policy.json');
    writeFileSync(file, JSON.stringify(options.policy));
    env['ONBEHALF_GATEWAY_POLICY'] = file;
  }
  // The extension host's own Node (code-server's), as a plain Node process.
  const child: ChildProcess = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within 60 s:\n${output}`)), 60_000);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stderr?.on('data', check);
    child.stdout?.on('data', check);
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited (${String(code)}) before listening:\n${output}`));
    });
  });
  return {
    url,
    dataDir: join(options.dataDir, 'pglite'),
    output: () => output,
    close: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
