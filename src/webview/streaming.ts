// Incremental markdown rendering for streamed answers.
//
// Everything before `committed` is rendered once and its DOM kept. Complete lines after it
// are split into top-level blocks by markdown-it's own block parser; every block but the last
// is closed (CommonMark only ever leaves the last block open), so it is rendered and kept.
// When the last block is a table, a list or a code fence, a block-specific handler takes over
// and commits its rows, items or lines as they complete, appending them to the block's DOM:
// the work per flush is bounded by the unfinished row / item / line, not by the block. A long
// table, list or fence grows in segments (markdown.ts), so the browser's style and layout
// work per appended row / item / line is bounded by one segment too.
// Every piece is still rendered by markdown-it and sanitised by DOMPurify (a code line is
// inserted as a text node, which cannot carry markup). The result once streaming ends is
// identical to rendering the whole answer at once (test/ui/streaming-shapes.test.ts).
import {
  CODE_SEGMENT_LINES,
  appendListItem,
  appendTableRow,
  codeSegment,
  parseBlocks,
  parseListItem,
  parseMarkdown,
  renderMarkdown,
  renderTokens,
  type Token,
} from './markdown';

const refDefinitionRe = /^ {0,3}\[[^\]\n]+\]:\s*\S/m;
const blankRe = /^[ \t]*$/;
// markdown-it gives up on a table once this many cells were missing from its rows.
const maxAutocompletedCells = 65_536;

/** A line of the source: [start, end) without its newline; `next` is where the following line starts. */
interface Line {
  readonly start: number;
  readonly end: number;
  readonly next: number;
}

/**
 * The growing (normalised) source, shared by the view and its open block. Only the part still
 * read is kept (from `base`): reading a string that was appended to makes V8 copy all of it,
 * so keeping the whole answer would cost work proportional to its length on every flush.
 */
class Source {
  private text = '';
  private base = 0;
  /** Offset just after the last newline. */
  complete = 0;

  get length(): number {
    return this.base + this.text.length;
  }

  append(delta: string): void {
    const nl = delta.lastIndexOf('\n');
    if (nl >= 0) this.complete = this.length + nl + 1;
    this.text += delta;
  }

  slice(start: number, end = this.length): string {
    if (start < this.base) throw new Error('streaming source read before its kept part');
    return this.text.slice(start - this.base, end - this.base);
  }

  indexOf(search: string, from: number): number {
    const at = this.text.indexOf(search, from - this.base);
    return at < 0 ? -1 : at + this.base;
  }

  /** Nothing before `offset` will be read again. */
  forgetBefore(offset: number): void {
    if (offset - this.base < 16_384) return;
    this.text = this.text.slice(offset - this.base);
    this.base = offset;
  }
}

/** The open last block, fed complete lines; its finished parts are already in the DOM. */
interface OpenBlock {
  /** Takes the next complete line: null while the block goes on, else the offset where the next block starts. */
  feed(line: Line): number | null;
  /** Shows what is not final yet; returns what belongs after the block (for the tail). */
  provisional(partial: string): DocumentFragment | null;
  clearProvisional(): void;
  /** The answer ended (every line was fed). */
  finish(): void;
  /** Where the part of the source this block still reads starts. */
  readonly keepFrom: number;
}

/** markdown-it's own normalisation (rules_core/normalize), applied as text arrives. */
function normalise(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/\0/g, '\uFFFD');
}

/** Column width of a line's leading spaces and tabs (tabs to the next multiple of 4). */
function leadingColumns(text: string): { columns: number; chars: number } {
  let columns = 0;
  let chars = 0;
  for (; chars < text.length; chars++) {
    const ch = text[chars];
    if (ch === ' ') columns++;
    else if (ch === '\t') columns += 4 - (columns % 4);
    else break;
  }
  return { columns, chars };
}

/** Top-level block tokens (their `map` gives the first line). */
function topLevel(tokens: Token[]): Token[] {
  return tokens.filter((t) => t.level === 0 && t.nesting !== -1 && t.map);
}

function offsetOfLine(text: string, line: number): number {
  let at = 0;
  for (let i = 0; i < line; i++) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) return text.length;
    at = nl + 1;
  }
  return at;
}

// ---- Code fences: each completed line is appended as text, in segments of lines ----

