// `npm run emulators`: starts the Scalekit, Anthropic and OIDC IdP emulators
// and prints one line per emulator with its URL and client ids.
//
//   node out/test/emulators/cli.js [--host 127.0.0.1] [--scalekit-port N] [--anthropic-port N] [--idp-port N]
//                                  [--idp-client-id ID] [--anthropic-key KEY] [--json]
//
// Ports also come from EMU_SCALEKIT_PORT, EMU_ANTHROPIC_PORT and EMU_IDP_PORT; 0 (the default) picks a free port.
// --json prints one JSON object (all URLs and ids) instead of the text lines, for harnesses.
import { startAnthropicEmulator } from './anthropic/server';
import { ScriptedModel } from './anthropic/scripted-model';
import { startIdpEmulator } from './idp/server';
import { startScalekitEmulator } from './scalekit/server';

interface CliOptions {
  host: string;
  scalekitPort: number;
  anthropicPort: number;
  idpPort: number;
  idpClientId: string | undefined;
  anthropicKeys: string[] | undefined;
  json: boolean;
}

function parsePort(value: string | undefined, name: string): number {
  if (value === undefined || value === '') return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name}: "${value}" is not a port number`);
  return n;
}

export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  const flags = new Map<string, string>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--json') {
      json = true;
      continue;
    }
    if (arg === '--help' || arg === '-h') {
      throw new Error(
        'usage: emulators [--host H] [--scalekit-port N] [--anthropic-port N] [--idp-port N] [--idp-client-id ID] [--anthropic-key KEY] [--json]',
      );
    }
    const eq = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (eq) {
      flags.set(eq[1] ?? '', eq[2] ?? '');
    } else if (arg.startsWith('--')) {
      const value = argv[i + 1];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      flags.set(arg.slice(2), value);
      i++;
    } else {
      throw new Error(`unexpected argument "${arg}"`);
    }
  }
  const known = new Set(['host', 'scalekit-port', 'anthropic-port', 'idp-port', 'idp-client-id', 'anthropic-key']);
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown flag --${k}`);
  const key = flags.get('anthropic-key') ?? env.EMU_ANTHROPIC_KEY;
  return {
    host: flags.get('host') ?? env.EMU_HOST ?? '127.0.0.1',
    scalekitPort: parsePort(flags.get('scalekit-port') ?? env.EMU_SCALEKIT_PORT, '--scalekit-port'),
    anthropicPort: parsePort(flags.get('anthropic-port') ?? env.EMU_ANTHROPIC_PORT, '--anthropic-port'),
    idpPort: parsePort(flags.get('idp-port') ?? env.EMU_IDP_PORT, '--idp-port'),
    idpClientId: flags.get('idp-client-id') ?? env.EMU_IDP_CLIENT_ID,
    anthropicKeys: key ? [key] : undefined,
    json,
  };
}

async function main(): Promise<void> {
  const o = parseCliArgs(process.argv.slice(2));
  const closers: Array<() => Promise<void>> = [];
  let shuttingDown = false;
  const shutdown = async (code: number): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    await Promise.allSettled(closers.reverse().map((c) => c()));
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    const scalekit = await startScalekitEmulator({ port: o.scalekitPort, host: o.host });
    closers.push(() => scalekit.close());
    const anthropic = await startAnthropicEmulator({
      port: o.anthropicPort,
      host: o.host,
      fallback: new ScriptedModel(),
      ...(o.anthropicKeys ? { apiKeys: o.anthropicKeys } : {}),
    });
    closers.push(() => anthropic.close());
    const idp = await startIdpEmulator({ port: o.idpPort, host: o.host, ...(o.idpClientId ? { clientId: o.idpClientId } : {}) });
    closers.push(() => idp.close());

    const anthropicKey = o.anthropicKeys?.[0] ?? '(any non-empty key)';
    if (o.json) {
      process.stdout.write(
        JSON.stringify({
          scalekit: { url: scalekit.url, clientId: scalekit.clientId, clientSecret: scalekit.clientSecret },
          anthropic: { url: anthropic.url, apiKey: o.anthropicKeys?.[0] ?? null },
          idp: { issuer: idp.issuer, clientId: idp.clientId, users: idp.users.map((u) => u.sub) },
        }) + '\n',
      );
    } else {
      process.stdout.write(
        [
          `scalekit   ${scalekit.url}  client_id=${scalekit.clientId} client_secret=${scalekit.clientSecret}`,
          `anthropic  ${anthropic.url}  api_key=${anthropicKey} model=ScriptedModel`,
          `idp        ${idp.issuer}  client_id=${idp.clientId} users=${idp.users.map((u) => u.sub).join(',')}`,
          'Press Ctrl+C to stop.',
        ].join('\n') + '\n',
      );
    }
  } catch (err) {
    process.stderr.write(`emulators: ${(err as Error)?.stack ?? String(err)}\n`);
    await shutdown(1);
  }
}

if (require.main === module) {
  void main();
}
