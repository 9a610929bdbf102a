// The Scalekit emulator's last page ("Connected") closes its own tab in a real browser: the
// tab was opened by a script (as VS Code's "open external website" does), so chromium lets
// the page's nonce-allowed window.close() through, even after a cross-origin redirect.
import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { launchBrowser, screenshot, type BrowserSession } from '../harness/browser';
import { finalPage } from '../emulators/scalekit/consent-page';

function serve(host: string, handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, host, () => resolve({ server, url: `http://${host}:${(server.address() as AddressInfo).port}` })));
}

describe('emulator pages: the last page of a flow closes its tab', function () {
  this.timeout(60_000);
  let session: BrowserSession | undefined;
  const servers: http.Server[] = [];
  after(async () => {
    await session?.close();
    for (const s of servers) s.close();
  });

  it('a tab a script opened closes itself, with no CSP violation, and says so while it shows', async () => {
    const done = await serve('127.0.0.1', (_req, res) => {
      const { html, csp } = finalPage('Connected', 'Your account is connected.');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp });
      res.end(html);
    });
    const consent = await serve('127.0.0.1', (_req, res) => {
      res.writeHead(302, { location: `${done.url}/connect/ar_1/done` });
      res.end();
    });
    const app = await serve('localhost', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<title>workbench</title>');
    });
    servers.push(done.server, consent.server, app.server);
    session = await launchBrowser({ width: 900, height: 500 });
    const { context, page } = session;
    await page.goto(app.url);
    const opened = context.waitForEvent('page');
    await page.evaluate((u) => {
      (globalThis as unknown as { open(u: string, t: string, f: string): unknown }).open(u, '_blank', 'noopener');
    }, `${consent.url}/connect/ar_1`);
    const tab = await opened;
    const violations: string[] = [];
    tab.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await tab.getByText('this tab closes itself').waitFor();
    await screenshot(tab, 'emulator-final-page');
    const closed = await tab.waitForEvent('close', { timeout: 10_000 }).then(
      () => true,
      () => false,
    );
    assert.ok(closed, 'the tab closed itself');
    assert.deepEqual(violations, []);
    assert.deepEqual(context.pages(), [page], 'only the workbench tab is left');
  });
});