class FenceBlock implements OpenBlock {
  private readonly code: Element;
  private readonly indent: number;
  private readonly marker: string;
  private readonly length: number;
  private closed = false;
  private started = false;
  private shown: Text | null = null;
  /** The segment lines are appended to, and how many it holds (as renderMarkdown splits them). */
  private segment: HTMLSpanElement | null = null;
  private segmentLines = 0;
  keepFrom = 0;

  constructor(
    private readonly source: Source,
    done: HTMLElement,
    private readonly openLine: string,
    markup: string,
  ) {
    this.indent = leadingColumns(openLine).columns;
    this.marker = markup.charAt(0);
    this.length = markup.length;
    // The block's frame (toolbar, <pre>, <code class="language-…">) comes from markdown-it.
    const frame = renderMarkdown(`${openLine}\n${markup}`);
    const code = frame.querySelector('pre code');
    if (!code) throw new Error('a fence rendered without <pre><code>');
    this.code = code;
    done.append(frame);
  }

  feed(line: Line): number | null {
    this.keepFrom = line.next;
    if (this.closed) return line.start;
    if (!this.started) {
      this.started = true; // the opening line
      return null;
    }
    const text = this.source.slice(line.start, line.end);
    if (this.isClosing(text)) {
      this.closed = true;
      this.segment?.normalize();
      return null;
    }
    this.currentSegment().appendChild(document.createTextNode(this.content(text, line.next > line.end)));
    this.segmentLines++;
    return null;
  }

  /** The segment the next line goes into: a full one is finished (its text merged) and a new one started. */
  private currentSegment(): HTMLSpanElement {
    if (this.segment && this.segmentLines < CODE_SEGMENT_LINES) return this.segment;
    this.segment?.normalize();
    this.segment = codeSegment();
    this.segmentLines = 0;
    this.code.appendChild(this.segment);
    return this.segment;
  }

  provisional(partial: string): DocumentFragment | null {
    if (this.closed) return partial ? renderMarkdown(partial) : null;
    if (partial) {
      this.shown = document.createTextNode(partial);
      (this.segment ?? this.code).appendChild(this.shown);
    }
    return null;
  }

  clearProvisional(): void {
    this.shown?.remove();
    this.shown = null;
  }

  finish(): void {
    this.segment?.normalize();
  }

  /** markdown-it's closing-fence test (rules_block/fence) for a top-level fence. */
  private isClosing(text: string): boolean {
    const { columns, chars } = leadingColumns(text);
    if (columns >= 4) return false;
    let run = 0;
    while (text.charAt(chars + run) === this.marker) run++;
    return run >= this.length && blankRe.test(text.slice(chars + run));
  }

  /** The line as the fence's content: verbatim, or with the opening's indent removed (via markdown-it). */
  private content(text: string, newline: boolean): string {
    const withNewline = newline ? `${text}\n` : text;
    if (this.indent === 0) return withNewline;
    const fence = parseBlocks(`${this.openLine}\n${withNewline}`).find((t) => t.type === 'fence');
    return fence ? fence.content : withNewline;
  }
}

// ---- Tables: each completed row is rendered with the header and appended ----

/** markdown-it's cell split (rules_block/table escapedSplit), counting cells only. */
function cellCount(line: string): number {
  const cells: string[] = [];
  let current = '';
  let escaped = false;
  for (const ch of line) {
    if (ch === '|' && !escaped) {
      cells.push(current);
      current = '';
    } else current += ch;
    escaped = ch === '\\';
  }
  cells.push(current);
  if (cells.length && cells[0] === '') cells.shift();
  if (cells.length && cells[cells.length - 1] === '') cells.pop();
  return cells.length;
}

class TableBlock implements OpenBlock {
  private header = '';
  private lines = 0;
  private columns = 0;
  private autocompleted = 0;
  private table: Element | null = null;
  private tbody: Element | null = null;
  private shown: Node[] = [];
  keepFrom = 0;

  constructor(
    private readonly source: Source,
    private readonly done: HTMLElement,
  ) {}

