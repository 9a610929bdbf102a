// The emulator's prompt caching, driven by the real @anthropic-ai/sdk over SSE: breakpoints,
// prefix order, minimum cacheable length, invalidation, deferred tools and the lookback.
import * as assert from 'node:assert/strict';
import Anthropic, { BadRequestError } from '@anthropic-ai/sdk';
import type { MessageParam, ToolUnion, Usage } from '@anthropic-ai/sdk/resources/messages';
import { startAnthropicEmulator, type AnthropicEmulator } from '../emulators/anthropic/server';

const SONNET = 'claude-sonnet-4-6'; // 1,024-token minimum
const OPUS_5 = 'claude-opus-5'; // 512-token minimum
const ephemeral = { type: 'ephemeral' as const };

/** About `tokens` tokens of text at the emulator's 4 bytes per token. */
function filler(tokens: number, seed = 'x'): string {
  return `${seed} `.repeat(tokens * 2).slice(0, tokens * 4);
}

const tool = (name: string, extra: Partial<Anthropic.Messages.Tool> = {}): Anthropic.Messages.Tool => ({
  name,
  description: `The ${name} tool. ${filler(40, name)}`,
  input_schema: { type: 'object', properties: { q: { type: 'string' } } },
  ...extra,
});

describe('Anthropic emulator prompt caching (real @anthropic-ai/sdk over SSE)', function () {
  let emu: AnthropicEmulator;
  let clock = 1_000_000;
  let client: Anthropic;

  before(async () => {
    emu = await startAnthropicEmulator({ now: () => clock });
    client = new Anthropic({ apiKey: 'sk-cache', baseURL: emu.url, maxRetries: 0 });
  });
  after(() => emu.close());
  beforeEach(() => {
    emu.reset();
    clock = 1_000_000;
  });

  async function send(params: Partial<Anthropic.Messages.MessageStreamParams> & { messages: MessageParam[] }): Promise<Usage> {
    emu.queue({ text: 'ok' });
    const stream = client.messages.stream({ model: SONNET, max_tokens: 64, ...params });
    return (await stream.finalMessage()).usage;
  }

  const longSystem = [{ type: 'text' as const, text: filler(1500), cache_control: ephemeral }];
  const ask: MessageParam[] = [{ role: 'user', content: 'hello' }];

  it('writes the tools + system prefix once it reaches the minimum, then reads it (input counts only the rest)', async () => {
    const first = await send({ system: longSystem, messages: ask });
    assert.ok(first.cache_creation_input_tokens! >= 1500, `wrote ${first.cache_creation_input_tokens}`);
    assert.equal(first.cache_read_input_tokens, 0);
    assert.equal(first.cache_creation?.ephemeral_5m_input_tokens, first.cache_creation_input_tokens);
    const second = await send({ system: longSystem, messages: ask });
    assert.equal(second.cache_read_input_tokens, first.cache_creation_input_tokens);
    assert.equal(second.cache_creation_input_tokens, 0);
    assert.equal(second.input_tokens, first.input_tokens);
    assert.ok(second.input_tokens < 20, `only the message is uncached: ${second.input_tokens}`);
  });

  it('caches nothing below the model minimum, with no error (1,024 for Sonnet 4.6, 512 for Opus 5)', async () => {
    const system = [{ type: 'text' as const, text: filler(800), cache_control: ephemeral }];
    for (let i = 0; i < 2; i++) {
      const usage = await send({ system, messages: ask });
      assert.equal(usage.cache_creation_input_tokens, 0);
      assert.equal(usage.cache_read_input_tokens, 0);
      assert.ok(usage.input_tokens >= 800);
    }
    await send({ model: OPUS_5, system, messages: ask });
    const opus = await send({ model: OPUS_5, system, messages: ask });
    assert.ok(opus.cache_read_input_tokens! >= 800, `Opus 5 read ${opus.cache_read_input_tokens}`);
  });

  it('any change to tools misses everything; a system change keeps a tools breakpoint; tool_choice keeps tools + system', async () => {
    const tools: ToolUnion[] = [tool('alpha'), tool('beta', { cache_control: ephemeral })];
    const big = [{ type: 'text' as const, text: filler(1200), cache_control: ephemeral }];
    await send({ tools, system: big, messages: ask });
    const changedTool = await send({ tools: [tool('alpha'), tool('gamma', { cache_control: ephemeral })], system: big, messages: ask });
    assert.equal(changedTool.cache_read_input_tokens, 0, 'a changed tool misses the whole prefix');

    const toolsOnly = [...Array.from({ length: 25 }, (_, i) => tool(`t${i}`)), tool('last', { cache_control: ephemeral })];
    const toolsRead = await send({ tools: toolsOnly, system: big, messages: ask });
    const otherSystem = await send({ tools: toolsOnly, system: [{ type: 'text', text: filler(1200, 'y'), cache_control: ephemeral }], messages: ask });
    assert.ok(otherSystem.cache_read_input_tokens! > 0, 'the tools breakpoint still hits');
    assert.ok(otherSystem.cache_read_input_tokens! < toolsRead.cache_creation_input_tokens!, 'but not the changed system');

    const choice = await send({ tools: toolsOnly, system: big, messages: ask, tool_choice: { type: 'any' } });
    assert.equal(choice.cache_read_input_tokens, toolsRead.cache_creation_input_tokens, 'tools + system still read after a tool_choice change');
  });

  it('deferred tools are outside the prefix; a tool_reference costs its definition in the history', async () => {
    const search: ToolUnion = {
      name: 'search_tools',
      description: 'Finds tools.',
      input_schema: { type: 'object', properties: { query: { type: 'string' } } },
    };
    const big = (n: number) => tool(`deferred_${n}`, { defer_loading: true, description: filler(600, `d${n}`) });
    const base = await send({ tools: [search, big(1)], system: longSystem, messages: ask });
    const more = await send({ tools: [search, big(1), big(2), big(3)], system: longSystem, messages: ask });
    assert.equal(more.cache_read_input_tokens, base.cache_creation_input_tokens, 'adding deferred tools keeps the cache');
    assert.equal(more.input_tokens, base.input_tokens, 'deferred schemas cost nothing until referenced');

    const withReference: MessageParam[] = [
      { role: 'user', content: 'find a tool' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'search_tools', input: { query: 'two' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'tool_reference', tool_name: 'deferred_2' }] }] },
    ];
    const referenced = await send({ tools: [search, big(1), big(2), big(3)], system: longSystem, messages: withReference });
    assert.ok(referenced.input_tokens >= 600, `the referenced definition is in context: ${referenced.input_tokens}`);
    assert.equal(referenced.cache_read_input_tokens, base.cache_creation_input_tokens, 'and the prefix is untouched');
  });

  it('a breakpoint on the last message reads the previous request within 20 blocks, not beyond', async () => {
    const turn = (n: number): MessageParam[] =>
      Array.from({ length: n }, (_, i): MessageParam[] => [
        { role: 'user', content: [{ type: 'text', text: `question ${i} ${filler(60)}` }] },
        { role: 'assistant', content: [{ type: 'text', text: `answer ${i}` }] },
      ]).flat();
    const marked = (messages: MessageParam[]): MessageParam[] => {
      const copy = messages.map((m) => ({ ...m, content: typeof m.content === 'string' ? m.content : [...m.content] }) as MessageParam);
      const last = copy.at(-1)!;
      const blocks = last.content as Anthropic.Messages.ContentBlockParam[];
      blocks[blocks.length - 1] = { ...(blocks.at(-1) as Anthropic.Messages.TextBlockParam), cache_control: ephemeral };
      return copy;
    };
    const system = [{ type: 'text' as const, text: filler(1100) }];
    const start = [...turn(2), { role: 'user' as const, content: [{ type: 'text' as const, text: 'next' }] }];
    const first = await send({ system, messages: marked(start) });
    assert.ok(first.cache_creation_input_tokens! > 1100);
    const near = [
      ...start,
      { role: 'assistant' as const, content: [{ type: 'text' as const, text: 'sure' }] },
      { role: 'user' as const, content: [{ type: 'text' as const, text: 'more' }] },
    ];
    const second = await send({ system, messages: marked(near) });
    assert.equal(second.cache_read_input_tokens, first.cache_creation_input_tokens, 'two blocks later: the earlier breakpoint is found');

    const far = [...near, ...turn(11), { role: 'user' as const, content: [{ type: 'text' as const, text: 'again' }] }];
    const third = await send({ system, messages: marked(far) });
    assert.ok(third.cache_read_input_tokens! < second.cache_read_input_tokens! + second.cache_creation_input_tokens!, 'more than 20 blocks later: a miss');
    assert.equal(third.cache_read_input_tokens, 0);
  });

  it('entries live 5 minutes from their last use', async () => {
    await send({ system: longSystem, messages: ask });
    clock += 4 * 60_000;
    assert.ok((await send({ system: longSystem, messages: ask })).cache_read_input_tokens! > 0, 'read at 4 min (and refreshed)');
    clock += 4 * 60_000;
    assert.ok((await send({ system: longSystem, messages: ask })).cache_read_input_tokens! > 0, 'read 4 min after the refresh');
    clock += 6 * 60_000;
    assert.equal((await send({ system: longSystem, messages: ask })).cache_read_input_tokens, 0, 'expired after 6 min unused');
  });

  it('refuses more than 4 cache breakpoints with a 400, as the API does', async () => {
    const system = Array.from({ length: 5 }, (_, i) => ({ type: 'text' as const, text: `part ${i}`, cache_control: ephemeral }));
    emu.queue({ text: 'never' });
    await assert.rejects(client.messages.create({ model: SONNET, max_tokens: 8, system, messages: ask }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.match(error.message, /maximum of 4 blocks with cache_control/);
      return true;
    });
  });
});
