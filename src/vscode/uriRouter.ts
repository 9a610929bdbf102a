import * as vscode from 'vscode';
import type { Logger } from '../core/logger';
import { reportError } from './commands';
import { connectionLabel } from '../shared/labels';
import type { ConnectionsService } from './connectionsService';
import type { OidcAuthProvider } from './oidcAuthProvider';

// The extension's URI handler. Query parameters are only ever used as the callback
// data they claim to be (code, state, auth_request_id), never as an identity.

export class UriRouter implements vscode.UriHandler {
  constructor(
    private readonly oidc: OidcAuthProvider,
    private readonly connections: ConnectionsService,
    private readonly log: Logger,
  ) {}

  async handleUri(uri: vscode.Uri): Promise<void> {
    const outcome = await this.route(uri);
    if (!outcome.ok) void reportError(outcome.error, this.log);
  }

  /** Handles a callback and says how it went, without showing UI for failures. */
  async route(uri: vscode.Uri): Promise<{ ok: true } | { ok: false; error: unknown }> {
    switch (uri.path) {
      case '/oidc-callback':
        this.oidc.handleCallback(uri);
        return { ok: true };
      case '/verify':
        try {
          const connection = await this.connections.handleVerifyCallback(uri);
          void vscode.window.showInformationMessage(`${connectionLabel(connection)} is connected. OnBehalf can now work there as you.`);
          return { ok: true };
        } catch (error) {
          return { ok: false, error };
        }
      default:
        this.log.warn(`Ignored a URI for an unknown path (${uri.path.slice(0, 64)}).`);
        return { ok: false, error: new Error('Unknown OnBehalf link.') };
    }
  }
}
