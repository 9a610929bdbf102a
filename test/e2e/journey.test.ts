// Issue 6, the user journey, in the real workbench with the sandbox model: Ada signs in,
// connects PostHog and Asana on their consent pages, asks for last week's signups (a
// streamed answer, a posthogmcp_query_run card with a chart), asks for an Asana task and
// approves it (the task then exists at the emulator), reads both calls in the audit log,
// signs out; Grace signs in and sees none of Ada's conversations or connections.
import * as assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import { waitForWorkbench } from '../harness/browser';
import { e2eSession, type E2ESession } from '../harness/e2e-session';
import { identifierFor } from '../../src/core/identifier';
import {
  chatFrame,
  markdownPreview,
  collapsePane,
  connectFromTree,
  openOnBehalfView,
  dismissNotifications,
  ensureSignedOut,
  expandPane,
  expandTreeRow,
  openWalkthrough,
  pickQuickItem,
  runCommand,
  sendChat,
  setSecretThroughCommand,
  signInAs,
  signOut,
  stepShots,
  toolCard,
  treeRow,
  waitForChatIdle,
  waitForStatus,
  waitForStatusSettled,
  waitForTreeRow,
  waitForWalkthroughTicks,
  widenSidebar,
  UI_TIMEOUT,
  WALKTHROUGH_STEPS,
  type Shots,
} from './helpers';

const SIGNUPS_QUESTION = 'How many signups did we have each day last week?';
const TASK_REQUEST = 'Create an Asana task called Write launch notes';
const TASK_NAME = 'Write launch notes';
const LONG_QUESTION = 'Tell me the whole story of our launch';

