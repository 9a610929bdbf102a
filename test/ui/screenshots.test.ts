// Screenshots of a realistic conversation in dark, light and high-contrast themes,
// saved to test-results/screenshots/ui-*.png for a human (or model) to look at.
import { strict as assert } from 'node:assert';
import type { HostMessage } from '../../src/shared/protocol';
import { assertClean, deliver, openChat, screenshot, settle, startHarness, type ChatPage, type Harness } from './helpers';
import { signupSeries, stateMsg, toolItem } from './states';
import type { Theme } from './fixture';
import type { Page } from 'playwright-core';

/** The theme's text colour (from the fixture's theme variables) and, for high contrast, its border colour. */
const themeColours: Record<Theme, { foreground: string; contrastActiveBorder?: string }> = {
  dark: { foreground: 'rgb(204, 204, 204)' },
  light: { foreground: 'rgb(59, 59, 59)' },
  hc: { foreground: 'rgb(255, 255, 255)', contrastActiveBorder: 'rgb(243, 133, 24)' },
};

/** The page's window, typed here: the test code is compiled without the DOM library. */
interface ComputedStyleWindow {
  getComputedStyle(element: unknown): { color: string; borderTopColor: string };
}

/** The page is drawn in `theme`: its body class, its text colour and, in high contrast, the card awaiting approval outlined in the active border colour. */
async function assertTheme(page: Page, theme: Theme): Promise<void> {
  const bodyClass = theme === 'dark' ? 'vscode-dark' : theme === 'light' ? 'vscode-light' : 'vscode-high-contrast';
  assert.ok((await page.locator('body').getAttribute('class'))?.split(/\s+/).includes(bodyClass), `the body has the class ${bodyClass}`);
  const colour = await page.locator('body').evaluate((el) => (globalThis as unknown as ComputedStyleWindow).getComputedStyle(el).color);
  assert.equal(colour, themeColours[theme].foreground, `text is drawn in the ${theme} theme's foreground`);
  const border = themeColours[theme].contrastActiveBorder;
  const awaiting = page.locator('.tool-card.status-awaitingApproval');
  if (border && (await awaiting.count()) > 0) {
    const cardBorder = await awaiting.first().evaluate((el) => (globalThis as unknown as ComputedStyleWindow).getComputedStyle(el).borderTopColor);
    assert.equal(cardBorder, border, 'high contrast: the card awaiting approval has the active contrast border');
  }
}

/** Visible and, when `text` is given, showing it. */
async function assertShows(page: Page, selector: string, text?: string | RegExp): Promise<void> {
  const el = page.locator(selector).first();
  assert.ok(await el.isVisible(), `${selector} is visible`);
  if (text !== undefined) {
    const shown = (await el.innerText()).replace(/\s+/g, ' ');
    if (typeof text === 'string') assert.ok(shown.includes(text), `${selector} shows "${text}" (it shows "${shown}")`);
    else assert.match(shown, text, `${selector}`);
  }
}

const answer = `Signups rose **18%** week over week, peaking on **May 6** with 26 new accounts.

- Weekdays averaged 17 signups
- The weekend dip was smaller than usual

I created a follow-up task in Asana: [Review signup funnel](https://app.asana.example/0/1200/42).

\`\`\`sql
SELECT toDate(timestamp) AS day, count() AS signups
FROM events
WHERE event = 'signed_up'
GROUP BY day ORDER BY day
\`\`\`
`;

function conversation(): HostMessage[] {
  return [
    stateMsg({
      busy: true,
      sandboxModel: true,
      usage: { inputTokens: 18_230, outputTokens: 1_204, cacheReadTokens: 12_000, cacheWriteTokens: 2_100, estimatedCostUsd: 0.0831 },
      conversations: [
        { id: 'c1', title: 'Signups last week', updatedAt: 2 },
        { id: 'c2', title: 'Asana sprint tasks', updatedAt: 1 },
      ],
      items: [
        { kind: 'user', id: 'u1', text: 'How many people signed up per day last week? Create a follow-up task if it grew.' },
        toolItem({ output: JSON.stringify({ results: signupSeries }, null, 2), outputBytes: 612, series: signupSeries, durationMs: 842 }, 't1'),
        toolItem(
          {
            toolUseId: 'toolu_2',
            toolName: 'asana_create_task',
            connection: 'asana',
            risk: 'write',
            status: 'succeeded',
            input: '{"name":"Review signup funnel","projects":["1200"]}',
            output: '{"gid":"42","name":"Review signup funnel"}',
            durationMs: 1310,
          },
          't2',
        ),
        { kind: 'assistant', id: 'a1', markdown: answer, streaming: false },
        { kind: 'user', id: 'u2', text: 'Delete the old "Signup test" task too.' },
        toolItem(
          {
            toolUseId: 'toolu_3',
            toolName: 'asana_delete_task',
            connection: 'asana',
            risk: 'destructive',
            status: 'awaitingApproval',
            input: '{\n  "task_gid": "1209876543"\n}',
            durationMs: undefined,
          },
          't3',
        ),
      ],
    }),
  ];
}

