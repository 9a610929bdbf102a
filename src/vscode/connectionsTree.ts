import * as vscode from 'vscode';
import { nextActionFor, statusLabel, type ConnectionStatus } from '../core/connectionStatus';
import { MissingCredentialsError, NotSignedInError, describeCredential, messageOf } from '../core/errors';
import { groupByRisk, type ToolRisk } from '../core/toolRisk';
import { clip, connectionLabel } from '../shared/labels';
import type { ToolDefinition } from '../core/toolBackend';
import type { ConnectionsService, ConnectionsSnapshot, ConnectionState } from './connectionsService';
import { DisposableOwner } from './lifecycle';
import { enterpriseConnection, type EnterpriseService, type EnterpriseSnapshot } from './enterpriseService';
import { scalekitUnused } from '../core/nextStep';
import { setupFacts } from './setupFacts';
import { commands } from './constants';

// The Connections view: identity first, then one node per connection with its status,
// and under each active connection its tools grouped by risk.

export type ConnectionsNode =
  | { readonly kind: 'identity'; readonly snapshot: ConnectionsSnapshot }
  /** Team mode: which gateway every connection and tool call goes through. */
  | { readonly kind: 'gateway'; readonly host: string }
  | {
      readonly kind: 'problem';
      readonly message: string;
      readonly command?: vscode.Command;
      /** A short label for a next step, never cut; the whole message is the tooltip. */
      readonly label?: string;
      /** A next step rather than a fault: its own icon, no warning colour. */
      readonly icon?: string;
    }
  | { readonly kind: 'connection'; readonly connection: ConnectionState }
  | { readonly kind: 'enterprise'; readonly snapshot: EnterpriseSnapshot }
  | { readonly kind: 'riskGroup'; readonly connection: string; readonly risk: ToolRisk; readonly tools: readonly ToolDefinition[] }
  | { readonly kind: 'tool'; readonly tool: ToolDefinition; readonly risk: ToolRisk };

const statusIcons: Record<ConnectionStatus, [string, string | undefined]> = {
  ACTIVE: ['pass-filled', 'testing.iconPassed'],
  EXPIRED: ['warning', 'list.warningForeground'],
  PENDING_AUTH: ['loading~spin', undefined],
  PENDING_VERIFICATION: ['loading~spin', undefined],
  DISCONNECTED: ['debug-disconnect', 'disabledForeground'],
  NOT_CONNECTED: ['circle-large-outline', undefined],
  UNKNOWN: ['question', 'list.warningForeground'],
};

const contextValues: Record<ConnectionStatus, string> = {
  ACTIVE: 'connection.active',
  EXPIRED: 'connection.expired',
  PENDING_AUTH: 'connection.pending',
  PENDING_VERIFICATION: 'connection.pending',
  DISCONNECTED: 'connection.disconnected',
  NOT_CONNECTED: 'connection.missing',
  UNKNOWN: 'connection.unknown',
};

const riskLabels: Record<ToolRisk, [string, string]> = {
  read: ['Read', 'eye'],
  write: ['Write', 'edit'],
  destructive: ['Destructive', 'trash'],
};

export class ConnectionsTreeProvider extends DisposableOwner implements vscode.TreeDataProvider<ConnectionsNode> {
  private readonly changed = this.register(new vscode.EventEmitter<ConnectionsNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly connections: ConnectionsService,
    private readonly enterprise: EnterpriseService,
  ) {
    super();
    this.register(connections.onDidChange(() => this.refreshIfChanged()));
    this.register(enterprise.onDidChange(() => this.refreshIfChanged()));
  }

  private shown = '';

  /**
   * Re-renders only when what the tree shows changed. A refresh that finds the same statuses
   * (most do) leaves the rows alone: VS Code re-registers a row's command on every render,
   * and a click that lands mid-render otherwise ends in "command not found".
   */
  private refreshIfChanged(): void {
    const next = this.signature();
    if (next === this.shown) return;
    this.shown = next;
    this.changed.fire(undefined);
  }

  private signature(): string {
    const describe = (node: ConnectionsNode): unknown => {
      const item = this.getTreeItem(node);
      const children = item.collapsibleState === vscode.TreeItemCollapsibleState.None ? [] : this.getChildren(node).map(describe);
      return [
        item.id,
        item.label,
        item.description,
        item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : item.tooltip,
        item.iconPath,
        item.contextValue,
        item.command,
        item.collapsibleState,
        children,
      ];
    };
    return JSON.stringify(this.getChildren().map(describe));
  }

