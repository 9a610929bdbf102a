// Screenshots of a realistic conversation in dark, light and high-contrast themes,
// saved to test-results/screenshots/ui-*.png for a human (or model) to look at.
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import type { HostMessage } from '../../src/shared/protocol';
import { assertClean, deliver, openChat, screenshot, settle, startHarness, type ChatPage, type Harness } from './helpers';
import { signupSeries, stateMsg, toolItem } from './states';
import type { Theme } from './fixture';

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
        toolItem({ toolUseId: 'toolu_10', toolName: 'posthog_query', status: 'running', durationMs: undefined }, 't10'),
        { kind: 'notice', id: 'n1', text: 'Stopped after 12 tool rounds (onbehalf.maxSteps).' },
        { kind: 'error', id: 'e1', message: 'Anthropic API overloaded (529). Your message was kept.', retryable: true },
        { kind: 'assistant', id: 'a2', markdown: 'Checking PostHog while you re-authorize **Asana**', streaming: true },
      ],
    }),
  ];
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
      await chat.page.locator('figure.chart canvas').waitFor();
      // Expand the first card to show input/output styling.
      await chat.page.locator('.tool-summary').nth(1).click();
      await chat.page.getByRole('textbox', { name: /Message OnBehalf/ }).fill('Also chart weekly retention');
      await settle(chat.page);
      const path = await screenshot(chat.page, `ui-${theme}-conversation`);
      assert.ok(existsSync(path));
    });
  }

  for (const theme of ['dark', 'light'] as Theme[]) {
    it(`failures and streaming (${theme})`, async () => {
      chat = await openChat(harness, { theme, height: 900 });
      await deliver(chat.page, ...failures());
      await chat.page.getByText('Checking PostHog').waitFor();
      await settle(chat.page);
      assert.ok(existsSync(await screenshot(chat.page, `ui-${theme}-failures`)));
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
      assert.ok(existsSync(await screenshot(chat.page, `ui-${theme}-welcome`)));
    });
  }

  it('narrow sidebar (dark, 300px)', async () => {
    chat = await openChat(harness, { theme: 'dark', width: 300, height: 1300 });
    await deliver(chat.page, ...conversation());
    await chat.page.locator('figure.chart canvas').waitFor();
    await settle(chat.page);
    assert.ok(existsSync(await screenshot(chat.page, 'ui-dark-narrow')));
    // Nothing overflows horizontally.
    const overflow = await chat.page.evaluate(() => {
      const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return d.scrollWidth - d.clientWidth;
    });
    assert.ok(overflow <= 0, `horizontal overflow ${overflow}px`);
  });
});
