// Page objects for the e2e specs: what a person sees and does in the workbench. Every
// helper goes through the UI (command palette, input boxes, tree rows, the status bar, the
// chat webview, browser tabs) and waits on visible text or state, never on time.
import type { BrowserContext, FrameLocator, Locator, Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { screenshot, SCREENSHOT_DIR } from '../harness/browser';
import { EXTENSION_ID, onBehalfLog, type E2ESession } from '../harness/e2e-session';
const STATUS_ITEM_ID = `${EXTENSION_ID}.onbehalf.status`;

/** Default wait for something a person would see "soon". */
export const UI_TIMEOUT = 20_000;

// ---- Screenshots ----

export interface Shots {
  /**
   * Screenshot of the workbench: test-results/screenshots/<prefix>-NN-<name>.png. With
   * `sidebar: true` only the activity bar, the side bar and the status bar under them.
   */
  (name: string, options?: { sidebar?: boolean }): Promise<string>;
  /** Screenshot of another browser tab (login or consent page), numbered in the same sequence. */
  tab(tab: Page, name: string): Promise<string>;
}

/** Numbered screenshots for one spec, in the order the steps happen. */
export function stepShots(page: Page, prefix: string): Shots {
  let n = 0;
  const fileName = (name: string) => `${prefix}-${String(n).padStart(2, '0')}-${name}`;
  const shots = async (name: string, options: { sidebar?: boolean } = {}) => {
    n++;
    let file: string;
    if (options.sidebar === true) {
      const box = await page.locator('.part.sidebar').boundingBox();
      const viewport = page.viewportSize();
      if (!box || !viewport) throw new Error('no side bar to screenshot');
      file = join(SCREENSHOT_DIR, `${fileName(name)}.png`);
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: file, clip: { x: 0, y: 0, width: Math.ceil(box.x + box.width), height: viewport.height } });
    } else {
      file = await screenshot(page, fileName(name));
    }
    console.log(`      screenshot: ${file}`);
    return file;
  };
  shots.tab = async (tab: Page, name: string) => {
    n++;
    const file = await screenshot(tab, fileName(name));
    console.log(`      screenshot: ${file}`);
    return file;
  };
  return shots;
}

// ---- Workbench ----

export async function openOnBehalfView(page: Page): Promise<void> {
  const sidebarTitle = page.locator('.part.sidebar .composite.title').getByText('OnBehalf', { exact: false });
  if (await sidebarTitle.first().isVisible()) return;
  await page.locator('.part.activitybar').getByRole('tab', { name: 'OnBehalf', exact: true }).waitFor({ state: 'visible', timeout: 30_000 });
  // "View: Show OnBehalf" opens the container whatever state the side bar is in. Clicking the
  // activity bar tab toggles instead, and right after a reload, while the workbench is still
  // restoring its side bar, a click can land as "hide".
  await runCommand(page, 'View: Show OnBehalf');
  await sidebarTitle.first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
}

/** The header of a view in the OnBehalf container ("Connections" or "Chat"). */
export function paneHeader(page: Page, title: string): Locator {
  return page.locator('.part.sidebar .pane-header').filter({ has: page.locator('h3.title', { hasText: new RegExp(`^${escapeRegExp(title)}$`, 'i') }) });
}

async function setPaneExpanded(page: Page, title: string, expanded: boolean): Promise<void> {
  const header = paneHeader(page, title);
  await header.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  if ((await header.getAttribute('aria-expanded')) !== String(expanded)) await header.locator('h3.title').click();
  await header.and(page.locator(`[aria-expanded="${String(expanded)}"]`)).waitFor({ timeout: UI_TIMEOUT });
}

export const collapsePane = (page: Page, title: string) => setPaneExpanded(page, title, false);
export const expandPane = (page: Page, title: string) => setPaneExpanded(page, title, true);

/** Drags the sash between the side bar and the editor so the side bar is about `width` pixels wide. */
export async function widenSidebar(page: Page, width: number): Promise<void> {
  const sidebar = page.locator('.part.sidebar');
  const box = await sidebar.boundingBox();
  if (!box || Math.abs(box.width - width) < 4) return;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width, y);
  await page.mouse.down();
  await page.mouse.move(box.x + width, y, { steps: 8 });
  await page.mouse.up();
  const after = await sidebar.boundingBox();
  if (!after || Math.abs(after.width - width) > 24) throw new Error(`the side bar is ${after?.width ?? '?'}px wide after dragging its sash to ${width}px`);
}

export function quickInput(page: Page): Locator {
  return page.locator('.quick-input-widget');
}

