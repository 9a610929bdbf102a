import { randomBytes } from 'node:crypto';

// The chat webview's HTML. The CSP starts from default-src 'none'; the only script is
// the bundled one, allowed by a fresh nonce per render. No inline script or style.

export interface WebviewHtmlInput {
  readonly cspSource: string;
  readonly scriptUri: string;
  readonly styleUri: string;
  readonly codiconsUri: string;
  readonly sandboxModel: boolean;
  readonly nonce?: string;
}

export function newNonce(): string {
  return randomBytes(24).toString('base64url');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function chatWebviewHtml(input: WebviewHtmlInput): string {
  const nonce = input.nonce ?? newNonce();
  const attr = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(input.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${attr(input.codiconsUri)}" rel="stylesheet">
<link href="${attr(input.styleUri)}" rel="stylesheet">
<title>OnBehalf Chat</title>
</head>
<body>
<div id="app" data-sandbox-model="${input.sandboxModel ? 'true' : 'false'}"></div>
<script nonce="${nonce}" src="${attr(input.scriptUri)}"></script>
</body>
</html>`;
}