/** The words a write whose answer was lost gets (OutcomeUnknownError's message and hint). */
const OUTCOME_UNKNOWN =
  'asana_task_create may or may not have run: its answer did not arrive (Scalekit: [unavailable] upstream connect error or disconnect/reset before headers). Check in Asana before running it again, so a change is not made twice.';

function failures(): HostMessage[] {
  return [
    stateMsg({
      busy: true,
      items: [
        { kind: 'user', id: 'u1', text: 'What are my open Asana tasks?' },
        toolItem(
          {
            toolUseId: 'toolu_9',
            toolName: 'asana_list_tasks',
            connection: 'asana',
            risk: 'read',
            status: 'failed',
            input: '{"assignee":"me","completed":false}',
            error: 'Asana returned 401: the connected account needs to be re-authorized.',
            fix: { kind: 'reauthorize', connection: 'asana' },
            durationMs: 220,
          },
          't9',
        ),
        toolItem(
          {
            toolUseId: 'toolu_11',
            toolName: 'asana_task_create',
            connection: 'asana',
            risk: 'write',
            status: 'failed',
            input: '{"name":"Write the launch recap"}',
            error: OUTCOME_UNKNOWN,
            durationMs: 1_240,
          },
          't11',
        ),
        toolItem({ toolUseId: 'toolu_10', toolName: 'posthog_query', status: 'running', durationMs: undefined }, 't10'),
        { kind: 'notice', id: 'n1', text: 'Stopped after 12 tool rounds (onbehalf.maxSteps).' },
        { kind: 'error', id: 'e1', message: 'Anthropic API overloaded (529). Your message was kept.', retryable: true },
        { kind: 'assistant', id: 'a2', markdown: 'Checking PostHog while you re-authorize **Asana**', streaming: true },
      ],
    }),
  ];
}

/** What the conversation screenshot is for: the question, both finished cards, the chart, the answer and the approval card. */
async function assertConversationShown(page: Page): Promise<void> {
  await assertShows(page, '.msg-user', 'How many people signed up per day last week?');
  assert.equal(await page.locator('.tool-card.status-succeeded').count(), 2, 'two finished tool cards');
  // The chart: a drawn canvas and its text alternative, also shown as the caption.
  const canvas = page.locator('figure.chart canvas');
  assert.ok(await canvas.isVisible(), 'the chart canvas is visible');
  const box = await canvas.boundingBox();
  assert.ok(box && box.width > 100 && box.height > 50, `the chart has a size (${JSON.stringify(box)})`);
  const alt = (await canvas.getAttribute('aria-label')) ?? '';
  assert.equal(await canvas.getAttribute('role'), 'img');
  assert.ok(alt.length > 0, 'the chart has a text alternative');
  await assertShows(page, 'figure.chart figcaption', alt);
  // The answer, rendered as Markdown.
  await assertShows(page, '.msg-assistant strong', '18%');
  await assertShows(page, '.msg-assistant a', 'Review signup funnel');
  // The approval card of the destructive call: what it will do, the input, and the two buttons.
  const approval = page.getByRole('group', { name: 'Approve asana_delete_task?' });
  assert.ok(await approval.isVisible(), 'the approval card is visible');
  assert.match(
    (await approval.locator('.approval-text').innerText()).replace(/\s+/g, ' '),
    /The agent wants to run asana_delete_task to make changes in Asana as you\./,
  );
  assert.ok((await approval.locator('.danger-text').innerText()).includes('It cannot be undone here.'), 'the destructive summary warns');
  assert.match(await approval.locator('pre.approval-input').innerText(), /"task_gid": "1209876543"/);
  assert.ok(await approval.getByRole('button', { name: 'Approve deletion' }).isVisible(), 'Approve deletion is shown');
  assert.ok(await approval.getByRole('button', { name: 'Deny' }).isVisible(), 'Deny is shown');
}

