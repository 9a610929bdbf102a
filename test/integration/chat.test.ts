// Issue 4 in the real extension host: the chat host runs the agent loop through the real
// SDKs against the emulators. Messages go in exactly as the webview would post them.
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { storageKeyFor } from '../../src/core/identifier';
import type { OnBehalfTestApi } from '../../src/vscode/testApi';
import { type Browser, type Emulators, extensionLogText, oidcIdentifier, signInAs, statusOf, useSignedInWorld, waitFor } from './support';

const ada = () => oidcIdentifier('ada');
const grace = () => oidcIdentifier('grace');

const signups = JSON.stringify({ kind: 'TrendsQuery', series: [{ event: 'signed_up' }], interval: 'day', dateRange: { date_from: '-7d' } });

describe('chat and the agent loop', function () {
  this.timeout(60_000);
  const world = useSignedInWorld({ anthropicKey: 'sk-ant-chat-test' });
  let emulators: Emulators;
  let onbehalf: OnBehalfTestApi;
  let browser: Browser;
  before(() => ({ emulators, onbehalf, browser } = world));

  const send = async (text: string) => {
    await onbehalf.chat.handleMessage({ type: 'send', text });
    await onbehalf.chat.whenIdle();
  };
  const conversation = () => {
    const c = onbehalf.chat.activeConversation();
    assert.ok(c, 'an active conversation');
    return c;
  };
  const cards = () => conversation().items.flatMap((i) => (i.kind === 'tool' ? [i.card] : []));

  beforeEach(async () => {
    emulators.anthropic.reset();
    await onbehalf.chat.handleMessage({ type: 'newConversation' });
  });

  it('answers a read question with a tool call as the signed-in identifier', async () => {
    emulators.anthropic.queue(
      { toolUse: { name: 'search_tools', input: { query: 'signups per day trends query' } } },
      { toolUse: { name: 'posthogmcp_query_run', input: { query: signups } } },
      { text: 'Here are your **signups**.' },
    );
    const before = emulators.scalekit.executions.length;
    await send('How many signups did we have each day last week?');
    const executions = emulators.scalekit.executions.slice(before);
    assert.deepEqual(
      executions.map((e) => [e.toolName, e.identifier, e.ok]),
      [['posthogmcp_query_run', ada(), true]],
    );
    const card = cards().find((c) => c.toolName === 'posthogmcp_query_run')!;
    assert.equal(card.status, 'succeeded');
    assert.ok(card.series?.[0]?.points.length === 7, 'chart series');
    const last = conversation().items.at(-1)!;
    assert.ok(last.kind === 'assistant' && /signups/.test(last.markdown) && !last.streaming);
    assert.equal(conversation().title, 'How many signups did we have each day last week?');
    assert.ok(conversation().usage.inputTokens > 0 && conversation().usage.estimatedCostUsd > 0, 'usage metered');
    for (const request of emulators.anthropic.requests) assert.ok(emulators.anthropic.toolResultIdsMatch(request));
    const audit = await onbehalf.auditRecords();
    assert.equal(audit.at(-1)?.tool, 'posthogmcp_query_run');
    assert.equal(audit.at(-1)?.identifier, ada());
  });

  it('runs several tools in one turn', async () => {
    conversation().loadedTools = ['asana_workspaces_list', 'posthogmcp_feature_flag_get_all'];
    emulators.anthropic.queue(
      {
        toolUse: [
          { name: 'asana_workspaces_list', input: {} },
          { name: 'posthogmcp_feature_flag_get_all', input: {} },
        ],
      },
      { text: 'Both done.' },
    );
    await send('workspaces and flags please');
    assert.deepEqual(
      cards().map((c) => [c.toolName, c.status]),
      [
        ['asana_workspaces_list', 'succeeded'],
        ['posthogmcp_feature_flag_get_all', 'succeeded'],
      ],
    );
  });

  it('shows a tool error on its card and lets the model carry on', async () => {
    conversation().loadedTools = ['asana_workspaces_list'];
    emulators.scalekit.injectFault({ kind: 'toolError', code: 'other', message: 'Asana is having a bad day', times: 1 });
    emulators.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {} } }, { text: 'Asana failed; try later.' });
    await send('workspaces');
    const card = cards()[0]!;
    assert.equal(card.status, 'failed');
    assert.match(card.error ?? '', /bad day/);
    assert.equal(conversation().items.at(-1)?.kind, 'assistant');
  });

  it('offers Re-authorize when the account expired mid-conversation, and continues after it', async () => {
    conversation().loadedTools = ['asana_workspaces_list'];
    emulators.scalekit.expireAccount(ada(), 'asana');
    emulators.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {} } }, { text: 'Please re-authorize Asana.' });
    await send('workspaces');
    const card = cards()[0]!;
    assert.deepEqual(card.fix, { kind: 'reauthorize', connection: 'asana' });
    // The card's button posts `connect`; the browser stand-in consents; the agent continues.
    emulators.anthropic.queue({ toolUse: { name: 'asana_workspaces_list', input: {} } }, { text: 'Now it works.' });
    browser.consent = 'allow';
    await onbehalf.chat.handleMessage({ type: 'connect', connection: 'asana', reauthorize: true });
    await waitFor('asana active again', () => statusOf(onbehalf, 'asana') === 'ACTIVE');
    await waitFor('the agent continued', () => {
      const last = conversation().items.at(-1);
      return last?.kind === 'assistant' && last.markdown === 'Now it works.';
    });
    await onbehalf.chat.whenIdle();
    assert.equal(cards().at(-1)?.status, 'succeeded');
  });

  it('Stop in the middle of a stream keeps a consistent conversation', async () => {
    emulators.anthropic.queue({ text: 'lorem ipsum '.repeat(300), chunkSize: 4, delayMsPerChunk: 5 });
    void onbehalf.chat.handleMessage({ type: 'send', text: 'long answer please' });
    await emulators.anthropic.waitForRequests(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await onbehalf.chat.handleMessage({ type: 'stop' });
    await onbehalf.chat.whenIdle();
    const messages = conversation().messages;
    assert.equal(messages.at(-1)?.role, 'assistant');
    const partial = conversation().items.at(-1)!;
    assert.ok(partial.kind === 'assistant' && !partial.streaming && partial.markdown.length < 3600);
    emulators.anthropic.queue({ text: 'ok' });
    await send('and now?');
    assert.equal(emulators.anthropic.requests.at(-1)?.status, 200, 'the next request is valid');
  });

  it('shows model errors inline with Retry, keeping the typed message', async () => {
    emulators.anthropic.queue({ error: 529 }, { error: 529 }, { error: 529 });
    await send('are you there?');
    const error = conversation().items.at(-1)!;
    assert.ok(error.kind === 'error' && error.retryable, JSON.stringify(error));
    assert.ok(conversation().items.some((i) => i.kind === 'user' && i.text === 'are you there?'));
    emulators.anthropic.queue({ text: 'Yes, back now.' });
    await onbehalf.chat.handleMessage({ type: 'retry' });
    await onbehalf.chat.whenIdle();
    const last = conversation().items.at(-1)!;
    assert.ok(last.kind === 'assistant' && last.markdown === 'Yes, back now.');
    assert.ok(!conversation().items.some((i) => i.kind === 'error'));
  });

  it('keeps several conversations, switches between them and deletes one', async () => {
    emulators.anthropic.queue({ text: 'first' });
    await send('conversation one');
    const first = conversation().id;
    await onbehalf.chat.handleMessage({ type: 'newConversation' });
    emulators.anthropic.queue({ text: 'second' });
    await send('conversation two');
    const second = conversation().id;
    assert.notEqual(first, second);
    await onbehalf.chat.handleMessage({ type: 'switchConversation', conversationId: first });
    assert.equal(conversation().id, first);
    await onbehalf.chat.handleMessage({ type: 'deleteConversation', conversationId: first });
    assert.notEqual(onbehalf.chat.activeConversation()?.id, first);
    const folder = join(onbehalf.globalStoragePath, 'conversations');
    const files = readdirSync(folder, { recursive: true, encoding: 'utf8' });
    assert.ok(files.some((f) => f.includes(second)) && !files.some((f) => f.includes(first)));
  });

  it('history survives a reload and is partitioned per identity', async () => {
    emulators.anthropic.queue({ text: 'remember me' });
    await send('a message from Ada');
    const adaId = conversation().id;
    // Grace sees nothing of Ada's.
    await signInAs(onbehalf, browser, 'grace');
    await waitFor('chat reloaded for Grace', () => onbehalf.chat.activeConversation()?.id !== adaId);
    const posted = await waitFor('state posted for Grace', () => {
      const last = onbehalf.chat
        .postedMessages()
        .filter((m) => m.type === 'state')
        .at(-1);
      return last && last.type === 'state' && last.state.identityLabel?.startsWith('Grace') ? last.state : undefined;
    });
    assert.ok(!posted.conversations.some((c) => c.id === adaId), "Ada's conversation is not listed for Grace");
    assert.ok(!JSON.stringify(posted).includes('a message from Ada'));
    assert.ok(!JSON.stringify(onbehalf.chat.activeConversation() ?? {}).includes('a message from Ada'));
    // Back as Ada, the conversation is read back from disk.
    await signInAs(onbehalf, browser, 'ada');
    await waitFor('Ada history loaded', () => onbehalf.chat.activeConversation()?.id === adaId);
    assert.ok(conversation().items.some((i) => i.kind === 'user' && i.text === 'a message from Ada'));
    const root = join(onbehalf.globalStoragePath, 'conversations');
    assert.ok(existsSync(join(root, storageKeyFor(ada()))), 'stored under Ada');
    assert.ok(existsSync(join(root, storageKeyFor(ada()), `${adaId}.json`)), "the file is in Ada's folder");
    assert.ok(!existsSync(join(root, storageKeyFor(grace()), `${adaId}.json`)), "and not in Grace's");
  });

  it('a chat page that never says ready is rebuilt in a new frame, and then works', async function () {
    this.timeout(45_000);
    await waitFor('the chat page said ready', () => onbehalf.chat.readyCount() > 0, 20_000);
    // The next page stalls, as VS Code's webview frame does when it loses its service worker.
    onbehalf.chat.stallNextRenders(1);
    await vscode.commands.executeCommand('onbehalf.chat.toggleVisibility');
    await vscode.commands.executeCommand('onbehalf.chat.toggleVisibility');
    await vscode.commands.executeCommand('onbehalf.chat.focus');
    await waitFor('the stalled page was rendered', () => onbehalf.chat.renderedHtml().at(-1)?.includes('never-loads.js'));
    const readyBefore = onbehalf.chat.readyCount();
    await waitFor('the chat recovered on its own', () => onbehalf.chat.readyCount() > readyBefore, 30_000);
    assert.match(onbehalf.chat.renderedHtml().at(-1) ?? '', /webview\/chat\.js/);
    const log = extensionLogText(onbehalf);
    assert.match(log, /The chat did not load within 8 s; hiding and showing the view/);
    // And it still chats.
    emulators.anthropic.queue({ text: 'back again' });
    await send('are you there?');
    assert.ok(conversation().items.some((i) => i.kind === 'assistant' && i.markdown.includes('back again')));
  });
});
