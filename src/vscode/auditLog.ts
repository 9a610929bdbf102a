import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { storageKeyFor } from '../core/identifier';
import type { Logger } from '../core/logger';
import type { AuditRecord } from '../agent/audit';

// Per-identity JSONL audit files under globalStorage. Appends are queued so a tool call
// never waits on the disk, and files rotate at a size limit.

export const auditRotateBytes = 1024 * 1024;
const keptRotations = 3;

export class AuditLog {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly directory: string,
    private readonly log: Logger,
    private readonly rotateBytes = auditRotateBytes,
  ) {}

  fileFor(identifier: string): string {
    return path.join(this.directory, `${storageKeyFor(identifier)}.jsonl`);
  }

  /** Fire and forget: failures are logged, never thrown into the tool call. */
  append(record: AuditRecord): void {
    const line = `${JSON.stringify(record)}\n`;
    const file = this.fileFor(record.identifier);
    this.queue = this.queue
      .then(async () => {
        await fs.mkdir(this.directory, { recursive: true });
        await this.rotateIfNeeded(file, Buffer.byteLength(line));
        await fs.appendFile(file, line, { encoding: 'utf8', mode: 0o600 });
      })
      .catch((error: unknown) => this.log.error(`Could not write the audit log: ${(error as Error).message}`));
  }

  /** Waits for queued appends; used before reading and in tests. */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Records for one identity, oldest first, across rotated files. */
  async read(identifier: string): Promise<AuditRecord[]> {
    await this.flush();
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
    let size = 0;
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
