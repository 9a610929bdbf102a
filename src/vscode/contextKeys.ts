import * as vscode from 'vscode';
import { activeProducts } from '../core/connectionStatus';
import { firstUnticked, walkthroughSteps, type StepTicks, type WalkthroughStep } from '../core/walkthroughSteps';
import type { ConnectionsService } from './connectionsService';
import { contextKeys, walkthroughStepKeys } from './constants';
import { DisposableOwner } from './lifecycle';
import type { ModelAccess } from './modelAccess';
import type { SecretStore } from './secretStore';
import { settings } from './settings';

// when-clause context keys for menus and the walkthrough's completion events, and the
// walkthrough's ticks they mean.

const askedKey = contextKeys.askedFirstQuestion;

const stepKeys = walkthroughStepKeys;

export class ContextKeys extends DisposableOwner {
  private readonly current = new Map<string, boolean>();
  private readonly tickEmitter = this.register(new vscode.EventEmitter<WalkthroughStep>());
  /** A walkthrough step ticked (its key turned from false to true) while the window was open. */
  readonly onDidTick = this.tickEmitter.event;

  constructor(
    private readonly connections: ConnectionsService,
    private readonly secrets: SecretStore,
    private readonly model: ModelAccess,
    private readonly state: vscode.Memento,
    onDidSendMessage: vscode.Event<void>,
  ) {
    super();
    this.register(connections.onDidChange(() => this.updateConnections()));
    this.register(secrets.onDidChange(() => void this.updateKeys()));
    this.register(model.onDidChange(() => void this.updateKeys()));
    this.register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (settings.affects(event, 'gateway.url')) void this.updateKeys();
      }),
    );
    this.register(
      onDidSendMessage(() => {
        void this.state.update(askedKey, true);
        void this.set(askedKey, true);
      }),
    );
  }

  /** Sets every key's first value; called once activation has returned (it reads secrets). */
  start(): void {
    this.updateConnections();
    void this.updateKeys();
    void this.set(askedKey, this.state.get<boolean>(askedKey) === true);
  }

  private updateConnections(): void {
    const snapshot = this.connections.snapshot;
    void this.set(contextKeys.signedIn, snapshot.identity !== undefined);
    const active = activeProducts(snapshot.connections);
    void this.set(contextKeys.posthogActive, active.posthog);
    void this.set(contextKeys.asanaActive, active.asana);
  }

  /** The walkthrough step to show next, as the context keys stand now. */
  nextStep(): WalkthroughStep | undefined {
    const ticks = Object.fromEntries(walkthroughSteps.map((step) => [step, this.current.get(stepKeys[step]) === true])) as StepTicks;
    return firstUnticked(ticks, this.current.get(contextKeys.teamMode) === true);
  }

  private async updateKeys(): Promise<void> {
    const team = settings.gatewayUrl() !== '';
    await this.set(contextKeys.teamMode, team);
    // Team mode needs only the Anthropic key; the Scalekit secret is not even read.
    const keysSet = (await this.model.available()) && (team || (await this.secrets.has('scalekitClientSecret')));
    await this.set(contextKeys.keysSet, keysSet);
  }

  private set(key: string, value: boolean): Thenable<unknown> {
    const before = this.current.get(key);
    this.current.set(key, value);
    const done = vscode.commands.executeCommand('setContext', key, value);
    // A key's first value at activation is where the person stands, not a step they just took.
    const step = walkthroughSteps.find((s) => stepKeys[s] === key);
    if (step && before === false && value) void Promise.resolve(done).then(() => this.tickEmitter.fire(step));
    return done;
  }
}
