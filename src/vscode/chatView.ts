import * as vscode from 'vscode';
import { chatWebviewHtml } from '../core/webviewHtml';
import type { HostMessage } from '../shared/protocol';
import { isSandboxModel, type ChatController } from './chatController';
import { DisposableOwner } from './lifecycle';
import { settings } from './settings';

// Hosts the chat WebviewView. Scripts only from the built bundle, a fresh nonce per
// render, and local resources limited to dist/ and media/.

export class ChatViewProvider extends DisposableOwner implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  /** Every HTML document this provider rendered, for the CSP and leak suites in Test mode. */
  readonly renderedHtml: string[] = [];
  /** Every message posted to the webview, for the leak suite in Test mode. */
  readonly postedMessages: HostMessage[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: ChatController,
    private readonly recordTraffic: boolean,
  ) {
    super();
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [dist, media] };
    const html = chatWebviewHtml({
      cspSource: view.webview.cspSource,
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview', 'chat.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.css')).toString(),
      codiconsUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'codicons', 'codicon.css')).toString(),
      sandboxModel: isSandboxModel(settings.model()),
    });
    if (this.recordTraffic) this.renderedHtml.push(html);
    view.webview.html = html;
    const port = {
      post: (message: HostMessage) => {
        if (this.recordTraffic) this.postedMessages.push(message);
        // A hidden view drops messages; state is re-sent when it becomes visible.
        void view.webview.postMessage(message);
      },
    };
    this.controller.attachView(port);
    const subscriptions = [
      view.webview.onDidReceiveMessage((raw: unknown) => void this.controller.handleMessage(raw)),
      view.onDidChangeVisibility(() => {
        if (view.visible) this.controller.postState();
      }),
    ];
    view.onDidDispose(() => {
      subscriptions.forEach((s) => s.dispose());
      if (this.view === view) {
        this.view = undefined;
        this.controller.attachView(undefined);
      }
    });
  }

  async reveal(): Promise<void> {
    await vscode.commands.executeCommand('onbehalf.chat.focus');
  }
}
