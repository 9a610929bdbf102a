// Streaming every block shape (tables, lists, code fences, and what surrounds them): the
// rendering once the stream ends is identical, element for element, to rendering the whole
// answer at once; and nothing unsanitised slips in through the incremental path.
import { strict as assert } from 'node:assert';
import type { Page } from 'playwright-core';
import { clearPosted, deliver, firstMatchWhileStreaming, settle, streamInChunks, type ChatPage, useChatPage, waitForPosted } from './helpers';
import { fenceMarkdown, listMarkdown, mixedMarkdown, tableMarkdown } from '../bench/markdown-shapes';
import { stateMsg } from './states';

/** The streamed item's rendered HTML and the same text delivered finished, at once. */
async function streamedAndOneShot(page: Page, text: string, sizes: readonly number[]): Promise<{ streamed: string; oneShot: string }> {
  await streamInChunks(page, 'streamed', text, sizes);
  await deliver(page, { type: 'item', item: { kind: 'assistant', id: 'one-shot', markdown: text, streaming: false } });
  await settle(page);
  const html = (id: string) =>
    page.evaluate(
      (at) => {
        const d = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ innerHTML: string }> } }).document;
        return d.querySelectorAll('.msg-assistant .markdown')[at]?.innerHTML ?? '';
      },
      id === 'streamed' ? 0 : 1,
    );
  return { streamed: await html('streamed'), oneShot: await html('one-shot') };
}

/** The little of the DOM the page functions use (the test tier compiles without DOM types). */
interface FakeElement {
  querySelector(s: string): FakeElement | null;
  querySelectorAll(s: string): { length: number };
  textContent: string | null;
}

const edgeCases: Record<string, string> = {
  'table ended by a paragraph line, escaped pipes, missing and extra cells': [
    'Intro line',
    '| a | b \\| c | d |',
    '|:-:|--|--:|',
    '| 1 | 2 | 3 |',
    '| only one',
    '| x | y | z | extra |',
    '|  | **bold** `code` [l](https://e.example/) |',
    '> a quote ends the table',
    '',
    '| h |',
    '|---|',
    'no pipe row',
    '- a list ends it',
    '',
    '| last | table |',
    '|---|---|',
    '| no | newline |',
  ].join('\n'),
  'tight, loose and nested lists, ordered starts, lazy lines, bullet changes': [
    '- one',
    '- two',
    '  lazy? no, continuation',
    'lazy continuation',
    '- three',
    '  - nested a',
    '  - nested b',
    '',
    '    nested para',
    '- four',
    '* other bullet starts a new list',
    '* and goes on',
    '',
    '3. three',
    '4. four',
    '',
    '5. five (now loose)',
    '',
    '',
    'Paragraph after.',
    '1) paren',
    '2) paren two',
    '# heading ends it',
    '- a',
    '',
    '  second paragraph of a (loose)',
    '- b',
    '-',
    '- after empty',
    '- ```',
    '  code in item',
    '',
    '- item after fence',
    '+ plus',
  ].join('\n'),
  'fences: tildes, long markers, indented openings, unclosed at the end': [
    '~~~~ python extra',
    'print("x")',
    '~~~',
    '    ~~~~ (indented four: still content)',
    '~~~~~',
    '',
    '  ```js',
    '    indented by four',
    '  two',
    'zero',
    '   ```',
    'After.',
    '```',
    '\tTab line',
    '',
    '',
    'trailing blanks',
    '````',
    'unclosed with ``` inside',
  ].join('\n'),
  'windows newlines and NUL characters': 'Para\r\n\r\n| a | b |\r\n|---|---|\r\n| 1 | \u0000 |\r\n\r\n- x\r\n- y\r\n\r\n```\r\nline\r\n```\r\n',
  'a list item that is only a fence, then a loose list': ['- ```', '  a', '  ```', '', '  ```', '  b', '  ```', '- c'].join('\n'),
  'long lists in segments: an ordered list from 7 that turns loose after its first segment, 64 and 65 items': [
    ...Array.from({ length: 100 }, (_, i) => (i === 80 ? `${i + 7}. loose after\n` : `${i + 7}. item`)),
    '',
    'Between.',
    '',
    ...Array.from({ length: 64 }, (_, i) => `- bullet ${i}`),
    '',
    'And.',
    '',
    ...Array.from({ length: 65 }, (_, i) => `* star ${i}${i % 9 === 0 ? '\n  * nested' : ''}`),
  ].join('\n'),
  'long tables in segments: 64 and 65 rows, and 130 rows with missing cells ended by a paragraph line': [
    ...['| a | b |', '|---|--:|', ...Array.from({ length: 64 }, (_, i) => `| ${i} | **${i}** |`)],
    '',
    ...['| a | b |', '|---|---|', ...Array.from({ length: 65 }, (_, i) => `| ${i} | x |`)],
    '',
    ...['| a | b | c |', '|---|---|---|', ...Array.from({ length: 130 }, (_, i) => (i % 3 ? `| ${i} | y |` : `| ${i} | y | \`z\` |`)), 'ends here'],
  ].join('\n'),
  'setext headings and tables that start in a paragraph': ['Title', '=====', 'para', '---', '| a |', '|---|', '| 1 |', 'text after the table'].join('\n'),
};

