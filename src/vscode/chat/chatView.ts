import * as vscode from 'vscode';
import type { Logger } from '../../core/logger';
import { WebviewLoadWatchdog } from '../../core/webviewLoadWatchdog';
import { WebviewOutbox } from '../../core/webviewOutbox';
import { chatWebviewHtml } from '../../core/webviewHtml';
import type { HostMessage } from '../../shared/protocol';
import type { ChatController } from './chatController';
import { isSandboxModel } from './chatState';
import { viewCommands } from '../constants';
import { DisposableOwner } from '../lifecycle';
import { settings } from '../settings';

// Hosts the chat WebviewView. Scripts only from the built bundle, a fresh nonce per
// render, and local resources limited to dist/ and media/.
//
// A page that never says `ready` is recovered by hiding and showing the view, which makes
// VS Code build a new frame. Rendering again into the same frame does not help: the frame
// itself stalls. Seen in VS Code for the Web, where two webviews starting together race
// for one service worker and the loser waits forever.

const LOAD_TIMEOUT_MS = 8_000;
const LOAD_RECOVERIES = 2;

/** What tests observe of the chat view, and the one thing they change: a render that never loads. */
export interface ChatViewObserver {
  rendered?(html: string): void;
  posted?(message: HostMessage): void;
  pageReady?(): void;
  /** True: this render loads a script that does not exist, so the page never says `ready` (a stalled frame). */
  stallRender?(): boolean;
}

export class ChatViewProvider extends DisposableOwner implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private render: (() => void) | undefined;
  /** Kept across views: a view rebuilt by the recovery must not restart its budget. */
  private readonly watchdog: WebviewLoadWatchdog;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: ChatController,
    private readonly log: Logger,
    private readonly showLog: () => void,
    /** Given by the composition root in Test mode only (see testApi.ts). */
    private readonly observer: ChatViewObserver = {},
  ) {
    super();
    this.watchdog = new WebviewLoadWatchdog({
      timeoutMs: LOAD_TIMEOUT_MS,
      maxRetries: LOAD_RECOVERIES,
      recover: (attempt) => void this.recover(attempt),
      giveUp: () => void this.reportLoadFailure(),
    });
    this.register({ dispose: () => this.watchdog.dispose() });
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [dist, media] };
    const render = () => {
      const stall = this.observer.stallRender?.() === true;
      const html = chatWebviewHtml({
        cspSource: view.webview.cspSource,
        scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview', stall ? 'never-loads.js' : 'chat.js')).toString(),
        styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.css')).toString(),
        codiconsUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'codicons', 'codicon.css')).toString(),
        sandboxModel: isSandboxModel(settings.model()),
      });
      this.observer.rendered?.(html);
      view.webview.html = html;
    };
    this.render = render;
    render();
    this.watchdog.rendered();
    // A hidden view drops messages; state is re-sent when it becomes visible.
    const outbox = new WebviewOutbox<HostMessage>((message) => void view.webview.postMessage(message));
    const port = {
      post: (message: HostMessage) => {
        this.observer.posted?.(message);
        outbox.post(message);
      },
      pageReady: () => {
        this.observer.pageReady?.();
        this.watchdog.ready();
      },
    };
    this.controller.attachView(port);
    const subscriptions = [
      view.webview.onDidReceiveMessage((raw: unknown) => void this.controller.handleMessage(raw)),
      view.onDidChangeVisibility(() => {
        // Without retained context a view shown again reloads its page, which says `ready` again.
        if (view.visible) {
          this.watchdog.rendered();
          this.controller.postState();
        } else {
          this.watchdog.pause();
        }
      }),
    ];
    view.onDidDispose(() => {
      outbox.close();
      for (const subscription of subscriptions) subscription.dispose();
      if (this.view === view) {
        this.watchdog.pause();
        this.view = undefined;
        this.render = undefined;
        this.controller.attachView(undefined);
      }
    });
  }

  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(viewCommands.focusChat);
  }

  private async recover(attempt: number): Promise<void> {
    this.log.warn(
      `The chat did not load within ${LOAD_TIMEOUT_MS / 1000} s; hiding and showing the view so VS Code builds a new frame (${attempt} of ${LOAD_RECOVERIES}).`,
    );
    try {
      // Hides the view inside its container and shows it again, wherever the user moved it.
      await vscode.commands.executeCommand(viewCommands.toggleChatVisibility);
      await vscode.commands.executeCommand(viewCommands.toggleChatVisibility);
      await this.reveal();
    } catch (error) {
      // Not possible when the chat is the only view left in its container: render again instead.
      this.log.warn(`Could not hide and show the chat view (${error instanceof Error ? error.message : String(error)}); rendering it again.`);
      this.render?.();
    }
  }

  private async reportLoadFailure(): Promise<void> {
    this.log.error('The chat did not load, even in a new frame.');
    const reload = 'Reload Window';
    const showLog = 'Show Log';
    const choice = await vscode.window.showErrorMessage('The OnBehalf chat did not load. Reloading the window usually brings it back.', reload, showLog);
    if (choice === reload) await vscode.commands.executeCommand('workbench.action.reloadWindow');
    if (choice === showLog) this.showLog();
  }
}
