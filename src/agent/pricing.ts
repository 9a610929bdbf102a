import type { UsageView } from '../shared/protocol';

// Estimated cost from the API's `usage`, at list prices in USD per million tokens.
// An estimate for the meter, not a bill.

interface Prices {
  readonly input: number;
  readonly output: number;
  readonly cacheWrite: number;
  readonly cacheRead: number;
}

const sonnet: Prices = { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 };
const opus: Prices = { input: 15, output: 75, cacheWrite: 18.75, cacheRead: 1.5 };
const haiku: Prices = { input: 1, output: 5, cacheWrite: 1.25, cacheRead: 0.1 };

function pricesFor(model: string): Prices {
  if (/opus/i.test(model)) return opus;
  if (/haiku/i.test(model)) return haiku;
  return sonnet;
}

export const emptyUsage: UsageView = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, estimatedCostUsd: 0 };

export interface ApiUsage {
  readonly input_tokens?: number | null;
  readonly output_tokens?: number | null;
  readonly cache_creation_input_tokens?: number | null;
  readonly cache_read_input_tokens?: number | null;
}

export function addUsage(total: UsageView, usage: ApiUsage, model: string): UsageView {
  const p = pricesFor(model);
  const input = usage.input_tokens ?? 0;
  const output = usage.output_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cost = (input * p.input + output * p.output + cacheWrite * p.cacheWrite + cacheRead * p.cacheRead) / 1_000_000;
  return {
    inputTokens: total.inputTokens + input,
    outputTokens: total.outputTokens + output,
    cacheReadTokens: total.cacheReadTokens + cacheRead,
    cacheWriteTokens: total.cacheWriteTokens + cacheWrite,
    estimatedCostUsd: Math.round((total.estimatedCostUsd + cost) * 1e6) / 1e6,
  };
}
