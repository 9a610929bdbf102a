// Security review issue 10 in the real extension host: what one identity's views and
// stored choices show to the next. Ada signs in, uses OnBehalf, and leaves; whoever comes
// next (Grace, or "ada" at another issuer) must see none of it.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { OnBehalfTestApi } from '../../src/vscode/testApi';
import type { ChatStateView } from '../../src/shared/protocol';
import { startIdpEmulator, type IdpEmulator } from '../emulators/idp/server';
import { filesUnder, oidcIdentifier, setSetting, signInAs, useSignedInWorld, waitFor, type Browser, type Emulators } from './support';

describe('identity changes: nothing of the previous identity stays shown', function () {
  this.timeout(90_000);
  const world = useSignedInWorld({ anthropicKey: 'sk-ant-identity', activeFor: ['ada', 'grace'] });
  let emulators: Emulators;
  let onbehalf: OnBehalfTestApi;
  let browser: Browser;
  let otherIdp: IdpEmulator | undefined;
  const exportDir = mkdtempSync(join(tmpdir(), 'onbehalf-identity-'));
  before(() => ({ emulators, onbehalf, browser } = world));
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await otherIdp?.close();
    rmSync(exportDir, { recursive: true, force: true });
  });

  const conversation = () => onbehalf.chat.activeConversation()!;
  const lastState = (): ChatStateView | undefined => {
    const states = onbehalf.chat.postedMessages().filter((m) => m.type === 'state');
    const last = states.at(-1);
    return last && last.type === 'state' ? last.state : undefined;
  };

  /** Sends a message whose scripted reply calls `tool`; answers the approval card if one appears. */
  async function callTool(
    tool: string,
    input: Record<string, unknown>,
    answer: 'approve' | 'deny' | 'always' = 'deny',
  ): Promise<{ asked: boolean; status: string }> {
    const id = `toolu_${Math.random().toString(36).slice(2)}`;
    emulators.anthropic.queue({ toolUse: { name: tool, input, id } }, { text: 'done' });
    const pending = onbehalf.chat.handleMessage({ type: 'send', text: `please run ${tool}` });
    const card = () => {
      const item = conversation().items.find((i) => i.kind === 'tool' && i.id === id);
      return item && item.kind === 'tool' ? item.card : undefined;
    };
    const asked = await waitFor('card', () => {
      const status = card()?.status;
      if (status === 'awaitingApproval') return 'asked';
      return status && status !== 'running' ? 'ran' : undefined;
    });
    if (asked === 'asked') await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: id, decision: answer });
    await pending;
    await onbehalf.chat.whenIdle();
    return { asked: asked === 'asked', status: card()!.status };
  }

  function treeLabels(): string[] {
    return onbehalf.treeChildren().map((node) => {
      const item = onbehalf.treeItem(node);
      const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
      return `${label} ${String(item.description ?? '')} ${typeof item.tooltip === 'string' ? item.tooltip : (item.tooltip?.value ?? '')}`;
    });
  }

  /** Every place an open view could show the previous identity's data, with what it shows. */
  async function showing(markers: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    const hit = (text: string) => markers.find((m) => text.includes(m));
    for (const tab of vscode.window.tabGroups.all.flatMap((g) => g.tabs)) {
      const input = tab.input;
      if (input instanceof vscode.TabInputWebview && /markdown\.preview/.test(input.viewType) && /Audit Log/.test(tab.label)) {
        // A rendered preview cannot be read from here: one of the previous identity's audit log must be gone.
        found.push(`tab "${tab.label}": the audit log preview is still open`);
        continue;
      }
      if (hit(tab.label)) found.push(`tab "${tab.label}"`);
      if (input instanceof vscode.TabInputText) {
        const document =
          vscode.workspace.textDocuments.find((d) => d.uri.toString() === input.uri.toString()) ?? (await vscode.workspace.openTextDocument(input.uri));
        const marker = hit(document.getText());
        if (marker) found.push(`tab "${tab.label}" (${input.uri.toString()}) shows ${marker}`);
      }
    }
    // The audit file system's documents, open or kept by VS Code: what they serve now.
    for (const document of vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'onbehalf-audit')) {
      const marker = hit(document.getText());
      if (marker) found.push(`audit document ${document.uri.toString()} shows ${marker}`);
    }
    const state = lastState();
    const chatText = JSON.stringify({ state, active: onbehalf.chat.activeConversation() ?? null });
    if (hit(chatText)) found.push(`the chat shows ${hit(chatText)}`);
    for (const label of treeLabels()) if (hit(label)) found.push(`the tree shows ${hit(label)}`);
    return found;
  }

  it("after Ada signs out and Grace signs in, no open tab, document, chat or tree shows Ada's identifier or calls", async () => {
    await onbehalf.chat.handleMessage({ type: 'newConversation' });
    conversation().loadedTools = ['asana_workspaces_list'];
    assert.deepEqual(await callTool('asana_workspaces_list', {}), { asked: false, status: 'succeeded' });
    const adaRecords = await onbehalf.auditRecords();
    const executionIds = adaRecords.flatMap((r) => (r.executionId ? [r.executionId] : []));
    assert.ok(executionIds.length > 0, 'Ada has audited calls with execution ids');
    const markers = [oidcIdentifier('ada'), 'Ada Lovelace', ...executionIds];

    // Show Audit Log: the rendered preview, and its source opened beside it.
    const shown = vscode.commands.executeCommand('onbehalf.showAuditLog');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await shown;
    await waitFor('audit preview tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && /Audit Log/.test(t.label)),
    );
    const source = await waitFor('audit document', () => vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'onbehalf-audit'));
    assert.match(source.getText(), /OnBehalf audit log: Ada Lovelace/);
    await vscode.window.showTextDocument(source, { preview: false, viewColumn: vscode.ViewColumn.Beside });
    // An export, opened.
    const exported = vscode.Uri.file(join(exportDir, 'ada-audit.jsonl'));
    await onbehalf.exportAuditLog(exported);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(exported), { preview: false });
    const before = await showing(markers);
    assert.ok(before.length >= 3, `Ada's data is on screen before the switch: ${JSON.stringify(before)}`);

    await onbehalf.signOut();
    await waitFor('signed out', async () => (await onbehalf.currentIdentity()) === undefined);
    let after: string[] = [];
    await waitFor('nothing of Ada shown after sign-out', async () => (after = await showing(markers)).length === 0, 10_000).catch(() => undefined);
    assert.deepEqual(after, [], 'after sign-out');

    await signInAs(onbehalf, browser, 'grace');
    await waitFor('nothing of Ada shown to Grace', async () => (after = await showing(markers)).length === 0, 10_000).catch(() => undefined);
    assert.deepEqual(after, [], 'after Grace signed in');
    // Grace's own audit log still opens, and shows Grace.
    const again = vscode.commands.executeCommand('onbehalf.showAuditLog');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await again;
    const graceDocument = await waitFor('audit document for Grace', () =>
      vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'onbehalf-audit' && /Grace Hopper/.test(d.getText())),
    );
    assert.ok(!markers.some((m) => graceDocument.getText().includes(m)));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('the same sub at another issuer is another identity: no conversations, always-allow choices or audit of the first', async () => {
    await signInAs(onbehalf, browser, 'ada');
    const first = (await onbehalf.currentIdentity())!.identifier;
    const firstIssuer = emulators.idp.issuer;
    // Ada at the first issuer: a conversation, and "always allow" for task creation.
    await onbehalf.chat.handleMessage({ type: 'newConversation' });
    conversation().loadedTools = ['asana_task_create'];
    const workspace = emulators.scalekit.data.asana.workspace.gid;
    assert.equal((await callTool('asana_task_create', { name: 'issuer one', workspace_gid: workspace }, 'always')).asked, true);
    assert.deepEqual(
      await callTool('asana_task_create', { name: 'issuer one again', workspace_gid: workspace }),
      { asked: false, status: 'succeeded' },
      'always-allow holds for Ada at the first issuer',
    );
    const firstConversation = conversation().id;
    await waitFor('conversation saved', () =>
      filesUnder(join(onbehalf.globalStoragePath, 'conversations')).some((f) => f.endsWith(`${firstConversation}.json`)),
    );
    const firstAudit = await onbehalf.auditFile();

    // The issuer setting changes to another IdP that has a user with the same sub, "ada".
    otherIdp = await startIdpEmulator();
    const second = oidcIdentifier('ada', otherIdp.issuer);
    for (const connection of ['posthog', 'asana']) emulators.scalekit.activateAccount(second, connection);
    await setSetting('oidc.issuer', otherIdp.issuer);
    await waitFor('no session at the new issuer', async () => (await onbehalf.currentIdentity()) === undefined);
    await signInAs(onbehalf, browser, 'ada');
    await waitFor('chat loaded for the new identity', () => lastState()?.identityLabel);
    assert.ok(!lastState()!.conversations.some((c) => c.id === firstConversation), "the first issuer's conversation is not listed");
    assert.notEqual(onbehalf.chat.activeConversation()?.id, firstConversation);
    await onbehalf.chat.handleMessage({ type: 'newConversation' });
    conversation().loadedTools = ['asana_task_create'];
    assert.equal(
      (await callTool('asana_task_create', { name: 'issuer two', workspace_gid: workspace }, 'deny')).asked,
      true,
      "the first issuer's always-allow does not apply",
    );
    assert.notEqual(await onbehalf.auditFile(), firstAudit, 'another audit file');
    const identity = (await onbehalf.currentIdentity())!;
    assert.equal(identity.accountId, 'ada', 'the same sub');
    assert.notEqual(identity.identifier, first, 'a different identifier');
    assert.equal(identity.identifier, second);
    assert.ok(
      (await onbehalf.auditRecords()).every((r) => r.identifier === second),
      'only the new identity in its audit',
    );

    // Back at the first issuer, Ada's session there is still signed in, with her conversation.
    await setSetting('oidc.issuer', firstIssuer);
    await waitFor('back to the first identity', async () => (await onbehalf.currentIdentity())?.identifier === first);
    await waitFor("the first issuer's conversation is listed again", () => lastState()?.conversations.some((c) => c.id === firstConversation));
  });
});
