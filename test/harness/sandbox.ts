// npm start: the sandbox. The three emulators with seeded demo data, and code-server
// (VS Code 1.100.3) with this repository loaded as a development extension and configured
// against them. Prints one URL and what to do, then runs until Ctrl-C.
//
//   npm start [-- --port N] [-- --team]
//
// With --team, an OnBehalf gateway (src/gateway, PGlite in memory) runs here too and holds
// the Scalekit secret; the extension is configured for it (onbehalf.gateway.url) and asks
// only for the Anthropic key, so a newcomer can try team mode as Ada and Grace.
//
// With ANTHROPIC_API_KEY set, the agent is real Claude (default base URL and model) and
// the person pastes their key; the tools stay emulated. Without it, the Anthropic
// emulator answers with the sandbox model. The key itself is never read from the
// environment into anything: it goes only into SecretStorage, through the input box.
import { ensureCodeServer, VSCODE_VERSION } from './code-server';
import { HOST, startSandboxWorld, type SandboxWorld } from './sandbox-world';

interface Args {
  port: number;
  team: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let port = 0;
  let team = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const inline = /^--port=(.*)$/.exec(arg);
    if (arg === '--port' || inline) {
      const value = inline ? inline[1] : argv[++i];
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--port needs a port number, got "${value ?? ''}"`);
      port = n;
    } else if (arg === '--team') {
      team = true;
    } else if (arg === '--help' || arg === '-h') {
      console.log(
        'usage: npm start [-- --port N] [-- --team]\n  Starts the emulators and code-server with OnBehalf on http://127.0.0.1:<N>.\n  --team: also an OnBehalf gateway that holds the Scalekit secret; the extension goes through it.',
      );
      process.exit(0);
    } else {
      throw new Error(`unknown argument "${arg}" (usage: npm start [-- --port N] [-- --team])`);
    }
  }
  return { port, team };
}

const rule = '─'.repeat(76);

/** The title, the URL to open and the sign-in step, the same in both modes. */
function bannerOpening(world: SandboxWorld, title: string[], afterLogin: string): string[] {
  return [
    rule,
    ...title,
    '',
    'Open this URL in a browser on this machine:',
    '',
    `  ${world.workbenchUrl}`,
    '',
    'What to do:',
    '  1. Click the OnBehalf icon in the activity bar, then "Sign In". VS Code asks "Do you want',
    '     code-server to open the external website?": click Open. On the login page in the new',
    `     tab, choose Ada Lovelace or Grace Hopper.${afterLogin}`,
  ];
}

/** The IdP, the log file and how to stop, the same in both modes. */
function bannerClosing(world: SandboxWorld): string[] {
  return [
    `  IdP        ${world.idp.issuer}  (client id ${world.idp.clientId}; users ${world.idp.users.map((u) => u.sub).join(', ')})`,
    `  code-server log: ${world.server.logFile}`,
    '',
    'Press Ctrl+C to stop everything.',
    rule,
  ];
}

function teamBanner(world: SandboxWorld): string {
  return [
    ...bannerOpening(
      world,
      [
        `OnBehalf sandbox, TEAM MODE: VS Code ${VSCODE_VERSION} (code-server) with the extension from this repository,`,
        'going through an OnBehalf gateway that holds the Scalekit secret (this window never gets it).',
      ],
      ' The Connections view names the gateway.',
    ),
    '  2. The status bar then says "OnBehalf (team): Set keys". Click it and paste the Anthropic key:',
    world.realClaude
      ? '       Anthropic API key:       your own key (ANTHROPIC_API_KEY is set in this shell: real Claude)'
      : `       Anthropic API key:       ${world.demoKeys.anthropicApiKey ?? ''}  (a demo value for the local emulator)`,
    '     No Scalekit secret: the gateway has it ("Set Scalekit Client Secret" refuses in team mode).',
    '  3. Connect PostHog and Asana from the Connections view (Open, then Allow on the consent page).',
    '     The gateway issues the link and verifies the callback as the person its token names.',
    '  4. Ask in the chat, e.g. "Create an Asana task called Write launch notes": the organisation',
    '     policy marks that tool "ask", so it asks every time and never offers "Always allow".',
    '     "OnBehalf: Show Audit Log" shows your own rows from the gateway. Sign out and in as the',
    '     other person to see that nothing of the first one shows.',
    '',
    `OnBehalf gateway  ${world.gateway?.url ?? ''}  (PGlite in memory; GET /healthz, /v1/info)`,
    `  Scalekit   ${world.scalekit.url}  (behind the gateway; PostHog + Asana demo data)`,
    world.realClaude ? `  Anthropic  ${world.anthropic.url}  (not used: real Claude)` : `  Anthropic  ${world.anthropic.url}  (sandbox model)`,
    ...bannerClosing(world),
  ].join('\n');
}

function banner(world: SandboxWorld): string {
  if (world.gateway) return teamBanner(world);
  const keys = world.realClaude
    ? [
        `       Scalekit client secret:  ${world.demoKeys.scalekitClientSecret}`,
        '       Anthropic API key:       your own key (ANTHROPIC_API_KEY is set in this shell, so the',
        '                                agent is real Claude; only PostHog and Asana are emulated)',
        '     The Scalekit secret is a demo value: it only works against the local emulator.',
      ]
    : [
        `       Scalekit client secret:  ${world.demoKeys.scalekitClientSecret}`,
        `       Anthropic API key:       ${world.demoKeys.anthropicApiKey ?? ''}`,
        '     Both are demo values: they only work against the local emulators started here.',
      ];
  return [
    ...bannerOpening(world, [`OnBehalf sandbox: VS Code ${VSCODE_VERSION} (code-server) with the extension from this repository.`], ''),
    '  2. The status bar then says "OnBehalf: Set keys". Click it and paste, one per input box',
    '     (or F1 → "OnBehalf: Set Scalekit Client Secret" / "OnBehalf: Set Anthropic API Key"):',
    ...keys,
    '  3. Connect PostHog and Asana: hover each in the Connections view and click its plug',
    '     (Connect), then Open, then Allow on the consent page.',
    '  4. Ask in the chat, e.g. "How many signups did we have each day last week?" or',
    '     "Create an Asana task called Write launch notes" (Approve it in the chat).',
    ...(world.realClaude ? [] : ['     Replies come from the local sandbox model, a scripted stand-in for Claude.']),
    '',
    'Emulators (127.1 and [::ffff:127.0.0.1] are 127.0.0.1, spelled so code-server opens them as they are):',
    '  (so the "open the external website?" dialogs show hosts like http://127.1:… or',
    "  http://[::ffff:7f00:1]:…, the URL parser's form of [::ffff:127.0.0.1]: both are this machine)",
    `  Scalekit   ${world.scalekit.url}  (client id ${world.scalekit.clientId}; PostHog + Asana demo data)`,
    world.realClaude
      ? `  Anthropic  ${world.anthropic.url}  (not used: the agent talks to real Claude)`
      : `  Anthropic  ${world.anthropic.url}  (sandbox model)`,
    ...bannerClosing(world),
  ].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const realClaude = (process.env['ANTHROPIC_API_KEY'] ?? '').trim() !== '';

  // code-server.ts stops its process groups and exits 130 on a signal; the sandbox
  // instead closes code-server and the emulators in order and exits 0.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);
  let world: SandboxWorld | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      console.error(`[sandbox] ${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    console.log(`\n[sandbox] ${signal}: stopping code-server and the emulators…`);
    void (world?.close() ?? Promise.resolve()).then(
      () => {
        console.log('[sandbox] stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`[sandbox] stopping failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));

  await ensureCodeServer();
  console.log(`[sandbox] starting the emulators${args.team ? ', the OnBehalf gateway' : ''} and code-server on ${HOST}${args.port ? `:${args.port}` : ''}…`);
  world = await startSandboxWorld({ label: 'sandbox', port: args.port, realClaude, team: args.team });
  if (stopping) return; // a signal arrived while starting; stop() closes it.
  console.log(banner(world));
}

main().catch((error: unknown) => {
  console.error(`[sandbox] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
