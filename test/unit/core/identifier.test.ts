import * as assert from 'node:assert/strict';
import { authProviderIds, identifierFor, identityFromSession, isIdentityProviderKind, storageKeyFor } from '../../../src/core/identifier';

describe('identifier', () => {
  it('is <provider>:<account id>', () => {
    assert.equal(identifierFor('github', '583231'), 'github:583231');
    assert.equal(identifierFor('oidc', 'ada'), 'oidc:ada');
    assert.equal(identifierFor('microsoft', '00000000-0000-0000-0000-000000000000'), 'microsoft:00000000-0000-0000-0000-000000000000');
  });

  it('is derived from the session account, not its label', () => {
    const identity = identityFromSession('oidc', { account: { id: 'grace', label: 'Ada Lovelace' } });
    assert.equal(identity.identifier, 'oidc:grace');
    assert.equal(identity.label, 'Ada Lovelace');
  });

  it('rejects account ids that could smuggle another identifier', () => {
    for (const bad of ['', 'ada grace', 'ada:github:1', 'ada\n', 'a/b', '../x', 'x'.repeat(201)]) {
      assert.throws(() => identifierFor('oidc', bad), /cannot use/, `accepted ${JSON.stringify(bad)}`);
    }
  });

  it('rejects unknown providers', () => {
    assert.throws(() => identifierFor('gitlab' as never, '1'), /Unknown identity provider/);
    assert.equal(isIdentityProviderKind('oidc'), true);
    assert.equal(isIdentityProviderKind('OIDC'), false);
  });

  it('maps each kind to its VS Code authentication provider', () => {
    assert.deepEqual(authProviderIds, { github: 'github', microsoft: 'microsoft', oidc: 'onbehalf-oidc' });
  });

  it('gives distinct, filesystem-safe storage keys', () => {
    const a = storageKeyFor('oidc:ada');
    const b = storageKeyFor('oidc_3aada');
    assert.match(a, /^[A-Za-z0-9._-]+$/);
    assert.notEqual(storageKeyFor('github:1'), storageKeyFor('oidc:1'));
    assert.notEqual(a, storageKeyFor('oidc:grace'));
    assert.ok(!a.includes('/') && !a.includes(':'));
    assert.notEqual(a, b, 'escaping must be injective');
  });
});
