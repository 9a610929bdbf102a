// Streaming markdown: rendering, sanitising, links and code-block copy.
import { strict as assert } from 'node:assert';
import type { Page } from 'playwright-core';
import { clearPosted, deliver, postedOfType, settle, waitForPosted, type ChatPage, useChatPage } from './helpers';
import { sampleMarkdown } from '../bench/webview-render';
import { stateMsg } from './states';

async function stream(page: Page, itemId: string, text: string, chunkSize: number): Promise<void> {
  await deliver(page, { type: 'item', item: { kind: 'assistant', id: itemId, markdown: '', streaming: true } });
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += chunkSize) chunks.push(text.slice(i, i + chunkSize));
  // Several chunks per task, like a fast stream: they are coalesced per animation frame.
  for (let i = 0; i < chunks.length; i += 5) {
    await deliver(page, ...chunks.slice(i, i + 5).map((t) => ({ type: 'textDelta' as const, itemId, text: t })));
  }
  await settle(page);
}

const answer = [
  '## Signups',
  '',
  'Signups grew **18%** week over week. See the [dashboard](https://app.posthog.example/dash/1).',
  '',
  '- Monday: 12',
  '- Tuesday: 18',
  '  continued line',
  '',
  '1. first',
  '2. second',
  '',
  '```ts',
  'const total = days.reduce((a, b) => a + b, 0);',
  '',
  'console.log(total);',
  '```',
  '',
  '| day | count |',
  '|:----|------:|',
  '| Mon | 12 |',
  '',
  '> quoted',
  '',
  'Done.',
].join('\n');

