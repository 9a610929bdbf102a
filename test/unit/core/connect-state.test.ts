import * as assert from 'node:assert/strict';
import { ConnectStateStore, connectStateTtlMs } from '../../../src/core/connectState';
import { ConnectStateError } from '../../../src/core/errors';
import { identifierOf } from '../../support/identifiers';

const ada = identifierOf('oidc', 'ada');
const grace = identifierOf('oidc', 'grace');

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
    const a = store.mint(ada, 'posthog');
    const b = store.mint(ada, 'posthog');
    assert.notEqual(a, b);
    assert.ok(a.length >= 40, `state too short: ${a.length}`);
    assert.match(a, /^[A-Za-z0-9_-]+$/);
    // On the real clock, both are pending now and the first is accepted.
    assert.deepEqual(store.pendingFor(ada), ['posthog', 'posthog']);
    assert.equal(store.consume(a, ada), 'posthog');
    assert.deepEqual(store.pendingFor(ada), ['posthog']);
  });

  it('returns the connection it was minted for, once', () => {
    const store = new ConnectStateStore({ now: clock });
    const state = store.mint(ada, 'asana');
    assert.equal(store.consume(state, ada), 'asana');
    assert.equal(
      problemOf(() => store.consume(state, ada)),
      'replayed',
    );
  });

  it('rejects a state minted for another identity, and burns it', () => {
    const store = new ConnectStateStore({ now: clock });
    const state = store.mint(ada, 'posthog');
    assert.equal(
      problemOf(() => store.consume(state, grace)),
      'otherIdentity',
    );
    assert.equal(
      problemOf(() => store.consume(state, ada)),
      'replayed',
    );
  });

  it('expires after ten minutes', () => {
    assert.equal(connectStateTtlMs, 600_000);
    const store = new ConnectStateStore({ now: clock });
    const minted = now;
    const onTime = store.mint(ada, 'posthog');
    const late = store.mint(ada, 'asana');
    // Exactly ten minutes on, a state is still pending and still accepted.
    now = minted + 600_000;
    assert.deepEqual(store.pendingFor(ada), ['posthog', 'asana']);
    assert.equal(store.consume(onTime, ada), 'posthog');
    assert.deepEqual(store.pendingFor(ada), ['asana'], 'a consumed state is no longer pending');
    // One millisecond later it has expired.
    now = minted + 600_001;
    assert.deepEqual(store.pendingFor(ada), []);
    assert.equal(
      problemOf(() => store.consume(late, ada)),
      'expired',
    );
  });

  it('honours a custom lifetime', () => {
    const store = new ConnectStateStore({ now: clock, ttlMs: 1000 });
    const state = store.mint(ada, 'posthog');
    now += 1001;
    assert.deepEqual(store.pendingFor(ada), []);
    assert.equal(
      problemOf(() => store.consume(state, ada)),
      'expired',
    );
  });

  it('says "replayed" for a used state for one more lifetime after it expires, then forgets it', () => {
    const store = new ConnectStateStore({ now: clock });
    const minted = now;
    const used = store.mint(ada, 'posthog');
    assert.equal(store.consume(used, ada), 'posthog');
    // Minting prunes old records; twenty minutes on, the used state is still remembered.
    now = minted + 1_200_000;
    store.mint(ada, 'asana');
    assert.equal(
      problemOf(() => store.consume(used, ada)),
      'replayed',
    );
    now = minted + 1_200_001;
    store.mint(ada, 'asana');
    assert.equal(
      problemOf(() => store.consume(used, ada)),
      'unknown',
    );
  });

  it('checks the identity of a valid state, but says "expired" for a stale one whoever presents it', () => {
    const store = new ConnectStateStore({ now: clock });
    const stale = store.mint(ada, 'posthog');
    now += 600_001;
    assert.equal(
      problemOf(() => store.consume(stale, grace)),
      'expired',
    );
    assert.equal(
      problemOf(() => store.consume(stale, ada)),
      'replayed',
    );
  });

  it('rejects forged and missing states', () => {
    const store = new ConnectStateStore({ now: clock });
    store.mint(ada, 'posthog');
    assert.equal(
      problemOf(() => store.consume('forged-state', ada)),
      'unknown',
    );
    assert.equal(
      problemOf(() => store.consume(undefined, ada)),
      'malformed',
    );
    assert.equal(
      problemOf(() => store.consume('', ada)),
      'malformed',
    );
  });

  it('lists pending connections per identity only', () => {
    const store = new ConnectStateStore({ now: clock });
    store.mint(ada, 'posthog');
    store.mint(grace, 'asana');
    assert.deepEqual(store.pendingFor(ada), ['posthog']);
    assert.deepEqual(store.pendingFor(grace), ['asana']);
    store.clear();
    assert.deepEqual(store.pendingFor(ada), []);
  });
});
