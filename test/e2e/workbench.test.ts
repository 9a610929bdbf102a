// e2e tier: a person's view of the extension in the real workbench (code-server +
// headless chromium), with the extension loaded from this repository's build.
import * as assert from 'node:assert/strict';
import { screenshot } from '../harness/browser';
import { activationFailure, e2eSession, EXTENSION_ID, type E2ESession } from '../harness/e2e-session';
import { openOnBehalfView } from './helpers';

describe('workbench', () => {
  let session: E2ESession;

  before(async () => {
    session = await e2eSession();
  });

  it(`activates ${EXTENSION_ID} in the extension host`, async () => {
    await session.waitForActivation();
    assert.equal(activationFailure(session.server.userDataDir), undefined);
  });

  it('opens the OnBehalf activity bar container with its Connections and Chat views', async () => {
    const { page } = session;
    // Opens the container unless an earlier spec left it open (a second click would close it).
    await openOnBehalfView(page);
    const sidebar = page.locator('.part.sidebar');
    for (const name of ['Connections', 'Chat']) {
      const header = sidebar.locator('.pane-header h3.title', { hasText: new RegExp(`^${name}$`, 'i') });
      await header.waitFor({ state: 'visible', timeout: 15_000 });
      assert.ok(await header.isVisible(), `the ${name} view header is not visible`);
    }
    const file = await screenshot(page, 'e2e-activity-bar');
    console.log(`      screenshot: ${file}`);
  });
});
