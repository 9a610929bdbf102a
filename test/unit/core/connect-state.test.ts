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
    // On the real clock, both are pending now and the first is accepted.
    assert.deepEqual(store.pendingFor('oidc:ada'), ['posthog', 'posthog']);
    assert.equal(store.consume(a, 'oidc:ada'), 'posthog');
    assert.deepEqual(store.pendingFor('oidc:ada'), ['posthog']);
  });

  it('returns the connection it was minted for, once', () => {
    const store = new ConnectStateStore({ now: clock });
    const state = store.mint('oidc:ada', 'asana');
    assert.equal(store.consume(state, 'oidc:ada'), 'asana');
    assert.equal(
      problemOf(() => store.consume(state, 'oidc:ada')),
      'replayed',
    );
  });

  it('rejects a state minted for another identity, and burns it', () => {
    const store = new ConnectStateStore({ now: clock });
    const state = store.mint('oidc:ada', 'posthog');
    assert.equal(
      problemOf(() => store.consume(state, 'oidc:grace')),
      'otherIdentity',
    );
    assert.equal(
      problemOf(() => store.consume(state, 'oidc:ada')),
      'replayed',
    );
  });

  it('expires after ten minutes', () => {
    assert.equal(connectStateTtlMs, 600_000);
    const store = new ConnectStateStore({ now: clock });
    const minted = now;
    const onTime = store.mint('oidc:ada', 'posthog');
    const late = store.mint('oidc:ada', 'asana');
    // Exactly ten minutes on, a state is still pending and still accepted.
    now = minted + 600_000;
    assert.deepEqual(store.pendingFor('oidc:ada'), ['posthog', 'asana']);
    assert.equal(store.consume(onTime, 'oidc:ada'), 'posthog');
    assert.deepEqual(store.pendingFor('oidc:ada'), ['asana'], 'a consumed state is no longer pending');
    // One millisecond later it has expired.
    now = minted + 600_001;
    assert.deepEqual(store.pendingFor('oidc:ada'), []);
    assert.equal(
      problemOf(() => store.consume(late, 'oidc:ada')),
      'expired',
    );
  });

  it('honours a custom lifetime', () => {
    const store = new ConnectStateStore({ now: clock, ttlMs: 1000 });
    const state = store.mint('oidc:ada', 'posthog');
    now += 1001;
    assert.deepEqual(store.pendingFor('oidc:ada'), []);
    assert.equal(
      problemOf(() => store.consume(state, 'oidc:ada')),
      'expired',
    );
  });

  it('says "replayed" for a used state for one more lifetime after it expires, then forgets it', () => {
    const store = new ConnectStateStore({ now: clock });
    const minted = now;
    const used = store.mint('oidc:ada', 'posthog');
    assert.equal(store.consume(used, 'oidc:ada'), 'posthog');
    // Minting prunes old records; twenty minutes on, the used state is still remembered.
    now = minted + 1_200_000;
    store.mint('oidc:ada', 'asana');
    assert.equal(
      problemOf(() => store.consume(used, 'oidc:ada')),
      'replayed',
    );
    now = minted + 1_200_001;
    store.mint('oidc:ada', 'asana');
    assert.equal(
      problemOf(() => store.consume(used, 'oidc:ada')),
      'unknown',
    );
  });

  it('checks the identity of a valid state, but says "expired" for a stale one whoever presents it', () => {
    const store = new ConnectStateStore({ now: clock });
    const stale = store.mint('oidc:ada', 'posthog');
    now += 600_001;
    assert.equal(
      problemOf(() => store.consume(stale, 'oidc:grace')),
      'expired',
    );
    assert.equal(
      problemOf(() => store.consume(stale, 'oidc:ada')),
      'replayed',
    );
  });

  it('rejects forged and missing states', () => {
    const store = new ConnectStateStore({ now: clock });
    store.mint('oidc:ada', 'posthog');
    assert.equal(
      problemOf(() => store.consume('forged-state', 'oidc:ada')),
      'unknown',
    );
    assert.equal(
      problemOf(() => store.consume(undefined, 'oidc:ada')),
      'malformed',
    );
    assert.equal(
      problemOf(() => store.consume('', 'oidc:ada')),
      'malformed',
    );
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
