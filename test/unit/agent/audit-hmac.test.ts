import * as assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { auditInputMatches, hmacInput, parseAuditReference, sealAuditEntry, type AuditEntry } from '../../../src/agent/audit';
import { identifierOf } from '../../support/identifiers';

// The audit record keeps an input only as HMAC-SHA256 under a per-identity random key, so
// a small input (a task name, an id) cannot be recovered by hashing guesses, yet whoever
// holds the key can check a given input against a record.

const entry: AuditEntry = {
  time: 't',
  identifier: identifierOf('oidc', 'ada'),
  connection: 'asana',
  tool: 'asana_task_create',
  risk: 'write',
  decision: 'user-approved',
  outcome: 'success',
  durationMs: 5,
  input: { workspace_gid: '1', name: 'pay rise for Ada' },
};

describe('audit input HMAC', () => {
  it('is HMAC-SHA256 over the canonical JSON: key order does not matter, the key does', () => {
    const key = randomBytes(32);
    const other = randomBytes(32);
    const canonical = '{"name":"pay rise for Ada","workspace_gid":"1"}';
    assert.equal(hmacInput(key, entry.input), createHmac('sha256', key).update(canonical).digest('hex'));
    assert.equal(hmacInput(key, { name: 'pay rise for Ada', workspace_gid: '1' }), hmacInput(key, entry.input));
    assert.notEqual(hmacInput(key, entry.input), hmacInput(other, entry.input), 'same input, different keys, different hashes');
    assert.notEqual(hmacInput(key, entry.input), createHash('sha256').update(canonical).digest('hex'), 'not the unsalted hash');
  });

  it('seals an entry into a record without the raw input', () => {
    const key = randomBytes(32);
    const record = sealAuditEntry(entry, key);
    assert.equal(record.inputHmac, hmacInput(key, entry.input));
    assert.ok(!('input' in record));
    assert.ok(!JSON.stringify(record).includes('pay rise'), 'no raw input in the record');
    assert.ok(!JSON.stringify(record).includes(key.toString('hex')) && !JSON.stringify(record).includes(key.toString('base64')), 'no key in the record');
  });

  it('checks a given input against a record, its JSON line or its hash', () => {
    const key = randomBytes(32);
    const record = sealAuditEntry(entry, key);
    assert.equal(auditInputMatches(key, { name: 'pay rise for Ada', workspace_gid: '1' }, record), true);
    assert.equal(auditInputMatches(key, { name: 'pay rise for Bob', workspace_gid: '1' }, record), false);
    assert.equal(auditInputMatches(randomBytes(32), entry.input, record), false, "another identity's key does not match");
    assert.deepEqual(parseAuditReference(JSON.stringify(record)), { hash: record.inputHmac, identifier: entry.identifier, kind: 'hmac' });
    assert.deepEqual(parseAuditReference(`  ${record.inputHmac.toUpperCase()} `), { hash: record.inputHmac, kind: 'hmac' });
    assert.equal(parseAuditReference('not a record'), undefined);
    assert.equal(parseAuditReference('{"inputHmac":"zz"}'), undefined);
    // A record written before keyed hashes carries inputSha256: checked as plain SHA-256.
    const legacy = { inputSha256: createHash('sha256').update('{"a":1}').digest('hex') };
    assert.deepEqual(parseAuditReference(JSON.stringify(legacy)), { hash: legacy.inputSha256, kind: 'sha256' });
    assert.equal(auditInputMatches(key, { a: 1 }, legacy), true);
    assert.equal(auditInputMatches(key, { a: 2 }, legacy), false);
  });
});
