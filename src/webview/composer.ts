// The input box: Enter sends, Shift+Enter inserts a newline, Stop while busy.
// The text is cleared only after `send` was posted, and restored when the host
// hands a draft back (or rejects the send).
import type { WebviewMessage, maxUserMessageChars as protocolMaxUserMessageChars } from '../shared/protocol';
import { h, icon } from './dom';

/** Same limit the host's schema enforces (checked at compile time against protocol.ts). */
export const maxUserMessageChars: typeof protocolMaxUserMessageChars = 32_000;

export class Composer {
  readonly el: HTMLElement;
  readonly textarea: HTMLTextAreaElement;
  private readonly sendBtn: HTMLButtonElement;
  private readonly stopBtn: HTMLButtonElement;
  private readonly statusLine: HTMLDivElement;
  private readonly counter: HTMLSpanElement;
  private busy = false;
  private lastHostDraft: string | undefined;
  private lastSent: string | null = null;
  private statusTimer: number | undefined;

  constructor(
    private readonly post: (m: WebviewMessage) => void,
    private readonly onDraftChange: (draft: string) => void,
    initialDraft: string,
  ) {
    this.textarea = h('textarea', {
      class: 'composer-input',
      rows: '1',
      placeholder: 'Ask about PostHog or Asana…',
      'aria-label': 'Message OnBehalf. Enter to send, Shift+Enter for a new line.',
      spellcheck: 'true',
    });
    this.textarea.value = initialDraft;
    this.sendBtn = h(
      'button',
      { class: 'icon-btn send-btn', type: 'button', title: 'Send (Enter)', 'aria-label': 'Send', 'data-action': 'send' },
      icon('send'),
    );
    this.stopBtn = h(
      'button',
      { class: 'button secondary stop-btn', type: 'button', title: 'Stop (Escape)', 'data-action': 'stop', hidden: true },
      icon('debug-stop'),
      h('span', { text: 'Stop' }),
    );
    this.counter = h('span', { class: 'char-counter', hidden: true });
    this.statusLine = h('div', { class: 'composer-status', role: 'status', 'aria-live': 'polite' });

    this.textarea.addEventListener('keydown', (e) => this.onKeyDown(e));
    this.textarea.addEventListener('input', () => {
      this.autosize();
      this.refreshButtons();
      this.onDraftChange(this.textarea.value);
    });
    this.sendBtn.addEventListener('click', () => {
      this.send();
      this.textarea.focus();
    });
    this.stopBtn.addEventListener('click', () => this.post({ type: 'stop' }));

    this.el = h(
      'footer',
      { class: 'composer' },
      this.statusLine,
      h(
        'div',
        { class: 'input-box' },
        this.textarea,
        h(
          'div',
          { class: 'composer-actions' },
          h('span', { class: 'composer-hint', text: 'Enter to send · Shift+Enter for newline' }),
          this.counter,
          this.stopBtn,
          this.sendBtn,
        ),
      ),
    );
    this.refreshButtons();
    requestAnimationFrame(() => this.autosize());
  }

  get value(): string {
    return this.textarea.value;
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    this.stopBtn.hidden = !busy;
    this.el.classList.toggle('busy', busy);
    this.refreshButtons();
  }

  /** A draft from the host (e.g. after a failed send). Applied once per distinct draft, never over the user's own text. */
  applyHostDraft(draft: string | undefined): void {
    if (draft === undefined || draft === this.lastHostDraft) return;
    this.lastHostDraft = draft;
    if (!draft) return;
    const current = this.textarea.value;
    if (current === draft) return;
    if (current.trim() === '') this.setText(draft);
    else if (!current.includes(draft)) this.setText(`${draft}\n\n${current}`);
  }

  /** The host refused a message: say why, and give back the text if the box is empty. */
  rejected(reason: string): void {
    this.showStatus(reason, 'warning');
    if (this.lastSent !== null && this.textarea.value.trim() === '') {
      this.setText(this.lastSent);
    }
    this.lastSent = null;
  }

  /** The host acknowledged the message (a user item with it arrived). */
  acknowledge(text: string): void {
    if (this.lastSent !== null && text.trim() === this.lastSent.trim()) this.lastSent = null;
  }

  setText(text: string): void {
    this.textarea.value = text;
    this.autosize();
    this.refreshButtons();
    this.onDraftChange(text);
  }

  focus(): void {
    this.textarea.focus();
    const end = this.textarea.value.length;
    this.textarea.setSelectionRange(end, end);
  }

  private onKeyDown(e: KeyboardEvent): void {
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      this.send();
    } else if (e.key === 'Escape' && this.busy) {
      e.preventDefault();
      this.post({ type: 'stop' });
    }
  }

  /** Sends `text` as if typed and sent; when it cannot go now (busy), it waits in the box. */
  sendText(text: string): void {
    this.setText(text);
    if (this.canSend(text)) this.send();
    else this.focus();
  }

  private send(): void {
    const text = this.textarea.value;
    if (!this.canSend(text)) return;
    this.post({ type: 'send', text });
    // Cleared only once the message is on its way.
    this.lastSent = text;
    this.clearStatus();
    this.setText('');
  }

  private canSend(text: string): boolean {
    return !this.busy && text.trim().length > 0 && text.length <= maxUserMessageChars;
  }

  private refreshButtons(): void {
    const text = this.textarea.value;
    this.sendBtn.disabled = !this.canSend(text);
    const over = text.length > maxUserMessageChars;
    this.counter.hidden = text.length < maxUserMessageChars * 0.9;
    this.counter.textContent = `${text.length.toLocaleString('en-US')} / ${maxUserMessageChars.toLocaleString('en-US')}`;
    this.counter.classList.toggle('over', over);
    this.sendBtn.title = this.busy ? 'Wait for the current reply, or press Stop' : over ? 'Message is too long' : 'Send (Enter)';
  }

  private autosize(): void {
    const ta = this.textarea;
    ta.style.height = 'auto';
    const max = 240;
    const next = Math.min(ta.scrollHeight + 2, max);
    ta.style.height = `${next}px`;
    ta.style.overflowY = ta.scrollHeight + 2 > max ? 'auto' : 'hidden';
  }

  private showStatus(text: string, kind: 'warning' | 'info'): void {
    this.statusLine.replaceChildren(icon(kind === 'warning' ? 'warning' : 'info'), h('span', { text }));
    this.statusLine.classList.add('visible');
    window.clearTimeout(this.statusTimer);
    this.statusTimer = window.setTimeout(() => this.clearStatus(), 10_000);
  }

  private clearStatus(): void {
    this.statusLine.classList.remove('visible');
    this.statusLine.replaceChildren();
  }
}
