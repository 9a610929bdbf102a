// Header: conversation switcher (new / switch / delete with an inline confirm),
// identity, model + sandbox label and the usage meter. Plus the blocker banner.
import type { BlockerView, ChatStateView, UsageView, WebviewMessage } from '../shared/protocol';
import { h, icon } from './dom';
import { compactNumber, connectionLabel, costLabel, groupedNumber } from './format';

export class Header {
  readonly el: HTMLElement;
  private readonly select: HTMLSelectElement;
  private readonly deleteBtn: HTMLButtonElement;
  private readonly newBtn: HTMLButtonElement;
  private readonly confirmRow: HTMLDivElement;
  private readonly identity: HTMLSpanElement;
  private readonly model: HTMLSpanElement;
  private readonly sandbox: HTMLSpanElement;
  private readonly usage: HTMLSpanElement;
  private conversationsKey = '';
  private state: ChatStateView | null = null;

  constructor(private readonly post: (m: WebviewMessage) => void) {
    this.select = h('select', { id: 'conversation-select', class: 'conversation-select', 'aria-label': 'Conversation' });
    this.select.addEventListener('change', () => {
      const id = this.select.value;
      if (id && id !== this.state?.activeConversationId) this.post({ type: 'switchConversation', conversationId: id });
    });
    this.newBtn = h('button', { class: 'icon-btn', type: 'button', title: 'New chat', 'aria-label': 'New chat', 'data-action': 'new-chat' }, icon('add'));
    this.newBtn.addEventListener('click', () => this.post({ type: 'newConversation' }));
    this.deleteBtn = h(
      'button',
      { class: 'icon-btn', type: 'button', title: 'Delete this conversation', 'aria-label': 'Delete this conversation', 'data-action': 'delete-chat' },
      icon('trash'),
    );
    this.deleteBtn.addEventListener('click', () => this.askDelete());
    this.confirmRow = h('div', { class: 'confirm-row', role: 'alertdialog', 'aria-label': 'Confirm delete', hidden: true });

    this.identity = h('span', { class: 'identity' });
    this.model = h('span', { class: 'model' });
    this.sandbox = h(
      'span',
      { class: 'badge sandbox-badge', title: 'Replies come from a local sandbox model, not Claude', hidden: true },
      icon('beaker'),
      h('span', null, 'Sandbox', h('span', { class: 'long', text: ' model' })),
    );
    this.usage = h('span', { class: 'usage', role: 'status' });

    this.el = h(
      'header',
      { class: 'header' },
      h('div', { class: 'conv-row' }, icon('comment-discussion', 'conv-icon'), this.select, this.newBtn, this.deleteBtn),
      this.confirmRow,
      h('div', { class: 'meta-row' }, this.identity, this.model, this.sandbox, h('span', { class: 'meta-spacer' }), this.usage),
    );
  }

  update(state: ChatStateView): void {
    this.state = state;
    this.renderConversations(state);
    this.identity.replaceChildren(icon('account'), h('span', { text: state.identityLabel ?? 'Not signed in', class: state.identityLabel ? '' : 'muted' }));
    this.identity.title = state.identityLabel ? `Acting as ${state.identityLabel}` : 'Not signed in';
    this.model.textContent = state.modelLabel;
    this.model.title = state.modelLabel ? `Model: ${state.modelLabel}` : '';
    this.model.hidden = !state.modelLabel;
    this.sandbox.hidden = !state.sandboxModel;
    this.updateUsage(state.usage);
  }

  setSandbox(sandbox: boolean): void {
    this.sandbox.hidden = !sandbox;
  }

  updateUsage(usage: UsageView): void {
    const cache = usage.cacheReadTokens + usage.cacheWriteTokens;
    // The sandbox model is local and free; elsewhere the figure is an estimate at list prices.
    const sandbox = !this.sandbox.hidden;
    const cost = sandbox
      ? h('span', null, ' · free', h('span', { class: 'long', text: ' (sandbox)' }))
      : h('span', { text: ` · est. ${costLabel(usage.estimatedCostUsd)}` });
    const text = h(
      'span',
      null,
      `${compactNumber(usage.inputTokens)} in · ${compactNumber(usage.outputTokens)} out`,
      cache ? h('span', { class: 'usage-cache', text: ` · ${compactNumber(cache)} cache` }) : null,
      cost,
    );
    const costDetail = sandbox
      ? 'The sandbox model runs locally and costs nothing.'
      : `Estimated cost at list prices ${usage.estimatedCostUsd > 0 && usage.estimatedCostUsd < 0.01 ? `$${usage.estimatedCostUsd.toFixed(4)}` : costLabel(usage.estimatedCostUsd)} (an estimate, not a bill).`;
    const detail =
      `Input ${groupedNumber(usage.inputTokens)} tokens, output ${groupedNumber(usage.outputTokens)} tokens, ` +
      `cache read ${groupedNumber(usage.cacheReadTokens)}, cache write ${groupedNumber(usage.cacheWriteTokens)}. ${costDetail}`;
    this.usage.replaceChildren(icon('pulse'), text);
    this.usage.title = detail;
    this.usage.setAttribute('aria-label', `Usage: ${detail}`);
  }

