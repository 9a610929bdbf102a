// The emulator's whole in-memory "world": one PostHog project and one Asana
// workspace shared by every identifier, laid out relative to one clock.
import { AsanaStore } from './asana';
import { type Clock, systemClock } from './clock';
import { PostHogStore } from './posthog';

export interface EmulatorDataOptions {
  /** Milliseconds since the epoch; "today" for all seeded data. Default Date.now. */
  now?: Clock;
  /** PRNG seed for the demo data. Default 42. */
  seed?: number;
}

export interface EmulatorData {
  readonly clock: Clock;
  readonly posthog: PostHogStore;
  readonly asana: AsanaStore;
}

export function createEmulatorData(options: EmulatorDataOptions = {}): EmulatorData {
  const clock = options.now ?? systemClock;
  const seed = options.seed ?? 42;
  return { clock, posthog: new PostHogStore(clock, seed), asana: new AsanaStore(clock, seed) };
}
