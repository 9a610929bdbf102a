// The chat webview: renders host state, sends user intents. It owns no chat logic.
import type { ChatItemView, ChatStateView, HostMessage, UsageView, WebviewMessage } from '../shared/protocol';
import { Composer } from './composer';
import type { ViewContext } from './context';
import { h, icon } from './dom';
import { BlockerBanner, Header } from './header';
import { AssistantItem, createItem, type ItemComponent } from './items';
import { codeTextFor } from './markdown';
import type { HostBridge, PersistedState } from './vscode';
import { SUGGESTED_QUESTIONS } from '../shared/suggestions';

const itemKinds = new Set<string>(['user', 'assistant', 'tool', 'error', 'notice']);

const suggestions = SUGGESTED_QUESTIONS;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function isItem(v: unknown): v is ChatItemView {
  return isObject(v) && typeof v['id'] === 'string' && typeof v['kind'] === 'string' && itemKinds.has(v['kind']);
}

function isUsage(v: unknown): v is UsageView {
  return isObject(v) && typeof v['inputTokens'] === 'number' && typeof v['outputTokens'] === 'number';
}

function isState(v: unknown): v is ChatStateView {
  return isObject(v) && Array.isArray(v['items']) && Array.isArray(v['conversations']) && isUsage(v['usage']);
}

