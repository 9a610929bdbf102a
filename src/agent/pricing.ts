import type { UsageView } from '../shared/protocol';
import { cacheReadFactor, cacheWriteFactor, priceFor } from './modelPrices';

// Estimated cost from the API's `usage`, at list prices (modelPrices.ts). An estimate for
// the meter, not a bill.

export const emptyUsage: UsageView = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, estimatedCostUsd: 0 };

export interface ApiUsage {
  readonly input_tokens?: number | null;
  readonly output_tokens?: number | null;
  readonly cache_creation_input_tokens?: number | null;
  readonly cache_read_input_tokens?: number | null;
}

export function addUsage(total: UsageView, usage: ApiUsage, model: string): UsageView {
  const p = priceFor(model);
  const input = usage.input_tokens ?? 0;
  const output = usage.output_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cost = (input * p.input + output * p.output + cacheWrite * p.input * cacheWriteFactor + cacheRead * p.input * cacheReadFactor) / 1_000_000;
  return {
    inputTokens: total.inputTokens + input,
    outputTokens: total.outputTokens + output,
    cacheReadTokens: total.cacheReadTokens + cacheRead,
    cacheWriteTokens: total.cacheWriteTokens + cacheWrite,
    estimatedCostUsd: Math.round((total.estimatedCostUsd + cost) * 1e6) / 1e6,
  };
}
