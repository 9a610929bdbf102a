import * as assert from 'node:assert/strict';
import {
  appendUserText,
  lastTurnHasRetryableFailure,
  newConversation,
  parseStoredConversation,
  rewindToLastUserMessage,
  settleInterruptedItems,
} from '../../../src/agent/conversation';

describe('conversations on disk', () => {
  it('joins text after tool results into the same user turn, so roles alternate', () => {
    const c = newConversation('c', 1);
    appendUserText(c, 'first', 'u1', 2);
    c.messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'x', input: {} }] });
    c.messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] });
    appendUserText(c, 'second', 'u2', 3);
    assert.equal(c.messages.length, 3);
    assert.deepEqual(
      (c.messages[2]!.content as { type: string }[]).map((b) => b.type),
      ['tool_result', 'text'],
    );
    assert.equal(c.title, 'first');
    assert.equal(c.updatedAt, 3);
  });

  it('reads back what it saved, and refuses damaged or foreign files', () => {
    const c = newConversation('abc', 1);
    appendUserText(c, 'hello', 'u1', 2);
    const back = parseStoredConversation(JSON.stringify(c));
    assert.deepEqual(back, c);
    for (const bad of [
      '',
      '{',
      'null',
      '[]',
      JSON.stringify({ ...c, messages: 'nope' }),
      JSON.stringify({ ...c, items: [{ kind: 'script', id: 'x' }] }),
      JSON.stringify({ ...c, id: '' }),
    ]) {
      assert.equal(parseStoredConversation(bad), undefined, bad.slice(0, 40));
    }
  });

  it('settles a conversation interrupted by a window reload mid-stream and mid-tool', () => {
    const c = newConversation('c', 1);
    appendUserText(c, 'go', 'u1', 2);
    c.messages.push({
      role: 'assistant',
      content: [
        { type: 'text', text: 'calling' },
        { type: 'tool_use', id: 't1', name: 'asana_task_create', input: {} },
      ],
    });
    c.items.push({ kind: 'assistant', id: 'a1', markdown: 'call', streaming: true });
    c.items.push({
      kind: 'tool',
      id: 't1',
      card: { toolUseId: 't1', toolName: 'asana_task_create', connection: 'asana', risk: 'write', input: '{}', status: 'awaitingApproval' },
    });
    const reloaded = parseStoredConversation(JSON.stringify(c))!;
    settleInterruptedItems(reloaded);
    const assistant = reloaded.items.find((i) => i.id === 'a1')!;
    assert.ok(assistant.kind === 'assistant' && !assistant.streaming);
    const tool = reloaded.items.find((i) => i.id === 't1')!;
    assert.ok(tool.kind === 'tool' && tool.card.status === 'cancelled' && /reload/.test(tool.card.error ?? ''));
    const last = reloaded.messages.at(-1)!;
    assert.equal(last.role, 'user');
    assert.deepEqual(last.content, [
      { type: 'tool_result', tool_use_id: 't1', is_error: true, content: 'Interrupted: the window reloaded before this call finished.' },
    ]);
    // The user is told, and offered Retry.
    const notice = reloaded.items.at(-1)!;
    assert.ok(
      notice.kind === 'error' && notice.retryable && notice.interrupted === true && /interrupted by a window reload/.test(notice.message),
      JSON.stringify(notice),
    );
    // Settling twice changes nothing more.
    const once = JSON.stringify(reloaded);
    settleInterruptedItems(reloaded);
    assert.equal(JSON.stringify(reloaded), once);
  });

  it('a question with no reply yet is interrupted too; a finished conversation is left alone', () => {
    const waiting = newConversation('w', 1);
    appendUserText(waiting, 'still there?', 'u1', 2);
    settleInterruptedItems(waiting);
    assert.deepEqual(
      waiting.items.map((i) => i.kind),
      ['user', 'error'],
    );
    const done = newConversation('d', 1);
    appendUserText(done, 'hi', 'u1', 2);
    done.messages.push({ role: 'assistant', content: [{ type: 'text', text: 'hello' }] });
    done.items.push({ kind: 'assistant', id: 'a1', markdown: 'hello', streaming: false });
    const before = JSON.stringify(done);
    settleInterruptedItems(done);
    assert.equal(JSON.stringify(done), before);
  });

  it("rewinds to the user's last message for a retry, keeping it and everything before", () => {
    const conversation = newConversation('c', 1);
    appendUserText(conversation, 'first question', 'u1', 1);
    conversation.messages.push({ role: 'assistant', content: [{ type: 'text', text: 'first answer' }] });
    conversation.items.push({ kind: 'assistant', id: 'a1', markdown: 'first answer', streaming: false });
    appendUserText(conversation, 'which workspaces?', 'u2', 2);
    conversation.messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'asana_workspaces_list', input: {} }] });
    conversation.messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'unreachable', is_error: true }] });
    conversation.messages.push({ role: 'assistant', content: [{ type: 'text', text: 'Scalekit is down.' }] });
    conversation.items.push({
      kind: 'tool',
      id: 't1',
      card: {
        toolUseId: 'toolu_1',
        toolName: 'asana_workspaces_list',
        connection: 'asana',
        risk: 'read',
        input: '{}',
        status: 'failed',
        error: 'unreachable',
        retryable: true,
      },
    });
    conversation.items.push({ kind: 'assistant', id: 'a2', markdown: 'Scalekit is down.', streaming: false });
    assert.equal(lastTurnHasRetryableFailure(conversation), true);
    assert.equal(rewindToLastUserMessage(conversation), true);
    assert.deepEqual(
      conversation.items.map((i) => i.id),
      ['u1', 'a1', 'u2'],
    );
    assert.equal(conversation.messages.length, 3);
    assert.deepEqual(conversation.messages.at(-1), { role: 'user', content: [{ type: 'text', text: 'which workspaces?' }] });
    assert.equal(lastTurnHasRetryableFailure(conversation), false, 'nothing left to retry');
    assert.equal(rewindToLastUserMessage(newConversation('empty', 1)), false);
  });
});