/**
 * F1, type the command's title, wait until it is the highlighted entry, Enter. A page that
 * takes focus as it finishes loading (the walkthrough does) closes the palette under us, so
 * a palette that vanished before Enter is opened again.
 */
export async function runCommand(page: Page, title: string): Promise<void> {
  await closeQuickInput(page);
  const widget = quickInput(page);
  const input = widget.locator('input.input');
  const row = widget.locator('.quick-input-list .monaco-list-row.focused').filter({ hasText: title }).first();
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      await input.fill(`>${title}`, { timeout: 5_000 });
      await row.waitFor({ state: 'visible', timeout: UI_TIMEOUT / 2 });
      await input.press('Enter', { timeout: 5_000 });
      return;
    } catch (error) {
      if (attempt >= 4) throw error;
      // Right after a reload the palette can open before an extension's contributed commands
      // (such as "View: Show OnBehalf") are registered, and it does not refresh its list while
      // open: close it and ask again. A page that took focus may also have closed it.
      await closeQuickInput(page);
    }
  }
}

/** Escape out of any open quick input. */
export async function closeQuickInput(page: Page): Promise<void> {
  const widget = quickInput(page);
  if (await widget.isVisible()) {
    await page.keyboard.press('Escape');
    await widget.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
  }
}

/**
 * Waits for an input box with the given title, checks it is a password box when asked,
 * types the text (as a person would, key by key) and presses Enter.
 */
export async function answerInputBox(page: Page, title: RegExp, text: string, opts: { password?: boolean } = {}): Promise<void> {
  const widget = quickInput(page);
  await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  const input = widget.locator('input.input');
  if (opts.password === true) {
    const type = await input.getAttribute('type');
    if (type !== 'password') throw new Error(`the "${String(title)}" input box is not a password box (type=${type ?? 'none'})`);
  }
  await input.pressSequentially(text, { delay: 5 });
  await input.press('Enter');
}

/** Picks the entry with this label in the open quick pick. */
export async function pickQuickItem(page: Page, label: string): Promise<void> {
  const widget = quickInput(page);
  const row = widget.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: label }) });
  await row.first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await row.first().click();
}

/** A notification toast whose message matches. */
export function notification(page: Page, text: string | RegExp): Locator {
  return page.locator('.notifications-toasts .notification-toast', { hasText: text });
}

/**
 * Waits for a notification that has been posted: as a toast, or, when VS Code did not toast
 * it, in the Notification Center. VS Code toasts at most three notifications per 800 ms and
 * files the rest in the center only, and a test types faster than a person: two checked keys
 * in a row post four ("Checking…", "saved", "Checking…", "saved"). Someone who missed a toast
 * looks under the bell, so the center is where this looks next.
 */
export async function waitForNotification(page: Page, text: RegExp, toastTimeoutMs = 3_000): Promise<void> {
  const toast = notification(page, text).first();
  const shown = await toast.waitFor({ state: 'visible', timeout: toastTimeoutMs }).then(
    () => true,
    () => false,
  );
  if (shown) return;
  await runCommand(page, 'Notifications: Show Notifications');
  const center = page.locator('.notifications-center');
  try {
    await center.locator('.notification-list-item', { hasText: text }).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    console.log(`      (VS Code did not toast "${text.source}"; it is in the Notification Center)`);
  } finally {
    await runCommand(page, 'Notifications: Hide Notifications');
    await center.waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
  }
}

/** Clears every notification toast, through the command a person would use. */
export async function dismissNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications');
  await page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
}

// ---- Walkthrough ----

export const WALKTHROUGH_TITLE = 'Get started with OnBehalf';
export const WALKTHROUGH_STEPS = ['signIn', 'setKeys', 'connectPostHog', 'connectAsana', 'ask'] as const;

