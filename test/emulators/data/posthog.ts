// Seeded in-memory PostHog project: 90 days of daily event counts, 200 persons,
// insights, dashboards and feature flags. Counts are stored by "days ago" so the
// data always ends "today" according to the injected clock.
import { type Clock, isoAt } from './clock';
import { SeededRandom } from './random';
import { ToolFailure } from './tool-failure';

export const HISTORY_DAYS = 90;

export interface EventSeries {
  /** Event name, e.g. `$pageview` or `signed_up`. */
  name: string;
  description: string;
  /** `total[d]` = events `d` days ago (0 = today), for d in [0, HISTORY_DAYS). */
  total: number[];
  /** `unique[d]` = distinct persons who sent the event `d` days ago. */
  unique: number[];
}

export interface Person {
  id: number;
  uuid: string;
  distinct_ids: string[];
  properties: Record<string, string>;
  created_at: string;
}

export interface Insight {
  id: number;
  short_id: string;
  name: string;
  description: string;
  query: Record<string, unknown>;
  favorited: boolean;
  saved: boolean;
  deleted: boolean;
  dashboards: number[];
  tags: string[];
  created_at: string;
  last_modified_at: string;
  created_by: PostHogUser;
}

export interface Dashboard {
  id: number;
  name: string;
  description: string;
  pinned: boolean;
  deleted: boolean;
  tags: string[];
  created_at: string;
  created_by: PostHogUser;
  /** Insight ids shown as tiles, in order. */
  tiles: number[];
}

export interface FeatureFlag {
  id: number;
  key: string;
  name: string;
  active: boolean;
  deleted: boolean;
  filters: Record<string, unknown>;
  tags: string[];
  created_at: string;
  created_by: PostHogUser;
  updated_at: string;
  version: number;
}

export interface PostHogUser {
  id: number;
  uuid: string;
  first_name: string;
  last_name: string;
  email: string;
}

export interface PostHogProject {
  id: number;
  uuid: string;
  name: string;
  organization: string;
  timezone: string;
  api_token: string;
}

interface EventShape {
  name: string;
  description: string;
  /** Typical weekday volume 90 days ago. */
  base: number;
  /** Daily growth factor (compounded). */
  growth: number;
  /** Weekend multiplier. */
  weekend: number;
  /** unique / total ratio. */
  uniqueRatio: number;
}

const EVENT_SHAPES: EventShape[] = [
  { name: '$pageview', description: 'A page was viewed.', base: 1150, growth: 1.004, weekend: 0.6, uniqueRatio: 0.34 },
  { name: '$pageleave', description: 'A page was left.', base: 930, growth: 1.004, weekend: 0.6, uniqueRatio: 0.33 },
  { name: '$autocapture', description: 'A click, change or submit was captured.', base: 2700, growth: 1.003, weekend: 0.55, uniqueRatio: 0.3 },
  { name: '$identify', description: 'An anonymous user was identified.', base: 26, growth: 1.006, weekend: 0.5, uniqueRatio: 1 },
  { name: 'signed_up', description: 'A user created an account.', base: 22, growth: 1.006, weekend: 0.5, uniqueRatio: 1 },
  { name: 'subscription_started', description: 'A user started a paid subscription.', base: 5, growth: 1.007, weekend: 0.6, uniqueRatio: 1 },
  { name: 'feature_used', description: 'A user used a product feature.', base: 640, growth: 1.003, weekend: 0.45, uniqueRatio: 0.22 },
  { name: 'invite_sent', description: 'A user invited a teammate.', base: 38, growth: 1.004, weekend: 0.4, uniqueRatio: 0.8 },
  { name: 'checkout_completed', description: 'A checkout finished successfully.', base: 14, growth: 1.005, weekend: 0.7, uniqueRatio: 1 },
];

