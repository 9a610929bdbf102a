import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { chatWebviewHtml, contentSecurityPolicy } from '../../../src/core/webviewHtml';
import { maxUserMessageChars, parseWebviewMessage, webviewMessageSchema, type WebviewMessage } from '../../../src/shared/protocol';

const root = join(__dirname, '..', '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** The src folders a file imports from (relative imports only), e.g. ['core', 'agent']. */
function importedFolders(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specifiers.map((s) => relative(join(root, 'src'), resolve(dirname(file), s)).split(/[\\/]/)[0]!);
}

/** Files under src/<from> (or the one file src/<from>.ts) that import from src/<to>. */
function importing(from: string, to: readonly string[]): string[] {
  const full = join(root, 'src', from);
  const files = from.endsWith('.ts') ? [full] : sources(full);
  return files.filter((file) => importedFolders(file).some((folder) => to.includes(folder))).map((file) => relative(root, file));
}

describe('boundaries', () => {
  it('the pure core (core, agent, scalekit, enterprise, team, shared, webview) and the gateway never import vscode', () => {
    const offenders = ['core', 'agent', 'scalekit', 'enterprise', 'team', 'shared', 'webview', 'gateway']
      .flatMap((folder) => sources(join(root, 'src', folder)))
      .filter((file) => /from ['"]vscode['"]|require\(['"]vscode['"]\)/.test(readFileSync(file, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('the tool-backend seam: the agent imports no backend, and no backend imports the agent', () => {
    // One seam (src/core/toolBackend.ts) between the agent and every tool backend; the
    // Connections tree knows tools through the seam's types, not a backend's.
    const offenders = {
      agentLoopImportsABackend: importing('agent/agentLoop.ts', ['scalekit', 'enterprise', 'vscode']),
      agentImportsABackend: importing('agent', ['scalekit', 'enterprise', 'vscode']),
      enterpriseImportsTheAgent: importing('enterprise', ['agent', 'scalekit', 'vscode']),
      scalekitImportsTheAgent: importing('scalekit', ['agent', 'enterprise', 'vscode']),
      teamImportsTheAgent: importing('team', ['agent', 'scalekit', 'enterprise', 'vscode']),
      coreImportsALayerAbove: importing('core', ['agent', 'scalekit', 'enterprise', 'vscode', 'shared']),
      connectionsTreeImportsABackend: importing('vscode/connectionsTree.ts', ['scalekit', 'enterprise']),
    };
    const none = Object.fromEntries(Object.keys(offenders).map((k) => [k, []]));
    assert.deepEqual(offenders, none);
  });

  it('tool cards are built in one place: toolCallTranslator.ts, not the loop', () => {
    const builders = sources(join(root, 'src', 'agent'))
      .filter((file) => /\bToolCardView\b|kind: 'tool'/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    assert.deepEqual(builders, [join('src', 'agent', 'toolCallTranslator.ts')]);
  });

  it('only the identity code makes an Identifier: no cast to it, no use of its brand, anywhere else in src or test', () => {
    // Tests too get identifiers through identifierFor (test/support/identifiers.ts), so a test
    // cannot pass where a plain string would reach an account. The pattern is assembled from
    // pieces so that this file does not match itself.
    const castOrBrand = new RegExp(
      [
        String.raw`\bas\s+(?:unknown\s+as\s+|any\s+as\s+)?Identifier\b`,
        String.raw`(?<![\w$.])<` + 'Identifier>',
        'OnBehalf' + 'Identifier',
        '__' + 'brand',
      ].join('|'),
    );
    const maker = join(root, 'src', 'core', 'identifier.ts');
    const offenders = [...sources(join(root, 'src')), ...sources(join(root, 'test'))]
      .filter((file) => file !== maker)
      .filter((file) => castOrBrand.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    assert.deepEqual(offenders, []);
  });

  it('command ids are spelled only in src/vscode/constants.ts; everything else uses its constants', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } };
    const ids = manifest.contributes.commands.map((c) => c.command.replace('.', '\\.'));
    const literal = new RegExp(`['"\`](?:${ids.join('|')})['"\`]`);
    const constants = join(root, 'src', 'vscode', 'constants.ts');
    const offenders = sources(join(root, 'src')).filter((file) => file !== constants && literal.test(readFileSync(file, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('error classes live only in the errors modules', () => {
    const homes = [join(root, 'src', 'core', 'errors.ts'), join(root, 'src', 'enterprise', 'errors.ts'), join(root, 'src', 'team', 'errors.ts')];
    const offenders = sources(join(root, 'src'))
      .filter((file) => !homes.includes(file))
      .filter((file) => /\bclass\s+\w+\s+extends\s+(?:\w*Error|OnBehalfError)\b/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    assert.deepEqual(offenders, []);
  });

  it('extension.ts only composes: no function bodies beyond activate/deactivate', () => {
    const text = readFileSync(join(root, 'src', 'extension.ts'), 'utf8');
    assert.equal((text.match(/^export function /gm) ?? []).length, 2);
    assert.ok(!/\bclass\b/.test(text));
  });

  it('the webview CSP starts from default-src none, with a nonce script and no inline or eval', () => {
    const html = chatWebviewHtml({
      cspSource: 'https://webview.test',
      scriptUri: 'https://webview.test/chat.js',
      styleUri: 'https://webview.test/chat.css',
      codiconsUri: 'https://webview.test/codicon.css',
      sandboxModel: false,
    });
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /^default-src 'none';/);
    assert.doesNotMatch(csp, /unsafe-eval|unsafe-inline|\*/);
    const nonce = /script-src 'nonce-([A-Za-z0-9_-]{32})'/.exec(csp)?.[1];
    assert.ok(nonce, 'nonce in CSP');
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0]![1]!, new RegExp(`nonce="${nonce}" src="https://webview.test/chat.js"`));
    assert.equal(scripts[0]![2]!.trim(), '', 'no inline script body');
    assert.doesNotMatch(html, /<style|\sstyle="|\son[a-z]+=/i);
    const other = chatWebviewHtml({ cspSource: 'x', scriptUri: 'x', styleUri: 'x', codiconsUri: 'x', sandboxModel: true });
    assert.notEqual(/nonce-([^']+)/.exec(other)?.[1], nonce, 'a fresh nonce per render');
    assert.match(contentSecurityPolicy('s', 'n'), /base-uri 'none'/);
  });

  it('the protocol rejects unknown types, extra fields (a smuggled identifier) and oversize input', () => {
    assert.equal(parseWebviewMessage({ type: 'send', text: 'hi' }).ok, true);
    for (const bad of [
      null,
      'send',
      42,
      [],
      {},
      { type: 'nope' },
      { type: 'send', text: 'hi', identifier: 'oidc:grace' },
      { type: 'send', text: 'hi', user: { id: 'grace' } },
      { type: 'ready', identifier: 'github:1' },
      { type: 'send', text: '' },
      { type: 'send', text: '   ' },
      { type: 'send', text: 'x'.repeat(32_001) },
      { type: 'decide', toolUseId: 'a b', decision: 'approve' },
      { type: 'decide', toolUseId: 't', decision: 'yes' },
      { type: 'connect', connection: '../etc', reauthorize: false },
      { type: 'openLink', url: 'javascript:alert(1)' },
      { type: 'runCommand', command: 'workbench.action.terminal.new' },
      { type: 'switchConversation', conversationId: 'x'.repeat(200) },
    ]) {
      assert.equal(parseWebviewMessage(bad).ok, false, JSON.stringify(bad)?.slice(0, 80));
    }
  });

  it('the protocol accepts one valid message of every type, each value of every enum, and keeps it as sent', () => {
    const valid: WebviewMessage[] = [
      { type: 'ready' },
      { type: 'send', text: 'How many signups?' },
      { type: 'stop' },
      { type: 'retry' },
      { type: 'newConversation' },
      { type: 'switchConversation', conversationId: 'c-1:a.b_C' },
      { type: 'deleteConversation', conversationId: 'c1' },
      { type: 'decide', toolUseId: 'toolu_01AbC', decision: 'approve' },
      { type: 'decide', toolUseId: 'toolu_01AbC', decision: 'deny' },
      { type: 'decide', toolUseId: 'toolu_01AbC', decision: 'always' },
      { type: 'connect', connection: 'posthog', reauthorize: false },
      { type: 'connect', connection: 'my_asana.v2-eu', reauthorize: true },
      { type: 'runCommand', command: 'signIn' },
      { type: 'runCommand', command: 'setAnthropicKey' },
      { type: 'runCommand', command: 'setScalekitSecret' },
      { type: 'runCommand', command: 'showLog' },
      { type: 'copy', text: '' },
      { type: 'copy', text: 'a chart | table' },
      { type: 'openLink', url: 'https://posthog.com/docs' },
      { type: 'openLink', url: 'http://localhost:8000/x' },
      { type: 'cspViolation', directive: 'img-src', blocked: 'http://127.0.0.1:9/x.png' },
    ];
    for (const message of valid) assert.deepEqual(parseWebviewMessage(message), { ok: true, message }, JSON.stringify(message));
    assert.deepEqual(new Set(valid.map((m) => m.type)).size, 13, 'every message type');
    // Text is trimmed before it reaches the agent.
    assert.deepEqual(parseWebviewMessage({ type: 'send', text: '  hi \n' }), { ok: true, message: { type: 'send', text: 'hi' } });
  });

  it('the protocol holds each limit exactly: text, ids, connection names, copies and links', () => {
    const ok = (raw: unknown) => parseWebviewMessage(raw).ok;
    assert.equal(maxUserMessageChars, 32_000);
    assert.equal(ok({ type: 'send', text: 'x'.repeat(32_000) }), true);
    assert.equal(ok({ type: 'send', text: 'x'.repeat(32_001) }), false);
    assert.equal(ok({ type: 'switchConversation', conversationId: 'x'.repeat(128) }), true);
    assert.equal(ok({ type: 'switchConversation', conversationId: 'x'.repeat(129) }), false);
    assert.equal(ok({ type: 'deleteConversation', conversationId: 'x'.repeat(129) }), false);
    assert.equal(ok({ type: 'decide', toolUseId: 'x'.repeat(128), decision: 'deny' }), true);
    assert.equal(ok({ type: 'decide', toolUseId: 'x'.repeat(129), decision: 'deny' }), false);
    assert.equal(ok({ type: 'connect', connection: 'x'.repeat(64), reauthorize: false }), true);
    assert.equal(ok({ type: 'connect', connection: 'x'.repeat(65), reauthorize: false }), false);
    assert.equal(ok({ type: 'copy', text: 'x'.repeat(1_000_000) }), true);
    assert.equal(ok({ type: 'copy', text: 'x'.repeat(1_000_001) }), false);
    const url = 'https://x.test/';
    assert.equal(ok({ type: 'openLink', url: url + 'a'.repeat(2048 - url.length) }), true);
    assert.equal(ok({ type: 'openLink', url: url + 'a'.repeat(2049 - url.length) }), false);
  });

  it('the protocol rejects empty and malformed ids, names, enums and links, and extra fields on every type', () => {
    for (const bad of [
      { type: 'switchConversation', conversationId: '' },
      { type: 'deleteConversation', conversationId: '' },
      { type: 'deleteConversation', conversationId: 'a/b' },
      { type: 'switchConversation' },
      { type: 'decide', toolUseId: '', decision: 'approve' },
      { type: 'decide', toolUseId: 't1', decision: '' },
      { type: 'decide', toolUseId: 't1' },
      { type: 'decide', toolUseId: '<img>', decision: 'approve' },
      { type: 'connect', connection: '', reauthorize: false },
      { type: 'connect', connection: 'pos thog', reauthorize: false },
      { type: 'connect', connection: 'posthog', reauthorize: 'true' },
      { type: 'connect', connection: 'posthog' },
      { type: 'runCommand', command: '' },
      { type: 'runCommand' },
      { type: 'send' },
      { type: 'send', text: 42 },
      { type: 'copy' },
      { type: 'copy', text: 1 },
      { type: 'openLink', url: 'javascript:alert(1)//https://x' },
      { type: 'openLink', url: ' https://x.test' },
      { type: 'openLink', url: 'https:x.test' },
      { type: 'openLink', url: 'file:///etc/passwd' },
      { type: 'openLink', url: 'ftp://x.test' },
      { type: 'openLink' },
      { type: 'stop', x: 1 },
      { type: 'retry', x: 1 },
      { type: 'newConversation', identifier: 'oidc:grace' },
      { type: 'switchConversation', conversationId: 'c1', identifier: 'oidc:grace' },
      { type: 'deleteConversation', conversationId: 'c1', identifier: 'oidc:grace' },
      { type: 'decide', toolUseId: 't1', decision: 'approve', identifier: 'oidc:grace' },
      { type: 'connect', connection: 'posthog', reauthorize: false, identifier: 'oidc:grace' },
      { type: 'runCommand', command: 'signIn', args: ['x'] },
      { type: 'copy', text: 'x', identifier: 'oidc:grace' },
      { type: 'openLink', url: 'https://x.test', identifier: 'oidc:grace' },
    ]) {
      assert.equal(parseWebviewMessage(bad).ok, false, JSON.stringify(bad));
    }
  });

  it('the protocol says what was wrong, and where', () => {
    const tooLong = parseWebviewMessage({ type: 'send', text: 'x'.repeat(32_001) });
    assert.equal(tooLong.ok, false);
    assert.match(!tooLong.ok ? tooLong.reason : '', /32000/);
    assert.match(!tooLong.ok ? tooLong.reason : '', / at text$/);
    const nested = parseWebviewMessage({ type: 'decide', toolUseId: 'a b', decision: 'approve' });
    assert.match(!nested.ok ? nested.reason : '', / at toolUseId$/);
    const top = parseWebviewMessage(null);
    assert.equal(top.ok, false);
    assert.doesNotMatch(!top.ok ? top.reason : 'x at y', / at /, 'no path for a message that is not an object');
    assert.ok(!top.ok && top.reason.length > 0);
    // The reason is zod's own first message, with nothing appended when there is no path.
    assert.equal(!top.ok ? top.reason : '', webviewMessageSchema().safeParse(null).error?.issues[0]?.message);
  });
});
