import type { WalkthroughStep } from '../core/walkthroughSteps';

// Every command id, context key and view id OnBehalf contributes, in one place. A unit test
// checks them against package.json, and the boundaries test that no other file in src/
// spells a command id, so code and manifest cannot drift.

export const commands = {
  signIn: 'onbehalf.signIn',
  signOut: 'onbehalf.signOut',
  setAnthropicKey: 'onbehalf.setAnthropicKey',
  setScalekitSecret: 'onbehalf.setScalekitSecret',
  setEnterpriseClientSecret: 'onbehalf.setEnterpriseClientSecret',
  clearSecrets: 'onbehalf.clearSecrets',
  connect: 'onbehalf.connect',
  reauthorize: 'onbehalf.reauthorize',
  disconnect: 'onbehalf.disconnect',
  refresh: 'onbehalf.refresh',
  getStarted: 'onbehalf.getStarted',
  showLog: 'onbehalf.showLog',
  newChat: 'onbehalf.newChat',
  showAuditLog: 'onbehalf.showAuditLog',
  exportAuditLog: 'onbehalf.exportAuditLog',
  checkAuditInput: 'onbehalf.checkAuditInput',
  resetApprovals: 'onbehalf.resetApprovals',
} as const;

export type CommandId = (typeof commands)[keyof typeof commands];

/** when-clause context keys (menus, the walkthrough's completion events). */
export const contextKeys = {
  signedIn: 'onbehalf.signedIn',
  keysSet: 'onbehalf.keysSet',
  posthogActive: 'onbehalf.posthogActive',
  asanaActive: 'onbehalf.asanaActive',
  askedFirstQuestion: 'onbehalf.askedFirstQuestion',
} as const;

export const views = {
  connections: 'onbehalf.connections',
  chat: 'onbehalf.chat',
} as const;

/** Commands VS Code itself provides for OnBehalf's views. */
export const viewCommands = {
  /** Reveals the OnBehalf view container (package.json contributes.viewsContainers). */
  showContainer: 'workbench.view.extension.onbehalf',
  focusChat: `${views.chat}.focus`,
  toggleChatVisibility: `${views.chat}.toggleVisibility`,
} as const;

/** The walkthrough (package.json contributes.walkthroughs), as VS Code names it: `<publisher>.<name>#<id>`. */
export const walkthrough = {
  category: 'onbehalf.onbehalf#getStarted',
  title: 'Get started with OnBehalf',
} as const;

/** The context key whose turning true ticks each walkthrough step (its completionEvents). */
export const walkthroughStepKeys: Readonly<Record<WalkthroughStep, string>> = {
  signIn: contextKeys.signedIn,
  setKeys: contextKeys.keysSet,
  connectPostHog: contextKeys.posthogActive,
  connectAsana: contextKeys.asanaActive,
  ask: contextKeys.askedFirstQuestion,
};
