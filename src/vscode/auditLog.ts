import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { legacyStorageKeyFor, storageKeyFor, type Identifier } from '../core/identifier';
import type { Logger } from '../core/logger';
import { sealAuditEntry, type AuditEntry, type AuditRecord } from '../agent/audit';

/** The identity's audit HMAC key (see AuditKeys). */
export type AuditKeySource = (identifier: Identifier) => Promise<Uint8Array>;

// Per-identity JSONL audit files under globalStorage. Appends are queued so a tool call
// never waits on the disk, and files rotate at a size limit. Each entry's raw input is
// replaced by its HMAC under the identity's key before anything is written.

export const auditRotateBytes = 1024 * 1024;

const afterCurrentTask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const keptRotations = 3;

export class AuditLog {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly directory: string,
    private readonly log: Logger,
    private readonly keyFor: AuditKeySource,
    private readonly rotateBytes = auditRotateBytes,
  ) {}

  fileFor(identifier: Identifier): string {
    return path.join(this.directory, `${storageKeyFor(identifier)}.jsonl`);
  }

  /** Moves files kept under the pre-hash key (and their rotations) to the current name, once. */
  private async adoptLegacyFiles(identifier: Identifier): Promise<void> {
    const legacy = legacyStorageKeyFor(identifier);
    if (!legacy) return;
    const from = path.join(this.directory, `${legacy}.jsonl`);
    const to = this.fileFor(identifier);
    const present = async (file: string) =>
      fs.stat(file).then(
        () => true,
        () => false,
      );
    if ((await present(to)) || !(await present(from))) return;
    for (const suffix of ['', ...Array.from({ length: keptRotations }, (_, i) => `.${i + 1}`)]) {
      await fs.rename(`${from}${suffix}`, `${to}${suffix}`).catch(() => undefined);
    }
  }

  /**
   * Appends to `identifier`'s file, under its key. A record that names another identity is
   * not written there (nor anywhere): one person's log never takes another's calls.
   * Fire and forget: failures are logged, never thrown into the tool call.
   */
  append(identifier: Identifier, entry: AuditEntry): void {
    if (entry.identifier !== identifier) {
      this.log.warn("An audit record naming another identity was not written to this identity's log.");
      return;
    }
    this.queue = this.queue
      // Sealing (the key read and the HMAC) waits for the current task: the call's own work, up
      // to the next model request, goes first. The record and the order of records are the same.
      .then(afterCurrentTask)
      .then(async () => {
        const file = this.fileFor(identifier);
        await this.adoptLegacyFiles(identifier);
        const line = `${JSON.stringify(await this.seal(identifier, entry))}\n`;
        await fs.mkdir(this.directory, { recursive: true });
        await this.rotateIfNeeded(file, Buffer.byteLength(line));
        await fs.appendFile(file, line, { encoding: 'utf8', mode: 0o600 });
      })
      .catch((error: unknown) => this.log.error(`Could not write the audit log: ${(error as Error).message}`));
  }

  /** The record to write. Without a key the call is still recorded, with no input hash. */
  private async seal(identifier: Identifier, entry: AuditEntry): Promise<AuditRecord> {
    try {
      return sealAuditEntry(entry, await this.keyFor(identifier));
    } catch (error) {
      this.log.warn(`The audit key could not be read, so this record has no input hash: ${(error as Error).message}`);
      return { ...sealAuditEntry(entry, Buffer.alloc(0)), inputHmac: 'unavailable' };
    }
  }

  /** Waits for queued appends; used before reading and in tests. */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Records for one identity, oldest first, across rotated files. */
  async read(identifier: Identifier): Promise<AuditRecord[]> {
    await this.flush();
    await this.adoptLegacyFiles(identifier);
    const file = this.fileFor(identifier);
    const files = [...Array.from({ length: keptRotations }, (_, i) => `${file}.${keptRotations - i}`), file];
    const records: AuditRecord[] = [];
    for (const candidate of files) {
      let text: string;
      try {
        text = await fs.readFile(candidate, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        try {
          records.push(JSON.parse(line) as AuditRecord);
        } catch {
          this.log.warn('Skipped an unreadable audit line.');
        }
      }
    }
    return records;
  }

  private async rotateIfNeeded(file: string, incoming: number): Promise<void> {
    let size: number;
    try {
      size = (await fs.stat(file)).size;
    } catch {
      return;
    }
    if (size + incoming <= this.rotateBytes) return;
    for (let i = keptRotations - 1; i >= 1; i--) {
      await fs.rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => undefined);
    }
    await fs.rename(file, `${file}.1`);
  }
}
