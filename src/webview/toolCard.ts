// A tool call as a collapsible card: name, connection, risk, status, input/output,
// approval buttons, a fix button, and a chart when the output holds a time series.
import { destructiveSummary } from '../shared/destructiveSummary';
import { reviewFields, type ReviewField } from '../shared/reviewFields';
import type { ToolCardStatus, ToolCardView, ToolRiskView } from '../shared/protocol';
import { SeriesChart } from './chart';
import type { ViewContext } from './context';
import { h, icon, srOnly } from './dom';
import { bytesLabel, connectionLabel, durationLabel, prettyJson } from './format';

/** Characters of output shown before "Show more". */
export const outputPreviewChars = 4096;
/** An approval input longer than this gets a note that it scrolls. */
const largeInputChars = 2000;
/** Rows of the approval's field list; the whole input is always shown below it. */
const maxReviewFields = 40;

/** "waited 6.8 s for approval", or '' when the card did not wait for the user. */
function waitLabel(card: ToolCardView): string {
  const ms = card.approvalWaitMs;
  if (ms === undefined || !(ms > 0)) return '';
  return `waited ${durationLabel(ms)} for approval`;
}

function longValueLabel(field: ReviewField): string {
  const size = bytesLabel(field.bytes);
  if (field.kind === 'text') return `${size} of text, in full below`;
  if (field.kind === 'list') return `${(field.items ?? 0).toLocaleString('en-US')} items (${size}), in full below`;
  return `${size} object, in full below`;
}

const statusInfo: Record<ToolCardStatus, { icon: string; label: string; extra?: string }> = {
  awaitingApproval: { icon: 'shield', label: 'Needs your approval' },
  running: { icon: 'loading', label: 'Running', extra: 'codicon-modifier-spin' },
  succeeded: { icon: 'pass', label: 'Done' },
  failed: { icon: 'error', label: 'Failed' },
  denied: { icon: 'circle-slash', label: 'Denied' },
  cancelled: { icon: 'debug-stop', label: 'Cancelled' },
};

const riskInfo: Record<ToolRiskView, { icon: string; label: string }> = {
  read: { icon: 'eye', label: 'read' },
  write: { icon: 'edit', label: 'write' },
  destructive: { icon: 'warning', label: 'destructive' },
};

export class ToolCardComponent {
  readonly el: HTMLDivElement;
  private key = '';
  private chart: SeriesChart | null = null;
  private chartKey = '';
  private card: ToolCardView;

  constructor(
    card: ToolCardView,
    private readonly ctx: ViewContext,
  ) {
    this.card = card;
    this.el = h('div', { class: 'tool-card' });
    this.update(card);
  }

  update(card: ToolCardView): void {
    const key = JSON.stringify(card);
    if (key === this.key) return;
    this.key = key;
    this.card = card;
    const focusedAction = this.focusedAction();
    this.render();
    if (focusedAction) {
      const again = this.el.querySelector<HTMLElement>(`[data-action="${focusedAction}"]`);
      again?.focus();
    }
  }

  dispose(): void {
    this.chart?.destroy();
    this.chart = null;
  }

  private focusedAction(): string | null {
    const active = document.activeElement;
    if (!(active instanceof HTMLElement) || !this.el.contains(active)) return null;
    return active.dataset['action'] ?? null;
  }

  private render(): void {
    const card = this.card;
    const status = statusInfo[card.status] ?? statusInfo.running;
    const risk = riskInfo[card.risk] ?? riskInfo.write;
    const conn = connectionLabel(card.connection);
    this.el.className = `tool-card risk-${card.risk} status-${card.status}`;
    this.el.dataset['toolUseId'] = card.toolUseId;

    // The time the call ran, never counting the time the card waited for the user.
    const duration = card.durationMs !== undefined ? durationLabel(card.durationMs) : '';
    const wait = waitLabel(card);
    const summary = h(
      'summary',
      { class: 'tool-summary' },
      icon('chevron-right', 'chevron'),
      h('span', { class: `tool-status-icon status-${card.status}`, title: status.label }, icon(status.icon, status.extra ?? ''), srOnly(`${status.label}:`)),
      toolNameElement(card.toolName),
      h('span', { class: 'tool-conn', text: conn }),
      h('span', { class: `risk-badge risk-${card.risk}`, title: `Risk: ${risk.label}` }, icon(risk.icon), h('span', { text: risk.label })),
      h('span', { class: 'tool-spacer' }),
      duration ? h('span', { class: 'tool-duration', text: duration, title: wait ? `Ran in ${duration}; ${wait}` : `Ran in ${duration}` }) : null,
    );

    const details = h('details', { class: 'tool-details' }, summary, this.body());
    details.open = this.ctx.isCardOpen(card.toolUseId);
    details.addEventListener('toggle', () => this.ctx.setCardOpen(card.toolUseId, details.open));

    const chartEl = this.chartElement();
    this.el.replaceChildren(
      ...[
        details,
        card.error ? h('div', { class: 'tool-error', role: 'note' }, icon('error'), h('span', { class: 'tool-error-text', text: card.error })) : null,
        chartEl,
        card.status === 'awaitingApproval' ? this.approval() : null,
        card.fix ? this.fixRow(card.fix) : null,
        card.status === 'failed' && card.retryable === true ? h('div', { class: 'button-row' }, retryButton(this.ctx)) : null,
      ].filter((n): n is HTMLElement => n !== null),
    );
  }