  feed(line: Line): number | null {
    const text = this.source.slice(line.start, line.end);
    this.keepFrom = line.next;
    if (this.lines < 2) {
      this.header = this.lines === 0 ? text : `${this.header}\n${text}`;
      if (++this.lines === 2) {
        this.columns = cellCount((this.header.split('\n')[0] ?? '').trim());
        const frame = renderMarkdown(this.header);
        this.table = frame.querySelector('table');
        this.done.append(frame);
      }
      return null;
    }
    // The row is parsed after the header, as markdown-it sees it in the table: whether it
    // continues the table depends only on the row itself (and the cells missing so far).
    const tokens = this.rowTokens(text);
    if (!tokens) return line.start;
    this.autocompleted += this.columns - cellCount(text.trim());
    if (this.autocompleted > maxAutocompletedCells) return line.start;
    if (this.tbody) {
      // Only the row's own tokens are rendered (inside a table, so the HTML parser keeps the <tr>).
      const open = tokens.findIndex((t) => t.type === 'tbody_open');
      const close = tokens.findIndex((t) => t.type === 'tbody_close');
      const row = renderTokens(tokens.slice(open, close + 1), 'table').querySelector('tbody > tr');
      if (row && this.table) this.tbody = appendTableRow(this.table, row);
      return null;
    }
    const rendered = renderTokens(tokens);
    {
      // The first row: take markdown-it's table with its <tbody>.
      const table = rendered.querySelector('table');
      if (!table || !this.table) throw new Error('a table row rendered without a table');
      this.table.replaceWith(table);
      this.table = table;
      this.tbody = table.querySelector('tbody');
      return null;
    }
  }

  provisional(partial: string): DocumentFragment | null {
    if (!partial) return null;
    const cells = partial.trim().replace(/^\|/, '').split('|');
    if (!this.tbody || !partial.trim().startsWith('|') || cells.length > this.columns) return renderMarkdown(partial);
    // The unfinished row as plain text in cells (text nodes: no markup can form); markdown-it
    // renders it once the line is complete.
    const row = document.createElement('tr');
    row.className = 'md-partial';
    for (const cell of cells) row.appendChild(document.createElement('td')).textContent = cell.trim();
    this.shown = [row];
    this.tbody.append(row);
    return null;
  }

  clearProvisional(): void {
    for (const node of this.shown) node.parentNode?.removeChild(node);
    this.shown = [];
  }

  finish(): void {}

  /** Tokens of header + row when the row is a row of this table, else null. */
  private rowTokens(row: string): Token[] | null {
    const tokens = parseMarkdown(`${this.header}\n${row}`);
    const first = tokens[0];
    return first?.type === 'table_open' && first.map?.[1] === 3 ? tokens : null;
  }
}

// ---- Lists: each completed top-level item is rendered alone and appended ----

interface CommittedItem {
  readonly source: string;
  li: Element;
}

class ListBlock implements OpenBlock {
  /** The list element (the first segment of a long list) and the segment items go into. */
  private readonly list: Element;
  private segment: Element;
  private readonly items: CommittedItem[] = [];
  /** Start of the item not yet complete. */
  private itemStart: number;
  /** End of the lines fed so far. */
  private fedEnd: number;
  /** markdown-it makes the whole list loose once any item is; it never becomes tight again. */
  private loose = false;
  private shown: Node[] = [];

  get keepFrom(): number {
    return this.itemStart;
  }

  constructor(
    private readonly source: Source,
    done: HTMLElement,
    start: number,
    firstLine: string,
  ) {
    this.itemStart = start;
    this.fedEnd = start;
    // The list element (<ul>, or <ol start=…>) from its first line; items are appended to it.
    const frame = renderMarkdown(firstLine);
    const list = frame.firstElementChild;
    if (!list || (list.tagName !== 'UL' && list.tagName !== 'OL')) throw new Error('a list rendered without a list element');
    list.replaceChildren('\n');
    this.list = list;
    this.segment = list;
    done.append(frame);
  }

  feed(line: Line): number | null {
    const text = this.source.slice(line.start, line.end);
    if (line.start === this.itemStart || blankRe.test(text)) {
      this.fedEnd = line.next;
      return null;
    }
    // Parse the open item plus this line: markdown-it says whether the line continues the
    // item, starts the next item of this list, or starts a block after the list.
    const region = this.source.slice(this.itemStart, line.next);
    const tokens = parseBlocks(region);
    const blocks = topLevel(tokens);
    const first = blocks[0];
    const itemLines = tokens.filter((t) => t.type === 'list_item_open' && t.level === 1).map((t) => t.map?.[0] ?? 0);
    const isList = first?.type === 'bullet_list_open' || first?.type === 'ordered_list_open';
    if (isList && blocks.length === 1 && itemLines.length === 1) {
      this.fedEnd = line.next;
      return null;
    }
    if (isList && blocks.length === 1 && itemLines.length === 2) {
      const next = this.itemStart + offsetOfLine(region, itemLines[1] ?? 0);
      this.commit(this.itemStart, next, false);
      this.itemStart = next;
      this.fedEnd = line.next;
      return null;
    }
    // The list ended: the next block starts at the second top-level block.
    const second = blocks[1];
    const next = second?.map ? this.itemStart + offsetOfLine(region, second.map[0]) : line.start;
    this.commit(this.itemStart, next, true);
    this.itemStart = next;
    return next;
  }

