// Markdown → sanitised DOM. markdown-it with raw HTML disabled, then DOMPurify with a
// tight allow-list, returned as a DocumentFragment (no innerHTML on our side at all).
import MarkdownIt, { type StateBlock, type Token as MarkdownToken } from 'markdown-it';
import DOMPurify from 'dompurify';
import { h, icon } from './dom';

const md = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: false });

// Images would need img-src beyond the webview CSP (and could be tracking pixels):
// show them as links instead.
md.renderer.rules.image = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  if (!token) return '';
  const src = String(token.attrGet('src') ?? '');
  const alt = String(self.renderInlineAsText(token.children ?? [], options, env) || src);
  if (!/^https?:\/\//i.test(src)) return md.utils.escapeHtml(alt);
  return `<a href="${md.utils.escapeHtml(src)}">${md.utils.escapeHtml(alt)}</a>`;
};

// Table alignment comes out as style="text-align:…", which the CSP (no 'unsafe-inline'
// styles) would block: turn it into a class.
md.core.ruler.push('onbehalf_align_classes', (state) => {
  for (const token of state.tokens) {
    if (token.type !== 'th_open' && token.type !== 'td_open') continue;
    const style = token.attrGet('style');
    if (style === null || style === undefined) continue;
    const match = /text-align:\s*(left|right|center)/.exec(String(style));
    token.attrs = (token.attrs ?? []).filter(([name]) => name !== 'style');
    if (match) token.attrJoin('class', `align-${match[1]}`);
  }
  return true;
});

const allowedTags = [
  'a',
  'p',
  'br',
  'hr',
  'em',
  'strong',
  's',
  'del',
  'code',
  'pre',
  'blockquote',
  'ul',
  'ol',
  'li',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'span',
  'sup',
  'sub',
];
const allowedAttrs = ['href', 'title', 'class', 'start'];

let hooksInstalled = false;
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    const el = node;
    if (el.nodeName === 'A') {
      const anchor = el;
      const href = anchor.getAttribute('href') ?? '';
      if (/^https?:\/\//i.test(href)) {
        if (!anchor.hasAttribute('title')) anchor.setAttribute('title', href);
      } else {
        // Not something we can open: keep the text, drop the link target.
        anchor.removeAttribute('href');
      }
    }
    if (el.hasAttribute('class')) {
      const kept = (el.getAttribute('class') ?? '').split(/\s+/).filter((c) => /^(language-[\w+#.-]{1,40}|align-(left|right|center))$/.test(c));
      if (kept.length) el.setAttribute('class', kept.join(' '));
      else el.removeAttribute('class');
    }
  });
}

// The list rule keeps whether an item's own blocks were separated by blank lines only in a
// local variable. Streaming renders a list one item at a time and needs that fact to decide
// the whole list's looseness exactly as markdown-it does, so record it while probing: the
// content of a top-level list item is tokenized at nesting level 2.
let itemTightness: boolean[] | null = null;
const tokenizeBlocks = md.block.tokenize.bind(md.block);
md.block.tokenize = (state: StateBlock, startLine: number, endLine: number): void => {
  tokenizeBlocks(state, startLine, endLine);
  if (itemTightness && state.level === 2 && state.parentType === 'list') itemTightness.push(state.tight);
};

export type Token = MarkdownToken;

/** Block tokens only (no inline parsing): enough to find where top-level blocks start. */
export function parseBlocks(source: string): Token[] {
  const tokens: Token[] = [];
  md.block.parse(source, md, {}, tokens);
  return tokens;
}

/** Full parse (block + inline + our core rules), to render with `renderTokens`. */
export function parseMarkdown(source: string): Token[] {
  return md.parse(source, {});
}

/**
 * Parses the source of one top-level list item (as a one-item list) and reports whether the
 * item's own blocks were tight, which markdown-it folds into the whole list's looseness.
 */
export function parseListItem(source: string): { tokens: Token[]; tight: boolean } {
  itemTightness = [];
  try {
    const tokens = md.parse(source, {});
    return { tokens, tight: itemTightness[0] ?? true };
  } finally {
    itemTightness = null;
  }
}

/** Renders markdown to a sanitised fragment, with code blocks given a Copy button. */
export function renderMarkdown(source: string): DocumentFragment {
  return sanitise(md.render(source));
}

/**
 * Renders already parsed (possibly adjusted) tokens, sanitised like `renderMarkdown`; `within`
 * wraps the HTML in that element first (a <tbody> alone would lose its table structure).
 */
