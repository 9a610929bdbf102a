import * as assert from 'node:assert/strict';
import { ConnectStateStore, connectStateTtlMs } from '../../../src/core/connectState';
import { ConnectStateError } from '../../../src/core/errors';

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(ConnectStateError.is(error), `expected ConnectStateError, got ${String(error)}`);
    return error.problem;
  }
  assert.fail('expected the state to be rejected');
}

describe('connect state', () => {
  let now = 1_000_000;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('is random and long enough to be unguessable', () => {
    const store = new ConnectStateStore();
    const a = store.mint('oidc:ada', 'posthog');
    const b = store.mint('oidc:ada', 'posthog');
    assert.notEqual(a, b);
    assert.ok(a.length >= 40, `state too short: ${a.length}`);
    assert.match(a, /^[A-Za-z0-9_-]+$/);
  });

  it('returns the connection it was minted for, once', () => {
    const store = new ConnectStateStore({ now: clock });
    const state = store.mint('oidc:ada', 'asana');
    assert.equal(store.consume(state, 'oidc:ada'), 'asana');
    assert.equal(problemOf(() => store.consume(state, 'oidc:ada')), 'replayed');
  });

  it('rejects a state minted for another identity, and burns it', () => {
    const store = new ConnectStateStore({ now: clock });
    const state = store.mint('oidc:ada', 'posthog');
    assert.equal(problemOf(() => store.consume(state, 'oidc:grace')), 'otherIdentity');
    assert.equal(problemOf(() => store.consume(state, 'oidc:ada')), 'replayed');
  });

  it('expires after ten minutes', () => {
    const store = new ConnectStateStore({ now: clock });
    const fresh = store.mint('oidc:ada', 'posthog');
    const stale = store.mint('oidc:ada', 'posthog');
    now += connectStateTtlMs - 1;
    assert.equal(store.consume(fresh, 'oidc:ada'), 'posthog');
    now += 2;
    assert.equal(problemOf(() => store.consume(stale, 'oidc:ada')), 'expired');
  });

  it('rejects forged and missing states', () => {
    const store = new ConnectStateStore({ now: clock });
    store.mint('oidc:ada', 'posthog');
    assert.equal(problemOf(() => store.consume('forged-state', 'oidc:ada')), 'unknown');
    assert.equal(problemOf(() => store.consume(undefined, 'oidc:ada')), 'malformed');
    assert.equal(problemOf(() => store.consume('', 'oidc:ada')), 'malformed');
  });

  it('lists pending connections per identity only', () => {
    const store = new ConnectStateStore({ now: clock });
    store.mint('oidc:ada', 'posthog');
    store.mint('oidc:grace', 'asana');
    assert.deepEqual(store.pendingFor('oidc:ada'), ['posthog']);
    assert.deepEqual(store.pendingFor('oidc:grace'), ['asana']);
    store.clear();
    assert.deepEqual(store.pendingFor('oidc:ada'), []);
  });
});
