import * as vscode from 'vscode';
import { checkAnthropicKey } from '../agent/anthropicKeyCheck';
import { InvalidCredentialsError, ServiceUnavailableError, UnknownConnectionError, messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import { ScalekitAccounts } from '../scalekit/scalekitAccounts';
import { connectionLabel } from '../shared/labels';
import type { ConnectionsService } from './connectionsService';
import type { IdentityService } from './identityService';
import { secretNames, type SecretName, type SecretStore } from './secretStore';
import { settings } from './settings';
import type { StatusBar } from './statusBar';
import type { ApprovalStore } from './approvalStore';
import type { AuditView } from './auditView';
import type { ChatController } from './chat/chatController';
import type { ChatViewProvider } from './chat/chatView';
import { commands, type CommandId } from './constants';

// Command handlers. Every failure becomes a message that says what happened and what to do.

export interface CommandDeps {
  readonly identity: IdentityService;
  readonly connections: ConnectionsService;
  readonly secrets: SecretStore;
  readonly statusBar: StatusBar;
  readonly chat: ChatController;
  readonly chatView: ChatViewProvider;
  readonly auditView: AuditView;
  readonly approvals: ApprovalStore;
  /** Checks an enterprise IdP client secret with a real token exchange. */
  readonly enterpriseSecretCheck: (secret: string) => Promise<void>;
  readonly refreshEnterprise: () => Promise<void>;
  readonly log: Logger;
  readonly logChannel: vscode.LogOutputChannel;
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { identity, connections, secrets, statusBar, log } = deps;
  const run = (id: CommandId, handler: (...args: unknown[]) => Promise<unknown>) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(...args);
      } catch (error) {
        if (error instanceof vscode.CancellationError) return undefined;
        await reportError(error, log);
        return undefined;
      }
    });

  return [
    run(commands.signIn, () => identity.signIn()),
    run(commands.signOut, () => identity.signOut()),
    run(commands.setAnthropicKey, () => promptForSecret('anthropicApiKey', secrets, log)),
    run(commands.setScalekitSecret, async () => {
      // Team mode: the organisation's gateway holds the Scalekit secret; this window never asks for, stores or accepts it.
      if (settings.gatewayUrl()) {
        log.warn('Refused "Set Scalekit Client Secret": team mode is on ("onbehalf.gateway.url" is set).');
        void vscode.window.showErrorMessage(teamModeSecretRefusal);
        return false;
      }
      await promptForSecret('scalekitClientSecret', secrets, log);
      return true;
    }),
    run(commands.setEnterpriseClientSecret, () => promptForSecret('enterpriseClientSecret', secrets, log, deps.enterpriseSecretCheck)),
    run(commands.clearSecrets, async () => {
      const clear = 'Clear Keys';
      const choice = await vscode.window.showWarningMessage(
        'Remove the Anthropic API key, the Scalekit client secret and any enterprise IdP client secret from this machine?',
        { modal: true, detail: 'Your connected accounts stay connected; the agent cannot run until keys are set again.' },
        clear,
      );
      if (choice !== clear) return;
      for (const name of secretNames) await secrets.clear(name);
      log.info('Cleared all stored keys.');
      void vscode.window.showInformationMessage('OnBehalf keys cleared.');
      await connections.refresh();
    }),
    run(commands.connect, async (arg) => {
      const name = await pickConnection(arg, connections, 'Connect which account?');
      if (name) await connections.connect(name);
    }),
    run(commands.reauthorize, async (arg) => {
      const name = await pickConnection(arg, connections, 'Re-authorize which account?');
      if (name) await connections.reauthorize(name);
    }),
    run(commands.disconnect, async (arg) => {
      const name = await pickConnection(arg, connections, 'Disconnect which account?');
      if (!name) return;
      const disconnect = 'Disconnect';
      const choice = await vscode.window.showWarningMessage(
        `Disconnect your ${connectionLabel(name)} account?`,
        { modal: true, detail: 'The agent will no longer reach it until you connect again.' },
        disconnect,
      );
      if (choice === disconnect) await connections.disconnect(name);
    }),
    run(commands.refresh, () => Promise.all([connections.refresh(), deps.refreshEnterprise()])),
    run(commands.getStarted, async () => {
      const step = statusBar.nextStep();
      switch (step.kind) {
        case 'signIn':
          return vscode.commands.executeCommand(commands.signIn);
        case 'setAnthropicKey':
          return vscode.commands.executeCommand(commands.setAnthropicKey);
        case 'setScalekitSecret':
          return vscode.commands.executeCommand(commands.setScalekitSecret);
        case 'configureScalekit':
          return vscode.commands.executeCommand('workbench.action.openSettings', 'onbehalf.scalekit');
        case 'connect':
          return connections.connect(step.connection);
        case 'none':
          return vscode.commands.executeCommand('workbench.view.extension.onbehalf');
      }
    }),
    run(commands.newChat, async () => {
      await deps.chatView.reveal();
      await deps.chat.handleMessage({ type: 'newConversation' });
    }),
    run(commands.showAuditLog, () => deps.auditView.show()),
    run(commands.exportAuditLog, () => deps.auditView.export()),
    run(commands.checkAuditInput, () => deps.auditView.checkInput()),
    run(commands.resetApprovals, async () => {
      const identifier = await identity.requireIdentifier();
      const count = await deps.approvals.reset(identifier);
      log.info(`Reset ${count} "always allow" choices.`);
      void vscode.window.showInformationMessage(
        count > 0
          ? `Reset ${count} "Always allow" choice${count === 1 ? '' : 's'}. Write tools will ask again.`
          : 'There were no "Always allow" choices to reset.',
      );
    }),
    vscode.commands.registerCommand(commands.showLog, () => deps.logChannel.show()),
  ];
}