  private renderConversations(state: ChatStateView): void {
    const key = JSON.stringify([state.conversations.map((c) => [c.id, c.title]), state.activeConversationId]);
    if (key === this.conversationsKey) return;
    this.conversationsKey = key;
    const options: HTMLOptionElement[] = [];
    const known = state.conversations.some((c) => c.id === state.activeConversationId);
    if (!known) options.push(h('option', { value: '', text: 'New chat', selected: true }));
    for (const c of state.conversations) {
      const option = h('option', { value: c.id, text: c.title || 'Untitled chat' });
      if (c.id === state.activeConversationId) option.selected = true;
      options.push(option);
    }
    this.select.replaceChildren(...options);
    this.select.value = known ? (state.activeConversationId ?? '') : '';
    this.deleteBtn.disabled = !known;
    this.select.disabled = state.conversations.length === 0;
    this.hideConfirm();
  }

  private askDelete(): void {
    const state = this.state;
    const id = state?.activeConversationId;
    const conv = state?.conversations.find((c) => c.id === id);
    if (!conv) return;
    const confirm = h('button', { class: 'button danger', type: 'button', 'data-action': 'confirm-delete' }, icon('trash'), h('span', { text: 'Delete' }));
    const cancel = h('button', { class: 'button secondary', type: 'button', 'data-action': 'cancel-delete', text: 'Cancel' });
    confirm.addEventListener('click', () => {
      this.hideConfirm();
      this.post({ type: 'deleteConversation', conversationId: conv.id });
    });
    cancel.addEventListener('click', () => {
      this.hideConfirm();
      this.deleteBtn.focus();
    });
    this.confirmRow.replaceChildren(
      h('span', { class: 'confirm-text' }, 'Delete ', h('strong', { text: conv.title || 'Untitled chat' }), '?'),
      h('div', { class: 'button-row' }, confirm, cancel),
    );
    this.confirmRow.onkeydown = (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        cancel.click();
      }
    };
    this.confirmRow.hidden = false;
    cancel.focus();
  }

  private hideConfirm(): void {
    this.confirmRow.hidden = true;
    this.confirmRow.replaceChildren();
  }
}

/** The banner shown when something must be set up before chatting. */
export class BlockerBanner {
  readonly el: HTMLElement;
  private key = '';

  constructor(private readonly post: (m: WebviewMessage) => void) {
    this.el = h('div', { class: 'blocker', role: 'status', hidden: true });
  }

  update(blocker: BlockerView | null): void {
    const key = JSON.stringify(blocker);
    if (key === this.key) return;
    this.key = key;
    if (!blocker) {
      this.el.hidden = true;
      this.el.replaceChildren();
      return;
    }
    const action = blockerAction(blocker);
    if (!action) {
      this.el.replaceChildren(h('div', { class: 'blocker-text' }, icon('info'), h('span', { text: String(blocker.message ?? '') })));
      this.el.hidden = false;
      return;
    }
    const button = h('button', { class: 'button primary', type: 'button', 'data-action': 'blocker' }, icon(action.icon), h('span', { text: action.label }));
    button.addEventListener('click', () => this.post(action.message));
    const log = h('button', { class: 'link-btn', type: 'button', 'data-action': 'show-log', text: 'Show log' });
    log.addEventListener('click', () => this.post({ type: 'runCommand', command: 'showLog' }));
    this.el.replaceChildren(
      h('div', { class: 'blocker-text' }, icon(action.bannerIcon), h('span', { text: blocker.message })),
      h('div', { class: 'button-row' }, button, log),
    );
    this.el.hidden = false;
  }
}

function blockerAction(b: BlockerView): { label: string; icon: string; bannerIcon: string; message: WebviewMessage } | null {
  switch (b.kind) {
    case 'signIn':
      return { label: 'Sign in', icon: 'sign-in', bannerIcon: 'account', message: { type: 'runCommand', command: 'signIn' } };
    case 'setAnthropicKey':
      return { label: 'Set Anthropic API key', icon: 'key', bannerIcon: 'key', message: { type: 'runCommand', command: 'setAnthropicKey' } };
    case 'setScalekitSecret':
      return { label: 'Set Scalekit client secret', icon: 'key', bannerIcon: 'key', message: { type: 'runCommand', command: 'setScalekitSecret' } };
    case 'connect':
      return {
        label: `Connect ${connectionLabel(b.connection)}`,
        icon: 'plug',
        bannerIcon: 'plug',
        message: { type: 'connect', connection: b.connection, reauthorize: false },
      };
    default:
      return null; // a kind this webview does not know yet
  }
}
