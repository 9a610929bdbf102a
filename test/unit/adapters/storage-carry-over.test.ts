import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identifierFor, legacyStorageKeyFor } from '../../../src/core/identifier';
import { AuditLog } from '../../../src/vscode/auditLog';
import { ApprovalStore } from '../../../src/vscode/approvalStore';
import { ConversationStore } from '../../../src/vscode/conversationStore';
import { newConversation } from '../../../src/agent/conversation';

// Per-identity data written before storage keys were hashed is still the user's after the
// upgrade, for GitHub and Microsoft, whose identifiers did not change. OIDC data is not
// carried over: an old `oidc:<sub>` key cannot prove which issuer it came from.

const log = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

class MemoryMemento {
  private readonly values = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  get<T>(key: string, fallback?: T): T | undefined {
    return (this.values.has(key) ? this.values.get(key) : fallback) as T | undefined;
  }
  update(key: string, value: unknown): Thenable<void> {
    this.values.set(key, value);
    return Promise.resolve();
  }
}

describe('data kept under the earlier storage keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'onbehalf-carry-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('knows the earlier key for GitHub and Microsoft, and has none for OIDC', () => {
    assert.equal(legacyStorageKeyFor('github:583231'), 'github_3a583231');
    assert.equal(legacyStorageKeyFor('microsoft:0f3e.72f9'), 'microsoft_3a0f3e.72f9');
    assert.equal(legacyStorageKeyFor('oidc:0123456789abcdef:ada'), undefined);
  });

  it('conversations, audit records and "always allow" choices of a GitHub user carry over', async () => {
    const identifier = identifierFor('github', '583231');
    const legacy = legacyStorageKeyFor(identifier)!;
    const conversation = newConversation('c-old', 1_700_000_000_000);
    conversation.title = 'Before the upgrade';
    mkdirSync(join(dir, 'conversations', legacy), { recursive: true });
    writeFileSync(join(dir, 'conversations', legacy, 'c-old.json'), JSON.stringify(conversation));
    const conversations = new ConversationStore(join(dir, 'conversations'), log);
    assert.deepEqual(
      (await conversations.list(identifier)).map((c) => c.title),
      ['Before the upgrade'],
    );

    mkdirSync(join(dir, 'audit'), { recursive: true });
    writeFileSync(join(dir, 'audit', `${legacy}.jsonl`), `${JSON.stringify({ tool: 'asana_tasks_list', identifier })}\n`);
    const audit = new AuditLog(join(dir, 'audit'), log, async () => Buffer.alloc(32, 1));
    assert.deepEqual(
      (await audit.read(identifier)).map((r) => r.tool),
      ['asana_tasks_list'],
    );

    const state = new MemoryMemento();
    await state.update('onbehalf.alwaysAllowedTools', { [legacy]: ['asana_task_create'] });
    const approvals = new ApprovalStore(state);
    assert.equal(approvals.isAlwaysAllowed(identifier, 'asana_task_create'), true);
    assert.equal(await approvals.reset(identifier), 1);
    assert.equal(approvals.isAlwaysAllowed(identifier, 'asana_task_create'), false, 'Reset clears the earlier choices too');
  });

  it('an OIDC user does not inherit data kept under the earlier key', async () => {
    mkdirSync(join(dir, 'conversations', 'oidc_3aada'), { recursive: true });
    writeFileSync(join(dir, 'conversations', 'oidc_3aada', 'c.json'), JSON.stringify(newConversation('c', 1)));
    const conversations = new ConversationStore(join(dir, 'conversations'), log);
    assert.deepEqual(await conversations.list(identifierFor('oidc', 'ada', 'https://idp.test')), []);
  });
});