export function renderTokens(tokens: Token[], within?: 'table'): DocumentFragment {
  const html = md.renderer.render(tokens, md.options, {});
  return sanitise(within ? `<${within}>${html}</${within}>` : html);
}

function sanitise(html: string): DocumentFragment {
  installHooks();
  const fragment = DOMPurify.sanitize(html, {
    ALLOWED_TAGS: allowedTags,
    ALLOWED_ATTR: allowedAttrs,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    RETURN_DOM_FRAGMENT: true,
  });
  enhanceCodeBlocks(fragment);
  segmentLongBlocks(fragment);
  return fragment;
}

/** Wraps each `<pre><code>` in a block with a language label and a Copy button. */
function enhanceCodeBlocks(root: DocumentFragment): void {
  for (const pre of Array.from(root.querySelectorAll('pre'))) {
    const code = pre.querySelector('code');
    const lang = /(?:^|\s)language-([\w+#.-]+)/.exec(code?.className ?? '')?.[1] ?? '';
    const wrapper = h('div', { class: 'code-block' });
    const toolbar = h(
      'div',
      { class: 'code-toolbar' },
      h('span', { class: 'code-lang', text: lang }),
      h('button', { class: 'icon-btn code-copy', type: 'button', title: 'Copy code', 'aria-label': 'Copy code', 'data-action': 'copy-code' }, icon('copy')),
    );
    pre.replaceWith(wrapper);
    pre.tabIndex = 0; // scrollable region reachable by keyboard
    wrapper.append(toolbar, pre);
    if (code) segmentCode(code);
  }
}

/**
 * Lines per code segment. A code block's lines are split into blocks of this many lines, so
 * the browser lays out (and re-collects the text of) one segment when a streamed line is
 * appended, not the whole fence. Streaming (streaming.ts) fills segments the same way.
 */
export const CODE_SEGMENT_LINES = 64;

/** An empty segment of a code block (a block-level span: looks like the lines it holds). */
export function codeSegment(): HTMLSpanElement {
  return h('span', { class: 'code-lines' });
}

/** Splits the code's text into segments of `CODE_SEGMENT_LINES` lines (text nodes only). */
function segmentCode(code: Element): void {
  const text = code.textContent ?? '';
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const segments: HTMLSpanElement[] = [];
  for (let i = 0; i < lines.length; i += CODE_SEGMENT_LINES) {
    const segment = codeSegment();
    segment.textContent = lines.slice(i, i + CODE_SEGMENT_LINES).join('');
    segments.push(segment);
  }
  code.replaceChildren(...segments);
}

/** The code text of a code block that contains `el` (for the Copy button). */
export function codeTextFor(el: Element): string | null {
  const block = el.closest('.code-block');
  const code = block?.querySelector('pre code') ?? block?.querySelector('pre');
  if (!code) return null;
  return (code.textContent ?? '').replace(/\n$/, '');
}

// ---- Long tables and lists: segments, so an appended row or item lays out one segment ----

/**
 * Body rows per table segment and items per list segment. A long top-level table continues
 * in further <table>s (no header) and a long top-level list in further lists, inside one
 * wrapper; streaming (streaming.ts) appends to them the same way, so the browser styles and
 * lays out the last segment when a row or item is appended, not the whole block.
 */
export const TABLE_SEGMENT_ROWS = 64;
export const LIST_SEGMENT_ITEMS = 64;

/** Splits the fragment's long top-level tables and lists into segments. */
function segmentLongBlocks(root: DocumentFragment): void {
  for (const block of Array.from(root.children)) {
    if (block.tagName === 'TABLE') {
      const body = block.querySelector(':scope > tbody');
      if (!body || body.childElementCount <= TABLE_SEGMENT_ROWS) continue;
      const rest = Array.from(body.children).slice(TABLE_SEGMENT_ROWS).map(detachWithNewline);
      for (const row of rest) appendTableRow(block, row);
    } else if (block.tagName === 'UL' || block.tagName === 'OL') {
      if (block.childElementCount <= LIST_SEGMENT_ITEMS) continue;
      // All of them first: the next segment's number follows the items left in this one.
      const rest = Array.from(block.children).slice(LIST_SEGMENT_ITEMS).map(detachWithNewline);
      for (const item of rest) appendListItem(block, item);
    }
  }
}

/** Removes an element and the newline markdown-it wrote after it (appending writes it again). */
function detachWithNewline(el: Element): Element {
  const next = el.nextSibling;
  if (next?.nodeType === Node.TEXT_NODE && next.textContent === '\n') next.remove();
  el.remove();
  return el;
}

/** The wrapper holding a segmented block's segments, when `first` (its first segment) has one. */
function segmentWrapper(first: Element, className: string): Element | null {
  const parent = first.parentElement;
  return parent?.classList.contains(className) && parent.firstElementChild === first ? parent : null;
}

/** Puts `first` inside a new wrapper, where it stands. */
function wrap(first: Element, className: string): HTMLDivElement {
  const wrapper = h('div', { class: className });
  first.replaceWith(wrapper);
  wrapper.append(first);
  return wrapper;
}

/**
 * Appends a body row to a markdown table (its first segment); returns the <tbody> it went
 * into. A full segment is followed by a new one, with the columns of the first.
 */
export function appendTableRow(table: Element, row: Element): Element {
  const wrapper = segmentWrapper(table, 'md-table');
  const last = wrapper?.lastElementChild ?? table;
  let body = last.querySelector(':scope > tbody');
  if (!body || body.childElementCount >= TABLE_SEGMENT_ROWS) {
    let segmented = wrapper;
    if (!segmented) {
      // Measured before the table moves into its wrapper, while its layout is still current.
      const widths = columnWidths(table);
      segmented = wrap(table, 'md-table');
      if (widths) fixColumns(segmented, widths);
      else fixColumnsOnceShown(segmented);
    }
    const segment = h('table', { class: 'md-table-more' });
    const columns = table.querySelector(':scope > colgroup');
    if (columns) {
      segment.append(columns.cloneNode(true));
      segment.style.width = (table as HTMLElement).style.width;
    }
    body = segment.appendChild(h('tbody'));
    segmented.append(segment);
  }
  body.append(row, '\n');
  return body;
}

/**
 * The widths of a table's columns as laid out (its header cells'); null when it has no layout
 * yet. A segmented table's columns are fixed to those of its first segment, laid out with
 * automatic widths and its rows only, on every segment with `table-layout: fixed`: the
 * segments line up as one table, and appending a row never re-measures the others.
 */
function columnWidths(table: Element): number[] | null {
  const header = table.querySelector(':scope > thead > tr');
  const widths = Array.from(header?.children ?? [], (cell) => cell.getBoundingClientRect().width);
  return widths.length && widths.every((width) => width > 0) ? widths : null;
}

function fixColumns(wrapper: Element, widths: readonly number[]): void {
  wrapper.classList.add('md-table-fixed');
  // At least the columns' widths: fixed layout then gives the table exactly the columns plus borders.
  const tableWidth = `${widths.reduce((sum, width) => sum + width, 0)}px`;
  for (const segment of Array.from(wrapper.children) as HTMLElement[]) {
    const columns = h('colgroup');
    for (const width of widths) columns.appendChild(h('col')).style.width = `${width}px`;
    segment.prepend(columns);
    segment.style.width = tableWidth;
  }
}

let columnObserver: ResizeObserver | null = null;

/** A table rendered before it is shown (a finished answer) gets its columns fixed when it first has a size. */
function fixColumnsOnceShown(wrapper: Element): void {
  const first = wrapper.firstElementChild;
  if (!first) return;
  columnObserver ??= new ResizeObserver((entries) => {
    for (const { target } of entries) {
      const widths = target.isConnected ? columnWidths(target) : null;
      const segmented = target.parentElement;
      if (widths && segmented && !segmented.classList.contains('md-table-fixed')) fixColumns(segmented, widths);
      if (widths || !target.isConnected) columnObserver?.unobserve(target);
    }
  });
  columnObserver.observe(first);
}

/**
 * Appends an item to a markdown list (its first segment); returns the list element it went
 * into. A full segment is followed by a new list of the same kind, an <ol> starting at the
 * next number.
 */
export function appendListItem(list: Element, item: Element): Element {
  const wrapper = segmentWrapper(list, 'md-list');
  let last = wrapper?.lastElementChild ?? list;
  if (last.childElementCount >= LIST_SEGMENT_ITEMS) {
    const segmented = wrapper ?? wrap(list, 'md-list');
    const segment = document.createElement(list.tagName === 'OL' ? 'ol' : 'ul');
    if (list.tagName === 'OL') segment.setAttribute('start', String(Number(last.getAttribute('start') ?? '1') + last.childElementCount));
    segment.append('\n');
    segmented.append(segment);
    last = segment;
  }
  last.append(item, '\n');
  return last;
}
