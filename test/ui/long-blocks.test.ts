// Long tables and lists stream in segments (so each appended row or item lays out one
// segment); what a person sees is still one table whose columns line up and one list
// numbered without gaps, and every cell is still sanitised markdown.
import { strict as assert } from 'node:assert';
import { deliver, firstMatchWhileStreaming, settle, streamInChunks, type ChatPage, useChatPage } from './helpers';
import { tableMarkdown } from '../bench/markdown-shapes';
import { stateMsg } from './states';

/** The header and the first `rows` body rows of the bench's table (markdown in some cells). */
function tableOfRows(rows: number): string {
  const lines = tableMarkdown(rows * 80).split('\n');
  assert.ok(lines.length >= rows + 2, `only ${lines.length - 2} rows`);
  return lines.slice(0, rows + 2).join('\n');
}

interface RowBox {
  readonly top: number;
  readonly bottom: number;
  /** [left, right] of each cell. */
  readonly cells: readonly (readonly [number, number])[];
}

/** Geometry of the first assistant message's table: segments, header row and body rows. */
async function tableGeometry(chat: ChatPage): Promise<{ segments: number; headers: number; header: RowBox; rows: RowBox[] }> {
  return chat.page
    .locator('.msg-assistant')
    .first()
    .evaluate((msg) => {
      interface Box {
        getBoundingClientRect(): { top: number; bottom: number; left: number; right: number };
        children: ArrayLike<Box>;
      }
      const all = (selector: string) => Array.from(msg.querySelectorAll(selector) as unknown as ArrayLike<Box>);
      const box = (row: Box) => {
        const r = row.getBoundingClientRect();
        return {
          top: r.top,
          bottom: r.bottom,
          cells: Array.from(row.children, (c) => [c.getBoundingClientRect().left, c.getBoundingClientRect().right] as const),
        };
      };
      const header = all('thead tr')[0];
      if (!header) throw new Error('no header row');
      return { segments: all('table').length, headers: all('thead').length, header: box(header), rows: all('tbody tr').map(box) };
    });
}