  private body(): HTMLElement {
    const card = this.card;
    const input = prettyJson(card.input);
    const sections: HTMLElement[] = [
      h('section', { class: 'tool-section' }, this.sectionHeader('Input', input, 'copy-input'), h('pre', { class: 'tool-json', tabindex: '0', text: input })),
    ];
    const wait = waitLabel(card);
    if (wait) {
      const ran = card.durationMs !== undefined ? `Ran in ${durationLabel(card.durationMs)}; ${wait}.` : `${wait[0]!.toUpperCase()}${wait.slice(1)}.`;
      sections.unshift(h('p', { class: 'muted tool-timing', text: ran }));
    }
    if (card.output !== undefined) sections.push(this.outputSection(card.output));
    else if (card.status === 'running') sections.push(h('p', { class: 'muted tool-waiting', text: 'Waiting for the result…' }));
    return h('div', { class: 'tool-body' }, ...sections);
  }

  private sectionHeader(title: string, text: string, action: string): HTMLElement {
    return h(
      'div',
      { class: 'tool-section-header' },
      h('h4', { text: title }),
      h(
        'button',
        {
          class: 'icon-btn',
          type: 'button',
          title: `Copy ${title.toLowerCase()}`,
          'aria-label': `Copy ${title.toLowerCase()}`,
          'data-action': action,
          onclick: () => this.ctx.post({ type: 'copy', text }),
        },
        icon('copy'),
      ),
    );
  }

  private outputSection(rawOutput: string): HTMLElement {
    const card = this.card;
    const output = prettyJson(rawOutput);
    const pre = h('pre', { class: 'tool-json tool-output', tabindex: '0' });
    const long = output.length > outputPreviewChars;
    const expanded = this.ctx.isOutputExpanded(card.toolUseId);
    pre.textContent = long && !expanded ? `${output.slice(0, outputPreviewChars)}…` : output;
    const children: (HTMLElement | null)[] = [this.sectionHeader('Output', output, 'copy-output'), pre];
    if (long && !expanded) {
      const rest = output.length - outputPreviewChars;
      const more = h(
        'button',
        { class: 'link-btn show-more', type: 'button', 'data-action': 'show-more', 'aria-expanded': 'false' },
        icon('unfold'),
        h('span', { text: `Show more (${rest.toLocaleString('en-US')} more characters)` }),
      );
      more.addEventListener('click', () => {
        pre.textContent = output;
        this.ctx.setOutputExpanded(card.toolUseId);
        more.remove();
        pre.focus();
      });
      children.push(more);
    }
    if (card.outputTruncated) {
      const total = card.outputBytes !== undefined ? bytesLabel(card.outputBytes) : '';
      children.push(
        h(
          'p',
          { class: 'muted tool-truncated' },
          icon('info'),
          h('span', {
            text: total
              ? `The tool returned ${total}; OnBehalf kept the first ${bytesLabel(new TextEncoder().encode(rawOutput).length)} for the agent and this view.`
              : 'The output was truncated by OnBehalf.',
          }),
        ),
      );
    } else if (card.outputBytes !== undefined && card.outputBytes > 0) {
      children.push(h('p', { class: 'muted tool-size', text: bytesLabel(card.outputBytes) }));
    }
    return h('section', { class: 'tool-section' }, ...children);
  }

  private chartElement(): HTMLElement | null {
    const series = (this.card.series ?? []).filter((s) => s.points.length > 0);
    if (series.length === 0) {
      this.chart?.destroy();
      this.chart = null;
      this.chartKey = '';
      return null;
    }
    const key = JSON.stringify(series);
    if (!this.chart || key !== this.chartKey) {
      this.chart?.destroy();
      this.chart = new SeriesChart(series);
      this.chartKey = key;
    }
    return this.chart.el;
  }

