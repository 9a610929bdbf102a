// Plain HTML for the hosted consent flow. No external resources, so a real browser (or a
// plain fetch) can drive it; the only script is the final page's window.close(), allowed by
// its nonce.
import { randomBytes } from 'node:crypto';
import { CONNECTOR_TITLES } from '../data/catalog';
import type { ConnectorKey } from '../data/tool-context';
import type { AuthRequest } from './accounts';

const SCOPES: Record<ConnectorKey, string[]> = {
  posthogmcp: ['Read your projects, insights, dashboards and persons', 'Run queries', 'Create and change feature flags, insights and dashboards'],
  asana: ['Read your workspaces, projects and tasks', 'Create, change and delete tasks and comments'],
  asanamcp: ['Read your workspaces, projects and tasks', 'Create, change and delete tasks and comments'],
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function page(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; color: #1f2328; }
.card { border: 1px solid #d0d7de; border-radius: 8px; padding: 1.5rem; }
button { font-size: 1rem; padding: .5rem 1.25rem; margin-right: .5rem; border-radius: 6px; border: 1px solid #d0d7de; cursor: pointer; }
#allow { background: #1f883d; color: white; border-color: #1f883d; }
.muted { color: #656d76; font-size: .9rem; }
</style>
</head>
<body>
<main class="card">
${body}
</main>
${script}</body>
</html>
`;
}

export function consentPage(request: AuthRequest): string {
  const product = CONNECTOR_TITLES[request.connector];
  const scopes = SCOPES[request.connector].map((s) => `<li>${escapeHtml(s)}</li>`).join('\n');
  return page(
    `Connect ${product}`,
    `<h1>Connect ${escapeHtml(product)}</h1>
<p>OnBehalf wants to act in ${escapeHtml(product)} as you.</p>
<p>Connecting for <strong id="identifier">${escapeHtml(request.identifier)}</strong>
(connection <code id="connection">${escapeHtml(request.connectionName)}</code>).</p>
<p>It will be able to:</p>
<ul>
${scopes}
</ul>
<form method="post" action="/connect/${encodeURIComponent(request.id)}">
<button id="allow" type="submit" name="decision" value="allow">Allow</button>
<button id="deny" type="submit" name="decision" value="deny">Deny</button>
</form>
<p class="muted">Scalekit emulator &middot; request ${escapeHtml(request.id)}</p>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p id="message">${escapeHtml(message)}</p>`);
}

/**
 * The last page of a flow ("Connected", "Access denied"). It closes its own tab where the
 * browser allows it (a tab a script opened, as VS Code's "open external website" does) and
 * otherwise says the tab can be closed. `csp` goes in the Content-Security-Policy header: the
 * one inline script runs by its nonce, nothing else may.
 */
export function finalPage(title: string, message: string): { html: string; csp: string } {
  const nonce = randomBytes(16).toString('base64');
  const body = `<h1>${escapeHtml(title)}</h1>
<p id="message">${escapeHtml(message)}</p>
<p class="muted" id="closing">Back to VS Code: this tab closes itself. If your browser keeps it open, close it.</p>`;
  const script = `<script nonce="${nonce}">setTimeout(function () { window.close(); }, 1500);</script>\n`;
  return {
    html: page(title, body, script),
    csp: `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'`,
  };
}
