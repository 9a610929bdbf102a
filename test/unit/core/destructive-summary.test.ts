import * as assert from 'node:assert/strict';
import { destructiveSummary } from '../../../src/shared/destructiveSummary';

describe('destructiveSummary (what a destructive approval names)', () => {
  const cases: [string, string, unknown, string][] = [
    ['posthogmcp_delete_feature_flag', 'PostHog', { id: 1 }, 'This will delete feature flag 1 in PostHog.'],
    ['posthogmcp_dashboard_delete', 'PostHog', { id: 42, soft: true }, 'This will delete dashboard 42 in PostHog.'],
    ['asana_delete_task', 'Asana', { task_gid: '1209876543' }, 'This will delete task 1209876543 in Asana.'],
    ['asana_goal_remove_followers', 'Asana', { goal_gid: '77', followers: ['a'] }, 'This will remove followers from goal 77 in Asana.'],
    ['posthogmcp_persons_bulk_delete', 'PostHog', { distinct_ids: ['a', 'b', 'c'] }, 'This will delete 3 persons in PostHog.'],
    ['posthogmcp_survey_delete', 'PostHog', {}, 'This will delete a survey in PostHog.'],
    ['asana_project_delete', 'Asana', { project_name: 'Launch' }, 'This will delete project "Launch" in Asana.'],
    ['posthogmcp_something_odd', 'PostHog', { id: 9 }, 'This will remove data in PostHog (9).'],
  ];
  for (const [tool, service, input, expected] of cases) {
    it(`${tool} ${JSON.stringify(input)}`, () => assert.equal(destructiveSummary(tool, service, input), expected));
  }

  it('copes with odd input from the model', () => {
    for (const input of [null, undefined, 'text', 42, [1, 2], { id: { nested: true } }, { name: '   ' }]) {
      assert.match(destructiveSummary('asana_task_delete', 'Asana', input), /^This will delete a task in Asana\.$/);
    }
    assert.match(destructiveSummary('asana_task_delete', 'Asana', { name: 'x'.repeat(200) }), /^This will delete task "x{57}…" in Asana\.$/);
  });
});
