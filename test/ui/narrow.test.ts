// A new user's default sidebar is about 290 px wide. The chat must stay legible there:
// the header on one line, tool names readable (the connection prefix gives way, never the
// tool's own words), and a chart with a label under every day.
import { strict as assert } from 'node:assert';
import { assertClean, deliver, openChat, screenshot, settle, startHarness, type ChatPage, type Harness } from './helpers';
import { stateMsg, toolItem } from './states';

const week = [
  {
    label: 'signed_up',
    points: ['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29'].map((x, i) => ({
      x,
      y: [12, 18, 15, 9, 21, 26, 22][i]!,
    })),
  },
];

function conversation() {
  return stateMsg({
    sandboxModel: true,
    identityLabel: 'Ada Lovelace (ada@example.com)',
    usage: { inputTokens: 18_230, outputTokens: 1_204, cacheReadTokens: 12_000, cacheWriteTokens: 2_100, estimatedCostUsd: 0 },
    conversations: [{ id: 'c1', title: 'How many people signed up per day over the last week?', updatedAt: 2 }],
    items: [
      { kind: 'user', id: 'u1', text: 'How many people signed up per day over the last week?' },
      toolItem(
        { toolUseId: 'toolu_1', toolName: 'posthogmcp_query_run', connection: 'posthog', series: week, output: '{}', outputBytes: 612, durationMs: 842 },
        't1',
      ),
      toolItem({ toolUseId: 'toolu_2', toolName: 'posthogmcp_insights_list', connection: 'posthog', output: '[]', durationMs: 120 }, 't2'),
      toolItem({ toolUseId: 'toolu_3', toolName: 'asana_workspaces_list', connection: 'asana', output: '[]', durationMs: 95 }, 't3'),
      { kind: 'assistant', id: 'a1', markdown: 'Signups per day, Monday 23 to Sunday 29 November.', streaming: false },
    ],
  });
}

describe('chat webview: a narrow sidebar', function () {
  let harness: Harness;
  let chat: ChatPage | undefined;
  before(async () => {
    harness = await startHarness();
  });
  after(async () => {
    await harness?.close();
  });
  afterEach(async () => {
    if (chat) {
      await assertClean(chat);
      await chat.close();
      chat = undefined;
    }
  });

  for (const width of [290, 520]) {
    it(`at ${width} px: one-line header, whole tool names, a label for every day`, async () => {
      chat = await openChat(harness, { theme: 'dark', width, height: 1000, sandboxModel: true });
      await deliver(chat.page, conversation());
      await chat.page.locator('figure.chart[data-x-ticks] canvas').waitFor(); // drawn (charts.js loads on the first chart)
      await settle(chat.page);
      await screenshot(chat.page, `ui-dark-sidebar-${width}`);
      const page = chat.page;
      // The header's status line (who, which model, usage) is one line, and nothing in it spills.
      const meta = await page.locator('.meta-row').evaluate((row) => {
        const r = row as unknown as {
          getBoundingClientRect(): { height: number };
          scrollWidth: number;
          clientWidth: number;
          children: ArrayLike<{ getBoundingClientRect(): { top: number; height: number } }>;
        };
        const tops = Array.from(r.children)
          .map((c) => c.getBoundingClientRect())
          .filter((b) => b.height > 0)
          .map((b) => b.top + b.height / 2);
        return { lines: Math.max(...tops) - Math.min(...tops) <= 4 ? 1 : 2, height: r.getBoundingClientRect().height, spill: r.scrollWidth - r.clientWidth };
      });
      assert.equal(meta.lines, 1, `the header's status line wraps (${meta.height}px high)`);
      assert.ok(meta.height <= 22, `the header's status line is ${meta.height}px high`);
      assert.ok(meta.spill <= 0, `the header's status line spills by ${meta.spill}px`);
      // Each tool's own words are whole; only the connector prefix may elide.
      for (const own of ['query_run', 'insights_list', 'workspaces_list']) {
        const el = page.locator('.tool-summary .tool-own', { hasText: own }).first();
        assert.equal((await el.textContent())?.trim(), own);
        const fit = await el.evaluate((e) => {
          type Box = { getBoundingClientRect(): { width: number; height: number }; scrollWidth: number; clientWidth: number };
          const own = (e as unknown as Box).getBoundingClientRect();
          const name = (e as unknown as { closest(s: string): Box }).closest('.tool-name');
          // Either nothing is elided, or the ellipsis (one ch, ~8 px) and the whole own words fit.
          return { own: own.width, visible: name.clientWidth, full: name.scrollWidth, height: own.height };
        });
        assert.ok(fit.full <= fit.visible || fit.own + 7 <= fit.visible, `${own} is cut: ${JSON.stringify(fit)}`);
        assert.ok(fit.height < 24, `${own} wraps (${fit.height}px high)`);
        // ...and it does not run into the badge after it.
        const gap = await el.evaluate((e) => {
          const own = (e as unknown as { getBoundingClientRect(): { right: number } }).getBoundingClientRect();
          const summary = (e as unknown as { closest(s: string): { querySelector(s: string): { getBoundingClientRect(): { left: number } } } }).closest(
            '.tool-summary',
          );
          return summary.querySelector('.risk-badge').getBoundingClientRect().left - own.right;
        });
        assert.ok(gap >= 2, `${own} overlaps the risk badge (${gap}px)`);
        const spill = await el.evaluate((e) => {
          const summary = (e as unknown as { closest(s: string): { scrollWidth: number; clientWidth: number } }).closest('.tool-summary');
          return summary.scrollWidth - summary.clientWidth;
        });
        assert.ok(spill <= 0, `the ${own} card's summary spills by ${spill}px`);
      }
      const names = await page.locator('.tool-summary .tool-name').allTextContents();
      assert.deepEqual(names, ['posthogmcp_query_run', 'posthogmcp_insights_list', 'asana_workspaces_list'], 'the name reads as itself');
      // Every day of the week has its label under the chart.
      assert.equal(await page.locator('figure.chart').getAttribute('data-x-ticks'), '7');
      const overflow = await page.evaluate(() => {
        const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
        return d.scrollWidth - d.clientWidth;
      });
      assert.ok(overflow <= 0, `horizontal overflow ${overflow}px`);
    });
  }
});
