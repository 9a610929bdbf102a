import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { authProviderIds } from '../core/identifier';
import { OidcError } from '../core/errors';
import { OidcClient, type OidcAuthRequest } from '../core/oidc';
import { messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import { DisposableOwner } from './lifecycle';
import { externalHandlerUrl, queryParams, type ExternalOpener } from './externalUris';
import { settings } from './settings';

// An AuthenticationProvider for any OIDC issuer: authorization code + PKCE through the
// system browser, the redirect arriving through the extension's URI handler.

interface StoredSession {
  readonly id: string;
  readonly accessToken: string;
  readonly idToken: string;
  readonly account: { readonly id: string; readonly label: string };
  readonly scopes: readonly string[];
  readonly issuer: string;
  /** Present when the issuer granted offline_access; renews the ID token without a browser. */
  readonly refreshToken?: string;
  /** The ID token's `exp`, in ms. */
  readonly idTokenExpiresAt?: number;
  /** The sign-in's nonce: a refreshed ID token may only carry this one. */
  readonly nonce?: string;
}

interface PendingSignIn {
  readonly request: OidcAuthRequest;
  readonly resolve: (code: string) => void;
  readonly reject: (error: Error) => void;
}

const sessionsKey = 'onbehalf.oidc.sessions';
const signInTimeoutMs = 5 * 60 * 1000;
/** Renew an ID token this long before it expires, so an exchange never starts with a dying one. */
const refreshMarginMs = 60 * 1000;

export class OidcAuthProvider extends DisposableOwner implements vscode.AuthenticationProvider {
  private readonly sessionsChanged = this.register(new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>());
  readonly onDidChangeSessions = this.sessionsChanged.event;
  private readonly pending = new Map<string, PendingSignIn>();
  private refreshing: Promise<string> | undefined;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly extensionId: string,
    private readonly openExternal: () => ExternalOpener,
    private readonly log: Logger,
  ) {
    super();
    this.register(vscode.authentication.registerAuthenticationProvider(authProviderIds.oidc, 'OnBehalf OIDC', this, { supportsMultipleAccounts: false }));
    this.register(
      secrets.onDidChange((event) => {
        // Another window signed in or out: tell VS Code so every view follows.
        if (event.key === sessionsKey) this.sessionsChanged.fire({ added: [], removed: [], changed: [] });
      }),
    );
  }

  async getSessions(scopes?: readonly string[]): Promise<vscode.AuthenticationSession[]> {
    return (await this.sessionsWithIssuer(scopes)).map((s) => s.session);
  }

  /**
   * The sessions for the configured issuer, each with the issuer it was signed in at (the
   * one the ID token's `iss` was verified against): an OIDC identity is namespaced by it.
   */
  async sessionsWithIssuer(scopes?: readonly string[]): Promise<{ session: vscode.AuthenticationSession; issuer: string }[]> {
    const issuer = settings.oidcIssuer();
    const stored = await this.readSessions();
    return stored
      .filter((s) => s.issuer === issuer && (!scopes || scopes.every((scope) => s.scopes.includes(scope))))
      .map((s) => ({ session: toSession(s), issuer: s.issuer }));
  }

  /** The issuer a stored session was signed in at; undefined once it is gone. */
  async issuerOf(sessionId: string): Promise<string | undefined> {
    return (await this.readSessions()).find((s) => s.id === sessionId)?.issuer;
  }

  async createSession(scopes: readonly string[]): Promise<vscode.AuthenticationSession> {
    const client = new OidcClient(settings.oidcIssuer(), settings.oidcClientId());
    const redirect = await externalHandlerUrl(this.extensionId, '/oidc-callback');
    const request = await client.createAuthRequest(redirect, await client.signInScopes(scopes));
    const code = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Signing in to OnBehalf in your browser…', cancellable: true },
      (_progress, token) => this.waitForCode(request, token),
    );
    const tokens = await client.exchangeCode(request, code);
    const session: StoredSession = {
      id: randomUUID(),
      accessToken: tokens.accessToken || tokens.idToken,
      idToken: tokens.idToken,
      account: { id: tokens.claims.sub, label: labelFor(tokens.claims) },
      scopes: [...scopes],
      issuer: client.issuer,
      ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
      ...(typeof tokens.claims.exp === 'number' ? { idTokenExpiresAt: tokens.claims.exp * 1000 } : {}),
      nonce: request.nonce,
    };
    // One account at a time: a new sign-in replaces any earlier session for this issuer.
    const previous = (await this.readSessions()).filter((s) => s.issuer === client.issuer);
    await this.writeSessions([...(await this.readSessions()).filter((s) => s.issuer !== client.issuer), session]);
    this.log.info(`Signed in through OIDC as subject ${tokens.claims.sub}.`);
    this.sessionsChanged.fire({ added: [toSession(session)], removed: previous.map(toSession), changed: [] });
    return toSession(session);
  }

  async removeSession(sessionId: string): Promise<void> {
    const stored = await this.readSessions();
    const removed = stored.filter((s) => s.id === sessionId);
    if (removed.length === 0) return;
    await this.writeSessions(stored.filter((s) => s.id !== sessionId));
    this.log.info('Signed out of OIDC.');
    this.sessionsChanged.fire({ added: [], removed: removed.map(toSession), changed: [] });
  }

  async removeAllSessions(): Promise<void> {
    for (const session of await this.readSessions()) await this.removeSession(session.id);
  }

  /** The token_endpoint the configured issuer publishes, or undefined when it cannot be read. */
  async issuerTokenEndpoint(): Promise<string | undefined> {
    const issuer = settings.oidcIssuer();
    if (!issuer) return undefined;
    try {
      return (await new OidcClient(issuer, settings.oidcClientId() || 'onbehalf').discover()).token_endpoint;
    } catch (error) {
      this.log.warn(`Could not read the OIDC issuer's discovery document: ${(error as Error).message}`);
      return undefined;
    }
  }

  /**
   * The raw ID token of the current session, for flows that exchange it (never shown).
   * One about to expire is renewed first through the refresh token, when there is one.
   */
  async currentIdToken(): Promise<string | undefined> {
    const issuer = settings.oidcIssuer();
    const session = (await this.readSessions()).find((s) => s.issuer === issuer);
    if (!session) return undefined;
    const fresh = session.idTokenExpiresAt === undefined || session.idTokenExpiresAt - Date.now() > refreshMarginMs;
    if (fresh || !session.refreshToken) return session.idToken;
    this.refreshing ??= this.refreshSession(session).finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async refreshSession(session: StoredSession): Promise<string> {
    try {
      const client = new OidcClient(session.issuer, settings.oidcClientId());
      const tokens = await client.refresh(session.refreshToken ?? '', { sub: session.account.id, ...(session.nonce ? { nonce: session.nonce } : {}) });
      const renewed: StoredSession = {
        ...session,
        idToken: tokens.idToken,
        accessToken: tokens.accessToken || tokens.idToken,
        ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
        ...(typeof tokens.claims.exp === 'number' ? { idTokenExpiresAt: tokens.claims.exp * 1000 } : {}),
      };
      // Only this session's tokens change; a sign-out meanwhile is not undone.
      const stored = await this.readSessions();
      if (stored.some((s) => s.id === session.id)) await this.writeSessions(stored.map((s) => (s.id === session.id ? renewed : s)));
      this.log.info('Renewed the OIDC ID token through the refresh token.');
      return renewed.idToken;
    } catch (error) {
      // The old (expiring) token goes on; the flow that uses it reports "sign in again".
      this.log.warn(`Could not renew the OIDC ID token: ${messageOf(error)}`);
      return session.idToken;
    }
  }

  /** Called by the URI router for /oidc-callback. */
  handleCallback(uri: vscode.Uri): void {
    const params = queryParams(uri);
    if (['state', 'code', 'error'].some((key) => params.getAll(key).length > 1)) {
      this.log.warn('Ignored an OIDC callback with repeated parameters.');
      return;
    }
    const state = params.get('state') ?? '';
    const pending = this.pending.get(state);
    if (!pending) {
      this.log.warn('Ignored an OIDC callback whose state matches no sign-in in progress.');
      void vscode.window.showWarningMessage('OnBehalf ignored a sign-in response that this window did not ask for. Start the sign-in again if you meant to.');
      return;
    }
    this.pending.delete(state);
    const error = params.get('error');
    if (error) {
      pending.reject(
        new OidcError(error === 'access_denied' ? 'Sign-in was cancelled at the identity provider.' : `The identity provider returned "${error}".`),
      );
      return;
    }
    const code = params.get('code');
    if (!code) {
      pending.reject(new OidcError('The identity provider returned no authorization code.'));
      return;
    }
    pending.resolve(code);
  }

  private waitForCode(request: OidcAuthRequest, token: vscode.CancellationToken): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        cancel.dispose();
        this.pending.delete(request.state);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new OidcError('Sign-in timed out after 5 minutes.'));
      }, signInTimeoutMs);
      const cancel = token.onCancellationRequested(() => {
        finish();
        reject(new vscode.CancellationError());
      });
      this.pending.set(request.state, {
        request,
        resolve: (code) => {
          finish();
          resolve(code);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      });
      void this.openExternal()(request.url).then(
        (opened) => {
          if (!opened) {
            finish();
            reject(new OidcError('The browser could not be opened for sign-in.'));
          }
        },
        (error: unknown) => {
          finish();
          reject(new OidcError(`The browser could not be opened for sign-in: ${messageOf(error)}`));
        },
      );
    });
  }

  private async readSessions(): Promise<StoredSession[]> {
    const raw = await this.secrets.get(sessionsKey);
    if (!raw) return [];
    try {
      const parsed = JSON.parse(raw) as unknown;
      return Array.isArray(parsed)
        ? (parsed as StoredSession[]).filter((s) => s && typeof s.id === 'string' && s.account && typeof s.account.id === 'string')
        : [];
    } catch {
      this.log.warn('Stored OIDC sessions were unreadable and have been reset.');
      return [];
    }
  }

  private async writeSessions(sessions: StoredSession[]): Promise<void> {
    if (sessions.length === 0) await this.secrets.delete(sessionsKey);
    else await this.secrets.store(sessionsKey, JSON.stringify(sessions));
  }
}

function toSession(stored: StoredSession): vscode.AuthenticationSession {
  return { id: stored.id, accessToken: stored.accessToken, account: stored.account, scopes: stored.scopes };
}

function labelFor(claims: { sub: string; name?: string; email?: string }): string {
  if (claims.name && claims.email) return `${claims.name} (${claims.email})`;
  return claims.name ?? claims.email ?? claims.sub;
}
