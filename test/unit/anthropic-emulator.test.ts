// Drives the real @anthropic-ai/sdk against the Anthropic emulator.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Anthropic, {
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  OverloadedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import type { ContentBlock, MessageParam, Tool, ToolUnion } from '@anthropic-ai/sdk/resources/messages';
import { startAnthropicEmulator, toolResultIdsMatch, type AnthropicEmulator } from '../emulators/anthropic/server';
import {
  ScriptedModel,
  SIGNUPS_TRENDS_QUERY,
  classify,
  parseTaskName,
  summarise,
  HELP_TEXT,
  ASANA_LIST_FIELDS,
  thisWeek,
} from '../emulators/anthropic/scripted-model';
import { createEmulatorData } from '../emulators/data/world';
import { runTool } from '../emulators/data/tools';
import { SUGGESTED_QUESTIONS } from '../../src/shared/suggestions';
import { bm25Search, regexSearch, type RequestTool } from '../emulators/anthropic/tool-search';

const KEY = 'sk-ant-emulator-test';
const MODEL = 'claude-sonnet-4-6';

const queryRunTool: Tool = {
  name: 'posthogmcp_query_run',
  description: 'Run a trend, funnel, paths or HogQL query against PostHog.',
  input_schema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
};
const createTaskTool: Tool = {
  name: 'asana_task_create',
  description: 'Create a new task in Asana.',
  input_schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
};

function loadCatalog(file: string): Tool[] {
  // esbuild copies test/**/*.json next to the transpiled tests.
  const parsed = JSON.parse(readFileSync(join(__dirname, '..', 'emulators', 'fixtures', file), 'utf8')) as { tools: Tool[] };
  return parsed.tools;
}

function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error('condition not met in time'));
      setTimeout(tick, 10);
    };
    tick();
  });
}

async function expectReject<T extends Error>(p: Promise<unknown>, type: abstract new (...args: never[]) => T): Promise<T> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    return err;
  }
  assert.fail(`expected a ${type.name}, but the call succeeded`);
}

/** Parses raw SSE text into [event, data] pairs. */
function parseSse(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim())
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? 'null') as Record<string, unknown>;
      return { event, data };
    });
}

