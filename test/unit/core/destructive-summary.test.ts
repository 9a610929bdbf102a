import * as assert from 'node:assert/strict';
import { destructiveSummary } from '../../../src/shared/destructiveSummary';

describe('destructiveSummary (what a destructive approval names)', () => {
  const cases: [string, string, unknown, string][] = [
    ['posthogmcp_delete_feature_flag', 'PostHog', { id: 1 }, 'This will delete feature flag 1 in PostHog.'],
    ['posthogmcp_dashboard_delete', 'PostHog', { id: 42, soft: true }, 'This will delete dashboard 42 in PostHog.'],
    ['asana_delete_task', 'Asana', { task_gid: '1209876543' }, 'This will delete task 1209876543 in Asana.'],
    ['asana_goal_remove_followers', 'Asana', { goal_gid: '77', followers: ['a'] }, 'This will remove followers from goal 77 in Asana.'],
    ['posthogmcp_persons_bulk_delete', 'PostHog', { distinct_ids: ['a', 'b', 'c'] }, 'This will delete 3 persons ("a", "b", "c") in PostHog.'],
    ['posthogmcp_survey_delete', 'PostHog', {}, 'This will delete a survey in PostHog.'],
    ['asana_project_delete', 'Asana', { project_name: 'Launch' }, 'This will delete project "Launch" in Asana.'],
    ['posthogmcp_something_odd', 'PostHog', { id: 9 }, 'This will remove data in PostHog (9).'],
    // A field that names nothing is skipped, even when it comes first.
    ['asana_delete_task', 'Asana', { confirm: 'yes', task_gid: '1' }, 'This will delete task 1 in Asana.'],
    ['asana_delete_task', 'Asana', { confirm: 'yes', reason: 'cleanup', task_gid: '1' }, 'This will delete task 1 in Asana.'],
    // destroy and purge are deleting words too.
    ['asana_attachment_destroy', 'Asana', { attachment_gid: '5' }, 'This will delete attachment 5 in Asana.'],
    ['posthogmcp_purge_cache', 'PostHog', { key: 'dash-7' }, 'This will delete cache "dash-7" in PostHog.'],
    ['posthogmcp_recordings_purge', 'PostHog', {}, 'This will delete a recordings in PostHog.'],
    // Only all-digit labels go unquoted: the number check is anchored at both ends.
    ['posthogmcp_delete_feature_flag', 'PostHog', { key: 'abc123' }, 'This will delete feature flag "abc123" in PostHog.'],
    ['posthogmcp_delete_feature_flag', 'PostHog', { key: '123abc' }, 'This will delete feature flag "123abc" in PostHog.'],
    ['posthogmcp_delete_feature_flag', 'PostHog', { key: '12 3' }, 'This will delete feature flag "12 3" in PostHog.'],
    // camelCase id fields name the target as well.
    ['asana_delete_task', 'Asana', { taskGid: '31' }, 'This will delete task 31 in Asana.'],
    ['posthogmcp_delete_feature_flag', 'PostHog', { flagId: 8 }, 'This will delete feature flag 8 in PostHog.'],
    ['posthogmcp_delete_feature_flag', 'PostHog', { paid: 8 }, 'This will delete a feature flag in PostHog.'],
    // Names only when nothing names the target by id.
    ['asana_project_delete', 'Asana', { project_name: 'Launch', project_gid: '42' }, 'This will delete project 42 in Asana.'],
    ['posthogmcp_person_delete', 'PostHog', { email: 'old@example.com' }, 'This will delete person "old@example.com" in PostHog.'],
    ['posthogmcp_dashboard_delete', 'PostHog', { slug: 'weekly' }, 'This will delete dashboard "weekly" in PostHog.'],
    // Every id, or the count and the first five.
    ['posthogmcp_persons_bulk_delete', 'PostHog', { ids: [1, 2, 3, 4, 5] }, 'This will delete 5 persons (1, 2, 3, 4, 5) in PostHog.'],
    ['posthogmcp_persons_bulk_delete', 'PostHog', { ids: [1, 2, 3, 4, 5, 6] }, 'This will delete 6 persons (1, 2, 3, 4, 5 and 1 more) in PostHog.'],
    ['posthogmcp_persons_bulk_delete', 'PostHog', { ids: ['u1'] }, 'This will delete persons "u1" in PostHog.'],
    // A second id field is named too, never silently dropped.
    ['posthogmcp_persons_bulk_delete', 'PostHog', { id: 7, ids: [1, 2] }, 'This will delete persons 7 in PostHog. The input also names ids 1, 2.'],
    ['asana_task_remove_tag', 'Asana', { task_gid: '1', tag_gid: '2' }, 'This will remove tag from task 1 in Asana. The input also names tag_gid 2.'],
    ['posthogmcp_something_odd', 'PostHog', { ids: [1, 2] }, 'This will remove data in PostHog (2 items: 1, 2).'],
    ['posthogmcp_something_odd', 'PostHog', { name: 'x' }, 'This will remove data in PostHog ("x").'],
    ['posthogmcp_something_odd', 'PostHog', {}, 'This will remove data in PostHog.'],
    ['asana_task_delete', 'Asana', { uuid: 'u-1' }, 'This will delete task "u-1" in Asana.'],
    ['asana_tasks_delete', 'Asana', { task_gids: ['1', '2'] }, 'This will delete 2 tasks (1, 2) in Asana.'],
    ['posthogmcp_flags_delete', 'PostHog', { keys: ['a', 'b'] }, 'This will delete 2 flags ("a", "b") in PostHog.'],
    ['posthogmcp_things_delete', 'PostHog', { uuids: ['a', 'b'] }, 'This will delete 2 things ("a", "b") in PostHog.'],
    ['posthogmcp_dashboards_delete', 'PostHog', { names: ['a', 'b'] }, 'This will delete 2 dashboards ("a", "b") in PostHog.'],
    ['posthogmcp_dashboards_delete', 'PostHog', { slugs: ['a', 'b'] }, 'This will delete 2 dashboards ("a", "b") in PostHog.'],
    ['posthogmcp_persons_delete', 'PostHog', { emails: ['a@x', 'b@x'] }, 'This will delete 2 persons ("a@x", "b@x") in PostHog.'],
    ['posthogmcp_dashboard_delete', 'PostHog', { name: 'a', slug: 'b' }, 'This will delete dashboard "a" in PostHog.'],
    ['posthogmcp_person_delete', 'PostHog', { nickname: 'bob' }, 'This will delete a person in PostHog.'],
    ['posthogmcp_dashboard_delete', 'PostHog', { name_prefix: 'x' }, 'This will delete a dashboard in PostHog.'],
    ['posthogmcp_delete_feature_flag', 'PostHog', { key_type: 'flag', id: 3 }, 'This will delete feature flag 3 in PostHog.'],
    ['asana_delete_task', 'Asana', { ids: [], task_gid: '3' }, 'This will delete task 3 in Asana.'],
    ['asana_delete_task', 'Asana', { ids: [1, { x: 1 }] }, 'This will delete a task in Asana.'],
    ['asana_remove_member', 'Asana', { id: 1 }, 'This will remove member 1 in Asana.'],
    ['asana_member_remove', 'Asana', { id: 1 }, 'This will remove member 1 in Asana.'],
    ['posthogmcp_delete', 'PostHog', {}, 'This will delete a item in PostHog.'],
    ['posthogmcp__survey_delete', 'PostHog', { id: 1 }, 'This will delete survey 1 in PostHog.'],
    [
      'posthogmcp_persons_bulk_delete',
      'PostHog',
      { id: 1, ids: [2], uuid: 'u' },
      'This will delete persons 1 in PostHog. The input also names ids 2; uuid "u".',
    ],
  ];
  for (const [tool, service, input, expected] of cases) {
    it(`${tool} ${JSON.stringify(input)}`, () => assert.equal(destructiveSummary(tool, service, input), expected));
  }

  it('names the ids that will be deleted, never a free-text name the model chose instead', () => {
    const ids = Array.from({ length: 500 }, (_, i) => 1000 + i);
    assert.equal(
      destructiveSummary('posthogmcp_persons_bulk_delete', 'PostHog', { name: 'old-test-person', ids }),
      'This will delete 500 persons (1000, 1001, 1002, 1003, 1004 and 495 more) in PostHog.',
    );
  });

  it('copes with odd input from the model', () => {
    for (const input of [null, undefined, 'text', 42, [1, 2], { id: { nested: true } }, { name: '   ' }]) {
      assert.match(destructiveSummary('asana_task_delete', 'Asana', input), /^This will delete a task in Asana\.$/);
    }
    assert.match(destructiveSummary('asana_task_delete', 'Asana', { name: 'x'.repeat(200) }), /^This will delete task "x{57}…" in Asana\.$/);
  });
});
