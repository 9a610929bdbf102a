import * as assert from 'node:assert/strict';
import { connectionLabel } from '../../../src/shared/labels';

describe('connectionLabel (one name per connection, everywhere)', () => {
  it('names the Scalekit connections and catalogs', () => {
    assert.equal(connectionLabel('posthog'), 'PostHog');
    assert.equal(connectionLabel('posthogmcp'), 'PostHog');
    assert.equal(connectionLabel('asana'), 'Asana');
    assert.equal(connectionLabel('linear'), 'Linear');
  });

  it('names the enterprise connection as the tree does: "PostHog (enterprise)"', () => {
    assert.equal(connectionLabel('posthog-enterprise'), 'PostHog (enterprise)');
    assert.equal(connectionLabel('PostHog-Enterprise'), 'PostHog (enterprise)');
  });
});
