// Issue 5's approvals and audit log in the real extension host.
import * as assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { OnBehalfTestApi } from '../../src/vscode/testApi';
import { writeAuditExport } from '../../src/vscode/auditView';
import { type Browser, type Emulators, oidcIdentifier, setSetting, signInAs, useSignedInWorld, waitFor } from './support';

const ada = () => oidcIdentifier('ada');
const grace = () => oidcIdentifier('grace');

describe('approvals and the audit log', function () {
  this.timeout(60_000);
  const world = useSignedInWorld({ anthropicKey: 'sk-ant-approvals', activeFor: ['ada', 'grace'] });
  let emulators: Emulators;
  let onbehalf: OnBehalfTestApi;
  let browser: Browser;
  const conversation = () => onbehalf.chat.activeConversation()!;
  const cardFor = (toolUseId: string) => {
    const item = conversation().items.find((i) => i.kind === 'tool' && i.id === toolUseId);
    assert.ok(item && item.kind === 'tool');
    return item.card;
  };
  let workspace = '';

  /** Sends a message whose scripted reply calls `tool`; answers the approval card if one appears. */
  async function callTool(
    tool: string,
    input: Record<string, unknown>,
    answer?: 'approve' | 'deny' | 'always',
  ): Promise<{ asked: boolean; canAlwaysAllow?: boolean; status: string }> {
    const id = `toolu_${Math.random().toString(36).slice(2)}`;
    emulators.anthropic.queue({ toolUse: { name: tool, input, id } }, { text: 'done' });
    const pending = onbehalf.chat.handleMessage({ type: 'send', text: `please run ${tool}` });
    const asked = await waitFor('card', () => {
      const item = conversation().items.find((i) => i.kind === 'tool' && i.id === id);
      if (!item || item.kind !== 'tool') return undefined;
      if (item.card.status === 'awaitingApproval') return 'asked';
      if (item.card.status !== 'running') return 'ran';
      return undefined;
    });
    const canAlwaysAllow = cardFor(id).canAlwaysAllow;
    if (asked === 'asked') await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: id, decision: answer ?? 'deny' });
    await pending;
    await onbehalf.chat.whenIdle();
    return { asked: asked === 'asked', ...(canAlwaysAllow === undefined ? {} : { canAlwaysAllow }), status: cardFor(id).status };
  }

  before(async () => {
    ({ emulators, onbehalf, browser } = world);
    workspace = emulators.scalekit.data.asana.workspace.gid;
    await vscode.commands.executeCommand('onbehalf.resetApprovals');
  });

  beforeEach(async () => {
    await onbehalf.chat.handleMessage({ type: 'newConversation' });
    conversation().loadedTools = ['asana_workspaces_list', 'asana_task_create', 'asana_task_delete', 'asana_task_update'];
  });

  it('reads run; writes ask with "always"; destructive always asks, without it', async () => {
    assert.deepEqual(await callTool('asana_workspaces_list', {}), { asked: false, status: 'succeeded' });
    assert.deepEqual(await callTool('asana_task_create', { name: 'approved task', workspace_gid: workspace }, 'approve'), {
      asked: true,
      canAlwaysAllow: true,
      status: 'succeeded',
    });
    const task = [...emulators.scalekit.data.asana.tasks.values()].find((t) => t.name === 'approved task')!;
    assert.ok(task);
    assert.deepEqual(await callTool('asana_task_delete', { task_gid: task.gid }, 'deny'), { asked: true, canAlwaysAllow: false, status: 'denied' });
    assert.ok(emulators.scalekit.data.asana.tasks.has(task.gid), 'denied delete did not run');
    const denied = conversation().messages.at(-2)!;
    assert.match(JSON.stringify(denied), /declined/);
  });

  it('an approval is for one call only; "always allow" lasts, per identity; Reset clears it', async () => {
    assert.equal((await callTool('asana_task_create', { name: 'one', workspace_gid: workspace }, 'approve')).asked, true);
    assert.equal(
      (await callTool('asana_task_create', { name: 'two', workspace_gid: workspace }, 'always')).asked,
      true,
      'asked again: approval was for one call',
    );
    assert.deepEqual(await callTool('asana_task_create', { name: 'three', workspace_gid: workspace }), { asked: false, status: 'succeeded' });
    await signInAs(onbehalf, browser, 'grace');
    await onbehalf.chat.handleMessage({ type: 'newConversation' });
    conversation().loadedTools = ['asana_task_create'];
    assert.equal(
      (await callTool('asana_task_create', { name: 'grace one', workspace_gid: workspace }, 'deny')).asked,
      true,
      "Ada's rule does not apply to Grace",
    );
    await signInAs(onbehalf, browser, 'ada');
    await onbehalf.chat.handleMessage({ type: 'newConversation' });
    conversation().loadedTools = ['asana_task_create'];
    await vscode.commands.executeCommand('onbehalf.resetApprovals');
    assert.equal((await callTool('asana_task_create', { name: 'four', workspace_gid: workspace }, 'deny')).asked, true, 'asks again after reset');
  });

  it('tool rules (allow/deny/ask) and read-only mode', async () => {
    await setSetting('toolRules', { asana_task_create: 'allow', asana_workspaces_list: 'deny', asana_task_delete: 'allow' });
    assert.deepEqual(await callTool('asana_task_create', { name: 'by rule', workspace_gid: workspace }), { asked: false, status: 'succeeded' });
    assert.equal((await callTool('asana_workspaces_list', {})).status, 'denied');
    assert.equal((await callTool('asana_task_delete', { task_gid: '1' }, 'deny')).asked, true, 'destructive asks despite allow');
    await setSetting('toolRules', undefined);
    await setSetting('readOnly', true);
    emulators.anthropic.reset();
    emulators.anthropic.queue({ toolUse: { name: 'search_tools', input: { query: 'create task' } } }, { text: 'ok' });
    await onbehalf.chat.handleMessage({ type: 'send', text: 'search' });
    await onbehalf.chat.whenIdle();
    const second = emulators.anthropic.requests.at(-1)!;
    assert.ok(
      second.toolNames.every((n) => n === 'search_tools' || !/create|delete|update/.test(n)),
      `read-only request carried ${second.toolNames.join(', ')}`,
    );
    await setSetting('readOnly', undefined);
  });

  /** Sends a message whose scripted reply calls `tool`; resolves once its card settles or asks. */
  async function startCall(tool: string, input: Record<string, unknown>, id: string, unoffered = false): Promise<{ pending: Promise<void>; first: string }> {
    emulators.anthropic.queue({ toolUse: { name: tool, input, id, unoffered } }, { text: 'done' });
    const pending = onbehalf.chat.handleMessage({ type: 'send', text: `please run ${tool}` });
    const first = await waitFor('card', () => {
      const item = conversation().items.find((i) => i.kind === 'tool' && i.id === id);
      return item && item.kind === 'tool' && item.card.status !== 'running' ? item.card.status : undefined;
    });
    return { pending, first };
  }

  it('a forged "always" on a destructive card is ignored: the call still waits, nothing is remembered', async () => {
    await vscode.commands.executeCommand('onbehalf.resetApprovals');
    const task = [...emulators.scalekit.data.asana.tasks.values()][0]!;
    assert.ok(task, 'a task to delete');
    const executionsBefore = emulators.scalekit.executions.length;
    const id = `toolu_forged_always_${Date.now()}`;
    const { pending, first } = await startCall('asana_task_delete', { task_gid: task.gid }, id);
    assert.equal(first, 'awaitingApproval');
    assert.equal(cardFor(id).canAlwaysAllow, false, 'the card offers no "Always allow"');
    const rejectedBefore = onbehalf.chat.postedMessages().filter((m) => m.type === 'rejected').length;
    await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: id, decision: 'always' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(cardFor(id).status, 'awaitingApproval', 'the call still waits for the user');
    assert.equal(emulators.scalekit.executions.length, executionsBefore, 'nothing ran');
    assert.ok(emulators.scalekit.data.asana.tasks.has(task.gid), 'the task is still there');
    assert.equal(onbehalf.chat.postedMessages().filter((m) => m.type === 'rejected').length, rejectedBefore + 1, 'the forged answer was rejected');
    // The user's own answer still decides it.
    await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: id, decision: 'deny' });
    await pending;
    await onbehalf.chat.whenIdle();
    assert.equal(cardFor(id).status, 'denied');
    // Nothing was remembered: the next destructive call asks again, and no rule is stored.
    assert.equal((await callTool('asana_task_delete', { task_gid: task.gid }, 'deny')).asked, true, 'asks again');
    assert.ok(!JSON.stringify(onbehalf.storedState().global).includes('asana_task_delete'), 'no "always" rule stored for a destructive tool');
    assert.equal(emulators.scalekit.executions.length, executionsBefore, 'nothing ran');
  });

  it('read-only mode refuses a write the model calls without it being offered, and audits it', async () => {
    await setSetting('readOnly', true);
    try {
      emulators.anthropic.reset();
      const executionsBefore = emulators.scalekit.executions.length;
      const auditBefore = (await onbehalf.auditRecords()).length;
      const id = `toolu_read_only_${Date.now()}`;
      const { pending, first } = await startCall('asana_task_create', { name: 'read-only bypass', workspace_gid: workspace }, id, true);
      // A user who would approve anything: read-only must refuse before anyone is asked.
      if (first === 'awaitingApproval') await onbehalf.chat.handleMessage({ type: 'decide', toolUseId: id, decision: 'approve' });
      await pending;
      await onbehalf.chat.whenIdle();
      assert.ok(!emulators.anthropic.requests[0]!.toolNames.includes('asana_task_create'), 'the write was not offered to the model');
      assert.equal(first, 'denied', 'refused without asking');
      assert.match(cardFor(id).error ?? '', /read-only/i);
      assert.equal(emulators.scalekit.executions.length, executionsBefore, 'no execution');
      assert.ok(![...emulators.scalekit.data.asana.tasks.values()].some((t) => t.name === 'read-only bypass'), 'no task created');
      const records = (await onbehalf.auditRecords()).slice(auditBefore);
      assert.deepEqual(
        records.map((r) => [r.tool, r.decision, r.outcome, r.errorCode, r.identifier]),
        [['asana_task_create', 'denied', 'cancelled', 'read_only', oidcIdentifier('ada')]],
      );
    } finally {
      await setSetting('readOnly', undefined);
    }
  });

  it('audits every call, including denied and failed ones, without raw input', async () => {
    await callTool('asana_workspaces_list', {});
    await callTool('asana_task_create', { name: 'secret-ish value 12345', workspace_gid: workspace }, 'deny');
    emulators.scalekit.injectFault({ kind: 'toolError', code: 'forbidden', times: 1 });
    await callTool('asana_workspaces_list', {});
    const records = (await onbehalf.auditRecords()).slice(-3);
    assert.deepEqual(
      records.map((r) => [r.tool, r.decision, r.outcome]),
      [
        ['asana_workspaces_list', 'auto', 'success'],
        ['asana_task_create', 'denied', 'cancelled'],
        ['asana_workspaces_list', 'auto', 'failure'],
      ],
    );
    for (const r of records) {
      assert.equal(r.identifier, ada());
      assert.equal(r.connection, 'asana');
      assert.match(r.inputHmac, /^[0-9a-f]{64}$/);
      assert.ok(typeof r.durationMs === 'number' && r.time.length > 0);
    }
    assert.ok(records[0]!.executionId, 'success carries the Scalekit execution id');
    const file = readFileSync(await onbehalf.auditFile(), 'utf8');
    assert.ok(!file.includes('secret-ish value 12345'), 'raw input never written');
    // Export as CSV and JSONL.
    const dir = mkdtempSync(join(tmpdir(), 'onbehalf-audit-'));
    try {
      const all = await onbehalf.auditRecords();
      await writeAuditExport(vscode.Uri.file(join(dir, 'audit.csv')), all);
      await writeAuditExport(vscode.Uri.file(join(dir, 'audit.jsonl')), all);
      const csv = readFileSync(join(dir, 'audit.csv'), 'utf8').trim().split('\r\n');
      assert.equal(csv.length, all.length + 1);
      assert.match(csv[0]!, /^time,identifier,connection,tool,risk,decision,outcome/);
      assert.equal(readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').length, all.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("Show Audit Log opens a readable table of this identity's calls", async () => {
    const shown = vscode.commands.executeCommand('onbehalf.showAuditLog');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await shown;
    // It opens rendered, in the Markdown preview.
    const tab = await waitFor('audit preview tab', () => vscode.window.tabGroups.activeTabGroup.activeTab);
    assert.ok(
      tab.input instanceof vscode.TabInputWebview && /markdown\.preview/.test(tab.input.viewType),
      `the active tab is a Markdown preview (${tab.label})`,
    );
    assert.match(tab.label, /Audit Log/);
    const document = await waitFor('audit document', () => vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'onbehalf-audit'));
    const text = document.getText();
    assert.match(text, /# OnBehalf audit log: Ada Lovelace/);
    assert.match(text, /^\| \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \| /m, 'times read as date and time (UTC)');
    assert.match(text, /\| asana_workspaces_list \| read \| auto \| success \|/);
    assert.ok(!text.includes(grace()));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('a tool name from the model renders as text in the audit preview: no image, link or HTML, no request', async () => {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const name = `![x](http://127.0.0.1:${port}/leak-md) <img src="http://127.0.0.1:${port}/leak-html"> http://127.0.0.1:${port}/leak-link`;
      // A record whose tool name is hostile (as a model or a connector could name a tool), in Ada's own log.
      const last = (await onbehalf.auditRecords()).at(-1)!;
      appendFileSync(await onbehalf.auditFile(), `${JSON.stringify({ ...last, tool: name })}\n`);
      assert.equal((await onbehalf.auditRecords()).at(-1)?.tool, name);
      const shown = vscode.commands.executeCommand('onbehalf.showAuditLog');
      await new Promise((resolve) => setTimeout(resolve, 500));
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      await shown;
      await waitFor('audit preview tab', () =>
        vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && /Audit Log/.test(t.label)),
      );
      const document = await waitFor('audit document', () =>
        vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'onbehalf-audit' && d.getText().includes('leak')),
      );
      // VS Code's own Markdown engine, as the preview uses it.
      const html = await vscode.commands.executeCommand<string>('markdown.api.render', document.getText());
      assert.doesNotMatch(html, /<(img|a|script|iframe|svg|video|audio|source|object|embed)\b/i, html);
      assert.ok(html.includes('leak-md') && html.includes('leak-html') && html.includes('leak-link'), 'the name is shown as text');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.deepEqual(hits, [], 'opening the preview sent no request');
    } finally {
      server.close();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('the audit input hash equals the HMAC of the exact input', async () => {
    const input = { name: `hmac check ${Math.random().toString(36).slice(2)}`, workspace_gid: workspace };
    await callTool('asana_task_create', input, 'deny');
    const record = (await onbehalf.auditRecords()).at(-1)!;
    assert.equal(record.tool, 'asana_task_create');
    const key = Buffer.from(await onbehalf.auditKey(), 'base64');
    assert.equal(key.length, 32, 'a 256-bit key from SecretStorage');
    // The input's canonical JSON: keys sorted (name < workspace_gid), no spaces.
    const canonical = JSON.stringify({ name: input.name, workspace_gid: input.workspace_gid });
    const expected = createHmac('sha256', key).update(canonical).digest('hex');
    const stored = record as unknown as Record<string, unknown>;
    assert.equal(stored['inputHmac'], expected, 'the record carries the HMAC of the exact input');
    assert.ok(!JSON.stringify(stored).includes(createHash('sha256').update(canonical).digest('hex')), 'no unsalted hash of the input');
    const file = readFileSync(await onbehalf.auditFile(), 'utf8');
    assert.ok(!file.includes(key.toString('base64')) && !file.includes(key.toString('hex')), 'the key is never in the audit file');
    assert.equal(Buffer.from(await onbehalf.auditKey(), 'base64').toString('hex'), key.toString('hex'), 'the same key next time');
  });
});
