import * as assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { identifierFor } from '../../src/core/identifier';
import type { RunningGateway } from '../../src/gateway/server';
import { startAnthropicEmulator, type AnthropicEmulator } from '../emulators/anthropic/server';
import { call, errorCode, idToken, startOidcGateway, startWorld, type World } from './support';

// The model relay through the official Anthropic SDK: the user's own sign-in token goes to
// the gateway, the organisation's key goes from the gateway to the (emulated) Messages API,
// the stream comes back event for event, usage is counted per identifier per day in the
// database, and a spent budget is a clear 429.

const orgKey = 'sk-ant-org-canary-51c2';

/** Raw SSE events (type and data) of a response body. */
function sseEvents(text: string): Array<{ event: string; data: unknown }> {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim())
    .map((block) => {
      const lines = block.split(/\r?\n/);
      return {
        event: (lines.find((l) => l.startsWith('event:')) ?? '').slice(6).trim(),
        data: JSON.parse(
          lines
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5))
            .join('\n'),
        ) as unknown,
      };
    });
}

describe('gateway model relay', function () {
  this.timeout(60_000);
  let world: World;
  let anthropic: AnthropicEmulator;
  let gateway: RunningGateway;

  before(async () => {
    world = await startWorld();
    anthropic = await startAnthropicEmulator({ apiKeys: [orgKey] });
    gateway = await startOidcGateway(world, { relay: { apiKey: orgKey, baseUrl: anthropic.url, dailyTokens: 0 } });
  });
  after(async () => {
    await gateway.close();
    await anthropic.close();
    await world.close();
  });

  it('streams a Messages API answer through the official SDK with the org key upstream and the user token only to the gateway, event for event', async () => {
    const token = await idToken(world, 'ada');
    anthropic.queue({ text: 'Relayed through the gateway, chunk by chunk.', chunkSize: 6 });
    const client = new Anthropic({ baseURL: gateway.url, apiKey: null, authToken: token, maxRetries: 0 });
    const stream = client.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 200, messages: [{ role: 'user', content: 'hello' }] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalMessage();
    assert.equal(final.content[0]?.type === 'text' ? final.content[0].text : '', 'Relayed through the gateway, chunk by chunk.');
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
    assert.ok(types.filter((t) => t === 'content_block_delta').length >= 5, 'the deltas arrive one by one');
    const upstream = anthropic.requests.at(-1)!;
    assert.equal(upstream.apiKey, orgKey, 'the organisation key goes upstream');
    assert.ok(!JSON.stringify(upstream.headers).includes(token), 'the user token never goes upstream');

    // Raw: the same events, in the same order, as the emulator sends them for the same turn.
    anthropic.queue({ text: 'Same bytes both ways.', chunkSize: 4 });
    const body = { model: 'claude-sonnet-4-6', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] };
    const viaGateway = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(body),
    });
    assert.match(viaGateway.headers.get('content-type') ?? '', /text\/event-stream/);
    const relayed = sseEvents(await viaGateway.text());
    anthropic.queue({ text: 'Same bytes both ways.', chunkSize: 4 });
    const direct = sseEvents(
      await (
        await fetch(`${anthropic.url}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': orgKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
          body: JSON.stringify(body),
        })
      ).text(),
    );
    const withoutIds = (events: Array<{ event: string; data: unknown }>) => JSON.stringify(events).replace(/"msg_[A-Za-z0-9_-]+"/g, '"msg"');
    assert.equal(withoutIds(relayed), withoutIds(direct));
  });

  it('counts tokens per identifier per day in the database and refuses a spent budget with a clear 429; others are unaffected', async () => {
    const budgeted = await startOidcGateway(world, { relay: { apiKey: orgKey, baseUrl: anthropic.url, dailyTokens: 1 } }, { database: gateway.database });
    try {
      const grace = await idToken(world, 'grace');
      const graceId = identifierFor('oidc', 'grace', world.idp.issuer);
      anthropic.queue({ text: 'one answer' });
      const first = await call(budgeted, 'POST', '/v1/messages', {
        token: grace,
        body: { model: 'claude-sonnet-4-6', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] },
      });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const usage = (first.body as { usage: { input_tokens: number; output_tokens: number } }).usage;
      const [row] = await gateway.database.query<{ input_tokens: string; output_tokens: string; requests: number }>(
        `SELECT input_tokens, output_tokens, requests FROM model_usage WHERE identifier = $1`,
        [graceId],
      );
      assert.equal(Number(row?.input_tokens), usage.input_tokens);
      assert.equal(Number(row?.output_tokens), usage.output_tokens);
      const before = anthropic.requests.length;
      const spent = await call(budgeted, 'POST', '/v1/messages', {
        token: grace,
        body: { model: 'claude-sonnet-4-6', max_tokens: 20, messages: [{ role: 'user', content: 'again' }] },
      });
      assert.equal(spent.status, 429);
      assert.equal(errorCode(spent), 'rate_limited');
      assert.match((spent.body as { error: { message: string } }).error.message, /daily model budget \(1 tokens\) is spent; it renews at 00:00 UTC/);
      assert.ok(Number(spent.headers.get('retry-after')) >= 1);
      assert.equal(anthropic.requests.length, before, 'a spent budget never reaches the model');
      // Another user has a budget of their own.
      anthropic.queue({ text: 'carol is fine' });
      const carol = await call(budgeted, 'POST', '/v1/messages', {
        token: await idToken(world, 'carol'),
        body: { model: 'claude-sonnet-4-6', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] },
      });
      assert.equal(carol.status, 200);
      // No token, no relay.
      assert.equal((await call(budgeted, 'POST', '/v1/messages', { body: { model: 'x', messages: [] } })).status, 401);
    } finally {
      await budgeted.close();
    }
  });
});
