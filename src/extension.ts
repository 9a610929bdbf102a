import * as vscode from 'vscode';
import { ConnectStateStore } from './core/connectState';
import { MissingCredentialsError } from './core/errors';
import { taggedLogger } from './core/logger';
import { onSdkLoaded } from './core/sdkLoader';
import { ScalekitAccounts } from './scalekit/scalekitAccounts';
import * as path from 'node:path';
import { ApprovalStore } from './vscode/approvalStore';
import { AuditKeys } from './vscode/auditKeys';
import { AuditLog } from './vscode/auditLog';
import { AuditView } from './vscode/auditView';
import { ChatController } from './vscode/chat/chatController';
import { ChatViewProvider } from './vscode/chat/chatView';
import { toolBackendProbe } from './vscode/chat/turnRunner';
import { ConversationStore } from './vscode/conversationStore';
import { registerCommands } from './vscode/commands';
import { ConnectionsService } from './vscode/connectionsService';
import { ConnectionsTreeProvider } from './vscode/connectionsTree';
import { views } from './vscode/constants';
import { ContextKeys } from './vscode/contextKeys';
import { ModelAccess } from './vscode/modelAccess';
import { WalkthroughGuide } from './vscode/walkthrough';
import { EnterpriseService } from './vscode/enterpriseService';
import { FirstCheck } from './vscode/firstCheck';
import { defaultExternalOpener, type ExternalOpener } from './vscode/externalUris';
import { IdentityService } from './vscode/identityService';
import { loggerFor } from './vscode/log';
import { OidcAuthProvider } from './vscode/oidcAuthProvider';
import { SecretStore, secretNames, secretStorageKey } from './vscode/secretStore';
import { keepSettingsUntilChanged, settings } from './vscode/settings';
import { StatusBar } from './vscode/statusBar';
import { TeamGateway } from './vscode/teamGateway';
import { ChatViewRecorder, renderCounter, type OnBehalfTestApi } from './vscode/testApi';
import { UriRouter } from './vscode/uriRouter';

