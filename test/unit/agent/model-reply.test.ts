import * as assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type { Tool } from '@anthropic-ai/sdk/resources/messages';

type MessageStreamParams = Anthropic.Messages.MessageStreamParams;
import { appendUserText, newConversation } from '../../../src/agent/conversation';
import { ModelReply, requestBody, requestReplyEvents } from '../../../src/agent/modelReply';
import { withHistoryBreakpoint } from '../../../src/agent/toolContext';
import { startAnthropicEmulator, type AnthropicEmulator } from '../../emulators/anthropic/server';
import type { ReplyTurn } from '../../emulators/anthropic/types';

// The agent loop builds each reply from the raw event stream (src/agent/modelReply.ts). The
// reference is the SDK's own MessageStream: the same scripted reply, streamed both ways by
// the real SDK against the emulator, must come out as the same message.

const KEY = 'sk-ant-model-reply-test';
const MODEL = 'claude-sonnet-4-6';
const queryRunTool: Tool = {
  name: 'posthogmcp_query_run',
  description: 'Run a trend, funnel, paths or HogQL query against PostHog.',
  input_schema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
};

describe('model reply from the raw event stream', () => {
  let emu: AnthropicEmulator;
  let client: Anthropic;
  before(async () => {
    emu = await startAnthropicEmulator({ apiKeys: [KEY] });
    client = new Anthropic({ apiKey: KEY, baseURL: emu.url, maxRetries: 0 });
  });
  after(() => emu.close());
  beforeEach(() => emu.reset());

  /**
   * The message as the loop reads it, without what differs per reply: its id and a thinking
   * block's signature (checked apart), and the SDK's non-enumerable-on-blocks parsed_output.
   */
  const comparable = (message: Anthropic.Messages.Message) => {
    const { id: _id, parsed_output: _parsed, ...rest } = JSON.parse(JSON.stringify(message)) as Anthropic.Messages.Message & { parsed_output?: unknown };
    const content = rest.content.map((block) => {
      if (block.type !== 'thinking') return block;
      assert.match(block.signature, /^sig_[\w-]{16}$/, 'the signature arrived whole');
      return { ...block, signature: 'checked' };
    });
    return { ...rest, content };
  };

  async function bothWays(turn: ReplyTurn, params: MessageStreamParams) {
    emu.queue(turn);
    emu.queue(turn);
    const bySdk = await client.messages.stream(params).finalMessage();
    const reply = new ModelReply();
    for await (const event of await requestReplyEvents(client, params, new AbortController().signal)) reply.add(event);
    return { bySdk: comparable(bySdk), ours: comparable(reply.message()) };
  }

  const cases: { title: string; turn: ReplyTurn; tools?: MessageStreamParams['tools'] }[] = [
    { title: 'text in many deltas', turn: { text: 'Hello from the emulator. This answer arrives in pieces.', chunkSize: 5 } },
    {
      title: 'thinking with its signature, text, and two tool calls with streamed inputs',
      turn: {
        thinking: 'The user wants signups; run the trends query, then one more.',
        text: 'Let me look.',
        toolUse: [
          { id: 'toolu_first', name: 'posthogmcp_query_run', input: { query: 'signups per day over the last fourteen days, by country' } },
          { id: 'toolu_second', name: 'posthogmcp_query_run', input: { query: 'x', nested: { list: [1, 2, { deep: 'yes' }] } } },
        ],
        chunkSize: 4,
      },
      tools: [queryRunTool],
    },
    {
      title: 'a tool call with an empty input, cut at max_tokens',
      turn: { toolUse: { id: 'toolu_empty', name: 'posthogmcp_query_run', input: {} }, stopReason: 'max_tokens' },
      tools: [queryRunTool],
    },
    {
      title: 'a server tool search and its result',
      turn: { toolSearch: { query: 'trends query', id: 'srvtoolu_search' }, text: 'Found it.' },
      tools: [
        { type: 'tool_search_tool_bm25_20251119', name: 'tool_search_tool_bm25' },
        { ...queryRunTool, defer_loading: true },
      ],
    },
  ];
  for (const { title, turn, tools } of cases) {
    it(`is the message the SDK's MessageStream builds: ${title}`, async () => {
      const { bySdk, ours } = await bothWays(turn, {
        model: MODEL,
        max_tokens: 256,
        messages: [{ role: 'user', content: 'signups?' }],
        ...(tools ? { tools } : {}),
      });
      assert.deepEqual(ours, bySdk);
      assert.ok(bySdk.content.length > 0);
    });
  }

  it('says so when the stream ends before the reply is whole', async () => {
    emu.queue({ text: 'Partial', streamError: { afterEvents: 2 } });
    const reply = new ModelReply();
    await assert.rejects(async () => {
      for await (const event of await requestReplyEvents(
        client,
        { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'x' }] },
        new AbortController().signal,
      ))
        reply.add(event);
    });
    assert.throws(() => reply.message(), /without producing a Message/);
  });

  it('sends each request as the JSON of its parameters while the history grows, a replaced message as it is now', () => {
    const conversation = newConversation('c1', 0);
    const params = (): MessageStreamParams => ({
      model: MODEL,
      max_tokens: 256,
      system: [{ type: 'text', text: 'You are OnBehalf.', cache_control: { type: 'ephemeral' } }],
      tools: [queryRunTool],
      messages: withHistoryBreakpoint(conversation.messages),
    });
    const sent = () => JSON.parse(requestBody(params())) as unknown;
    const expected = () => JSON.parse(JSON.stringify({ ...params(), stream: true })) as unknown;
    appendUserText(conversation, 'How many signups?', 'u1', 0);
    assert.deepEqual(sent(), expected());
    conversation.messages.push({
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_1', name: 'posthogmcp_query_run', input: { query: 'signups' } }],
    });
    conversation.messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '{"count":42}' }] });
    assert.deepEqual(sent(), expected());
    // The person's next words join the tool results' user turn: that message is replaced.
    appendUserText(conversation, 'And last week?', 'u2', 0);
    const body = sent();
    assert.deepEqual(body, expected());
    assert.match(JSON.stringify(body), /And last week\?/);
  });
});
