// The walkthrough "Get started with OnBehalf" (package.json contributes.walkthroughs), in order.

export const walkthroughSteps = ['signIn', 'setKeys', 'connectPostHog', 'connectAsana', 'ask'] as const;

export type WalkthroughStep = (typeof walkthroughSteps)[number];

export type StepTicks = Readonly<Record<WalkthroughStep, boolean>>;

/** The step a person should see next: the first one not ticked, in the walkthrough's order. */
export function firstUnticked(ticks: StepTicks): WalkthroughStep | undefined {
  return walkthroughSteps.find((step) => !ticks[step]);
}