export class ChatApp implements ViewContext {
  private readonly header: Header;
  private readonly blocker: BlockerBanner;
  private readonly composer: Composer;
  private readonly scroller: HTMLElement;
  private readonly list: HTMLElement;
  private readonly welcome: HTMLElement;
  private readonly working: HTMLElement;
  private readonly jump: HTMLButtonElement;
  private readonly components = new Map<string, ItemComponent>();
  private readonly byElement = new WeakMap<Element, ItemComponent>();
  private readonly pendingDeltas = new Map<string, string[]>();
  private frameRequested = false;
  /** Whether the view follows new content: the user was at the bottom when they last scrolled. */
  private stuck = true;
  private scrollFrameRequested = false;
  private lastScrollTop = 0;
  private persisted: { draft: string; openCards: string[]; expandedOutputs: string[] };
  private isBusy = false;
  private identityLabel: string | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly bridge: HostBridge,
  ) {
    const saved: PersistedState = bridge.load();
    this.persisted = { draft: saved.draft, openCards: [...saved.openCards], expandedOutputs: [...saved.expandedOutputs] };

    const post = (m: WebviewMessage) => this.post(m);
    this.header = new Header(post);
    this.blocker = new BlockerBanner(post);
    this.composer = new Composer(post, (draft) => this.saveDraft(draft), this.persisted.draft);

    this.list = h('div', { class: 'item-list' });
    this.welcome = this.buildWelcome();
    this.working = h('div', { class: 'working', hidden: true }, icon('loading', 'codicon-modifier-spin'), h('span', { text: 'Working…' }));
    this.scroller = h(
      'main',
      { class: 'messages', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': 'Conversation', tabindex: '-1' },
      this.welcome,
      this.list,
      this.working,
    );
    this.jump = h(
      'button',
      { class: 'icon-btn jump-latest', type: 'button', title: 'Jump to latest', 'aria-label': 'Jump to latest message', hidden: true },
      icon('arrow-down'),
    );
    this.jump.addEventListener('click', () => this.scrollToBottom());
    // Layout is read only here and once per animation frame, never per rendered chunk.
    this.scroller.addEventListener(
      'scroll',
      () => {
        // Our own scrolls only go down; a scroll up is the user's, and stops the following.
        const top = this.scroller.scrollTop;
        if (this.atBottom()) this.stuck = true;
        else if (top < this.lastScrollTop) this.stuck = false;
        this.lastScrollTop = top;
        this.updateJump();
      },
      { passive: true },
    );
    this.scroller.addEventListener('click', (e) => this.onContentClick(e));
    this.scroller.addEventListener('auxclick', (e) => {
      if (e.target instanceof Element && e.target.closest('a')) e.preventDefault();
    });

    root.replaceChildren(this.header.el, this.blocker.el, h('div', { class: 'messages-wrap' }, this.scroller, this.jump), this.composer.el);
    root.classList.add('chat-root');
    // The host renders the sandbox flag into the page so the label shows before the first state.
    if (root.dataset['sandboxModel'] === 'true') this.header.setSandbox(true);
    this.updateWelcome();

    window.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
    // Lets the benchmark render synchronously instead of waiting for an animation frame.
    window.addEventListener('onbehalf:flush', () => this.flushDeltas());
  }

  /** First message to the host. */
  start(): void {
    this.post({ type: 'ready' });
  }

  // ---- ViewContext ----

  post(message: WebviewMessage): void {
    this.bridge.post(message);
  }

  get busy(): boolean {
    return this.isBusy;
  }

  isCardOpen(id: string): boolean {
    return this.persisted.openCards.includes(id);
  }

  setCardOpen(id: string, open: boolean): void {
    const has = this.persisted.openCards.includes(id);
    if (open === has) return;
    this.persisted.openCards = open ? [...this.persisted.openCards, id].slice(-200) : this.persisted.openCards.filter((c) => c !== id);
    this.save();
  }

  isOutputExpanded(id: string): boolean {
    return this.persisted.expandedOutputs.includes(id);
  }

  setOutputExpanded(id: string): void {
    if (this.persisted.expandedOutputs.includes(id)) return;
    this.persisted.expandedOutputs = [...this.persisted.expandedOutputs, id].slice(-200);
    this.save();
  }

  // ---- Host messages ----

  receive(data: unknown): void {
    try {
      this.handle(data);
    } catch (err) {
      // A malformed message must not take the view down.
      console.warn('OnBehalf: could not handle a host message', err);
    }
  }

  private handle(data: unknown): void {
    if (!isObject(data) || typeof data['type'] !== 'string') return;
    const msg = data as HostMessage;
    switch (msg.type) {
      case 'state':
        if (!isState(msg.state)) return;
        this.flushDeltas();
        this.applyState(msg.state);
        break;
      case 'textDelta':
        if (typeof msg.itemId !== 'string' || typeof msg.text !== 'string' || !msg.text) return;
        this.queueDelta(msg.itemId, msg.text);
        break;
      case 'item':
        if (!isItem(msg.item)) return;
        this.flushDeltas();
        this.mutate(true, () => this.upsert(msg.item));
        break;
      case 'busy':
        if (typeof msg.busy !== 'boolean') return;
        this.flushDeltas();
        this.setBusy(msg.busy);
        break;
      case 'rejected':
        this.composer.rejected(typeof msg.reason === 'string' ? msg.reason : 'The message was not accepted.');
        break;
      default:
        // Unknown message types (a newer host) are ignored.
        break;
    }
  }

  private applyState(state: ChatStateView): void {
    this.identityLabel = state.identityLabel;
    this.header.update(state);
    this.blocker.update(state.blocker);
    this.mutate(true, () => this.reconcile(state.items));
    this.setBusy(state.busy === true);
    this.composer.applyHostDraft(typeof state.draft === 'string' ? state.draft : undefined);
    this.updateWelcome();
  }

  // ---- Streaming ----

  private queueDelta(itemId: string, text: string): void {
    const queue = this.pendingDeltas.get(itemId);
    if (queue) queue.push(text);
    else this.pendingDeltas.set(itemId, [text]);
    if (!this.frameRequested) {
      this.frameRequested = true;
      requestAnimationFrame(() => this.flushDeltas());
    }
  }

  /** Applies all buffered deltas: one render of each streaming item's tail per frame. */
  flushDeltas(): void {
    this.frameRequested = false;
    if (this.pendingDeltas.size === 0) return;
    const batches = [...this.pendingDeltas];
    this.pendingDeltas.clear();
    // Text adds no buttons: no need to look through the whole conversation for Retry buttons.
    this.mutate(false, () => {
      for (const [itemId, chunks] of batches) {
        let comp = this.components.get(itemId);
        if (!comp) {
          comp = this.add({ kind: 'assistant', id: itemId, markdown: '', streaming: true });
        }
        if (!(comp instanceof AssistantItem)) continue;
        comp.appendDelta(chunks.join(''));
        comp.flush();
      }
    });
  }

  // ---- Items ----

  private reconcile(items: readonly unknown[]): void {
    const seen = new Set<string>();
    let prev: Element | null = null;
    for (const raw of items) {
      if (!isItem(raw) || seen.has(raw.id)) continue;
      seen.add(raw.id);
      let comp = this.components.get(raw.id);
      if (comp && comp.kind !== raw.kind) {
        this.remove(raw.id);
        comp = undefined;
      }
      if (comp) comp.update(raw);
      else comp = this.create(raw);
      const expected: ChildNode | null = prev ? prev.nextSibling : this.list.firstChild;
      if (expected !== comp.el) this.list.insertBefore(comp.el, expected);
      prev = comp.el;
    }
    for (const id of [...this.components.keys()]) if (!seen.has(id)) this.remove(id);
  }

  private upsert(item: ChatItemView): void {
    const comp = this.components.get(item.id);
    if (comp && comp.kind === item.kind) {
      comp.update(item);
      return;
    }
    if (comp) {
      const fresh = this.create(item);
      comp.el.replaceWith(fresh.el);
      comp.dispose();
      return;
    }
    this.add(item);
  }

  private add(item: ChatItemView): ItemComponent {
    const comp = this.create(item);
    this.list.appendChild(comp.el);
    this.updateWelcome();
    return comp;
  }

  private create(item: ChatItemView): ItemComponent {
    const comp = createItem(item, this);
    this.components.set(item.id, comp);
    this.byElement.set(comp.el, comp);
    if (item.kind === 'user') this.composer.acknowledge(item.text);
    return comp;
  }

  private remove(id: string): void {
    const comp = this.components.get(id);
    if (!comp) return;
    comp.dispose();
    comp.el.remove();
    this.components.delete(id);
  }

  private setBusy(busy: boolean): void {
    this.isBusy = busy;
    this.composer.setBusy(busy);
    this.syncRetryButtons();
    this.updateWorking();
  }

  /** Retry makes no sense while a turn is running; cards re-render, so this runs after every change too. */
  private syncRetryButtons(): void {
    for (const button of Array.from(this.list.querySelectorAll<HTMLButtonElement>('button.retry'))) button.disabled = this.isBusy;
  }

  /** Runs a DOM change; the view stays pinned to the bottom if it was there. */
  private mutate(buttons: boolean, change: () => void): void {
    change();
    if (buttons) this.syncRetryButtons();
    this.updateWorking();
    this.updateWelcome();
  }

  /**
   * Follows new content at the next animation frame: one layout read per frame, which the
   * frame needs anyway, instead of forcing a layout for every change.
   */
  private scheduleScroll(): void {
    if (this.scrollFrameRequested) return;
    this.scrollFrameRequested = true;
    requestAnimationFrame(() => {
      this.scrollFrameRequested = false;
      if (this.stuck) this.scroller.scrollTop = this.scroller.scrollHeight;
      this.updateJump();
    });
  }

  private updateWorking(): void {
    const last = this.list.lastElementChild;
    const comp = last ? this.byElement.get(last) : undefined;
    let active = false;
    if (comp instanceof AssistantItem) active = comp.isStreaming;
    else if (comp?.kind === 'tool') active = !!last?.querySelector('.status-running, .status-awaitingApproval');
    this.working.hidden = !(this.isBusy && !active);
  }

  private updateWelcome(): void {
    const empty = this.components.size === 0;
    this.welcome.hidden = !empty;
    this.scheduleScroll();
    const who = this.welcome.querySelector('.welcome-identity');
    if (who) who.textContent = this.identityLabel ? `Acting as ${this.identityLabel}.` : '';
  }

  private buildWelcome(): HTMLElement {
    const buttons = suggestions.map((s) => {
      const b = h('button', { class: 'suggestion', type: 'button', 'data-action': 'suggestion' }, icon('sparkle'), h('span', { text: s }));
      // A suggestion is a question: clicking it asks it.
      b.addEventListener('click', () => this.composer.sendText(s));
      return b;
    });
    return h(
      'div',
      { class: 'welcome' },
      h('div', { class: 'welcome-icon' }, icon('comment-discussion')),
      h('h2', { text: 'Ask OnBehalf' }),
      h('p', { text: 'A Claude agent that works in PostHog and Asana with your own connected accounts. Changes need your approval.' }),
      h('p', { class: 'welcome-identity muted' }),
      h('div', { class: 'suggestions' }, ...buttons),
    );
  }

  // ---- Clicks inside rendered content ----

  private onContentClick(e: MouseEvent): void {
    const target = e.target instanceof Element ? e.target : null;
    if (!target) return;
    const copy = target.closest<HTMLButtonElement>('[data-action="copy-code"]');
    if (copy) {
      const text = codeTextFor(copy);
      if (text !== null) {
        this.post({ type: 'copy', text });
        flashCopied(copy);
      }
      return;
    }
    const anchor = target.closest('a');
    if (anchor) {
      // Never navigate inside the webview; the host opens http(s) links externally.
      e.preventDefault();
      const href = anchor.getAttribute('href') ?? '';
      if (/^https?:\/\//i.test(href) && href.length <= 2048) this.post({ type: 'openLink', url: href });
    }
  }

  // ---- Scrolling ----

  private atBottom(): boolean {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 48;
  }

  private scrollToBottom(): void {
    this.stuck = true;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.updateJump();
    this.composer.focus();
  }

  private updateJump(): void {
    const s = this.scroller;
    // With no messages there is nothing "latest" to jump to, however tall the welcome is.
    this.jump.hidden = this.components.size === 0 || s.scrollHeight - s.scrollTop - s.clientHeight < 200;
  }

  // ---- Persistence ----

  private saveDraft(draft: string): void {
    this.persisted.draft = draft;
    this.save();
  }

  private save(): void {
    this.bridge.save(this.persisted);
  }
}

function flashCopied(button: HTMLElement): void {
  const original = button.querySelector('.codicon');
  if (!original) return;
  original.className = 'codicon codicon-check';
  button.setAttribute('aria-label', 'Copied');
  window.setTimeout(() => {
    original.className = 'codicon codicon-copy';
    button.setAttribute('aria-label', 'Copy code');
  }, 1500);
}
