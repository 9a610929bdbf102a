import * as vscode from 'vscode';
import { messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Identifier } from '../core/identifier';
import { auditInputMatches, auditRecordsToCsv, auditRecordsToMarkdown, parseAuditReference, type AuditRecord } from '../agent/audit';
import type { AuditKeySource } from './auditLog';
import type { AuditLog } from './auditLog';
import type { IdentityService } from './identityService';
import { DisposableOwner } from './lifecycle';
import type { TeamGateway } from './teamGateway';
import type { AuditRecord as GatewayAuditRecord } from '../gateway/protocol';
import { NotSignedInError } from '../core/errors';

// "Show Audit Log" opens a read-only Markdown table of the signed-in user's tool calls,
// rendered in VS Code's Markdown preview, filtered by connection, outcome, or both; "Export Audit Log" writes JSONL or CSV.

const scheme = 'onbehalf-audit';
const documentPath = '/OnBehalf Audit Log.md';
/** The Markdown preview's tab titles for the audit document ("Preview …", or "[Preview] …" when locked). */
const previewLabel = /^(Preview |\[Preview\] )(OnBehalf )?Audit Log\.md$/;

export class AuditView extends DisposableOwner implements vscode.TextDocumentContentProvider {
  private readonly changed = this.register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.changed.event;
  /** Files this window exported the audit log to, until the identity changes. */
  private readonly exported = new Set<string>();

  constructor(
    private readonly audit: AuditLog,
    private readonly identity: IdentityService,
    private readonly log: Logger,
    private readonly keyFor: AuditKeySource,
    private readonly team: TeamGateway,
  ) {
    super();
    this.register(vscode.workspace.registerTextDocumentContentProvider(scheme, this));
    this.register(identity.onDidChange(() => void this.forgetPreviousIdentity()));
  }

  /**
   * On sign-in, sign-out or an account switch, nothing rendered for the previous identity
   * stays on screen: audit previews, audit source editors and opened exports are closed,
   * and every audit document VS Code still holds is rendered again for whoever is signed
   * in now (or says "Sign in").
   */
  private async forgetPreviousIdentity(): Promise<void> {
    const stale = vscode.window.tabGroups.all.flatMap((group) => group.tabs).filter((tab) => this.showsAuditData(tab));
    this.exported.clear();
    for (const document of vscode.workspace.textDocuments) {
      if (document.uri.scheme === scheme) this.changed.fire(document.uri);
    }
    if (stale.length === 0) return;
    try {
      await vscode.window.tabGroups.close(stale, true);
    } catch (error) {
      this.log.warn(`Could not close the previous identity's audit views: ${messageOf(error)}`);
    }
  }

  private showsAuditData(tab: vscode.Tab): boolean {
    const input = tab.input;
    const ours = (uri: vscode.Uri) => uri.scheme === scheme || this.exported.has(uri.toString());
    if (input instanceof vscode.TabInputText) return ours(input.uri);
    if (input instanceof vscode.TabInputTextDiff) return ours(input.original) || ours(input.modified);
    // The Markdown preview's webview does not expose its document; its title does.
    if (input instanceof vscode.TabInputWebview) return /markdown\.preview/.test(input.viewType) && previewLabel.test(tab.label);
    return false;
  }

  /**
   * The signed-in person's records, oldest first: in team mode the gateway's (its central
   * audit, the caller's own rows only), else this machine's log.
   */
  async records(identifier: Identifier): Promise<AuditRecord[]> {
    if (!this.team.enabled) return this.audit.read(identifier);
    const identity = await this.identity.current();
    if (!identity || identity.identifier !== identifier) throw new NotSignedInError();
    const records = await this.team.clientFor(identity).audit();
    return records.map(fromGatewayRecord).reverse();
  }