  provisional(partial: string): DocumentFragment | null {
    const open = this.source.slice(this.itemStart, this.fedEnd) + partial;
    if (!open) return null;
    const rendered = renderMarkdown(open);
    const list = rendered.firstElementChild;
    if (!list || list.tagName !== this.list.tagName) return rendered;
    // The open item (and anything after it in the same list) shows inside the list.
    for (const li of Array.from(list.children)) {
      if (li.tagName !== 'LI') continue;
      this.shown.push(li, document.createTextNode('\n'));
    }
    this.segment.append(...this.shown);
    list.remove();
    return rendered;
  }

  clearProvisional(): void {
    for (const node of this.shown) node.parentNode?.removeChild(node);
    this.shown = [];
  }

  finish(): void {
    const end = this.source.length;
    if (this.itemStart < end) this.commit(this.itemStart, end, true);
    this.itemStart = end;
  }

  /** Renders item [start, end) and appends it; `last` when no sibling follows it. */
  private commit(start: number, end: number, last: boolean): void {
    const source = this.source.slice(start, end);
    const { tokens, tight } = parseListItem(source);
    // markdown-it: a list is loose when an item's blocks are separated by a blank line, or
    // an item that has more than one line ends with a blank line before the next item.
    const lines = source.replace(/\n$/, '').split('\n');
    const gap = !last && lines.length > 1 && blankRe.test(lines[lines.length - 1] ?? '');
    if ((!tight || gap) && !this.loose) {
      this.loose = true;
      // Items committed as tight show their paragraphs now (once per list).
      for (const item of this.items) {
        const again = this.renderItem(parseListItem(item.source).tokens);
        item.li.replaceWith(again);
        item.li = again;
      }
    }
    const li = this.renderItem(tokens);
    this.segment = appendListItem(this.list, li);
    this.items.push({ source, li });
  }

  /** The item's <li>, its direct paragraphs hidden when the list is tight (markTightParagraphs). */
  private renderItem(tokens: Token[]): Element {
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i];
      const close = tokens[i + 2];
      if (token?.type === 'paragraph_open' && token.level === 2 && close) {
        token.hidden = !this.loose;
        close.hidden = !this.loose;
      }
    }
    const li = Array.from(renderTokens(tokens).firstElementChild?.children ?? []).find((el) => el.tagName === 'LI');
    if (!li) throw new Error('a list item rendered without <li>');
    return li;
  }
}

/** The DOM side: a committed container that only grows, and a tail re-rendered per flush. */
export class StreamingMarkdownView {
  readonly el: HTMLDivElement;
  private readonly done: HTMLDivElement;
  private readonly tailEl: HTMLDivElement;
  /** The text as received (what the host's item is compared with). */
  private raw = '';
  /** The text as markdown-it sees it (newlines normalised). */
  private source = new Source();
  private heldCR = false;
  /** Everything before this offset is final in `done` (or belongs to the open block). */
  private committed = 0;
  /** End of the complete lines already handed to the open block or the generic parse. */
  private fed = 0;
  private open: OpenBlock | null = null;
  private dirty = false;
  private finished = false;

  constructor(initial: string, streaming = true) {
    this.el = document.createElement('div');
    this.el.className = 'markdown';
    this.done = document.createElement('div');
    this.done.className = 'md-done';
    this.tailEl = document.createElement('div');
    this.tailEl.className = 'md-tail';
    this.el.append(this.done, this.tailEl);
    if (streaming) {
      this.append(initial);
      return;
    }
    // A finished answer is rendered at once.
    this.raw = initial;
    const whole = normalise(initial);
    this.done.append(renderMarkdown(whole));
    this.committed = this.fed = whole.length;
    this.finished = true;
  }

  get text(): string {
    return this.raw;
  }

