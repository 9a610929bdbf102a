import * as assert from 'node:assert/strict';
import MarkdownIt from 'markdown-it';
import { auditRecordsToMarkdown, type AuditRecord } from '../../../src/agent/audit';

// The audit log opens in VS Code's Markdown preview, which renders with markdown-it with
// raw HTML and linkify on. Every cell comes from somewhere OnBehalf does not control: the
// tool name from the model, the label from the IdP, error codes and execution ids from
// services. None of them may become an image, a link or HTML in the preview.

const preview = new MarkdownIt({ html: true, linkify: true });
// VS Code 1.100's preview runs markdown-it 12, whose linkify sees escaped characters as
// plain text (fuzzyLink off there): no line, with its escapes undone, may hold a link.
const linkify = new MarkdownIt({ linkify: true }).linkify.set({ fuzzyLink: false });
const unescaped = (line: string) => line.replace(/\\([!-/:-@[-`{-~])/g, '$1');

const hostile = [
  '![x](http://127.0.0.1:9/leak)',
  '<img src="http://127.0.0.1:9/leak">',
  '[click](http://127.0.0.1:9/leak)',
  '<http://127.0.0.1:9/leak>',
  'http://127.0.0.1:9/leak',
  'www.example.com/leak',
  'evil.example.com',
  '![x][r]\n\n[r]: http://127.0.0.1:9/leak',
  '`code` **bold** _em_ ~~strike~~ <script>alert(1)</script>',
  '&lt;img src=x&gt; &#60;img&#62;',
  '| a | b |\\|',
  '\\![x](http://127.0.0.1:9/leak)',
  'Ada Lovelace (ada@example.com) mailto:ada@example.com //evil.example/leak https://evil.example',
];

function record(tool: string, extra: Partial<AuditRecord> = {}): AuditRecord {
  return {
    time: '2026-11-23T16:46:48.774Z',
    identifier: 'oidc:0123456789abcdef:ada',
    connection: 'asana',
    tool,
    risk: 'write',
    decision: 'denied',
    outcome: 'cancelled',
    durationMs: 0,
    inputHmac: 'ab',
    ...extra,
  };
}

describe('audit log Markdown', () => {
  it('shows the approval wait in its own column, apart from the duration', () => {
    const markdown = auditRecordsToMarkdown('Ada', [record('asana_task_create', { durationMs: 40, approvalWaitMs: 6750, executionId: 'exec_1' })], '');
    assert.match(markdown, /\| Duration \| Approval wait \| Execution id \|/);
    assert.match(markdown, /\| 40 ms \| 6750 ms \| exec_1 \|$/m);
    assert.match(auditRecordsToMarkdown('Ada', [record('asana_workspaces_list', { durationMs: 12 })], ''), /\| 12 ms \| {2}\| /);
  });

  it('renders a hostile tool name, label, error code and execution id as text: no image, link or HTML', () => {
    for (const text of hostile) {
      const markdown = auditRecordsToMarkdown(text, [record(text, { errorCode: text, executionId: text, connection: text })], `connection ${text}`);
      const html = preview.render(markdown);
      assert.doesNotMatch(html, /<(img|a|script|iframe|svg|video|audio|source|link|object|embed)\b/i, `${JSON.stringify(text)} rendered as ${html}`);
      for (const line of markdown.split('\n')) assert.equal(linkify.test(unescaped(line)), false, `${JSON.stringify(text)}: linkify finds a link in ${line}`);
      // One table row, ten cells: a name with "|" cannot add or move columns.
      assert.equal((html.match(/<tr>/g) ?? []).length, 2, `${JSON.stringify(text)}: header and one row`);
      const row = /<tbody>\s*<tr>([\s\S]*?)<\/tr>/.exec(html)?.[1] ?? '';
      assert.equal((row.match(/<td/g) ?? []).length, 10, `${JSON.stringify(text)}: ten cells`);
    }
  });

  it('shows the text as it was, readable, and leaves plain names alone', () => {
    const markdown = auditRecordsToMarkdown('Ada Lovelace', [record('asana_workspaces_list', { executionId: 'exec_1a2b', errorCode: 'not_found' })], '');
    assert.match(markdown, /^# OnBehalf audit log: Ada Lovelace$/m);
    assert.match(markdown, /\| asana_workspaces_list \| write \| denied \| cancelled \| not_found \|/);
    assert.match(markdown, /\| exec_1a2b \|$/m);
    const tool = '![x](http://127.0.0.1:9/leak) <b>hi</b>';
    const html = preview.render(auditRecordsToMarkdown('Ada', [record(tool)], ''));
    const row = /<tbody>\s*<tr>([\s\S]*?)<\/tr>/.exec(html)?.[1] ?? '';
    const cells = [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) =>
      m[1]!
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&'),
    );
    // Zero-width spaces (which keep linkify off "://" and "@") are the only difference.
    assert.equal(cells[2]!.replace(/\u200b/g, ''), tool, 'the tool cell reads as the name');
  });

  it('says "No tool calls yet" for an empty log instead of a table with only headers', () => {
    const html = preview.render(auditRecordsToMarkdown('Ada', [], ''));
    assert.match(html, /No tool calls yet\./);
    assert.doesNotMatch(html, /<table/);
    const filtered = preview.render(auditRecordsToMarkdown('Ada', [], 'asana · failure'));
    assert.match(filtered, /No tool calls match asana · failure\./);
    assert.doesNotMatch(filtered, /<table/);
  });
});
