// Issue 3 as a person does it in the real workbench: sign in through the IdP's login page,
// paste the two keys into the extension's password input boxes, connect PostHog through the
// consent page, and watch the tree and the status bar follow.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eSession, type E2ESession } from '../harness/e2e-session';
import { identifierFor } from '../../src/core/identifier';
import {
  answerInputBox,
  connectFromTree,
  connectionsPane,
  dismissNotifications,
  ensureSignedOut,
  expandTreeRow,
  openOnBehalfView,
  openWalkthrough,
  runCommand,
  sendChat,
  setSecretThroughCommand,
  signInAs,
  stepShots,
  notification,
  treeDescription,
  treeRow,
  UI_TIMEOUT,
  waitForStatus,
  waitForStatusSettled,
  waitForChatIdle,
  waitForTreeRow,
  waitForWalkthroughTicks,
  waitForExpandedStep,
  walkthroughSlide,
  WALKTHROUGH_STEPS,
  WALKTHROUGH_TITLE,
  type Shots,
} from './helpers';

describe('connect (issue 3): sign in, keys, connect PostHog', function () {
  this.timeout(120_000);
  let session: E2ESession;
  let shots: Shots;

  /** Whether the walkthrough opened by itself on the first activation, before any command ran. */
  let openedByItself = false;

  before(async () => {
    session = await e2eSession();
    await session.waitForActivation(60_000);
    shots = stepShots(session.page, 'connect');
    openedByItself = await walkthroughSlide(session.page)
      .locator('h2', { hasText: WALKTHROUGH_TITLE })
      .waitFor({ state: 'visible', timeout: 30_000 })
      .then(
        () => true,
        () => false,
      );
    if (openedByItself) await shots('first-activation-walkthrough');
    // A clean start whatever ran before: nobody signed in, no accounts at the emulator.
    await ensureSignedOut(session.page);
    for (const user of ['ada', 'grace']) {
      for (const connection of ['posthog', 'asana']) session.world.scalekit.removeAccount(identifierFor('oidc', user, session.world.idp.issuer), connection);
    }
  });

  it('on the first activation the walkthrough opens by itself, on "Sign in", beside the OnBehalf view', async () => {
    const { page } = session;
    assert.ok(openedByItself, 'the walkthrough was not open 30 s after the extension activated');
    assert.equal(await waitForExpandedStep(walkthroughSlide(page), 'signIn'), 'signIn');
    await page.locator('.part.sidebar .composite.title').getByText('OnBehalf', { exact: false }).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  });

  it('the walkthrough "Get started with OnBehalf" has five unticked steps before anyone signs in', async () => {
    const { page } = session;
    const slide = await openWalkthrough(page);
    const none = Object.fromEntries(WALKTHROUGH_STEPS.map((step) => [step, false]));
    assert.deepEqual(await waitForWalkthroughTicks(slide, none), none);
    const titles = await slide.locator('.getting-started-step h3.step-title').allTextContents();
    assert.deepEqual(
      titles.map((t) => t.trim()),
      ['Sign in', 'Set keys', 'Connect PostHog', 'Connect Asana', 'Ask your first question'],
    );
    await shots('walkthrough-unticked');
    // Left open: the next steps watch it move on as each step ticks.
  });

  it('signs in as Ada from the Connections welcome view through the IdP login page', async () => {
    const { page } = session;
    await openOnBehalfView(page);
    await connectionsPane(page).getByRole('button', { name: 'Sign In', exact: true }).waitFor({ state: 'visible' });
    assert.match(await waitForStatusSettled(page), /OnBehalf: Sign in/);
    await shots('signed-out-welcome');
    await signInAs(page, 'ada', shots);
    const identity = await waitForTreeRow(page, /^Signed in as Ada Lovelace/);
    assert.match((await identity.textContent()) ?? '', /ada@example\.com/);
    assert.ok(
      session.world.idp.issued.codes.some((c) => c.sub === 'ada' && c.used),
      'the IdP issued and saw redeemed a code for Ada',
    );
    await shots('signed-in-needs-keys');
    // The walkthrough ticked "Sign in" and moved on to the next step by itself.
    assert.equal(await waitForExpandedStep(walkthroughSlide(page), 'setKeys'), 'setKeys');
    await shots('walkthrough-moved-on-to-keys');
    // Closed before the keys are typed: the page focuses its step media as it loads, and a
    // password box that loses focus mid-value would take part of a key.
    await runCommand(page, 'View: Close All Editors');
  });

  it('takes the Scalekit client secret and the Anthropic key through password input boxes', async () => {
    const { page, world } = session;
    await waitForStatus(page, /Set keys/);
    await setSecretThroughCommand(session, 'OnBehalf: Set Scalekit Client Secret', world.demoKeys.scalekitClientSecret, shots, 'scalekit-secret-input');
    // With the secret the connections load: both are not connected yet.
    await waitForTreeRow(page, 'PostHog', /^Not connected yet$/);
    await waitForTreeRow(page, 'Asana', /^Not connected yet$/);
    await setSecretThroughCommand(session, 'OnBehalf: Set Anthropic API Key', world.demoKeys.anthropicApiKey ?? '', shots, 'anthropic-key-input');
    await waitForStatus(page, /OnBehalf: Connect PostHog/);
    // The secrets went to SecretStorage only: neither is in the user settings file.
    const settingsText = readFileSync(join(session.server.userDataDir, 'User', 'settings.json'), 'utf8');
    assert.match(settingsText, /"onbehalf\.scalekit\.clientId"/);
    for (const secret of [world.demoKeys.scalekitClientSecret, world.demoKeys.anthropicApiKey ?? '']) {
      assert.ok(secret.length > 0 && !settingsText.includes(secret), 'a key was written to settings.json');
    }
    await shots('keys-set-connect-posthog');
  });

  it('a wrong Anthropic key is refused with a clear message, and the stored key is kept', async () => {
    const { page, world } = session;
    const logBefore = world.anthropic.log.length;
    await dismissNotifications(page);
    await runCommand(page, 'OnBehalf: Set Anthropic API Key');
    // A key is already stored, so this is a rotation.
    await answerInputBox(page, /^Rotate Anthropic API Key$/, 'sk-ant-not-a-real-key-0000', { password: true });
    const refusal = notification(page, /Your previous value is kept/);
    await refusal.first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    assert.match((await refusal.first().textContent()) ?? '', /Anthropic/i);
    await page.waitForTimeout(400); // the toast slides in; a settled screenshot reads better
    await shots('wrong-key-refused');
    // The check reached the (emulated) service, which refused the key, and the keys still count as set.
    const refusals = world.anthropic.log.slice(logBefore).filter((entry) => entry.path === '/v1/models' && entry.status === 401);
    assert.ok(refusals.length > 0, `the service refused the wrong key (answers since: ${JSON.stringify(world.anthropic.log.slice(logBefore))})`);
    assert.match(await waitForStatusSettled(page), /OnBehalf: Connect PostHog/);
    await dismissNotifications(page);
  });

  it('connects PostHog through the consent page; the tree says "Connected · 199 tools" and the status bar moves on to Asana', async () => {
    const { page, world } = session;
    const description = await connectFromTree(page, 'PostHog', shots);
    assert.equal(description, 'Connected · 199 tools');
    assert.equal(world.scalekit.getAccount(identifierFor('oidc', 'ada', world.idp.issuer), 'posthog')?.status, 'ACTIVE');
    assert.equal(await treeDescription(treeRow(page, 'Asana')), 'Not connected yet');
    assert.match(await waitForStatus(page, /OnBehalf: Connect Asana/), /Connect Asana/);
    // The connected account lists its tools grouped by risk.
    const posthog = treeRow(page, 'PostHog');
    await expandTreeRow(posthog);
    const groups = await Promise.all(['Read', 'Write', 'Destructive'].map((g) => waitForTreeRow(page, g, /^\d+$/).then(treeDescription)));
    assert.equal(
      groups.map(Number).reduce((a, b) => a + b, 0),
      199,
      `risk groups ${groups.join('/')} add up to the tool count`,
    );
    await shots('posthog-connected');
  });

  it('the kept Anthropic key still answers: a chat message after the refusal gets a reply', async () => {
    const { page, world } = session;
    await dismissNotifications(page);
    const requestsBefore = world.anthropic.requests.length;
    const chat = await sendChat(page, 'Hello, who am I talking to?');
    await waitForChatIdle(chat);
    const reply = chat.locator('.item-list > .msg-assistant').last();
    await reply.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    assert.ok(((await reply.textContent()) ?? '').trim().length > 0, 'the reply has text');
    assert.equal(await chat.locator('.item-list .msg-error').count(), 0, 'the chat shows no error');
    const sent = world.anthropic.requests.slice(requestsBefore).filter((r) => r.path === '/v1/messages');
    assert.ok(sent.length > 0, 'the chat reached the (emulated) Anthropic API');
    for (const request of sent) assert.equal(request.apiKey, world.demoKeys.anthropicApiKey, 'the chat used the stored key, not the refused one');
    await shots('chat-after-refused-key');
  });
});
