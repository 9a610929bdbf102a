import * as assert from 'node:assert/strict';
import { WebviewLoadWatchdog, type WatchdogTimers } from '../../../src/core/webviewLoadWatchdog';

/** Timers that fire only when the test says so. */
function manualTimers(): WatchdogTimers & { fire(): void; pending(): number } {
  let next = 0;
  const live = new Map<number, () => void>();
  return {
    setTimeout(callback) {
      const id = ++next;
      live.set(id, callback);
      return id;
    },
    clearTimeout(handle) {
      live.delete(handle as number);
    },
    fire() {
      const entries = [...live.entries()];
      live.clear();
      for (const [, callback] of entries) callback();
    },
    pending: () => live.size,
  };
}

function watchdogWith(maxRetries = 2) {
  const timers = manualTimers();
  const events: string[] = [];
  const watchdog = new WebviewLoadWatchdog({
    timeoutMs: 8_000,
    maxRetries,
    recover: (attempt) => events.push(`recover ${attempt}`),
    giveUp: () => events.push('give up'),
    timers,
  });
  return { watchdog, timers, events };
}

describe('WebviewLoadWatchdog', () => {
  it('does nothing when the page says ready in time', () => {
    const { watchdog, timers, events } = watchdogWith();
    watchdog.rendered();
    assert.equal(timers.pending(), 1);
    watchdog.ready();
    assert.equal(timers.pending(), 0);
    timers.fire();
    assert.deepEqual(events, []);
  });

  it('recovers up to maxRetries times, then gives up once', () => {
    const { watchdog, timers, events } = watchdogWith(2);
    watchdog.rendered();
    timers.fire();
    timers.fire();
    timers.fire();
    timers.fire();
    assert.deepEqual(events, ['recover 1', 'recover 2', 'give up']);
    assert.equal(watchdog.waiting, false);
  });

  it('a ready page restores the budget for later loads', () => {
    const { watchdog, timers, events } = watchdogWith(1);
    watchdog.rendered();
    timers.fire();
    watchdog.ready();
    watchdog.rendered();
    timers.fire();
    assert.deepEqual(events, ['recover 1', 'recover 1']);
  });

  it('a fresh render (a view rebuilt by the recovery) keeps the spent budget', () => {
    const { watchdog, timers, events } = watchdogWith(1);
    watchdog.rendered();
    timers.fire();
    watchdog.rendered();
    timers.fire();
    assert.deepEqual(events, ['recover 1', 'give up']);
  });

  it('a hidden view is not watched', () => {
    const { watchdog, timers, events } = watchdogWith();
    watchdog.rendered();
    watchdog.pause();
    timers.fire();
    assert.deepEqual(events, []);
    assert.equal(watchdog.waiting, false);
  });
});
