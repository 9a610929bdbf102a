// Time helpers. All demo data is laid out relative to "today" as given by an
// injectable clock, so "the last 7 days" always means the same 7 seeded points.

export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

export const DAY_MS = 24 * 60 * 60 * 1000;

/** Midnight UTC of the day containing `ms`. */
export function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** YYYY-MM-DD (UTC). */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The day `daysAgo` days before the clock's current day, as midnight UTC. */
export function dayStart(clock: Clock, daysAgo: number): number {
  return startOfUtcDay(clock()) - daysAgo * DAY_MS;
}

/** An ISO timestamp `daysAgo` days (plus `hour` hours) before today's midnight UTC. */
export function isoAt(clock: Clock, daysAgo: number, hour = 9): string {
  return new Date(dayStart(clock, daysAgo) + hour * 60 * 60 * 1000).toISOString();
}
