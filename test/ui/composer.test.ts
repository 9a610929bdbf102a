// The composer, header and banner, driven as a person would.
import { strict as assert } from 'node:assert';
import { clearPosted, deliver, posted, postedOfType, settle, waitForPosted, type ChatPage, useChatPage } from './helpers';
import { stateMsg } from './states';

describe('chat webview: composer, header, banner', function () {
  const view = useChatPage();
  let chat: ChatPage;
  beforeEach(() => {
    chat = view.chat;
  });

  it('posts ready first, acquiring the VS Code API once', async () => {
    const all = await posted(chat.page);
    assert.deepEqual(all[0], { type: 'ready' });
    assert.equal(await chat.page.evaluate('window.__acquired'), 1);
  });

  it('Enter sends the text and clears the box; blank text is not sent', async () => {
    await deliver(chat.page, stateMsg());
    const box = chat.page.getByRole('textbox', { name: /Message OnBehalf/ });
    await box.click();
    await box.press('Enter');
    await box.pressSequentially('   ');
    await box.press('Enter');
    assert.equal((await postedOfType(chat.page, 'send')).length, 0, 'blank text must not be sent');
    await box.fill('');
    await box.pressSequentially('How many signups yesterday?');
    await box.press('Enter');
    const send = await waitForPosted(chat.page, 'send');
    assert.deepEqual(send, { type: 'send', text: 'How many signups yesterday?' });
    assert.equal(await box.inputValue(), '');
  });

  it('a suggested question is sent when clicked; while busy it waits in the box', async () => {
    await deliver(chat.page, stateMsg({ items: [] }));
    const suggestion = chat.page.getByRole('button', { name: 'List my open Asana tasks due this week' });
    await suggestion.click();
    assert.deepEqual(await waitForPosted(chat.page, 'send'), { type: 'send', text: 'List my open Asana tasks due this week' });
    const box = chat.page.getByRole('textbox', { name: /Message OnBehalf/ });
    assert.equal(await box.inputValue(), '');
    await deliver(chat.page, stateMsg({ items: [], busy: true }));
    await chat.page.getByRole('button', { name: /since Monday/ }).click();
    assert.equal((await postedOfType(chat.page, 'send')).length, 1, 'nothing is sent while a reply runs');
    assert.equal(await box.inputValue(), 'Which PostHog insights were edited since Monday?');
  });

  it('Shift+Enter inserts a newline instead of sending', async () => {
    await deliver(chat.page, stateMsg());
    const box = chat.page.getByRole('textbox', { name: /Message OnBehalf/ });
    await box.click();
    await box.pressSequentially('line one');
    await box.press('Shift+Enter');
    await box.pressSequentially('line two');
    assert.equal(await box.inputValue(), 'line one\nline two');
    assert.equal((await postedOfType(chat.page, 'send')).length, 0);
    await chat.page.getByRole('button', { name: 'Send' }).click();
    assert.deepEqual(await waitForPosted(chat.page, 'send'), { type: 'send', text: 'line one\nline two' });
  });

  it('while busy: Send is disabled, the text is kept, Stop (and Escape) post stop', async () => {
    await deliver(chat.page, stateMsg({ busy: true }));
    await settle(chat.page);
    const box = chat.page.getByRole('textbox', { name: /Message OnBehalf/ });
    await box.click();
    await box.pressSequentially('next question');
    await box.press('Enter');
    assert.equal((await postedOfType(chat.page, 'send')).length, 0, 'must not send while busy');
    assert.equal(await box.inputValue(), 'next question');
    assert.equal(await chat.page.getByRole('button', { name: 'Send' }).isDisabled(), true);
    await chat.page.getByRole('button', { name: 'Stop' }).click();
    await waitForPosted(chat.page, 'stop');
    await box.press('Escape');
    await chat.page.waitForFunction(() => (globalThis as unknown as { __posted: { type: string }[] }).__posted.filter((m) => m.type === 'stop').length === 2);
    // Turn over: Stop disappears and the kept text can be sent.
    await deliver(chat.page, { type: 'busy', busy: false });
    await chat.page.getByRole('button', { name: 'Stop' }).waitFor({ state: 'hidden' });
    await box.press('Enter');
    assert.deepEqual(await waitForPosted(chat.page, 'send'), { type: 'send', text: 'next question' });
  });

  it('restores the draft the host supplies, and keeps the typed draft across a reload (setState)', async () => {
    await deliver(chat.page, stateMsg({ draft: 'failed to send this' }));
    const box = chat.page.getByRole('textbox', { name: /Message OnBehalf/ });
    await chat.page.waitForFunction(() => {
      const ta = (globalThis as unknown as { document: { querySelector(s: string): { value: string } | null } }).document.querySelector('textarea');
      return ta?.value === 'failed to send this';
    });
    // The same draft again must not clobber what the user typed since.
    await box.fill('something new');
    await deliver(chat.page, stateMsg({ draft: 'failed to send this' }));
    await settle(chat.page);
    assert.equal(await box.inputValue(), 'something new');

    await box.fill('half-written thought');
    await chat.page.reload();
    await chat.page.waitForSelector('body[data-onbehalf="loaded"]');
    assert.equal(await chat.page.getByRole('textbox', { name: /Message OnBehalf/ }).inputValue(), 'half-written thought');
  });

  it('a rejected send gives the text back and says why', async () => {
    await deliver(chat.page, stateMsg());
    const box = chat.page.getByRole('textbox', { name: /Message OnBehalf/ });
    await box.click();
    await box.pressSequentially('please do it');
    await box.press('Enter');
    await waitForPosted(chat.page, 'send');
    assert.equal(await box.inputValue(), '');
    await deliver(chat.page, { type: 'rejected', reason: 'Sign in first.' });
    await chat.page.getByText('Sign in first.').waitFor();
    assert.equal(await box.inputValue(), 'please do it');
  });

  it('header: identity, sandbox label, usage meter', async () => {
    await deliver(
      chat.page,
      stateMsg({
        sandboxModel: true,
        usage: { inputTokens: 12_345, outputTokens: 678, cacheReadTokens: 9_000, cacheWriteTokens: 1_000, estimatedCostUsd: 0.0734 },
      }),
    );
    await chat.page.locator('.identity', { hasText: 'ada@example.com' }).waitFor();
    assert.equal(await chat.page.getByText('Sandbox model').isVisible(), true);
    const usage = (await chat.page.locator('.usage').textContent()) ?? '';
    assert.match(usage, /12\.3k in/);
    assert.match(usage, /678 out/);
    assert.match(usage, /10k cache/);
    assert.match(usage, /free \(sandbox\)/, 'the sandbox costs nothing');
    assert.doesNotMatch(usage, /\$/);
    await deliver(
      chat.page,
      stateMsg({ sandboxModel: true, usage: { inputTokens: 20_000, outputTokens: 1_000, cacheReadTokens: 0, cacheWriteTokens: 0, estimatedCostUsd: 0.09 } }),
    );
    await chat.page.locator('.usage', { hasText: '20k in' }).waitFor();
    await deliver(
      chat.page,
      stateMsg({ sandboxModel: false, usage: { inputTokens: 12_345, outputTokens: 678, cacheReadTokens: 0, cacheWriteTokens: 0, estimatedCostUsd: 0.0734 } }),
    );
    await chat.page.getByText('Sandbox model').waitFor({ state: 'hidden' });
    assert.match((await chat.page.locator('.usage').textContent()) ?? '', /est\. \$0\.07/, 'a real model shows an estimate');
    assert.match((await chat.page.locator('.usage').getAttribute('title')) ?? '', /an estimate, not a bill/);
  });

  it('conversation switcher: new, switch, delete with confirm', async () => {
    await deliver(
      chat.page,
      stateMsg({
        conversations: [
          { id: 'c1', title: 'Signups last week', updatedAt: 2 },
          { id: 'c2', title: 'Asana sprint tasks', updatedAt: 1 },
        ],
        activeConversationId: 'c1',
      }),
    );
    await settle(chat.page);
    await chat.page.getByRole('button', { name: 'New chat' }).click();
    await waitForPosted(chat.page, 'newConversation');
    await chat.page.getByRole('combobox', { name: 'Conversation' }).selectOption('c2');
    assert.deepEqual(await waitForPosted(chat.page, 'switchConversation'), { type: 'switchConversation', conversationId: 'c2' });

    await clearPosted(chat.page);
    await chat.page.getByRole('button', { name: 'Delete this conversation' }).click();
    await chat.page.getByText('Delete Signups last week?').waitFor();
    await chat.page.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await postedOfType(chat.page, 'deleteConversation')).length, 0, 'cancel must not delete');
    await chat.page.getByRole('button', { name: 'Delete this conversation' }).click();
    await chat.page.getByRole('button', { name: 'Delete', exact: true }).click();
    assert.deepEqual(await waitForPosted(chat.page, 'deleteConversation'), { type: 'deleteConversation', conversationId: 'c1' });
  });

  it('blocker banner buttons post runCommand / connect', async () => {
    await deliver(chat.page, stateMsg({ identityLabel: null, blocker: { kind: 'signIn', message: 'Sign in so the agent can act as you.' } }));
    await chat.page.getByText('Sign in so the agent can act as you.').waitFor();
    await chat.page.getByRole('button', { name: 'Sign in' }).click();
    assert.deepEqual(await waitForPosted(chat.page, 'runCommand'), { type: 'runCommand', command: 'signIn' });

    await deliver(chat.page, stateMsg({ blocker: { kind: 'setAnthropicKey', message: 'Add your Anthropic API key.' } }));
    await chat.page.getByRole('button', { name: 'Set Anthropic API key' }).click();
    await chat.page.waitForFunction(() =>
      (globalThis as unknown as { __posted: { type: string; command?: string }[] }).__posted.some((m) => m.command === 'setAnthropicKey'),
    );

    await deliver(chat.page, stateMsg({ blocker: { kind: 'connect', message: 'Connect PostHog to query insights.', connection: 'posthog' } }));
    await chat.page.getByRole('button', { name: 'Connect PostHog' }).click();
    assert.deepEqual(await waitForPosted(chat.page, 'connect'), { type: 'connect', connection: 'posthog', reauthorize: false });

    await deliver(chat.page, stateMsg({ blocker: null }));
    await chat.page.getByText('Connect PostHog to query insights.').waitFor({ state: 'hidden' });
  });

  it('"Jump to latest" appears only when messages lie below, never over the welcome', async () => {
    const jump = chat.page.getByRole('button', { name: 'Jump to latest message' });
    // A short view: the welcome with a blocker banner overflows, but it has no "latest".
    await chat.page.setViewportSize({ width: 300, height: 320 });
    await deliver(
      chat.page,
      stateMsg({ items: [], blocker: { kind: 'connect', message: 'Connect PostHog so the agent can query your insights.', connection: 'posthog' } }),
    );
    await settle(chat.page);
    await chat.page.locator('.messages').evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    await settle(chat.page);
    assert.equal(await jump.isVisible(), false, 'no jump arrow over the welcome');
    // A long conversation scrolled to the top: the arrow offers the way back down.
    const items = Array.from({ length: 30 }, (_, i) => ({
      kind: 'assistant' as const,
      id: `a${i}`,
      markdown: `Answer number ${i}, long enough to take a line or two of the view.`,
      streaming: false,
    }));
    await deliver(chat.page, stateMsg({ items }));
    await settle(chat.page);
    await chat.page.locator('.messages').evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    await jump.waitFor({ state: 'visible', timeout: 5_000 });
    await jump.click();
    await jump.waitFor({ state: 'hidden', timeout: 5_000 });
    await chat.page.setViewportSize({ width: 420, height: 820 });
  });

  it('ignores unknown or malformed host messages without throwing', async () => {
    for (const junk of [
      null,
      42,
      'state',
      {},
      { type: 'bogus' },
      { type: 'state', state: 5 },
      { type: 'state', state: { items: 'x' } },
      { type: 'item', item: { kind: 'weird', id: 'x' } },
      { type: 'item' },
      { type: 'textDelta' },
      { type: 'textDelta', itemId: 3, text: 'x' },
      { type: 'busy', busy: 'yes' },
      { type: 'usage', usage: null },
      { type: 'rejected' },
      { type: 'state', state: { items: [{ kind: 'user' }, null], conversations: [], usage: { inputTokens: 0, outputTokens: 0 } } },
    ]) {
      await chat.page.evaluate((d) => (globalThis as unknown as { postMessage(d: unknown, o: string): void }).postMessage(d, '*'), junk);
    }
    await settle(chat.page);
    await deliver(chat.page, stateMsg({ items: [{ kind: 'user', id: 'u1', text: 'still alive?' }] }));
    await chat.page.getByText('still alive?').waitFor();
  });
});
