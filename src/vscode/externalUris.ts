import * as vscode from 'vscode';

// The extension's own URI handler, made reachable from a browser. In desktop VS Code
// this stays vscode://onbehalf.onbehalf/...; in code-server it becomes an http callback.

export type ExternalOpener = (uri: vscode.Uri) => Promise<boolean>;

export const defaultExternalOpener: ExternalOpener = async (uri) => vscode.env.openExternal(uri);

export async function externalHandlerUri(extensionId: string, path: '/verify' | '/oidc-callback'): Promise<vscode.Uri> {
  const internal = vscode.Uri.parse(`${vscode.env.uriScheme}://${extensionId}${path}`);
  return vscode.env.asExternalUri(internal);
}

export function queryParams(uri: vscode.Uri): URLSearchParams {
  return new URLSearchParams(uri.query);
}
