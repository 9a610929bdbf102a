// A page that loads the real webview bundle the way VS Code does: same CSP (sent as a
// header and as a meta tag), a fresh nonce per load, codicons + chat.css as linked
// styles, and `acquireVsCodeApi` defined by a separate nonce'd script that records
// posted messages in `window.__posted` and keeps `setState` in sessionStorage (so a
// reload behaves like the view being hidden and shown again).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

export type Theme = 'dark' | 'light' | 'hc';

export const ROOT = join(__dirname, '..', '..', '..');

export interface FixtureOptions {
  cspSource: string;
  nonce: string;
  theme: Theme;
  sandboxModel?: boolean;
}

export function cspFor(cspSource: string, nonce: string): string {
  return `default-src 'none'; img-src ${cspSource} data:; style-src ${cspSource}; ` + `font-src ${cspSource}; script-src 'nonce-${nonce}';`;
}

/** The page the host generates, plus the test shim and a theme stylesheet. */
export function chatHtmlForTests(o: FixtureOptions): string {
  const bodyClass = o.theme === 'dark' ? 'vscode-dark' : o.theme === 'light' ? 'vscode-light' : 'vscode-high-contrast';
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${cspFor(o.cspSource, o.nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${o.cspSource}/test/theme-${o.theme}.css" rel="stylesheet">
<link href="${o.cspSource}/dist/codicons/codicon.css" rel="stylesheet"><link href="${o.cspSource}/media/chat.css" rel="stylesheet">
</head><body class="${bodyClass}" data-vscode-theme-kind="${bodyClass}"><div id="app" data-sandbox-model="${o.sandboxModel ? 'true' : 'false'}"></div>
<script nonce="${o.nonce}" src="${o.cspSource}/test/vscode-shim.js"></script>
<script nonce="${o.nonce}" src="${o.cspSource}/dist/webview/chat.js"></script></body></html>`;
}

const shim = `(() => {
  const key = 'onbehalf.vscodeState';
  window.__posted = [];
  window.__cspViolations = [];
  window.__acquired = 0;
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
  });
  window.acquireVsCodeApi = () => {
    window.__acquired += 1;
    if (window.__acquired > 1) throw new Error('An instance of the VS Code API has already been acquired');
    return Object.freeze({
      postMessage: (m) => { window.__posted.push(JSON.parse(JSON.stringify(m))); },
      getState: () => { const raw = sessionStorage.getItem(key); return raw ? JSON.parse(raw) : undefined; },
      setState: (s) => { sessionStorage.setItem(key, JSON.stringify(s)); return s; },
    });
  };
})();
`;

// A subset of the variables VS Code injects (Dark Modern / Light Modern / High Contrast).
const themeVars: Record<Theme, Record<string, string>> = {
  dark: {
    foreground: '#cccccc',
    descriptionForeground: '#9d9d9d',
    errorForeground: '#f85149',
    focusBorder: '#0078d4',
    'sideBar-background': '#181818',
    'editor-background': '#1f1f1f',
    'editor-foreground': '#cccccc',
    'editorWidget-background': '#202020',
    'editorWidget-border': '#313131',
    'widget-border': '#313131',
    'widget-shadow': 'rgba(0,0,0,0.36)',
    'panel-border': '#2b2b2b',
    'sideBarSectionHeader-border': '#2b2b2b',
    'input-background': '#313131',
    'input-foreground': '#cccccc',
    'input-border': '#3c3c3c',
    'input-placeholderForeground': '#989898',
    'dropdown-background': '#313131',
    'dropdown-foreground': '#cccccc',
    'dropdown-border': '#3c3c3c',
    'button-background': '#0078d4',
    'button-foreground': '#ffffff',
    'button-hoverBackground': '#026ec1',
    'button-border': 'rgba(255,255,255,0.07)',
    'button-secondaryBackground': '#313131',
    'button-secondaryForeground': '#cccccc',
    'button-secondaryHoverBackground': '#3c3c3c',
    'badge-background': '#616161',
    'badge-foreground': '#f8f8f8',
    'textLink-foreground': '#4daafc',
    'textLink-activeForeground': '#4daafc',
    'textPreformat-foreground': '#d0d0d0',
    'textPreformat-background': '#3c3c3c',
    'textCodeBlock-background': '#2b2b2b',
    'textBlockQuote-border': '#616161',
    'textBlockQuote-background': '#2b2b2b',
    'toolbar-hoverBackground': 'rgba(90,93,94,0.31)',
    'icon-foreground': '#cccccc',
    'list-hoverBackground': '#2a2d2e',
    'inputValidation-errorBackground': '#5a1d1d',
    'inputValidation-errorBorder': '#be1100',
    'inputValidation-infoBackground': '#063b49',
    'inputValidation-infoBorder': '#007acc',
    'inputValidation-warningBackground': '#352a05',
    'inputValidation-warningBorder': '#b89500',
    'statusBarItem-errorBackground': '#c72e0f',
    'statusBarItem-errorForeground': '#ffffff',
    'editorWarning-foreground': '#cca700',
    'notificationsWarningIcon-foreground': '#cca700',
    'notificationsInfoIcon-foreground': '#3794ff',
    'testing-iconPassed': '#73c991',
    'progressBar-background': '#0078d4',
    'editorCursor-foreground': '#aeafad',
    'charts-foreground': '#cccccc',
    'charts-lines': 'rgba(204,204,204,0.5)',
    'charts-blue': '#3794ff',
    'charts-orange': '#d18616',
    'charts-green': '#89d185',
    'charts-purple': '#b180d7',
    'charts-red': '#f14c4c',
    'charts-yellow': '#cca700',
    'scrollbarSlider-background': 'rgba(121,121,121,0.4)',
    'scrollbarSlider-hoverBackground': 'rgba(100,100,100,0.7)',
    'scrollbarSlider-activeBackground': 'rgba(191,191,191,0.4)',
    'keybindingTable-headerBackground': 'rgba(204,204,204,0.04)',
  },
  light: {
    foreground: '#3b3b3b',
    descriptionForeground: '#717171',
    errorForeground: '#f85149',
    focusBorder: '#005fb8',
    'sideBar-background': '#f8f8f8',
    'editor-background': '#ffffff',
    'editor-foreground': '#3b3b3b',
    'editorWidget-background': '#ffffff',
    'editorWidget-border': '#e5e5e5',
    'widget-border': '#e5e5e5',
    'widget-shadow': 'rgba(0,0,0,0.16)',
    'panel-border': '#e5e5e5',
    'sideBarSectionHeader-border': '#e5e5e5',
    'input-background': '#ffffff',
    'input-foreground': '#3b3b3b',
    'input-border': '#cecece',
    'input-placeholderForeground': '#767676',
    'dropdown-background': '#ffffff',
    'dropdown-foreground': '#3b3b3b',
    'dropdown-border': '#cecece',
    'button-background': '#005fb8',
    'button-foreground': '#ffffff',
    'button-hoverBackground': '#0258a8',
    'button-border': 'rgba(0,0,0,0.1)',
    'button-secondaryBackground': '#e5e5e5',
    'button-secondaryForeground': '#3b3b3b',
    'button-secondaryHoverBackground': '#cccccc',
    'badge-background': '#cccccc',
    'badge-foreground': '#3b3b3b',
    'textLink-foreground': '#005fb8',
    'textLink-activeForeground': '#005fb8',
    'textPreformat-foreground': '#3b3b3b',
    'textPreformat-background': 'rgba(0,0,0,0.08)',
    'textCodeBlock-background': '#f3f3f3',
    'textBlockQuote-border': '#e5e5e5',
    'textBlockQuote-background': '#f8f8f8',
    'toolbar-hoverBackground': 'rgba(184,184,184,0.31)',
    'icon-foreground': '#3b3b3b',
    'list-hoverBackground': '#f2f2f2',
    'inputValidation-errorBackground': '#f2dede',
    'inputValidation-errorBorder': '#be1100',
    'inputValidation-infoBackground': '#d6ecf2',
    'inputValidation-infoBorder': '#007acc',
    'inputValidation-warningBackground': '#f6f5d2',
    'inputValidation-warningBorder': '#b89500',
    'statusBarItem-errorBackground': '#c72e0f',
    'statusBarItem-errorForeground': '#ffffff',
    'editorWarning-foreground': '#bf8803',
    'notificationsWarningIcon-foreground': '#bf8803',
    'notificationsInfoIcon-foreground': '#1a85ff',
    'testing-iconPassed': '#388a34',
    'progressBar-background': '#005fb8',
    'editorCursor-foreground': '#000000',
    'charts-foreground': '#616161',
    'charts-lines': 'rgba(97,97,97,0.5)',
    'charts-blue': '#1a85ff',
    'charts-orange': '#d18616',
    'charts-green': '#388a34',
    'charts-purple': '#652d90',
    'charts-red': '#e51400',
    'charts-yellow': '#bf8803',
    'scrollbarSlider-background': 'rgba(100,100,100,0.4)',
    'scrollbarSlider-hoverBackground': 'rgba(100,100,100,0.7)',
    'scrollbarSlider-activeBackground': 'rgba(0,0,0,0.6)',
    'keybindingTable-headerBackground': 'rgba(59,59,59,0.04)',
  },
  hc: {
    foreground: '#ffffff',
    descriptionForeground: 'rgba(255,255,255,0.7)',
    errorForeground: '#f48771',
    focusBorder: '#f38518',
    contrastBorder: '#6fc3df',
    contrastActiveBorder: '#f38518',
    'sideBar-background': '#000000',
    'editor-background': '#000000',
    'editor-foreground': '#ffffff',
    'editorWidget-background': '#0c141f',
    'editorWidget-border': '#6fc3df',
    'widget-border': '#6fc3df',
    'input-background': '#000000',
    'input-foreground': '#ffffff',
    'input-border': '#6fc3df',
    'input-placeholderForeground': 'rgba(255,255,255,0.7)',
    'dropdown-background': '#000000',
    'dropdown-foreground': '#ffffff',
    'dropdown-border': '#6fc3df',
    'button-background': '#000000',
    'button-foreground': '#ffffff',
    'button-border': '#6fc3df',
    'button-secondaryBackground': '#000000',
    'button-secondaryForeground': '#ffffff',
    'badge-background': '#000000',
    'badge-foreground': '#ffffff',
    'textLink-foreground': '#21a6ff',
    'textLink-activeForeground': '#21a6ff',
    'textPreformat-foreground': '#ffd700',
    'textCodeBlock-background': '#000000',
    'textBlockQuote-border': '#ffffff',
    'icon-foreground': '#ffffff',
    'inputValidation-errorBackground': '#000000',
    'inputValidation-errorBorder': '#f48771',
    'inputValidation-infoBackground': '#000000',
    'inputValidation-infoBorder': '#6fc3df',
    'charts-blue': '#3794ff',
    'charts-orange': '#d18616',
    'charts-green': '#89d185',
    'charts-red': '#f14c4c',
    'charts-yellow': '#cca700',
    'charts-purple': '#b180d7',
  },
};

function themeCss(theme: Theme): string {
  const vars = Object.entries(themeVars[theme])
    .map(([k, v]) => `  --vscode-${k}: ${v};`)
    .join('\n');
  return (
    `html {\n${vars}\n  --vscode-font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Ubuntu", "Droid Sans", sans-serif;\n` +
    `  --vscode-font-size: 13px;\n  --vscode-font-weight: normal;\n  --vscode-editor-font-family: "Droid Sans Mono", "monospace", monospace;\n` +
    `  --vscode-editor-font-size: 12px;\n}\nbody { background: var(--vscode-sideBar-background); }\n`
  );
}

