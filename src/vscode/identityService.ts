import * as vscode from 'vscode';
import { authProviderIds, identityFromSession, type Identifier, type Identity, type IdentityProviderKind } from '../core/identifier';
import { NotSignedInError } from '../core/errors';
import type { Logger } from '../core/logger';
import { DisposableOwner } from './lifecycle';
import type { OidcAuthProvider } from './oidcAuthProvider';
import { settings } from './settings';

// Derives the identity from the current VS Code authentication session each time it is
// asked. Reading a session is a round trip to the workbench (about 5 ms, 33 ms at p95) and a
// tool call asks twice, so the answer is kept until a session event says it may have changed.
//
// Why a kept answer is never older than a fresh read would be (VS Code 1.100's RPC between the
// extension host and the workbench, which carries requests, replies and events over one
// ordered channel):
// - The workbench sends the change event in the same synchronous step in which the new value
//   becomes readable there: SecretStorageService.set (the OIDC sessions are a secret) stores
//   and fires onDidChangeSecret → $onDidChangePassword synchronously; a GitHub or Microsoft
//   session change, and a change of which account this extension uses, are forwarded as
//   $onDidChangeAuthenticationSessions from the workbench's own change event. So a reply
//   carrying the new session is always sent after the event, and arrives after it.
// - The extension host handles the event synchronously: the listeners below drop the kept
//   answer (and bump `generation`) before any later message, so before any reply carrying
//   the new value, is handled. A read that was in flight when an event arrived is not kept,
//   and is read again (its value may predate the event).
// - The configuration the identity depends on (provider, issuer) is part of the key. Reading
//   it costs more than the rest of a call, so it is kept too, until onDidChangeConfiguration:
//   the extension host replaces its copy of the configuration and fires that event in one
//   synchronous step ($acceptConfigurationChanged), and this service subscribes before any
//   other service exists, so no one reads between the change and the drop.
// Hence at every moment the kept answer equals what a read finishing at that moment would
// return. For GitHub and Microsoft this relies on the provider firing its session event no
// later than it serves the new session, which VS Code's built-in providers do.

const scopesByProvider: Record<IdentityProviderKind, string[]> = {
  github: ['read:user'],
  microsoft: ['openid', 'profile', 'email'],
  oidc: ['openid', 'profile', 'email'],
};

export class IdentityService extends DisposableOwner {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  /** Fires on sign-in, sign-out, account switch, or a change of the provider setting. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly oidcProvider: OidcAuthProvider,
    private readonly log: Logger,
  ) {
    super();
    // Subscribed before anything else in this service, and before any other service exists,
    // so the kept answer is gone before any other listener of the same event can ask.
    this.register(
      vscode.authentication.onDidChangeSessions((event) => {
        this.forgetKept();
        if (event.provider.id === authProviderIds[settings.identityProvider()]) this.sessionsChanged();
      }),
    );
    this.register(oidcProvider.onDidChangeSessions(() => this.forgetKept()));
    this.register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (!settings.affects(event, 'identity.provider') && !settings.affects(event, 'oidc.issuer')) return;
        // The event also fires for a workspace's value, which OnBehalf ignores: act only when
        // the user's own setting changed, so a cloned repository cannot reload the chat.
        this.settingsRead = undefined;
        this.forgetKept();
        const now = identitySettings();
        if (now === this.shownSettings) return;
        this.shownSettings = now;
        this.shownKey = undefined;
        this.changed.fire();
      }),
    );
    // What the views show at activation: a first session event for the same person changes nothing.
    this.checking = this.current().then((identity) => {
      this.shownKey ??= identityKey(identity);
    });
  }

  private shownKey: string | undefined;
  /** The user's identity settings the views were last told about. */
  private shownSettings = identitySettings();
  private checking: Promise<void> = Promise.resolve();
  /** The last answer read, for the identity settings it was read under; see the top of the file. */
  private kept: { readonly settings: string; readonly identity: Identity | undefined } | undefined;
  /** Bumped by every event that may change the answer; a read overtaken by one is not kept. */
  private generation = 0;

  /** identitySettings() as last read; dropped by the configuration event. */
  private settingsRead: string | undefined;

  private currentSettings(): string {
    return (this.settingsRead ??= identitySettings());
  }

  private forgetKept(): void {
    this.kept = undefined;
    this.generation++;
  }

  /**
   * A session event that leaves the same person signed in (a token renewed, the session
   * re-created for the same account) changes nothing anyone sees, so it is not passed on:
   * views would otherwise reload in the middle of a conversation.
   */
  private sessionsChanged(): void {
    this.checking = this.checking.then(async () => this.announce(identityKey(await this.current())));
  }

  /** Announces `key` as what is shown now, unless it already is. */
  private show(key: string): Promise<void> {
    this.checking = this.checking.then(() => this.announce(key));
    return this.checking;
  }

  private announce(key: string): void {
    if (this.shownKey !== undefined && key === this.shownKey) return;
    this.shownKey = key;
    this.changed.fire();
  }

  get providerKind(): IdentityProviderKind {
    return settings.identityProvider();
  }