describe('journey (issue 6): Ada asks, approves and audits; Grace sees none of it', function () {
  this.timeout(120_000);
  let session: E2ESession;
  let shots: Shots;
  let chat: FrameLocator;

  before(async () => {
    session = await e2eSession();
    await session.waitForActivation(60_000);
    shots = stepShots(session.page, 'journey');
    await ensureSignedOut(session.page);
    for (const user of ['ada', 'grace']) {
      for (const connection of ['posthog', 'asana']) session.world.scalekit.removeAccount(identifierFor('oidc', user, session.world.idp.issuer), connection);
    }
    chat = chatFrame(session.page);
    // A taller window, so a question, its tool cards, the chart and the answer fit on one screen.
    await session.page.setViewportSize({ width: 1400, height: 1000 });
  });

  after(async () => {
    await session?.page.setViewportSize({ width: 1400, height: 900 });
  });

  it('1. Ada signs in on the IdP login page', async () => {
    const { page, world } = session;
    await widenSidebar(page, 520);
    await signInAs(page, 'ada', shots);
    // Keys are set once per machine; the status bar asks for them when they are missing.
    if (/Set keys/.test(await waitForStatusSettled(page))) {
      await setSecretThroughCommand(session, 'OnBehalf: Set Scalekit Client Secret', world.demoKeys.scalekitClientSecret);
      await setSecretThroughCommand(session, 'OnBehalf: Set Anthropic API Key', world.demoKeys.anthropicApiKey ?? '');
    }
    await waitForStatus(page, /OnBehalf: Connect PostHog/);
    await waitForTreeRow(page, 'PostHog', /^Not connected yet$/);
    await waitForTreeRow(page, 'Asana', /^Not connected yet$/);
    await shots('ada-signed-in');
  });

  it('2. connects PostHog and Asana by clicking through their consent pages', async () => {
    const { page, world } = session;
    assert.equal(await connectFromTree(page, 'PostHog', shots), 'Connected · 199 tools');
    await waitForStatus(page, /OnBehalf: Connect Asana/);
    assert.equal(await connectFromTree(page, 'Asana', shots), 'Connected · 210 tools');
    await waitForStatus(page, /OnBehalf: Ada Lovelace/);
    assert.equal(world.scalekit.getAccount(identifierFor('oidc', 'ada', world.idp.issuer), 'posthog')?.status, 'ACTIVE');
    assert.equal(world.scalekit.getAccount(identifierFor('oidc', 'ada', world.idp.issuer), 'asana')?.status, 'ACTIVE');
    await dismissNotifications(page);
    // The chat is the main thing: at a new user's default width (~290 px) the Connections
    // view starts small (its manifest initialSize) and the chat has most of the side bar.
    await widenSidebar(page, 290);
    const paneHeight = (title: string) =>
      page
        .locator('.part.sidebar .pane')
        .filter({ has: page.locator('.pane-header h3.title', { hasText: new RegExp(`^${title}$`, 'i') }) })
        .first()
        .boundingBox()
        .then((b) => b?.height ?? 0);
    const [connections, chat] = [await paneHeight('Connections'), await paneHeight('Chat')];
    await shots('sidebar-290-connected', { sidebar: true });
    assert.ok(chat >= 2.5 * connections, `the chat has ${chat}px and Connections ${connections}px of the side bar`);
    assert.ok(connections >= 100, `Connections still shows who is signed in and both connections (${connections}px)`);
    await widenSidebar(page, 520);
    for (const name of ['PostHog', 'Asana']) await expandTreeRow(treeRow(page, name));
    await waitForTreeRow(page, 'Destructive', /^\d+$/);
    await shots('connections-active-with-tool-groups', { sidebar: true });
  });

  it('3. asks for daily signups: a streamed answer, a posthogmcp_query_run card to expand, and a chart', async () => {
    const { page, world } = session;
    // Give the chat the whole sidebar, as a person would.
    await collapsePane(page, 'Connections');
    await dismissNotifications(page);
    const executionsBefore = world.scalekit.executions.length;
    await sendChat(page, SIGNUPS_QUESTION);
    const card = toolCard(chat, 'posthogmcp_query_run');
    await card.waitFor({ state: 'visible', timeout: 30_000 });
    const answer = chat.locator('.msg-assistant', { hasText: 'Signups per day over the last 7 days' });
    await answer.waitFor({ state: 'visible', timeout: 30_000 });
    await waitForChatIdle(chat);
    assert.ok(await card.locator('.tool-status-icon.status-succeeded').isVisible(), 'the query card says Done');
    // The model found the tool through the extension's discovery tool first.
    assert.ok(await toolCard(chat, 'search_tools').isVisible(), 'a search_tools card is shown');
    const cardNames = (await chat.locator('.item-list .tool-card .tool-name').allTextContents()).map((name) => name.trim());
    const queryAt = cardNames.lastIndexOf('posthogmcp_query_run');
    const searchAt = cardNames.lastIndexOf('search_tools');
    assert.ok(searchAt >= 0 && searchAt < queryAt, `a search_tools card precedes the query card (cards in order: ${cardNames.join(', ')})`);
    // The answer is a table of 7 days with the total the emulator's data gives.
    const rows = answer.locator('table tbody tr');
    assert.equal(await rows.count(), 7);
    const run = world.scalekit.executions.slice(executionsBefore).find((e) => e.toolName === 'posthogmcp_query_run');
    assert.ok(run?.ok, 'the emulator ran posthogmcp_query_run');
    assert.equal(run.identifier, identifierFor('oidc', 'ada', world.idp.issuer));
    // A chart is drawn from the result.
    const canvas = card.locator('.chart canvas');
    await canvas.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const box = await canvas.boundingBox();
    assert.ok(box && box.width > 100 && box.height > 50, `the chart has a size (${JSON.stringify(box)})`);
    await shots('signups-answer-with-chart', { sidebar: true });
    // Expand the card: the input and the output are there.
    await card.locator('summary.tool-summary').click();
    const output = card.locator('pre.tool-output');
    await output.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    assert.match((await output.textContent()) ?? '', /signed_up/);
    assert.match((await card.locator('pre.tool-json').first().textContent()) ?? '', /TrendsQuery/);
    await card.locator('summary.tool-summary').scrollIntoViewIfNeeded();
    await shots('query-card-expanded');
    await card.locator('summary.tool-summary').click();
  });

  it('4. asks for an Asana task: an approval card; Approve creates it in Asana', async () => {
    const { page, world } = session;
    const tasksBefore = [...world.scalekit.data.asana.tasks.values()].filter((t) => t.name === TASK_NAME).length;
    await sendChat(page, TASK_REQUEST);
    const card = toolCard(chat, 'asana_task_create');
    const approve = card.locator('[data-action="decide-approve"]');
    await approve.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match((await card.locator('.approval-text').textContent()) ?? '', /asana_task_create to change data in Asana as you/);
    // Nothing is created before the approval.
    assert.equal([...world.scalekit.data.asana.tasks.values()].filter((t) => t.name === TASK_NAME).length, tasksBefore);
    // The approval shows exactly what will be created, without expanding the card.
    await card.locator('pre.approval-input', { hasText: TASK_NAME }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await approve.scrollIntoViewIfNeeded();
    await shots('approval-card', { sidebar: true });
    await approve.click();
    const answer = chat.locator('.msg-assistant', { hasText: `Created the Asana task ${TASK_NAME}` });
    await answer.waitFor({ state: 'visible', timeout: 30_000 });
    await waitForChatIdle(chat);
    assert.ok(await card.locator('.tool-status-icon.status-succeeded').isVisible(), 'the task card says Done');
    const created = [...world.scalekit.data.asana.tasks.values()].filter((t) => t.name === TASK_NAME);
    assert.equal(created.length, tasksBefore + 1, 'exactly one new task with that name exists in the emulator');
    const execution = world.scalekit.executions.find((e) => e.toolName === 'asana_task_create');
    assert.equal(execution?.identifier, identifierFor('oidc', 'ada', world.idp.issuer));
    await shots('task-created');
  });

  it('4b. the walkthrough has ticked every step: signed in, keys set, both connected, a question asked', async () => {
    const { page } = session;
    const slide = await openWalkthrough(page);
    try {
      const all = Object.fromEntries(WALKTHROUGH_STEPS.map((step) => [step, true]));
      assert.deepEqual(await waitForWalkthroughTicks(slide, all), all);
      await shots('walkthrough-all-ticked');
    } finally {
      await runCommand(page, 'View: Close All Editors');
    }
  });

  it('5. the audit log lists both calls', async () => {
    const { page } = session;
    await runCommand(page, 'OnBehalf: Show Audit Log');
    await pickQuickItem(page, 'All tool calls');
    await page.locator('.tabs-container .tab', { hasText: 'Audit Log' }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    // The log opens rendered, in VS Code's Markdown preview: read it as a person would.
    const preview = markdownPreview(page);
    // The preview is a webview of its own, built on first use: slow on a loaded machine.
    await preview.locator('h1', { hasText: 'OnBehalf audit log: Ada Lovelace' }).waitFor({ state: 'visible', timeout: 60_000 });
    const rows = (await preview.locator('table tbody tr').allInnerTexts()).map((row) => row.split('\t').map((cell) => cell.trim()));
    const tools = rows.map((cells) => cells[2]);
    assert.ok(tools.includes('posthogmcp_query_run'), `rows: ${JSON.stringify(tools)}`);
    const task = rows.find((cells) => cells[2] === 'asana_task_create');
    assert.ok(task, 'the Asana write is listed');
    assert.deepEqual([task[1], task[3], task[5]], ['asana', 'write', 'success']);
    assert.match(task[4] ?? '', /approved/i);
    await shots('audit-log');
    // Filtered by connection and outcome at once: only Asana's successful call is left.
    await runCommand(page, 'View: Close All Editors');
    await runCommand(page, 'OnBehalf: Show Audit Log');
    await pickQuickItem(page, 'asana · success');
    await preview.getByText('(connection asana, outcome success)', { exact: false }).waitFor({ state: 'visible', timeout: 30_000 });
    const filtered = (await preview.locator('table tbody tr').allInnerTexts()).map((row) => row.split('\t').map((cell) => cell.trim())[2]);
    assert.deepEqual(filtered, ['asana_task_create']);
  });

  it('5b. a window reload keeps Ada signed in with her conversation', async () => {
    const { page } = session;
    await page.reload();
    await waitForWorkbench(page);
    // The side bar was on OnBehalf before the reload and comes back on it once the workbench has
    // restored it; right after the reload "View: Show OnBehalf" may not be in the palette yet.
    await page
      .locator('.part.sidebar .composite.title')
      .getByText('OnBehalf', { exact: false })
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 })
      .catch(() => undefined);
    await openOnBehalfView(page);
    // The extension host restarted and it is still Ada: the chat header and the status bar name her.
    await chat.locator('.header .identity', { hasText: 'Ada Lovelace' }).waitFor({ state: 'visible', timeout: 60_000 });
    assert.match(await waitForStatus(page, /OnBehalf: Ada Lovelace/), /Ada Lovelace/);
    // The chat is rebuilt from history stored under Ada's identity.
    await chat.locator('.msg-user', { hasText: TASK_REQUEST }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await chat.locator('.msg-assistant', { hasText: `Created the Asana task ${TASK_NAME}` }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    // The key saved before the reload is read once activation has returned (no change event
    // tells the new extension host): the chat does not ask for it again.
    await chat.locator('.blocker', { hasText: 'Set your Anthropic API key' }).waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
    await shots('after-reload');
  });

  it('5c. a reload while an answer streams keeps the question, says so, and Retry answers afresh', async () => {
    const { page, world } = session;
    const opening = 'Here is the long story of our launch, told slowly';
    const story = `${opening}. ${'Every week we shipped a little more, and every week the numbers moved. '.repeat(40)}`;
    world.anthropic.queue({ text: story, chunkSize: 8, delayMsPerChunk: 25 });
    await sendChat(page, LONG_QUESTION);
    await chat.locator('.msg-assistant', { hasText: opening }).waitFor({ state: 'visible', timeout: 30_000 });
    await page.waitForTimeout(800); // a few saves while it streams (at most one every 300 ms)
    await page.reload();
    await waitForWorkbench(page);
    await openOnBehalfView(page);
    await chat.locator('.msg-user', { hasText: LONG_QUESTION }).waitFor({ state: 'visible', timeout: 60_000 });
    const notice = chat.locator('.msg-error', { hasText: 'The reply was interrupted by a window reload.' });
    await notice.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    // What had arrived before the reload is still there, above the notice.
    await chat.locator('.msg-assistant', { hasText: opening }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await shots('interrupted-by-reload');
    world.anthropic.queue({ text: 'In short: the launch went well.' });
    await notice.getByRole('button', { name: 'Retry' }).click();
    await chat.locator('.msg-assistant', { hasText: 'In short: the launch went well.' }).waitFor({ state: 'visible', timeout: 30_000 });
    await waitForChatIdle(chat);
    assert.equal(await chat.locator('.msg-assistant', { hasText: opening }).count(), 0, 'the cut-off reply gave way to the new one');
    assert.equal(await chat.locator('.msg-user', { hasText: LONG_QUESTION }).count(), 1, 'the question is kept once');
    assert.equal(await notice.count(), 0);
  });

  it("6. Ada signs out; Grace signs in and sees none of Ada's conversations or connections", async () => {
    const { page } = session;
    // Ada's chat has a title before she leaves.
    const adaTitles = (await chat.locator('#conversation-select option').allTextContents()).filter((t) => t !== 'New chat');
    assert.ok(adaTitles.length > 0, 'Ada has at least one conversation in the switcher');
    await runCommand(page, 'View: Close All Editors');
    await expandPane(page, 'Connections');
    await signOut(page);
    await shots('signed-out');
    await signInAs(page, 'grace', shots);
    await waitForTreeRow(page, 'PostHog', /^Not connected yet$/);
    await waitForTreeRow(page, 'Asana', /^Not connected yet$/);
    await waitForStatus(page, /OnBehalf: Connect PostHog/);
    // The chat is Grace's: acting as Grace, empty, and no title of Ada's in the switcher.
    await chat.locator('.header .identity', { hasText: 'Grace Hopper' }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await chat.locator('.welcome', { hasText: 'Acting as Grace Hopper' }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    assert.equal(await chat.locator('.item-list .msg').count(), 0, 'no messages are shown to Grace');
    const graceTitles = await chat.locator('#conversation-select option').allTextContents();
    for (const title of adaTitles) assert.ok(!graceTitles.includes(title), `Grace's switcher shows Ada's "${title}"`);
    assert.equal(await chat.getByText(SIGNUPS_QUESTION).count(), 0);
    await shots('grace-signed-in-empty');
  });
});