const FIRST_NAMES = [
  'Ada',
  'Grace',
  'Alan',
  'Katherine',
  'Linus',
  'Margaret',
  'Dennis',
  'Barbara',
  'Ken',
  'Frances',
  'Tim',
  'Radia',
  'Edsger',
  'Hedy',
  'John',
  'Annie',
  'Donald',
  'Karen',
  'Guido',
  'Sophie',
];
const LAST_NAMES = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Johnson',
  'Torvalds',
  'Hamilton',
  'Ritchie',
  'Liskov',
  'Thompson',
  'Allen',
  'Berners-Lee',
  'Perlman',
  'Dijkstra',
  'Lamarr',
  'McCarthy',
  'Easley',
  'Knuth',
  'Jones',
  'van Rossum',
  'Wilson',
];
const PLANS = ['free', 'free', 'free', 'pro', 'pro', 'enterprise'];
const COUNTRIES = ['US', 'US', 'GB', 'DE', 'IN', 'BR', 'FR', 'CA'];
const BROWSERS = ['Chrome', 'Chrome', 'Chrome', 'Safari', 'Firefox', 'Edge'];
const SOURCES = ['organic', 'google-ads', 'referral', 'newsletter', 'producthunt'];

function uuidFrom(rng: SeededRandom): string {
  const hex = (n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
}

export class PostHogStore {
  readonly project: PostHogProject;
  readonly me: PostHogUser;
  readonly members: PostHogUser[];
  readonly events = new Map<string, EventSeries>();
  readonly persons: Person[] = [];
  readonly insights: Insight[] = [];
  readonly dashboards: Dashboard[] = [];
  readonly featureFlags: FeatureFlag[] = [];
  private nextId = 1000;

  constructor(
    readonly clock: Clock,
    seed = 42,
  ) {
    const rng = new SeededRandom(seed ^ 0x9e3779b9);
    this.project = {
      id: 4242,
      uuid: uuidFrom(rng),
      name: 'Acme Web App',
      organization: 'Acme Corp',
      timezone: 'UTC',
      api_token: `phc_emulator${rng.token(20)}`,
    };
    this.members = [
      { id: 1, uuid: uuidFrom(rng), first_name: 'Ada', last_name: 'Lovelace', email: 'ada@acme.example' },
      { id: 2, uuid: uuidFrom(rng), first_name: 'Grace', last_name: 'Hopper', email: 'grace@acme.example' },
      { id: 3, uuid: uuidFrom(rng), first_name: 'Alan', last_name: 'Turing', email: 'alan@acme.example' },
    ];
    this.me = this.members[0] as PostHogUser;
    this.seedEvents(rng);
    this.seedPersons(rng);
    this.seedInsightsAndDashboards();
    this.seedFlags();
  }

  private seedEvents(rng: SeededRandom): void {
    // Day-of-week is computed from a fixed epoch offset rather than the real
    // calendar, so the shape (and every number) is the same on any date.
    for (const shape of EVENT_SHAPES) {
      const total: number[] = [];
      const unique: number[] = [];
      for (let daysAgo = 0; daysAgo < HISTORY_DAYS; daysAgo++) {
        const age = HISTORY_DAYS - 1 - daysAgo; // 0 = oldest day
        const weekday = (age + 3) % 7; // 5 and 6 are the weekend
        const level = shape.base * Math.pow(shape.growth, age) * (weekday >= 5 ? shape.weekend : 1);
        const noise = 0.85 + rng.next() * 0.3;
        const count = Math.max(0, Math.round(level * noise));
        total.push(count);
        unique.push(Math.max(count > 0 ? 1 : 0, Math.round(count * shape.uniqueRatio)));
      }
      this.events.set(shape.name, { name: shape.name, description: shape.description, total, unique });
    }
  }

  private seedPersons(rng: SeededRandom): void {
    for (let i = 0; i < 200; i++) {
      const first = rng.pick(FIRST_NAMES);
      const last = rng.pick(LAST_NAMES);
      const uuid = uuidFrom(rng);
      const email = `${first}.${last}${i}`.toLowerCase().replace(/[^a-z0-9.]/g, '') + '@example.com';
      this.persons.push({
        id: i + 1,
        uuid,
        distinct_ids: [uuid, `user_${1000 + i}`],
        properties: {
          email,
          name: `${first} ${last}`,
          plan: rng.pick(PLANS),
          $geoip_country_code: rng.pick(COUNTRIES),
          $browser: rng.pick(BROWSERS),
          signup_source: rng.pick(SOURCES),
        },
        created_at: isoAt(this.clock, rng.int(0, HISTORY_DAYS - 1), rng.int(0, 23)),
      });
    }
  }

  private seedInsightsAndDashboards(): void {
    const trends = (event: string, dateFrom: string, math?: string): Record<string, unknown> => ({
      kind: 'InsightVizNode',
      source: {
        kind: 'TrendsQuery',
        series: [{ kind: 'EventsNode', event, name: event, ...(math ? { math } : {}) }],
        interval: 'day',
        dateRange: { date_from: dateFrom },
      },
    });
    const add = (
      id: number,
      shortId: string,
      name: string,
      description: string,
      query: Record<string, unknown>,
      dashboards: number[],
      daysAgo: number,
    ): void => {
      this.insights.push({
        id,
        short_id: shortId,
        name,
        description,
        query,
        dashboards,
        favorited: id === 101,
        saved: true,
        deleted: false,
        tags: [],
        created_at: isoAt(this.clock, daysAgo),
        last_modified_at: isoAt(this.clock, Math.max(0, daysAgo - 5)),
        created_by: this.me,
      });
    };
    add(101, 'sgnUpD7x', 'Daily signups', 'New accounts per day.', trends('signed_up', '-30d'), [11], 80);
    add(102, 'pvWk3Lq9', 'Pageviews (last 14 days)', 'Total pageviews per day.', trends('$pageview', '-14d'), [12, 13], 75);
    add(103, 'dauTr8Mn', 'Daily active users', 'Unique persons with a pageview per day.', trends('$pageview', '-30d', 'dau'), [12], 70);
    add(
      104,
      'fnlSgP2k',
      'Signup to subscription funnel',
      'Pageview, then signup, then a paid subscription.',
      {
        kind: 'InsightVizNode',
        source: {
          kind: 'FunnelsQuery',
          series: [
            { kind: 'EventsNode', event: '$pageview', name: '$pageview' },
            { kind: 'EventsNode', event: 'signed_up', name: 'signed_up' },
            { kind: 'EventsNode', event: 'subscription_started', name: 'subscription_started' },
          ],
          dateRange: { date_from: '-30d' },
        },
      },
      [11],
      60,
    );
    add(105, 'ftUse5Qw', 'Feature usage this week', 'How often product features were used.', trends('feature_used', '-7d'), [11], 20);
    const dash = (id: number, name: string, description: string, tiles: number[], pinned: boolean): void => {
      this.dashboards.push({ id, name, description, tiles, pinned, deleted: false, tags: [], created_at: isoAt(this.clock, 85), created_by: this.me });
    };
    dash(11, 'Growth overview', 'Signups, conversion and feature adoption.', [101, 104, 105], true);
    dash(12, 'Product health', 'Traffic and active users.', [102, 103], false);
    dash(13, 'Marketing site', 'Top-of-funnel traffic.', [102], false);
    // Recent edits, so "which insights were edited since Monday?" has an answer any day of
    // the week: one edited at the start of today, one at the start of this week's Monday.
    const monday = (new Date(this.clock()).getUTCDay() + 6) % 7;
    const edited = (id: number, daysAgo: number) => {
      const insight = this.insights.find((i) => i.id === id);
      if (insight) insight.last_modified_at = isoAt(this.clock, daysAgo, 0);
    };
    edited(101, 0);
    edited(105, monday);
  }

  private seedFlags(): void {
    const flag = (id: number, key: string, name: string, active: boolean, rollout: number, daysAgo: number, properties: unknown[] = []): void => {
      this.featureFlags.push({
        id,
        key,
        name,
        active,
        deleted: false,
        tags: [],
        version: 1,
        filters: { groups: [{ properties, rollout_percentage: rollout }], multivariate: null, payloads: {} },
        created_at: isoAt(this.clock, daysAgo),
        updated_at: isoAt(this.clock, Math.min(daysAgo, 10)),
        created_by: this.me,
      });
    };
    flag(201, 'new-onboarding-flow', 'Redesigned onboarding checklist', true, 50, 40);
    flag(202, 'dark-mode', 'Dark mode for the dashboard', true, 100, 75);
    flag(203, 'beta-ai-assistant', 'AI assistant beta for enterprise customers', true, 10, 12, [
      { key: 'plan', value: ['enterprise'], operator: 'exact', type: 'person' },
    ]);
    flag(204, 'legacy-billing', 'Old billing page (kept for rollback)', false, 0, 88);
  }

  newId(): number {
    return ++this.nextId;
  }

  // ---- insights ---------------------------------------------------------

  findInsight(idOrShortId: string | number): Insight | undefined {
    const key = String(idOrShortId).trim();
    return this.insights.find((i) => !i.deleted && (String(i.id) === key || i.short_id === key));
  }

  requireInsight(idOrShortId: string | number): Insight {
    const insight = this.findInsight(idOrShortId);
    if (!insight) throw new ToolFailure('not_found', `Insight ${String(idOrShortId)} not found.`);
    return insight;
  }

  // ---- feature flags ----------------------------------------------------

  liveFlags(): FeatureFlag[] {
    return this.featureFlags.filter((f) => !f.deleted);
  }

  requireFlag(id: unknown): FeatureFlag {
    const flag = this.liveFlags().find((f) => String(f.id) === String(id));
    if (!flag) throw new ToolFailure('not_found', `Feature flag ${String(id)} not found.`);
    return flag;
  }

  createFlag(input: { key?: unknown; name?: unknown; active?: unknown; filters?: unknown; tags?: unknown }): FeatureFlag {
    const key = typeof input.key === 'string' ? input.key.trim() : '';
    if (!key) throw new ToolFailure('invalid_input', 'key: This field is required.');
    if (!/^[a-zA-Z0-9_-]+$/.test(key)) {
      throw new ToolFailure('invalid_input', 'key: Only letters, numbers, hyphens (-) and underscores (_) are allowed.');
    }
    if (this.liveFlags().some((f) => f.key === key)) {
      throw new ToolFailure('conflict', `key: There is already a feature flag with the key "${key}".`);
    }
    const now = new Date(this.clock()).toISOString();
    const flag: FeatureFlag = {
      id: this.newId(),
      key,
      name: typeof input.name === 'string' ? input.name : '',
      active: typeof input.active === 'boolean' ? input.active : true,
      deleted: false,
      filters: isRecord(input.filters) ? input.filters : { groups: [{ properties: [], rollout_percentage: 0 }] },
      tags: Array.isArray(input.tags) ? input.tags.map(String) : [],
      created_at: now,
      updated_at: now,
      created_by: this.me,
      version: 1,
    };
    this.featureFlags.push(flag);
    return flag;
  }

  // ---- persons ----------------------------------------------------------

  searchPersons(filter: { search?: string; email?: string; distinctId?: string }): Person[] {
    return this.persons.filter((p) => {
      if (filter.email && p.properties.email !== filter.email) return false;
      if (filter.distinctId && !p.distinct_ids.includes(filter.distinctId)) return false;
      if (filter.search) {
        const q = filter.search.toLowerCase();
        const hay = `${p.properties.email ?? ''} ${p.properties.name ?? ''}`.toLowerCase();
        if (!hay.includes(q) && !p.distinct_ids.includes(filter.search)) return false;
      }
      return true;
    });
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
