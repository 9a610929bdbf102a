// Entry point of the chat webview bundle (dist/webview/chat.js).
import { ChatApp } from './app';
import { createHostBridge } from './vscode';

function boot(): void {
  const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
  const bridge = createHostBridge();
  const app = new ChatApp(root, bridge);
  app.start();
  document.body.dataset['onbehalf'] = 'loaded';
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot, { once: true });
else boot();
