import * as vscode from 'vscode';

// Composition root: builds services, registers them for disposal, nothing else.
export function activate(context: vscode.ExtensionContext): { ready: true } {
  const log = vscode.window.createOutputChannel('OnBehalf', { log: true });
  context.subscriptions.push(log);
  const ids = [
    'onbehalf.signIn', 'onbehalf.signOut', 'onbehalf.setAnthropicKey', 'onbehalf.setScalekitSecret',
    'onbehalf.clearSecrets', 'onbehalf.connect', 'onbehalf.reauthorize', 'onbehalf.disconnect',
    'onbehalf.refresh', 'onbehalf.getStarted',
  ];
  for (const id of ids) context.subscriptions.push(vscode.commands.registerCommand(id, () => log.info(`${id} not built yet`)));
  context.subscriptions.push(vscode.commands.registerCommand('onbehalf.showLog', () => log.show()));
  context.subscriptions.push(vscode.window.registerTreeDataProvider('onbehalf.connections', { getChildren: () => [], getTreeItem: (e: vscode.TreeItem) => e }));
  context.subscriptions.push(vscode.window.registerWebviewViewProvider('onbehalf.chat', { resolveWebviewView(view) { view.webview.html = '<p>Chat</p>'; } }));
  return { ready: true };
}

export function deactivate(): void {}