  async show(): Promise<vscode.TextDocument | undefined> {
    const identifier = await this.identity.requireIdentifier();
    const records = await this.records(identifier);
    const connections = [...new Set(records.map((r) => r.connection))].sort();
    const outcomes = ['success', 'failure', 'cancelled'] as const;
    const query = (params: Record<string, string>) => new URLSearchParams(params).toString();
    // Both filters at once, for the pairs that have calls: "asana · failure".
    const pairs = connections.flatMap((c) =>
      outcomes.map((o) => ({ c, o, n: records.filter((r) => r.connection === c && r.outcome === o).length })).filter((p) => p.n > 0),
    );
    const picks: (vscode.QuickPickItem & { filter: string })[] = [
      { label: 'All tool calls', description: `${records.length}`, filter: '' },
      { label: 'By connection', kind: vscode.QuickPickItemKind.Separator, filter: '' },
      ...connections.map((c) => ({
        label: `Connection: ${c}`,
        description: `${records.filter((r) => r.connection === c).length}`,
        filter: query({ connection: c }),
      })),
      { label: 'By outcome', kind: vscode.QuickPickItemKind.Separator, filter: '' },
      ...outcomes.map((o) => ({ label: `Outcome: ${o}`, description: `${records.filter((r) => r.outcome === o).length}`, filter: query({ outcome: o }) })),
      ...(pairs.length > 0 ? [{ label: 'By connection and outcome', kind: vscode.QuickPickItemKind.Separator, filter: '' }] : []),
      ...pairs.map(({ c, o, n }) => ({ label: `${c} · ${o}`, description: `${n}`, filter: query({ connection: c, outcome: o }) })),
    ];
    const picked =
      records.length === 0
        ? picks[0]
        : await vscode.window.showQuickPick(picks, { title: 'Show Audit Log', placeHolder: 'Filter by connection, outcome, or both' });
    if (!picked) return undefined;
    const uri = vscode.Uri.from({ scheme, path: documentPath, query: picked.filter });
    this.changed.fire(uri);
    const document = await vscode.workspace.openTextDocument(uri);
    try {
      // Rendered, the table is readable at a glance; the preview's "Open Source" shows the text.
      await vscode.commands.executeCommand('markdown.showPreview', uri);
    } catch {
      // The built-in Markdown extension is disabled: the source is still a table.
      await vscode.window.showTextDocument(document, { preview: true });
    }
    return document;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    try {
      return await this.render(uri);
    } catch (error) {
      // A preview restored after a reload lands here too: say what went wrong instead of failing to open.
      this.log.error(`The audit log could not be shown: ${messageOf(error)}`);
      return `# OnBehalf audit log\n\nThe audit log could not be read: ${messageOf(error)}\n\nSee the OnBehalf output channel for details.\n`;
    }
  }

  private async render(uri: vscode.Uri): Promise<string> {
    const identity = await this.identity.current();
    if (!identity) return '# OnBehalf audit log\n\nSign in to see your audit log.\n';
    const params = new URLSearchParams(uri.query);
    const connection = params.get('connection');
    const outcome = params.get('outcome');
    const records = (await this.records(identity.identifier)).filter(
      (r) => (!connection || r.connection === connection) && (!outcome || r.outcome === outcome),
    );
    return auditRecordsToMarkdown(
      this.team.enabled ? `${identity.label} (team gateway ${this.team.host ?? ''})` : identity.label,
      records,
      [connection && `connection ${connection}`, outcome && `outcome ${outcome}`].filter(Boolean).join(', '),
    );
  }

  async export(): Promise<vscode.Uri | undefined> {
    const identifier = await this.identity.requireIdentifier();
    const records = await this.records(identifier);
    const target = await vscode.window.showSaveDialog({
      title: 'Export Audit Log',
      saveLabel: 'Export',
      defaultUri: vscode.Uri.file(`onbehalf-audit-${new Date().toISOString().slice(0, 10)}.jsonl`),
      filters: { 'JSON Lines': ['jsonl'], CSV: ['csv'] },
    });
    if (!target) return undefined;
    await this.exportTo(target, identifier, records);
    void vscode.window.showInformationMessage(`Exported ${records.length} audit records to ${target.fsPath}.`);
    return target;
  }