  private approval(): HTMLElement {
    const card = this.card;
    const conn = connectionLabel(card.connection);
    const destructive = card.risk === 'destructive';
    const input = prettyJson(card.input);
    const what =
      card.risk === 'read' ? `read data from ${conn} as you` : card.risk === 'write' ? `change data in ${conn} as you` : `make changes in ${conn} as you`;
    const buttons: HTMLElement[] = [
      this.decisionButton('approve', destructive ? 'Approve deletion' : 'Approve', destructive ? 'button danger' : 'button primary', 'check'),
      this.decisionButton('deny', 'Deny', 'button secondary', 'close'),
    ];
    if (card.canAlwaysAllow === true && !destructive) {
      buttons.push(this.decisionButton('always', 'Always allow this tool', 'button secondary', 'pass'));
    }
    return h(
      'div',
      { class: `approval${destructive ? ' destructive' : ''}`, role: 'group', 'aria-label': `Approve ${card.toolName}?` },
      h('p', { class: 'approval-text' }, 'The agent wants to run ', h('code', { text: card.toolName }), ` to ${what}.`),
      destructive
        ? h(
            'p',
            { class: 'danger-text' },
            icon('warning'),
            h('strong', { text: destructiveSummary(card.toolName, conn, parsedInput(card.input)) }),
            ' It cannot be undone here. Check the input below before approving.',
          )
        : null,
      // The user approves exactly this input, so it is always shown whole (scrollable), never a
      // preview, and the fields that say who and what are listed first, long free text last.
      this.reviewList(input),
      input.length > largeInputChars
        ? h('p', { class: 'muted approval-size', text: `Whole input: ${bytesLabel(new TextEncoder().encode(input).length)}. Scroll to review all of it.` })
        : null,
      this.sectionHeader('Input', input, 'copy-approval-input'),
      h('pre', { class: 'tool-json approval-input', tabindex: '0', 'aria-label': 'Input', text: input }),
      h('div', { class: 'button-row' }, ...buttons),
    );
  }

  /** The input's fields, who-and-what first, long values by size (they are in full below). */
  private reviewList(input: string): HTMLElement | null {
    const fields = reviewFields(input);
    if (fields.length === 0) return null;
    const shown = fields.slice(0, maxReviewFields);
    const rows = shown.map((f) =>
      h(
        'li',
        { class: `approval-field${f.json === undefined ? ' long' : ''}` },
        h('code', { class: 'approval-field-key', text: f.path }),
        h('span', { class: 'approval-field-value', text: f.json ?? longValueLabel(f) }),
      ),
    );
    if (fields.length > shown.length)
      rows.push(h('li', { class: 'approval-field muted', text: `and ${fields.length - shown.length} more fields, in full below` }));
    return h('ul', { class: 'approval-fields', 'aria-label': 'Fields' }, ...rows);
  }

  private decisionButton(decision: 'approve' | 'deny' | 'always', label: string, cls: string, iconName: string): HTMLButtonElement {
    const button = h(
      'button',
      { class: cls, type: 'button', 'data-action': `decide-${decision}`, 'data-decision': decision },
      icon(iconName),
      h('span', { text: label }),
    );
    button.addEventListener('click', () => {
      this.ctx.post({ type: 'decide', toolUseId: this.card.toolUseId, decision });
      for (const b of Array.from(this.el.querySelectorAll<HTMLButtonElement>('[data-decision]'))) b.disabled = true;
    });
    return button;
  }

  private fixRow(fix: NonNullable<ToolCardView['fix']>): HTMLElement {
    return fixButtonRow(fix, this.ctx);
  }
}

/** "Connect PostHog" / "Re-authorize PostHog", used by tool cards and error items. */
export function fixButtonRow(fix: NonNullable<ToolCardView['fix']>, ctx: ViewContext): HTMLElement {
  const conn = connectionLabel(fix.connection);
  const reauthorize = fix.kind === 'reauthorize';
  const label = reauthorize ? `Re-authorize ${conn}` : `Connect ${conn}`;
  return h(
    'div',
    { class: 'fix-row' },
    h(
      'button',
      {
        class: 'button primary',
        type: 'button',
        'data-action': 'fix',
        onclick: () => ctx.post({ type: 'connect', connection: fix.connection, reauthorize }),
      },
      icon(reauthorize ? 'refresh' : 'plug'),
      h('span', { text: label }),
    ),
  );
}

/** The card carries the whole input as JSON text; text that does not parse names nothing. */
function parsedInput(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Runs the turn again; the app disables every Retry while a turn is running. */
export function retryButton(ctx: ViewContext): HTMLButtonElement {
  const button = h(
    'button',
    { class: 'button secondary retry', type: 'button', 'data-action': 'retry', onclick: () => ctx.post({ type: 'retry' }) },
    icon('refresh'),
    h('span', { text: 'Retry' }),
  );
  button.disabled = ctx.busy;
  return button;
}

/**
 * The tool's name with its connector prefix ("posthogmcp_", "asana_") in its own span. The
 * name elides from its start in a narrow sidebar, and its minimum width is the tool's own
 * words (up to 24 characters), so the prefix gives way and those words stay whole.
 */
export function toolNameElement(name: string): HTMLElement {
  const cut = name.indexOf('_');
  const prefix = cut > 0 && cut < name.length - 1 ? name.slice(0, cut + 1) : '';
  const own = name.slice(prefix.length);
  const el = h(
    'span',
    { class: 'tool-name', title: name },
    h('span', null, prefix ? h('span', { class: 'tool-prefix', text: prefix }) : null, h('span', { class: 'tool-own', text: own })),
  );
  // CSSOM, not a style attribute: the webview's CSP allows this.
  el.style.minWidth = `${Math.min(own.length, 24) + (prefix ? 2 : 0)}ch`;
  return el;
}
