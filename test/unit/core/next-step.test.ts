import * as assert from 'node:assert/strict';
import { MissingCredentialsError, ServiceUnavailableError } from '../../../src/core/errors';
import { nextStepFor } from '../../../src/core/nextStep';
import { isPending, nextActionFor, statusFromScalekit } from '../../../src/core/connectionStatus';

describe('next step and statuses', () => {
  const active = { name: 'posthog', status: 'ACTIVE' as const };
  it('asks for what is missing, in order', () => {
    assert.deepEqual(nextStepFor({ signedIn: false, hasAnthropicKey: true, connections: [] }), { kind: 'signIn' });
    assert.deepEqual(nextStepFor({ signedIn: true, problem: new MissingCredentialsError('scalekitClientSecret'), hasAnthropicKey: true, connections: [] }), {
      kind: 'setScalekitSecret',
    });
    assert.deepEqual(nextStepFor({ signedIn: true, problem: new MissingCredentialsError('scalekitEnvironmentUrl'), hasAnthropicKey: true, connections: [] }), {
      kind: 'configureScalekit',
    });
    assert.deepEqual(nextStepFor({ signedIn: true, hasAnthropicKey: false, connections: [active] }), { kind: 'setAnthropicKey' });
    assert.deepEqual(nextStepFor({ signedIn: true, hasAnthropicKey: true, connections: [active, { name: 'asana', status: 'EXPIRED' }] }), {
      kind: 'connect',
      connection: 'asana',
    });
    assert.deepEqual(nextStepFor({ signedIn: true, hasAnthropicKey: true, connections: [active] }), { kind: 'none' });
    assert.deepEqual(
      nextStepFor({
        signedIn: true,
        problem: new ServiceUnavailableError('Scalekit', 'down'),
        hasAnthropicKey: true,
        connections: [{ name: 'asana', status: 'UNKNOWN' }],
      }),
      { kind: 'none' },
    );
  });

  it('counts an ACTIVE enterprise connection as an account and stops asking for Scalekit when none is configured', () => {
    const unconfigured = new MissingCredentialsError('scalekitEnvironmentUrl');
    const noSecret = new MissingCredentialsError('scalekitClientSecret');
    const unknown = [
      { name: 'posthog', status: 'UNKNOWN' as const },
      { name: 'asana', status: 'UNKNOWN' as const },
    ];
    const enterpriseOnly = { signedIn: true, problem: unconfigured, scalekitConfigured: false, enterpriseActive: true, connections: unknown };
    assert.deepEqual(nextStepFor({ ...enterpriseOnly, hasAnthropicKey: true }), { kind: 'none' });
    assert.deepEqual(nextStepFor({ ...enterpriseOnly, hasAnthropicKey: false }), { kind: 'setAnthropicKey' }, 'the Anthropic key is still asked for');
    assert.deepEqual(nextStepFor({ ...enterpriseOnly, signedIn: false, hasAnthropicKey: true }), { kind: 'signIn' });
    // Scalekit half set up: the user meant to use it, so it is still asked for.
    assert.deepEqual(nextStepFor({ ...enterpriseOnly, problem: noSecret, scalekitConfigured: true, hasAnthropicKey: true }), { kind: 'setScalekitSecret' });
    // The enterprise connection not (yet) active: Scalekit is the way to an account.
    assert.deepEqual(nextStepFor({ ...enterpriseOnly, enterpriseActive: false, hasAnthropicKey: true }), { kind: 'configureScalekit' });
    // Both set up: an inactive Scalekit connection is still offered, enterprise or not.
    assert.deepEqual(
      nextStepFor({
        signedIn: true,
        hasAnthropicKey: true,
        scalekitConfigured: true,
        enterpriseActive: true,
        connections: [active, { name: 'asana', status: 'NOT_CONNECTED' }],
      }),
      { kind: 'connect', connection: 'asana' },
    );
  });

  it('maps Scalekit statuses 1-5 and nothing else', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map(statusFromScalekit), ['ACTIVE', 'EXPIRED', 'PENDING_AUTH', 'PENDING_VERIFICATION', 'DISCONNECTED']);
    assert.equal(statusFromScalekit(0), 'UNKNOWN');
    assert.equal(statusFromScalekit(9), 'UNKNOWN');
    assert.equal(statusFromScalekit('ACTIVE'), 'ACTIVE');
    assert.equal(isPending('PENDING_VERIFICATION'), true);
    assert.equal(isPending('EXPIRED'), false);
    assert.equal(nextActionFor('EXPIRED'), 'reauthorize');
    assert.equal(nextActionFor('NOT_CONNECTED'), 'connect');
    assert.equal(nextActionFor('ACTIVE'), 'none');
  });
});
