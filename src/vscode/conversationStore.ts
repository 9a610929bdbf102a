import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { legacyStorageKeyFor, storageKeyFor, type Identifier } from '../core/identifier';
import type { Logger } from '../core/logger';
import { parseStoredConversation, settleInterruptedItems, type Conversation } from '../agent/conversation';

// Conversations on disk, one folder per identity under globalStorage, so another
// signed-in user never sees them. Writes go to a temp file first, then rename.

export class ConversationStore {
  /** The save in progress for each file, so saves of one conversation never overlap. */
  private readonly writes = new Map<string, Promise<void>>();
  constructor(
    private readonly root: string,
    private readonly log: Logger,
  ) {}

  private folderFor(identifier: Identifier): string {
    return path.join(this.root, storageKeyFor(identifier));
  }

  /** Moves a folder kept under the pre-hash key to the current one, once. */
  private async adoptLegacyFolder(identifier: Identifier): Promise<void> {
    const legacy = legacyStorageKeyFor(identifier);
    if (!legacy) return;
    const from = path.join(this.root, legacy);
    const to = this.folderFor(identifier);
    if (!(await exists(from)) || (await exists(to))) return;
    await fs.rename(from, to).catch((error: unknown) => this.log.warn(`Could not move earlier conversations: ${(error as Error).message}`));
  }

  async list(identifier: Identifier): Promise<Conversation[]> {
    await this.adoptLegacyFolder(identifier);
    const folder = this.folderFor(identifier);
    let names: string[];
    try {
      names = await fs.readdir(folder);
    } catch {
      return [];
    }
    const conversations: Conversation[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const raw = await fs.readFile(path.join(folder, name), 'utf8').catch(() => undefined);
      const conversation = raw === undefined ? undefined : parseStoredConversation(raw);
      if (!conversation) {
        this.log.warn(`Skipped an unreadable conversation file (${name}).`);
        continue;
      }
      settleInterruptedItems(conversation);
      conversations.push(conversation);
    }
    return conversations.sort((a, b) => b.updatedAt - a.updatedAt);
  }

  async save(identifier: Identifier, conversation: Conversation): Promise<void> {
    const folder = this.folderFor(identifier);
    const file = path.join(folder, `${safeId(conversation.id)}.json`);
    const json = JSON.stringify(conversation);
    // Saves of one file run one after another, in call order: two at once shared one temp
    // file, and the second rename failed (ENOENT), failing the user's send.
    const write = (this.writes.get(file) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        await fs.mkdir(folder, { recursive: true });
        const temp = `${file}.${process.pid}.tmp`;
        await fs.writeFile(temp, json, { encoding: 'utf8', mode: 0o600 });
        await fs.rename(temp, file);
      });
    this.writes.set(file, write);
    try {
      await write;
    } finally {
      if (this.writes.get(file) === write) this.writes.delete(file);
    }
  }

  async delete(identifier: Identifier, conversationId: string): Promise<void> {
    await fs.rm(path.join(this.folderFor(identifier), `${safeId(conversationId)}.json`), { force: true });
  }
}

function safeId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new Error('Invalid conversation id.');
  return id;
}

async function exists(target: string): Promise<boolean> {
  return fs.stat(target).then(
    () => true,
    () => false,
  );
}
