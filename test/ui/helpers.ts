// Browser helpers for the chat webview tests: a real headless chromium, the fixture
// page, message delivery as the host would do it, and the bookkeeping every test checks
// at the end (no CSP violations, no console errors, every posted message valid).
import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { parseWebviewMessage, type HostMessage, type WebviewMessage } from '../../src/shared/protocol';
import { ROOT, startFixtureServer, type FixtureServer, type Theme } from './fixture';

// One list of chromium flags for every browser test in the repository.
export { CHROMIUM_FLAGS as CHROMIUM_ARGS, CHROMIUM_PATH } from '../harness/browser';
import { CHROMIUM_FLAGS as CHROMIUM_ARGS, CHROMIUM_PATH } from '../harness/browser';
export const SCREENSHOT_DIR = join(ROOT, 'test-results', 'screenshots');

export interface Harness {
  browser: Browser;
  server: FixtureServer;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const server = await startFixtureServer();
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  return {
    browser,
    server,
    close: async () => {
      await browser.close().catch(() => undefined);
      await server.close();
    },
  };
}

export interface ChatPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

export async function openChat(
  h: Harness,
  opts: { theme?: Theme; width?: number; height?: number; sandboxModel?: boolean; reducedMotion?: boolean } = {},
): Promise<ChatPage> {
  const context = await h.browser.newContext({
    viewport: { width: opts.width ?? 420, height: opts.height ?? 820 },
    reducedMotion: opts.reducedMotion === false ? 'no-preference' : 'reduce',
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`http ${r.status()}: ${r.url()}`);
  });
  await page.goto(h.server.pageUrl(opts.theme ?? 'dark', { sandboxModel: opts.sandboxModel ?? false }));
  await page.waitForSelector('body[data-onbehalf="loaded"]');
  return { page, context, errors, close: () => context.close() };
}

/** Delivers a host→webview message the way VS Code does (a window `message` event). */
export async function deliver(page: Page, ...messages: HostMessage[]): Promise<void> {
  await page.evaluate((ms) => {
    const w = globalThis as unknown as { postMessage(data: unknown, origin: string): void };
    for (const m of ms) w.postMessage(m, '*');
  }, messages as unknown[]);
}

/** Any value, even malformed, as a host message. */
export async function deliverRaw(page: Page, data: unknown): Promise<void> {
  await page.evaluate((d) => (globalThis as unknown as { postMessage(data: unknown, origin: string): void }).postMessage(d, '*'), data);
}

/** Streams `text` into a new assistant item, rendering after every chunk, then ends the stream. */
export async function streamInChunks(page: Page, itemId: string, text: string, sizes: readonly number[]): Promise<void> {
  await deliver(page, { type: 'item', item: { kind: 'assistant', id: itemId, markdown: '', streaming: true } });
  const chunks: string[] = [];
  for (let i = 0, k = 0; i < text.length; k++) {
    const n = sizes[k % sizes.length] ?? 1;
    chunks.push(text.slice(i, i + n));
    i += n;
  }
  await page.evaluate(
    ({ id, parts }) => {
      const g = globalThis as unknown as {
        dispatchEvent(e: unknown): boolean;
        MessageEvent: new (type: string, init: { data: unknown }) => unknown;
        Event: new (type: string) => unknown;
      };
      for (const part of parts) {
        g.dispatchEvent(new g.MessageEvent('message', { data: { type: 'textDelta', itemId: id, text: part } }));
        g.dispatchEvent(new g.Event('onbehalf:flush'));
      }
    },
    { id: itemId, parts: chunks },
  );
  await deliver(page, { type: 'item', item: { kind: 'assistant', id: itemId, markdown: text, streaming: false } });
}

/**
 * Streams `text` into the open assistant item `itemId` in chunks of `size`, rendering each at
 * once, and returns how many characters had arrived when `selector` first matched inside the
 * message (0 when it never did).
 */
export async function firstMatchWhileStreaming(page: Page, itemId: string, text: string, size: number, selector: string): Promise<number> {
  return page.evaluate(
    ({ id, whole, n, query }) => {
      const g = globalThis as unknown as {
        dispatchEvent(e: unknown): boolean;
        MessageEvent: new (type: string, init: { data: unknown }) => unknown;
        Event: new (type: string) => unknown;
        document: { querySelectorAll(s: string): { length: number } };
      };
      for (let i = 0; i < whole.length; i += n) {
        g.dispatchEvent(new g.MessageEvent('message', { data: { type: 'textDelta', itemId: id, text: whole.slice(i, i + n) } }));
        g.dispatchEvent(new g.Event('onbehalf:flush'));
        if (g.document.querySelectorAll(query).length) return i + n;
      }
      return 0;
    },
    { id: itemId, whole: text, n: size, query: selector },
  );
}

/** Waits until pending messages and animation frames were processed. */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const g = globalThis as unknown as { setTimeout(f: () => void, ms: number): void; requestAnimationFrame(f: () => void): void };
        g.setTimeout(() => g.requestAnimationFrame(() => g.requestAnimationFrame(() => resolve())), 0);
      }),
  );
}

export async function posted(page: Page): Promise<WebviewMessage[]> {
  return page.evaluate<WebviewMessage[]>('window.__posted');
}

export async function postedOfType<T extends WebviewMessage['type']>(page: Page, type: T): Promise<Extract<WebviewMessage, { type: T }>[]> {
  return (await posted(page)).filter((m): m is Extract<WebviewMessage, { type: T }> => m.type === type);
}

export async function clearPosted(page: Page): Promise<void> {
  await page.evaluate('window.__posted.length = 0');
}

/** Waits for a posted message of the given type and returns the latest one. */
export async function waitForPosted<T extends WebviewMessage['type']>(page: Page, type: T, timeout = 5000): Promise<Extract<WebviewMessage, { type: T }>> {
  await page.waitForFunction((t) => (globalThis as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === t), type, { timeout });
  const all = await postedOfType(page, type);
  const last = all[all.length - 1];
  assert.ok(last);
  return last;
}

/** What every test asserts at the end. */
export async function assertClean(chat: ChatPage): Promise<void> {
  const violations = await chat.page.evaluate<unknown[]>('window.__cspViolations');
  assert.deepEqual(violations, [], `CSP violations: ${JSON.stringify(violations)}`);
  assert.deepEqual(chat.errors, [], `console/page errors: ${chat.errors.join('\n')}`);
  // The host parses every message strictly (unknown fields such as an identity are rejected).
  for (const m of await posted(chat.page)) {
    const parsed = parseWebviewMessage(m);
    assert.ok(parsed.ok, `invalid posted message ${JSON.stringify(m)}: ${parsed.ok ? '' : parsed.reason}`);
    assert.ok(!/identi|user(name|id)|email|subject/i.test(Object.keys(m).join(',')), `identity-like field in ${JSON.stringify(m)}`);
  }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/**
 * Registers the usual hooks: one browser and fixture server per suite, a fresh chat page
 * per test (after `prepare`), and the clean-up checks after each. Returns a live view.
 */
export function useChatPage(prepare?: (chat: ChatPage) => Promise<void>): { readonly harness: Harness; readonly chat: ChatPage } {
  const holder = {} as { harness: Harness; chat: ChatPage };
  before(async () => {
    holder.harness = await startHarness();
  });
  after(async () => {
    await holder.harness?.close();
  });
  beforeEach(async () => {
    holder.chat = await openChat(holder.harness);
    await prepare?.(holder.chat);
  });
  afterEach(async () => {
    await assertClean(holder.chat);
    await holder.chat.close();
  });
  return holder;
}