  getChildren(node?: ConnectionsNode): ConnectionsNode[] {
    const snapshot = this.connections.snapshot;
    if (!node) {
      // Signed out: an empty tree lets the welcome view explain what to do.
      if (!snapshot.identity) return snapshot.loading ? [] : [];
      const roots: ConnectionsNode[] = [{ kind: 'identity', snapshot }];
      if (snapshot.gateway) roots.push({ kind: 'gateway', host: snapshot.gateway.host });
      const enterprise = this.enterprise.snapshot;
      // Enterprise-only setup: Scalekit is unused, not missing, so no warning and no Scalekit rows.
      const scalekitShown = !scalekitUnused(setupFacts(snapshot, enterprise, true));
      if (scalekitShown && snapshot.problem && !NotSignedInError.is(snapshot.problem))
        roots.push(problemNode(snapshot.problem, snapshot.gateway !== undefined));
      // While the statuses cannot be known (the problem row says why), no "Status unknown" rows.
      const unknowable = (connection: ConnectionState) => connection.status === 'UNKNOWN' && snapshot.problem !== undefined;
      if (scalekitShown) for (const connection of snapshot.connections) if (!unknowable(connection)) roots.push({ kind: 'connection', connection });
      if (enterprise.status) roots.push({ kind: 'enterprise', snapshot: enterprise });
      return roots;
    }
    if (node.kind === 'enterprise') {
      if (!snapshot.identity || node.snapshot.identifier !== snapshot.identity.identifier) return [];
      const groups = groupByRisk(node.snapshot.tools);
      return (['read', 'write', 'destructive'] as const)
        .filter((risk) => groups[risk].length > 0)
        .map((risk) => ({ kind: 'riskGroup', connection: enterpriseConnection, risk, tools: groups[risk] }));
    }
    if (node.kind === 'connection') {
      if (node.connection.error) return [{ kind: 'problem', message: node.connection.error }];
      if (node.connection.status !== 'ACTIVE') return [];
      const groups = groupByRisk(node.connection.tools);
      return (['read', 'write', 'destructive'] as const)
        .filter((risk) => groups[risk].length > 0)
        .map((risk) => ({ kind: 'riskGroup', connection: node.connection.name, risk, tools: groups[risk] }));
    }
    if (node.kind === 'riskGroup') {
      return [...node.tools].sort((a, b) => a.name.localeCompare(b.name)).map((tool) => ({ kind: 'tool', tool, risk: node.risk }));
    }
    return [];
  }

  getTreeItem(node: ConnectionsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'identity': {
        const identity = node.snapshot.identity;
        const item = new vscode.TreeItem(identity ? `Signed in as ${identity.label}` : 'Sign in', vscode.TreeItemCollapsibleState.None);
        item.id = 'identity';
        item.iconPath = new vscode.ThemeIcon(identity ? 'account' : 'sign-in');
        item.description = identity ? identity.provider : undefined;
        item.tooltip = identity
          ? new vscode.MarkdownString(`Signed in as **${escapeMd(identity.label)}**\n\nIdentifier: \`${identity.identifier}\``)
          : 'Sign in to use OnBehalf';
        item.contextValue = identity ? 'identity.signedIn' : 'identity.signedOut';
        if (!identity) item.command = { command: commands.signIn, title: 'Sign In' };
        return item;
      }
      case 'gateway': {
        const item = new vscode.TreeItem(`Team gateway: ${node.host}`, vscode.TreeItemCollapsibleState.None);
        item.id = 'gateway';
        item.iconPath = new vscode.ThemeIcon('organization');
        item.description = 'team mode';
        item.tooltip = new vscode.MarkdownString(
          `Team mode: every connection and tool call goes through your organisation's OnBehalf gateway at **${escapeMd(node.host)}**, which holds the Scalekit secret and checks your sign-in on every request.`,
        );
        item.contextValue = 'gateway';
        item.accessibilityInformation = { label: `Team gateway ${node.host}` };
        return item;
      }
      case 'problem': {
        const item = new vscode.TreeItem(node.label ?? node.message, vscode.TreeItemCollapsibleState.None);
        item.iconPath = node.icon ? new vscode.ThemeIcon(node.icon) : new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
        if (node.label) item.description = 'to see your connections';
        item.tooltip = node.message;
        if (node.command) item.command = node.command;
        item.contextValue = 'problem';
        return item;
      }
      case 'connection': {
        const { connection } = node;
        const active = connection.status === 'ACTIVE';
        const item = new vscode.TreeItem(
          connectionLabel(connection.name),
          connection.error
            ? vscode.TreeItemCollapsibleState.Expanded
            : active
              ? vscode.TreeItemCollapsibleState.Collapsed
              : vscode.TreeItemCollapsibleState.None,
        );
        item.id = `connection:${connection.name}`;
        const [icon, color] = statusIcons[connection.status];
        item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
        item.description = connection.unknownToScalekit
          ? 'Not found in Scalekit'
          : active
            ? `${statusLabel(connection.status)} · ${connection.tools.length} tools`
            : statusLabel(connection.status);
        item.tooltip = connectionTooltip(connection);
        item.contextValue = contextValues[connection.status];
        item.accessibilityInformation = { label: `${connectionLabel(connection.name)}, ${statusLabel(connection.status)}` };
        const action = nextActionFor(connection.status);
        if (action !== 'none' && connection.status !== 'UNKNOWN') {
          item.command = {
            command: action === 'connect' ? commands.connect : commands.reauthorize,
            title: action === 'connect' ? 'Connect' : 'Re-authorize',
            arguments: [connection.name],
          };
        }
        return item;
      }
      case 'enterprise':
        return enterpriseItem(node.snapshot);
      case 'riskGroup': {
        const [label, icon] = riskLabels[node.risk];
        const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `group:${node.connection}:${node.risk}`;
        item.description = String(node.tools.length);
        item.iconPath = new vscode.ThemeIcon(icon);
        item.tooltip = `${node.tools.length} ${label.toLowerCase()} tools`;
        item.contextValue = `riskGroup.${node.risk}`;
        return item;
      }
      case 'tool': {
        const item = new vscode.TreeItem(node.tool.name, vscode.TreeItemCollapsibleState.None);
        item.id = `tool:${node.tool.connection}:${node.tool.name}`;
        item.tooltip = node.tool.description || node.tool.name;
        item.iconPath = new vscode.ThemeIcon('tools');
        item.contextValue = `tool.${node.risk}`;
        return item;
      }
    }
  }
}