describe('chat webview: streaming every block shape', function () {
  const view = useChatPage(async (page) => {
    await deliver(page.page, stateMsg({ busy: true, items: [{ kind: 'user', id: 'u1', text: 'Show me everything' }] }));
  });
  let chat: ChatPage;
  beforeEach(() => {
    chat = view.chat;
  });

  for (const [name, text] of Object.entries(edgeCases)) {
    it(`ends identical to a one-shot render: ${name}`, async () => {
      for (const sizes of [[1], [3, 1, 7], [40]]) {
        await deliver(chat.page, stateMsg({ busy: true, items: [] }));
        const { streamed, oneShot } = await streamedAndOneShot(chat.page, text, sizes);
        assert.ok(oneShot.length > 100, oneShot);
        assert.equal(streamed, oneShot, `chunks of ${sizes.join(',')}`);
      }
    });
  }

  it('a long table, a long tight list and a long fence stream row by row and end identical to a one-shot render', async () => {
    for (const [text, selector, count] of [
      [tableMarkdown(40 * 1024), 'table tbody tr', 100],
      [listMarkdown(40 * 1024), 'ul > li', 100],
      [fenceMarkdown(40 * 1024), 'pre code', 1],
      [mixedMarkdown(30 * 1024), 'table', 2],
    ] as const) {
      await deliver(chat.page, stateMsg({ busy: true, items: [] }));
      const { streamed, oneShot } = await streamedAndOneShot(chat.page, text, [51, 17, 90]);
      assert.equal(streamed, oneShot);
      const found = await chat.page.locator('.msg-assistant').first().locator(selector).count();
      assert.ok(found >= count, `${selector}: ${found}`);
    }
  });

  it('commits table rows, list items and code lines while streaming (the committed part only grows)', async () => {
    const text = `${tableMarkdown(3000)}\n\n${listMarkdown(3000)}\n\n${fenceMarkdown(3000)}\n`;
    await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 'g', markdown: '', streaming: true } });
    const seen: { rows: number; items: number; codeLength: number; rowNode: boolean }[] = [];
    for (let i = 0; i < text.length; i += 400) {
      await deliver(chat.page, { type: 'textDelta', itemId: 'g', text: text.slice(i, i + 400) });
      await settle(chat.page);
      seen.push(
        await chat.page.evaluate(() => {
          const d = (globalThis as unknown as { document: { querySelector(s: string): FakeElement | null } }).document;
          const done = d.querySelector('.msg-assistant .md-done');
          const w = globalThis as unknown as { __firstRow?: FakeElement };
          const first = done?.querySelector('tbody tr') ?? null;
          if (first && !w.__firstRow) w.__firstRow = first;
          return {
            rows: done?.querySelectorAll('tbody tr').length ?? 0,
            items: done?.querySelectorAll('ul > li').length ?? 0,
            codeLength: done?.querySelector('pre code')?.textContent?.length ?? 0,
            // The first committed row is the same DOM node throughout: rows are appended, not re-rendered.
            rowNode: !w.__firstRow || w.__firstRow === first,
          };
        }),
      );
    }
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1], seen[i]];
      assert.ok(a && b && b.rows >= a.rows && b.items >= a.items && b.codeLength >= a.codeLength && b.rowNode, JSON.stringify(seen));
    }
    const grew = (key: 'rows' | 'items' | 'codeLength') => new Set(seen.map((s) => s[key])).size;
    assert.ok(grew('rows') > 3 && grew('items') > 3 && grew('codeLength') > 3, `committed while streaming: ${JSON.stringify(seen)}`);
  });

  it('a long code fence streams in bounded segments yet reads as one block, and its one Copy button copies all of it', async () => {
    const text = fenceMarkdown(30 * 1024);
    const code = text.split('\n').slice(1, -1).join('\n');
    await deliver(chat.page, stateMsg({ busy: true, items: [] }));
    await streamInChunks(chat.page, 'code', text, [51, 17, 90]);
    await settle(chat.page);
    const block = chat.page.locator('.msg-assistant .code-block');
    assert.equal(await block.count(), 1);
    const layout = await block.locator('pre').evaluate((pre) => {
      interface Box {
        textContent: string | null;
        getBoundingClientRect(): { top: number; bottom: number };
      }
      const g = globalThis as unknown as { getComputedStyle(el: unknown): { lineHeight: string } };
      const lineHeight = parseFloat(g.getComputedStyle(pre).lineHeight);
      const segments = Array.from(pre.querySelectorAll('.code-lines') as unknown as ArrayLike<Box>).map((s) => {
        const r = s.getBoundingClientRect();
        return { top: r.top, bottom: r.bottom, lines: (s.textContent ?? '').split('\n').length - 1 };
      });
      return { lineHeight, segments };
    });
    const { lineHeight, segments } = layout;
    assert.ok(segments.length > 5, `segments: ${segments.length}`);
    for (const [i, segment] of segments.entries()) {
      assert.ok(segment.lines <= 64, `segment ${i} holds ${segment.lines} lines`);
      // Each segment is exactly as tall as its lines, and starts where the one before ends: no gap, no blank line.
      assert.ok(Math.abs(segment.bottom - segment.top - segment.lines * lineHeight) < 1, `segment ${i}: ${JSON.stringify(segment)} at ${lineHeight}px a line`);
      const before = segments[i - 1];
      if (before) assert.ok(Math.abs(segment.top - before.bottom) < 0.5, `segment ${i} starts at ${segment.top}, the one before ends at ${before.bottom}`);
    }
    await clearPosted(chat.page);
    const copy = block.getByRole('button', { name: 'Copy code' });
    assert.equal(await copy.count(), 1);
    await copy.click();
    assert.deepEqual(await waitForPosted(chat.page, 'copy'), { type: 'copy', text: code });
  });

  it('a hostile table cell, list item or code line split across chunks is never markup', async () => {
    const payload = (n: number) => `<img src=x onerror="window.__pwned=${n}"><script>window.__pwned=${n}</script>`;
    const text = [
      '| a | b |',
      '|---|---|',
      `| ${payload(1)} | [x](javascript:window.__pwned=2) |`,
      `| ok | ${payload(7)} |`,
      '',
      `- ${payload(3)}`,
      `- <svg onload="window.__pwned=4"></svg>`,
      '',
      '```html',
      payload(5),
      '```',
      '',
      `Tail ${payload(6)}`,
    ].join('\n');
    for (const size of [1, 2, 5, 9]) {
      await deliver(chat.page, stateMsg({ busy: true, items: [] }));
      await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 'h', markdown: '', streaming: true } });
      // Every chunk is rendered at once, and the message is searched for markup after each.
      const firstMarkup = await firstMatchWhileStreaming(
        chat.page,
        'h',
        text,
        size,
        '.msg-assistant :is(img, script, svg, [onerror], [onload], a[href^="javascript"])',
      );
      assert.equal(firstMarkup, 0, `markup appeared after ${firstMarkup} characters in chunks of ${size}`);
      await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 'h', markdown: text, streaming: false } });
      await settle(chat.page);
      const msg = chat.page.locator('.msg-assistant');
      assert.equal(await msg.locator('td').first().textContent(), payload(1));
      assert.equal(await msg.locator('td').nth(3).textContent(), payload(7));
      assert.match((await msg.locator('li').first().textContent()) ?? '', /<img src=x onerror=/);
      assert.match((await msg.locator('pre code').textContent()) ?? '', /<script>window.__pwned=5<\/script>/);
    }
    assert.equal(await chat.page.evaluate('window.__pwned'), undefined, 'no payload ran');
  });

  it('follows a streaming answer to the bottom, stops when the user scrolls up, follows again after "Jump to latest"', async () => {
    const geometry = () =>
      chat.page.locator('main.messages').evaluate((el) => ({ below: el.scrollHeight - el.scrollTop - el.clientHeight, top: el.scrollTop }));
    const more = async (from: number) => {
      const text = tableMarkdown(6000).slice(from, from + 1500);
      for (let i = 0; i < text.length; i += 100) await deliver(chat.page, { type: 'textDelta', itemId: 'f', text: text.slice(i, i + 100) });
      await settle(chat.page);
    };
    await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 'f', markdown: '', streaming: true } });
    await more(0);
    await more(1500);
    const followed = await geometry();
    assert.ok(followed.top > 0 && followed.below < 2, `at the bottom while streaming: ${JSON.stringify(followed)}`);
    // The user scrolls up: new rows no longer move the view.
    await chat.page.locator('main.messages').evaluate((el) => el.scrollBy(0, -300));
    await settle(chat.page);
    const up = await geometry();
    await more(3000);
    const after = await geometry();
    assert.equal(after.top, up.top, 'the view stays where the user put it');
    assert.ok(after.below > up.below, 'content grew below');
    await chat.page.getByRole('button', { name: 'Jump to latest message' }).click();
    await more(4500);
    const again = await geometry();
    assert.ok(again.below < 2, `following again: ${JSON.stringify(again)}`);
  });
});
