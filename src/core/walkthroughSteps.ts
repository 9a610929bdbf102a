// The walkthrough "Get started with OnBehalf" (package.json contributes.walkthroughs), in order.

export const walkthroughSteps = ['signIn', 'setKeys', 'teamKeys', 'connectPostHog', 'connectAsana', 'ask'] as const;

export type WalkthroughStep = (typeof walkthroughSteps)[number];

export type StepTicks = Readonly<Record<WalkthroughStep, boolean>>;

/** Whether VS Code shows the step (its `when`): the two key steps belong to one mode each. */
export function stepShown(step: WalkthroughStep, teamMode: boolean): boolean {
  if (step === 'setKeys') return !teamMode;
  if (step === 'teamKeys') return teamMode;
  return true;
}

/** The step a person should see next: the first shown one not ticked, in the walkthrough's order. */
export function firstUnticked(ticks: StepTicks, teamMode = false): WalkthroughStep | undefined {
  return walkthroughSteps.find((step) => stepShown(step, teamMode) && !ticks[step]);
}