  /** The identity of the current session, silently; undefined when signed out. */
  async current(): Promise<Identity | undefined> {
    const under = this.currentSettings();
    const kept = this.kept;
    if (kept && kept.settings === under) return kept.identity;
    for (let attempt = 1; ; attempt++) {
      const generation = this.generation;
      const read = await this.readSession();
      if (generation === this.generation && this.currentSettings() === under) {
        // A failed read is not kept: the next call reads again.
        if (read.ok) this.kept = { settings: under, identity: read.identity };
        return read.identity;
      }
      // An event arrived while the read was in flight; in a storm of them, answer as an
      // uncached read would (the value read), without keeping it.
      if (attempt >= 3) return read.identity;
    }
  }

  private async readSession(): Promise<{ ok: boolean; identity: Identity | undefined }> {
    const kind = settings.identityProvider();
    let session: vscode.AuthenticationSession | undefined;
    let issuer: string | undefined;
    try {
      // The OIDC provider is this extension's own; its sessions are read from it directly,
      // since VS Code would otherwise ask the user to let OnBehalf use OnBehalf's account.
      if (kind === 'oidc') {
        // The identity is namespaced by the issuer the session was signed in at.
        ({ session, issuer } = (await this.oidcProvider.sessionsWithIssuer(scopesByProvider.oidc))[0] ?? {});
      } else {
        session = await vscode.authentication.getSession(authProviderIds[kind], scopesByProvider[kind], { silent: true });
      }
    } catch (error) {
      this.log.warn(`Could not read the ${kind} session: ${(error as Error).message}`);
      return { ok: false, identity: undefined };
    }
    return { ok: true, identity: session ? identityFromSession(kind, session, issuer) : undefined };
  }

  /**
   * The current session's bearer token for the team gateway, with the identity derived from
   * the same session, read now (never kept): the OIDC session's ID token, or the GitHub
   * session's OAuth access token. Throws when nobody is signed in.
   */
  async currentCredential(): Promise<{ identity: Identity; token: string }> {
    const kind = settings.identityProvider();
    if (kind === 'oidc') {
      const identity = await this.current();
      const token = identity ? await this.oidcProvider.currentIdToken() : undefined;
      if (!identity || !token) throw new NotSignedInError();
      return { identity, token };
    }
    let session: vscode.AuthenticationSession | undefined;
    try {
      session = await vscode.authentication.getSession(authProviderIds[kind], scopesByProvider[kind], { silent: true });
    } catch (error) {
      this.log.warn(`Could not read the ${kind} session: ${(error as Error).message}`);
    }
    if (!session) throw new NotSignedInError();
    return { identity: identityFromSession(kind, session), token: session.accessToken };
  }

  /** The identifier for a call about to happen; throws when nobody is signed in. */
  async requireIdentifier(): Promise<Identifier> {
    const identity = await this.current();
    if (!identity) throw new NotSignedInError();
    return identity.identifier;
  }

  /** A user action: may show the provider's sign-in UI. */
  async signIn(): Promise<Identity | undefined> {
    const kind = settings.identityProvider();
    if (kind === 'oidc' && (!settings.oidcIssuer() || !settings.oidcClientId())) {
      const open = 'Open Settings';
      const choice = await vscode.window.showErrorMessage('OIDC sign-in needs "onbehalf.oidc.issuer" and "onbehalf.oidc.clientId".', open);
      if (choice === open) await vscode.commands.executeCommand('workbench.action.openSettings', 'onbehalf.oidc');
      return undefined;
    }
    // OnBehalf's own OIDC provider signs in directly: asking VS Code to create the session
    // would show "OnBehalf wants to sign in using OnBehalf OIDC", a consent with no meaning.
    const session =
      kind === 'oidc'
        ? await this.oidcProvider.createSession(scopesByProvider.oidc)
        : await vscode.authentication.getSession(authProviderIds[kind], scopesByProvider[kind], { createIfNone: true });
    const issuer = kind === 'oidc' ? await this.oidcProvider.issuerOf(session.id) : undefined;
    if (kind === 'oidc' && !issuer) throw new NotSignedInError();
    const identity = identityFromSession(kind, session, issuer);
    this.log.info(`Signed in as ${identity.identifier}.`);
    // The provider's session event for this sign-in comes before or after this point; both
    // go through show(), so whichever is second finds this identity already shown and the
    // change is announced once.
    await this.show(identityKey(identity));
    return identity;
  }

  async signOut(): Promise<void> {
    const kind = settings.identityProvider();
    if (kind === 'oidc') {
      await this.oidcProvider.removeAllSessions();
      return;
    }
    // VS Code offers no API to sign out of GitHub or Microsoft; its Accounts menu does.
    await vscode.window.showInformationMessage(
      `To sign out of ${kind === 'github' ? 'GitHub' : 'Microsoft'}, use the Accounts menu at the bottom of the activity bar. OnBehalf follows at once.`,
    );
  }
}

function identitySettings(): string {
  return `${settings.identityProvider()}\u0000${settings.oidcIssuer()}`;
}

function identityKey(identity: Identity | undefined): string {
  return identity ? `${identity.identifier}\n${identity.label}` : '';
}
