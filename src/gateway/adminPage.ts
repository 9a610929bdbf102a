import type { AdminAuditFilter, AdminAuditRow } from './adminAudit';
import { auditOutcomes } from './adminAudit';

// The admin page's HTML, rendered on the server: a filter form (GET), the table, a link to
// the next page and the export links. No script at all, so the CSP forbids every script;
// the one stylesheet comes from the gateway itself.

export const adminCsp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const adminCss = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1f2328; }
header { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: 1rem 0; }
form.filters label { display: flex; flex-direction: column; font-size: .85em; color: #57606a; }
table { border-collapse: collapse; width: 100%; font-size: .9em; }
th, td { border-bottom: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.error { color: #a40e26; }
nav { margin: 1rem 0; display: flex; gap: 1rem; }
.refused { color: #a40e26; }
`;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function shell(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/admin/admin.css">
${head}
</head>
<body>
${body}
</body>
</html>`;
}

/** A page that only says something (refused, signed out, an error), with a way on. */
export function messagePage(title: string, message: string, link?: { href: string; text: string }): string {
  return shell(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p id="message" class="refused">${escapeHtml(message)}</p>
${link ? `<p><a id="next" href="${escapeHtml(link.href)}">${escapeHtml(link.text)}</a></p>` : ''}`,
  );
}

/** After sign-in: a same-site navigation to /admin, so the SameSite=Strict cookie goes along. */
export function continuePage(): string {
  return shell('Signed in', `<p>Signed in. <a id="next" href="/admin">Open the audit</a>.</p>`, '<meta http-equiv="refresh" content="0;url=/admin">');
}

/** Filter values as the form's query string (for the paging and export links). */
export function filterQuery(filter: AdminAuditFilter, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  if (filter.user !== undefined) params.set('user', filter.user);
  if (filter.connection !== undefined) params.set('connection', filter.connection);
  if (filter.tool !== undefined) params.set('tool', filter.tool);
  if (filter.outcome !== undefined) params.set('outcome', filter.outcome);
  if (filter.decision !== undefined) params.set('decision', filter.decision);
  if (filter.from !== undefined) params.set('from', filter.from.toISOString());
  if (filter.to !== undefined) params.set('to', filter.to.toISOString());
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

function input(name: string, label: string, value: string | undefined, type = 'text'): string {
  return `<label>${escapeHtml(label)}<input type="${type}" name="${name}" id="filter-${name}" value="${escapeHtml(value ?? '')}"></label>`;
}

export function auditPageHtml(admin: { identifier: string; label: string }, filter: AdminAuditFilter, rows: readonly AdminAuditRow[], next?: string): string {
  const outcomeOptions = ['', ...auditOutcomes]
    .map((o) => `<option value="${o}"${filter.outcome === o ? ' selected' : ''}>${o === '' ? 'any' : o}</option>`)
    .join('');
  const cells = (row: AdminAuditRow) =>
    [row.at, row.identifier, row.connection, row.tool, row.risk, row.decision, row.decisionSource, row.outcome, String(row.durationMs), row.instance]
      .map((v) => `<td>${escapeHtml(v)}</td>`)
      .join('') + `<td class="error">${escapeHtml(row.error ?? '')}</td>`;
  const body = rows.map((row) => `<tr data-id="${escapeHtml(row.id)}">${cells(row)}</tr>`).join('\n');
  return shell(
    'OnBehalf gateway audit',
    `<header><h1>Audit</h1><form method="post" action="/admin/logout"><span id="who">${escapeHtml(admin.label)} (${escapeHtml(admin.identifier)})</span> <button id="logout">Sign out</button></form></header>
<form class="filters" method="get" action="/admin">
${input('user', 'User identifier', filter.user)}
${input('connection', 'Connection', filter.connection)}
${input('tool', 'Tool', filter.tool)}
<label>Outcome<select name="outcome" id="filter-outcome">${outcomeOptions}</select></label>
${input('decision', 'Decision', filter.decision)}
${input('from', 'From (ISO time, inclusive)', filter.from?.toISOString())}
${input('to', 'To (ISO time, exclusive)', filter.to?.toISOString())}
<button id="apply">Filter</button>
</form>
<nav><a id="export-csv" href="/admin/export.csv${escapeHtml(filterQuery(filter))}">Export CSV</a> <a id="export-jsonl" href="/admin/export.jsonl${escapeHtml(filterQuery(filter))}">Export JSONL</a></nav>
<table id="audit">
<thead><tr><th>At</th><th>User</th><th>Connection</th><th>Tool</th><th>Risk</th><th>Decision</th><th>Source</th><th>Outcome</th><th>ms</th><th>Instance</th><th>Error</th></tr></thead>
<tbody>
${body}
</tbody>
</table>
<p id="count">${rows.length} row${rows.length === 1 ? '' : 's'} on this page${next ? '' : ' (the last page)'}.</p>
<nav>${next ? `<a id="older" href="/admin${escapeHtml(filterQuery(filter, { before: next }))}">Older rows</a>` : ''} <a id="newest" href="/admin${escapeHtml(filterQuery(filter))}">Newest</a></nav>`,
  );
}
