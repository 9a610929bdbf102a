import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addUsage, emptyUsage } from '../../../src/agent/pricing';
import { defaultModel, modelPrices, priceFor, suggestedModels } from '../../../src/agent/modelPrices';

// The estimate meter's price table is data from the published price list (see modelPrices.ts).

describe('model prices (the estimate meter)', () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { default?: unknown; examples?: unknown }> } };
  };
  const modelSetting = manifest.contributes.configuration.properties['onbehalf.model']!;

  it('prices Opus 4.5 and later at $5/$25, not the old $15/$75', () => {
    for (const id of ['claude-opus-4-5', 'claude-opus-4-6', 'claude-opus-4-7', 'claude-opus-4-8', 'claude-opus-5']) {
      assert.deepEqual(priceFor(id), { input: 5, output: 25 }, id);
    }
    assert.deepEqual(priceFor('claude-opus-4-1'), { input: 15, output: 75 });
  });

  it('resolves a dated snapshot to its model and an unknown id to the newest of its family', () => {
    assert.deepEqual(priceFor('claude-haiku-4-5-20251001'), { input: 1, output: 5 });
    assert.deepEqual(priceFor('claude-sonnet-9'), modelPrices['claude-sonnet-5-5']);
  });

  it('costs cache writes at 1.25× and cache reads at 0.1× the input price', () => {
    const usage = addUsage(
      emptyUsage,
      { input_tokens: 1_000_000, output_tokens: 1_000_000, cache_creation_input_tokens: 1_000_000, cache_read_input_tokens: 1_000_000 },
      'claude-sonnet-5-5',
    );
    assert.equal(usage.estimatedCostUsd, 2 + 10 + 2.5 + 0.2);
  });

  it('defaults to the current Sonnet, suggests current ids in the setting, and prices every suggestion', () => {
    assert.equal(modelSetting.default, defaultModel);
    assert.deepEqual(modelSetting.examples, [...suggestedModels]);
    for (const id of suggestedModels) assert.ok(modelPrices[id], `${id} has a price`);
    assert.ok(!suggestedModels.includes('claude-sonnet-4-6'), 'a legacy id is not suggested');
  });
});
