// Tool cards, approvals, fixes, charts and error items.
import { strict as assert } from 'node:assert';
import { clearPosted, deliver, postedOfType, settle, waitForPosted, type ChatPage, useChatPage } from './helpers';
import { signupSeries, stateMsg, toolItem } from './states';

describe('chat webview: tool cards, charts, errors', function () {
  const view = useChatPage();
  let chat: ChatPage;
  beforeEach(() => {
    chat = view.chat;
  });

  it('renders a running card, then its result; expands; "Show more" reveals a large output', async () => {
    await deliver(chat.page, stateMsg({ busy: true, items: [toolItem({ status: 'running', durationMs: undefined })] }));
    const card = chat.page.locator('.tool-card');
    await card.waitFor();
    assert.equal(await card.locator('.tool-name').textContent(), 'posthog_query');
    assert.equal(await card.locator('.tool-conn').textContent(), 'PostHog');
    assert.equal((await card.locator('.risk-badge').textContent())?.trim(), 'read');
    assert.equal(await card.locator('.codicon-loading.codicon-modifier-spin').count(), 1, 'spinner while running');

    const rows = Array.from({ length: 400 }, (_, i) => ({ day: `2024-05-${String((i % 28) + 1).padStart(2, '0')}`, person: `user-${i}`, count: i * 3 }));
    const output = JSON.stringify({ results: rows }, null, 2);
    await deliver(chat.page, {
      type: 'item',
      item: toolItem({ status: 'succeeded', output, outputBytes: 1_800_000, outputTruncated: true, durationMs: 1234 }),
    });
    await card.locator('.codicon-pass').waitFor();
    assert.equal(await card.locator('.tool-duration').textContent(), '1.2 s');

    // Collapsed by default: the output is not visible until the summary is clicked.
    const outputPre = card.locator('pre.tool-output');
    assert.equal(await outputPre.isVisible(), false);
    await card.locator('summary').click();
    await outputPre.waitFor({ state: 'visible' });
    assert.match((await card.locator('.tool-json').first().textContent()) ?? '', /"event": "signed_up"/);
    const preview = (await outputPre.textContent()) ?? '';
    assert.ok(preview.length <= 4097 + 1 && preview.endsWith('…'), `preview is ~4 KB (${preview.length})`);
    assert.match((await card.locator('.tool-truncated').textContent()) ?? '', /returned 1\.7 MB/);

    await card.getByRole('button', { name: /Show more/ }).click();
    assert.equal(await outputPre.textContent(), output);
    assert.equal(await card.getByRole('button', { name: /Show more/ }).count(), 0);

    // Copy the whole output.
    await card.getByRole('button', { name: 'Copy output' }).click();
    assert.equal((await waitForPosted(chat.page, 'copy')).text, output);

    // Re-rendering the same card keeps it open and expanded (UI state survives updates).
    await deliver(chat.page, {
      type: 'item',
      item: toolItem({ status: 'succeeded', output, outputBytes: 1_800_000, outputTruncated: true, durationMs: 1300 }),
    });
    await card.locator('.tool-duration', { hasText: '1.3 s' }).waitFor();
    assert.equal(await outputPre.textContent(), output);
    assert.equal(await card.locator('details').getAttribute('open'), '');
  });

  it('the summary is keyboard operable', async () => {
    await deliver(chat.page, stateMsg({ items: [toolItem({ output: '{"ok":true}' })] }));
    const summary = chat.page.locator('.tool-card summary');
    await summary.focus();
    await chat.page.keyboard.press('Enter');
    await chat.page.locator('.tool-card pre.tool-output').waitFor({ state: 'visible' });
    assert.match((await chat.page.locator('.tool-card pre.tool-output').textContent()) ?? '', /"ok": true/);
    await chat.page.keyboard.press('Space');
    await chat.page.locator('.tool-card pre.tool-output').waitFor({ state: 'hidden' });
  });

  it('approval: Approve / Deny / Always allow post decide', async () => {
    const pending = toolItem({
      toolUseId: 'toolu_w',
      toolName: 'asana_create_task',
      connection: 'asana',
      risk: 'write',
      status: 'awaitingApproval',
      canAlwaysAllow: true,
      input: '{"name":"Follow up on signups","projects":["1200"]}',
      durationMs: undefined,
    });
    await deliver(chat.page, stateMsg({ busy: true, items: [pending] }));
    const card = chat.page.locator('.tool-card');
    await card.getByText('change data in Asana as you').waitFor();
    await card.getByRole('button', { name: 'Approve' }).click();
    assert.deepEqual(await waitForPosted(chat.page, 'decide'), { type: 'decide', toolUseId: 'toolu_w', decision: 'approve' });
    assert.equal(await card.getByRole('button', { name: 'Deny' }).isDisabled(), true, 'no double decisions');

    // A fresh approval request for the same card (host re-sent it): buttons live again.
    await clearPosted(chat.page);
    await deliver(chat.page, { type: 'item', item: { ...pending, card: { ...pending.card, input: '{"name":"Follow up"}' } } as typeof pending });
    await card.getByRole('button', { name: 'Deny' }).click();
    assert.equal((await waitForPosted(chat.page, 'decide')).decision, 'deny');

    await clearPosted(chat.page);
    await deliver(chat.page, { type: 'item', item: { ...pending, card: { ...pending.card, input: '{"name":"Follow up 2"}' } } as typeof pending });
    await card.getByRole('button', { name: 'Always allow this tool' }).click();
    assert.deepEqual(await waitForPosted(chat.page, 'decide'), { type: 'decide', toolUseId: 'toolu_w', decision: 'always' });

    // Without canAlwaysAllow there is no "Always" button.
    await deliver(chat.page, { type: 'item', item: { ...pending, card: { ...pending.card, canAlwaysAllow: false } } as typeof pending });
    await card.getByRole('button', { name: 'Deny' }).waitFor();
    assert.equal(await card.getByRole('button', { name: 'Always allow this tool' }).count(), 0);
  });

  it('an enterprise PostHog approval names the connection as the tree does', async () => {
    await deliver(
      chat.page,
      stateMsg({
        busy: true,
        items: [
          toolItem({
            toolUseId: 'toolu_e',
            toolName: 'posthogent_create_feature_flag',
            connection: 'posthog-enterprise',
            risk: 'write',
            status: 'awaitingApproval',
            canAlwaysAllow: true,
            input: '{"key":"beta"}',
            durationMs: undefined,
          }),
          toolItem({
            toolUseId: 'toolu_f',
            toolName: 'posthogent_delete_feature_flag',
            connection: 'posthog-enterprise',
            risk: 'destructive',
            status: 'awaitingApproval',
            input: '{"id":1}',
            durationMs: undefined,
          }),
        ],
      }),
    );
    await chat.page.getByText('change data in PostHog (enterprise) as you').waitFor();
    await chat.page.getByText('This will delete feature flag 1 in PostHog (enterprise).').waitFor();
    assert.equal(await chat.page.getByText(/Posthog-enterprise/).count(), 0);
  });

  it('destructive approval says so plainly, shows the input, and never offers "Always"', async () => {
    await deliver(
      chat.page,
      stateMsg({
        busy: true,
        items: [
          toolItem({
            toolUseId: 'toolu_d',
            toolName: 'asana_delete_task',
            connection: 'asana',
            risk: 'destructive',
            status: 'awaitingApproval',
            canAlwaysAllow: true, // even if the host said so
            input: '{"task_gid":"1209876543"}',
            durationMs: undefined,
          }),
        ],
      }),
    );
    const card = chat.page.locator('.tool-card');
    await card.getByText('This will delete task 1209876543 in Asana.').waitFor();
    assert.equal(await card.locator('.approval-input').isVisible(), true, 'input shown without expanding');
    assert.match((await card.locator('.approval-input').textContent()) ?? '', /"task_gid": "1209876543"/);
    assert.equal(await card.getByRole('button', { name: /Always allow/ }).count(), 0);
    await card.getByRole('button', { name: 'Approve deletion' }).click();
    assert.deepEqual(await waitForPosted(chat.page, 'decide'), { type: 'decide', toolUseId: 'toolu_d', decision: 'approve' });
  });

  it('approval shows the whole input that runs: a 20 KB field cannot hide the assignee, and Copy gives that exact JSON', async () => {
    // A prompt injection pads a free-text field so the assignee sits past any preview.
    const input = { name: 'Follow up on signups', notes: 'pad '.repeat(5 * 1024), assignee: '1201999', projects: '1200' };
    const exact = JSON.stringify(input, null, 2); // what the host sends: the very object that runs
    await deliver(
      chat.page,
      stateMsg({
        busy: true,
        items: [
          toolItem({
            toolUseId: 'toolu_pad',
            toolName: 'asana_task_create',
            connection: 'asana',
            risk: 'write',
            status: 'awaitingApproval',
            input: exact,
            durationMs: undefined,
          }),
        ],
      }),
    );
    const card = chat.page.locator('.tool-card');
    const approval = card.locator('.approval');
    await approval.waitFor();
    // The fields that matter come first, in full, before the long free text.
    const fields = approval.locator('.approval-fields');
    await fields.waitFor();
    const rows = await fields
      .locator('.approval-field')
      .evaluateAll((els) =>
        els.map((el) => [el.querySelector('.approval-field-key')?.textContent ?? '', el.querySelector('.approval-field-value')?.textContent ?? '']),
      );
    assert.deepEqual(
      rows.map((r) => r[0]),
      ['assignee', 'projects', 'name', 'notes'],
      JSON.stringify(rows).slice(0, 300),
    );
    assert.deepEqual(rows[0], ['assignee', '"1201999"']);
    assert.match(rows[3]![1], /^20 KB of text, in full below$/);
    assert.equal(await fields.locator('.approval-field', { hasText: 'assignee' }).isVisible(), true);
    // The whole input, scrollable, not a preview.
    const pre = approval.locator('.approval-input');
    assert.equal(await pre.textContent(), exact);
    const scroll = await pre.evaluate((el) => {
      const node = el as unknown as {
        scrollHeight: number;
        clientHeight: number;
        ownerDocument: { defaultView: { getComputedStyle(e: unknown): { overflowY: string } } };
      };
      return { overflow: node.ownerDocument.defaultView.getComputedStyle(el).overflowY, scrollable: node.scrollHeight > node.clientHeight };
    });
    assert.deepEqual(scroll, { overflow: 'auto', scrollable: true });
    assert.match((await approval.locator('.approval-size').textContent()) ?? '', /^Whole input: 20(\.\d)? KB\. Scroll to review all of it\.$/);
    // Copy copies exactly the JSON that runs.
    await approval.getByRole('button', { name: 'Copy input' }).click();
    const copied = (await waitForPosted(chat.page, 'copy')).text;
    assert.equal(copied, exact);
    assert.deepEqual(JSON.parse(copied), input);
  });

  it('a failed card offers Connect / Re-authorize, posting connect', async () => {
    await deliver(
      chat.page,
      stateMsg({
        items: [
          toolItem({ toolUseId: 't1', status: 'failed', error: 'PostHog is not connected for this user.', fix: { kind: 'connect', connection: 'posthog' } }),
          toolItem({
            toolUseId: 't2',
            toolName: 'asana_list_tasks',
            connection: 'asana',
            status: 'failed',
            error: 'Token expired.',
            fix: { kind: 'reauthorize', connection: 'asana' },
          }),
        ],
      }),
    );
    await chat.page.getByText('PostHog is not connected for this user.').waitFor();
    await chat.page.getByRole('button', { name: 'Connect PostHog' }).click();
    assert.deepEqual(await waitForPosted(chat.page, 'connect'), { type: 'connect', connection: 'posthog', reauthorize: false });
    await clearPosted(chat.page);
    await chat.page.getByRole('button', { name: 'Re-authorize Asana' }).click();
    assert.deepEqual(await waitForPosted(chat.page, 'connect'), { type: 'connect', connection: 'asana', reauthorize: true });
  });

  it('a card that failed for a passing reason offers Retry, disabled while busy; others do not', async () => {
    await deliver(
      chat.page,
      stateMsg({
        busy: true,
        items: [
          toolItem({ toolUseId: 't1', status: 'failed', error: 'Scalekit is unreachable right now.', retryable: true }),
          toolItem({ toolUseId: 't2', toolName: 'asana_tasks_list', connection: 'asana', status: 'failed', error: 'Asana said no.' }),
        ],
      }),
    );
    const cards = chat.page.locator('.tool-card');
    await cards.first().getByText('Scalekit is unreachable right now.').waitFor();
    const retry = cards.first().getByRole('button', { name: 'Retry' });
    assert.equal(await retry.isDisabled(), true, 'no retry while a turn runs');
    assert.equal(await cards.nth(1).getByRole('button', { name: 'Retry' }).count(), 0, 'a tool error is not retried blindly');
    await deliver(chat.page, { type: 'busy', busy: false });
    await retry.click();
    assert.deepEqual(await waitForPosted(chat.page, 'retry'), { type: 'retry' });
  });

  it('draws a chart for a time series, with a text alternative', async () => {
    await deliver(chat.page, stateMsg({ items: [toolItem({ output: JSON.stringify({ results: signupSeries }), series: signupSeries })] }));
    const chart = chat.page.locator('.tool-card figure.chart');
    await chat.page.locator('.tool-card figure.chart[data-x-ticks]').waitFor(); // drawn (charts.js loads on the first chart)
    await chart.waitFor();
    const canvas = chart.locator('canvas');
    assert.equal(await canvas.getAttribute('role'), 'img');
    assert.equal(await canvas.getAttribute('aria-label'), 'signed_up per day: 7 points, total 123');
    // Chart.js sized and drew on the canvas.
    const drawn = await canvas.evaluate((c) => {
      const el = c as unknown as {
        width: number;
        height: number;
        getContext(t: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
      };
      const data = el.getContext('2d').getImageData(0, 0, el.width, el.height).data;
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) painted++;
      return { width: el.width, height: el.height, painted };
    });
    assert.ok(drawn.width > 100 && drawn.height > 100, JSON.stringify(drawn));
    assert.ok(drawn.painted > 500, `chart pixels painted: ${drawn.painted}`);
    // The data table, behind a disclosure.
    await chart.getByText('Data table').click();
    const rows = chart.locator('table tbody tr');
    assert.equal(await rows.count(), 7);
    assert.equal(await rows.first().locator('th').textContent(), '2024-05-01');
    assert.equal(await rows.first().locator('td').textContent(), '12');
  });

  it('error items: Retry posts retry (disabled while busy), fix button posts connect', async () => {
    await deliver(
      chat.page,
      stateMsg({
        items: [
          { kind: 'user', id: 'u1', text: 'List my tasks' },
          { kind: 'error', id: 'e1', message: 'Anthropic API overloaded (529). Try again.', retryable: true },
          { kind: 'error', id: 'e2', message: 'Asana needs to be re-authorized.', retryable: false, fix: { kind: 'reauthorize', connection: 'asana' } },
        ],
      }),
    );
    await chat.page.getByText('Anthropic API overloaded (529). Try again.').waitFor();
    assert.equal(await chat.page.locator('.msg-error').first().getAttribute('role'), 'alert');
    await chat.page.getByRole('button', { name: 'Retry' }).click();
    assert.deepEqual(await waitForPosted(chat.page, 'retry'), { type: 'retry' });
    assert.equal(await chat.page.getByRole('button', { name: 'Retry' }).count(), 1, 'no Retry on a non-retryable error');
    await chat.page.getByRole('button', { name: 'Re-authorize Asana' }).click();
    assert.deepEqual(await waitForPosted(chat.page, 'connect'), { type: 'connect', connection: 'asana', reauthorize: true });

    await deliver(chat.page, { type: 'busy', busy: true });
    await settle(chat.page);
    assert.equal(await chat.page.getByRole('button', { name: 'Retry' }).isDisabled(), true);
    assert.equal((await postedOfType(chat.page, 'retry')).length, 1);
  });

  it('tool output is shown as text, never as HTML', async () => {
    await deliver(
      chat.page,
      stateMsg({
        items: [
          toolItem({
            output: '{"name":"<img src=x onerror=window.__pwned=1>","html":"<script>window.__pwned=2</script>"}',
            error: '<b onmouseover=alert(1)>boom</b>',
            status: 'failed',
          }),
        ],
      }),
    );
    const card = chat.page.locator('.tool-card');
    await card.locator('summary').click();
    await settle(chat.page);
    assert.equal(await card.locator('img, script, b').count(), 0);
    assert.match((await card.locator('.tool-output').textContent()) ?? '', /<img src=x onerror=window.__pwned=1>/);
    assert.equal(await chat.page.evaluate('window.__pwned'), undefined);
  });
});
