// List prices for the estimate meter, in USD per million tokens, as data.
// Source: Anthropic's "Models overview" and "Pricing" pages (platform.claude.com/docs), checked
// 2026-12-02. Prompt caching: a 5-minute cache write costs 1.25× the input price, a read 0.1×.
// Update this table when the price list changes; the meter is labelled as an estimate.

export const pricesCheckedOn = '2026-12-02';

export interface ModelPrice {
  /** Input tokens, USD per million. */
  readonly input: number;
  /** Output tokens, USD per million. */
  readonly output: number;
}

/** Exact model ids (dated snapshots resolve to their alias). */
export const modelPrices: Readonly<Record<string, ModelPrice>> = {
  'claude-fable-5-2': { input: 8, output: 40 },
  'claude-fable-5-1': { input: 10, output: 50 },
  'claude-fable-5': { input: 10, output: 50 },
  'claude-opus-5-5': { input: 4, output: 20 },
  'claude-opus-5': { input: 5, output: 25 },
  'claude-opus-4-8': { input: 5, output: 25 },
  'claude-opus-4-7': { input: 5, output: 25 },
  'claude-opus-4-6': { input: 5, output: 25 },
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-sonnet-5-5': { input: 2, output: 10 },
  'claude-sonnet-5': { input: 2, output: 10 },
  'claude-sonnet-4-6': { input: 3, output: 15 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  // Haiku 5.5 is priced in tiers "from $0.10 / $0.50"; the lowest tier may underestimate.
  'claude-haiku-5-5': { input: 0.1, output: 0.5 },
  'claude-haiku-4-5': { input: 1, output: 5 },
};

/** The models the setting suggests, newest first; any other id is still accepted. */
export const suggestedModels: readonly string[] = [
  'claude-sonnet-5-5',
  'claude-opus-5-5',
  'claude-haiku-5-5',
  'claude-fable-5-2',
  'claude-sonnet-5',
  'claude-opus-5',
  'claude-haiku-4-5',
];

export const defaultModel = 'claude-sonnet-5-5';

export const cacheWriteFactor = 1.25;
export const cacheReadFactor = 0.1;

/** The price of a model id, a dated snapshot (`…-20251001`) of one, or the newest of its family. */
export function priceFor(model: string): ModelPrice {
  const id = model
    .trim()
    .toLowerCase()
    .replace(/-\d{8}$/, '');
  const exact = modelPrices[id];
  if (exact) return exact;
  const family = ['fable', 'opus', 'haiku', 'sonnet'].find((name) => id.includes(name)) ?? 'sonnet';
  const newest = Object.keys(modelPrices).find((key) => key.includes(family)) ?? defaultModel;
  return modelPrices[newest] ?? { input: 2, output: 10 };
}