describe('chat webview: long tables and lists read as one block', function () {
  this.timeout(120_000);
  const view = useChatPage(async (page) => {
    await deliver(page.page, stateMsg({ busy: true, items: [{ kind: 'user', id: 'u1', text: 'Show me everything' }] }));
  });
  let chat: ChatPage;
  beforeEach(() => {
    chat = view.chat;
  });

  for (const how of ['streamed', 'rendered at once'] as const) {
    it(`a 2,000-row table ${how} is one continuous table: its columns line up from the header to the last row, no gap or doubled border`, async () => {
      const text = tableOfRows(2000);
      await deliver(chat.page, stateMsg({ busy: true, items: [] }));
      if (how === 'streamed') await streamInChunks(chat.page, 'table', text, [51, 17, 90]);
      else await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 'table', markdown: text, streaming: false } });
      await settle(chat.page);
      const { segments, headers, header, rows } = await tableGeometry(chat);
      assert.equal(rows.length, 2000);
      assert.ok(segments > 2000 / 100, `the table streams in segments: ${segments}`);
      assert.equal(headers, 1, 'one header row, at the top');
      // Every body row's cells start and end where the header's do.
      for (const [i, row] of rows.entries()) {
        assert.equal(row.cells.length, header.cells.length, `row ${i}`);
        for (const [c, [left, right]] of row.cells.entries()) {
          const [hl, hr] = header.cells[c] ?? [NaN, NaN];
          assert.ok(Math.abs(left - hl) < 0.5 && Math.abs(right - hr) < 0.5, `row ${i} cell ${c} spans ${left}-${right}, the header ${hl}-${hr}`);
        }
      }
      // Each row starts where the one above ends, across segments too (the border between them is one border).
      const seam = (i: number) => (rows[i]?.top ?? NaN) - (rows[i - 1]?.bottom ?? NaN);
      const within = seam(1);
      for (let i = 1; i < rows.length; i++)
        assert.ok(Math.abs(seam(i) - within) < 0.5, `rows ${i - 1} and ${i} are ${seam(i)} px apart, rows 0 and 1 ${within} px`);
    });
  }

  for (const how of ['streamed', 'rendered at once'] as const) {
    it(`a 500-item numbered list from 7 ${how} is numbered 7..506 without a gap, its items evenly spaced`, async () => {
      const text = Array.from({ length: 500 }, (_, i) => `${i + 7}. item ${i + 7}`).join('\n');
      await deliver(chat.page, stateMsg({ busy: true, items: [] }));
      if (how === 'streamed') await streamInChunks(chat.page, 'list', text, [51, 17, 90]);
      else await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 'list', markdown: text, streaming: false } });
      await settle(chat.page);
      // The numbers as the accessibility tree (what a screen reader reads, and the markers drawn) has them.
      const cdp = await chat.context.newCDPSession(chat.page);
      const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: { role?: { value?: string }; name?: { value?: string } }[] };
      const markers = nodes.filter((n) => n.role?.value === 'ListMarker').map((n) => (n.name?.value ?? '').trim());
      assert.deepEqual(
        markers,
        Array.from({ length: 500 }, (_, i) => `${i + 7}.`),
      );
      const items = await chat.page
        .locator('.msg-assistant li')
        .evaluateAll((lis) => lis.map((li) => [(li.textContent ?? '').trim(), li.getBoundingClientRect().top, li.getBoundingClientRect().left] as const));
      assert.deepEqual(
        items.map(([label]) => label),
        Array.from({ length: 500 }, (_, i) => `item ${i + 7}`),
      );
      const step = (items[1]?.[1] ?? NaN) - (items[0]?.[1] ?? NaN);
      for (let i = 1; i < items.length; i++) {
        const [, top, left] = items[i] ?? ['', NaN, NaN];
        assert.ok(
          Math.abs(top - (items[i - 1]?.[1] ?? NaN) - step) < 0.5,
          `item ${i} is ${top - (items[i - 1]?.[1] ?? NaN)} px below the one before, items 0-1 ${step} px`,
        );
        assert.ok(Math.abs(left - (items[0]?.[2] ?? NaN)) < 0.5, `item ${i} starts at x ${left}`);
      }
      assert.ok((await chat.page.locator('.msg-assistant ol').count()) > 1, 'the list streams in segments');
    });
  }

  it('markdown in the cells of a long table, far past its first segment, is rendered and sanitised while streaming and at the end', async () => {
    const payload = (n: number) => `<img src=x onerror="window.__pwned=${n}"><script>window.__pwned=${n}</script>`;
    const lines = tableOfRows(300).split('\n');
    lines[250] = `| ${payload(1)} | **bold** \`code\` [link](https://e.example/) | [x](javascript:window.__pwned=2) | <b>raw</b> | ${payload(3)} |`;
    const text = lines.join('\n');
    for (const size of [7, 64]) {
      await deliver(chat.page, stateMsg({ busy: true, items: [] }));
      await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 'h', markdown: '', streaming: true } });
      const firstMarkup = await firstMatchWhileStreaming(chat.page, 'h', text, size, '.msg-assistant :is(img, script, b, [onerror], a[href^="javascript"])');
      assert.equal(firstMarkup, 0, `markup appeared after ${firstMarkup} characters in chunks of ${size}`);
      await deliver(chat.page, { type: 'item', item: { kind: 'assistant', id: 'h', markdown: text, streaming: false } });
      await settle(chat.page);
      // Body row 248 sits in the fourth segment.
      const row = chat.page
        .locator('.msg-assistant .md-table > table')
        .nth(3)
        .locator('tr')
        .nth(248 - 3 * 64);
      const cells = row.locator('td');
      assert.equal(await cells.nth(0).textContent(), payload(1));
      assert.equal(await cells.nth(1).locator('strong').textContent(), 'bold');
      assert.equal(await cells.nth(1).locator('code').textContent(), 'code');
      assert.equal(await cells.nth(1).locator('a').getAttribute('href'), 'https://e.example/');
      assert.equal(await cells.nth(2).locator('a').count(), 0);
      assert.equal(await cells.nth(2).textContent(), '[x](javascript:window.__pwned=2)');
      assert.equal(await cells.nth(3).textContent(), '<b>raw</b>');
      assert.equal(await cells.nth(4).textContent(), payload(3));
    }
    assert.equal(await chat.page.evaluate('window.__pwned'), undefined, 'no payload ran');
  });
});
