// A tool card shows how long the call ran, and the wait for approval apart from it.
import { strict as assert } from 'node:assert';
import { deliver, type ChatPage, useChatPage } from './helpers';
import { stateMsg, toolItem } from './states';

describe('chat webview: tool card timing', function () {
  const view = useChatPage();
  let chat: ChatPage;
  beforeEach(() => {
    chat = view.chat;
  });

  it('an approved call that ran in 40 ms after a 6.8 s wait shows "40 ms", and "waited 6.8 s for approval" apart', async () => {
    const card = toolItem({ toolName: 'asana_task_create', connection: 'asana', risk: 'write', output: '{"gid":"1"}', durationMs: 40, approvalWaitMs: 6_753 });
    await deliver(chat.page, stateMsg({ items: [card] }));
    const el = chat.page.locator('.tool-card');
    await el.waitFor();
    assert.equal(await el.locator('.tool-duration').textContent(), '40 ms');
    assert.equal(await el.locator('.tool-duration').getAttribute('title'), 'Ran in 40 ms; waited 6.8 s for approval');
    await el.locator('summary').click();
    assert.equal(await el.locator('.tool-timing').textContent(), 'Ran in 40 ms; waited 6.8 s for approval.');
    assert.equal(await el.locator('.tool-timing').isVisible(), true);
  });

  it('a call that nobody had to approve shows its duration and no wait', async () => {
    await deliver(chat.page, stateMsg({ items: [toolItem({ output: '{}', durationMs: 120 })] }));
    const el = chat.page.locator('.tool-card');
    await el.waitFor();
    assert.equal(await el.locator('.tool-duration').textContent(), '120 ms');
    await el.locator('summary').click();
    assert.equal(await el.locator('.tool-timing').count(), 0);
  });
});