/** What "Set Scalekit Client Secret" answers in team mode. */
export const teamModeSecretRefusal =
  "OnBehalf is in team mode: your organisation's OnBehalf gateway holds the Scalekit client secret, so it is not set, stored or accepted here.";

async function pickConnection(arg: unknown, connections: ConnectionsService, title: string): Promise<string | undefined> {
  const configured = connections.connectionNames();
  const fromArg = connectionNameFrom(arg);
  if (fromArg !== undefined) {
    if (!configured.includes(fromArg)) throw new UnknownConnectionError(fromArg);
    return fromArg;
  }
  const items = configured.map((name) => {
    const state = connections.snapshot.connections.find((c) => c.name === name);
    return { label: connectionLabel(name), description: name, detail: state ? state.status : undefined, name };
  });
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Choose a connection' });
  return picked?.name;
}

/** Commands get either a name (from the tree item's command) or the tree node (from a menu). */
function connectionNameFrom(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && 'connection' in arg) {
    const connection = arg.connection;
    if (connection && typeof connection === 'object' && typeof (connection as { name?: unknown }).name === 'string')
      return (connection as { name: string }).name;
  }
  return undefined;
}

const secretPrompts: Record<SecretName, { title: string; prompt: string; placeholder: string }> = {
  anthropicApiKey: {
    title: 'Anthropic API Key',
    prompt: 'Paste your Anthropic API key. It is checked, then stored in VS Code SecretStorage only.',
    placeholder: 'sk-ant-…',
  },
  scalekitClientSecret: {
    title: 'Scalekit Client Secret',
    prompt: 'Paste your Scalekit client secret. It is checked, then stored in VS Code SecretStorage only.',
    placeholder: 'Client secret from Scalekit → Developers → API credentials',
  },
  enterpriseClientSecret: {
    title: 'Enterprise IdP Client Secret',
    prompt: "Paste OnBehalf's client secret at your IdP (for the ID-JAG token exchange). It is checked, then stored in VS Code SecretStorage only.",
    placeholder: 'Client secret from your IdP',
  },
};

/** Checks a new secret against its service; throws InvalidCredentialsError when it is refused. */
async function checkSecret(name: SecretName, secret: string, checkEnterpriseSecret: (secret: string) => Promise<void>): Promise<void> {
  switch (name) {
    case 'anthropicApiKey':
      return checkAnthropicKey(secret, settings.anthropicBaseUrl());
    case 'scalekitClientSecret':
      return ScalekitAccounts.checkCredentials({
        environmentUrl: settings.scalekitEnvironmentUrl(),
        clientId: settings.scalekitClientId(),
        clientSecret: secret,
      });
    case 'enterpriseClientSecret':
      return checkEnterpriseSecret(secret);
  }
}

async function promptForSecret(name: SecretName, secrets: SecretStore, log: Logger, checkEnterprise?: (secret: string) => Promise<void>): Promise<void> {
  const { title, prompt, placeholder } = secretPrompts[name];
  const replacing = await secrets.has(name);
  if (name === 'scalekitClientSecret' && (!settings.scalekitEnvironmentUrl() || !settings.scalekitClientId())) {
    const open = 'Open Settings';
    const choice = await vscode.window.showErrorMessage(
      'Set "onbehalf.scalekit.environmentUrl" and "onbehalf.scalekit.clientId" first, so the secret can be checked.',
      open,
    );
    if (choice === open) await vscode.commands.executeCommand('workbench.action.openSettings', 'onbehalf.scalekit');
    return;
  }
  const value = await vscode.window.showInputBox({
    title: replacing ? `Rotate ${title}` : `Set ${title}`,
    prompt,
    placeHolder: placeholder,
    password: true,
    ignoreFocusOut: true,
    validateInput: (text) =>
      text.trim().length === 0 ? 'Enter a value, or press Escape to cancel.' : /\s/.test(text.trim()) ? 'A key has no spaces in it.' : undefined,
  });
  if (value === undefined) return;
  const secret = value.trim();
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Checking the ${title}…` }, () =>
      checkSecret(name, secret, checkEnterprise ?? (() => Promise.resolve())),
    );
  } catch (error) {
    if (InvalidCredentialsError.is(error)) {
      log.warn(`A new ${title} was rejected; the previous value is kept.`);
      void vscode.window.showErrorMessage(`${error.message} ${replacing ? 'Your previous value is kept.' : 'Nothing was stored.'}`);
      return;
    }
    if (!ServiceUnavailableError.is(error)) throw error;
    const save = 'Save Anyway';
    const choice = await vscode.window.showWarningMessage(`${error.message} The ${title} could not be checked.`, save);
    if (choice !== save) return;
  }
  await secrets.set(name, secret);
  log.info(`${title} ${replacing ? 'rotated' : 'stored'}.`);
  void vscode.window.showInformationMessage(`${title} ${replacing ? 'rotated' : 'saved'}.`);
}

export async function reportError(error: unknown, log: Logger): Promise<void> {
  const message = messageOf(error);
  log.error(message);
  const showLog = 'Show Log';
  const choice = await vscode.window.showErrorMessage(`OnBehalf: ${message}`, showLog);
  if (choice === showLog) await vscode.commands.executeCommand(commands.showLog);
}