// Composition root: builds every service, wires them together, registers them for
// disposal. No behaviour lives here.
export function activate(context: vscode.ExtensionContext): OnBehalfTestApi | undefined {
  const started = performance.now();
  // First of all listeners: settings are kept between configuration events (settings.ts).
  context.subscriptions.push(keepSettingsUntilChanged());
  const channel = vscode.window.createOutputChannel('OnBehalf', { log: true });
  context.subscriptions.push(channel);
  const log = loggerFor(channel);
  // Each SDK loads on its first use (src/core/sdkLoader.ts); the log says when, and what it cost.
  context.subscriptions.push(onSdkLoaded((sdk, milliseconds) => log.info(`Loaded the ${sdk} on first use in ${milliseconds.toFixed(1)} ms.`)));
  const extensionId = context.extension.id;

  let opener: ExternalOpener = defaultExternalOpener;
  const currentOpener = () => opener;

  const secrets = new SecretStore(context.secrets);
  const oidc = new OidcAuthProvider(context.secrets, extensionId, currentOpener, taggedLogger(log, 'oidc'));
  const identity = new IdentityService(oidc, taggedLogger(log, 'identity'));
  const accounts = new ScalekitAccounts(async () => {
    const clientSecret = await secrets.get('scalekitClientSecret');
    if (!clientSecret) throw new MissingCredentialsError('scalekitClientSecret');
    return { environmentUrl: settings.scalekitEnvironmentUrl(), clientId: settings.scalekitClientId(), clientSecret };
  });
  const team = new TeamGateway(identity, taggedLogger(log, 'team'), () => secrets.clear('scalekitClientSecret'));
  const connections = new ConnectionsService(
    identity,
    accounts,
    new ConnectStateStore(),
    extensionId,
    currentOpener,
    taggedLogger(log, 'connections'),
    team,
    () => secrets.has('scalekitClientSecret'),
  );
  const enterprise = new EnterpriseService(identity, oidc, secrets, taggedLogger(log, 'enterprise'));
  const tree = new ConnectionsTreeProvider(connections, enterprise);
  const model = new ModelAccess(secrets, identity);
  const statusBar = new StatusBar(connections, model, enterprise);
  const router = new UriRouter(oidc, connections, taggedLogger(log, 'uri'));
  const storageRoot = context.globalStorageUri.fsPath;
  const auditKeys = new AuditKeys(context.secrets);
  const audit = new AuditLog(path.join(storageRoot, 'audit'), taggedLogger(log, 'audit'), (identifier) => auditKeys.keyFor(identifier));
  const approvals = new ApprovalStore(context.globalState);
  const testMode = context.extensionMode === vscode.ExtensionMode.Test;
  const chat = new ChatController({
    model,
    identity,
    connections,
    accounts,
    enterprise,
    team,
    secrets,
    store: new ConversationStore(path.join(storageRoot, 'conversations'), taggedLogger(log, 'chat')),
    audit,
    approvals,
    log: taggedLogger(log, 'chat'),
    openExternal: currentOpener,
  });
  // Test mode only: what the chat view renders and posts, and how often the tree re-renders.
  const chatRecorder = testMode ? new ChatViewRecorder() : undefined;
  const treeRenders = testMode ? renderCounter(tree.onDidChangeTreeData) : undefined;
  const chatView = new ChatViewProvider(context.extensionUri, chat, taggedLogger(log, 'chat'), () => channel.show(true), chatRecorder?.observer);
  const auditView = new AuditView(audit, identity, taggedLogger(log, 'audit'), (identifier) => auditKeys.keyFor(identifier), team);
  // Test mode only: the chat's live WebviewView, so the CSP suite reads its real options.
  let chatWebview: vscode.Webview | undefined;
  // Listing connections and the enterprise check wait until an OnBehalf view is visible (or startup settled).
  const firstCheck = new FirstCheck(() => {
    void connections.refresh();
    void enterprise.rebuild();
  });
  const connectionsView = vscode.window.createTreeView(views.connections, { treeDataProvider: tree });
  const chatViewRegistration: vscode.WebviewViewProvider = {
    resolveWebviewView: (view) => {
      firstCheck.run();
      if (testMode) {
        chatWebview = view.webview;
        view.onDidDispose(() => {
          if (chatWebview === view.webview) chatWebview = undefined;
        });
      }
      return chatView.resolveWebviewView(view);
    },
  };

  const contextKeyState = new ContextKeys(connections, secrets, model, context.globalState, chat.onDidSendMessage);
  const walkthroughGuide = new WalkthroughGuide(contextKeyState, context.globalState, taggedLogger(log, 'walkthrough'));

  context.subscriptions.push(
    secrets,
    model,
    oidc,
    identity,
    team,
    connections,
    enterprise,
    tree,
    statusBar,
    firstCheck,
    connectionsView,
    connectionsView.onDidChangeVisibility((event) => event.visible && firstCheck.run()),
    vscode.window.registerUriHandler(router),
    chat,
    chatView,
    auditView,
    vscode.window.registerWebviewViewProvider(views.chat, chatViewRegistration, { webviewOptions: { retainContextWhenHidden: false } }),
    ...registerCommands({
      identity,
      connections,
      secrets,
      statusBar,
      chat,
      chatView,
      auditView,
      approvals,
      enterpriseSecretCheck: (secret) => enterprise.checkClientSecret(secret),
      refreshEnterprise: () => enterprise.rebuild(),
      log: taggedLogger(log, 'command'),
      logChannel: channel,
    }),
    contextKeyState,
    walkthroughGuide,
    ...(treeRenders ? [treeRenders.subscription] : []),
    secrets.onDidChange(() => void connections.refresh()),
  );

  beforeDeactivate = () => enterprise.shutdown();
  const activatedIn = performance.now() - started;
  // The first reads (settings, SecretStorage for the status bar's and the chat's key state, the
  // walkthrough's state) and a visible view's first check start once activate() has returned:
  // VS Code counts activate()'s synchronous run as the extension's activation time, and nothing
  // here needs to happen inside it.
  const afterActivation = setTimeout(() => {
    team.start();
    statusBar.start();
    chat.start();
    contextKeyState.start();
    if (connectionsView.visible) firstCheck.run();
    // Not under the integration tests (Test mode), which assert on the active editor; the e2e
    // tier runs the extension as a development extension and checks the walkthrough opens.
    if (!testMode) void walkthroughGuide.openOnFirstActivation(settings.openWalkthroughOnInstall());
    log.info(`OnBehalf activated in ${activatedIn.toFixed(1)} ms (identity provider: ${settings.identityProvider()}).`);
  }, 0);
  context.subscriptions.push({ dispose: () => clearTimeout(afterActivation) });

  if (!testMode) return undefined;
  return {
    currentIdentity: () => identity.current(),
    connections: () => connections.snapshot,
    enterprise: () => enterprise.snapshot,
    enterpriseHeld: () => enterprise.held(),
    refreshConnections: () => connections.refresh(),
    onConnectionsChanged: (listener) => connections.onDidChange(listener),
    treeChildren: (node) => tree.getChildren(node),
    treeItem: (node) => tree.getTreeItem(node),
    treeRenders: () => treeRenders?.count() ?? 0,
    statusBar: () => statusBar.view,
    routeUri: (uri) => router.route(uri),
    setExternalOpener: (replacement) => {
      opener = replacement ?? defaultExternalOpener;
    },
    chat: {
      handleMessage: (raw) => chat.handleMessage(raw),
      whenIdle: () => chat.whenIdle(),
      activeConversation: () => chat.activeConversation,
      renderedHtml: () => chatRecorder?.renderedHtml ?? [],
      postedMessages: () => chatRecorder?.postedMessages ?? [],
      readyCount: () => chatRecorder?.readyCount ?? 0,
      stallNextRenders: (count) => chatRecorder?.stallNextRenders(count),
      webview: () => chatWebview,
    },
    storeSecret: (name, value) => secrets.set(name, value),
    clearSecret: (name) => secrets.clear(name),
    writeSecretStorage: async (name, value) => context.secrets.store(secretStorageKey(name), value),
    setToolBackendProbe: (probe) => {
      toolBackendProbe.current = probe;
    },
    signIn: () => identity.signIn(),
    connect: (name) => connections.connect(name),
    signOut: () => identity.signOut(),
    auditRecords: async () => audit.read(await identity.requireIdentifier()),
    shownAuditRecords: async () => auditView.records(await identity.requireIdentifier()),
    storedSecrets: async () => Object.fromEntries(await Promise.all(secretNames.map(async (name) => [name, await secrets.get(name)] as const))),
    auditFile: async () => audit.fileFor(await identity.requireIdentifier()),
    exportAuditLog: (target) => auditView.exportTo(target),
    auditKey: async () => Buffer.from(await auditKeys.keyFor(await identity.requireIdentifier())).toString('base64'),
    globalStoragePath: storageRoot,
    logPath: context.logUri.fsPath,
    storedState: () => ({
      global: Object.fromEntries(context.globalState.keys().map((k) => [k, context.globalState.get(k)])),
      workspace: Object.fromEntries(context.workspaceState.keys().map((k) => [k, context.workspaceState.get(k)])),
    }),
  };
}

/** Ends the enterprise MCP session on the server (bounded); VS Code awaits this before disposing. */
let beforeDeactivate: (() => Promise<void>) | undefined;

export function deactivate(): Promise<void> | undefined {
  const shutdown = beforeDeactivate;
  beforeDeactivate = undefined;
  return shutdown?.();
}