  /**
   * "Check Input Against Audit Record": asks for a record (a JSON line of the log or its
   * JSONL export, or its bare inputHmac) and a tool input as JSON, and says whether the
   * record was written for that input, using the signed-in identity's own audit key.
   * Neither the input nor the key is logged or shown.
   */
  async checkInput(): Promise<boolean | undefined> {
    const identifier = await this.identity.requireIdentifier();
    const recordText = await vscode.window.showInputBox({
      title: 'Check Input Against Audit Record (1/2)',
      prompt: 'Paste an audit record (one JSON line of the audit log or its JSONL export) or its inputHmac.',
      ignoreFocusOut: true,
      validateInput: (text) => (parseAuditReference(text) ? undefined : 'Not an audit record with an input hash, nor a 64-digit hex hash.'),
    });
    if (recordText === undefined) return undefined;
    const reference = parseAuditReference(recordText);
    if (!reference) return undefined;
    if (reference.identifier !== undefined && reference.identifier !== identifier) {
      void vscode.window.showErrorMessage("This record is another identity's. Only the signed-in identity's records can be checked, with its own key.");
      return undefined;
    }
    const inputText = await vscode.window.showInputBox({
      title: 'Check Input Against Audit Record (2/2)',
      prompt: 'The tool input to check, as JSON (key order does not matter).',
      ignoreFocusOut: true,
      validateInput: (text) => {
        try {
          JSON.parse(text);
          return undefined;
        } catch {
          return 'Not valid JSON.';
        }
      },
    });
    if (inputText === undefined) return undefined;
    const matches = auditInputMatches(await this.keyFor(identifier), JSON.parse(inputText) as unknown, reference);
    if (matches) void vscode.window.showInformationMessage('Matches: the audit record was written for exactly this input.');
    else void vscode.window.showWarningMessage('Does not match: the audit record was written for another input, or under another identity.');
    return matches;
  }

  /** Writes the signed-in identity's audit log to `target` (JSONL, or CSV by extension). */
  async exportTo(target: vscode.Uri, identifier?: Identifier, records?: readonly AuditRecord[]): Promise<number> {
    const who = identifier ?? (await this.identity.requireIdentifier());
    const rows = records ?? (await this.records(who));
    await writeAuditExport(target, rows);
    this.exported.add(target.toString());
    return rows.length;
  }
}

export async function writeAuditExport(target: vscode.Uri, records: readonly AuditRecord[]): Promise<void> {
  const content = target.path.toLowerCase().endsWith('.csv')
    ? auditRecordsToCsv(records)
    : records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(content));
}

/** A gateway audit row in the local log's shape, so one table and one export serve both modes. */
export function fromGatewayRecord(record: GatewayAuditRecord): AuditRecord {
  const decision =
    record.decision === 'always'
      ? 'always-rule'
      : record.decision === 'user-approved' || record.decision === 'rule' || record.decision === 'auto'
        ? record.decision
        : 'denied';
  const outcome = record.outcome === 'ok' ? 'success' : record.outcome === 'error' ? 'failure' : 'cancelled';
  const errorCode =
    record.outcome === 'ok'
      ? undefined
      : [record.outcome === 'error' ? undefined : `${record.outcome} (${record.decision})`, record.error].filter(Boolean).join(': ');
  return {
    time: record.at,
    identifier: record.identifier,
    connection: record.connection,
    tool: record.tool,
    risk: record.risk,
    decision,
    outcome,
    ...(errorCode ? { errorCode } : {}),
    durationMs: record.durationMs,
    ...(record.approvalWaitMs !== undefined ? { approvalWaitMs: record.approvalWaitMs } : {}),
    ...(record.executionId ? { executionId: record.executionId } : {}),
    inputHmac: record.inputHmac,
  };
}