describe('chat webview: screenshots', function () {
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

  for (const theme of ['dark', 'light', 'hc'] as Theme[]) {
    it(`conversation (${theme})`, async () => {
      chat = await openChat(harness, { theme, height: 1500, sandboxModel: true });
      await deliver(chat.page, ...conversation());
      await chat.page.locator('figure.chart[data-x-ticks] canvas').waitFor(); // drawn (charts.js loads on the first chart)
      // Expand the first card to show input/output styling.
      await chat.page.locator('.tool-summary').nth(1).click();
      await chat.page.getByRole('textbox', { name: /Message OnBehalf/ }).fill('Also chart weekly retention');
      await settle(chat.page);
      await screenshot(chat.page, `ui-${theme}-conversation`);
      await assertConversationShown(chat.page);
      // The second card is open on its input and output, and the composer holds the draft.
      const opened = chat.page.locator('.tool-card').nth(1);
      assert.match(await opened.locator('pre.tool-output').innerText(), /"name": "Review signup funnel"/);
      assert.equal(await chat.page.getByRole('textbox', { name: /Message OnBehalf/ }).inputValue(), 'Also chart weekly retention');
      await assertTheme(chat.page, theme);
    });
  }

  for (const theme of ['dark', 'light'] as Theme[]) {
    it(`failures and streaming (${theme})`, async () => {
      chat = await openChat(harness, { theme, height: 900 });
      await deliver(chat.page, ...failures());
      await chat.page.getByText('Checking PostHog').waitFor();
      await settle(chat.page);
      await screenshot(chat.page, `ui-${theme}-failures`);
      const { page } = chat;
      // The failed call: its error and the fix it offers.
      await assertShows(page, '.tool-card.status-failed .tool-error-text', 'Asana returned 401: the connected account needs to be re-authorized.');
      assert.ok(
        await page.locator('.tool-card.status-failed').getByRole('button', { name: 'Re-authorize Asana' }).isVisible(),
        'the failed card offers Re-authorize Asana',
      );
      // The write whose answer was lost: it says so, and offers no Retry that could run it twice.
      const lost = page.locator('.tool-card.status-failed', { hasText: 'asana_task_create' });
      await assertShows(page, '.tool-card.status-failed:has-text("asana_task_create") .tool-error-text', OUTCOME_UNKNOWN);
      assert.equal(await lost.getByRole('button', { name: /Retry/ }).count(), 0, 'no Retry on a call that may have run');
      // The call still running, the step-limit notice, the retryable error and the streaming answer.
      await assertShows(page, '.tool-card.status-running .tool-name', 'posthog_query');
      await assertShows(page, '.msg-notice', 'Stopped after 12 tool rounds (onbehalf.maxSteps).');
      await assertShows(page, '.msg-error', 'Anthropic API overloaded (529). Your message was kept.');
      assert.equal(await page.locator('.msg-error').getByRole('button', { name: /Retry/ }).count(), 1, 'the error offers Retry');
      await assertShows(page, '.msg-assistant', 'Checking PostHog while you re-authorize Asana');
      await assertTheme(page, theme);
    });

    it(`welcome with blocker (${theme})`, async () => {
      chat = await openChat(harness, { theme, height: 700 });
      await deliver(
        chat.page,
        stateMsg({
          identityLabel: null,
          conversations: [],
          activeConversationId: null,
          blocker: { kind: 'connect', message: 'Connect PostHog so the agent can query your insights.', connection: 'posthog' },
        }),
      );
      await chat.page.getByText('Ask OnBehalf').waitFor();
      await settle(chat.page);
      await screenshot(chat.page, `ui-${theme}-welcome`);
      const { page } = chat;
      // No conversation yet: the welcome, and the blocker with its one action.
      assert.equal(await page.locator('.item-list .msg').count(), 0, 'no messages on the welcome page');
      await assertShows(page, '.blocker', 'Connect PostHog so the agent can query your insights.');
      assert.ok(await page.locator('.blocker').getByRole('button', { name: 'Connect PostHog' }).isVisible(), 'the blocker offers Connect PostHog');
      assert.ok(await page.getByText('Ask OnBehalf').first().isVisible(), 'the welcome says Ask OnBehalf');
      await assertTheme(page, theme);
    });
  }

  it('narrow sidebar (dark, 300px)', async () => {
    chat = await openChat(harness, { theme: 'dark', width: 300, height: 1300 });
    await deliver(chat.page, ...conversation());
    await chat.page.locator('figure.chart[data-x-ticks] canvas').waitFor(); // drawn (charts.js loads on the first chart)
    await settle(chat.page);
    await screenshot(chat.page, 'ui-dark-narrow');
    await assertConversationShown(chat.page);
    // Nothing overflows horizontally.
    const overflow = await chat.page.evaluate(() => {
      const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return d.scrollWidth - d.clientWidth;
    });
    assert.ok(overflow <= 0, `horizontal overflow ${overflow}px`);
  });
});
