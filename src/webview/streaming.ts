// Incremental markdown rendering for streamed answers.
//
// The source is split into a committed prefix and an unfinished tail. The split point is
// the start of a non-indented line that follows a blank line outside a code fence: what
// comes before it can no longer change meaning (bar loose-list spacing and reference
// definitions, handled on finish), so it is rendered once and its DOM kept. Each flush
// re-renders only the tail. Scanning is incremental (each character is looked at once),
// so a long answer costs work linear in its size, not quadratic.
import { renderMarkdown } from './markdown';

const fenceRe = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const refDefinitionRe = /^ {0,3}\[[^\]\n]+\]:\s*\S/m;

/** Finds safe commit points in a growing markdown source. Pure: no DOM. */
export class BlockSplitter {
  private source = '';
  /** End of the committed prefix. */
  private committed = 0;
  /** Start of the first line not yet scanned. */
  private scanPos = 0;
  private fence: { char: string; len: number } | null = null;
  private prevBlank = false;
  /** Latest safe commit point found by the scan (> committed when there is something to commit). */
  private candidate = 0;

  get text(): string {
    return this.source;
  }

  get committedLength(): number {
    return this.committed;
  }

  append(delta: string): void {
    this.source += delta;
  }

  /**
   * Scans newly completed lines and returns the chunk that became safe to commit
   * (possibly empty); afterwards `tail()` is the unfinished remainder.
   */
  takeCommittable(): string {
    const src = this.source;
    let pos = this.scanPos;
    for (;;) {
      const nl = src.indexOf('\n', pos);
      if (nl < 0) break;
      this.scanLine(src, pos, nl);
      pos = nl + 1;
    }
    this.scanPos = pos;
    if (this.candidate <= this.committed) return '';
    const chunk = src.slice(this.committed, this.candidate);
    this.committed = this.candidate;
    return chunk;
  }

  tail(): string {
    return this.source.slice(this.committed);
  }

  /** Marks everything so far as committed (after the caller rendered the whole source). */
  commitAll(): void {
    this.takeCommittable();
    this.committed = this.source.length;
    this.candidate = this.committed;
  }

  private scanLine(src: string, start: number, end: number): void {
    // Only look at a bounded prefix of the line: enough to classify it.
    const line = src.slice(start, Math.min(end, start + 256));
    if (this.fence) {
      const m = fenceRe.exec(line);
      if (m && m[1] && m[1][0] === this.fence.char && m[1].length >= this.fence.len && (m[2] ?? '').trim() === '') {
        this.fence = null;
      }
      this.prevBlank = false;
      return;
    }
    if (/^\s*$/.test(line) && (end - start <= 256 || /^\s*$/.test(src.slice(start, end)))) {
      this.prevBlank = true;
      return;
    }
    const first = line.charAt(0);
    if (this.prevBlank && first !== ' ' && first !== '\t' && start > this.committed) {
      this.candidate = start;
    }
    this.prevBlank = false;
    const m = fenceRe.exec(line);
    if (m && m[1]) {
      const char = m[1][0] ?? '`';
      if (!(char === '`' && (m[2] ?? '').includes('`'))) this.fence = { char, len: m[1].length };
    }
  }
}

/** The DOM side: a committed container that only grows, and a tail re-rendered per flush. */
export class StreamingMarkdownView {
  readonly el: HTMLDivElement;
  private readonly done: HTMLDivElement;
  private readonly tailEl: HTMLDivElement;
  private splitter = new BlockSplitter();
  private dirty = false;
  private renderedTail = '';

  constructor(initial: string) {
    this.el = document.createElement('div');
    this.el.className = 'markdown';
    this.done = document.createElement('div');
    this.done.className = 'md-done';
    this.tailEl = document.createElement('div');
    this.tailEl.className = 'md-tail';
    this.el.append(this.done, this.tailEl);
    if (initial) this.append(initial);
  }

  get text(): string {
    return this.splitter.text;
  }

  append(delta: string): void {
    if (!delta) return;
    this.splitter.append(delta);
    this.dirty = true;
  }

  /** Brings the DOM up to date with everything appended so far. */
  render(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const chunk = this.splitter.takeCommittable();
    if (chunk) this.done.appendChild(renderMarkdown(chunk));
    const tail = this.splitter.tail();
    if (tail !== this.renderedTail || chunk) {
      this.renderedTail = tail;
      this.tailEl.replaceChildren(renderMarkdown(tail));
    }
  }

  /** Replaces the whole source (when the host's text diverges from what was streamed). */
  reset(source: string): void {
    this.splitter = new BlockSplitter();
    this.done.replaceChildren();
    this.tailEl.replaceChildren();
    this.renderedTail = '';
    this.dirty = false;
    this.append(source);
    this.render();
  }

  /**
   * Called once when streaming ends. Reference-style link definitions can affect blocks
   * committed earlier, so in that (rare) case render the whole answer once more.
   */
  finish(): void {
    this.render();
    if (refDefinitionRe.test(this.splitter.text)) {
      this.done.replaceChildren(renderMarkdown(this.splitter.text));
      this.splitter.commitAll();
      this.tailEl.replaceChildren();
      this.renderedTail = '';
    }
  }
}
