import { benchToolContext, printToolContext, printToolContextTurns } from './tool-context';
import { benchWebviewRender, printWebviewRender } from './webview-render';
import { benchActivation, printActivation } from './activation';
import { benchHostOverhead, printHostOverhead } from './host-overhead';
import { benchGatewayOverhead, printGatewayOverhead } from './gateway';

// `npm run bench`: prints figures. A benchmark, not a test: nothing here passes or fails.

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const want = (name: string) => only.length === 0 || only.includes(name);
  if (want('tools')) {
    const figures = await benchToolContext();
    if (only.includes('--turns')) printToolContextTurns(figures);
    printToolContext(figures);
  }
  if (want('webview')) {
    console.log('\n== Webview streaming render per block shape (table, tight list, code fence, mixed; 25-200 KB) ==');
    printWebviewRender(await benchWebviewRender());
  }
  if (want('activation')) printActivation(await benchActivation());
  if (want('overhead')) printHostOverhead(await benchHostOverhead());
  if (want('gateway')) printGatewayOverhead(await benchGatewayOverhead());
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
