// npm start: code-server with this repository loaded as a development extension, for
// a person to use in a browser. Prints the URL and runs until Ctrl-C.
import { workbenchUrl } from './browser';
import { launchCodeServer, makeWorkspace, REPO_ROOT } from './code-server';

async function main(): Promise<void> {
  const workspace = process.argv[2] ?? makeWorkspace();
  const server = await launchCodeServer({ workspace, label: 'sandbox' });
  const url = workbenchUrl(server.url, workspace, [['extensionDevelopmentPath', server.remoteUri(REPO_ROOT)]]);
  console.log(`sandbox: VS Code 1.100.3 with OnBehalf from ${REPO_ROOT}`);
  console.log(`sandbox: open ${url}`);
  console.log(`sandbox: server log ${server.logFile}; Ctrl-C stops it`);
  await new Promise<never>(() => undefined);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
