// The questions the chat's welcome offers. Each one works in the sandbox with real tool calls
// (checked in test/unit/anthropic-emulator.test.ts against the emulators' demo data).
export const SUGGESTED_QUESTIONS: readonly string[] = [
  'How many people signed up per day over the last week?',
  'List my open Asana tasks due this week',
  'Which PostHog insights were edited since Monday?',
];
