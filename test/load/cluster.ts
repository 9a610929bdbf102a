import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startPostgresServer, type PostgresServer } from '../gateway/postgresServer';
import { startIdpEmulator, type IdpEmulator } from '../emulators/idp/server';
import { startScalekitEmulator, type ScalekitEmulator } from '../emulators/scalekit/server';

// A team-mode deployment on loopback for the load tier: a real Postgres server, the Scalekit
// and IdP emulators, and N gateway instances, each its own OS process (`node dist/gateway.js`)
// on a fixed port with the same DATABASE_URL, as behind an organisation's load balancer.

export const audience = 'onbehalf-vscode';
const root = join(__dirname, '..', '..', '..');

export interface GatewayProcess {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** Output of every run of this instance (stdout and stderr), for failure messages. */
  readonly output: string[];
  /** Whether the process is running. */
  readonly alive: boolean;
  start(): Promise<void>;
  /** `kill -9`: no shutdown, no goodbye; requests in flight are cut. */
  killHard(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

export interface Cluster {
  readonly postgres: PostgresServer;
  readonly databaseUrl: string;
  readonly scalekit: ScalekitEmulator;
  readonly idp: IdpEmulator;
  readonly gateways: readonly GatewayProcess[];
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers `status`, or throws after `timeoutMs`. */
export async function waitForStatus(url: string, status: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let last = 'no answer';
  while (Date.now() - started < timeoutMs) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
      await response.arrayBuffer();
      if (response.status === status) return Date.now() - started;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
}

function gatewayProcess(name: string, port: number, env: Record<string, string>): GatewayProcess {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const output: string[] = [];
  const url = `http://127.0.0.1:${port}`;
  return {
    name,
    url,
    port,
    output,
    get alive() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      const proc = spawn(process.execPath, [join(root, 'dist', 'gateway.js')], {
        cwd: root,
        env: { PATH: process.env['PATH'] ?? '', ...env, PORT: String(port), ONBEHALF_GATEWAY_INSTANCE: name },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      const keep = (chunk: Buffer) => {
        output.push(chunk.toString('utf8'));
        if (output.length > 400) output.splice(0, output.length - 400);
      };
      proc.stdout?.on('data', keep);
      proc.stderr?.on('data', keep);
      exited = new Promise((resolve) => proc.once('exit', () => resolve()));
      await waitForStatus(`${url}/readyz`, 200, 60_000).catch((error: unknown) => {
        throw new Error(`${name} did not become ready: ${String(error)}\n${output.join('').slice(-2000)}`);
      });
    },
    async killHard() {
      child?.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface ClusterOptions {
  readonly instances?: number;
  /** More environment for every instance (rate limits, admins, OTel). */
  readonly env?: Record<string, string>;
  /** More environment that depends on the emulators (e.g. admins' identifiers, which name the issuer). */
  readonly envFor?: (emulators: { idp: IdpEmulator; scalekit: ScalekitEmulator }) => Record<string, string>;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const postgres = await startPostgresServer();
  const [scalekit, idp] = await Promise.all([startScalekitEmulator(), startIdpEmulator({ clientId: audience })]);
  const databaseUrl = await postgres.createDatabase('onbehalf_load');
  const env: Record<string, string> = {
    ONBEHALF_GATEWAY_IDENTITY: 'oidc',
    OIDC_ISSUER: idp.issuer,
    OIDC_AUDIENCES: audience,
    SCALEKIT_ENVIRONMENT_URL: scalekit.url,
    SCALEKIT_CLIENT_ID: scalekit.clientId,
    SCALEKIT_CLIENT_SECRET: scalekit.clientSecret,
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '20',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...(options.env ?? {}),
    ...(options.envFor?.({ idp, scalekit }) ?? {}),
  };
  const gateways: GatewayProcess[] = [];
  const names = ['gw-a', 'gw-b', 'gw-c', 'gw-d'];
  for (let i = 0; i < (options.instances ?? 2); i++) gateways.push(gatewayProcess(names[i] ?? `gw-${i}`, await freePort(), env));
  try {
    // One after the other: both run the migrations, under the advisory lock, and must agree.
    for (const gateway of gateways) await gateway.start();
  } catch (error) {
    for (const gateway of gateways) await gateway.killHard();
    await Promise.all([scalekit.close(), idp.close(), postgres.close()]);
    throw error;
  }
  return {
    postgres,
    databaseUrl,
    scalekit,
    idp,
    gateways,
    async close() {
      for (const gateway of gateways) await gateway.stop().catch(() => undefined);
      await Promise.all([scalekit.close(), idp.close()]);
      await postgres.close();
    },
  };
}

/** A valid ID token for `sub`, as the extension's VS Code session holds it. */
export function idToken(idp: IdpEmulator, sub: string): Promise<string> {
  return idp.signJwt({ sub, aud: audience, name: sub }, { expiresInSeconds: 3600 });
}