/** Opens "Get started with OnBehalf" through Welcome: Open Walkthrough..., as a person would. */
export async function openWalkthrough(page: Page): Promise<Locator> {
  await runCommand(page, 'Welcome: Open Walkthrough...');
  await pickQuickItem(page, WALKTHROUGH_TITLE);
  const slide = walkthroughSlide(page);
  await slide.locator('h2', { hasText: WALKTHROUGH_TITLE }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  return slide;
}

/** The walkthrough's page as VS Code shows it (once it is open, however it was opened). */
export function walkthroughSlide(page: Page): Locator {
  return page.locator('.gettingStartedContainer .gettingStartedSlideDetails');
}

/** The step the walkthrough has expanded ("setKeys"), read from the page's own `data-step-id`. */
export async function expandedWalkthroughStep(slide: Locator): Promise<string> {
  const expanded = slide.locator('[data-step-id].expanded');
  await expanded.first().waitFor({ state: 'attached', timeout: UI_TIMEOUT });
  return ((await expanded.first().getAttribute('data-step-id')) ?? '').replace(/^.*#/, '');
}

/**
 * Waits until the walkthrough has expanded `step`; returns the step it shows at the end.
 * VS Code focuses the step it expands a moment later, which would close a quick input opened
 * in between, so this also waits (briefly) for that focus, as a person reading it would.
 */
export async function waitForExpandedStep(slide: Locator, step: string, timeoutMs = UI_TIMEOUT): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await expandedWalkthroughStep(slide);
    if (shown === step) {
      await slide
        .locator(`[data-step-id$="#${step}"]:focus`)
        .waitFor({ state: 'attached', timeout: 3_000 })
        .catch(() => undefined);
      return shown;
    }
    if (Date.now() > deadline) return shown;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Each step's tick, read from the checkbox VS Code draws beside the step title
 * (`[data-done-step-id="<extension>#<walkthrough>#<step>"]`, aria-checked).
 */
export async function walkthroughTicks(slide: Locator): Promise<Record<string, boolean>> {
  const ticks: Record<string, boolean> = {};
  for (const step of WALKTHROUGH_STEPS) {
    const box = slide.locator(`[data-done-step-id$="#getStarted#${step}"]`);
    await box.waitFor({ state: 'attached', timeout: UI_TIMEOUT });
    ticks[step] = (await box.getAttribute('aria-checked')) === 'true';
  }
  return ticks;
}

/** Waits until every step's tick reads as `expected`, then returns the ticks. */
export async function waitForWalkthroughTicks(slide: Locator, expected: Record<string, boolean>, timeoutMs = UI_TIMEOUT): Promise<Record<string, boolean>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ticks = await walkthroughTicks(slide);
    if (WALKTHROUGH_STEPS.every((step) => ticks[step] === expected[step])) return ticks;
    if (Date.now() > deadline) throw new Error(`walkthrough ticks ${JSON.stringify(ticks)}, expected ${JSON.stringify(expected)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---- Status bar ----

export function statusItem(page: Page): Locator {
  return page.locator(`.part.statusbar [id="${STATUS_ITEM_ID}"]`);
}

export async function statusText(page: Page): Promise<string> {
  return ((await statusItem(page).textContent()) ?? '').trim();
}

/** Waits until the OnBehalf status bar item's text matches. */
export async function waitForStatus(page: Page, pattern: RegExp, timeoutMs = UI_TIMEOUT): Promise<string> {
  const item = statusItem(page);
  await item
    .filter({ hasText: pattern })
    .waitFor({ state: 'visible', timeout: timeoutMs })
    .catch(async (error: unknown) => {
      throw new Error(`status bar never matched ${String(pattern)}; it says "${await statusText(page)}" (${(error as Error).message.split('\n')[0] ?? ''})`);
    });
  return statusText(page);
}

// ---- Connections tree ----

export function connectionsPane(page: Page): Locator {
  return page.locator('.part.sidebar .pane').filter({ has: page.locator('.pane-header h3.title', { hasText: /^Connections$/i }) });
}

/** The tree row whose label (first text) matches, e.g. "PostHog" or /^Signed in as Ada/. */
export function treeRow(page: Page, label: string | RegExp): Locator {
  const name = typeof label === 'string' ? new RegExp(`^${escapeRegExp(label)}$`) : label;
  return connectionsPane(page)
    .locator('.monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: name }) });
}

/** The row's description (the grey text after the label), e.g. "Connected · 199 tools". */
export async function treeDescription(row: Locator): Promise<string> {
  return ((await row.locator('.label-description').first().textContent()) ?? '').trim();
}

export async function waitForTreeRow(page: Page, label: string | RegExp, description?: RegExp, timeoutMs = UI_TIMEOUT): Promise<Locator> {
  const row = treeRow(page, label);
  const target = description ? row.filter({ has: page.locator('.label-description', { hasText: description }) }) : row;
  await target
    .first()
    .waitFor({ state: 'visible', timeout: timeoutMs })
    .catch(async (error: unknown) => {
      const rows = await connectionsPane(page).locator('.monaco-list-row').allTextContents();
      throw new Error(
        `no Connections row ${String(label)}${description ? ` with ${String(description)}` : ''}; rows: ${JSON.stringify(rows)} (${(error as Error).message.split('\n')[0] ?? ''})`,
      );
    });
  return target.first();
}

/** Expands a collapsed tree row by clicking its twistie. */
export async function expandTreeRow(row: Locator): Promise<void> {
  if ((await row.getAttribute('aria-expanded')) === 'true') return;
  await row.locator('.monaco-tl-twistie').click();
  await row.and(row.page().locator('[aria-expanded="true"]')).waitFor({ timeout: UI_TIMEOUT });
}

// ---- Browser tabs (openExternal) ----

/**
 * Runs an action that makes the extension open a URL in the browser. VS Code first asks
 * "Do you want code-server to open the external website?"; a person clicks Open. Returns
 * the new tab once it has loaded.
 */
export async function openedTab(page: Page, action: () => Promise<void>, timeoutMs = UI_TIMEOUT): Promise<Page> {
  const context: BrowserContext = page.context();
  const tab = context.waitForEvent('page', { timeout: timeoutMs });
  await action();
  const dialog = page.locator('.monaco-dialog-box', { hasText: 'open the external website' });
  const first = await Promise.race([tab.then(() => 'tab' as const), dialog.waitFor({ state: 'visible', timeout: timeoutMs }).then(() => 'dialog' as const)]);
  if (first === 'dialog') await dialog.getByRole('button', { name: 'Open', exact: true }).click();
  const opened = await tab;
  await opened.waitForLoadState('domcontentloaded');
  return opened;
}

/** Waits until a browser tab reached code-server's /callback (which hands the URI to the extension), then closes it. */
export async function finishAtCallback(tab: Page, timeoutMs = UI_TIMEOUT): Promise<string> {
  await tab.waitForURL(/\/callback\?/, { timeout: timeoutMs });
  const url = tab.url();
  await tab.close();
  return url;
}

// ---- Flows ----

/**
 * Signs in through the Connections view's "Sign In" button and the IdP's login page in a
 * new tab, as the given demo user (ada or grace). Screenshots the login page when asked.
 */
export async function signInAs(page: Page, user: 'ada' | 'grace', shots?: Shots): Promise<void> {
  await openOnBehalfView(page);
  const button = connectionsPane(page).getByRole('button', { name: 'Sign In', exact: true });
  await button.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  const tab = await openedTab(page, () => button.click());
  const login = tab.locator(`#login-${user}`);
  await login.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  if (shots) await shots.tab(tab, `idp-login-${user}`);
  await login.click();
  await finishAtCallback(tab);
  const name = user === 'ada' ? 'Ada Lovelace' : 'Grace Hopper';
  await waitForTreeRow(page, new RegExp(`^Signed in as ${name}`));
}

/** Signs out through F1 → "OnBehalf: Sign Out" and waits for the welcome view's Sign In button. */
export async function signOut(page: Page): Promise<void> {
  await runCommand(page, 'OnBehalf: Sign Out');
  await connectionsPane(page).getByRole('button', { name: 'Sign In', exact: true }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await waitForStatus(page, /Sign in/);
}

/** Waits until the status bar item is past its loading spinner. */
export async function waitForStatusSettled(page: Page): Promise<string> {
  return waitForStatus(page, /OnBehalf: /, 30_000);
}

/** Signed out, whatever state an earlier spec left. */
export async function ensureSignedOut(page: Page): Promise<void> {
  await openOnBehalfView(page);
  await closeQuickInput(page);
  const signIn = connectionsPane(page).getByRole('button', { name: 'Sign In', exact: true });
  const signedIn = treeRow(page, /^Signed in as /);
  await signIn.or(signedIn).first().waitFor({ state: 'visible', timeout: 30_000 });
  if (await signedIn.isVisible()) await signOut(page);
}

/** F1 → the command → the password input box → Enter; waits for "<what> saved/rotated". */
export async function setSecretThroughCommand(
  session: Pick<E2ESession, 'page' | 'server'>,
  command: 'OnBehalf: Set Scalekit Client Secret' | 'OnBehalf: Set Anthropic API Key',
  value: string,
  shots?: Shots,
  shotName?: string,
): Promise<void> {
  const { page } = session;
  const what = command === 'OnBehalf: Set Scalekit Client Secret' ? 'Scalekit Client Secret' : 'Anthropic API Key';
  // The extension logs each save; the wait counts them, so a rotation is not taken for the first save.
  const savedLine = new RegExp(`${what} (stored|rotated)\\.`, 'g');
  const timesStored = (): number => (onBehalfLog(session.server.userDataDir).match(savedLine) ?? []).length;
  let storedBefore: number;
  const title = new RegExp(`^(Set|Rotate) ${what}$`);
  const widget = quickInput(page);
  const input = widget.locator('input.input');
  for (let attempt = 1; ; attempt++) {
    await runCommand(page, command);
    await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    // The box shows dots, never the value.
    await input.pressSequentially(value, { delay: 5 });
    // A page that takes focus as it loads (the walkthrough's step media) can take the keys
    // away mid-value; a person sees the box short of dots and types it again.
    const typed = (await widget.isVisible()) ? await input.inputValue() : '';
    if (typed !== value) {
      if (attempt >= 3) throw new Error(`the ${what} input box lost the typed value three times (last: ${typed.length} of ${value.length} characters)`);
      console.log(`      (the ${what} box had ${typed.length} of ${value.length} characters; typing it again)`);
      await closeQuickInput(page);
      continue;
    }
    if (shots) await shots(shotName ?? `${what.toLowerCase().replace(/\s+/g, '-')}-input`);
    const type = await input.getAttribute('type');
    if (type !== 'password') throw new Error(`the ${what} input box is not a password box`);
    storedBefore = timesStored();
    await input.press('Enter');
    break;
  }
  // The key is checked against its service (its SDK loading on first use) before it is saved:
  // on a loaded machine that alone has taken over 20 s, so this waits longer than a UI step.
  const deadline = Date.now() + 60_000;
  while (timesStored() === storedBefore) {
    if (Date.now() > deadline) throw new Error(`OnBehalf did not log "${what} stored" within 60 s of Enter`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await waitForNotification(page, new RegExp(`${what} (saved|rotated)`));
}

/**
 * Connects PostHog or Asana from the Connections tree: hovers the row and clicks its inline
 * Connect action (the plug), clicks Allow on the consent page in the new tab, and waits
 * for the row to say "Connected · N tools".
 *
 * The inline action rather than a click on the row itself: the row's own command is an
 * internal command id that VS Code re-issues on every tree refresh, and a click that lands
 * just after a refresh fails with "Actual command not found" (seen here while the tree
 * reloaded after a key was saved). The inline action carries the stable tree item id.
 */
export async function connectFromTree(page: Page, label: 'PostHog' | 'Asana', shots?: Shots): Promise<string> {
  const row = await waitForTreeRow(page, label, /Not connected yet|Disconnected|Waiting|Pending/i);
  await row.hover();
  const connect = row.getByRole('button', { name: 'Connect', exact: true });
  await connect.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  const tab = await openedTab(page, () => connect.click());
  const allow = tab.locator('#allow');
  await allow.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  if (shots) await shots.tab(tab, `${label.toLowerCase()}-consent-page`);
  await allow.click();
  await finishAtCallback(tab);
  const connected = await waitForTreeRow(page, label, /^Connected · \d+ tools$/);
  return treeDescription(connected);
}

// ---- Chat webview ----

/** The chat's content frame (two nested iframes). */
export function chatFrame(page: Page): FrameLocator {
  return page.frameLocator(`iframe.webview[src*="extensionId=${EXTENSION_ID}"]`).frameLocator('#active-frame');
}

export async function focusChat(page: Page): Promise<FrameLocator> {
  await openOnBehalfView(page);
  const chat = chatFrame(page);
  await chat.locator('textarea.composer-input').waitFor({ state: 'visible', timeout: 30_000 });
  return chat;
}

/** Types a message into the composer and presses Enter; waits for it to appear as a user message. */
export async function sendChat(page: Page, text: string): Promise<FrameLocator> {
  const chat = await focusChat(page);
  const box = chat.locator('textarea.composer-input');
  await box.click();
  await box.pressSequentially(text, { delay: 2 });
  await box.press('Enter');
  await chat.locator('.item-list').getByText(text, { exact: true }).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  return chat;
}

/** The tool card for a tool, the last one if it ran more than once. */
export function toolCard(chat: FrameLocator, toolName: string): Locator {
  return chat
    .locator('.tool-card')
    .filter({ has: chat.locator('.tool-name', { hasText: new RegExp(`^${escapeRegExp(toolName)}$`) }) })
    .last();
}

/**
 * Waits until the agent answered the last message and is idle: the last item is not the
 * user's own message (the turn started; the composer is busy from before its first item)
 * and the composer is no longer busy (no Stop button).
 */
export async function waitForChatIdle(chat: FrameLocator, timeoutMs = 60_000): Promise<void> {
  await chat.locator('.item-list > .msg:last-child:not(.msg-user)').waitFor({ state: 'attached', timeout: timeoutMs });
  await chat.locator('footer.composer:not(.busy)').waitFor({ state: 'attached', timeout: timeoutMs });
}

// ---- Editors ----

/** Text of the active editor, as rendered (lines joined by newlines). */
/** The document inside VS Code's Markdown preview. */
export function markdownPreview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview[src*="extensionId=vscode.markdown-language-features"]').frameLocator('#active-frame');
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