describe('chat webview: streamed markdown', function () {
  const view = useChatPage(async (page) => {
    await deliver(page.page, stateMsg({ busy: true, items: [{ kind: 'user', id: 'u1', text: 'How did signups do?' }] }));
  });
  let chat: ChatPage;
  beforeEach(() => {
    chat = view.chat;
  });

  it('renders text deltas as markdown while streaming, then finishes', async () => {
    await stream(chat.page, 'a1', answer, 7);
    const msg = chat.page.locator('.msg-assistant');
    assert.equal(await msg.getAttribute('aria-busy'), 'true');
    assert.equal(await msg.locator('h2').textContent(), 'Signups');
    assert.equal(await msg.locator('strong').first().textContent(), '18%');
    assert.equal(await msg.locator('ul > li').count(), 2);
    assert.equal(await msg.locator('ol > li').count(), 2);
    assert.match((await msg.locator('pre code').textContent()) ?? '', /console\.log\(total\);/);
    assert.equal(await msg.locator('td.align-right').textContent(), '12');
    assert.equal(await msg.locator('blockquote').textContent(), '\nquoted\n');
    // Completed blocks were committed; only the tail is re-rendered.
    assert.ok((await msg.locator('.md-done > *').count()) > 3);

    await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 'a1', markdown: answer, streaming: false } }, { type: 'busy', busy: false });
    await chat.page.waitForFunction(
      () => !(globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector('.msg-assistant[aria-busy]'),
    );
    // The live region is the message log.
    assert.equal(await chat.page.locator('main.messages').getAttribute('aria-live'), 'polite');
  });

  it('streamed rendering matches a one-shot render of the same text', async () => {
    const tricky = [
      'Intro paragraph',
      'that wraps.',
      '',
      '```',
      'fenced with a blank line',
      '',
      'not a split point',
      '```',
      '',
      '~~~~python',
      'print("tilde")',
      '',
      '~~~~',
      '',
      '- a',
      '',
      '    indented continuation of a',
      '',
      '- b',
      '',
      'Final words with a bare link https://example.com/x and `code`.',
    ].join('\n');
    await stream(chat.page, 'a-stream', tricky, 3);
    await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 'a-stream', markdown: tricky, streaming: false } });
    await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 'a-oneshot', markdown: tricky, streaming: false } });
    await settle(chat.page);
    const texts = await chat.page.locator('.msg-assistant .markdown').evaluateAll((els) => els.map((e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim()));
    assert.equal(texts.length, 2);
    assert.equal(texts[0], texts[1]);
    const streamed = chat.page.locator('.msg-assistant').first();
    assert.equal(await streamed.locator('pre code').count(), 2, 'both fences stay fences (no split inside)');
    assert.equal(await streamed.locator('a[href="https://example.com/x"]').count(), 1, 'linkify');
  });

  it('a long mixed answer streamed in uneven chunks reads the same as a one-shot render', async () => {
    const md = sampleMarkdown(20 * 1024);
    await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 's1', markdown: '', streaming: true } });
    let seed = 7;
    const parts: string[] = [];
    for (let i = 0; i < md.length;) {
      seed = (seed * 48271) % 2147483647;
      const n = 1 + (seed % 120);
      parts.push(md.slice(i, i + n));
      i += n;
    }
    for (let i = 0; i < parts.length; i += 25) {
      await deliver(chat.page, ...parts.slice(i, i + 25).map((t) => ({ type: 'textDelta' as const, itemId: 's1', text: t })));
    }
    await settle(chat.page);
    await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 's2', markdown: md, streaming: false } });
    await settle(chat.page);
    const [streamed, oneShot] = await chat.page.locator('.msg-assistant .markdown').evaluateAll((els) =>
      els.map((e) => ({
        text: (e.textContent ?? '').replace(/\s+/g, ' ').trim(),
        fences: e.querySelectorAll('pre code').length,
        tables: e.querySelectorAll('table').length,
        headings: e.querySelectorAll('h2').length,
      })),
    );
    assert.ok(streamed && oneShot);
    assert.deepEqual(streamed, oneShot);
    assert.ok(streamed.fences > 3 && streamed.tables > 0 && streamed.headings > 0, JSON.stringify(streamed));
  });

  it('neutralises script, event-handler and javascript: payloads', async () => {
    const payload = [
      'Hello <script>window.__pwned = 1</script>',
      '',
      '<img src="x" onerror="window.__pwned = 2">',
      '',
      '[click me](javascript:window.__pwned=3) and <a href="javascript:window.__pwned=4">raw</a>',
      '',
      '<javascript:window.__pwned=5> [data](data:text/html,<script>window.__pwned=6</script>)',
      '',
      '![tracking pixel](https://tracker.example/p.gif) ![inline](javascript:window.__pwned=7)',
      '',
      '<svg onload="window.__pwned=8"></svg> <iframe src="javascript:window.__pwned=9"></iframe>',
      '',
      '[ok link](https://example.com/safe)',
    ].join('\n');
    await stream(chat.page, 'x1', payload, 11);
    await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 'x1', markdown: payload, streaming: false } });
    await settle(chat.page);
    const msg = chat.page.locator('.msg-assistant');
    await msg.getByText('ok link').waitFor();
    // Click every link that was rendered.
    await clearPosted(chat.page);
    const links = msg.locator('a');
    for (let i = 0; i < (await links.count()); i++) await links.nth(i).click();
    await settle(chat.page);
    assert.equal(await chat.page.evaluate('window.__pwned'), undefined, 'no payload ran');
    assert.equal(await msg.locator('script, img, svg, iframe, [onerror], [onload]').count(), 0);
    const hrefs = await msg.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    assert.ok(
      hrefs.every((href) => /^https:\/\//.test(href)),
      `only https links survive: ${JSON.stringify(hrefs)}`,
    );
    // The raw HTML is shown as text, harmlessly.
    assert.match((await msg.textContent()) ?? '', /<script>window.__pwned = 1<\/script>/);
    // http(s) links go to the host; nothing navigated.
    const opened = (await postedOfType(chat.page, 'openLink')).map((m) => m.url);
    assert.deepEqual(opened.sort(), ['https://example.com/safe', 'https://tracker.example/p.gif']);
    assert.match(chat.page.url(), /\/chat\.html/);
  });

  it('link clicks post openLink and never navigate', async () => {
    await stream(chat.page, 'l1', 'Open [the insight](https://app.posthog.example/insights/42) or https://asana.example/0/1', 9);
    await chat.page.getByRole('link', { name: 'the insight' }).click();
    assert.deepEqual(await waitForPosted(chat.page, 'openLink'), { type: 'openLink', url: 'https://app.posthog.example/insights/42' });
    await chat.page.getByRole('link', { name: 'the insight' }).click({ modifiers: ['Control'] });
    await chat.page.getByRole('link', { name: 'https://asana.example/0/1' }).focus();
    await chat.page.keyboard.press('Enter');
    await chat.page.waitForFunction(
      () => (globalThis as unknown as { __posted: { type: string }[] }).__posted.filter((m) => m.type === 'openLink').length === 3,
    );
    assert.equal(chat.context.pages().length, 1, 'no new window');
    assert.match(chat.page.url(), /\/chat\.html/);
  });

  it('code block Copy posts the code', async () => {
    const code = "SELECT count() FROM events\nWHERE event = 'signed_up'";
    await stream(chat.page, 'c1', `Here:\n\n\`\`\`sql\n${code}\n\`\`\`\n\nThat is all.`, 6);
    const block = chat.page.locator('.code-block');
    assert.equal(await block.locator('.code-lang').textContent(), 'sql');
    await block.getByRole('button', { name: 'Copy code' }).click();
    assert.deepEqual(await waitForPosted(chat.page, 'copy'), { type: 'copy', text: code });
    await block.getByRole('button', { name: 'Copied' }).waitFor();
  });

  it('a delta for an unknown item starts a new assistant message; state replaces items', async () => {
    await deliver(chat.page, { type: 'textDelta', itemId: 'late', text: 'Arrived **first**' });
    await chat.page.locator('.msg-assistant strong', { hasText: 'first' }).waitFor();
    await deliver(
      chat.page,
      stateMsg({
        items: [
          { kind: 'user', id: 'u1', text: 'How did signups do?' },
          { kind: 'assistant', id: 'late', markdown: 'Arrived **first**, then more.', streaming: false },
          { kind: 'notice', id: 'n1', text: 'Conversation saved.' },
        ],
      }),
    );
    await chat.page.getByText('Conversation saved.').waitFor();
    assert.match((await chat.page.locator('.msg-assistant').textContent()) ?? '', /then more\./);
    assert.equal(await chat.page.locator('.msg').count(), 3);
    assert.equal((await postedOfType(chat.page, 'send')).length, 0);
  });
});
