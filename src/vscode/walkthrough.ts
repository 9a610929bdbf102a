import * as vscode from 'vscode';
import { firstUnticked, type StepTicks, type WalkthroughStep } from '../core/walkthroughSteps';
import type { Logger } from '../core/logger';
import { DisposableOwner } from './lifecycle';
import { viewCommands, walkthrough } from './constants';

// Opens "Get started with OnBehalf" once, on the first activation, beside the revealed
// OnBehalf view, as extensions conventionally do; VS Code's own switch for that
// (workbench.welcomePage.walkthroughs.openOnInstall) turns it off. VS Code ticks a step
// when its context key turns true but leaves it expanded, so when a step ticks while the
// walkthrough is in front, the guide expands the next unticked one.

const openedKey = 'onbehalf.walkthroughOpened';

/** Where the ticks come from (ContextKeys, which also sets the steps' completion keys). */
export interface WalkthroughProgress {
  readonly ticks: StepTicks;
  readonly onDidTick: vscode.Event<WalkthroughStep>;
}

export class WalkthroughGuide extends DisposableOwner {
  constructor(
    private readonly progress: WalkthroughProgress,
    private readonly state: vscode.Memento,
    private readonly log: Logger,
  ) {
    super();
    this.register(progress.onDidTick((step) => void this.moveOn(step)));
  }

  /** On the first activation ever (per user), reveals the OnBehalf view and opens the walkthrough. */
  async openOnFirstActivation(allowed: boolean): Promise<void> {
    if (!allowed || this.state.get<boolean>(openedKey) === true) return;
    await this.state.update(openedKey, true);
    try {
      await vscode.commands.executeCommand(viewCommands.showContainer);
      await vscode.commands.executeCommand('workbench.action.openWalkthrough', { category: walkthrough.category, step: this.stepId() }, false);
      this.log.info('Opened the walkthrough on first activation.');
    } catch (error) {
      this.log.warn(`Could not open the walkthrough: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async moveOn(ticked: WalkthroughStep): Promise<void> {
    const next = firstUnticked(this.progress.ticks);
    if (!next) return;
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    if (!walkthroughInFront(tab)) {
      this.log.info(`Walkthrough: "${ticked}" ticked; the Welcome page is not in front (${tab ? `"${tab.label}"` : 'no editor'}), so nothing moves.`);
      return;
    }
    try {
      // `openWalkthrough` does nothing once a step is selected; selecting is the page's own command.
      await vscode.commands.executeCommand('walkthroughs.selectStep', this.stepId(next));
      this.log.info(`Walkthrough: "${ticked}" ticked, showing "${next}".`);
    } catch (error) {
      this.log.warn(`Could not move the walkthrough on: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private stepId(step = firstUnticked(this.progress.ticks)): string {
    return `${walkthrough.category}#${step ?? 'signIn'}`;
  }
}

/**
 * Whether the active editor is the Welcome page, where walkthroughs show. The extension API
 * sees it only as a tab without a typed input, labelled "Welcome" or "Walkthrough: <title>"
 * (a title VS Code does not keep current: it can name another walkthrough while OnBehalf's
 * shows). The page selects the step only while it shows OnBehalf's walkthrough.
 */
function walkthroughInFront(tab: vscode.Tab | undefined): boolean {
  if (!tab || tab.input !== undefined) return false;
  return tab.label === 'Welcome' || tab.label.startsWith('Walkthrough: ');
}
