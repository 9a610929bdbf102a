import * as assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hmacInput, type AuditEntry } from '../../../src/agent/audit';
import { identifierFor, storageKeyFor, type Identifier } from '../../../src/core/identifier';
import { AuditLog } from '../../../src/vscode/auditLog';

// The per-identity JSONL files on disk: rotation at the size limit, reading across
// rotated files, one identity never reading another's, damaged lines skipped.

const issuer = 'https://idp.test';
const ada = identifierFor('oidc', 'ada', issuer);
const grace = identifierFor('oidc', 'grace', issuer);
const nobody = identifierFor('github', 'nobody');

function record(identifier: Identifier, n: number): AuditEntry {
  return {
    time: new Date(1_700_000_000_000 + n * 1000).toISOString(),
    identifier,
    connection: 'asana',
    tool: `asana_tool_${n}`,
    risk: 'read',
    decision: 'auto',
    outcome: 'success',
    durationMs: n,
    input: { n },
  };
}

/** One key per identity, as AuditKeys would give. */
const keys = new Map<string, Buffer>();
const keyFor = async (identifier: Identifier) => {
  if (!keys.has(identifier)) keys.set(identifier, Buffer.alloc(32, keys.size + 1));
  return keys.get(identifier)!;
};

describe('AuditLog (files on disk)', () => {
  let dir: string;
  const warnings: string[] = [];
  const log = { trace() {}, debug() {}, info() {}, warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'onbehalf-audit-unit-'));
    warnings.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rotates at the size limit, keeps three old files, and reads newest last across them', async () => {
    const audit = new AuditLog(dir, log, keyFor, 1_000);
    for (let n = 0; n < 40; n++) audit.append(ada, record(ada, n));
    await audit.flush();
    const files = readdirSync(dir).sort();
    const base = `${storageKeyFor(ada)}.jsonl`;
    assert.match(base, /^oidc-[0-9a-f]{32}\.jsonl$/);
    assert.deepEqual(files, [base, `${base}.1`, `${base}.2`, `${base}.3`]);
    for (const file of files) {
      assert.ok(statSync(join(dir, file)).size <= 1_000, `${file} is within the limit`);
      assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, `${file} is readable by its owner only`);
    }
    const tools = (await audit.read(ada)).map((r) => r.tool);
    assert.equal(tools.at(-1), 'asana_tool_39', 'the newest record is last');
    const numbers = tools.map((t) => Number(t.split('_').at(-1)));
    assert.deepEqual(
      numbers,
      [...numbers].sort((a, b) => a - b),
      'oldest first, no gaps out of order',
    );
    assert.ok(numbers[0]! > 0, 'the oldest records fell off past three rotations');
    assert.deepEqual(
      numbers,
      Array.from({ length: numbers.length }, (_, i) => numbers[0]! + i),
      'contiguous',
    );
  });

  it('keeps each identity in its own file and skips a damaged line with a warning', async () => {
    const audit = new AuditLog(dir, log, keyFor);
    audit.append(ada, record(ada, 1));
    audit.append(grace, record(grace, 2));
    await audit.flush();
    appendFileSync(audit.fileFor(ada), '{not json\n');
    audit.append(ada, record(ada, 3));
    await audit.flush();
    assert.deepEqual(
      (await audit.read(ada)).map((r) => r.tool),
      ['asana_tool_1', 'asana_tool_3'],
    );
    assert.deepEqual(
      (await audit.read(grace)).map((r) => r.identifier),
      [grace],
    );
    assert.deepEqual(await audit.read(nobody), []);
    assert.ok(warnings.some((w) => /unreadable audit line/.test(w)));
  });

  it("writes the input only as its HMAC under the identity's own key", async () => {
    const audit = new AuditLog(dir, log, keyFor);
    audit.append(ada, { ...record(ada, 1), input: { name: 'secret-ish 12345' } });
    audit.append(grace, { ...record(grace, 1), input: { name: 'secret-ish 12345' } });
    await audit.flush();
    const [adaRecord] = await audit.read(ada);
    const [graceRecord] = await audit.read(grace);
    assert.equal(adaRecord!.inputHmac, hmacInput(await keyFor(ada), { name: 'secret-ish 12345' }));
    assert.notEqual(adaRecord!.inputHmac, graceRecord!.inputHmac, 'same input, two identities, two hashes');
    for (const file of readdirSync(dir)) assert.ok(!readFileSync(join(dir, file), 'utf8').includes('secret-ish'), 'no raw input on disk');
  });

  it('a write that fails is logged, never thrown into the tool call', async () => {
    const blocked = join(dir, 'not-a-dir');
    appendFileSync(blocked, 'a file where the folder should be');
    const audit = new AuditLog(blocked, log, keyFor);
    assert.doesNotThrow(() => audit.append(ada, record(ada, 1)));
    await audit.flush();
    assert.ok(
      warnings.some((w) => /Could not write the audit log/.test(w)),
      warnings.join('\n'),
    );
  });

  it("never writes a record naming another identity into this identity's file", async () => {
    const audit = new AuditLog(dir, log, keyFor);
    audit.append(ada, record(grace, 1));
    await audit.flush();
    assert.deepEqual(await audit.read(ada), []);
    assert.deepEqual(await audit.read(grace), []);
    assert.ok(warnings.some((w) => /naming another identity/.test(w)));
  });
});
