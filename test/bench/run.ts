import { benchToolContext, printToolContext } from './tool-context';
import { benchWebviewRender, printWebviewRender } from './webview-render';
import { benchActivation, printActivation } from './activation';
import { benchGatewayOverhead, printGatewayOverhead } from './gateway';

// `npm run bench`: prints figures. A benchmark, not a test: nothing here passes or fails.

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const want = (name: string) => only.length === 0 || only.includes(name);
  if (want('tools')) printToolContext(await benchToolContext());
  if (want('webview')) {
    console.log('\n== Webview render cost (100 KB answer in ~2,000 chunks) ==');
    printWebviewRender(await benchWebviewRender());
  }
  if (want('activation')) printActivation(await benchActivation());
  if (want('gateway')) printGatewayOverhead(await benchGatewayOverhead());
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
