import * as assert from 'node:assert/strict';
import { runAgentTurn } from '../../../src/agent/agentLoop';
import { parseStoredConversation } from '../../../src/agent/conversation';
import { ask, startAgentWorld, type AgentWorld } from './fixture';

// Replies and errors the real Messages API gives that the loop must survive: the emulator
// answers as the API does (see its comments for the sources), the loop must not get stuck.

describe('agent loop against what the real Messages API answers', function () {
  this.timeout(30_000);
  let world: AgentWorld;
  beforeEach(async () => {
    world = await startAgentWorld();
  });
  afterEach(async () => {
    await world.close();
  });

  const turn = () => runAgentTurn(world.conversation, world.deps(), new AbortController().signal);
  const lastItem = () => world.conversation.items.at(-1)!;

  it('never replays a whitespace-only text block, so the next request is accepted', async () => {
    world.conversation.loadedTools = ['asana_workspaces_list'];
    world.anthropic.queue({ text: '\n\n', toolUse: { name: 'asana_workspaces_list', input: {} } }, { text: 'One workspace.' });
    ask(world, 'Which workspaces?');
    assert.equal(await turn(), 'completed');
    assert.equal(world.anthropic.requests[1]!.status, 200, 'the second request was accepted');
    world.anthropic.queue({ text: 'Still here.' });
    ask(world, 'And now?');
    assert.equal(await turn(), 'completed');
    assert.equal(world.anthropic.requests.at(-1)!.status, 200);
  });

  it('a conversation saved with a blank reply before the fix loads without it, so it is not stuck', async () => {
    world.conversation.loadedTools = ['asana_workspaces_list'];
    ask(world, 'Which workspaces?');
    world.conversation.messages.push({ role: 'assistant', content: [{ type: 'text', text: '\n\n' }] });
    world.conversation.messages.push({ role: 'user', content: [{ type: 'text', text: 'Hello?' }] });
    const loaded = parseStoredConversation(JSON.stringify(world.conversation));
    assert.ok(loaded);
    assert.ok(!JSON.stringify(loaded.messages).includes('\\n\\n'), 'the blank block is gone');
    world.conversation = loaded;
    world.anthropic.queue({ text: 'Hello again.' });
    assert.equal(await turn(), 'completed');
    assert.equal(world.anthropic.requests.at(-1)!.status, 200);
  });

  it('keeps thinking blocks with their signatures before tool_use, as the API requires', async () => {
    world.conversation.loadedTools = ['asana_workspaces_list'];
    world.anthropic.queue({ thinking: 'The user wants workspaces.', toolUse: { name: 'asana_workspaces_list', input: {} } }, { text: 'One workspace.' });
    ask(world, 'Which workspaces?');
    assert.equal(await turn(), 'completed');
    const second = world.anthropic.requests[1]!;
    assert.equal(second.status, 200, 'the request after the tool call was accepted');
    const assistant = second.body.messages.at(-2)!;
    const blocks = assistant.content as { type: string; signature?: string }[];
    assert.equal(blocks[0]!.type, 'thinking');
    assert.match(String(blocks[0]!.signature), /^sig_/);
  });

  it('an unknown model id says which setting to change and offers no Retry', async () => {
    ask(world, 'hi');
    const outcome = await runAgentTurn(world.conversation, world.deps({ model: 'claude-retired-1' }), new AbortController().signal);
    assert.equal(outcome, 'error');
    const last = lastItem();
    assert.ok(last.kind === 'error', JSON.stringify(last));
    assert.equal(last.retryable, false);
    assert.match(last.message, /claude-retired-1/);
    assert.match(last.message, /onbehalf\.model/);
  });

  it('a request the API rejects (400, 413) is explained, not called "unreachable", and offers no Retry', async () => {
    world.anthropic.queue({ error: 400, message: 'prompt is too long: 250000 tokens > 200000 maximum' });
    ask(world, 'hi');
    assert.equal(await turn(), 'error');
    let last = lastItem();
    assert.ok(last.kind === 'error', JSON.stringify(last));
    assert.equal(last.retryable, false);
    assert.doesNotMatch(last.message, /unreachable|network/i);
    assert.match(last.message, /too long/i);
    assert.match(last.message, /new (chat|conversation)/i);

    world.anthropic.queue({ error: 413, errorType: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' });
    ask(world, 'again');
    assert.equal(await turn(), 'error');
    last = lastItem();
    assert.ok(last.kind === 'error' && !last.retryable && /too large/i.test(last.message), JSON.stringify(last));
  });

  it('a refusal says so and the next message starts from a context the API accepts', async () => {
    ask(world, 'Something the model refuses');
    world.anthropic.queue({ text: 'I can', stopReason: 'refusal' });
    const before = world.conversation.messages.length;
    assert.equal(await turn(), 'completed');
    const last = lastItem();
    assert.ok(last.kind === 'notice' && /declined/i.test(last.text), JSON.stringify(last));
    assert.ok(world.conversation.messages.length < before, 'the turn that caused the refusal is not sent again');
    world.anthropic.queue({ text: 'Sure, here is something else.' });
    ask(world, 'Something else');
    assert.equal(await turn(), 'completed');
    const sent = world.anthropic.requests.at(-1)!.body.messages;
    assert.ok(!JSON.stringify(sent).includes('Something the model refuses'), 'the refused prompt is not replayed');
  });

  it('says when a reply was cut at max_tokens or by the context window', async () => {
    world.anthropic.queue({ text: 'A long answer that', stopReason: 'max_tokens' });
    ask(world, 'long please');
    assert.equal(await turn(), 'completed');
    let last = lastItem();
    assert.ok(last.kind === 'notice' && /maximum length/i.test(last.text) && /continue/i.test(last.text), JSON.stringify(last));

    world.anthropic.queue({ text: 'Out of room', stopReason: 'model_context_window_exceeded' });
    ask(world, 'more');
    assert.equal(await turn(), 'completed');
    last = lastItem();
    assert.ok(last.kind === 'notice' && /context window/i.test(last.text) && /new chat/i.test(last.text), JSON.stringify(last));
  });

  it('a rate limit says how long it waits and retries by itself; Stop ends the wait', async () => {
    world.anthropic.queue({ error: 429, retryAfter: 1 }, { text: 'Here you go.' });
    ask(world, 'hello');
    const started = Date.now();
    assert.equal(await turn(), 'completed');
    assert.ok(Date.now() - started >= 900, 'it waited the retry-after');
    const notice = world.conversation.items.find((item) => item.kind === 'notice');
    assert.ok(notice && notice.kind === 'notice' && /rate limit/i.test(notice.text) && /1 s/.test(notice.text), JSON.stringify(notice));
    assert.equal(world.anthropic.requests.length, 2);

    world.anthropic.queue({ error: 429, retryAfter: 30 });
    ask(world, 'again');
    const stop = new AbortController();
    const running = runAgentTurn(world.conversation, world.deps(), stop.signal);
    while (!world.conversation.items.some((item) => item.kind === 'notice' && /30 s/.test(item.text))) await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    assert.equal(await running, 'stopped');
  });

  it('a passing 5xx is retried visibly too, as the SDK would have retried it', async () => {
    world.anthropic.queue({ error: 500, retryAfter: 0 }, { text: 'Back.' });
    ask(world, 'hello');
    assert.equal(await turn(), 'completed');
    assert.ok(world.conversation.items.some((item) => item.kind === 'notice' && /overloaded or unreachable/.test(item.text)));
    assert.deepEqual(
      world.anthropic.requests.map((r) => r.status),
      [500, 200],
    );
  });

  it('a wait longer than a minute is not sat through silently: it is an error with Retry', async () => {
    world.anthropic.queue({ error: 429, retryAfter: 600 });
    ask(world, 'hello');
    const started = Date.now();
    assert.equal(await turn(), 'error');
    assert.ok(Date.now() - started < 5_000, 'it did not wait ten minutes');
    const last = lastItem();
    assert.ok(last.kind === 'error' && last.retryable && /10 min|600 s/.test(last.message), JSON.stringify(last));
  });
});