const types: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

export interface FixtureServer {
  readonly origin: string;
  /** URL of a fresh chat page (new nonce each load). */
  pageUrl(theme?: Theme, opts?: { sandboxModel?: boolean }): string;
  close(): Promise<void>;
}

export async function startFixtureServer(): Promise<FixtureServer> {
  let origin = '';
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname;
      try {
        if (path === '/chat.html') {
          const theme = (url.searchParams.get('theme') ?? 'dark') as Theme;
          const nonce = randomBytes(16).toString('base64');
          const body = chatHtmlForTests({
            cspSource: origin,
            nonce,
            theme: themeVars[theme] ? theme : 'dark',
            sandboxModel: url.searchParams.get('sandbox') === '1',
          });
          res.writeHead(200, { 'content-type': types['.html'] ?? 'text/html', 'content-security-policy': cspFor(origin, nonce), 'cache-control': 'no-store' });
          res.end(body);
          return;
        }
        if (path === '/favicon.ico') {
          res.writeHead(204).end();
          return;
        }
        if (path === '/test/vscode-shim.js') {
          res.writeHead(200, { 'content-type': types['.js'] ?? 'text/javascript' });
          res.end(shim);
          return;
        }
        const themeMatch = /^\/test\/theme-(dark|light|hc)\.css$/.exec(path);
        if (themeMatch) {
          res.writeHead(200, { 'content-type': types['.css'] ?? 'text/css' });
          res.end(themeCss(themeMatch[1] as Theme));
          return;
        }
        if (path.startsWith('/dist/') || path.startsWith('/media/')) {
          const file = normalize(join(ROOT, decodeURIComponent(path)));
          if (!file.startsWith(ROOT + sep)) throw new Error('outside root');
          const data = await readFile(file);
          res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
          res.end(data);
          return;
        }
        res.writeHead(404).end('not found');
      } catch {
        if (!res.headersSent) res.writeHead(404);
        res.end('not found');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    pageUrl: (theme = 'dark', opts) => `${origin}/chat.html?theme=${theme}${opts?.sandboxModel ? '&sandbox=1' : ''}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
