import * as assert from 'node:assert/strict';
import { authProviderIds, identifierFor, identityFromSession, isIdentityProviderKind, oidcIssuerTag, storageKeyFor } from '../../../src/core/identifier';

const issuerA = 'https://idp-a.example.com';
const issuerB = 'https://idp-b.example.com/realms/acme';

describe('identifier', () => {
  it('is <provider>:<account id>', () => {
    assert.equal(identifierFor('github', '583231'), 'github:583231');
    assert.equal(identifierFor('oidc', 'ada', issuerA), `oidc:${oidcIssuerTag(issuerA)}:ada`);
    assert.equal(identifierFor('microsoft', '00000000-0000-0000-0000-000000000000'), 'microsoft:00000000-0000-0000-0000-000000000000');
  });

  it('is derived from the session account, not its label', () => {
    const identity = identityFromSession('oidc', { account: { id: 'grace', label: 'Ada Lovelace' } }, issuerA);
    assert.equal(identity.identifier, `oidc:${oidcIssuerTag(issuerA)}:grace`);
    assert.equal(identity.label, 'Ada Lovelace');
  });

  it('rejects account ids that could smuggle another identifier', () => {
    for (const bad of ['', 'ada grace', 'ada:github:1', 'ada\n', 'a/b', '../x', 'x'.repeat(201)]) {
      assert.throws(() => identifierFor('oidc', bad, issuerA), /cannot use/, `accepted ${JSON.stringify(bad)}`);
    }
  });

  it('namespaces OIDC identities by issuer: the same sub at two issuers is two identities', () => {
    const a = identifierFor('oidc', 'ada', issuerA);
    const b = identifierFor('oidc', 'ada', issuerB);
    assert.notEqual(a, b);
    for (const id of [a, b]) assert.match(id, /^oidc:[0-9a-f]{16}:ada$/);
    assert.notEqual(
      identityFromSession('oidc', { account: { id: 'ada', label: 'Ada' } }, issuerA).identifier,
      identityFromSession('oidc', { account: { id: 'ada', label: 'Ada' } }, issuerB).identifier,
    );
    // A trailing slash names the same issuer (the OIDC client compares issuers the same way).
    assert.equal(identifierFor('oidc', 'ada', `${issuerA}/`), a);
    // An OIDC identifier without its issuer is refused rather than guessed.
    assert.throws(() => identifierFor('oidc', 'ada'), /issuer/);
    assert.throws(() => identifierFor('oidc', 'ada', ''), /issuer/);
    // The other providers have one issuer each, and keep their format.
    assert.equal(identifierFor('github', '583231', issuerA), 'github:583231');
  });

  it('accepts both forms of a Microsoft account id and gives one person one identifier', () => {
    const tid = '72F988BF-86F1-41AF-91AB-2D7CD011DB47';
    const oid = '0f3e1c2a-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
    // Classic provider (VS Code for the Web, or microsoft-authentication.implementation = classic): <tid>/<oid>.
    const classic = identifierFor('microsoft', `${tid}/${oid}`);
    // MSAL on desktop: <oid>.<tid>.
    const msal = identifierFor('microsoft', `${oid}.${tid.toLowerCase()}`);
    assert.equal(classic, `microsoft:${oid}.${tid.toLowerCase()}`);
    assert.equal(msal, classic);
    assert.throws(() => identifierFor('microsoft', `${tid}/${oid}/extra`));
    assert.throws(() => identifierFor('github', `${tid}/${oid}`), 'a slash is only understood for Microsoft');
  });

  it('reads the issuer as the same one whatever surrounding spaces or trailing slashes it has', () => {
    const tag = oidcIssuerTag('https://idp.example.com');
    for (const spelling of ['https://idp.example.com/', 'https://idp.example.com//', '  https://idp.example.com/ '])
      assert.equal(oidcIssuerTag(spelling), tag, spelling);
    assert.notEqual(oidcIssuerTag('https://idp.example.com/tenant'), tag);
  });

  it('lower-cases a Microsoft id only when it is the <oid>.<tid> GUID pair', () => {
    const oid = '0F3E1C2A-5B6D-4E7F-8A9B-0C1D2E3F4A5B';
    const tid = '72F988BF-86F1-41AF-91AB-2D7CD011DB47';
    assert.equal(identifierFor('microsoft', `${oid}.${tid}`), `microsoft:${oid.toLowerCase()}.${tid.toLowerCase()}`);
    assert.equal(identifierFor('microsoft', 'Live.User-42'), 'microsoft:Live.User-42', 'any other id is kept exactly');
  });

  it('prefixes storage keys with the provider only when the identifier starts with one', () => {
    assert.match(storageKeyFor('github:583231'), /^github-[0-9a-f]{32}$/);
    assert.match(storageKeyFor('oidc:0123456789abcdef:ada'), /^oidc-[0-9a-f]{32}$/);
    for (const odd of ['9:github:x', 'abcdefghijklmn:x', 'no-colon', 'GitHub:1']) assert.match(storageKeyFor(odd), /^id-[0-9a-f]{32}$/, odd);
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

  it('gives storage keys that differ even on a case-insensitive file system', () => {
    const upper = storageKeyFor('oidc:Ab');
    const lower = storageKeyFor('oidc:ab');
    assert.notEqual(upper.toLowerCase(), lower.toLowerCase(), `${upper} and ${lower} are one file name on a case-insensitive disk`);
    for (const key of [upper, lower, storageKeyFor(identifierFor('oidc', 'ada', issuerA))]) {
      assert.match(key, /^[a-z0-9-]{1,48}$/, 'lowercase, filesystem-safe and short');
    }
    assert.equal(storageKeyFor('github:1'), storageKeyFor('github:1'), 'stable');
  });
});
