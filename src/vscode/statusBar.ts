import * as vscode from 'vscode';
import { nextStepFor, scalekitUnused, type NextStep } from '../core/nextStep';
import type { ConnectionsService } from './connectionsService';
import type { EnterpriseService } from './enterpriseService';
import { connectionLabel, enterpriseConnection } from '../shared/labels';
import { setupFacts } from './setupFacts';
import { DisposableOwner } from './lifecycle';
import type { ModelAccess } from './modelAccess';
import { commands } from './constants';

// One status bar item saying, in words and an icon, whether the user is signed in and
// connected. Clicking it starts whatever is missing next.

export class StatusBar extends DisposableOwner {
  private readonly item = this.register(vscode.window.createStatusBarItem('onbehalf.status', vscode.StatusBarAlignment.Left, 50));
  private hasAnthropicKey = false;

  constructor(
    private readonly connections: ConnectionsService,
    private readonly model: ModelAccess,
    private readonly enterprise: EnterpriseService,
  ) {
    super();
    this.item.name = 'OnBehalf';
    this.item.command = commands.getStarted;
    this.register(connections.onDidChange(() => this.render()));
    this.register(enterprise.onDidChange(() => this.render()));
    this.register(model.onDidChange(() => void this.reloadKeys()));
    this.render();
    this.item.show();
  }

  /** Reads whether the Anthropic key is set; called once activation has returned. */
  start(): void {
    void this.reloadKeys();
  }

  /** For tests and the accessibility of the item: exactly what is shown. */
  get view(): { text: string; tooltip: string } {
    return { text: this.item.text, tooltip: typeof this.item.tooltip === 'string' ? this.item.tooltip : (this.item.tooltip?.value ?? '') };
  }

  nextStep(): NextStep {
    return nextStepFor(setupFacts(this.connections.snapshot, this.enterprise.snapshot, this.hasAnthropicKey));
  }

  private async reloadKeys(): Promise<void> {
    this.hasAnthropicKey = await this.model.available();
    this.render();
  }

  private render(): void {
    const snapshot = this.connections.snapshot;
    const step = this.nextStep();
    const active = snapshot.connections.filter((c) => c.status === 'ACTIVE').length;
    this.item.backgroundColor = undefined;
    switch (step.kind) {
      case 'signIn':
        this.item.text = snapshot.loading ? '$(loading~spin) OnBehalf' : '$(sign-in) OnBehalf: Sign in';
        this.item.tooltip = 'OnBehalf: not signed in. Click to sign in.';
        break;
      case 'setAnthropicKey':
        this.item.text = '$(key) OnBehalf: Set keys';
        this.item.tooltip = 'OnBehalf needs your Anthropic API key. Click to set it.';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        break;
      case 'setScalekitSecret':
      case 'configureScalekit':
        this.item.text = '$(key) OnBehalf: Set keys';
        this.item.tooltip = 'OnBehalf needs your Scalekit environment settings and client secret. Click to set them.';
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        break;
      case 'connect':
        this.item.text = `$(plug) OnBehalf: Connect ${connectionLabel(step.connection)}`;
        this.item.tooltip = `Signed in as ${snapshot.identity?.label ?? ''}. ${active} of ${snapshot.connections.length} connections active. Click to connect ${connectionLabel(step.connection)}.`;
        break;
      case 'none':
        if (scalekitUnused(setupFacts(snapshot, this.enterprise.snapshot, this.hasAnthropicKey))) {
          // Enterprise-only: the enterprise connection is the account; Scalekit is not missing.
          this.item.text = `$(pass-filled) OnBehalf: ${snapshot.identity?.label ?? ''}`;
          this.item.tooltip = `Signed in as ${snapshot.identity?.label ?? ''}. ${connectionLabel(enterpriseConnection)} connected.`;
          break;
        }
        this.item.text = snapshot.problem ? '$(warning) OnBehalf' : `$(pass-filled) OnBehalf: ${snapshot.identity?.label ?? ''}`;
        this.item.tooltip = snapshot.problem
          ? `OnBehalf: ${snapshot.problem.message}`
          : `Signed in as ${snapshot.identity?.label ?? ''}. All ${snapshot.connections.length} connections active.`;
        break;
    }
    // Team mode: say which gateway everything goes through.
    if (snapshot.gateway) {
      this.item.text = this.item.text.replace(/^(\$\([^)]+\) )?OnBehalf/, '$1OnBehalf (team)');
      this.item.tooltip =
        `${typeof this.item.tooltip === 'string' ? this.item.tooltip : ''} Team mode: through the gateway at ${snapshot.gateway.host}.`.trim();
    }
  }
}