function enterpriseItem(snapshot: EnterpriseSnapshot): vscode.TreeItem {
  const status = snapshot.status;
  const hasTools = snapshot.tools.length > 0;
  const item = new vscode.TreeItem(
    connectionLabel(enterpriseConnection),
    hasTools ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  item.id = 'enterprise:posthog';
  item.contextValue = 'enterprise';
  item.command = { command: commands.refresh, title: 'Refresh' };
  switch (status?.state) {
    case 'ready':
      item.iconPath = new vscode.ThemeIcon(
        status.connected ? 'pass-filled' : 'circle-large-outline',
        status.connected ? new vscode.ThemeColor('testing.iconPassed') : undefined,
      );
      item.description = status.connected ? `Connected · ${snapshot.tools.length} tools` : 'Not connected yet';
      item.tooltip = new vscode.MarkdownString(
        'PostHog MCP server through enterprise-managed authorization (ID-JAG): your IdP session is exchanged for a PostHog token, no per-user consent.',
      );
      break;
    case 'needs-oidc-sign-in':
      item.iconPath = new vscode.ThemeIcon('sign-in');
      item.description = 'Sign in with your company IdP';
      item.tooltip = status.message;
      break;
    case 'not-configured':
      item.iconPath = new vscode.ThemeIcon('gear');
      item.description = 'Not configured';
      item.tooltip = `Set ${status.missing.join(', ')} in "onbehalf.enterprise.posthogMcp".`;
      break;
    case 'error':
      item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
      item.description = clip(status.message, 60);
      item.tooltip = status.hint ? `${status.message}\n\n${status.hint}` : status.message;
      break;
    default:
      break;
  }
  item.accessibilityInformation = { label: `${connectionLabel(enterpriseConnection)}, ${String(item.description ?? '')}` };
  return item;
}

function problemNode(problem: Error, teamMode: boolean): ConnectionsNode {
  const message = messageOf(problem);
  // Team mode never asks for Scalekit credentials: the gateway holds them.
  if (MissingCredentialsError.is(problem) && !teamMode) {
    // Not a fault: the next step of setting up, said plainly and short enough never to be cut.
    if (problem.missing === 'scalekitClientSecret') {
      const command = { command: commands.setScalekitSecret, title: 'Set Scalekit Client Secret' };
      return { kind: 'problem', label: 'Set your Scalekit client secret', icon: 'key', message, command };
    }
    const command = { command: 'workbench.action.openSettings', title: 'Open Settings', arguments: ['onbehalf.scalekit'] };
    return { kind: 'problem', label: `Set your ${describeCredential(problem.missing)}`, icon: 'gear', message, command };
  }
  return { kind: 'problem', message, command: { command: commands.refresh, title: 'Retry' } };
}

function connectionTooltip(connection: ConnectionState): vscode.MarkdownString {
  const lines = [`**${escapeMd(connectionLabel(connection.name))}** (\`${escapeMd(connection.name)}\`): ${statusLabel(connection.status)}`];
  const action = nextActionFor(connection.status);
  if (action === 'connect') lines.push('Click to connect your own account.');
  if (action === 'reauthorize') lines.push('Click to re-authorize.');
  if (connection.error) lines.push(escapeMd(connection.error));
  return new vscode.MarkdownString(lines.join('\n\n'));
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