  append(delta: string): void {
    if (!delta) return;
    if (this.finished) {
      // More text after the end (rare): the last line was taken as complete, so start over.
      const whole = this.raw + delta;
      this.reset(whole);
      this.finish();
      return;
    }
    this.raw += delta;
    let text = (this.heldCR ? '\r' : '') + delta;
    // A trailing CR may be the first half of CRLF: keep it until the next delta.
    this.heldCR = text.endsWith('\r');
    if (this.heldCR) text = text.slice(0, -1);
    this.source.append(normalise(text));
    this.dirty = true;
  }

  /** Brings the DOM up to date with everything appended so far. */
  render(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const complete = this.source.complete;
    this.clearProvisional();
    if (complete > this.fed) this.consume(complete);
    this.source.forgetBefore(this.open ? Math.min(this.open.keepFrom, this.fed) : this.committed);
    this.showProvisional(this.source.slice(this.fed));
  }

  /** Replaces the whole source (when the host's text diverges from what was streamed). */
  reset(source: string): void {
    this.raw = '';
    this.source = new Source();
    this.heldCR = false;
    this.committed = this.fed = 0;
    this.open = null;
    this.finished = false;
    this.done.replaceChildren();
    this.tailEl.replaceChildren();
    this.dirty = false;
    this.append(source);
    this.render();
  }

  /** Called once when streaming ends: the last line is complete, every open block closes. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.heldCR) this.source.append('\n');
    this.heldCR = false;
    this.dirty = false;
    this.clearProvisional();
    this.tailEl.replaceChildren();
    const end = this.source.length;
    if (end > this.fed) this.consume(end);
    if (this.open) this.open.finish();
    else if (this.committed < end) this.done.append(renderMarkdown(this.source.slice(this.committed)));
    this.open = null;
    this.committed = this.fed = end;
    // Reference-style link definitions can affect blocks committed earlier: in that (rare)
    // case render the whole answer once more.
    const whole = normalise(this.raw);
    if (refDefinitionRe.test(whole)) this.done.replaceChildren(renderMarkdown(whole));
  }

  /** Hands the lines up to `to` to the open block, or splits them into blocks. */
  private consume(to: number): void {
    for (;;) {
      if (this.open) {
        const next = this.feedOpen(to);
        if (next === null) return;
        this.open = null;
        this.committed = this.fed = next;
      }
      if (!this.splitBlocks(to)) {
        this.fed = to;
        return;
      }
    }
  }

  /** Feeds lines [fed, to) to the open block; the offset of the next block if it ended. */
  private feedOpen(to: number): number | null {
    let at = this.fed;
    while (at < to && this.open) {
      const nl = this.source.indexOf('\n', at);
      const end = nl < 0 || nl >= to ? to : nl;
      const next = nl < 0 || nl >= to ? to : nl + 1;
      const ended = this.open.feed({ start: at, end, next });
      if (ended !== null) return ended;
      at = next;
      this.fed = at;
    }
    return null;
  }

  /**
   * Commits every complete top-level block in [committed, to) but the last; starts a handler
   * when the last one is a table, list or fence. True when a handler was started.
   */
  private splitBlocks(to: number): boolean {
    if (this.committed >= to) return false;
    const region = this.source.slice(this.committed, to);
    const blocks = topLevel(parseBlocks(region));
    const last = blocks[blocks.length - 1];
    if (!last?.map) return false;
    const lastStart = this.committed + offsetOfLine(region, last.map[0]);
    if (lastStart > this.committed) {
      this.done.append(renderMarkdown(this.source.slice(this.committed, lastStart)));
      this.committed = lastStart;
    }
    const nl = this.source.indexOf('\n', lastStart);
    const firstLine = this.source.slice(lastStart, nl < 0 ? this.source.length : nl);
    let open: OpenBlock | null = null;
    if (last.type === 'fence') open = new FenceBlock(this.source, this.done, firstLine, last.markup);
    else if (last.type === 'table_open') open = new TableBlock(this.source, this.done);
    else if (last.type === 'bullet_list_open' || last.type === 'ordered_list_open') open = new ListBlock(this.source, this.done, lastStart, firstLine);
    if (!open) return false;
    this.open = open;
    this.fed = lastStart;
    return true;
  }

  private showProvisional(partial: string): void {
    const tail = this.open ? this.open.provisional(partial) : this.committed < this.source.length ? renderMarkdown(this.source.slice(this.committed)) : null;
    if (tail) this.tailEl.replaceChildren(tail);
  }

  private clearProvisional(): void {
    this.open?.clearProvisional();
    this.tailEl.replaceChildren();
  }
}
