import * as assert from 'node:assert/strict';
import { FirstCheck } from '../../../src/vscode/firstCheck';

// Activation does not list connections: the first check runs once, when an OnBehalf view
// shows, or after the startup delay so the status bar still learns the state.

describe('the first connection check', () => {
  it('does not run at construction; it runs once when a view shows, and not again at the delay', async () => {
    let runs = 0;
    const check = new FirstCheck(() => runs++, 30);
    assert.equal(runs, 0, 'nothing is checked during activation');
    check.run();
    check.run();
    assert.equal(runs, 1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(runs, 1, 'the delay does not check a second time');
    check.dispose();
  });

  it('runs on its own after the delay when no view was shown', async () => {
    let runs = 0;
    const check = new FirstCheck(() => runs++, 20);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(runs, 1);
    check.run();
    assert.equal(runs, 1);
    check.dispose();
  });

  it('never runs once disposed (the extension deactivated first)', async () => {
    let runs = 0;
    const check = new FirstCheck(() => runs++, 20);
    check.dispose();
    check.run();
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(runs, 0);
  });
});
