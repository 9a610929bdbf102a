// Entry point of the chat webview bundle (dist/webview/chat.js).
import { ChatApp } from './app';
import { rememberBundleScript } from './chartLoader';
import { createHostBridge } from './vscode';

// Only while this script runs does document.currentScript name it: the chart bundle is loaded
// from beside it, with its nonce.
rememberBundleScript(document.currentScript);

const bridge = createHostBridge();

// Report what the page's CSP blocks, so a violation is visible in the host's log rather than
// only in the webview's developer tools. Registered before the rest of the page is parsed.
let violationsReported = 0;
document.addEventListener('securitypolicyviolation', (event) => {
  if (++violationsReported > 50) return;
  bridge.post({ type: 'cspViolation', directive: event.effectiveDirective.slice(0, 100), blocked: event.blockedURI.slice(0, 300) });
});

function boot(): void {
  const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
  const app = new ChatApp(root, bridge);
  app.start();
  document.body.dataset['onbehalf'] = 'loaded';
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot, { once: true });
else boot();
