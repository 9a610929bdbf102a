import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chatWebviewHtml, contentSecurityPolicy } from '../../../src/core/webviewHtml';
import { parseWebviewMessage } from '../../../src/shared/protocol';

const root = join(__dirname, '..', '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : full.endsWith('.ts') ? [full] : [];
  });
}

describe('boundaries', () => {
  it('the pure core (core, agent, scalekit, enterprise, shared, webview) never imports vscode', () => {
    const offenders = ['core', 'agent', 'scalekit', 'enterprise', 'shared', 'webview']
      .flatMap((folder) => sources(join(root, 'src', folder)))
      .filter((file) => /from ['"]vscode['"]|require\(['"]vscode['"]\)/.test(readFileSync(file, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('only the identity code makes an Identifier: no cast to it, no use of its brand, anywhere else in src', () => {
    const maker = join(root, 'src', 'core', 'identifier.ts');
    const offenders = sources(join(root, 'src'))
      .filter((file) => file !== maker)
      .filter((file) => /\bas\s+(?:unknown\s+as\s+)?Identifier\b|(?<![\w$.])<Identifier>|OnBehalfIdentifier|__brand/.test(readFileSync(file, 'utf8')));
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

  it('extension.ts only composes: no function bodies beyond activate/deactivate', () => {
    const text = readFileSync(join(root, 'src', 'extension.ts'), 'utf8');
    assert.equal((text.match(/^export function /gm) ?? []).length, 2);
    assert.ok(!/\bclass\b/.test(text));
  });

  it('the webview CSP starts from default-src none, with a nonce script and no inline or eval', () => {
    const html = chatWebviewHtml({ cspSource: 'https://webview.test', scriptUri: 'https://webview.test/chat.js', styleUri: 'https://webview.test/chat.css', codiconsUri: 'https://webview.test/codicon.css', sandboxModel: false });
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
      null, 'send', 42, [], {}, { type: 'nope' },
      { type: 'send', text: 'hi', identifier: 'oidc:grace' },
      { type: 'send', text: 'hi', user: { id: 'grace' } },
      { type: 'ready', identifier: 'github:1' },
      { type: 'send', text: '' }, { type: 'send', text: '   ' }, { type: 'send', text: 'x'.repeat(32_001) },
      { type: 'decide', toolUseId: 'a b', decision: 'approve' }, { type: 'decide', toolUseId: 't', decision: 'yes' },
      { type: 'connect', connection: '../etc', reauthorize: false }, { type: 'openLink', url: 'javascript:alert(1)' },
      { type: 'runCommand', command: 'workbench.action.terminal.new' },
      { type: 'switchConversation', conversationId: 'x'.repeat(200) },
    ]) {
      assert.equal(parseWebviewMessage(bad).ok, false, JSON.stringify(bad)?.slice(0, 80));
    }
  });
});
