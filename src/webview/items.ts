// One component per chat item kind. Each keeps its DOM and updates it in place.
import type { ChatItemView } from '../shared/protocol';
import type { ViewContext } from './context';
import { h, icon, srOnly } from './dom';
import { StreamingMarkdownView } from './streaming';
import { ToolCardComponent, fixButtonRow, retryButton } from './toolCard';

export interface ItemComponent {
  readonly kind: ChatItemView['kind'];
  readonly el: HTMLElement;
  update(item: ChatItemView): void;
  dispose(): void;
}

type ItemOf<K extends ChatItemView['kind']> = Extract<ChatItemView, { kind: K }>;

class UserItem implements ItemComponent {
  readonly kind = 'user' as const;
  readonly el: HTMLElement;
  private readonly bubble: HTMLDivElement;
  private text = '';

  constructor(item: ItemOf<'user'>) {
    this.bubble = h('div', { class: 'bubble' });
    this.el = h('div', { class: 'msg msg-user' }, srOnly('You said:'), this.bubble);
    this.update(item);
  }

  update(item: ChatItemView): void {
    if (item.kind !== 'user' || item.text === this.text) return;
    this.text = item.text;
    this.bubble.textContent = item.text;
  }

  dispose(): void {}
}

export class AssistantItem implements ItemComponent {
  readonly kind = 'assistant' as const;
  readonly el: HTMLElement;
  private readonly view: StreamingMarkdownView;
  private streaming: boolean;

  constructor(item: ItemOf<'assistant'>) {
    this.view = new StreamingMarkdownView(item.markdown, item.streaming);
    this.streaming = item.streaming;
    this.el = h('div', { class: 'msg msg-assistant' }, srOnly('OnBehalf said:'), this.view.el);
    this.view.render();
    this.syncStreaming();
  }

  get isStreaming(): boolean {
    return this.streaming;
  }

  /** Buffered text from `textDelta` (rendered by `flush`). */
  appendDelta(text: string): void {
    this.view.append(text);
  }

  flush(): void {
    this.view.render();
  }

  update(item: ChatItemView): void {
    if (item.kind !== 'assistant') return;
    const current = this.view.text;
    if (item.markdown !== current) {
      if (item.markdown.startsWith(current)) this.view.append(item.markdown.slice(current.length));
      else if (!(item.streaming && current.startsWith(item.markdown))) {
        // The host's text diverged from what was streamed (or is shorter than it while
        // finished): the host is the source of truth.
        this.view.reset(item.markdown);
      }
    }
    this.view.render();
    if (this.streaming && !item.streaming) this.view.finish();
    this.streaming = item.streaming;
    this.syncStreaming();
  }

  private syncStreaming(): void {
    this.el.classList.toggle('streaming', this.streaming);
    if (this.streaming) this.el.setAttribute('aria-busy', 'true');
    else this.el.removeAttribute('aria-busy');
  }

  dispose(): void {}
}

class ToolItem implements ItemComponent {
  readonly kind = 'tool' as const;
  readonly el: HTMLElement;
  private readonly card: ToolCardComponent;

  constructor(item: ItemOf<'tool'>, ctx: ViewContext) {
    this.card = new ToolCardComponent(item.card, ctx);
    this.el = h('div', { class: 'msg msg-tool' }, this.card.el);
  }

  update(item: ChatItemView): void {
    if (item.kind === 'tool') this.card.update(item.card);
  }

  dispose(): void {
    this.card.dispose();
  }
}

class ErrorItem implements ItemComponent {
  readonly kind = 'error' as const;
  readonly el: HTMLElement;
  private key = '';

  constructor(
    item: ItemOf<'error'>,
    private readonly ctx: ViewContext,
  ) {
    this.el = h('div', { class: 'msg msg-error', role: 'alert' });
    this.update(item);
  }

  update(item: ChatItemView): void {
    if (item.kind !== 'error') return;
    const key = JSON.stringify(item);
    if (key === this.key) return;
    this.key = key;
    const buttons: HTMLElement[] = [];
    if (item.retryable) buttons.push(retryButton(this.ctx));
    this.el.replaceChildren(
      h('div', { class: 'error-line' }, icon('error'), h('span', { class: 'error-text', text: item.message })),
      ...(buttons.length || item.fix ? [h('div', { class: 'button-row' }, item.fix ? fixButtonRow(item.fix, this.ctx) : null, ...buttons)] : []),
    );
  }

  dispose(): void {}
}

class NoticeItem implements ItemComponent {
  readonly kind = 'notice' as const;
  readonly el: HTMLElement;
  private readonly text: HTMLSpanElement;

  constructor(item: ItemOf<'notice'>) {
    this.text = h('span');
    this.el = h('div', { class: 'msg msg-notice' }, icon('info'), this.text);
    this.update(item);
  }

  update(item: ChatItemView): void {
    if (item.kind === 'notice' && this.text.textContent !== item.text) this.text.textContent = item.text;
  }

  dispose(): void {}
}

export function createItem(item: ChatItemView, ctx: ViewContext): ItemComponent {
  switch (item.kind) {
    case 'user':
      return new UserItem(item);
    case 'assistant':
      return new AssistantItem(item);
    case 'tool':
      return new ToolItem(item, ctx);
    case 'error':
      return new ErrorItem(item, ctx);
    case 'notice':
      return new NoticeItem(item);
  }
}
