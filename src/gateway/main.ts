import { configFromEnv } from './config';
import { startGateway } from './server';

// `node dist/gateway.js` / `npx onbehalf-gateway`: configuration from the environment
// (docs/team-mode.md), then serve until SIGTERM or SIGINT, finishing requests in flight.

async function main(): Promise<void> {
  let config;
  try {
    config = configFromEnv();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
  const gateway = await startGateway(config);
  console.error(`OnBehalf gateway ${config.instance} listening on ${gateway.url} (${gateway.database.kind})`);
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    console.error(`OnBehalf gateway: ${signal}, finishing requests in flight`);
    const force = setTimeout(() => process.exit(1), 25_000);
    force.unref();
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(`OnBehalf gateway failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