describe('Anthropic emulator (real @anthropic-ai/sdk)', function () {
  let emu: AnthropicEmulator;
  let client: Anthropic;

  before(async () => {
    emu = await startAnthropicEmulator({ apiKeys: [KEY] });
    client = new Anthropic({ apiKey: KEY, baseURL: emu.url, maxRetries: 0 });
  });
  after(async () => {
    await emu.close();
  });
  beforeEach(() => {
    emu.reset();
  });

  const ask = (text: string): MessageParam[] => [{ role: 'user', content: text }];

  it('streams text in several deltas and finalMessage matches', async () => {
    const answer = 'Hello from the emulator. This answer arrives in pieces.';
    emu.queue({ text: answer, chunkSize: 7 });
    const stream = client.messages.stream({ model: MODEL, max_tokens: 256, messages: ask('hi') });
    const deltas: string[] = [];
    stream.on('text', (d) => deltas.push(d));
    const msg = await stream.finalMessage();
    assert.ok(deltas.length >= 5, `expected several deltas, got ${deltas.length}`);
    assert.equal(deltas.join(''), answer);
    assert.equal(msg.content.length, 1);
    const block = msg.content[0];
    assert.equal(block?.type, 'text');
    assert.equal(block?.type === 'text' ? block.text : undefined, answer);
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.model, MODEL);
    assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0);
    const rec = emu.requests[0];
    assert.ok(rec);
    assert.equal(rec.path, '/v1/messages');
    assert.equal(rec.stream, true);
    assert.equal(rec.apiKey, KEY);
    assert.equal(rec.headers['anthropic-version'] !== undefined, true);
  });

  it('sends the exact SSE event sequence, including ping', async () => {
    emu.queue({ text: 'abcdef', chunkSize: 2 }, { toolUse: { name: 'asana_task_create', input: { name: 'Write launch notes' } } });
    const send = (): Promise<Response> =>
      fetch(`${emu.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model: MODEL, max_tokens: 64, stream: true, tools: [createTaskTool], messages: ask('go') }),
      });
    const textRes = await send();
    assert.match(textRes.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = parseSse(await textRes.text());
    assert.deepEqual(
      events.map((e) => e.event),
      [
        'message_start',
        'content_block_start',
        'ping',
        'content_block_delta',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ],
    );
    for (const e of events) assert.equal(e.data.type, e.event);
    const start = events[0]?.data.message as Record<string, unknown>;
    assert.equal(start.stop_reason, null);
    assert.deepEqual(start.content, []);
    assert.equal(typeof (start.usage as Record<string, unknown>).input_tokens, 'number');
    const md = events.at(-2)?.data as { delta: { stop_reason: string }; usage: { output_tokens: number } };
    assert.equal(md.delta.stop_reason, 'end_turn');
    assert.ok(md.usage.output_tokens > 0);

    const toolEvents = parseSse(await (await send()).text());
    const jsonDeltas = toolEvents.filter((e) => e.event === 'content_block_delta').map((e) => e.data.delta as { type: string; partial_json: string });
    assert.ok(jsonDeltas.every((d) => d.type === 'input_json_delta'));
    assert.ok(jsonDeltas.filter((d) => d.partial_json !== '').length >= 3, 'tool input split into several chunks');
    assert.deepEqual(JSON.parse(jsonDeltas.map((d) => d.partial_json).join('')), { name: 'Write launch notes' });
    const cbs = toolEvents[1]?.data.content_block as Record<string, unknown>;
    assert.equal(cbs.type, 'tool_use');
    assert.deepEqual(cbs.input, {});
    assert.equal((toolEvents.at(-2)?.data.delta as { stop_reason: string }).stop_reason, 'tool_use');
  });

  it('answers non-streaming requests with a whole Message', async () => {
    emu.queue({ text: 'plain answer' });
    const msg = await client.messages.create({ model: MODEL, max_tokens: 64, messages: ask('hi') });
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.deepEqual(msg.content, [{ type: 'text', text: 'plain answer', citations: null }]);
    assert.equal(emu.requests[0]?.stream, false);
  });

  it('honours scripted stopReason and usage', async () => {
    emu.queue({ text: 'cut off mid', stopReason: 'max_tokens', usage: { input_tokens: 1234, output_tokens: 16 } });
    const msg = await client.messages.stream({ model: MODEL, max_tokens: 16, messages: ask('x') }).finalMessage();
    assert.equal(msg.stop_reason, 'max_tokens');
    assert.equal(msg.usage.input_tokens, 1234);
    assert.equal(msg.usage.output_tokens, 16);
  });

  it('streams tool_use input as partial_json that the SDK parses', async () => {
    const input = { query: SIGNUPS_TRENDS_QUERY };
    emu.queue({ toolUse: { name: 'posthogmcp_query_run', input }, chunkSize: 10 });
    const stream = client.messages.stream({ model: MODEL, max_tokens: 256, tools: [queryRunTool], messages: ask('signups?') });
    const partials: string[] = [];
    stream.on('inputJson', (partial) => partials.push(partial));
    const msg = await stream.finalMessage();
    assert.ok(partials.filter((p) => p).length > 3, `expected several partial_json chunks, got ${partials.length}`);
    assert.equal(msg.stop_reason, 'tool_use');
    const block = msg.content[0];
    assert.equal(block?.type, 'tool_use');
    if (block?.type !== 'tool_use') return;
    assert.equal(block.name, 'posthogmcp_query_run');
    assert.deepEqual(block.input, input);
    assert.match(block.id, /^toolu_/);
  });

  it('sends text plus several tool_use blocks in one reply', async () => {
    emu.queue({
      content: [
        { text: 'Doing both.' },
        { toolUse: { name: 'posthogmcp_query_run', input: { query: '{}' } } },
        { toolUse: { name: 'asana_task_create', input: { name: 'Follow up' }, id: 'toolu_fixed' } },
      ],
    });
    const msg = await client.messages.stream({ model: MODEL, max_tokens: 256, tools: [queryRunTool, createTaskTool], messages: ask('both') }).finalMessage();
    assert.deepEqual(
      msg.content.map((b) => b.type),
      ['text', 'tool_use', 'tool_use'],
    );
    const uses = msg.content.filter((b): b is Extract<ContentBlock, { type: 'tool_use' }> => b.type === 'tool_use');
    assert.deepEqual(
      uses.map((u) => [u.name, u.input]),
      [
        ['posthogmcp_query_run', { query: '{}' }],
        ['asana_task_create', { name: 'Follow up' }],
      ],
    );
    assert.equal(uses[1]?.id, 'toolu_fixed');
    assert.notEqual(uses[0]?.id, uses[1]?.id);
  });

  describe('errors', () => {
    it('429 surfaces as RateLimitError with retry-after (maxRetries 0)', async () => {
      emu.queue({ error: 429, retryAfter: 3 });
      const err = await expectReject(client.messages.stream({ model: MODEL, max_tokens: 16, messages: ask('x') }).finalMessage(), RateLimitError);
      assert.equal(err.status, 429);
      assert.equal(err.type, 'rate_limit_error');
      assert.equal(err.headers?.get('retry-after'), '3');
      assert.equal(emu.requests.length, 1);
    });

    it('529 surfaces as OverloadedError (an InternalServerError)', async () => {
      emu.queue({ error: 529 });
      const err = await expectReject(client.messages.create({ model: MODEL, max_tokens: 16, messages: ask('x') }), OverloadedError);
      assert.ok(err instanceof InternalServerError);
      assert.equal(err.status, 529);
      assert.equal(err.type, 'overloaded_error');
    });

    it('500 surfaces as InternalServerError with api_error', async () => {
      emu.queue({ error: 500 });
      const err = await expectReject(client.messages.create({ model: MODEL, max_tokens: 16, messages: ask('x') }), InternalServerError);
      assert.equal(err.status, 500);
      assert.equal(err.type, 'api_error');
    });

    it('with retries enabled the SDK retries a 429 by itself and then succeeds', async () => {
      const retrying = new Anthropic({ apiKey: KEY, baseURL: emu.url, maxRetries: 2 });
      emu.queue({ error: 429, retryAfter: 0.05 }, { error: 529, retryAfter: 0.05 }, { text: 'third time lucky' });
      const msg = await retrying.messages.stream({ model: MODEL, max_tokens: 16, messages: ask('x') }).finalMessage();
      assert.equal(msg.content[0]?.type === 'text' ? msg.content[0].text : '', 'third time lucky');
      assert.equal(emu.requests.length, 3, 'two retries, then the answer');
      assert.deepEqual(
        emu.requests.map((r) => [r.status, r.headers['x-stainless-retry-count']]),
        [
          [429, '0'],
          [529, '1'],
          [200, '2'],
        ],
      );
    });

    it('x-should-retry: false stops the SDK retrying a 500', async () => {
      const retrying = new Anthropic({ apiKey: KEY, baseURL: emu.url, maxRetries: 2 });
      emu.queue({ error: 500, shouldRetry: false }, { text: 'never reached' });
      await expectReject(retrying.messages.create({ model: MODEL, max_tokens: 16, messages: ask('x') }), InternalServerError);
      assert.equal(emu.requests.length, 1);
      assert.equal(emu.pending, 1);
    });

    it('an empty queue answers a loud, non-retried 500', async () => {
      const retrying = new Anthropic({ apiKey: KEY, baseURL: emu.url, maxRetries: 2 });
      const err = await expectReject(retrying.messages.create({ model: MODEL, max_tokens: 16, messages: ask('x') }), InternalServerError);
      assert.match(err.message, /no scripted turn queued/);
      assert.equal(emu.requests.length, 1);
    });

    it('a bad key is an AuthenticationError and does not consume a turn', async () => {
      emu.queue({ text: 'kept' });
      const bad = new Anthropic({ apiKey: 'sk-wrong', baseURL: emu.url, maxRetries: 0 });
      const err = await expectReject(bad.messages.create({ model: MODEL, max_tokens: 16, messages: ask('x') }), AuthenticationError);
      assert.equal(err.status, 401);
      assert.equal(err.type, 'authentication_error');
      assert.equal(emu.pending, 1);
      assert.equal(emu.requests[0]?.status, 401);
    });

    it('accepts x-api-key as well as authorization: Bearer', async () => {
      emu.queue({ text: 'via x-api-key' });
      const res = await fetch(`${emu.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model: MODEL, max_tokens: 16, messages: ask('x') }),
      });
      assert.equal(res.status, 200);
      assert.equal(emu.requests[0]?.authHeader, 'x-api-key');
      emu.queue({ text: 'via bearer' });
      await client.messages.create({ model: MODEL, max_tokens: 16, messages: ask('x') });
      assert.equal(emu.requests[1]?.authHeader, 'authorization');
    });

    it('a mid-stream error event surfaces as an APIError', async () => {
      emu.queue({ text: 'partial answer that breaks', chunkSize: 4, streamError: { afterEvents: 4, type: 'overloaded_error' } });
      const stream = client.messages.stream({ model: MODEL, max_tokens: 64, messages: ask('x') });
      const err = await expectReject(stream.finalMessage(), APIError);
      assert.equal(err.type, 'overloaded_error');
      assert.equal(err.status, undefined);
    });
  });

  it('records tool names, deferred tools and byte sizes', async () => {
    const deferred = { ...createTaskTool, defer_loading: true };
    const tools: ToolUnion[] = [queryRunTool, deferred, { type: 'tool_search_tool_regex_20251119', name: 'tool_search_tool_regex' }];
    emu.queue({ text: 'ok' });
    await client.messages.create({ model: MODEL, max_tokens: 16, tools, messages: ask('x') });
    const rec = emu.requests[0];
    assert.ok(rec);
    assert.deepEqual(rec.toolNames, ['posthogmcp_query_run', 'asana_task_create', 'tool_search_tool_regex']);
    assert.deepEqual(rec.deferredToolNames, ['asana_task_create']);
    assert.equal(rec.toolSearch, 'regex');
    assert.deepEqual(rec.loadedToolNames, ['posthogmcp_query_run', 'tool_search_tool_regex']);
    assert.equal(rec.rawBytes, Buffer.byteLength(JSON.stringify(rec.body)));
    assert.equal(rec.toolsBytes, Buffer.byteLength(JSON.stringify(tools)));
    assert.ok(rec.loadedToolsBytes > 0 && rec.loadedToolsBytes < rec.toolsBytes);
    assert.ok(rec.rawBytes > rec.toolsBytes);
  });

  describe('tool_result ids', () => {
    const history = (resultId: string): MessageParam[] => [
      { role: 'user', content: 'signups?' },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'toolu_a1', name: 'posthogmcp_query_run', input: { query: '{}' } }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: resultId, content: '{"results":[]}' }] },
    ];

    it('toolResultIdsMatch is true when every result answers a preceding tool_use', async () => {
      emu.queue({ text: 'summary' });
      await client.messages.create({ model: MODEL, max_tokens: 16, tools: [queryRunTool], messages: history('toolu_a1') });
      const rec = emu.requests[0];
      assert.ok(rec);
      assert.equal(emu.toolResultIdsMatch(rec), true);
      assert.equal(toolResultIdsMatch(rec), true);
    });

    it('a mismatched id is rejected like the real API, and recorded as not matching', async () => {
      emu.queue({ text: 'never sent' });
      const err = await expectReject(
        client.messages.create({ model: MODEL, max_tokens: 16, tools: [queryRunTool], messages: history('toolu_other') }),
        BadRequestError,
      );
      assert.match(err.message, /tool_use/);
      const rec = emu.requests[0];
      assert.ok(rec);
      assert.equal(emu.toolResultIdsMatch(rec), false);
      assert.equal(emu.pending, 1);
    });

    it('toolResultIdsMatch is false for a result not preceded by an assistant tool_use', () => {
      assert.equal(
        toolResultIdsMatch({
          messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'x' }] }],
        }),
        false,
      );
    });
  });

  it('abort mid-stream via AbortController stops the stream and the emulator sees the disconnect', async () => {
    emu.queue({ text: 'x'.repeat(400), chunkSize: 4, delayMsPerChunk: 20 });
    const controller = new AbortController();
    const stream = client.messages.stream({ model: MODEL, max_tokens: 512, messages: ask('long') }, { signal: controller.signal });
    let deltas = 0;
    stream.on('text', () => {
      deltas++;
      if (deltas === 2) controller.abort();
    });
    await expectReject(stream.finalMessage(), APIUserAbortError);
    assert.ok(deltas >= 2 && deltas < 100, `stopped after ${deltas} deltas`);
    const rec = emu.requests[0];
    assert.ok(rec);
    await until(() => rec.clientDisconnected);
    assert.equal(rec.completed, false);
  });

  describe('tool search', () => {
    const catalog = loadCatalog('posthogmcp.json');
    const deferredCatalog: ToolUnion[] = catalog.map((t) => ({ ...t, defer_loading: true }));

    it('emits server_tool_use + tool_search_tool_result (regex) that the SDK parses, then the tool call', async () => {
      const tools: ToolUnion[] = [{ type: 'tool_search_tool_regex_20251119', name: 'tool_search_tool_regex' }, ...deferredCatalog];
      emu.queue({
        content: [
          { text: 'Let me find the right tool.' },
          { toolSearch: { query: '(?i)query_run' } },
          { toolUse: { name: 'posthogmcp_query_run', input: { query: SIGNUPS_TRENDS_QUERY } } },
        ],
      });
      const msg = await client.messages.stream({ model: MODEL, max_tokens: 256, tools, messages: ask('signups?') }).finalMessage();
      assert.deepEqual(
        msg.content.map((b) => b.type),
        ['text', 'server_tool_use', 'tool_search_tool_result', 'tool_use'],
      );
      const [, use, result] = msg.content;
      assert.ok(use?.type === 'server_tool_use');
      assert.equal(use.name, 'tool_search_tool_regex');
      assert.deepEqual(use.input, { query: '(?i)query_run' });
      assert.match(use.id, /^srvtoolu_/);
      assert.ok(result?.type === 'tool_search_tool_result');
      assert.equal(result.tool_use_id, use.id);
      assert.ok(result.content.type === 'tool_search_tool_search_result');
      assert.deepEqual(result.content.tool_references, [{ type: 'tool_reference', tool_name: 'posthogmcp_query_run' }]);
      assert.equal(msg.stop_reason, 'tool_use');

      // The next request carries the search in history: the found tool counts as loaded.
      const toolUse = msg.content[3];
      assert.ok(toolUse?.type === 'tool_use');
      emu.queue({ text: 'done' });
      await client.messages.create({
        model: MODEL,
        max_tokens: 64,
        tools,
        messages: [
          ...ask('signups?'),
          { role: 'assistant', content: msg.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '{}' }] },
        ],
      });
      const second = emu.requests[1];
      assert.ok(second);
      assert.deepEqual(second.loadedToolNames, ['tool_search_tool_regex', 'posthogmcp_query_run']);
      assert.equal(second.deferredToolNames.length, catalog.length);
    });

    it('bm25 variant ranks by keywords', async () => {
      const tools: ToolUnion[] = [{ type: 'tool_search_tool_bm25_20251119', name: 'tool_search_tool_bm25' }, ...deferredCatalog];
      emu.queue({ toolSearch: { query: 'run trends query', maxResults: 3 } });
      const msg = await client.messages.create({ model: MODEL, max_tokens: 64, tools, messages: ask('signups?') });
      const result = msg.content[1];
      assert.ok(result?.type === 'tool_search_tool_result' && result.content.type === 'tool_search_tool_search_result');
      const names = result.content.tool_references.map((r) => r.tool_name);
      assert.equal(names.length, 3);
      assert.ok(names.includes('posthogmcp_query_run'), names.join(','));
      assert.equal(msg.content[0]?.type === 'server_tool_use' ? msg.content[0].name : '', 'tool_search_tool_bm25');
      assert.equal(msg.stop_reason, 'end_turn');
    });

    it('an invalid regex yields a tool_search_tool_result_error', async () => {
      const tools: ToolUnion[] = [{ type: 'tool_search_tool_regex_20251119', name: 'tool_search_tool_regex' }, ...deferredCatalog];
      emu.queue({ toolSearch: { query: '(unclosed' } });
      const msg = await client.messages.create({ model: MODEL, max_tokens: 64, tools, messages: ask('x') });
      const result = msg.content[1];
      assert.ok(result?.type === 'tool_search_tool_result');
      assert.equal(result.content.type, 'tool_search_tool_result_error');
      assert.equal(result.content.type === 'tool_search_tool_result_error' ? result.content.error_code : '', 'invalid_tool_input');
    });

    it('refuses (loudly) a scripted call to a deferred tool no search has loaded', async () => {
      const tools: ToolUnion[] = [{ type: 'tool_search_tool_regex_20251119', name: 'tool_search_tool_regex' }, ...deferredCatalog];
      emu.queue({ toolUse: { name: 'posthogmcp_query_run', input: { query: '{}' } } });
      const err = await expectReject(client.messages.create({ model: MODEL, max_tokens: 64, tools, messages: ask('x') }), InternalServerError);
      assert.match(err.message, /not callable/);
    });

    it('refuses a toolSearch turn when the request carries no tool search tool', async () => {
      emu.queue({ toolSearch: { query: 'x' } });
      const err = await expectReject(client.messages.create({ model: MODEL, max_tokens: 64, tools: [queryRunTool], messages: ask('x') }), InternalServerError);
      assert.match(err.message, /no tool_search_tool/);
    });

    it('rejects a request whose tools are all deferred (400, as the API does)', async () => {
      await expectReject(client.messages.create({ model: MODEL, max_tokens: 64, tools: deferredCatalog.slice(0, 3), messages: ask('x') }), BadRequestError);
    });

    it('search helpers: regex (case-sensitive unless (?i)) and bm25', () => {
      const tools = catalog as unknown as RequestTool[];
      const deferred = tools.map((t) => ({ ...t, defer_loading: true }));
      const r = regexSearch(deferred, '(?i)QUERY_RUN');
      assert.ok(r.ok && r.hits[0]?.name === 'posthogmcp_query_run');
      const cs = regexSearch(deferred, 'QUERY_RUN');
      assert.ok(cs.ok && cs.hits.length === 0);
      const notDeferred = regexSearch(tools, 'query_run');
      assert.ok(notDeferred.ok && notDeferred.hits.length === 0, 'only deferred tools are searched');
      const b = bm25Search(deferred, 'run trends query', 5);
      assert.ok(b.ok && b.hits.some((h) => h.name === 'posthogmcp_query_run'));
    });
  });

  it('count_tokens and models.list answer', async () => {
    const count = await client.messages.countTokens({ model: MODEL, messages: ask('hello there') });
    assert.ok(count.input_tokens > 0);
    const models = await client.models.list();
    assert.ok(models.data.some((m) => m.id === MODEL));
  });

  it('a turn function sees the request', async () => {
    emu.queue((req) => ({ text: `you sent ${req.toolNames.length} tools` }));
    const msg = await client.messages.create({ model: MODEL, max_tokens: 16, tools: [queryRunTool, createTaskTool], messages: ask('x') });
    assert.equal(msg.content[0]?.type === 'text' ? msg.content[0].text : '', 'you sent 2 tools');
    assert.equal(emu.requests[0]?.answeredBy, 'queue');
  });
});

