// Chart.js lives in a second bundle (dist/webview/charts.js) that the chat loads, under its
// nonce-only CSP, when the first chart is drawn, and never before.
import { strict as assert } from 'node:assert';
import { deliver, settle, type ChatPage, useChatPage } from './helpers';
import { signupSeries, stateMsg, toolItem } from './states';

describe('chat webview: chart code loads on the first chart', function () {
  const requests: string[] = [];
  const view = useChatPage(async (chat) => {
    chat.page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  });
  let chat: ChatPage;
  beforeEach(() => {
    chat = view.chat;
    requests.length = 0;
  });

  it('a chat without a chart never loads charts.js; the first chart loads it once and draws', async () => {
    // A whole answer and a tool card without a series: no chart code.
    await deliver(
      chat.page,
      stateMsg({
        items: [
          { kind: 'user', id: 'u1', text: 'How did signups do?' },
          toolItem({ output: '{"results":[]}' }, 'plain'),
          { kind: 'assistant', id: 'a1', markdown: '| day | n |\n|---|---|\n| Mon | 1 |', streaming: false },
        ],
      }),
    );
    await settle(chat.page);
    assert.deepEqual(
      requests.filter((p) => p.endsWith('/charts.js')),
      [],
    );
    assert.equal(await chat.page.evaluate('typeof window.OnBehalfCharts'), 'undefined');

    // The first chart: charts.js arrives (with the page's nonce, or the CSP would block it) and draws.
    await deliver(chat.page, { type: 'item', item: toolItem({ output: JSON.stringify({ results: signupSeries }), series: signupSeries }, 'chart1') });
    const canvas = chat.page.locator('figure.chart canvas');
    await chat.page.waitForFunction(() => {
      const c = (globalThis as unknown as { document: { querySelector(s: string): { width: number; dataset?: unknown } | null } }).document.querySelector(
        'figure.chart[data-x-ticks] canvas',
      );
      return !!c && c.width > 100;
    });
    const painted = await canvas.evaluate((c) => {
      const el = c as unknown as {
        width: number;
        height: number;
        getContext(t: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
      };
      const data = el.getContext('2d').getImageData(0, 0, el.width, el.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) n++;
      return n;
    });
    assert.ok(painted > 500, `chart pixels painted: ${painted}`);
    // A second chart reuses the loaded code.
    await deliver(chat.page, {
      type: 'item',
      item: toolItem({ output: JSON.stringify({ results: signupSeries }), series: signupSeries, toolUseId: 'tu-2' }, 'chart2'),
    });
    await chat.page.locator('figure.chart[data-x-ticks]').nth(1).waitFor();
    assert.deepEqual(
      requests.filter((p) => p.endsWith('/charts.js')),
      ['/dist/webview/charts.js'],
    );
    assert.equal(await chat.page.evaluate('typeof window.OnBehalfCharts.drawChart'), 'function');
  });
});
