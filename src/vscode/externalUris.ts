import * as vscode from 'vscode';

// The extension's own URI handler, made reachable from a browser. In desktop VS Code
// this stays vscode://onbehalf.onbehalf/...; in code-server it becomes an http callback.

/** Opens a URL in the user's browser. Takes the exact URL string, see below. */
export type ExternalOpener = (url: string) => Promise<boolean>;

// A vscode.Uri decodes its query, so a URL whose parameters carry an encoded URL (an OIDC
// redirect_uri in code-server is .../callback?vscode-reqid=1&vscode-scheme=...) cannot
// survive Uri.parse. The extension host's openExternal also accepts the string and then
// opens exactly that string, which is what this relies on.
export const defaultExternalOpener: ExternalOpener = async (url) => vscode.env.openExternal(url as unknown as vscode.Uri);

/** The browser-facing URL of one of the extension's handler paths. */
export async function externalHandlerUrl(extensionId: string, path: '/verify' | '/oidc-callback'): Promise<string> {
  const internal = vscode.Uri.parse(`${vscode.env.uriScheme}://${extensionId}${path}`);
  // toString(true): the encoded form would escape the callback's own query separators.
  return (await vscode.env.asExternalUri(internal)).toString(true);
}

export function queryParams(uri: vscode.Uri): URLSearchParams {
  return new URLSearchParams(uri.query);
}