describe('ScriptedModel (sandbox model)', () => {
  const model = new ScriptedModel();
  const discoverTool: Tool = {
    name: 'discover_tools',
    description: 'Find tools by keyword and load them.',
    input_schema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  };
  const listTool: Tool = { name: 'asana_tasks_list', description: 'List tasks.', input_schema: { type: 'object', properties: {} } };
  const user = (text: string): MessageParam => ({ role: 'user', content: text });

  it('classifies questions deterministically', () => {
    assert.deepEqual(classify('How many signups per day last week?'), { kind: 'signups' });
    assert.deepEqual(classify('show me sign ups'), { kind: 'signups' });
    assert.deepEqual(classify('Create an Asana task called Write launch notes'), { kind: 'create-task', name: 'Write launch notes' });
    assert.deepEqual(classify('list my tasks'), { kind: 'list-tasks' });
    assert.deepEqual(classify('hello'), { kind: 'help' });
    assert.equal(parseTaskName('create an asana task to fix the login bug.'), 'Fix the login bug');
    assert.equal(parseTaskName('Create a task "Ship v2"'), 'Ship v2');
  });

  it('calls the PostHog trends tool with the exact query when it is sent', () => {
    const turn = model.decide({ messages: [user('How many signups per day last week?')], tools: [queryRunTool] });
    assert.deepEqual(turn, {
      toolUse: {
        name: 'posthogmcp_query_run',
        input: {
          query: '{"kind":"TrendsQuery","series":[{"event":"signed_up"}],"interval":"day","dateRange":{"date_from":"-7d"}}',
        },
      },
    });
  });

  it('searches first when the tool is deferred behind tool search', () => {
    const tools = [{ type: 'tool_search_tool_regex_20251119', name: 'tool_search_tool_regex' }, { ...queryRunTool, defer_loading: true }, createTaskTool];
    const turn = model.decide({ messages: [user('signups last week?')], tools });
    assert.deepEqual(
      turn.content?.map((b) => Object.keys(b)[0]),
      ['toolSearch', 'toolUse'],
    );
  });

  it('uses a discover_tools tool when the target is missing, then calls the found tool', () => {
    const first = model.decide({ messages: [user('signups per day last week?')], tools: [discoverTool] });
    assert.deepEqual(first, { toolUse: { name: 'discover_tools', input: { query: 'run trends query' } } });
    const second = model.decide({
      messages: [
        user('signups per day last week?'),
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'discover_tools', input: { query: 'run trends query' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'loaded posthogmcp_query_run' }] },
      ],
      tools: [discoverTool, queryRunTool],
    });
    assert.equal(second.toolUse && !Array.isArray(second.toolUse) ? second.toolUse.name : '', 'posthogmcp_query_run');
  });

  it('summarises a trends result as a markdown table', () => {
    const result = JSON.stringify({
      results: [{ label: 'signed_up', data: [3, 5, 8], days: ['2026-11-20', '2026-11-21', '2026-11-22'] }],
    });
    const turn = model.decide({
      messages: [
        user('signups per day last week?'),
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'posthogmcp_query_run', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: result }] },
      ],
      tools: [queryRunTool],
    });
    assert.equal(
      turn.text,
      [
        'Signups per day over the last 7 days, Fri 20 Nov to Sun 22 Nov (16 in total):',
        '',
        '| Day | Signups |',
        '|---|---|',
        '| 2026-11-20 | 3 |',
        '| 2026-11-21 | 5 |',
        '| 2026-11-22 | 8 |',
      ].join('\n'),
    );
    assert.match(summarise({ kind: 'signups' }, 'posthogmcp_query_run', 'boom', true), /failed: boom/);
  });

  it('creates and lists Asana tasks, and explains itself otherwise', () => {
    assert.deepEqual(model.decide({ messages: [user('Create an Asana task called Write launch notes')], tools: [createTaskTool] }), {
      toolUse: { name: 'asana_task_create', input: { name: 'Write launch notes' } },
    });
    assert.deepEqual(model.decide({ messages: [user('list my tasks')], tools: [listTool] }), {
      toolUse: { name: 'asana_tasks_list', input: { assignee: 'me', ...ASANA_LIST_FIELDS } },
    });
    assert.deepEqual(model.decide({ messages: [user('hi!')], tools: [] }), { text: HELP_TEXT });
    assert.match(model.decide({ messages: [user('list my tasks')], tools: [] }).text ?? '', /not available/);
  });

  it('finds each target tool in the full PostHog + Asana catalogs with either tool search variant', () => {
    const deferred = [...loadCatalog('posthogmcp.json'), ...loadCatalog('asana.json')].map((t) => ({ ...t, defer_loading: true }));
    for (const type of ['tool_search_tool_regex_20251119', 'tool_search_tool_bm25_20251119']) {
      const tools = [{ type, name: type.replace(/_20251119$/, '') }, ...deferred];
      for (const [question, target] of [
        ['How many signups per day last week?', 'posthogmcp_query_run'],
        ['Create an Asana task called Ship it', 'asana_task_create'],
        ['list my tasks', 'asana_tasks_list'],
        ['Which PostHog insights were edited since Monday?', 'posthogmcp_insights_list'],
      ] as const) {
        const turn = model.decide({ messages: [user(question)], tools });
        const call = turn.content?.[1];
        assert.ok(call && 'toolUse' in call, `${type}: ${question} -> ${JSON.stringify(turn)}`);
        assert.equal(call.toolUse.name, target);
      }
    }
  });

  it('answers every suggested question from the demo data with real tool calls, saying which days it used', () => {
    const data = createEmulatorData();
    const tools = [...loadCatalog('posthogmcp.json'), ...loadCatalog('asana.json')];
    const ask = (question: string) => {
      const messages: MessageParam[] = [user(question)];
      const calls: string[] = [];
      for (let step = 0; step < 8; step++) {
        const turn = model.decide({ messages, tools });
        if (!turn.toolUse) return { calls, text: turn.text ?? '' };
        const id = `t${step}`;
        const { name, input } = turn.toolUse as { name: string; input: Record<string, unknown> };
        calls.push(name);
        let content: string;
        let isError = false;
        try {
          content = JSON.stringify(runTool(data, name, 'oidc:demo:ada', input));
        } catch (err) {
          content = err instanceof Error ? err.message : String(err);
          isError = true;
        }
        messages.push({ role: 'assistant', content: [{ type: 'tool_use', id, name, input }] });
        messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content, is_error: isError }] });
      }
      throw new Error(`${question}: no answer after 8 steps`);
    };
    const week = thisWeek();
    const day = (ms: number) => new Date(ms).toLocaleDateString('en-GB', { weekday: 'short', timeZone: 'UTC' });
    assert.equal(SUGGESTED_QUESTIONS.length, 3);
    for (const question of SUGGESTED_QUESTIONS) {
      const { calls, text } = ask(question);
      assert.ok(calls.length > 0, `${question}: no tool call`);
      assert.doesNotMatch(text, /sandbox model|failed|couldn't|can't/i, `${question}: ${text}`);
      if (/signed up/.test(question)) {
        assert.deepEqual(calls, ['posthogmcp_query_run']);
        assert.match(text, /^Signups per day over the last 7 days, \w{3} \d+ \w{3} to \w{3} \d+ \w{3} \(\d+ in total\):/);
        assert.equal(text.split('\n').filter((l) => /^\| \d{4}-\d{2}-\d{2} \| \d+ \|$/.test(l)).length, 7);
      } else if (/due this week/.test(question)) {
        assert.ok(calls.includes('asana_tasks_list'), calls.join());
        assert.match(text, new RegExp(`due this week \\(Mon \\d+ \\w{3} to Sun \\d+ \\w{3}\\):`));
        const due = text.split('\n').filter((l) => /^\| .+ \| \w{3} \d+ \w{3} \|$/.test(l));
        assert.ok(due.length >= 1, text);
        for (const row of due) assert.ok(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].includes(row.split('|')[2]!.trim().slice(0, 3)), row);
      } else {
        assert.deepEqual(calls, ['posthogmcp_insights_list']);
        assert.match(text, new RegExp(`edited since Monday \\(${day(week.monday)} `));
        assert.match(text, /\| Daily signups \|/);
        assert.doesNotMatch(text, /Pageviews/, 'an insight last edited weeks ago is not listed');
      }
    }
  });

  it('drives a full tool loop as the emulator fallback through the real SDK', async () => {
    const emu = await startAnthropicEmulator({ fallback: new ScriptedModel({ chunkSize: 5 }) });
    try {
      const c = new Anthropic({ apiKey: 'any', baseURL: emu.url, maxRetries: 0 });
      const messages: MessageParam[] = [user('How many signups per day last week?')];
      const first = await c.messages.stream({ model: MODEL, max_tokens: 512, tools: [queryRunTool], messages }).finalMessage();
      const use = first.content.find((b) => b.type === 'tool_use');
      assert.ok(use?.type === 'tool_use');
      assert.equal(use.name, 'posthogmcp_query_run');
      messages.push({ role: 'assistant', content: first.content });
      messages.push({
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: use.id, content: JSON.stringify({ results: [{ data: [1, 2], days: ['d1', 'd2'] }] }) }],
      });
      const second = await c.messages.stream({ model: MODEL, max_tokens: 512, tools: [queryRunTool], messages }).finalMessage();
      assert.equal(second.stop_reason, 'end_turn');
      const text = second.content[0]?.type === 'text' ? second.content[0].text : '';
      assert.match(text, /\| d2 \| 2 \|/);
      assert.deepEqual(
        emu.requests.map((r) => r.answeredBy),
        ['fallback', 'fallback'],
      );
      assert.ok(emu.requests.every((r) => toolResultIdsMatch(r)));
    } finally {
      await emu.close();
    }
  });
});
