// Tiny DOM helpers. Everything user- or tool-supplied goes in as text nodes; the only
// HTML this webview ever parses is markdown output after DOMPurify (see markdown.ts).

export type Child = Node | string | null | undefined | false;
export type Props = Record<string, unknown>;

/**
 * Creates an element. Props: `class`, `text` (textContent), `on<event>` functions become
 * listeners, booleans toggle attributes, other values become attributes via setAttribute.
 * Never pass `style` (CSP forbids inline style attributes; use `el.style.x = ...`).
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = attributeText(value);
      else if (key === 'text') el.textContent = attributeText(value);
      else if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
      } else if (value === true) el.setAttribute(key, '');
      else el.setAttribute(key, attributeText(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** A codicon, hidden from assistive technology (pair it with text or an aria-label). */
export function icon(name: string, extra = ''): HTMLSpanElement {
  return h('span', { class: `codicon codicon-${name}${extra ? ` ${extra}` : ''}`, 'aria-hidden': 'true' });
}

/** Text only for screen readers. */
export function srOnly(text: string): HTMLSpanElement {
  return h('span', { class: 'visually-hidden', text });
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** Replaces an element's children (cheaper than clear+append for a fresh fragment). */
export function replaceChildren(el: Element, ...children: Child[]): void {
  el.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}

/** Props carry strings and numbers; anything else is a caller's mistake and renders empty. */
function attributeText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}
